//! `pi-manage config policy|realm|resolver …`: privacyIDEA's configuration
//! commands (spec realm-auth-server.md §7.6), writing through `pi-store` so
//! that running servers pick the change up by the configuration version.
//!
//! Output lines are privacyIDEA's; unlike privacyIDEA, a failure exits with
//! status 1 (privacyIDEA prints the error and exits 0).

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use pi_model::pyliteral::{self, PyValue};
use pi_model::pyrepr::{repr_str, repr_str_list};
use pi_model::record::RealmResolverAssignment;
use pi_store::{DeleteRealmOutcome, SetRealmError, Store};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::PathBuf;

/// `pi-manage config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Manage policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Manage realms.
    #[command(subcommand)]
    Realm(RealmCommand),
    /// Manage user resolvers.
    #[command(subcommand)]
    Resolver(ResolverCommand),
    /// Import policies, realms and resolvers from privacyIDEA's
    /// configuration file (JSON or a Python literal).
    #[command(alias = "importer")]
    Import(crate::transfer::ImportArgs),
    /// Export policies, realms and resolvers in privacyIDEA's
    /// configuration file format.
    #[command(alias = "exporter")]
    Export(crate::transfer::ExportArgs),
}

/// `pi-manage config policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List the policies.
    List,
    /// Enable the policy NAME.
    Enable {
        /// Policy name.
        name: String,
    },
    /// Disable the policy NAME.
    Disable {
        /// Policy name.
        name: String,
    },
    /// Delete the policy NAME.
    Delete {
        /// Policy name.
        name: String,
    },
    /// Create (or replace) a policy. With `-f FILE` the file holds a Python
    /// dict whose `name`, `scope` and `action` win over the arguments.
    Create {
        /// Policy name.
        name: String,
        /// Scope.
        scope: String,
        /// Action string.
        action: String,
        /// A file with a Python dict of policy attributes.
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
}

/// `pi-manage config realm …`.
#[derive(Debug, Subcommand)]
pub enum RealmCommand {
    /// List the realms; `*` marks the default realm.
    List,
    /// Create a realm with the given resolvers (an existing realm is replaced).
    Create {
        /// Realm name.
        name: String,
        /// Resolver names.
        resolvers: Vec<String>,
    },
    /// Delete a realm.
    Delete {
        /// Realm name.
        realm: String,
        /// Also delete the realm's custom user attributes instead of refusing.
        #[arg(long)]
        delete_custom_attributes: bool,
    },
    /// Make REALM the default realm.
    #[command(name = "set_default")]
    SetDefault {
        /// Realm name.
        realm: String,
    },
    /// Unset the default realm.
    #[command(name = "clear_default")]
    ClearDefault,
}

/// `pi-manage config resolver …`.
#[derive(Debug, Subcommand)]
pub enum ResolverCommand {
    /// List the resolvers and their types.
    List {
        /// Also print each resolver's configuration (passwords masked).
        #[arg(long, short = 'v')]
        verbose: bool,
    },
    /// Create (or update) a resolver; CONF_FILE holds a Python dict of its
    /// parameters (as `POST /resolver/<name>` takes them).
    Create {
        /// Resolver name.
        name: String,
        /// Resolver type (`passwdresolver`, `ldapresolver`, `sqlresolver`, …).
        rtype: String,
        /// File with a Python dict of the resolver's parameters.
        conf_file: PathBuf,
    },
    /// Create an editable SQL resolver NAME whose users live in the
    /// configuration database, table `users_<NAME>` (created if missing).
    #[command(name = "create_internal")]
    CreateInternal {
        /// Resolver name.
        name: String,
    },
}

/// Run a `config` command.
pub fn run(
    cfg: &pi_config::PiConfig,
    store: &Store,
    cmd: ConfigCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Policy(c) => policy(cfg, store, c, out),
        ConfigCommand::Realm(c) => realm(store, c, out),
        ConfigCommand::Resolver(c) => resolver(cfg, store, c, out),
        ConfigCommand::Export(args) => crate::transfer::export(cfg, store, &args, out),
        ConfigCommand::Import(args) => {
            if crate::transfer::import(cfg, store, &args, out)? {
                Ok(())
            } else {
                Err(anyhow!(ImportFailed))
            }
        }
    }
}

/// `config import` failed for some type (the details are printed already).
#[derive(Debug)]
pub struct ImportFailed;

impl std::fmt::Display for ImportFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the import finished with errors")
    }
}

impl std::error::Error for ImportFailed {}

/// Python's `repr()` of a boolean.
fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn policy(
    cfg: &pi_config::PiConfig,
    store: &Store,
    cmd: PolicyCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        PolicyCommand::List => {
            writeln!(out, "Active   Name {}Scope", " ".repeat(16))?;
            writeln!(out, "{}", "=".repeat(40))?;
            for p in store.list_policies()? {
                writeln!(out, "{:8} {:20} {}", py_bool(p.active), p.name, p.scope)?;
            }
        }
        PolicyCommand::Enable { name } => {
            if store.set_policy_active(&name, true)?.is_none() {
                bail!("Could not enable policy {name}: the policy does not exist");
            }
            writeln!(out, "Successfully enabled policy '{name}'")?;
        }
        PolicyCommand::Disable { name } => {
            if store.set_policy_active(&name, false)?.is_none() {
                bail!("Could not disable policy {name}: the policy does not exist");
            }
            writeln!(out, "Successfully disabled policy '{name}'")?;
        }
        PolicyCommand::Delete { name } => {
            if store.delete_policy(&name)?.is_none() {
                bail!("Could not delete policy {name}: the policy does not exist");
            }
            writeln!(out, "Successfully deleted policy '{name}'")?;
        }
        PolicyCommand::Create {
            name,
            scope,
            action,
            file,
        } => {
            let params = match file {
                None => {
                    let mut m = Map::new();
                    m.insert("scope".into(), Value::String(scope));
                    m.insert("action".into(), Value::String(action));
                    m.insert("name".into(), Value::String(name));
                    m
                }
                Some(path) => policy_file_params(&path, name, scope, action, out)?,
            };
            let name = params
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            write_policy(cfg, store, &name, &params)
                .map_err(|e| anyhow!("Could not create the policy {name}: {e:#}"))?;
        }
    }
    Ok(())
}

/// Create or update the policy `name` from `POST /policy/<name>`-style
/// parameters, through the server's write rules (`pi_admin::policy::plan_write`
/// against the stored realms, resolvers, nodes and superuser realms).
pub fn write_policy(
    cfg: &pi_config::PiConfig,
    store: &Store,
    name: &str,
    params: &Map<String, Value>,
) -> anyhow::Result<()> {
    let ctx = pi_admin::policy::stored_validation_context(store, cfg)?;
    let existing = store.get_policy(name)?;
    let plan = pi_admin::policy::plan_write(&ctx, existing.as_ref(), name, params)
        .map_err(|e| anyhow!("{}", e.message()))?;
    store.save_policy(&plan.record, plan.conditions.as_deref())?;
    Ok(())
}

/// The parameters of `policy create -f FILE`, with privacyIDEA's messages
/// about which of name/scope/action come from the file.
fn policy_file_params(
    path: &std::path::Path,
    name: String,
    scope: String,
    action: String,
    out: &mut impl Write,
) -> anyhow::Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let fail = |why: String| {
        anyhow!(
            "Could not create the policy from the file {}: {why}",
            path.display()
        )
    };
    let value = pyliteral::parse(&text).map_err(fail)?;
    if !matches!(value, PyValue::Dict(_)) {
        return Err(fail("the file does not hold a Python dict".into()));
    }
    let Value::Object(mut params) = value.to_json() else {
        return Err(fail("the file does not hold a Python dict".into()));
    };
    // privacyIDEA's `create` sets `active` to True and the two flags to False
    // when the file does not name them.
    params.entry("active").or_insert(Value::Bool(true));
    params
        .entry("check_all_resolvers")
        .or_insert(Value::Bool(false));
    for (key, cli) in [("name", name), ("scope", scope), ("action", action)] {
        let from_file = params
            .get(key)
            .filter(|v| pi_model::pyrepr::py_truthy(v))
            .cloned();
        match from_file {
            Some(v) if v != Value::String(cli.clone()) => {
                let shown = match &v {
                    Value::String(s) => s.clone(),
                    other => pi_model::pyrepr::str_value(other),
                };
                match key {
                    "action" => writeln!(
                        out,
                        "Found action in file: '{shown}', will use that instead of: '{cli}'."
                    )?,
                    _ => writeln!(
                        out,
                        "Found {key} '{shown}' in file, will use that instead of '{cli}'."
                    )?,
                }
            }
            _ => {
                writeln!(
                    out,
                    "{key} not defined in file, will use the cli value {cli}."
                )?;
                params.insert(key.into(), Value::String(cli));
            }
        }
    }
    Ok(params)
}

fn realm(store: &Store, cmd: RealmCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        RealmCommand::List => {
            for r in store.list_realms()? {
                let name = if r.default {
                    format!("* {}", r.name)
                } else {
                    r.name.clone()
                };
                let names: Vec<&str> = r.resolvers.iter().map(|x| x.name.as_str()).collect();
                writeln!(out, "{name:16}: {}", repr_str_list(&names))?;
            }
        }
        RealmCommand::Create { name, resolvers } => {
            let name = pi_model::names::normalize_realm_name(&name).map_err(|e| anyhow!(e))?;
            let assignments: Vec<RealmResolverAssignment> = resolvers
                .iter()
                .map(|r| RealmResolverAssignment {
                    name: r.clone(),
                    priority: None,
                    node: String::new(),
                })
                .collect();
            let outcome = pi_admin::realm::store_set(store, &name, &assignments).map_err(|e| match e {
                SetRealmError::Store(s) => anyhow!(s),
                other => anyhow!("Could not create realm '{name}': {other}"),
            })?;
            if outcome.failed.is_empty() {
                writeln!(
                    out,
                    "Successfully created realm '{name}' with resolver: {}.",
                    repr_str_list(&outcome.added)
                )?;
            } else {
                writeln!(
                    out,
                    "Realm '{name}' created. Following resolvers could not be assigned: {}",
                    repr_str_list(&outcome.failed)
                )?;
            }
        }
        RealmCommand::Delete {
            realm,
            delete_custom_attributes,
        } => match store.delete_realm_checked(&realm, delete_custom_attributes)? {
            DeleteRealmOutcome::Deleted(_) => {
                writeln!(out, "Realm '{realm}' successfully deleted.")?;
            }
            DeleteRealmOutcome::NotFound => {
                bail!("Could not delete realm '{realm}': the realm does not exist")
            }
            DeleteRealmOutcome::TokenOwned | DeleteRealmOutcome::ContainerOwned => bail!(
                "Could not delete realm '{realm}': tokens or containers are still assigned to users of the realm"
            ),
            DeleteRealmOutcome::CustomAttributes(keys) => bail!(
                "Could not delete realm '{realm}': users of the realm have custom attributes ({}); \
                 use --delete-custom-attributes to delete them too",
                keys.join(", ")
            ),
        },
        RealmCommand::SetDefault { realm } => {
            if store.set_default_realm(&realm)?.is_none() {
                bail!("Could not set realm {realm} as default: the realm does not exist");
            }
            writeln!(out, "Realm {realm} set as default realm.")?;
        }
        RealmCommand::ClearDefault => {
            store.clear_default_realm()?;
            writeln!(out, "cleared default realm.")?;
        }
    }
    Ok(())
}

fn resolver(
    cfg: &pi_config::PiConfig,
    store: &Store,
    cmd: ResolverCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let verbose = match cmd {
        ResolverCommand::List { verbose } => verbose,
        ResolverCommand::Create {
            name,
            rtype,
            conf_file,
        } => return resolver_create(cfg, store, &name, &rtype, &conf_file),
        ResolverCommand::CreateInternal { name } => {
            return resolver_create_internal(cfg, store, &name)
        }
    };
    for r in store.list_resolvers()? {
        writeln!(out, "{:16} - ({})", r.name, r.rtype)?;
        if verbose {
            writeln!(out, "{}", ".".repeat(32))?;
            for c in &r.config {
                let value = if matches!(c.key.to_lowercase().as_str(), "bindpw" | "password") {
                    repr_str("xxxxx")
                } else {
                    repr_str(c.value.as_deref().unwrap_or(""))
                };
                writeln!(out, "{:>24}: {value}", c.key)?;
            }
            writeln!(out, "\n")?;
        }
    }
    Ok(())
}

/// The parameters privacyIDEA's `create_internal` derives from
/// `SQLALCHEMY_DATABASE_URI` (split at `/`: driver, `user:password@host`,
/// database path), for resolver `name`.
fn internal_resolver_params(uri: &str, name: &str) -> Result<Map<String, Value>, String> {
    let parts: Vec<&str> = uri.split('/').collect();
    if parts.len() < 3 || parts[0].is_empty() {
        return Err("Invalid database URI".into());
    }
    let mut driver = parts[0].to_string();
    driver.pop();
    let database = parts[3..].join("/");
    let hostparts: Vec<&str> = parts[2].split('@').collect();
    let or_root = |h: &str| {
        if h.is_empty() {
            "/".to_string()
        } else {
            h.to_string()
        }
    };
    let (user, password, host) = match hostparts.as_slice() {
        [host] => (String::new(), String::new(), or_root(host)),
        [userinfo, host] => {
            let up: Vec<&str> = userinfo.split(':').collect();
            match up.as_slice() {
                [u] => (u.to_string(), String::new(), or_root(host)),
                [u, p] => (u.to_string(), p.to_string(), or_root(host)),
                _ => return Err("Invalid username and password in database URI".into()),
            }
        }
        _ => return Err("Invalid database URI".into()),
    };
    let mut m = Map::new();
    for (k, v) in [
        ("Server", host),
        ("Driver", driver),
        ("User", user),
        ("Password", password),
        ("Database", database),
        ("Table", format!("users_{name}")),
        ("Limit", "500".into()),
        ("Editable", "1".into()),
        (
            "Map",
            "{\"userid\": \"id\", \"username\": \"username\", \"email\":\"email\", \"password\": \"password\", \"phone\":\"phone\", \"mobile\":\"mobile\", \"surname\":\"surname\", \"givenname\":\"givenname\", \"description\": \"description\"}".into(),
        ),
    ] {
        m.insert(k.into(), Value::String(v));
    }
    Ok(m)
}

/// `config resolver create_internal`: save the SQL resolver (as privacyIDEA,
/// through the same validation as `POST /resolver/<name>`), then create its
/// table in the configuration database. Prints nothing on success, as
/// privacyIDEA.
fn resolver_create_internal(
    cfg: &pi_config::PiConfig,
    store: &Store,
    name: &str,
) -> anyhow::Result<()> {
    let fail = |why: String| anyhow!("Could not create resolver {name}: {why}");
    let params = internal_resolver_params(&cfg.sqlalchemy_database_uri, name).map_err(fail)?;
    let enc = match cfg.pi_encfile.as_deref() {
        Some(path) if path.exists() => Some(pi_realm::EncKey::load(path)?),
        _ => None,
    };
    save_resolver(store, name, "sqlresolver", &params, enc.as_ref())?;
    store.create_internal_user_table(name)?;
    Ok(())
}

/// `config resolver create`: privacyIDEA's `save_resolver` with the file's
/// parameters; prints nothing on success, as privacyIDEA.
fn resolver_create(
    cfg: &pi_config::PiConfig,
    store: &Store,
    name: &str,
    rtype: &str,
    conf_file: &std::path::Path,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(conf_file)
        .with_context(|| format!("cannot read `{}`", conf_file.display()))?;
    let fail = |why: String| anyhow!("Could not create resolver {name}: {why}");
    let value = pyliteral::parse(&text).map_err(fail)?;
    let Value::Object(params) = value.to_json() else {
        return Err(fail(format!(
            "`{}` does not hold a Python dict",
            conf_file.display()
        )));
    };
    let enc = match cfg.pi_encfile.as_deref() {
        Some(path) if path.exists() => Some(pi_realm::EncKey::load(path)?),
        _ => None,
    };
    save_resolver(store, name, rtype, &params, enc.as_ref())?;
    Ok(())
}

/// privacyIDEA's `save_resolver` through pi-admin's write rules (the ones
/// `POST /resolver/<name>` uses), with `Could not create resolver` errors.
fn save_resolver(
    store: &Store,
    name: &str,
    rtype: &str,
    params: &Map<String, Value>,
    enc: Option<&pi_realm::EncKey>,
) -> anyhow::Result<i64> {
    use pi_admin::resolver::SaveError;
    pi_admin::resolver::save_stored(store, name, rtype, params, enc).map_err(|e| match e {
        SaveError::Store(s) => anyhow!(s),
        other => anyhow!("Could not create resolver {name}: {other}"),
    })
}
