//! `pi-server`: the HTTP server of the privacyIDEA administration core.
//!
//! ```text
//! pi-server [--config FILE] [--listen HOST:PORT] [--workers N]
//! pi-server [--config FILE] --check-config   # validate pi.cfg and the database, exit
//! pi-server --openapi                        # print the OpenAPI 3.1 document, exit
//! ```
//! The configuration file is privacyIDEA's own `pi.cfg`; see `pi.cfg.example`.

mod app;
mod audit;
mod auth;
mod check;
mod envelope;
mod error;
mod gate;
mod metrics;
mod node;
mod openapi;
mod params;
mod policyset;
mod qr;
mod request;
mod routes;
mod signing;
mod state;
mod userlist;
mod users;
mod webui;

use actix_web::{web, App, HttpServer};
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
        out.write_all(openapi::document())?;
        writeln!(out)?;
        return Ok(());
    }
    let path = pi_config::resolve_config_path(cli.config.as_deref());
    let cfg = pi_config::load_file(&path, pi_config::EnvOverrides::from_env())
        .with_context(|| format!("cannot load the configuration `{}`", path.display()))?;
    init_logging(cfg.pi_loglevel, cfg.pi_logformat);
    if cli.check_config {
        check::run(&cfg, cli.listen.as_deref())?;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "configuration `{}` OK", path.display());
        return Ok(());
    }
    let listen = cli.listen.clone().unwrap_or_else(|| cfg.pi_listen.clone());
    let workers = cli.workers;
    actix_web::rt::System::new().block_on(run(cfg, listen, workers))
}

fn init_logging(pi_level: i64, format: pi_config::LogFormat) {
    let level = match pi_level {
        i64::MIN..=10 => "debug",
        11..=20 => "info",
        21..=30 => "warn",
        _ => "error",
    };
    let env = env_logger::Env::default().filter_or("RUST_LOG", level);
    let mut builder = env_logger::Builder::from_env(env);
    if format == pi_config::LogFormat::Json {
        builder.format(|buf, record| {
            let line = serde_json::json!({
                "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": record.level().as_str(),
                "target": record.target(),
                "msg": record.args().to_string(),
            });
            writeln!(buf, "{line}")
        });
    }
    let _ = builder.try_init();
}

async fn run(
    cfg: pi_config::PiConfig,
    listen: String,
    workers: Option<usize>,
) -> anyhow::Result<()> {
    let metrics_on = metrics::init(&cfg);
    let state = state::AppState::start(cfg).await?;
    let limit = state.body_limit();
    let audit = state.audit_writer().cloned();
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(audit::record))
            .wrap(actix_web::middleware::from_fn(signing::sign_responses))
            .wrap(actix_web::middleware::Condition::new(
                metrics_on,
                actix_web::middleware::from_fn(metrics::track),
            ))
            .wrap_fn(|req, srv| state::with_db_deadline(actix_web::dev::Service::call(srv, req)))
            .configure(app::configure(data.clone(), limit))
            .default_service(web::to(app::not_found))
    });
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    let server = server
        .bind(&listen)
        .with_context(|| format!("cannot listen on `{listen}`"))?;
    for addr in server.addrs() {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "pi-server listening on http://{addr}");
        let _ = out.flush();
    }
    server.run().await?;
    if let Some(audit) = audit {
        // every request is answered: write what is queued, then stop
        actix_web::rt::task::spawn_blocking(move || audit.close()).await?;
    }
    Ok(())
}
