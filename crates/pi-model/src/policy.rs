//! The policy: lenient loading from a stored record, its JSON representation
//! (spec/policy.md §1.2), and validation of create/update requests (§1.5 order of checks).

use crate::action::{validate_actions, ActionInput, ActionMap};
use crate::client::ClientList;
use crate::condition::{record_to_json, Condition};
use crate::defs::Name;
use crate::error::{ConditionError, ValidationError};
use crate::inline::ShortName;
use crate::lists::{list_storage, split_list, user_agents_storage, validate_values};
use crate::names::check_policy_name;
use crate::pattern::entry_compiles;
use crate::pyliteral::PyValue;
use crate::pyrepr::{is_true, parse_int, repr_str_list, str_value, type_repr};
use crate::record::{ConditionRecord, PolicyRecord};
use crate::scope::Scope;
use crate::timerange::{TimeRange, TimeRangeError};
use serde::Serialize;
use serde_json::{Map, Value};

/// A stored condition row with the outcome of reading it leniently.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCondition {
    /// The row as stored.
    pub record: ConditionRecord,
    /// `Ok(None)` for an inactive row (never evaluated), `Ok(Some)` for a
    /// valid active row, `Err` for an invalid active row (privacyIDEA raises a
    /// PolicyError whenever conditions of this policy are evaluated).
    pub parsed: Result<Option<Condition>, ConditionError>,
}

/// A policy as read from the database.
///
/// Built with [`Policy::from_record`], which never fails: a database written
/// by privacyIDEA may contain anything its columns allow. Problems are kept
/// and decided by the engine:
///
/// * an invalid `time` makes the policy never match (as privacyIDEA, which
///   logs the error and skips the policy);
/// * an invalid regular-expression entry (e.g. `*admin`) still matches the
///   identical value (privacyIDEA compares for equality before it tries the
///   regular expression) but nothing else, and is reported by the engine's
///   explanation. **Deviation**: privacyIDEA raises `re.error` at match time
///   (HTTP 500 for every request reaching the policy);
/// * an unparsable client entry matches nothing (privacyIDEA: HTTP 500);
/// * an invalid *active* condition makes condition evaluation fail with
///   privacyIDEA's `Invalid condition of policy …` PolicyError.
///
/// Memory: a set of 100,000 policies keeps one `Policy` each, so the type
/// holds its record's columns once (the list columns only as parsed lists
/// unless the stored string is not their `", "` join, shared between the
/// policies read through one [`ListInterner`]) and boxes what few policies
/// have.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    record: Columns,
    action: ActionMap,
    realm: List,
    adminuser: List,
    user: List,
    /// What most policies do not have, boxed (`None`: all empty).
    rare: Option<Box<Rare>>,
}

/// The columns few policies use.
#[derive(Debug, Clone, PartialEq, Default)]
struct Rare {
    adminrealm: List,
    resolver: List,
    pinode: List,
    client: List,
    user_agents: List,
    client_list: ClientList,
    /// The time column and its parse (`None`: empty column).
    time: Option<Box<TimeColumn>>,
    conditions: Box<[StoredCondition]>,
    description: Option<Box<str>>,
    /// Columns kept as stored because their parse does not render them
    /// back (`None` for nearly every policy).
    raw: Option<Box<Raw>>,
}

/// The time column as stored and its parse.
type TimeColumn = (Box<str>, Result<TimeRange, TimeRangeError>);

/// Columns as stored, for [`Policy::to_record`] to return exactly what was
/// read.
#[derive(Debug, Clone, PartialEq, Default)]
struct Raw {
    /// The eight list columns, only when one of them is not the `", "`
    /// join of its parsed list (e.g. `a,b` or ` a`).
    lists: Option<[String; 8]>,
    /// The action column, only when it is not what
    /// [`ActionMap::to_action_string`] renders from the parsed map.
    action: Option<Box<str>>,
}

/// The scalar columns of the record a [`Policy`] was read from.
#[derive(Debug, Clone, PartialEq)]
struct Columns {
    id: i64,
    priority: i64,
    /// Inline when short (no allocation for most names).
    name: ShortName,
    scope: Name,
    active: bool,
    check_all_resolvers: bool,
    user_case_insensitive: bool,
}

/// A parsed list column: shared between policies read through the same
/// [`ListInterner`] (a tenant's policies repeat the same realm and admin
/// lists), immutable. A thin pointer (8 bytes per list column of every
/// policy instead of 16) to the boxed items.
type List = std::sync::Arc<Box<[String]>>;

/// Parsed list columns by their stored text, so that equal columns of the
/// policies of one set are kept once ([`Policy::from_record_shared`]).
/// Owned by the caller (the policy engine keeps one per regular-expression
/// cache); parsing is a pure function of the text, so sharing cannot change
/// a policy.
#[derive(Debug, Default, Clone)]
pub struct ListInterner {
    lists: std::collections::HashMap<
        Box<str>,
        List,
        std::hash::BuildHasherDefault<crate::hash::Folded>,
    >,
}

static EMPTY_LIST: std::sync::LazyLock<List> =
    std::sync::LazyLock::new(|| List::new(Box::default()));

impl ListInterner {
    /// An empty interner.
    pub fn new() -> ListInterner {
        ListInterner::default()
    }

    /// Number of distinct list columns kept.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// `true` when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Drop everything.
    pub fn clear(&mut self) {
        self.lists = Default::default();
    }

    fn parse(raw: &str) -> List {
        if raw.is_empty() {
            EMPTY_LIST.clone()
        } else {
            List::new(split_list(raw).into_boxed_slice())
        }
    }

    fn list(&mut self, raw: &str) -> List {
        if raw.is_empty() {
            return EMPTY_LIST.clone();
        }
        if let Some(l) = self.lists.get(raw) {
            return l.clone();
        }
        let l = ListInterner::parse(raw);
        self.lists.insert(raw.into(), l.clone());
        l
    }
}

static NO_RARE: std::sync::LazyLock<Rare> = std::sync::LazyLock::new(Rare::default);

/// Whether `raw` is `items.join(", ")` (without building the string).
fn is_join(raw: &str, items: &[String]) -> bool {
    let mut rest = raw;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix(", ") {
                Some(r) => rest = r,
                None => return false,
            }
        }
        match rest.strip_prefix(item.as_str()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

impl Policy {
    /// Lenient conversion of a stored record (see the type documentation).
    pub fn from_record(rec: &PolicyRecord) -> Policy {
        Policy::from_record_impl(rec, None)
    }

    /// [`Policy::from_record`] sharing its parsed list columns with the
    /// other policies read through `lists` (equal columns, one copy).
    pub fn from_record_shared(rec: &PolicyRecord, lists: &mut ListInterner) -> Policy {
        Policy::from_record_impl(rec, Some(lists))
    }

    fn from_record_impl(rec: &PolicyRecord, mut interner: Option<&mut ListInterner>) -> Policy {
        let raw = [
            &rec.realm,
            &rec.adminrealm,
            &rec.adminuser,
            &rec.resolver,
            &rec.pinode,
            &rec.user,
            &rec.client,
            &rec.user_agents,
        ];
        let lists = raw.map(|r| match interner.as_deref_mut() {
            Some(i) => i.list(r),
            None => ListInterner::parse(r),
        });
        let client_list = ClientList::from_items(&lists[6]);
        for bad in client_list.invalid_entries() {
            log::warn!("policy `{}`: client entry `{bad}` does not parse", rec.name);
        }
        let time = if rec.time.is_empty() {
            None
        } else {
            let r = TimeRange::parse(&rec.time);
            if let Err(e) = &r {
                log::warn!("policy `{}`: {e}; the policy never matches", rec.name);
            }
            Some(Box::new((rec.time.as_str().into(), r)))
        };
        let conditions = rec
            .conditions
            .iter()
            .map(|c| StoredCondition {
                record: c.clone(),
                parsed: Condition::from_record(c),
            })
            .collect();
        let raw_lists = raw
            .iter()
            .zip(&lists)
            .any(|(r, l)| !is_join(r, l))
            .then(|| raw.map(String::clone));
        let [realm, adminrealm, adminuser, resolver, pinode, user, client, user_agents] = lists;
        let action = ActionMap::parse(&rec.action);
        let action_raw = (!action.renders_as(&rec.action)).then(|| rec.action.as_str().into());
        let rare = Rare {
            adminrealm,
            resolver,
            pinode,
            client,
            user_agents,
            client_list,
            time,
            conditions,
            description: rec.description.as_deref().map(Into::into),
            raw: (raw_lists.is_some() || action_raw.is_some()).then(|| {
                Box::new(Raw {
                    lists: raw_lists,
                    action: action_raw,
                })
            }),
        };
        Policy {
            action,
            realm,
            adminuser,
            user,
            rare: (rare != *NO_RARE).then(|| Box::new(rare)),
            record: Columns {
                id: rec.id,
                priority: rec.priority,
                name: rec.name.as_str().into(),
                scope: Name::new(&rec.scope),
                active: rec.active,
                check_all_resolvers: rec.check_all_resolvers,
                user_case_insensitive: rec.user_case_insensitive,
            },
        }
    }

    /// Parse a spec/policy.md §1.2 policy dict (as `GET /policy/` returns it) into a record
    /// and then a policy; used by tools and examples. Missing keys take the
    /// column defaults.
    pub fn from_json(v: &Value) -> Result<Policy, ValidationError> {
        let obj = v
            .as_object()
            .ok_or_else(|| ValidationError::InvalidFieldType {
                field: "policy".into(),
                type_repr: type_repr(v).into(),
            })?;
        let s = |k: &str| -> String { obj.get(k).map(str_value).unwrap_or_default() };
        let list = |k: &str| -> Result<String, ValidationError> {
            match obj.get(k) {
                None => Ok(String::new()),
                Some(v) => Ok(list_storage(k, v)?.unwrap_or_default()),
            }
        };
        let b = |k: &str, d: bool| obj.get(k).and_then(Value::as_bool).unwrap_or(d);
        let action = match obj.get("action") {
            None | Some(Value::Null) => String::new(),
            Some(a) => ActionInput::from_json(a)?.to_action_string(),
        };
        let mut conditions = Vec::new();
        if let Some(Value::Array(cs)) = obj.get("conditions") {
            for c in cs {
                let a = c.as_array().cloned().unwrap_or_default();
                let g = |i: usize| a.get(i).map(str_value).unwrap_or_default();
                conditions.push(ConditionRecord {
                    section: g(0),
                    key: g(1),
                    comparator: g(2),
                    value: g(3),
                    active: a.get(4).and_then(Value::as_bool).unwrap_or(true),
                    handle_missing_data: a.get(5).and_then(Value::as_str).map(str::to_string),
                });
            }
        }
        let rec = PolicyRecord {
            id: obj.get("id").and_then(Value::as_i64).unwrap_or(0),
            name: s("name"),
            scope: s("scope"),
            active: b("active", true),
            check_all_resolvers: b("check_all_resolvers", false),
            user_case_insensitive: b("user_case_insensitive", false),
            action,
            realm: list("realm")?,
            adminrealm: list("adminrealm")?,
            adminuser: list("adminuser")?,
            resolver: list("resolver")?,
            pinode: list("pinode")?,
            user: list("user")?,
            client: list("client")?,
            time: s("time"),
            user_agents: list("user_agents")?,
            priority: obj.get("priority").and_then(Value::as_i64).unwrap_or(1),
            conditions,
            description: obj
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        Ok(Policy::from_record(&rec))
    }

    /// The record to store (exactly the record it was read from).
    pub fn to_record(&self) -> PolicyRecord {
        let r = &self.record;
        let raw = self.rare().raw.as_deref();
        let lists = match raw.and_then(|r| r.lists.as_ref()) {
            Some(raw) => raw.clone(),
            None => [
                self.realm(),
                self.adminrealm(),
                self.adminuser(),
                self.resolver(),
                self.pinode(),
                self.user(),
                self.client(),
                self.user_agents(),
            ]
            .map(|l| l.join(", ")),
        };
        let [realm, adminrealm, adminuser, resolver, pinode, user, client, user_agents] = lists;
        PolicyRecord {
            id: r.id,
            name: r.name.to_string(),
            scope: r.scope.as_str().to_string(),
            active: r.active,
            check_all_resolvers: r.check_all_resolvers,
            user_case_insensitive: r.user_case_insensitive,
            action: match raw.and_then(|r| r.action.as_ref()) {
                Some(raw) => raw.to_string(),
                None => self.action.to_action_string(),
            },
            realm,
            adminrealm,
            adminuser,
            resolver,
            pinode,
            user,
            client,
            time: self.time().to_string(),
            user_agents,
            priority: r.priority,
            conditions: self.conditions().iter().map(|c| c.record.clone()).collect(),
            description: self.description().map(str::to_string),
        }
    }

    /// The spec/policy.md §1.2 dict with alphabetically sorted keys (also inside `action`),
    /// conditions as 6-element arrays, description `null` or a string.
    pub fn to_json(&self) -> Value {
        let list = |l: &[String]| Value::Array(l.iter().cloned().map(Value::String).collect());
        let mut m = Map::new();
        m.insert("action".into(), self.action.to_json_sorted());
        m.insert("active".into(), Value::Bool(self.record.active));
        m.insert("adminrealm".into(), list(self.adminrealm()));
        m.insert("adminuser".into(), list(&self.adminuser));
        m.insert(
            "check_all_resolvers".into(),
            Value::Bool(self.record.check_all_resolvers),
        );
        m.insert("client".into(), list(self.client()));
        m.insert(
            "conditions".into(),
            Value::Array(
                self.conditions()
                    .iter()
                    .map(|c| record_to_json(&c.record))
                    .collect(),
            ),
        );
        m.insert(
            "description".into(),
            self.description()
                .map(|d| Value::String(d.into()))
                .unwrap_or(Value::Null),
        );
        m.insert("name".into(), Value::String(self.record.name.to_string()));
        m.insert("pinode".into(), list(self.pinode()));
        m.insert("priority".into(), Value::from(self.record.priority));
        m.insert("realm".into(), list(&self.realm));
        m.insert("resolver".into(), list(self.resolver()));
        m.insert(
            "scope".into(),
            Value::String(self.record.scope.as_str().to_string()),
        );
        m.insert("time".into(), Value::String(self.time().to_string()));
        m.insert("user".into(), list(&self.user));
        m.insert("user_agents".into(), list(self.user_agents()));
        m.insert(
            "user_case_insensitive".into(),
            Value::Bool(self.record.user_case_insensitive),
        );
        Value::Object(m)
    }

    /// The section of `GET /policy/export/…` for this policy
    /// (spec/policy.md §3.4): keys in privacyIDEA's dict order with Python
    /// `str()` values, each quoted where ConfigObj would split or misread it
    /// (so it reads back unchanged, [`crate::policyfile`]), then a blank line.
    pub fn export_section(&self) -> String {
        crate::policyfile::section(self, self.export_items())
    }

    /// The `key = value` pairs of [`Policy::export_section`] (privacyIDEA's
    /// dict order, Python `str()` of each value, not quoted for ConfigObj);
    /// `description` is `None` for a missing description.
    pub fn export_items(&self) -> Vec<(&'static str, String)> {
        let pl = |l: &[String]| repr_str_list(l);
        let pb = |b: bool| PyValue::Bool(b).py_repr();
        let conds = PyValue::List(
            self.conditions()
                .iter()
                .map(|c| &c.record)
                .map(|c| {
                    PyValue::Tuple(vec![
                        c.section.as_str().into(),
                        c.key.as_str().into(),
                        c.comparator.as_str().into(),
                        c.value.as_str().into(),
                        PyValue::Bool(c.active),
                        c.handle_missing_data
                            .as_deref()
                            .map_or(PyValue::None, PyValue::from),
                    ])
                })
                .collect(),
        );
        let action = PyValue::Dict(
            self.action
                .iter()
                .map(|(k, v)| {
                    let v = v.as_text().map_or(PyValue::Bool(true), PyValue::from);
                    (PyValue::from(k), v)
                })
                .collect(),
        );
        let r = &self.record;
        vec![
            ("name", r.name.to_string()),
            ("user_case_insensitive", pb(r.user_case_insensitive)),
            ("active", pb(r.active)),
            ("scope", r.scope.as_str().to_string()),
            ("realm", pl(&self.realm)),
            ("adminrealm", pl(self.adminrealm())),
            ("adminuser", pl(&self.adminuser)),
            ("resolver", pl(self.resolver())),
            ("pinode", pl(self.pinode())),
            ("check_all_resolvers", pb(r.check_all_resolvers)),
            ("user", pl(&self.user)),
            ("client", pl(self.client())),
            ("time", self.time().to_string()),
            ("conditions", conds.py_repr()),
            ("priority", r.priority.to_string()),
            (
                "description",
                self.description()
                    .map_or_else(|| "None".into(), str::to_string),
            ),
            ("user_agents", pl(self.user_agents())),
            ("action", action.py_repr()),
        ]
    }

    /// `policy.id`.
    pub fn id(&self) -> i64 {
        self.record.id
    }
    /// Name.
    pub fn name(&self) -> &str {
        &self.record.name
    }
    /// Scope as stored (may be unknown for foreign databases).
    pub fn scope(&self) -> &str {
        self.record.scope.as_str()
    }
    /// Active flag.
    pub fn active(&self) -> bool {
        self.record.active
    }
    /// `check_all_resolvers`.
    pub fn check_all_resolvers(&self) -> bool {
        self.record.check_all_resolvers
    }
    /// `user_case_insensitive`.
    pub fn user_case_insensitive(&self) -> bool {
        self.record.user_case_insensitive
    }
    /// Priority (smaller = higher precedence).
    pub fn priority(&self) -> i64 {
        self.record.priority
    }
    /// Parsed actions (dict order).
    pub fn action(&self) -> &ActionMap {
        &self.action
    }
    /// Realm list.
    pub fn realm(&self) -> &[String] {
        &self.realm
    }
    /// Admin realm list.
    pub fn adminrealm(&self) -> &[String] {
        &self.rare().adminrealm
    }
    /// Admin user list.
    pub fn adminuser(&self) -> &[String] {
        &self.adminuser
    }
    /// Resolver list.
    pub fn resolver(&self) -> &[String] {
        &self.rare().resolver
    }
    /// Node list.
    pub fn pinode(&self) -> &[String] {
        &self.rare().pinode
    }
    /// User list.
    pub fn user(&self) -> &[String] {
        &self.user
    }
    /// Client list as strings.
    pub fn client(&self) -> &[String] {
        &self.rare().client
    }
    /// Parsed client list.
    pub fn client_list(&self) -> &ClientList {
        &self.rare().client_list
    }
    /// User-agent list.
    pub fn user_agents(&self) -> &[String] {
        &self.rare().user_agents
    }
    /// Raw time string.
    pub fn time(&self) -> &str {
        self.rare().time.as_deref().map_or("", |t| &t.0)
    }
    /// `None` if unrestricted, else the parse outcome.
    pub fn time_range(&self) -> Option<&Result<TimeRange, TimeRangeError>> {
        self.rare().time.as_deref().map(|t| &t.1)
    }
    /// Conditions with their lenient parse.
    pub fn conditions(&self) -> &[StoredCondition] {
        &self.rare().conditions
    }
    /// Description.
    pub fn description(&self) -> Option<&str> {
        self.rare().description.as_deref()
    }

    fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }
}

impl Serialize for Policy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// What a create/update is validated against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationContext {
    /// Configured realm names.
    pub realms: Vec<String>,
    /// Configured resolver names.
    pub resolvers: Vec<String>,
    /// Known node names.
    pub nodes: Vec<String>,
    /// `SUPERUSER_REALM` from the configuration (admin realms).
    pub superuser_realms: Vec<String>,
}

/// The parameters of `POST /policy/<name>` as JSON values (already merged
/// from query, form and JSON body). `None` = parameter absent;
/// `Some(Value::Null)` = given as JSON `null` (privacyIDEA treats the two
/// differently for `active`).
#[derive(Debug, Clone, Default, PartialEq)]
#[allow(missing_docs)]
pub struct PolicyWrite {
    /// The policy name (URL path).
    pub name: String,
    pub scope: Option<Value>,
    pub action: Option<Value>,
    pub realm: Option<Value>,
    pub resolver: Option<Value>,
    pub pinode: Option<Value>,
    pub user: Option<Value>,
    pub time: Option<Value>,
    pub client: Option<Value>,
    pub active: Option<Value>,
    pub check_all_resolvers: Option<Value>,
    pub adminrealm: Option<Value>,
    pub adminuser: Option<Value>,
    pub priority: Option<Value>,
    pub conditions: Option<Value>,
    pub description: Option<Value>,
    pub user_agents: Option<Value>,
    pub user_case_insensitive: Option<Value>,
}

fn not_null(v: &Option<Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    }
}

/// Python `int(x)` for a request value.
fn py_int(v: &Value) -> Result<i64, ValidationError> {
    let bad = || ValidationError::PriorityNotInteger(str_value(v));
    match v {
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            })
            .ok_or_else(bad),
        Value::String(s) => parse_int(s).ok_or_else(bad),
        _ => Err(bad()),
    }
}

impl PolicyWrite {
    /// Build from a merged parameter object (`eduMFA` spelling `edumfanode`
    /// is accepted for `pinode`).
    pub fn from_params(name: &str, params: &Map<String, Value>) -> PolicyWrite {
        let g = |k: &str| params.get(k).cloned();
        PolicyWrite {
            name: name.to_string(),
            scope: g("scope"),
            action: g("action"),
            realm: g("realm"),
            resolver: g("resolver"),
            pinode: g("pinode").or_else(|| g("edumfanode")),
            user: g("user"),
            time: g("time"),
            client: g("client"),
            active: g("active"),
            check_all_resolvers: g("check_all_resolvers"),
            adminrealm: g("adminrealm"),
            adminuser: g("adminuser"),
            priority: g("priority"),
            conditions: g("conditions"),
            description: g("description"),
            user_agents: g("user_agents"),
            user_case_insensitive: g("user_case_insensitive"),
        }
    }

    /// The checks privacyIDEA's `POST /policy/<name>` view makes itself
    /// before it writes the audit entry's `action_detail` and `info`: name
    /// rules 1–2, `scope` and `action` required, priority an integer, admin
    /// realms (the first steps of [`Self::validate`]).
    pub fn check_request(&self, ctx: &ValidationContext) -> Result<(), ValidationError> {
        self.view_checks(ctx).map(|_| ())
    }

    /// [`Self::check_request`], with the scope, action and priority read.
    fn view_checks(
        &self,
        ctx: &ValidationContext,
    ) -> Result<(String, Option<&Value>, i64), ValidationError> {
        check_policy_name(&self.name)?;
        let scope = match not_null(&self.scope) {
            None => return Err(ValidationError::MissingParameter("scope".into())),
            Some(Value::String(s)) if s.is_empty() => {
                return Err(ValidationError::MissingParameter("scope".into()))
            }
            Some(v) => str_value(v),
        };
        let action = match not_null(&self.action) {
            Some(Value::String(s)) if s.is_empty() && scope != "user" => {
                return Err(ValidationError::MissingParameter("action".into()))
            }
            None if scope != "user" => {
                return Err(ValidationError::MissingParameter("action".into()))
            }
            other => other,
        };
        let priority = match &self.priority {
            None => 1,
            Some(v) => py_int(v)?,
        };
        validate_values(
            self.adminrealm.as_ref(),
            &ctx.superuser_realms,
            "Admin Realms",
        )?;
        Ok((scope, action, priority))
    }

    /// Validate a create/update in privacyIDEA's order (spec/policy.md §1.5) and return the
    /// record to store. `existing` is the stored policy of the same name (an
    /// update keeps its fields that were not given; `active`, flags, priority
    /// and description are always overwritten, quirk Q8).
    ///
    /// Order: name rules 1–2 → `scope` required → `action` required unless
    /// scope is `user` → priority is an integer → admin realms (the view's
    /// checks, [`Self::check_request`]) → priority within the database's
    /// integer range (a database error there) → whitespace in name → scope known → priority ≥ 1 → realms → resolvers → nodes → time →
    /// client → conditions → actions → (our addition) every list entry that
    /// privacyIDEA matches as a regular expression must compile.
    pub fn validate(
        &self,
        ctx: &ValidationContext,
        existing: Option<&PolicyRecord>,
    ) -> Result<PolicyRecord, ValidationError> {
        let name = self.name.as_str();
        let (scope, action, priority) = self.view_checks(ctx)?;
        if priority > crate::pyrepr::DB_INT_MAX {
            let v = self.priority.as_ref().map(str_value).unwrap_or_default();
            return Err(ValidationError::PriorityOutOfRange(v));
        }
        // set_policy
        if name.contains(' ') {
            return Err(ValidationError::NameWhitespace);
        }
        Scope::parse(&scope, name)?;
        if priority <= 0 {
            return Err(ValidationError::PriorityTooSmall);
        }
        validate_values(self.realm.as_ref(), &ctx.realms, "User-Realms")?;
        validate_values(self.resolver.as_ref(), &ctx.resolvers, "Resolvers")?;
        validate_values(self.pinode.as_ref(), &ctx.nodes, "privacyIDEA Nodes")?;
        let time = match not_null(&self.time) {
            None => None,
            Some(Value::String(t)) => {
                if !t.is_empty() {
                    TimeRange::parse(t).map_err(|_| ValidationError::InvalidTime(t.clone()))?;
                }
                Some(t.clone())
            }
            Some(other) => {
                return Err(ValidationError::InvalidFieldType {
                    field: "time".into(),
                    type_repr: type_repr(other).into(),
                })
            }
        };
        let store = |field: &str, v: &Option<Value>| -> Result<Option<String>, ValidationError> {
            match v {
                None => Ok(None),
                Some(v) => list_storage(field, v),
            }
        };
        let realm = store("realm", &self.realm)?;
        let adminrealm = store("adminrealm", &self.adminrealm)?;
        let user = store("user", &self.user)?;
        let adminuser = store("adminuser", &self.adminuser)?;
        let resolver = store("resolver", &self.resolver)?;
        let client = store("client", &self.client)?;
        if let Some(c) = &client {
            ClientList::parse(c)?;
        }
        let pinode = store("pinode", &self.pinode)?;
        let user_agents = match &self.user_agents {
            None => None,
            Some(v) => user_agents_storage(v)?,
        };
        let conditions = match not_null(&self.conditions) {
            None => None,
            Some(v) => {
                let items: Vec<Value> = match v {
                    Value::Array(a) => a.clone(),
                    Value::String(s) => s.chars().map(|c| Value::String(c.to_string())).collect(),
                    Value::Object(o) => o.keys().map(|k| Value::String(k.clone())).collect(),
                    other => {
                        return Err(ValidationError::InvalidFieldType {
                            field: "conditions".into(),
                            type_repr: type_repr(other).into(),
                        })
                    }
                };
                let mut out = Vec::with_capacity(items.len());
                for it in &items {
                    out.push(Condition::from_json(name, it)?.to_record());
                }
                Some(out)
            }
        };
        let action_string = match action {
            None => None,
            Some(a) => {
                let input = ActionInput::from_json(a)?;
                validate_actions(&scope, &input, &ctx.realms)?;
                Some(input.to_action_string())
            }
        };
        // Our addition: entries privacyIDEA uses as regular expressions must compile.
        let check = |field: &str, raw: &Option<String>| -> Result<(), ValidationError> {
            if let Some(raw) = raw {
                for e in split_list(raw) {
                    // Negated entries (`!x`, `-x`) only exclude by equality.
                    let negated = e.starts_with(['!', '-']);
                    if e != "*" && !negated && !entry_compiles(&e) {
                        return Err(ValidationError::InvalidRegex {
                            field: field.into(),
                            entry: e,
                        });
                    }
                }
            }
            Ok(())
        };
        check("realm", &realm)?;
        check("adminrealm", &adminrealm)?;
        check("user", &user)?;
        check("adminuser", &adminuser)?;
        check("resolver", &resolver)?;
        if let Some(a) = &action_string {
            for k in ActionMap::parse(a).keys() {
                if k != "*" && !k.starts_with(['!', '-']) && !entry_compiles(k) {
                    return Err(ValidationError::InvalidRegex {
                        field: "action".into(),
                        entry: k.to_string(),
                    });
                }
            }
        }

        let description = not_null(&self.description).map(str_value);
        let base = existing.cloned().unwrap_or_default();
        let keep = |new: Option<String>, old: String| new.unwrap_or(old);
        Ok(PolicyRecord {
            id: base.id,
            name: name.to_string(),
            scope,
            active: match &self.active {
                None => true,
                Some(v) => is_true(v),
            },
            check_all_resolvers: self.check_all_resolvers.as_ref().is_some_and(is_true),
            user_case_insensitive: self.user_case_insensitive.as_ref().is_some_and(is_true),
            action: keep(action_string, base.action),
            realm: keep(realm, base.realm),
            adminrealm: keep(adminrealm, base.adminrealm),
            adminuser: keep(adminuser, base.adminuser),
            resolver: keep(resolver, base.resolver),
            pinode: keep(pinode, base.pinode),
            user: keep(user, base.user),
            client: keep(client, base.client),
            time: keep(time, base.time),
            user_agents: keep(user_agents, base.user_agents),
            priority,
            conditions: match conditions {
                Some(c) => c,
                None if existing.is_some() => base.conditions,
                None => Vec::new(),
            },
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> PolicyRecord {
        PolicyRecord {
            id: 7,
            name: "p".into(),
            scope: "admin".into(),
            active: false,
            check_all_resolvers: true,
            user_case_insensitive: true,
            action: "enrollHOTP, otp_pin_maxlength=8".into(),
            realm: "r1, r2".into(),
            adminuser: "admin".into(),
            client: "10.0.0.0/8".into(),
            time: "Mon: 9-18".into(),
            priority: 3,
            conditions: vec![ConditionRecord {
                section: "userinfo".into(),
                key: "k".into(),
                comparator: "equals".into(),
                value: "v".into(),
                active: true,
                handle_missing_data: None,
            }],
            description: Some(String::new()),
            ..PolicyRecord::default()
        }
    }

    #[test]
    fn shared_lists_are_kept_once_and_change_nothing() {
        let mut lists = ListInterner::new();
        let a = rec();
        let b = PolicyRecord {
            name: "q".into(),
            realm: "r1,r2".into(),
            ..rec()
        };
        let pa = Policy::from_record_shared(&a, &mut lists);
        let pa2 = Policy::from_record_shared(&a, &mut lists);
        let pb = Policy::from_record_shared(&b, &mut lists);
        assert_eq!(pa, Policy::from_record(&a));
        assert_eq!(pb, Policy::from_record(&b));
        assert_eq!(pa.to_record(), a);
        assert_eq!(pb.to_record(), b);
        // Equal columns: one copy; `r1,r2` parses to the same items but is
        // its own column (kept verbatim for `to_record`).
        assert!(std::ptr::eq(pa.realm().as_ptr(), pa2.realm().as_ptr()));
        assert!(std::ptr::eq(pa.client().as_ptr(), pb.client().as_ptr()));
        assert_eq!(pa.realm(), pb.realm());
        assert!(!std::ptr::eq(pa.realm().as_ptr(), pb.realm().as_ptr()));
        assert_eq!(lists.len(), 4); // "r1, r2", "admin", "10.0.0.0/8", "r1,r2"
    }

    #[test]
    fn to_record_returns_the_record_read() {
        let r = rec();
        assert_eq!(Policy::from_record(&r).to_record(), r);
        // List columns that are not the `", "` join of their items.
        for odd in ["r1,r2", " r1", "r1 ,  r2", ",", "r1, ", "r1,,r2"] {
            let r = PolicyRecord {
                realm: odd.into(),
                user_agents: "x".into(),
                ..rec()
            };
            let p = Policy::from_record(&r);
            assert_eq!(p.to_record(), r, "{odd:?}");
            assert_eq!(p.realm(), &split_list(odd)[..]);
        }
        for odd in ["a,b", "a=1,  b", "a, a=2", " a", "a=x\\, y, b", "a=", ","] {
            let r = PolicyRecord {
                action: odd.into(),
                ..rec()
            };
            let p = Policy::from_record(&r);
            assert_eq!(p.to_record(), r, "{odd:?}");
            assert_eq!(p.action(), &ActionMap::parse(odd));
        }
        let r = PolicyRecord {
            description: None,
            ..PolicyRecord::default()
        };
        assert_eq!(Policy::from_record(&r).to_record(), r);
    }
}
