//! Trusted external JWTs (`PI_TRUSTED_JWT`): tokens signed by another
//! service with an asymmetric key, accepted for a fixed role, realm and
//! resolver and for user names matching a pattern (spec/realm-auth-server.md §5.4).

use crate::jwt::{decode_err, int_claim, strip_bearer, verify, AuthError, Claims};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pi_model::pyrepr::py_truthy;
use regex::Regex;
use serde_json::Value;
use std::collections::HashSet;

/// The header algorithms that are tried against [`TrustedJwt`] entries
/// (privacyIDEA's list; ES512 cannot be verified here, so an entry with it
/// is refused when it is built).
pub const TRUSTED_ALGORITHMS: &[&str] = &[
    "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
];

/// One `PI_TRUSTED_JWT` entry, ready to verify tokens.
#[derive(Clone)]
pub struct TrustedJwt {
    algorithm: Algorithm,
    key: DecodingKey,
    /// `role`, `resolver`, `realm` of the entry; the token's claims must be
    /// equal (a missing key equals a missing claim).
    expected: [(&'static str, Value); 3],
    /// The user-name pattern, anchored like Python's `re.match(p + "$", u)`.
    username: Regex,
    /// The pattern as configured (for diagnostics).
    username_pattern: String,
}

impl std::fmt::Debug for TrustedJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedJwt")
            .field("algorithm", &self.algorithm)
            .field("expected", &self.expected)
            .field("username", &self.username_pattern)
            .finish_non_exhaustive()
    }
}

impl TrustedJwt {
    /// An entry from its configuration: the PEM public key, the algorithm
    /// name, the role/realm/resolver values (`Value::Null` when the entry
    /// has none) and the user-name regular expression.
    ///
    /// # Errors
    ///
    /// A message when the algorithm is not one of [`TRUSTED_ALGORITHMS`] (or
    /// is ES512), the key does not parse for it, or the pattern is not a
    /// valid regular expression.
    pub fn new(
        public_key_pem: &str,
        algorithm: &str,
        role: Value,
        realm: Value,
        resolver: Value,
        username: &str,
    ) -> Result<TrustedJwt, String> {
        let alg = match algorithm {
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "PS384" => Algorithm::PS384,
            "PS512" => Algorithm::PS512,
            other => return Err(format!("unsupported algorithm {other:?}")),
        };
        let key = match alg {
            Algorithm::ES256 | Algorithm::ES384 => {
                DecodingKey::from_ec_pem(public_key_pem.as_bytes())
            }
            _ => DecodingKey::from_rsa_pem(public_key_pem.as_bytes()),
        }
        .map_err(|e| format!("public_key is not a PEM key for {algorithm}: {e}"))?;
        // Python: `re.match(username + "$", u)` — anchored at the start, the
        // appended `$` binds to the last alternative and also matches before
        // a final newline.
        let re = Regex::new(&format!(r"\A(?:{username}\n?\z)"))
            .map_err(|e| format!("username is not a valid regular expression: {e}"))?;
        Ok(TrustedJwt {
            algorithm: alg,
            key,
            expected: [("role", role), ("resolver", resolver), ("realm", realm)],
            username: re,
            username_pattern: username.to_string(),
        })
    }

    /// Verify the signature with this entry's key and algorithm: the payload,
    /// or `None` when the token does not belong to this entry.
    fn decode(&self, token: &str) -> Option<serde_json::Map<String, Value>> {
        let mut v = Validation::new(self.algorithm);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.required_spec_claims = HashSet::new();
        jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &self.key, &v)
            .ok()
            .map(|d| d.claims)
    }
}

/// Python's `str()` of a JSON claim value, for the error message.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// [`verify`] with trusted external JWTs first, as privacyIDEA's
/// `verify_auth_token`: a token whose header algorithm is one of
/// [`TRUSTED_ALGORITHMS`] is checked against every entry in order; the first
/// entry whose key verifies it and whose role, resolver and realm equal the
/// token's decides by the user name. Otherwise the token must be one of ours
/// (HS256 with `secret`).
///
/// # Errors
///
/// As [`verify`]; [`AuthError::Expired`] for an expired token signed by a
/// trusted key; [`AuthError::NotAllowedToImpersonate`] (code 403) when the
/// user name does not match the entry's pattern (privacyIDEA keeps this
/// answer even when a later entry accepts the token);
/// [`AuthError::MissingUsername`] (4032) when the token names no user.
pub fn verify_with_trusted(
    secret: &[u8],
    token: &str,
    now: Option<i64>,
    trusted: &[TrustedJwt],
) -> Result<Claims, AuthError> {
    let token = strip_bearer(token);
    let alg = crate::jwt::header_algorithm(token)?;
    let mut accepted: Option<serde_json::Map<String, Value>> = None;
    let mut wrong_username: Option<Value> = None;
    if alg
        .as_deref()
        .is_some_and(|a| TRUSTED_ALGORITHMS.contains(&a))
    {
        let now = now.unwrap_or_else(|| chrono::Utc::now().timestamp());
        for entry in trusted {
            let Some(claims) = entry.decode(token) else {
                continue;
            };
            if let Some(exp) = claims.get("exp") {
                match int_claim(exp) {
                    Some(exp) if exp <= now => return Err(AuthError::Expired),
                    Some(_) => {}
                    None => continue,
                }
            }
            if let Some(nbf) = claims.get("nbf") {
                if int_claim(nbf).is_none_or(|nbf| nbf > now) {
                    continue;
                }
            }
            let same = entry
                .expected
                .iter()
                .all(|(k, want)| claims.get(*k).unwrap_or(&Value::Null) == want);
            if !same {
                continue;
            }
            let username = claims.get("username").cloned().unwrap_or(Value::Null);
            match &username {
                Value::String(u) if entry.username.is_match(u) => {
                    accepted = Some(claims);
                    break;
                }
                _ => {
                    // privacyIDEA: `r = wrong_username = username`.
                    if py_truthy(&username) {
                        wrong_username = Some(username);
                    }
                }
            }
        }
    }
    let claims = match accepted {
        Some(payload) => serde_json::from_value::<Claims>(Value::Object(payload))
            .map_err(|e| decode_err(format!("Invalid payload string: {e}")))?,
        None if wrong_username.is_some() => {
            return Err(AuthError::NotAllowedToImpersonate(py_str(
                wrong_username.as_ref().unwrap_or(&Value::Null),
            )))
        }
        None => verify(secret, token, now)?,
    };
    if let Some(u) = wrong_username {
        return Err(AuthError::NotAllowedToImpersonate(py_str(&u)));
    }
    if claims.username.is_empty() {
        return Err(AuthError::MissingUsername);
    }
    Ok(claims)
}
