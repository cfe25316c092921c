//! Shared server state: configuration, the store, this node's identity and the
//! current configuration snapshot.
//!
//! Reads come from an immutable [`Snapshot`] behind an `Arc`. Each request
//! checks the store's config version (one indexed read) and swaps in a rebuilt
//! snapshot when it changed, so a write on any node — ours or privacyIDEA's —
//! is seen on the next request everywhere. Writes refresh the snapshot before
//! they answer, so a client always reads its own writes.

use crate::error::{ApiError, ApiResult};
use arc_swap::ArcSwap;
use pi_model::record::{NodeRecord, PolicyRecord, RealmRecord, ResolverRecord};

use pi_store::{ConfigSnapshot, ConfigVersion, Store};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

tokio::task_local! {
    /// When this request's waits for the database end (set at its first
    /// store call, see [`AppState::blocking`]).
    static DB_DEADLINE: std::cell::Cell<Option<std::time::Instant>>;
}

/// Runs a request so that all its waits for a database connection together
/// last at most the pool checkout timeout, counted from its first store
/// call (see `Store::with_deadline`).
pub async fn with_db_deadline<F: std::future::Future>(fut: F) -> F::Output {
    DB_DEADLINE.scope(std::cell::Cell::new(None), fut).await
}

pub use crate::node::NodeIdentity;

/// The records a [`Snapshot`] is assembled from.
struct Parts {
    policies: Vec<Arc<PolicyRecord>>,
    realms: Vec<RealmRecord>,
    resolvers: Vec<ResolverRecord>,
    nodes: Vec<NodeRecord>,
}

/// One consistent view of the configuration.
pub struct Snapshot {
    /// The store version this snapshot was built from (`None`: never loaded).
    pub version: Option<ConfigVersion>,
    /// Policies in privacyIDEA's load order (see `pi_store::NullsOrder`).
    /// Shared records: a policy write copies pointers, not records.
    pub policies: Vec<Arc<PolicyRecord>>,
    /// The engine over `policies`.
    pub policy_set: pi_policy::PolicySet,
    /// Realms in DB order.
    pub realms: Vec<RealmRecord>,
    /// Resolvers in DB order.
    pub resolvers: Vec<ResolverRecord>,
    /// Known nodes.
    pub nodes: Vec<NodeRecord>,
    /// The JSON of every policy, serialised on first use.
    policy_json: OnceLock<PolicyJson>,
    /// Resolver objects by name (built without I/O; files are read on use).
    resolver_objects: BTreeMap<String, Arc<dyn pi_realm::Resolver>>,
    /// Whether an active `userinfo` condition exists (logins then read the
    /// user's attributes).
    userinfo_conditions: bool,
}

impl Snapshot {
    fn empty(node: &NodeIdentity, key: &pi_realm::EncKey) -> Snapshot {
        let regexes = std::sync::Mutex::new(pi_policy::RegexCache::new());
        Snapshot::build(None, ConfigSnapshot::default(), node, key, &regexes, None)
    }

    /// Build a snapshot. Resolver objects of `previous` whose configuration
    /// is unchanged are reused, so their connections, pools and caches
    /// survive writes of other parts of the configuration.
    fn build(
        version: Option<ConfigVersion>,
        data: ConfigSnapshot,
        node: &NodeIdentity,
        key: &pi_realm::EncKey,
        regexes: &std::sync::Mutex<pi_policy::RegexCache>,
        previous: Option<&Snapshot>,
    ) -> Snapshot {
        let policy_set = crate::policyset::build(&data.policies, &data.realms, node, regexes);
        let ConfigSnapshot {
            policies,
            realms,
            resolvers,
            nodes,
            ..
        } = data;
        let policies = policies.into_iter().map(Arc::new).collect();
        Snapshot::assemble(
            version,
            Parts {
                policies,
                realms,
                resolvers,
                nodes,
            },
            policy_set,
            key,
            previous,
        )
    }

    /// [`Snapshot::build`] around an engine built (or edited) by the caller.
    fn assemble(
        version: Option<ConfigVersion>,
        data: Parts,
        policy_set: pi_policy::PolicySet,
        key: &pi_realm::EncKey,
        previous: Option<&Snapshot>,
    ) -> Snapshot {
        let Parts {
            policies,
            realms,
            resolvers,
            nodes,
        } = data;
        let userinfo_conditions = policies.iter().any(|p| {
            p.conditions
                .iter()
                .any(|c| c.active && c.section == "userinfo")
        });
        let mut resolver_objects = BTreeMap::new();
        for rec in &resolvers {
            let unchanged = previous.and_then(|p| {
                let old = p.resolvers.iter().find(|r| r.name == rec.name)?;
                let obj = p.resolver_objects.get(&rec.name)?;
                (old == rec).then(|| obj.clone())
            });
            if let Some(obj) = unchanged {
                resolver_objects.insert(rec.name.clone(), obj);
                continue;
            }
            match pi_realm::build_from_record(rec, key) {
                Ok(r) => {
                    resolver_objects.insert(rec.name.clone(), Arc::from(r));
                }
                Err(e) => log::warn!("resolver `{}` cannot be used: {e}", rec.name),
            }
        }
        Snapshot {
            version,
            policies,
            policy_set,
            realms,
            resolvers,
            nodes,
            policy_json: OnceLock::new(),
            resolver_objects,
            userinfo_conditions,
        }
    }

    /// Whether a policy has an active `userinfo` condition.
    pub fn has_userinfo_conditions(&self) -> bool {
        self.userinfo_conditions
    }

    /// The JSON of every policy of this snapshot (id order), serialised once
    /// per snapshot: `GET /policy/` and `/policy/check` answer from it.
    pub fn policy_json(&self) -> &PolicyJson {
        self.policy_json.get_or_init(|| {
            let items: Vec<String> = self
                .policy_set
                .policies()
                .map(|p| p.to_json().to_string())
                .collect();
            let all = format!("[{}]", items.join(","));
            let by_id = self
                .policy_set
                .policies()
                .enumerate()
                .map(|(i, p)| (p.id(), i))
                .collect();
            PolicyJson { items, all, by_id }
        })
    }

    /// A usable resolver object by exact name.
    pub fn resolver_object(&self, name: &str) -> Option<Arc<dyn pi_realm::Resolver>> {
        self.resolver_objects.get(name).cloned()
    }

    /// A realm by exact (lower-case) name.
    pub fn realm(&self, name: &str) -> Option<&RealmRecord> {
        self.realms.iter().find(|r| r.name == name)
    }

    /// Whether a realm exists (case-insensitive, as privacyIDEA's `realm_is_defined`).
    pub fn realm_exists(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        self.realms.iter().any(|r| r.name == lower)
    }

    /// The default realm.
    pub fn default_realm(&self) -> Option<&RealmRecord> {
        self.realms.iter().find(|r| r.default)
    }
}

/// The shared version checks of [`AppState::snapshot`] (µs since `epoch`).
#[derive(Debug, Default)]
struct CheckState {
    /// Start of the running check.
    running: Option<u64>,
    /// Start of the latest successful check.
    checked_from: Option<u64>,
    /// Start and error of the latest failed check.
    failed: Option<(u64, ApiError)>,
}

/// Ends a running check, also when the request that runs it is dropped.
struct CheckGuard<'a> {
    state: &'a AppState,
}

impl CheckGuard<'_> {
    fn finish(self, started: u64, error: Option<&ApiError>) {
        if let Ok(mut st) = self.state.checks.lock() {
            match error {
                None => st.checked_from = Some(st.checked_from.map_or(started, |c| c.max(started))),
                Some(e) => st.failed = Some((started, e.clone())),
            }
        }
        // Drop clears `running` and wakes the waiters.
    }
}

impl Drop for CheckGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut st) = self.state.checks.lock() {
            st.running = None;
        }
        self.state.check_done.notify_waiters();
    }
}

/// The serialised policies of one snapshot.
pub struct PolicyJson {
    /// One JSON object per policy, id order.
    pub items: Vec<String>,
    /// The JSON array of all of them.
    pub all: String,
    /// Policy id → index into `items`.
    by_id: std::collections::HashMap<i64, usize>,
}

impl PolicyJson {
    /// The JSON of a policy of this snapshot.
    pub fn of(&self, p: &pi_model::Policy) -> std::borrow::Cow<'_, str> {
        match self.by_id.get(&p.id()) {
            Some(&i) => std::borrow::Cow::Borrowed(self.items[i].as_str()),
            None => std::borrow::Cow::Owned(p.to_json().to_string()),
        }
    }
}

/// How long a version check that found the version moved waits for our
/// writes of that commit to register (the committing thread registers them
/// right after the commit) before it reloads; every registration wakes it.
const CHAIN_WAIT: std::time::Duration = std::time::Duration::from_millis(3);

/// How many verified tokens [`AppState::verify_token`] remembers (a few
/// hundred bytes each; emptied when full).
const VERIFIED_TOKENS: usize = 4096;

/// Announces policy writes of ours as their commit happens (on the store's
/// committing thread), so that a version check finds every write of a
/// commit batch at once instead of waiting for each writer to come back.
#[derive(Clone)]
pub struct PolicyRegistrar {
    pending: Arc<std::sync::Mutex<Vec<PendingPolicyWrite>>>,
    changed: Arc<tokio::sync::Notify>,
}

impl PolicyRegistrar {
    /// Registers the committed `record` (its id given by the store) at
    /// `step`; `conditions_written`: the write replaced its conditions.
    pub fn register(
        &self,
        step: &pi_store::VersionStep,
        record: PolicyRecord,
        conditions_written: bool,
    ) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(PendingPolicyWrite {
                step: step.clone(),
                stored: record,
                conditions_written,
            });
        self.changed.notify_waiters();
    }
}

/// A policy write of ours waiting to be applied to the snapshot.
struct PendingPolicyWrite {
    step: pi_store::VersionStep,
    stored: PolicyRecord,
    conditions_written: bool,
}

/// State shared by all workers.
pub struct AppState {
    /// The parsed pi.cfg.
    pub cfg: pi_config::PiConfig,
    /// The database.
    pub store: Store,
    /// This node.
    pub node: NodeIdentity,
    snapshot: ArcSwap<Snapshot>,
    node_registered: AtomicBool,
    last_check: AtomicI64,
    /// Version checks shared by concurrent requests (see [`AppState::snapshot`]).
    checks: std::sync::Mutex<CheckState>,
    check_done: tokio::sync::Notify,
    epoch: std::time::Instant,
    secret: Vec<u8>,
    trusted_jwt: Vec<pi_auth::TrustedJwt>,
    /// Tokens that verified before (see [`AppState::verify_token`]).
    verified_tokens: pi_auth::VerifiedTokens,
    pepper: String,
    enc_key: Option<pi_realm::EncKey>,
    ephemeral_key: pi_realm::EncKey,
    /// Compiled regular expressions kept between policy-set rebuilds.
    regexes: Arc<std::sync::Mutex<pi_policy::RegexCache>>,
    /// Policy writes of ours not yet in the snapshot, by the version each
    /// started from (see [`AppState::apply_policy_write`]).
    pending_policy_writes: Arc<std::sync::Mutex<Vec<PendingPolicyWrite>>>,
    /// One snapshot update from pending policy writes at a time.
    apply_lock: tokio::sync::Mutex<()>,
    /// Woken whenever a policy write of ours registers (a version check
    /// waiting for the rest of a commit batch goes on at once).
    pending_changed: Arc<tokio::sync::Notify>,
    remote: pi_remote::RemoteClient,
}

fn random_bytes(n: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut buf = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut buf);
    buf
}

/// Build the `PI_TRUSTED_JWT` entries. Entries with an algorithm that is
/// not asymmetric are skipped with a warning (privacyIDEA ignores them); an
/// entry whose key or user-name pattern is unusable stops the start.
pub fn trusted_jwt_entries(
    entries: &[pi_config::TrustedJwtConfig],
) -> anyhow::Result<Vec<pi_auth::TrustedJwt>> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !pi_auth::TRUSTED_ALGORITHMS.contains(&e.algorithm.as_str()) {
            log::warn!(
                "PI_TRUSTED_JWT entry {i}: unsupported JWT algorithm {:?}, entry ignored",
                e.algorithm
            );
            continue;
        }
        if e.algorithm == "ES512" {
            log::warn!(
                "PI_TRUSTED_JWT entry {i}: ES512 is not supported by this server, entry ignored"
            );
            continue;
        }
        let entry = pi_auth::TrustedJwt::new(
            &e.public_key,
            &e.algorithm,
            e.role.clone(),
            e.realm.clone(),
            e.resolver.clone(),
            &e.username,
        )
        .map_err(|msg| anyhow::anyhow!("PI_TRUSTED_JWT entry {i}: {msg}"))?;
        out.push(entry);
    }
    Ok(out)
}

impl AppState {
    /// Open the store (without requiring the database to be up), register the
    /// node if possible and load the first snapshot if possible.
    pub async fn start(cfg: pi_config::PiConfig) -> anyhow::Result<AppState> {
        let store = Store::open(
            &cfg.sqlalchemy_database_uri,
            pi_store::StoreOptions::default(),
        )?;
        let node = crate::node::identity(&cfg)?;
        let secret = match cfg.secret_key.as_deref() {
            Some(k) if !k.is_empty() => k.as_bytes().to_vec(),
            _ => {
                log::warn!(
                    "SECRET_KEY is not set: using a random key; tokens will not survive a restart"
                );
                random_bytes(32)
            }
        };
        let trusted_jwt = trusted_jwt_entries(&cfg.pi_trusted_jwt)?;
        let Some(pepper) = cfg.pi_pepper.clone() else {
            anyhow::bail!("PI_PEPPER is not set in the configuration");
        };
        let enc_key = match cfg.pi_encfile.as_deref() {
            Some(path) if path.exists() => Some(pi_realm::EncKey::load(path)?),
            Some(path) => {
                log::warn!(
                    "PI_ENCFILE `{}` does not exist; resolver passwords cannot be stored",
                    path.display()
                );
                None
            }
            None => None,
        };
        let remote = pi_remote::RemoteClient::new(pi_remote::RemoteOptions {
            connect_timeout: cfg.pi_remote_connect_timeout,
            total_timeout: cfg.pi_remote_timeout,
            allowed_hosts: cfg.pi_remote_allowed_hosts.clone(),
            allow_link_local: cfg.pi_remote_allow_link_local,
            ..pi_remote::RemoteOptions::default()
        })?;
        let ephemeral_key = match pi_realm::EncKey::from_bytes(&random_bytes(96)) {
            Some(k) => k,
            None => anyhow::bail!("cannot create an encryption key"),
        };
        let state = AppState {
            snapshot: ArcSwap::from_pointee(Snapshot::empty(
                &node,
                enc_key.as_ref().unwrap_or(&ephemeral_key),
            )),
            ephemeral_key,
            cfg,
            store,
            node,
            node_registered: AtomicBool::new(false),
            last_check: AtomicI64::new(0),
            checks: std::sync::Mutex::new(CheckState::default()),
            check_done: tokio::sync::Notify::new(),
            epoch: std::time::Instant::now(),
            secret,
            trusted_jwt,
            verified_tokens: pi_auth::VerifiedTokens::new(VERIFIED_TOKENS),
            pepper,
            enc_key,
            remote,
            regexes: Arc::default(),
            pending_policy_writes: Arc::default(),
            apply_lock: tokio::sync::Mutex::new(()),
            pending_changed: Arc::default(),
        };
        match state.snapshot().await {
            Ok(_) => log::info!("configuration loaded"),
            Err(e) => log::warn!("database not reachable at start, serving 503 until it is: {e}"),
        }
        Ok(state)
    }

    /// The JWT key.
    pub fn jwt_secret(&self) -> &[u8] {
        &self.secret
    }

    /// A request's token verified with the JWT key and the `PI_TRUSTED_JWT`
    /// entries ([`pi_auth::verify_with_trusted`]), answered from a bounded
    /// memo when the same token verified before and has not expired.
    ///
    /// # Errors
    ///
    /// Those of [`pi_auth::verify_with_trusted`].
    pub fn verify_token(&self, token: &str) -> Result<Arc<pi_auth::Claims>, pi_auth::AuthError> {
        self.verified_tokens
            .verify(&self.secret, token, None, &self.trusted_jwt)
    }

    /// The `PI_TRUSTED_JWT` entries that can verify tokens.
    pub fn trusted_jwt(&self) -> &[pi_auth::TrustedJwt] {
        &self.trusted_jwt
    }

    /// The request-body cap.
    pub fn body_limit(&self) -> usize {
        self.cfg.pi_max_body_size
    }

    /// `PI_PEPPER`.
    pub fn pepper(&self) -> &str {
        &self.pepper
    }

    /// The key of `PI_ENCFILE`, if it exists.
    pub fn enc_key(&self) -> Option<&pi_realm::EncKey> {
        self.enc_key.as_ref()
    }

    /// The key for decoding stored resolver passwords: `PI_ENCFILE`'s, else a
    /// random one (stored passwords then cannot be decrypted, only censored).
    pub fn enc_key_or_ephemeral(&self) -> &pi_realm::EncKey {
        self.enc_key.as_ref().unwrap_or(&self.ephemeral_key)
    }

    /// The client for remote privacyIDEA servers.
    pub fn remote_client(&self) -> &pi_remote::RemoteClient {
        &self.remote
    }

    /// Run a blocking store call on the blocking pool.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Store) -> Result<T, pi_store::StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.blocking(f).await?.map_err(ApiError::from)
    }

    /// Run a blocking store call with its own error type on the blocking pool.
    pub async fn blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Store) -> T + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        let deadline = self.db_deadline();
        crate::blocking(move || store.with_deadline(deadline, f))
            .await
            .map_err(ApiError::internal)
    }

    /// The config version of the snapshot in use (no database read).
    pub fn current_version(&self) -> Option<i64> {
        self.snapshot.load().version.as_ref().map(|v| v.version)
    }

    /// The current request's database deadline (started now if this is its
    /// first store call); `None` outside a request.
    fn db_deadline(&self) -> Option<std::time::Instant> {
        DB_DEADLINE
            .try_with(|d| {
                if d.get().is_none() {
                    d.set(Some(
                        std::time::Instant::now() + self.store.checkout_timeout(),
                    ));
                }
                d.get()
            })
            .ok()
            .flatten()
    }

    /// The current snapshot, rebuilt first if the store's config version moved.
    pub async fn snapshot(self: &AppState) -> ApiResult<Arc<Snapshot>> {
        let current = self.snapshot.load_full();
        let interval = self
            .cfg
            .get("PI_CHECK_RELOAD_CONFIG")
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        if interval > 0 && current.version.is_some() {
            let now = chrono::Utc::now().timestamp();
            if now - self.last_check.load(Ordering::Relaxed) < interval {
                return Ok(current);
            }
            self.last_check.store(now, Ordering::Relaxed);
        }
        self.shared_check().await
    }

    /// The snapshot as of a configuration-version check that started after
    /// this call. Concurrent callers share checks: a request joins a running
    /// check that started after it arrived (or waits for the running one to
    /// end and then starts or joins the next), so under load there are a few
    /// checks per check duration instead of one per request, and every
    /// answer still reflects a version read after its request arrived.
    async fn shared_check(&self) -> ApiResult<Arc<Snapshot>> {
        let arrived = self.micros();
        // the request's database budget starts now, also while it waits for
        // another request's check
        self.db_deadline();
        loop {
            let notified = self.check_done.notified();
            let started = {
                let mut st = self.checks.lock().map_err(ApiError::internal)?;
                if st.checked_from.is_some_and(|c| c > arrived) {
                    return Ok(self.snapshot.load_full());
                }
                if let Some((_, e)) = st.failed.as_ref().filter(|(f, _)| *f > arrived) {
                    return Err(e.clone());
                }
                match st.running {
                    Some(_) => None,
                    None => {
                        let started = self.micros();
                        st.running = Some(started);
                        Some(started)
                    }
                }
            };
            let Some(started) = started else {
                notified.await;
                continue;
            };
            let guard = CheckGuard { state: self };
            let result = self.reload().await;
            guard.finish(started, result.as_ref().err());
            return result;
        }
    }

    fn micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// The snapshot after a write of ours: a version check that starts after
    /// the write (the write bumped the version, so it reloads); concurrent
    /// writers share the rebuild.
    pub async fn refresh(&self) -> ApiResult<Arc<Snapshot>> {
        self.shared_check().await
    }

    /// After a policy write of ours: when the snapshot is still at the version
    /// the write started from, apply the stored record to it (no reload from
    /// the database); otherwise somebody else wrote in between and the
    /// snapshot is reloaded as after any other write.
    ///
    /// Writes committed together (group commit in pi-store) come as a chain
    /// of version steps, registered by the committing thread right after the
    /// commit ([`AppState::policy_registrar`]), all of a batch before any of
    /// its writers returns; whoever updates the snapshot next (this write, a
    /// concurrent one or a version check) applies every registered write
    /// that continues the chain from the snapshot's version in one go (one
    /// edit of the engine for the batch). A gap in the chain — another
    /// node's write, a realm write — ends in a reload.
    pub async fn apply_policy_write(&self, step: pi_store::VersionStep) -> ApiResult<()> {
        let mine = step.after;
        {
            let guard = self.apply_lock.lock().await;
            if !self.pending_writes().iter().any(|w| w.step.after == mine) {
                return Ok(()); // applied with another write's chain
            }
            let base = self.snapshot.load_full();
            let chain = self.take_chain(base.version.as_ref());
            if !chain.is_empty() {
                let Ok(snap) = self.apply_chain(base.clone(), chain).await else {
                    drop(guard);
                    return self.refresh().await.map(|_| ());
                };
                self.replace_if_still(&base, snap);
            }
        }
        // still pending: the chain from the snapshot does not reach it (a
        // write that is not ours came in between; ours all registered at
        // their commits, before this write returned) — reload
        let was_pending = {
            let mut pending = self.pending_writes();
            let before = pending.len();
            pending.retain(|w| w.step.after != mine);
            pending.len() != before
        };
        if was_pending {
            self.refresh().await?;
        }
        Ok(())
    }

    /// What announces a policy write of ours at its commit: call
    /// [`PolicyRegistrar::register`] from
    /// [`pi_store::Store::save_policy_versioned_then`]'s hook, then hand the
    /// step to [`AppState::apply_policy_write`].
    pub fn policy_registrar(&self) -> PolicyRegistrar {
        PolicyRegistrar {
            pending: self.pending_policy_writes.clone(),
            changed: self.pending_changed.clone(),
        }
    }

    /// Installs `snap` (built from `base`) unless the snapshot in use has
    /// moved past `base` meanwhile: a newer one wins.
    fn replace_if_still(&self, base: &Snapshot, snap: Arc<Snapshot>) {
        self.snapshot.rcu(|cur| {
            if cur.version == base.version {
                snap.clone()
            } else {
                cur.clone()
            }
        });
    }

    fn pending_writes(&self) -> std::sync::MutexGuard<'_, Vec<PendingPolicyWrite>> {
        self.pending_policy_writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Removes and returns the pending writes that continue the chain from
    /// `from`, in order; drops pending writes the snapshot is already past.
    fn take_chain(&self, from: Option<&ConfigVersion>) -> Vec<PendingPolicyWrite> {
        let mut pending = self.pending_writes();
        let mut chain = Vec::new();
        let Some(mut at) = from.cloned() else {
            return chain;
        };
        // the snapshot was loaded after these commits: they are in it
        pending.retain(|w| w.step.after.version > at.version);
        while let Some(i) = pending.iter().position(|w| w.step.before == at) {
            let w = pending.swap_remove(i);
            at = w.step.after.clone();
            chain.push(w);
        }
        chain
    }

    /// `base` with the chained writes applied (the snapshot of the last
    /// write's version).
    async fn apply_chain(
        &self,
        base: Arc<Snapshot>,
        chain: Vec<PendingPolicyWrite>,
    ) -> ApiResult<Arc<Snapshot>> {
        let node = self.node.clone();
        let key = self.enc_key_or_ephemeral().clone();
        let regexes = self.regexes.clone();
        let nulls = pi_store::NullsOrder::from(self.store.backend());
        crate::blocking(move || {
            let mut policies = base.policies.clone();
            let mut after = None;
            let mut policy_set: Option<pi_policy::PolicySet> = None;
            for w in chain {
                let id = w.stored.id;
                let old_at = policies.iter().position(|p| p.id == id);
                pi_store::place_written_policy(
                    &mut policies,
                    Arc::new(w.stored),
                    w.conditions_written,
                    nulls,
                );
                // The engine is edited, not rebuilt (same load order as `policies`).
                policy_set = Some(crate::policyset::apply_write(
                    policy_set.as_ref().unwrap_or(&base.policy_set),
                    old_at,
                    id,
                    &policies,
                    &base.realms,
                    &node,
                    &regexes,
                ));
                after = Some(w.step.after);
            }
            let after = after.unwrap_or_default();
            let policy_set = match policy_set {
                Some(set) => set,
                None => crate::policyset::build(&policies, &base.realms, &node, &regexes),
            };
            let data = Parts {
                policies,
                realms: base.realms.clone(),
                resolvers: base.resolvers.clone(),
                nodes: base.nodes.clone(),
            };
            Arc::new(Snapshot::assemble(
                Some(after),
                data,
                policy_set,
                &key,
                Some(&base),
            ))
        })
        .await
        .map_err(ApiError::internal)
    }

    /// Reload the snapshot if the store's version moved. When it moved while
    /// policy writes of ours are waiting to be applied, the new version is
    /// most likely theirs: the snapshot is then patched with them
    /// ([`AppState::catch_up`]) instead of being reloaded.
    async fn reload(&self) -> ApiResult<Arc<Snapshot>> {
        let current = self.snapshot.load_full();
        let ours_pending = current.version.is_some() && !self.pending_writes().is_empty();
        if ours_pending {
            let store = self.store.clone();
            let deadline = self.db_deadline();
            let version = crate::blocking(move || {
                store.with_deadline(deadline, |store| store.config_version())
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::from)?;
            if current.version.as_ref() == Some(&version) {
                return Ok(self.snapshot.load_full());
            }
            if let Some(snap) = self.catch_up(&version).await? {
                return Ok(snap);
            }
        }
        self.load_full().await
    }

    /// The snapshot at `version` (or later) from the pending policy writes
    /// of ours, when they lead there within `CHAIN_WAIT` (the committing
    /// thread registers a batch's writes one by one right after its commit);
    /// `None`: they do not (another node wrote, or a realm write of ours),
    /// reload.
    async fn catch_up(&self, version: &ConfigVersion) -> ApiResult<Option<Arc<Snapshot>>> {
        let deadline = tokio::time::Instant::now() + CHAIN_WAIT;
        loop {
            let registered = self.pending_changed.notified();
            {
                let _guard = self.apply_lock.lock().await;
                let base = self.snapshot.load_full();
                let at = base.version.clone().unwrap_or_default();
                if &at == version || at.version > version.version {
                    return Ok(Some(base));
                }
                if self.chain_end(&at).as_ref() == Some(version) {
                    let chain = self.take_chain(base.version.as_ref());
                    let snap = self.apply_chain(base.clone(), chain).await?;
                    self.replace_if_still(&base, snap);
                    return Ok(Some(self.snapshot.load_full()));
                }
                let mut pending = self.pending_writes();
                // written before the snapshot was loaded: already in it
                pending.retain(|w| w.step.after.version > at.version);
                if pending.is_empty() {
                    return Ok(None);
                }
            }
            if tokio::time::timeout_at(deadline, registered).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// Where the pending writes that continue the chain from `from` lead to
    /// (`None`: none continues it). Takes nothing.
    fn chain_end(&self, from: &ConfigVersion) -> Option<ConfigVersion> {
        let pending = self.pending_writes();
        let mut at = from;
        let mut moved = false;
        while let Some(w) = pending.iter().find(|w| &w.step.before == at) {
            at = &w.step.after;
            moved = true;
        }
        moved.then(|| at.clone())
    }

    /// Reads the version and, when it moved, the whole configuration.
    async fn load_full(&self) -> ApiResult<Arc<Snapshot>> {
        let store = self.store.clone();
        let node = self.node.clone();
        let need_register = !self.node_registered.load(Ordering::Relaxed);
        // The closure needs 'static data: hand it what it needs and swap on return.
        let current = self.snapshot.load_full();
        let key = self.enc_key_or_ephemeral().clone();
        let regexes = self.regexes.clone();
        let deadline = self.db_deadline();
        let result = crate::blocking(move || -> Result<Option<Snapshot>, pi_store::StoreError> {
            let store = &store;
            store.with_deadline(deadline, |store| store.ensure_schema())?;
            if need_register {
                store.with_deadline(deadline, |store| {
                    store.register_node(&node.uuid, &node.name, chrono::Utc::now().naive_utc())
                })?;
            }
            let version = store.with_deadline(deadline, |store| store.config_version())?;
            if current.version.as_ref() == Some(&version) {
                return Ok(None);
            }
            let started = std::time::Instant::now();
            let data = store.with_deadline(deadline, |store| store.load_snapshot())?;
            let loaded = started.elapsed();
            let (count, counter) = (data.policies.len(), data.version.version);
            let snap = Snapshot::build(
                Some(data.version.clone()),
                data,
                &node,
                &key,
                &regexes,
                Some(&current),
            );
            log::debug!(
                "configuration version {counter} read in {loaded:?}, built in {:?} ({count} policies)",
                started.elapsed() - loaded
            );
            crate::metrics_snapshot_rebuilt(started.elapsed(), counter);
            Ok(Some(snap))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)?;
        if need_register {
            self.node_registered.store(true, Ordering::Relaxed);
        }
        match result {
            None => Ok(self.snapshot.load_full()),
            Some(snap) => {
                let snap = Arc::new(snap);
                // Never replace a snapshot by an older one built concurrently.
                let counter = |s: &Snapshot| s.version.as_ref().map(|v| v.version);
                self.snapshot.rcu(|cur| {
                    if counter(cur) > counter(&snap) {
                        cur.clone()
                    } else {
                        snap.clone()
                    }
                });
                Ok(self.snapshot.load_full())
            }
        }
    }
}
