//! The catalogue of policy actions per scope (`GET /policy/defs`).
//!
//! Loaded once from `data/policy-defs.json` (privacyIDEA 3.14's static and
//! token-class definitions). Scopes and actions come out key-sorted, as
//! Flask's JSON encoder emits them.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Definition of one action.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDef {
    /// Action name.
    pub name: String,
    /// `bool`, `str`, `int` or `text`.
    pub typ: String,
    /// Drop-down values offered by the WebUI (not enforced).
    pub values: Option<Vec<String>>,
    /// Where runtime values come from (realms, resolvers, …), if computed.
    pub values_source: Option<String>,
    /// UI group.
    pub group: Option<String>,
    /// Main menus this action makes visible. Empty for `admin.resolverread`,
    /// whose source misspells the key as `"   mainmenu"` (kept in `raw`).
    pub mainmenu: Vec<String>,
    /// `static` or `dynamic`.
    pub source: String,
    /// The raw catalogue entry.
    pub raw: Value,
}

impl ActionDef {
    /// The definition object as `GET /policy/defs` shows it: `type`, `desc`
    /// (the catalogue carries no descriptions: `desc_text` is used, or the
    /// catalogue's `desc` if present),
    /// `value` (from `values`, or `runtime_values` for computed lists), `group`,
    /// `mainmenu`, `multiple`, `required`, `default`. The `admin.resolverread`
    /// typo is reproduced as the key `"   mainmenu"`.
    pub fn api_json(&self, desc_text: &str, runtime_values: Option<&[String]>) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(self.typ.clone()));
        let desc = self
            .raw
            .get("desc")
            .and_then(Value::as_str)
            .unwrap_or(desc_text);
        m.insert("desc".into(), Value::String(desc.to_string()));
        // The catalogue's values keep their JSON types (`[6, 8]` for ints).
        let values = match (runtime_values, self.raw.get("values")) {
            (Some(rv), _) if self.values_source.is_some() => Some(Value::Array(
                rv.iter().cloned().map(Value::String).collect(),
            )),
            (_, Some(v @ Value::Array(_))) => Some(v.clone()),
            _ => None,
        };
        if let Some(v) = values {
            m.insert("value".into(), v);
        }
        if let Some(g) = &self.group {
            m.insert("group".into(), Value::String(g.clone()));
        }
        if !self.mainmenu.is_empty() || self.raw.get("mainmenu").is_some() {
            m.insert(
                "mainmenu".into(),
                Value::Array(self.mainmenu.iter().cloned().map(Value::String).collect()),
            );
        } else if let Some(v) = self.raw.get("   mainmenu") {
            // privacyIDEA's source typo for admin.resolverread, emitted verbatim.
            m.insert("   mainmenu".into(), v.clone());
        }
        for k in ["multiple", "required", "default"] {
            if let Some(v) = self.raw.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        Value::Object(m)
    }
}

/// All definitions of one scope, in catalogue order.
#[derive(Debug, Clone, Default)]
pub struct ScopeDefs {
    /// Scope name.
    pub scope: String,
    /// Actions in catalogue order.
    pub actions: Vec<ActionDef>,
    index: HashMap<String, usize>,
}

impl ScopeDefs {
    /// Definition of `action`.
    pub fn get(&self, action: &str) -> Option<&ActionDef> {
        self.index.get(action).map(|&i| &self.actions[i])
    }

    /// Action names in catalogue order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.name.as_str())
    }
}

/// The whole catalogue: scopes in catalogue order.
#[derive(Debug, Clone, Default)]
pub struct PolicyDefs {
    /// Scopes with definitions (`audit` has none and is absent).
    pub scopes: Vec<ScopeDefs>,
}

impl PolicyDefs {
    /// Definitions of `scope` (`None` for scopes without definitions, e.g. `audit`).
    pub fn scope(&self, scope: &str) -> Option<&ScopeDefs> {
        self.scopes.iter().find(|s| s.scope == scope)
    }
}

const RAW: &str = include_str!("../data/policy-defs.json");

fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    })
}

fn load() -> PolicyDefs {
    let parsed: Value = match serde_json::from_str(RAW) {
        Ok(v) => v,
        Err(e) => {
            log::error!("embedded policy-defs.json does not parse: {e}");
            return PolicyDefs::default();
        }
    };
    let mut defs = PolicyDefs::default();
    if let Value::Object(scopes) = parsed {
        for (scope, actions) in scopes {
            let mut sd = ScopeDefs {
                scope: scope.clone(),
                ..ScopeDefs::default()
            };
            if let Value::Object(actions) = actions {
                for (name, def) in actions {
                    let get_s = |k: &str| def.get(k).and_then(Value::as_str).map(str::to_string);
                    let ad = ActionDef {
                        name: name.clone(),
                        typ: get_s("type").unwrap_or_else(|| "bool".into()),
                        values: str_list(def.get("values")),
                        values_source: get_s("values_source"),
                        group: get_s("group"),
                        mainmenu: str_list(def.get("mainmenu")).unwrap_or_default(),
                        source: get_s("source").unwrap_or_default(),
                        raw: def.clone(),
                    };
                    sd.index.insert(name, sd.actions.len());
                    sd.actions.push(ad);
                }
            }
            defs.scopes.push(sd);
        }
    }
    defs
}

/// The catalogue (built on first use).
pub fn policy_defs() -> &'static PolicyDefs {
    static DEFS: OnceLock<PolicyDefs> = OnceLock::new();
    DEFS.get_or_init(load)
}

/// A scope or action name kept by a stored policy: a thin shared pointer
/// (8 bytes) to one text. The catalogue's names (the same few hundred repeat
/// in every policy of a large set) are allocated once and shared by every
/// policy that names them; a name the catalogue does not know gets its own.
#[derive(Debug, Clone)]
pub(crate) struct Name(std::sync::Arc<Box<str>>);

impl Name {
    pub(crate) fn new(s: &str) -> Name {
        type Known = std::collections::HashMap<&'static str, std::sync::Arc<Box<str>>>;
        static KNOWN: OnceLock<Known> = OnceLock::new();
        let known = KNOWN.get_or_init(|| {
            let defs = policy_defs();
            let scopes = defs.scopes.iter().map(|s| s.scope.as_str());
            let actions = defs.scopes.iter().flat_map(|s| s.names());
            scopes
                .chain(actions)
                .map(|k| (k, std::sync::Arc::new(Box::from(k))))
                .collect()
        });
        match known.get(s) {
            Some(k) => Name(k.clone()),
            None => Name(std::sync::Arc::new(s.into())),
        }
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

/// Whether `action` is defined for `scope`.
pub fn is_action_allowed(scope: &str, action: &str) -> bool {
    policy_defs()
        .scope(scope)
        .is_some_and(|s| s.get(action).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_thin_and_shared() {
        assert_eq!(std::mem::size_of::<Name>(), 8);
        let (a, b) = (Name::new("enrollHOTP"), Name::new("enrollHOTP"));
        assert_eq!(a.as_str(), "enrollHOTP");
        assert!(std::sync::Arc::ptr_eq(&a.0, &b.0), "catalogue names shared");
        let (c, d) = (Name::new("No Such_action=x"), Name::new("No Such_action=x"));
        assert_eq!(c.as_str(), "No Such_action=x");
        assert_eq!(c, d);
        assert!(!std::sync::Arc::ptr_eq(&c.0, &d.0));
        assert_ne!(a, c);
        assert_eq!(Name::new("admin").as_str(), "admin");
        assert_eq!(Name::new("").as_str(), "");
    }

    #[test]
    fn catalogue_counts() {
        let d = policy_defs();
        let raw: Value = serde_json::from_str(RAW).unwrap();
        let expected: usize = raw
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_object().unwrap().len())
            .sum();
        let total: usize = d.scopes.iter().map(|s| s.actions.len()).sum();
        assert_eq!(total, expected);
        assert!(d.scope("admin").unwrap().actions.len() >= 159);
        assert!(d.scope("audit").is_none());
        assert!(is_action_allowed("admin", "enrollHOTP"));
        // as privacyIDEA serves them: typed values, empty menus kept
        let admin = d.scope("admin").unwrap();
        let otplen = admin.get("hotp_otplen").unwrap().api_json("d", None);
        assert_eq!(otplen["value"], serde_json::json!([6, 8]));
        let tc = admin.get("triggerchallenge").unwrap().api_json("d", None);
        assert_eq!(tc["mainmenu"], serde_json::json!([]));
        assert!(!is_action_allowed("enrollment", "enable"));
    }

    #[test]
    fn case_134_defs_contents() {
        let admin = policy_defs().scope("admin").unwrap();
        for a in ["enable", "enrollTOTP", "enrollHOTP", "enrollPW"] {
            assert!(admin.get(a).is_some(), "{a}");
        }
        let rr = admin.get("resolverread").unwrap().api_json("", None);
        assert!(rr.get("   mainmenu").is_some());
        assert!(rr.get("mainmenu").is_none());
    }
}
