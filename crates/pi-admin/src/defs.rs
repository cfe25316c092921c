//! The action catalogue of `GET /policy/defs[/<scope>]`: pi-model's, with our
//! own short English descriptions (hand-written for the common actions,
//! generated from name, scope and type for the rest) and the runtime value
//! lists (realms, resolvers) of the current configuration.

use crate::state::Snapshot;
use pi_model::defs::{policy_defs, ActionDef, ScopeDefs};
use serde_json::{Map, Value};

/// Hand-written descriptions: (scope or `*`, action, text).
const TEXTS: &[(&str, &str, &str)] = &[
    ("admin", "enable", "The administrator may enable tokens."),
    ("admin", "disable", "The administrator may disable tokens."),
    ("admin", "delete", "The administrator may delete tokens."),
    ("admin", "revoke", "The administrator may revoke tokens."),
    (
        "admin",
        "assign",
        "The administrator may assign tokens to users.",
    ),
    (
        "admin",
        "unassign",
        "The administrator may remove tokens from their users.",
    ),
    (
        "admin",
        "reset",
        "The administrator may reset the fail counter of tokens.",
    ),
    (
        "admin",
        "resync",
        "The administrator may resynchronise tokens.",
    ),
    (
        "admin",
        "setpin",
        "The administrator may set the OTP PIN of tokens.",
    ),
    ("admin", "tokenlist", "The administrator may list tokens."),
    ("admin", "userlist", "The administrator may list users."),
    (
        "admin",
        "policyread",
        "The administrator may read policies.",
    ),
    (
        "admin",
        "policywrite",
        "The administrator may create, change, enable, disable, rename and import policies.",
    ),
    (
        "admin",
        "policydelete",
        "The administrator may delete policies.",
    ),
    (
        "admin",
        "resolverread",
        "The administrator may read resolver definitions.",
    ),
    (
        "admin",
        "resolverwrite",
        "The administrator may create and change resolvers.",
    ),
    (
        "admin",
        "resolverdelete",
        "The administrator may delete resolvers.",
    ),
    (
        "admin",
        "configread",
        "The administrator may read the system configuration.",
    ),
    (
        "admin",
        "configwrite",
        "The administrator may change the system configuration.",
    ),
    (
        "admin",
        "configdelete",
        "The administrator may delete system configuration entries.",
    ),
    (
        "admin",
        "auditlog",
        "The administrator may read the audit log.",
    ),
    (
        "*",
        "otppin",
        "Where the OTP PIN is checked: the token PIN, the user store password, or no PIN at all.",
    ),
    (
        "*",
        "passthru",
        "Users without a token authenticate with their user store password.",
    ),
    (
        "*",
        "passOnNoToken",
        "Users without a token are accepted without any check.",
    ),
    (
        "*",
        "passOnNoUser",
        "Unknown users are accepted without any check.",
    ),
    (
        "*",
        "challenge_response",
        "Token types that may be used in challenge-response mode.",
    ),
    (
        "*",
        "challenge_text",
        "The text shown when a challenge is triggered.",
    ),
    (
        "*",
        "tokentype",
        "Only tokens of these types may authenticate.",
    ),
    (
        "*",
        "serial",
        "Only tokens whose serial matches this pattern may authenticate.",
    ),
    (
        "*",
        "max_token_per_user",
        "The most tokens a single user may have.",
    ),
    (
        "*",
        "otp_pin_minlength",
        "The shortest OTP PIN that is accepted.",
    ),
    (
        "*",
        "otp_pin_maxlength",
        "The longest OTP PIN that is accepted.",
    ),
    (
        "*",
        "otp_pin_contents",
        "Which characters an OTP PIN must contain.",
    ),
    (
        "*",
        "logout_time",
        "Seconds of inactivity after which the WebUI logs out.",
    ),
    ("*", "login_mode", "Which password the WebUI login checks."),
    (
        "*",
        "realm_dropdown",
        "Realms offered in the WebUI login screen, separated by spaces; '-' adds an empty entry.",
    ),
    (
        "*",
        "jwt_validity",
        "Seconds a WebUI login token stays valid.",
    ),
    (
        "*",
        "hide_version",
        "Answers to unauthenticated requests do not show the server version.",
    ),
];

/// Split an action name into lower-case words (`enrollHOTP` → `enroll HOTP`,
/// `otp_pin_minlength` → `otp pin minlength`).
fn words(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' {
            out.push(' ');
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        if c.is_uppercase() && prev.is_some_and(|p| p.is_lowercase()) {
            out.push(' ');
        }
        out.push(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn who(scope: &str) -> &'static str {
    match scope {
        "admin" => "The administrator",
        "user" => "The user",
        _ => "",
    }
}

/// Our description of an action.
pub fn description(scope: &str, def: &ActionDef) -> String {
    if let Some((_, _, t)) = TEXTS
        .iter()
        .find(|(s, a, _)| (*s == scope || *s == "*") && *a == def.name)
    {
        return (*t).to_string();
    }
    let w = words(&def.name);
    if let Some(ttype) = def.name.strip_prefix("enroll") {
        if !ttype.is_empty()
            && ttype
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            if let s @ ("admin" | "user") = scope {
                return format!("{} may enroll {ttype} tokens.", who(s));
            }
        }
    }
    match (def.typ.as_str(), scope) {
        ("bool", "admin" | "user") => format!("{} may: {w}.", who(scope)),
        ("bool", _) => format!("Turns on \"{w}\" ({scope} policies)."),
        ("int", _) => format!("Number for \"{w}\" ({scope} policies)."),
        ("text", _) => format!("Text for \"{w}\" ({scope} policies); may span several lines."),
        _ => format!("Value of \"{w}\" ({scope} policies)."),
    }
}

fn runtime_values(def: &ActionDef, snap: &Snapshot) -> Option<Vec<String>> {
    match def.values_source.as_deref()? {
        "configured realm names" => Some(snap.realms.iter().map(|r| r.name.clone()).collect()),
        "configured resolver names" => {
            Some(snap.resolvers.iter().map(|r| r.name.clone()).collect())
        }
        _ => None,
    }
}

fn scope_json(sd: &ScopeDefs, snap: &Snapshot) -> Value {
    let mut m = Map::new();
    for def in &sd.actions {
        let values = runtime_values(def, snap);
        m.insert(
            def.name.clone(),
            def.api_json(&description(&sd.scope, def), values.as_deref()),
        );
    }
    Value::Object(m)
}

/// The whole catalogue (`scope` `None`) or one scope (`null` if unknown).
pub fn defs_json(scope: Option<&str>, snap: &Snapshot) -> Value {
    let defs = policy_defs();
    match scope {
        Some(s) => defs.scope(s).map_or(Value::Null, |sd| scope_json(sd, snap)),
        None => Value::Object(
            defs.scopes
                .iter()
                .map(|sd| (sd.scope.clone(), scope_json(sd, snap)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_texts() {
        assert_eq!(words("enrollHOTP"), "enroll HOTP");
        assert_eq!(words("otp_pin_minlength"), "otp pin minlength");
        let defs = policy_defs();
        for sd in &defs.scopes {
            for def in &sd.actions {
                let d = description(&sd.scope, def);
                assert!(
                    d.len() > 10 && d.ends_with('.'),
                    "{}.{}: {d}",
                    sd.scope,
                    def.name
                );
            }
        }
        let admin = defs.scope("admin").unwrap();
        assert_eq!(
            description("admin", admin.get("enrollHOTP").unwrap()),
            "The administrator may enroll HOTP tokens."
        );
    }
}
