//! Policies: `policy`, `policycondition`, `description`.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use pi_model::record::{ConditionRecord, PolicyRecord};

use crate::conn::AnyConnection;
use crate::schema::{description, policy, policycondition};
use crate::store::{inserted_id, new_id, now_naive, to_i32};
use crate::{RenameError, Store, StoreError, VersionStep};

diesel::define_sql_function! {
    /// SQL `lower()`.
    fn lower(x: Nullable<Text>) -> Nullable<Text>;
}

/// Filter of [`Store::get_policies_filtered`], privacyIDEA's `get_policies`
/// DB query (`GET /policy/`). `None` = do not filter on this attribute.
///
/// A text value containing `*` is a case-insensitive SQL `LIKE` on the raw
/// stored column with `*` → `%` (literal `%`, `_` and the escape `/` are
/// escaped); any other value is exact equality with the raw column (so
/// `realm = "realm1"` does not find a policy stored with `"realm1, realm2"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFilter {
    /// `policy.name`.
    pub name: Option<String>,
    /// `policy.scope`.
    pub scope: Option<String>,
    /// `policy.realm` (raw stored string).
    pub realm: Option<String>,
    /// `policy.active`; a stored `NULL` counts as `true` (the column default).
    pub active: Option<bool>,
    /// `policy.action` (raw stored string).
    pub action: Option<String>,
    /// `policy.adminrealm`.
    pub adminrealm: Option<String>,
    /// `policy.adminuser`.
    pub adminuser: Option<String>,
    /// `policy.resolver`.
    pub resolver: Option<String>,
    /// `policy.pinode`.
    pub pinode: Option<String>,
    /// `policy.user`.
    pub user: Option<String>,
    /// `policy.client`.
    pub client: Option<String>,
    /// `policy.time`.
    pub time: Option<String>,
    /// `policy.user_agents`.
    pub user_agents: Option<String>,
    /// `policy.priority`.
    pub priority: Option<i64>,
    /// A value without `*` compares case-insensitively, as MariaDB/MySQL's
    /// `utf8mb4_general_ci` collation (privacyIDEA's tables there) compares
    /// it; [`Store::get_policies_filtered`] sets it on those backends.
    pub exact_ignores_case: bool,
}

impl PolicyFilter {
    /// Whether no attribute is filtered.
    pub fn is_empty(&self) -> bool {
        *self
            == PolicyFilter {
                exact_ignores_case: self.exact_ignores_case,
                ..PolicyFilter::default()
            }
    }

    /// Whether the policy passes the filter — the one implementation of
    /// privacyIDEA's `get_policies` column filter, used by `GET /policy/`
    /// over the snapshot and by [`Store::get_policies_filtered`].
    pub fn matches(&self, r: &PolicyRecord) -> bool {
        let exact_ignores_case = self.exact_ignores_case;
        let col = |f: &Option<String>, c: &str| {
            f.as_deref().is_none_or(|f| {
                if exact_ignores_case && !f.contains('*') {
                    f.to_lowercase() == c.to_lowercase()
                } else {
                    column_matches(f, c)
                }
            })
        };
        col(&self.name, &r.name)
            && col(&self.scope, &r.scope)
            && col(&self.realm, &r.realm)
            && col(&self.action, &r.action)
            && col(&self.adminrealm, &r.adminrealm)
            && col(&self.adminuser, &r.adminuser)
            && col(&self.resolver, &r.resolver)
            && col(&self.pinode, &r.pinode)
            && col(&self.user, &r.user)
            && col(&self.client, &r.client)
            && col(&self.time, &r.time)
            && col(&self.user_agents, &r.user_agents)
            && self.active.is_none_or(|a| a == r.active)
            && self.priority.is_none_or(|p| p == r.priority)
    }
}

/// privacyIDEA's `get_policies` column filter on one column: with `*` a
/// case-insensitive SQL `LIKE` (`*` → `%`, nothing else special) on the raw
/// stored column, else exact equality.
pub fn column_matches(filter: &str, column: &str) -> bool {
    if !filter.contains('*') {
        return filter == column;
    }
    let pattern = filter
        .split('*')
        .map(glob::Pattern::escape)
        .collect::<Vec<_>>()
        .join("*");
    let opts = glob::MatchOptions {
        case_sensitive: false,
        require_literal_separator: false,
        require_literal_leading_dot: false,
    };
    glob::Pattern::new(&pattern).is_ok_and(|p| p.matches_with(column, opts))
}

#[derive(Queryable)]
struct PolicyRow {
    id: i32,
    active: Option<bool>,
    check_all_resolvers: Option<bool>,
    name: String,
    user_case_insensitive: Option<bool>,
    scope: String,
    action: Option<String>,
    realm: Option<String>,
    adminrealm: Option<String>,
    adminuser: Option<String>,
    resolver: Option<String>,
    pinode: Option<String>,
    user: Option<String>,
    client: Option<String>,
    time: Option<String>,
    user_agents: Option<String>,
    priority: i32,
}

impl PolicyRow {
    fn into_record(self) -> PolicyRecord {
        PolicyRecord {
            id: i64::from(self.id),
            name: self.name,
            scope: self.scope,
            active: self.active.unwrap_or(true),
            check_all_resolvers: self.check_all_resolvers.unwrap_or(false),
            user_case_insensitive: self.user_case_insensitive.unwrap_or(false),
            action: self.action.unwrap_or_default(),
            realm: self.realm.unwrap_or_default(),
            adminrealm: self.adminrealm.unwrap_or_default(),
            adminuser: self.adminuser.unwrap_or_default(),
            resolver: self.resolver.unwrap_or_default(),
            pinode: self.pinode.unwrap_or_default(),
            user: self.user.unwrap_or_default(),
            client: self.client.unwrap_or_default(),
            time: self.time.unwrap_or_default(),
            user_agents: self.user_agents.unwrap_or_default(),
            priority: i64::from(self.priority),
            conditions: Vec::new(),
            description: None,
        }
    }
}

/// Which policies [`load_policies`] reads.
#[derive(Clone, Copy)]
enum Selection<'a> {
    All,
    Name(&'a str),
}

type ConditionRow = (i32, String, String, String, String, bool, Option<String>);

/// Where policies without conditions go in privacyIDEA's load order.
///
/// privacyIDEA loads policies joined with their conditions `ORDER BY
/// policycondition.id` (release-differences.md §D), so the database's
/// placement of `NULL` decides: first on SQLite and MySQL, last on
/// PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    /// SQLite, MySQL/MariaDB: condition-less policies first.
    First,
    /// PostgreSQL: condition-less policies last.
    Last,
}

impl NullsOrder {
    pub(crate) fn of(c: &AnyConnection) -> NullsOrder {
        match c {
            AnyConnection::Postgres(_) => NullsOrder::Last,
            AnyConnection::Sqlite(_) | AnyConnection::Mysql(_) => NullsOrder::First,
        }
    }

    /// The sort key of a policy (its id and smallest condition id) in
    /// privacyIDEA's load order: policies without conditions in id order on
    /// one side, those with conditions by their smallest condition id on the
    /// other. (Upstream the condition-less policies come in table-scan
    /// order, which is id order on SQLite and unspecified on PostgreSQL.)
    pub fn key(self, id: i64, first_condition: Option<i64>) -> (bool, i64, i64) {
        match (self, first_condition) {
            (NullsOrder::First, None) => (false, id, 0),
            (NullsOrder::First, Some(c)) => (true, c, id),
            (NullsOrder::Last, Some(c)) => (false, c, id),
            (NullsOrder::Last, None) => (true, id, 0),
        }
    }
}

impl From<crate::Backend> for NullsOrder {
    fn from(b: crate::Backend) -> NullsOrder {
        match b {
            crate::Backend::Postgres => NullsOrder::Last,
            crate::Backend::Sqlite | crate::Backend::Mysql => NullsOrder::First,
        }
    }
}

/// Puts a policy that was just written into a list kept in privacyIDEA's
/// load order, where the database would now return it: a policy whose
/// conditions were not rewritten keeps its place; one whose conditions were
/// (re)written with at least one condition has the newest condition ids
/// (the end of the policies with conditions); one without conditions sits
/// among the condition-less policies by id.
pub fn place_written_policy<R: std::borrow::Borrow<PolicyRecord>>(
    policies: &mut Vec<R>,
    rec: R,
    conditions_written: bool,
    nulls: NullsOrder,
) {
    let old = policies
        .iter()
        .position(|p| p.borrow().id == rec.borrow().id);
    if let (Some(i), false) = (old, conditions_written) {
        policies[i] = rec;
        return;
    }
    if let Some(i) = old {
        policies.remove(i);
    }
    let with_conditions = |p: &R| !p.borrow().conditions.is_empty();
    // The run of condition-less policies, and of those with conditions.
    let (none_start, none_end) = match nulls {
        NullsOrder::First => (
            0,
            policies.iter().take_while(|p| !with_conditions(p)).count(),
        ),
        NullsOrder::Last => (
            policies.iter().take_while(|p| with_conditions(p)).count(),
            policies.len(),
        ),
    };
    let at = if with_conditions(&rec) {
        match nulls {
            NullsOrder::First => policies.len(),
            NullsOrder::Last => none_start,
        }
    } else {
        none_start
            + policies[none_start..none_end]
                .iter()
                .take_while(|p| p.borrow().id < rec.borrow().id)
                .count()
    };
    policies.insert(at, rec);
}

/// Loads policies (filtered or all) with their conditions and descriptions in
/// three queries, in privacyIDEA's load order ([`NullsOrder`]).
fn load_policies(
    c: &mut AnyConnection,
    selection: Selection<'_>,
) -> Result<Vec<PolicyRecord>, StoreError> {
    let mut query = policy::table.order(policy::id).into_boxed();
    if let Selection::Name(name) = selection {
        query = query.filter(policy::name.eq(name.to_owned()));
    }
    let rows: Vec<PolicyRow> = query.load(c)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // One policy: fetch only its rows; otherwise all rows (cheaper than a
    // long `IN` list, and policy sets are small).
    let single = match rows.as_slice() {
        [one] => Some(one.id),
        _ => None,
    };
    let mut cond_query = policycondition::table
        .order(policycondition::id)
        .into_boxed();
    let mut desc_query = description::table.order(description::id).into_boxed();
    if let Some(id) = single {
        cond_query = cond_query.filter(policycondition::policy_id.eq(id));
        desc_query = desc_query.filter(description::object_id.eq(id));
    }
    let conditions: Vec<(i32, ConditionRow)> = cond_query
        .select((
            policycondition::policy_id,
            (
                policycondition::id,
                policycondition::section,
                policycondition::key,
                policycondition::comparator,
                policycondition::value,
                policycondition::active,
                policycondition::handle_missing_data,
            ),
        ))
        .load(c)?;
    let descriptions: Vec<(i32, Option<String>)> = desc_query
        .select((description::object_id, description::text))
        .load(c)?;

    let mut conds: HashMap<i32, Vec<ConditionRecord>> = HashMap::new();
    let mut first_condition: HashMap<i32, i64> = HashMap::new();
    for (pid, (cid, section, key, comparator, value, active, handle_missing_data)) in conditions {
        first_condition.entry(pid).or_insert(i64::from(cid));
        conds.entry(pid).or_default().push(ConditionRecord {
            section,
            key,
            comparator,
            value,
            active,
            handle_missing_data,
        });
    }
    let mut descs: HashMap<i32, Option<String>> = HashMap::new();
    for (oid, d) in descriptions {
        // privacyIDEA reads the first description row of a policy.
        descs.entry(oid).or_insert(d);
    }
    let nulls = NullsOrder::of(c);
    let mut rows = rows;
    rows.sort_by_cached_key(|r| nulls.key(i64::from(r.id), first_condition.get(&r.id).copied()));
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id;
            let mut rec = row.into_record();
            rec.conditions = conds.remove(&id).unwrap_or_default();
            rec.description = descs.remove(&id).flatten();
            rec
        })
        .collect())
}

/// The policy with exactly this name, inside a transaction.
pub(crate) fn get_policy_in(
    c: &mut AnyConnection,
    name: &str,
) -> Result<Option<PolicyRecord>, StoreError> {
    Ok(load_policies(c, Selection::Name(name))?.pop())
}

pub(crate) fn list_policies_in(c: &mut AnyConnection) -> Result<Vec<PolicyRecord>, StoreError> {
    load_policies(c, Selection::All)
}

/// The id of the policy with this name (`name` is unique). No `LIMIT`: a
/// bound `LIMIT` makes SQLite prepare the statement again at every run.
fn policy_id_by_name(c: &mut AnyConnection, name: &str) -> QueryResult<Option<i32>> {
    let ids: Vec<i32> = policy::table
        .filter(policy::name.eq(name))
        .select(policy::id)
        .load(c)?;
    Ok(ids.first().copied())
}

/// Upserts one policy by name inside an open transaction.
fn save_policy_in(
    c: &mut AnyConnection,
    rec: &PolicyRecord,
    conditions: Option<&[ConditionRecord]>,
) -> Result<i32, StoreError> {
    let priority = to_i32(rec.priority, "priority")?;
    let values = (
        (
            policy::active.eq(Some(rec.active)),
            policy::check_all_resolvers.eq(Some(rec.check_all_resolvers)),
            policy::user_case_insensitive.eq(Some(rec.user_case_insensitive)),
            policy::scope.eq(&rec.scope),
            policy::action.eq(Some(&rec.action)),
            policy::realm.eq(Some(&rec.realm)),
            policy::adminrealm.eq(Some(&rec.adminrealm)),
            policy::adminuser.eq(Some(&rec.adminuser)),
        ),
        (
            policy::resolver.eq(Some(&rec.resolver)),
            policy::pinode.eq(Some(&rec.pinode)),
            policy::user.eq(Some(&rec.user)),
            policy::client.eq(Some(&rec.client)),
            policy::time.eq(Some(&rec.time)),
            policy::user_agents.eq(Some(&rec.user_agents)),
            policy::priority.eq(priority),
        ),
    );
    let pid = match policy_id_by_name(c, &rec.name)? {
        Some(id) => {
            diesel::update(policy::table.find(id))
                .set(values)
                .execute(c)?;
            id
        }
        None => {
            diesel::insert_into(policy::table)
                .values((
                    policy::id.eq(new_id(c, "policy_seq")),
                    policy::name.eq(&rec.name),
                    values,
                ))
                .execute(c)?;
            inserted_id(c, "policy_seq")?
        }
    };
    if let Some(conditions) = conditions {
        diesel::delete(policycondition::table.filter(policycondition::policy_id.eq(pid)))
            .execute(c)?;
        for cond in conditions {
            diesel::insert_into(policycondition::table)
                .values((
                    policycondition::id.eq(new_id(c, "policycondition_seq")),
                    policycondition::policy_id.eq(pid),
                    policycondition::section.eq(&cond.section),
                    policycondition::key.eq(&cond.key),
                    policycondition::comparator.eq(&cond.comparator),
                    policycondition::value.eq(&cond.value),
                    policycondition::active.eq(cond.active),
                    policycondition::handle_missing_data.eq(cond.handle_missing_data.as_deref()),
                ))
                .execute(c)?;
        }
    }
    // Exactly one description row per policy, always written.
    let now = now_naive();
    // (all of its rows, normally one: no bound `LIMIT`, see above)
    let desc_id: Option<i32> = description::table
        .filter(description::object_id.eq(pid))
        .filter(description::object_type.eq("policy"))
        .order(description::id)
        .select(description::id)
        .load::<i32>(c)?
        .first()
        .copied();
    match desc_id {
        Some(id) => {
            diesel::update(description::table.find(id))
                .set((
                    description::text.eq(rec.description.as_deref()),
                    description::last_update.eq(Some(now)),
                ))
                .execute(c)?;
        }
        None => {
            diesel::insert_into(description::table)
                .values((
                    description::id.eq(new_id(c, "description_seq")),
                    description::object_id.eq(pid),
                    description::object_type.eq("policy"),
                    description::last_update.eq(Some(now)),
                    description::text.eq(rec.description.as_deref()),
                ))
                .execute(c)?;
        }
    }
    Ok(pid)
}

impl Store {
    /// All policies in id order, each with its conditions (id order) and
    /// description. Three queries in one read transaction.
    pub fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        self.read(list_policies_in)
    }

    /// The policy with exactly this name (no wildcard interpretation).
    pub fn get_policy(&self, name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        self.read(|c| get_policy_in(c, name))
    }

    /// privacyIDEA's `get_policies(name, realm, scope, active, …)` DB query
    /// (`GET /policy/`): see [`PolicyFilter`]. Result in id order.
    pub fn get_policies_filtered(
        &self,
        filter: &PolicyFilter,
    ) -> Result<Vec<PolicyRecord>, StoreError> {
        let mut all = self.read(|c| load_policies(c, Selection::All))?;
        let filter = PolicyFilter {
            exact_ignores_case: filter.exact_ignores_case
                || self.backend().text_equality_ignores_case(),
            ..filter.clone()
        };
        all.retain(|r| filter.matches(r));
        Ok(all)
    }

    /// Creates or updates the policy named `rec.name` (its `id` is ignored)
    /// and returns its id. All policy columns are overwritten with `rec`'s
    /// values (the caller merges privacyIDEA's "keep if not given" rules).
    /// `conditions`: `None` keeps the stored rows, `Some` replaces them all
    /// (`rec.conditions` is not looked at). The description row is always
    /// written (`rec.description`, `last_update` = now).
    pub fn save_policy(
        &self,
        rec: &PolicyRecord,
        conditions: Option<&[ConditionRecord]>,
    ) -> Result<i64, StoreError> {
        let (rec, conditions) = (rec.clone(), conditions.map(<[_]>::to_vec));
        self.config_write(move |c| {
            let id = save_policy_in(c, &rec, conditions.as_deref())?;
            Ok((i64::from(id), true))
        })
    }

    /// [`Store::save_policy`] that also returns the configuration version
    /// before and after the write (read in the same transaction).
    pub fn save_policy_versioned(
        &self,
        rec: &PolicyRecord,
        conditions: Option<&[ConditionRecord]>,
    ) -> Result<(i64, VersionStep), StoreError> {
        self.save_policy_versioned_then(rec, conditions, |_, _| {})
    }

    /// [`Store::save_policy_versioned`] that also calls `on_commit` with the
    /// policy's id and its version step right after the commit, on the thread
    /// that committed, before this call (or any other write of the same
    /// commit) returns: writes committed together are announced together, in
    /// order, so a cache keyed by the configuration version can follow the
    /// commit without waiting for each writer to come back. `on_commit` is
    /// not called when the write fails or its commit does.
    pub fn save_policy_versioned_then(
        &self,
        rec: &PolicyRecord,
        conditions: Option<&[ConditionRecord]>,
        on_commit: impl FnOnce(i64, &VersionStep) + Send + 'static,
    ) -> Result<(i64, VersionStep), StoreError> {
        let (rec, conditions) = (rec.clone(), conditions.map(<[_]>::to_vec));
        self.config_write_versioned(
            move |c| Ok(i64::from(save_policy_in(c, &rec, conditions.as_deref())?)),
            Box::new(move |id: &i64, step: &VersionStep| on_commit(*id, step)),
        )
    }

    /// Sets only `active`; returns the id, `None` if there is no such policy.
    pub fn set_policy_active(&self, name: &str, active: bool) -> Result<Option<i64>, StoreError> {
        let name = name.to_owned();
        self.config_write(move |c| {
            let name = name.as_str();
            let Some(id) = policy_id_by_name(c, name)? else {
                return Ok((None, false));
            };
            diesel::update(policy::table.find(id))
                .set(policy::active.eq(Some(active)))
                .execute(c)?;
            Ok((Some(i64::from(id)), true))
        })
    }

    /// Renames a policy; returns its id.
    pub fn rename_policy(&self, old: &str, new: &str) -> Result<i64, RenameError> {
        let (old, new) = (old.to_owned(), new.to_owned());
        self.config_write(move |c| {
            let (old, new) = (old.as_str(), new.as_str());
            let Some(id) = policy_id_by_name(c, old)? else {
                return Err(RenameError::NotFound(old.to_owned()));
            };
            if policy_id_by_name(c, new)?.is_some() {
                return Err(RenameError::Exists(new.to_owned()));
            }
            diesel::update(policy::table.find(id))
                .set(policy::name.eq(new))
                .execute(c)?;
            Ok((i64::from(id), true))
        })
    }

    /// Deletes a policy with its conditions and description rows; returns
    /// its id, `None` if there is no such policy.
    pub fn delete_policy(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let name = name.to_owned();
        self.config_write(move |c| {
            let name = name.as_str();
            let Some(id) = policy_id_by_name(c, name)? else {
                return Ok((None, false));
            };
            diesel::delete(policycondition::table.filter(policycondition::policy_id.eq(id)))
                .execute(c)?;
            diesel::delete(description::table.filter(description::object_id.eq(id))).execute(c)?;
            diesel::delete(policy::table.find(id)).execute(c)?;
            Ok((Some(i64::from(id)), true))
        })
    }

    /// Saves many policies in ONE transaction (all or nothing), each as
    /// [`Store::save_policy`] would; returns their ids in input order.
    pub fn import_policies(
        &self,
        items: &[(PolicyRecord, Option<Vec<ConditionRecord>>)],
    ) -> Result<Vec<i64>, StoreError> {
        let items = items.to_vec();
        self.config_write(move |c| {
            let mut ids = Vec::with_capacity(items.len());
            for (rec, conditions) in &items {
                ids.push(i64::from(save_policy_in(c, rec, conditions.as_deref())?));
            }
            let changed = !ids.is_empty();
            Ok((ids, changed))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::column_matches;

    #[test]
    fn column_filter_semantics() {
        assert!(column_matches("realm1", "realm1"));
        assert!(!column_matches("realm1", "realm1, realm2"));
        assert!(!column_matches("realm1", "REALM1"));
        assert!(column_matches("pol*", "pol_a"));
        assert!(column_matches("POL*", "polc"));
        assert!(!column_matches("pol*", "xpol"));
        assert!(column_matches("*us*", "user"));
        assert!(column_matches("a?b*", "a?bc"));
        assert!(!column_matches("a?b*", "axbc"));
        assert!(column_matches("[x]*", "[x]y"));
        assert!(column_matches("*", ""));
    }
}
