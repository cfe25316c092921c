//! `pi-manage`: the operator CLI, in the spirit of privacyIDEA's `pi-manage`.
//!
//! ```text
//! pi-manage [--config FILE] setup
//! pi-manage [--config FILE] create_tables
//! pi-manage [--config FILE] create_enckey
//! pi-manage [--config FILE] admin add NAME [--email E] [--password-stdin]
//! pi-manage [--config FILE] admin list
//! pi-manage [--config FILE] admin delete NAME
//! pi-manage [--config FILE] admin change NAME [--email E] [--password] [--password-stdin]
//! pi-manage [--config FILE] config policy list|enable NAME|disable NAME|delete NAME
//! pi-manage [--config FILE] config policy create NAME SCOPE ACTION [-f FILE]
//! pi-manage [--config FILE] config realm list|create NAME RESOLVER...|delete REALM [--delete-custom-attributes]
//! pi-manage [--config FILE] config realm set_default REALM|clear_default
//! pi-manage [--config FILE] config resolver list [-v]|create NAME RTYPE CONF_FILE
//! pi-manage [--config FILE] config export [-o FILE] [-t TYPE]... [-n NAME] [--censor]
//! pi-manage [--config FILE] config import [-i FILE] [-t TYPE]... [-n NAME] [--skip-invalid]
//! pi-manage [--config FILE] policy lint [--format text|json]
//! ```

mod config;
mod lint;
mod transfer;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "pi-manage",
    version,
    about = "Manage the privacyIDEA-compatible server"
)]
struct Cli {
    /// The pi.cfg file (else $PRIVACYIDEA_CONFIGFILE, else /etc/privacyidea/pi.cfg).
    #[arg(long, short = 'c', global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// First start on a fresh machine: write the config (random SECRET_KEY and
    /// PI_PEPPER, SQLite database next to it) and the encryption key if missing,
    /// create the tables, and create admin `admin` with a random password
    /// (printed once) when there is no admin yet.
    Setup,
    /// Create the tables that are missing (an existing privacyIDEA database is kept as is).
    #[command(name = "create_tables", alias = "createdb")]
    CreateTables,
    /// Write a new encryption key to PI_ENCFILE; refuses to overwrite an existing file.
    #[command(name = "create_enckey")]
    CreateEnckey,
    /// Local administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Policies, realms and resolvers (privacyIDEA's `pi-manage config`).
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Policy tools beyond privacyIDEA's (`policy lint`).
    #[command(subcommand)]
    Policy(PolicyTool),
}

#[derive(Debug, Subcommand)]
enum PolicyTool {
    /// Report shadowed and conflicting policies, unknown references, regular
    /// expressions that match everything or nothing, admin lock-outs and
    /// time ranges that never match; exit status 1 when an error is found.
    Lint(lint::LintArgs),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Add an admin (or replace the password/email of an existing one).
    Add {
        /// Login name.
        name: String,
        /// E-mail address.
        #[arg(long, short = 'e')]
        email: Option<String>,
        /// Read the password as one line from standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List admins.
    List,
    /// Delete an admin.
    Delete {
        /// Login name.
        name: String,
    },
    /// Change an admin's e-mail and/or password.
    Change {
        /// Login name.
        name: String,
        /// New e-mail address.
        #[arg(long, short = 'e')]
        email: Option<String>,
        /// Ask for a new password (without echo, twice); also the default
        /// when neither `--email` nor `--password-stdin` is given, as in
        /// privacyIDEA.
        #[arg(long, short = 'p')]
        password: bool,
        /// Read the new password as one line from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().filter_or("RUST_LOG", "warn"))
        .try_init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn load(path: &Path) -> anyhow::Result<pi_config::PiConfig> {
    pi_config::load_file(path, pi_config::EnvOverrides::from_env())
        .with_context(|| format!("cannot load the configuration `{}`", path.display()))
}

fn open_store(cfg: &pi_config::PiConfig) -> anyhow::Result<pi_store::Store> {
    let store = pi_store::Store::open(
        &cfg.sqlalchemy_database_uri,
        pi_store::StoreOptions::default(),
    )?;
    store.ensure_schema()?;
    Ok(store)
}

fn read_password(from_stdin: bool, prompt: &str) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            bail!("no password on standard input");
        }
        return Ok(pw);
    }
    let pw = rpassword::prompt_password(prompt)?;
    let again = rpassword::prompt_password("Confirm: ")?;
    if pw != again {
        bail!("the passwords do not match");
    }
    if pw.is_empty() {
        bail!("empty password");
    }
    Ok(pw)
}

fn hash(cfg: &pi_config::PiConfig, password: &str) -> anyhow::Result<String> {
    let Some(pepper) = cfg.pi_pepper.as_deref() else {
        bail!("PI_PEPPER is not set in the configuration");
    };
    Ok(pi_auth::hash_password(
        pepper,
        password,
        &cfg.pi_hash_algo_list,
    )?)
}

fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let path = pi_config::resolve_config_path(cli.config.as_deref());
    match cli.command {
        Command::Setup => setup(&path),
        Command::CreateTables => {
            let cfg = load(&path)?;
            let store = open_store(&cfg)?;
            // the parsed URL prints without its password
            println!("tables created in {}", store.database_url());
            Ok(())
        }
        Command::CreateEnckey => {
            let cfg = load(&path)?;
            let Some(file) = cfg.pi_encfile.as_deref() else {
                bail!("PI_ENCFILE is not set in `{}`", path.display());
            };
            pi_realm::EncKey::generate_file(file)?;
            println!("encryption key written to {}", file.display());
            Ok(())
        }
        Command::Admin(cmd) => admin(&load(&path)?, cmd),
        Command::Config(cmd) => {
            let cfg = load(&path)?;
            let store = open_store(&cfg)?;
            config::run(&cfg, &store, cmd, &mut std::io::stdout().lock())
        }
        Command::Policy(PolicyTool::Lint(args)) => {
            let cfg = load(&path)?;
            let store = open_store(&cfg)?;
            if lint::run(&cfg, &store, &args, &mut std::io::stdout().lock())? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn admin(cfg: &pi_config::PiConfig, cmd: AdminCommand) -> anyhow::Result<()> {
    let store = open_store(cfg)?;
    match cmd {
        AdminCommand::Add {
            name,
            email,
            password_stdin,
        } => {
            let pw = read_password(password_stdin, &format!("Password for {name}: "))?;
            let existing = store.get_admin(&name)?;
            let email = email.or_else(|| existing.and_then(|a| a.email));
            store.save_admin(&pi_model::record::AdminRecord {
                username: name.clone(),
                password: Some(hash(cfg, &pw)?),
                email,
            })?;
            println!("admin {name} saved");
        }
        AdminCommand::List => {
            let mut out = std::io::stdout().lock();
            for a in store.list_admins()? {
                writeln!(out, "{}\t{}", a.username, a.email.unwrap_or_default())?;
            }
        }
        AdminCommand::Delete { name } => {
            if !store.delete_admin(&name)? {
                bail!("no admin `{name}`");
            }
            println!("admin {name} deleted");
        }
        AdminCommand::Change {
            name,
            email,
            password,
            password_stdin,
        } => {
            let Some(mut rec) = store.get_admin(&name)? else {
                bail!("no admin `{name}`");
            };
            let ask = password || password_stdin || email.is_none();
            if let Some(e) = email {
                rec.email = Some(e);
            }
            if ask {
                let pw = read_password(password_stdin, &format!("New password for {name}: "))?;
                rec.password = Some(hash(cfg, &pw)?);
            }
            store.save_admin(&rec)?;
            println!("admin {name} changed");
        }
    }
    Ok(())
}

fn setup(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let dir = std::fs::canonicalize(dir)?;
        let db = dir.join("privacyidea.sqlite");
        let enc = dir.join("enckey");
        let uuid = dir.join("uuid.txt");
        let text = format!(
            "# Written by `pi-manage setup`. privacyIDEA's pi.cfg syntax; see pi.cfg.example.\n\
             import logging\n\
             SQLALCHEMY_DATABASE_URI = {}\n\
             SECRET_KEY = {}\n\
             PI_PEPPER = {}\n\
             PI_ENCFILE = {}\n\
             PI_UUID_FILE = {}\n\
             PI_NODE = 'localnode'\n\
             SUPERUSER_REALM = []\n\
             PI_LOGLEVEL = logging.INFO\n\
             PI_LISTEN = '127.0.0.1:5000'\n",
            pi_config::render_str(&format!("sqlite:///{}", db.display())),
            pi_config::render_str(&random_token(32)),
            pi_config::render_str(&random_token(24)),
            pi_config::render_str(&enc.display().to_string()),
            pi_config::render_str(&uuid.display().to_string()),
        );
        write_private(path, &text)?;
        println!("configuration written to {}", path.display());
    }
    let cfg = load(path)?;
    if let Some(file) = cfg.pi_encfile.as_deref() {
        if !file.exists() {
            pi_realm::EncKey::generate_file(file)?;
            println!("encryption key written to {}", file.display());
        }
    }
    let store = open_store(&cfg)?;
    if store.list_admins()?.is_empty() {
        let pw = random_token(12);
        store.save_admin(&pi_model::record::AdminRecord {
            username: "admin".into(),
            password: Some(hash(&cfg, &pw)?),
            email: None,
        })?;
        println!("admin `admin` created with password: {pw}");
        println!("(shown once; change it with `pi-manage admin change admin --password`)");
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
