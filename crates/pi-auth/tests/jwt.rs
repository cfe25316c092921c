//! JWT issue/verify against privacyIDEA's rules (spec/realm-auth-server.md §5.3–5.5).

#![allow(clippy::unwrap_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use pi_auth::{extract_token, issue, new_nonce, require_role, verify, AuthError, Claims, Role};
use serde_json::{json, Value};

const SECRET: &[u8] = b"t0p s3cr3t";
const NOW: i64 = 1_700_000_000;

fn admin_claims() -> Claims {
    Claims::new(
        "admin",
        "",
        Role::Admin,
        "password",
        vec!["policyread".into(), "policywrite".into()],
    )
}

/// Asserts an error's code and message.
#[track_caller]
fn assert_error(err: &AuthError, code: u32, message: &str) {
    assert_eq!(err.code(), code, "{err:?}");
    assert_eq!(err.message(), message);
}

/// A token built by hand (like PyJWT does): any header, any payload, signed with `alg`.
fn forge(header: &Value, payload: &Value, alg: Option<Algorithm>, secret: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap());
    let input = format!("{h}.{p}");
    let sig = match alg {
        Some(alg) => {
            jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(secret), alg)
                .unwrap()
        }
        None => String::new(),
    };
    format!("{input}.{sig}")
}

/// `forge` with a correct HS256 signature under SECRET.
fn forge_hs256(header: Value, payload: &Value) -> String {
    forge(&header, payload, Some(Algorithm::HS256), SECRET)
}

fn payload() -> Value {
    json!({"username": "admin", "realm": "", "nonce": new_nonce(), "role": "admin",
           "authtype": "password", "exp": NOW + 3600, "rights": ["policyread"]})
}

fn decode_detail(result: Result<Claims, AuthError>) -> String {
    match result {
        Err(AuthError::Decode(detail)) => detail,
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn round_trip() {
    let claims = admin_claims();
    let token = issue(SECRET, &claims, 3600, NOW).unwrap();
    let back = verify(SECRET, &token, Some(NOW + 1)).unwrap();
    assert_eq!(back.exp, Some(NOW + 3600));
    assert_eq!(Claims { exp: None, ..back }, claims);
}

#[test]
fn token_shape_matches_privacyidea() {
    let token = issue(SECRET, &admin_claims(), 60, NOW).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "HS256", "typ": "JWT"}));
    let body: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["authtype", "exp", "nonce", "realm", "rights", "role", "username"]
    );
    assert_eq!(body["exp"], json!(NOW + 60));
    let nonce = body["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 40);
    assert!(nonce.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn pyjwt_style_token_verifies() {
    // What privacyIDEA (PyJWT) produces: sorted compact header, then the claims.
    let token = forge_hs256(json!({"alg": "HS256", "typ": "JWT"}), &payload());
    let claims = verify(SECRET, &token, Some(NOW)).unwrap();
    assert_eq!(claims.role, Role::Admin);
    assert_eq!(claims.rights, ["policyread"]);
}

#[test]
fn tampered_signature_and_payload() {
    let token = issue(SECRET, &admin_claims(), 3600, NOW).unwrap();
    let (rest, sig) = token.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let bad = format!("{rest}.{flipped}{}", &sig[1..]);
    assert_eq!(
        decode_detail(verify(SECRET, &bad, Some(NOW))),
        "Signature verification failed"
    );
    assert_eq!(
        decode_detail(verify(b"other secret", &token, Some(NOW))),
        "Signature verification failed"
    );
    // Elevating the role in the payload breaks the signature.
    let user = Claims::new("bob", "realm1", Role::User, "password", vec![]);
    let token = issue(SECRET, &user, 3600, NOW).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut body: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    body["role"] = json!("admin");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap()),
        parts[2]
    );
    let err = verify(SECRET, &forged, Some(NOW)).unwrap_err();
    assert_error(
        &err,
        4304,
        "Authentication failure. Error decoding the Authorization token: Signature verification failed",
    );
}

#[test]
fn alg_none_is_rejected() {
    for alg in ["none", "None", "NONE"] {
        let token = forge(&json!({"alg": alg, "typ": "JWT"}), &payload(), None, SECRET);
        assert_eq!(
            decode_detail(verify(SECRET, &token, Some(NOW))),
            "The specified alg value is not allowed",
            "{alg}"
        );
    }
    let token = forge_hs256(json!({"typ": "JWT"}), &payload());
    assert_eq!(
        decode_detail(verify(SECRET, &token, Some(NOW))),
        "Algorithm not specified"
    );
}

#[test]
fn algorithm_confusion_is_rejected() {
    // Correctly signed with HS512 and the same secret: still not HS256.
    let hs512 = forge(
        &json!({"alg": "HS512", "typ": "JWT"}),
        &payload(),
        Some(Algorithm::HS512),
        SECRET,
    );
    // Header claims RS256, signature is an HMAC (classic public-key-as-secret confusion).
    let rs256 = forge_hs256(json!({"alg": "RS256", "typ": "JWT"}), &payload());
    for token in [hs512, rs256] {
        let err = verify(SECRET, &token, Some(NOW)).unwrap_err();
        assert_error(
            &err,
            4304,
            "Authentication failure. Error decoding the Authorization token: The specified alg value is not allowed",
        );
    }
}

#[test]
fn expired_tokens() {
    let token = issue(SECRET, &admin_claims(), 3600, NOW).unwrap();
    assert!(verify(SECRET, &token, Some(NOW + 3599)).is_ok());
    let err = verify(SECRET, &token, Some(NOW + 3600)).unwrap_err();
    assert_eq!(err, AuthError::Expired);
    assert_error(
        &err,
        4305,
        "Authentication failure. Your token has expired: Signature has expired",
    );
    // With the system clock: a token that expired in 2023 is expired now.
    assert_eq!(verify(SECRET, &token, None), Err(AuthError::Expired));
}

#[test]
fn missing_exp_is_accepted() {
    let mut body = payload();
    body.as_object_mut().unwrap().remove("exp");
    let token = forge_hs256(json!({"alg": "HS256", "typ": "JWT"}), &body);
    let claims = verify(SECRET, &token, Some(i64::MAX - 1)).unwrap();
    assert_eq!(claims.exp, None);
    assert!(verify(SECRET, &token, None).is_ok());
}

#[test]
fn non_integer_exp_and_future_nbf() {
    let mut body = payload();
    body["exp"] = json!("soon");
    let token = forge_hs256(json!({"alg": "HS256"}), &body);
    assert_eq!(
        decode_detail(verify(SECRET, &token, Some(NOW))),
        "Expiration Time claim (exp) must be an integer."
    );
    let mut body = payload();
    body["exp"] = json!((NOW + 10) as f64 + 0.5);
    let token = forge_hs256(json!({"alg": "HS256"}), &body);
    assert_eq!(
        verify(SECRET, &token, Some(NOW)).unwrap().exp,
        Some(NOW + 10)
    );
    let mut body = payload();
    body["nbf"] = json!(NOW + 100);
    let token = forge_hs256(json!({"alg": "HS256"}), &body);
    assert_eq!(
        decode_detail(verify(SECRET, &token, Some(NOW))),
        "The token is not yet valid (nbf)"
    );
}

#[test]
fn wrong_role() {
    let user = Claims::new("bob", "realm1", Role::User, "password", vec![]);
    let token = issue(SECRET, &user, 3600, NOW).unwrap();
    let claims = verify(SECRET, &token, Some(NOW)).unwrap();
    let err = require_role(&claims, &[Role::Admin]).unwrap_err();
    assert_error(
        &err,
        4306,
        "Authentication failure. You do not have the necessary role (['admin']) to access this resource!",
    );
    assert!(require_role(&claims, &[Role::Admin, Role::User]).is_ok());
    let both = AuthError::MissingRole {
        required: vec![Role::Admin, Role::User],
    };
    assert!(both.message().contains("(['admin', 'user'])"));
    // An unknown or missing role is refused like a role the route does not
    // require (4306; the server names the required roles), as the release.
    for role in [json!("superadmin"), json!(null)] {
        let mut body = payload();
        body["role"] = role;
        let token = forge_hs256(json!({"alg": "HS256"}), &body);
        let err = verify(SECRET, &token, Some(NOW)).unwrap_err();
        assert_eq!(err.code(), 4306);
    }
    // A token that names no user is 4032 (before the role).
    for user in [json!(""), json!(5), json!(null)] {
        let mut body = payload();
        body["username"] = user;
        body["role"] = json!("superadmin");
        let token = forge_hs256(json!({"alg": "HS256"}), &body);
        assert_eq!(verify(SECRET, &token, Some(NOW)).unwrap_err().code(), 4032);
    }
}

#[test]
fn bearer_prefix_is_accepted() {
    let token = issue(SECRET, &admin_claims(), 3600, NOW).unwrap();
    for header in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("  {token}  "),
    ] {
        assert!(verify(SECRET, &header, Some(NOW)).is_ok(), "{header}");
        assert_eq!(extract_token(Some(&header), None), Ok(token.as_str()));
    }
}

#[test]
fn header_precedence() {
    assert_eq!(extract_token(Some("a.b.c"), Some("d.e.f")), Ok("a.b.c"));
    assert_eq!(extract_token(None, Some("d.e.f")), Ok("d.e.f"));
    assert_eq!(extract_token(Some(""), Some("d.e.f")), Ok("d.e.f"));
    let err = extract_token(None, None).unwrap_err();
    assert_eq!(err, AuthError::MissingHeader);
    assert_error(
        &err,
        4033,
        "Authentication failure. Missing Authorization header.",
    );
    assert_eq!(
        extract_token(Some(" "), Some("")),
        Err(AuthError::MissingHeader)
    );
}

#[test]
fn garbage_is_a_decode_error() {
    let cases = [
        ("garbage", "Not enough segments"),
        ("a.b", "Not enough segments"),
        ("", "Not enough segments"),
        ("Bearer", "Not enough segments"),
        ("!!!.e30.", "Invalid header padding"),
    ];
    for (token, detail) in cases {
        let err = verify(SECRET, token, Some(NOW)).unwrap_err();
        assert_eq!(err.code(), 4304, "{token}");
        assert_eq!(decode_detail(Err(err)), detail, "{token}");
    }
    for token in [
        "a.b.c",
        "e30.!!!.x",
        "eyJhbGciOiJIUzI1NiJ9.e30.%%%",
        "bnVsbA.e30.",
        "e30.e30.e30.e30",
    ] {
        let err = verify(SECRET, token, Some(NOW)).unwrap_err();
        assert_eq!(err.code(), 4304, "{token}");
        assert!(err
            .message()
            .starts_with("Authentication failure. Error decoding the Authorization token: "));
    }
    // Validly signed but the payload is not JSON.
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
    let p = URL_SAFE_NO_PAD.encode(b"not json");
    let input = format!("{h}.{p}");
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .unwrap();
    let detail = decode_detail(verify(SECRET, &format!("{input}.{sig}"), Some(NOW)));
    assert!(detail.starts_with("Invalid payload string: "), "{detail}");
}
