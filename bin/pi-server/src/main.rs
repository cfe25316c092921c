//! `pi-server`: the HTTP server of the privacyIDEA administration core.
//!
//! ```text
//! pi-server [--config FILE] [--listen HOST:PORT]
//! ```
//! The configuration file is privacyIDEA's own `pi.cfg`; see `pi.cfg.example`.

mod app;
mod auth;
mod envelope;
mod error;
mod gate;
mod node;
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let path = pi_config::resolve_config_path(cli.config.as_deref());
    let cfg = pi_config::load_file(&path, pi_config::EnvOverrides::from_env())
        .with_context(|| format!("cannot load the configuration `{}`", path.display()))?;
    init_logging(cfg.pi_loglevel);
    let listen = cli.listen.clone().unwrap_or_else(|| cfg.pi_listen.clone());
    let workers = cli.workers;
    actix_web::rt::System::new().block_on(run(cfg, listen, workers))
}

fn init_logging(pi_level: i64) {
    let level = match pi_level {
        i64::MIN..=10 => "debug",
        11..=20 => "info",
        21..=30 => "warn",
        _ => "error",
    };
    let env = env_logger::Env::default().filter_or("RUST_LOG", level);
    let _ = env_logger::Builder::from_env(env).try_init();
}

async fn run(
    cfg: pi_config::PiConfig,
    listen: String,
    workers: Option<usize>,
) -> anyhow::Result<()> {
    let state = state::AppState::start(cfg).await?;
    let limit = state.body_limit();
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(signing::sign_responses))
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
    Ok(())
}
