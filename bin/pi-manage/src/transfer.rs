//! `pi-manage config export|import`: privacyIDEA's configuration file
//! (`{"policy": [...], "realm": {...}, "resolver": {...},
//! "privacyIDEA_version": "3.14"}`) for the types this server manages.
//!
//! Export writes what the release's `pi-manage config export` writes for
//! these types (JSON with two-space indentation; resolver passwords in clear
//! text unless `--censor`). Import reads JSON or a Python literal, imports
//! resolvers, then realms, then policies, each object through the same
//! use cases as the API (pi-admin's `resolver::save_stored`,
//! `realm::store_set`, `policy::plan_write`), and — like the release — goes
//! on after a failed object and exits 1 at the end naming the failed types.
//! How objects are exported and how an import's entries are read is
//! `pi_admin::transfer`; this module adds files, progress and messages.

use anyhow::{anyhow, bail, Context};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pi_admin::transfer::{self, VERSION};
use pi_realm::{DecodedResolver, EncKey};
use pi_store::{SetRealmError, Store};
use serde_json::{Map, Value};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

/// Configuration types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfType {
    /// Every type below.
    All,
    /// Policies.
    Policy,
    /// Realms.
    Realm,
    /// Resolvers.
    Resolver,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// JSON, indented by two spaces.
    Json,
}

/// `pi-manage config export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write (standard output when not given or `-`).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Output format.
    #[arg(long = "format", short = 'f', value_enum, default_value_t = ExportFormat::Json)]
    format: ExportFormat,
    /// The types to export (repeatable).
    #[arg(long, short = 't', value_enum, default_values_t = [ConfType::All])]
    types: Vec<ConfType>,
    /// Export only the object of this name.
    #[arg(long, short = 'n')]
    name: Option<String>,
    /// Replace resolver secrets with `__CENSORED__` (such a file can only be
    /// imported where the original secrets are kept).
    #[arg(long)]
    censor: bool,
}

/// `pi-manage config import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to read (standard input when not given).
    #[arg(long = "input", short = 'i')]
    input: Option<PathBuf>,
    /// The types to import (repeatable).
    #[arg(long, short = 't', value_enum, default_values_t = [ConfType::All])]
    types: Vec<ConfType>,
    /// Import only the object of this name.
    #[arg(long, short = 'n')]
    name: Option<String>,
    /// Drop policy actions that do not exist in their scope instead of
    /// failing the policy; a policy left without actions is skipped.
    #[arg(long)]
    skip_invalid: bool,
}

fn wants(types: &[ConfType], t: ConfType) -> bool {
    types.contains(&ConfType::All) || types.contains(&t)
}

/// A progress bar on standard error, hidden when that is not a terminal.
fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

fn enc_key(cfg: &pi_config::PiConfig) -> anyhow::Result<Option<EncKey>> {
    match cfg.pi_encfile.as_deref() {
        Some(path) if path.exists() => Ok(Some(EncKey::load(path)?)),
        _ => Ok(None),
    }
}

/// Run `config export`.
pub fn export(
    cfg: &pi_config::PiConfig,
    store: &Store,
    args: &ExportArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let name = args.name.as_deref();
    let policies = if wants(&args.types, ConfType::Policy) {
        Some(store.list_policies()?)
    } else {
        None
    };
    let realms = if wants(&args.types, ConfType::Realm) {
        Some(store.list_realms()?)
    } else {
        None
    };
    let resolvers = if wants(&args.types, ConfType::Resolver) {
        Some(store.list_resolvers()?)
    } else {
        None
    };
    let total = policies.as_ref().map_or(0, Vec::len)
        + realms.as_ref().map_or(0, Vec::len)
        + resolvers.as_ref().map_or(0, Vec::len);
    let bar = progress(total as u64, "exporting");
    let mut doc = Map::new();
    if let Some(records) = policies {
        let mut list = Vec::new();
        for r in records {
            bar.inc(1);
            if name.is_none_or(|n| n == r.name) {
                list.push(transfer::export_policy(&r));
            }
        }
        doc.insert("policy".into(), Value::Array(list));
    }
    if let Some(records) = realms {
        let mut map = Map::new();
        for r in records {
            bar.inc(1);
            if name.is_some_and(|n| n != r.name) {
                continue;
            }
            map.insert(r.name.clone(), transfer::export_realm(&r));
        }
        doc.insert("realm".into(), Value::Object(map));
    }
    if let Some(records) = resolvers {
        let needs_key = records
            .iter()
            .flat_map(|r| &r.config)
            .any(|c| c.typ.as_deref() == Some("password"));
        let key = match enc_key(cfg)? {
            Some(k) => k,
            None if needs_key => bail!(
                "PI_ENCFILE is not configured or missing: resolver passwords cannot be decrypted"
            ),
            // no secrets to decrypt: any key will do
            None => EncKey::from_bytes(&[0u8; 96]).ok_or_else(|| anyhow!("no key"))?,
        };
        let mut map = Map::new();
        for r in records {
            bar.inc(1);
            if name.is_some_and(|n| n != r.name) {
                continue;
            }
            let d = DecodedResolver::from_record(&r, &key);
            map.insert(d.name.clone(), transfer::export_resolver(&d, args.censor));
        }
        doc.insert("resolver".into(), Value::Object(map));
    }
    bar.finish_and_clear();
    if args.censor {
        eprintln!(
            "Secrets have been replaced with '__CENSORED__'. This export can only be re-imported on the same instance."
        );
    }
    doc.insert("privacyIDEA_version".into(), Value::String(VERSION.into()));
    let ExportFormat::Json = args.format;
    let text = serde_json::to_string_pretty(&Value::Object(doc))? + "\n";
    match args.output.as_deref() {
        None => out.write_all(text.as_bytes())?,
        Some(p) if p.as_os_str() == "-" => out.write_all(text.as_bytes())?,
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write `{}`", p.display()))?
        }
    }
    Ok(())
}

/// Run `config import`; `Ok(false)` when some type failed (exit status 1).
pub fn import(
    cfg: &pi_config::PiConfig,
    store: &Store,
    args: &ImportArgs,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let mut text = String::new();
    match args.input.as_deref() {
        None => {
            std::io::stdin().read_to_string(&mut text)?;
        }
        Some(p) if p.as_os_str() == "-" => {
            std::io::stdin().read_to_string(&mut text)?;
        }
        Some(p) => {
            text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read `{}`", p.display()))?;
        }
    }
    let Some(data) = transfer::parse(&text) else {
        bail!("Could not determine input format! Accepted formats are: json, python.");
    };
    if let Some(warning) = transfer::version_warning(&data) {
        eprintln!("{warning}");
        eprintln!("Please make sure that the imported configuration works as expected.");
    }
    for key in data.keys() {
        if !transfer::SECTIONS.contains(&key.as_str()) {
            eprintln!("Skipping configuration type '{key}': not managed by this server.");
        }
    }
    let count = |k: &str| match data.get(k) {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(o)) => o.len(),
        _ => 0,
    };
    let bar = progress(
        (count("resolver") + count("realm") + count("policy")) as u64,
        "importing",
    );
    let name = args.name.as_deref();
    let mut failed_types = Vec::new();
    for (typ, key) in [
        (ConfType::Resolver, "resolver"),
        (ConfType::Realm, "realm"),
        (ConfType::Policy, "policy"),
    ] {
        let Some(section) = data.get(key) else {
            continue;
        };
        if !wants(&args.types, typ) {
            continue;
        }
        bar.suspend(|| writeln!(out, "Importing configuration type '{key}'."))?;
        let result = match typ {
            ConfType::Resolver => import_resolvers(cfg, store, section, name, &bar),
            ConfType::Realm => import_realms(store, section, name, &bar),
            _ => import_policies(cfg, store, section, name, args.skip_invalid, &bar),
        };
        if let Err(e) = result {
            bar.suspend(|| {
                eprintln!("Could not successfully import data of type {key}: {e:#}");
                if typ == ConfType::Policy && !args.skip_invalid {
                    eprintln!(
                        "  Hint: some entries may use configuration not available in this version. \
                         Re-run with '--skip-invalid' to skip them and import the rest."
                    );
                }
            });
            failed_types.push(key);
        }
    }
    bar.finish_and_clear();
    if failed_types.is_empty() {
        Ok(true)
    } else {
        eprintln!(
            "Import finished with errors. Failed configuration types: {}.",
            failed_types.join(", ")
        );
        Ok(false)
    }
}

/// Collect per-object failures into one error naming every failed object.
fn summary(failed: Vec<(String, String)>, imported: Vec<String>) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failed
        .iter()
        .map(|(n, e)| format!("\"{n}\" ({e})"))
        .collect();
    Err(anyhow!(
        "Could not import the following: {}. Successfully imported: {}.",
        list.join(", "),
        pi_model::pyrepr::repr_str_list(&imported)
    ))
}

/// Import each named entry (only the one named `only`, when given) with
/// `write`; like the release, a failed entry is noted and the import goes on.
fn import_each<N: AsRef<str>, V>(
    entries: impl IntoIterator<Item = (N, V)>,
    only: Option<&str>,
    bar: &ProgressBar,
    mut write: impl FnMut(&str, V) -> Result<(), String>,
) -> anyhow::Result<()> {
    let (mut failed, mut imported) = (Vec::new(), Vec::new());
    for (name, entry) in entries {
        bar.inc(1);
        let name = name.as_ref();
        if only.is_some_and(|n| n != name) {
            continue;
        }
        match write(name, entry) {
            Ok(()) => imported.push(name.to_owned()),
            Err(e) => failed.push((name.to_owned(), e)),
        }
    }
    summary(failed, imported)
}

fn import_resolvers(
    cfg: &pi_config::PiConfig,
    store: &Store,
    section: &Value,
    only: Option<&str>,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let entries = transfer::resolver_entries(section).map_err(|e| anyhow!(e))?;
    let enc = enc_key(cfg)?;
    import_each(entries, only, bar, |name, entry| {
        let plan = transfer::resolver_plan(name, &entry)?;
        pi_admin::resolver::save_stored(store, plan.name, plan.rtype, &plan.params, enc.as_ref())
            .map_err(|e| match e {
            // the store's wording (the name quoted), as before
            pi_admin::resolver::SaveError::TypeMismatch(x) => {
                format!("resolver with similar name and other type already exists: `{x}`")
            }
            other => other.to_string(),
        })?;
        Ok(())
    })
}

fn import_realms(
    store: &Store,
    section: &Value,
    only: Option<&str>,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let Value::Object(realms) = section else {
        bail!("the realm section is not a dict");
    };
    import_each(realms, only, bar, |raw, conf| {
        let transfer::RealmPlan {
            name,
            assignments,
            default,
        } = transfer::realm_plan(raw, conf)?;
        let outcome =
            pi_admin::realm::store_set(store, &name, &assignments).map_err(|e| match e {
                SetRealmError::Store(s) => s.to_string(),
                other => other.to_string(),
            })?;
        if !outcome.failed.is_empty() {
            log::warn!(
                "realm {name}: resolvers not assigned: {}",
                outcome.failed.join(", ")
            );
        }
        if default {
            store.set_default_realm(&name).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

fn import_policies(
    cfg: &pi_config::PiConfig,
    store: &Store,
    section: &Value,
    only: Option<&str>,
    skip_invalid: bool,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let Value::Array(list) = section else {
        bail!("the policy section is not a list");
    };
    let (mut failed, mut imported) = (Vec::new(), Vec::new());
    for entry in list {
        bar.inc(1);
        let Value::Object(params) = entry else {
            failed.push(("?".into(), "not a dict".into()));
            continue;
        };
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if only.is_some_and(|n| n != name) {
            continue;
        }
        let mut params = params.clone();
        if skip_invalid {
            let dropped = transfer::drop_invalid_actions(&mut params);
            if dropped != Some(false) {
                log::warn!("policy {name}: dropping actions not valid for this version");
            }
            if dropped.is_none() {
                log::warn!("skipping policy {name}: no valid actions remain");
                continue;
            }
        }
        match crate::config::write_policy(cfg, store, &name, &params) {
            Ok(()) => imported.push(name),
            Err(e) => failed.push((name, format!("{e:#}"))),
        }
    }
    summary(failed, imported)
}
