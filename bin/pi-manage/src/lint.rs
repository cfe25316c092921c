//! `pi-manage policy lint [--format text|json]`: the policy linter
//! (`pi_policy::lint`) over the database's policies — the same findings as
//! `GET /policy/lint`. Exits with status 1 when there is an error finding,
//! so CI can run it.

use clap::{Args, ValueEnum};
use pi_policy::lint::{has_errors, lint, report, LintContext};
use pi_store::Store;
use std::io::Write;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per finding and a summary line.
    Text,
    /// `{"findings": [...], "summary": {...}}`, as `GET /policy/lint` answers.
    Json,
}

/// `pi-manage policy lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Run the linter; `Ok(true)` when an error finding was reported.
pub fn run(
    cfg: &pi_config::PiConfig,
    store: &Store,
    args: &LintArgs,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let known = pi_admin::policy::stored_validation_context(store, cfg)?;
    let ctx = LintContext {
        realms: known.realms,
        resolvers: known.resolvers,
        nodes: known.nodes,
        superuser_realms: known.superuser_realms,
    };
    let policies = store.list_policies()?;
    let findings = lint(&policies, &ctx);
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report(&findings))?)?,
        Format::Text => {
            for f in &findings {
                writeln!(
                    out,
                    "{}: {}[{}]: {}",
                    f.policy.as_deref().unwrap_or("(policy set)"),
                    f.severity,
                    f.code,
                    f.message
                )?;
            }
            let n = |s| findings.iter().filter(|f| f.severity == s).count();
            use pi_policy::lint::Severity::*;
            writeln!(
                out,
                "{} error(s), {} warning(s), {} info(s) in {} polic{}",
                n(Error),
                n(Warning),
                n(Info),
                policies.len(),
                if policies.len() == 1 { "y" } else { "ies" }
            )?;
        }
    }
    Ok(has_errors(&findings))
}
