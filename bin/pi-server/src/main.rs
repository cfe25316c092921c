//! `pi-server`: the HTTP server of the privacyIDEA administration core.
//!
//! ```text
//! pi-server [--config FILE] [--listen HOST:PORT] [--workers N]
//! pi-server [--config FILE] --check-config   # validate pi.cfg and the database, exit
//! pi-server --openapi                        # print the OpenAPI 3.1 document, exit
//! ```
//! The configuration file is privacyIDEA's own `pi.cfg`; see `pi.cfg.example`.

use anyhow::Context;
use clap::Parser;
use std::io::Write;

/// Command line of `pi-server`.
#[derive(Debug, Parser)]
#[command(
    name = "pi-server",
    version,
    about = "privacyIDEA-compatible administration server"
)]
struct Cli {
    /// The pi.cfg file (else $PRIVACYIDEA_CONFIGFILE, else /etc/privacyidea/pi.cfg).
    #[arg(long, short = 'c')]
    config: Option<std::path::PathBuf>,
    /// Address to listen on (else PI_LISTEN from pi.cfg, else 127.0.0.1:5000).
    #[arg(long)]
    listen: Option<String>,
    /// Worker threads (default: number of cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Validate pi.cfg (keys, PI_PEPPER, PI_ENCFILE, PI_TRUSTED_JWT, audit
    /// keys, PI_LISTEN) and connect to the database, then exit: 0 when the
    /// server can start, 1 with the reason when not. Writes nothing.
    #[arg(long)]
    check_config: bool,
    /// Print the OpenAPI 3.1 document (as served at `GET /openapi.json`) and exit.
    #[arg(long)]
    openapi: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.openapi {
        let mut out = std::io::stdout();
        out.write_all(pi_server::apidoc::document())?;
        writeln!(out)?;
        return Ok(());
    }
    let path = pi_config::resolve_config_path(cli.config.as_deref());
    let cfg = pi_config::load_file(&path, pi_config::EnvOverrides::from_env())
        .with_context(|| format!("cannot load the configuration `{}`", path.display()))?;
    pi_config::init_logging(&cfg);
    if cli.check_config {
        pi_admin::check::run(&cfg, cli.listen.as_deref())?;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "configuration `{}` OK", path.display());
        return Ok(());
    }
    let listen = cli.listen.clone().unwrap_or_else(|| cfg.pi_listen.clone());
    let workers = cli.workers;
    actix_web::rt::System::new().block_on(pi_server::serve(cfg, listen, workers))
}
