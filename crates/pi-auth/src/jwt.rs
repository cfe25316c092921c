//! privacyIDEA's admin/user JWT: HS256 with `SECRET_KEY`.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;

/// The one algorithm tokens are signed and verified with. It is fixed here and never taken
/// from a token's header.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// base64url, read with or without padding (like PyJWT's `base64url_decode`).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The role a token grants (the workspace's one `Role` type, from pi-model).
pub use pi_model::Role;

/// The claims of a privacyIDEA token (spec/realm-auth-server.md §5.3), serialised in privacyIDEA's order.
/// There is no `iat`.
///
/// When verifying, missing `username`/`realm`/`nonce`/`authtype`/`rights` default to empty;
/// `role` must be `admin` or `user`. Other claims are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Login name without realm.
    #[serde(default)]
    pub username: String,
    /// The user's realm; `""` for local admins.
    #[serde(default)]
    pub realm: String,
    /// 40 hex characters (20 random bytes), see [`new_nonce`].
    #[serde(default)]
    pub nonce: String,
    /// `admin` or `user`.
    pub role: Role,
    /// `password`, `remote_user` or `pi`.
    #[serde(default)]
    pub authtype: String,
    /// Expiry, epoch seconds. `None`: the token never expires (privacyIDEA accepts that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Allowed action names.
    #[serde(default)]
    pub rights: Vec<String>,
}

impl Claims {
    /// Claims with a fresh [`new_nonce`] and no `exp` (set by [`issue`]).
    pub fn new(
        username: impl Into<String>,
        realm: impl Into<String>,
        role: Role,
        authtype: impl Into<String>,
        rights: Vec<String>,
    ) -> Self {
        Self {
            username: username.into(),
            realm: realm.into(),
            nonce: new_nonce(),
            role,
            authtype: authtype.into(),
            exp: None,
            rights,
        }
    }
}

/// 20 random bytes as 40 lower-case hex characters.
#[must_use]
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Error of [`issue`].
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the token: {0}")]
pub struct IssueError(#[from] jsonwebtoken::errors::Error);

/// Authentication failures, with privacyIDEA's codes and messages (spec/realm-auth-server.md §5.4/§5.5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `PI-Authorization` nor `Authorization` header (code 4033).
    #[error("missing authorization header")]
    MissingHeader,
    /// Malformed token, bad signature or disallowed algorithm (code 4304); the detail is
    /// PyJWT's message where we know it (`Not enough segments`, `Signature verification
    /// failed`, `The specified alg value is not allowed`, …).
    #[error("error decoding the authorization token: {0}")]
    Decode(String),
    /// `exp` has passed (code 4305).
    #[error("the token has expired")]
    Expired,
    /// The token's role is not among the required ones (code 4306).
    #[error("the token's role is not one of the required roles {required:?}")]
    MissingRole {
        /// The roles that would have been accepted.
        required: Vec<Role>,
    },
    /// A trusted external JWT names a user its entry does not allow (code 403).
    #[error("the user {0} may not impersonate via JWT")]
    NotAllowedToImpersonate(String),
    /// The token names no user (code 4032).
    #[error("the token names no user")]
    MissingUsername,
}

impl AuthError {
    /// privacyIDEA's error code (`result.error.code`); the HTTP status is always 401.
    #[must_use]
    pub fn code(&self) -> u32 {
        match self {
            Self::MissingHeader => 4033,
            Self::Decode(_) => 4304,
            Self::Expired => 4305,
            Self::MissingRole { .. } => 4306,
            Self::NotAllowedToImpersonate(_) => 403,
            Self::MissingUsername => 4032,
        }
    }

    /// privacyIDEA's exact message (`result.error.message`).
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::MissingHeader => {
                "Authentication failure. Missing Authorization header.".to_owned()
            }
            Self::Decode(detail) => {
                format!("Authentication failure. Error decoding the Authorization token: {detail}")
            }
            Self::Expired => {
                "Authentication failure. Your token has expired: Signature has expired".to_owned()
            }
            Self::NotAllowedToImpersonate(user) => format!(
                "Authentication failure. The username {user} is not allowed to impersonate via JWT."
            ),
            Self::MissingUsername => {
                "Authentication failure. The Authorization token does not name a user.".to_owned()
            }
            Self::MissingRole { required } => {
                let list: Vec<String> = required.iter().map(|r| format!("'{r}'")).collect();
                format!(
                    "Authentication failure. You do not have the necessary role ([{}]) to access this resource!",
                    list.join(", ")
                )
            }
        }
    }
}

pub(crate) fn decode_err(detail: impl Into<String>) -> AuthError {
    AuthError::Decode(detail.into())
}

/// Removes a leading `Bearer ` (any case) and surrounding whitespace.
pub(crate) fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    }
}

/// Picks the token from the request headers: `PI-Authorization` first, then `Authorization`
/// (an empty header counts as absent), and strips a `Bearer ` prefix.
///
/// # Errors
///
/// [`AuthError::MissingHeader`] if neither header has a value.
pub fn extract_token<'a>(
    pi_authorization: Option<&'a str>,
    authorization: Option<&'a str>,
) -> Result<&'a str, AuthError> {
    [pi_authorization, authorization]
        .into_iter()
        .flatten()
        .find(|v| !v.trim().is_empty())
        .map(strip_bearer)
        .ok_or(AuthError::MissingHeader)
}

/// Signs `claims` with HS256 and `secret`, setting `exp = now + validity_secs` (epoch seconds).
/// The header is `{"typ":"JWT","alg":"HS256"}`.
///
/// # Errors
///
/// [`IssueError`] if signing fails (not expected for HMAC).
pub fn issue(
    secret: &[u8],
    claims: &Claims,
    validity_secs: u64,
    now: i64,
) -> Result<String, IssueError> {
    let mut claims = claims.clone();
    let validity = i64::try_from(validity_secs).unwrap_or(i64::MAX);
    claims.exp = Some(now.saturating_add(validity));
    Ok(jsonwebtoken::encode(
        &Header::new(ALGORITHM),
        &claims,
        &EncodingKey::from_secret(secret),
    )?)
}

/// Verifies a token like privacyIDEA's `check_auth_token` (PyJWT with `algorithms=['HS256']`)
/// and returns its claims. `now` is epoch seconds (`None`: the system clock).
///
/// * The algorithm is always HS256 ([`ALGORITHM`]): a header naming anything else (`none`,
///   `HS512`, `RS256`, …) is rejected with `The specified alg value is not allowed`.
/// * `exp` is optional; a token whose `exp` is at or before `now` is [`AuthError::Expired`].
///   A future `nbf` is rejected as not yet valid.
/// * A leading `Bearer ` is stripped. **Deviation:** privacyIDEA does not strip it (such a
///   header fails to decode there).
///
/// # Errors
///
/// [`AuthError::Decode`] or [`AuthError::Expired`].
pub fn verify(secret: &[u8], token: &str, now: Option<i64>) -> Result<Claims, AuthError> {
    let Segments {
        signing_input,
        header,
        payload_segment,
        crypto_segment,
    } = Segments::split(token)?;
    let payload_bytes = B64URL
        .decode(payload_segment)
        .map_err(|_| decode_err("Invalid payload padding"))?;
    let signature = B64URL
        .decode(crypto_segment)
        .map_err(|_| decode_err("Invalid crypto padding"))?;

    match header.get("alg") {
        None => return Err(decode_err("Algorithm not specified")),
        Some(Value::String(alg)) if alg == "HS256" => {}
        Some(_) => return Err(decode_err("The specified alg value is not allowed")),
    }
    let expected = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(secret),
        ALGORITHM,
    )
    .map_err(|e| decode_err(e.to_string()))?;
    let expected = B64URL
        .decode(expected)
        .map_err(|_| decode_err("Signature verification failed"))?;
    if !bool::from(expected.ct_eq(&signature)) {
        return Err(decode_err("Signature verification failed"));
    }

    let payload: Value = serde_json::from_slice(&payload_bytes)
        .map_err(|e| decode_err(format!("Invalid payload string: {e}")))?;
    let Value::Object(mut payload) = payload else {
        return Err(decode_err("Invalid payload string: must be a json object"));
    };
    let now = now.unwrap_or_else(|| chrono::Utc::now().timestamp());
    if let Some(exp) = payload.get("exp") {
        let exp = int_claim(exp)
            .ok_or_else(|| decode_err("Expiration Time claim (exp) must be an integer."))?;
        if exp <= now {
            return Err(AuthError::Expired);
        }
        payload.insert("exp".to_owned(), Value::from(exp));
    }
    if let Some(nbf) = payload.get("nbf") {
        let nbf = int_claim(nbf)
            .ok_or_else(|| decode_err("Not Before claim (nbf) must be an integer."))?;
        if nbf > now {
            return Err(decode_err("The token is not yet valid (nbf)"));
        }
    }
    // privacyIDEA's `verify_auth_token`: the token must name a user (a
    // non-empty string), then its role must be one the route requires — a
    // missing or unknown role is refused as not required (4306).
    match payload.get("username") {
        Some(Value::String(u)) if !u.is_empty() => {}
        _ => return Err(AuthError::MissingUsername),
    }
    match payload.get("role") {
        Some(Value::String(r)) if Role::parse(r).is_some() => {}
        _ => {
            return Err(AuthError::MissingRole {
                required: Vec::new(),
            })
        }
    }
    serde_json::from_value(Value::Object(payload))
        .map_err(|e| decode_err(format!("Invalid payload string: {e}")))
}

/// The `alg` of a token's header without verifying anything (PyJWT's
/// `get_unverified_header`); `None` when the header has no string `alg`.
///
/// # Errors
///
/// [`AuthError::Decode`] when the token or its header is malformed.
pub(crate) fn header_algorithm(token: &str) -> Result<Option<String>, AuthError> {
    let header = Segments::split(token)?.header;
    Ok(header
        .get("alg")
        .and_then(Value::as_str)
        .map(str::to_string))
}

/// A token cut into its three segments, the header decoded (PyJWT's
/// `_load`, the one place a token's header is read).
struct Segments<'a> {
    /// `header.payload`, the signed bytes.
    signing_input: &'a str,
    /// The decoded header (a JSON object).
    header: serde_json::Map<String, Value>,
    /// The payload segment, still base64url.
    payload_segment: &'a str,
    /// The signature segment, still base64url.
    crypto_segment: &'a str,
}

impl<'a> Segments<'a> {
    /// Split `token` (a leading `Bearer ` stripped) and decode its header.
    fn split(token: &'a str) -> Result<Self, AuthError> {
        let token = strip_bearer(token);
        let (signing_input, crypto_segment) = token
            .rsplit_once('.')
            .ok_or_else(|| decode_err("Not enough segments"))?;
        let (header_segment, payload_segment) = signing_input
            .split_once('.')
            .ok_or_else(|| decode_err("Not enough segments"))?;
        let header_bytes = B64URL
            .decode(header_segment)
            .map_err(|_| decode_err("Invalid header padding"))?;
        let header: Value = serde_json::from_slice(&header_bytes)
            .map_err(|e| decode_err(format!("Invalid header string: {e}")))?;
        let Value::Object(header) = header else {
            return Err(decode_err("Invalid header string: must be a json object"));
        };
        Ok(Self {
            signing_input,
            header,
            payload_segment,
            crypto_segment,
        })
    }
}

/// Python's `int(x)` for JSON numbers (floats are truncated).
pub(crate) fn int_claim(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f.trunc() as i64)
        }),
        _ => None,
    }
}

/// Checks that the token's role is one of `required` (privacyIDEA's `admin_required` /
/// `user_required`).
///
/// # Errors
///
/// [`AuthError::MissingRole`] (code 4306).
pub fn require_role(claims: &Claims, required: &[Role]) -> Result<(), AuthError> {
    if required.contains(&claims.role) {
        Ok(())
    } else {
        Err(AuthError::MissingRole {
            required: required.to_vec(),
        })
    }
}
