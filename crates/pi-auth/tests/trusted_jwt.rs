//! Trusted external JWTs (`PI_TRUSTED_JWT`, spec/realm-auth-server.md §5.4, case 77).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use pi_auth::{issue, verify_with_trusted, AuthError, Claims, Role, TrustedJwt};
use serde_json::{json, Value};

const SECRET: &[u8] = b"our-own-secret";
const NOW: i64 = 1_700_000_000;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn entry(pubkey: &str, alg: &str, username: &str) -> TrustedJwt {
    TrustedJwt::new(
        &fixture(pubkey),
        alg,
        json!("user"),
        json!("realmX"),
        json!("resolverX"),
        username,
    )
    .expect("entry")
}

fn sign(key: &str, alg: Algorithm, claims: &Value) -> String {
    let pem = fixture(key);
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .expect("key");
    encode(&Header::new(alg), claims, &key).expect("sign")
}

fn claims(username: &str) -> Value {
    json!({"username": username, "realm": "realmX", "resolver": "resolverX",
           "role": "user", "exp": NOW + 600})
}

fn check(token: &str, trusted: &[TrustedJwt]) -> Result<Claims, AuthError> {
    verify_with_trusted(SECRET, token, Some(NOW), trusted)
}

#[test]
fn case_077_trusted_rs256() {
    let trusted = [entry("trusted-rsa.pub", "RS256", "h.*s")];
    let ok = check(
        &sign("trusted-rsa.key", Algorithm::RS256, &claims("hans")),
        &trusted,
    )
    .expect("hans is accepted");
    assert_eq!(
        (ok.username.as_str(), ok.realm.as_str(), ok.role),
        ("hans", "realmX", Role::User)
    );

    let e = check(
        &sign("trusted-rsa.key", Algorithm::RS256, &claims("hanswurst")),
        &trusted,
    )
    .unwrap_err();
    assert_eq!(e.code(), 403);
    assert_eq!(
        e.message(),
        "Authentication failure. The username hanswurst is not allowed to impersonate via JWT."
    );

    let mut expired = claims("hans");
    expired["exp"] = json!(NOW - 1);
    let e = check(
        &sign("trusted-rsa.key", Algorithm::RS256, &expired),
        &trusted,
    )
    .unwrap_err();
    assert_eq!(e.code(), 4305);

    let e = check("garbage", &trusted).unwrap_err();
    assert_eq!(e.code(), 4304);
}

#[test]
fn tokens_that_belong_to_no_entry_fall_back_to_our_own() {
    let trusted = [entry("trusted-rsa.pub", "RS256", "h.*s")];
    // Signed by another key, or for another realm/role/resolver: not the
    // entry's token; then it is not one of ours either.
    let other = sign("other-rsa.key", Algorithm::RS256, &claims("hans"));
    let e = check(&other, &trusted).unwrap_err();
    assert_eq!(e.code(), 4304);
    assert!(
        e.message()
            .ends_with("The specified alg value is not allowed"),
        "{}",
        e.message()
    );
    for (k, v) in [
        ("realm", json!("realmY")),
        ("role", json!("admin")),
        ("resolver", Value::Null),
    ] {
        let mut c = claims("hans");
        c[k] = v;
        let e = check(&sign("trusted-rsa.key", Algorithm::RS256, &c), &trusted).unwrap_err();
        assert_eq!(e.code(), 4304, "{k}");
    }
    // A token with an audience is refused (PyJWT without an expected audience).
    let mut c = claims("hans");
    c["aud"] = json!("someone");
    assert!(check(&sign("trusted-rsa.key", Algorithm::RS256, &c), &trusted).is_err());
    // Our own HS256 tokens keep working next to trusted entries.
    let ours = Claims::new("admin", "", Role::Admin, "password", vec![]);
    let token = issue(SECRET, &ours, 3600, NOW).expect("issue");
    assert_eq!(check(&token, &trusted).expect("ours").username, "admin");
    // … but a token without a user name is refused.
    let nobody = Claims::new("", "r", Role::User, "password", vec![]);
    let token = issue(SECRET, &nobody, 3600, NOW).expect("issue");
    let e = check(&token, &trusted).unwrap_err();
    assert_eq!(e.code(), 4032);
    assert_eq!(
        e.message(),
        "Authentication failure. The Authorization token does not name a user."
    );
}

/// `check` of a token of `user`, signed with trusted-rsa.key, against the
/// one entry for trusted-rsa.pub with the user name pattern `pattern`.
fn check_user(pattern: &str, user: &str) -> Result<Claims, AuthError> {
    let trusted = [entry("trusted-rsa.pub", "RS256", pattern)];
    check(
        &sign("trusted-rsa.key", Algorithm::RS256, &claims(user)),
        &trusted,
    )
}

#[test]
fn username_pattern_is_anchored_like_python_re_match() {
    let t = |u: &str| check_user("h.*s", u);
    assert!(t("hans").is_ok());
    assert!(
        t("hans\n").is_ok(),
        "`$` also matches before a final newline"
    );
    assert!(t("xhans").is_err());
    assert!(t("hansx").is_err());
    // `re.match("alice|bob" + "$")`: the `$` binds to `bob` only.
    let t = |u: &str| check_user("alice|bob", u);
    assert!(t("alice").is_ok());
    assert!(t("alice-and-more").is_ok());
    assert!(t("bob").is_ok());
    assert_eq!(t("bobby").unwrap_err().code(), 403);
}

#[test]
fn pss_and_ec_entries() {
    let trusted = [
        entry("trusted-ec.pub", "ES256", "ec_.*"),
        entry("trusted-rsa.pub", "PS256", "pss_.*"),
    ];
    let ec = sign("trusted-ec.pk8", Algorithm::ES256, &claims("ec_user"));
    assert_eq!(check(&ec, &trusted).expect("ec").username, "ec_user");
    let pss = sign("trusted-rsa.key", Algorithm::PS256, &claims("pss_user"));
    assert_eq!(check(&pss, &trusted).expect("pss").username, "pss_user");
    // The RSA key signs RS256 too, but no entry trusts RS256.
    let rs = sign("trusted-rsa.key", Algorithm::RS256, &claims("pss_user"));
    assert_eq!(check(&rs, &trusted).unwrap_err().code(), 4304);
}

#[test]
fn a_wrong_user_name_wins_over_a_later_entry() {
    // privacyIDEA remembers the refused name and answers 403 even when a
    // later entry accepts the token.
    let trusted = [
        entry("trusted-rsa.pub", "RS256", "admin.*"),
        entry("trusted-rsa.pub", "RS256", "h.*"),
    ];
    let e = check(
        &sign("trusted-rsa.key", Algorithm::RS256, &claims("hans")),
        &trusted,
    )
    .unwrap_err();
    assert_eq!(e.code(), 403);
}

#[test]
fn bad_entries_are_refused_when_built() {
    let pem = fixture("trusted-rsa.pub");
    let n = Value::Null;
    for (pem, alg, pattern) in [
        (pem.as_str(), "HS256", ".*"),
        (pem.as_str(), "ES512", ".*"),
        ("not a key", "RS256", ".*"),
        (pem.as_str(), "RS256", "(unclosed"),
    ] {
        assert!(
            TrustedJwt::new(pem, alg, n.clone(), n.clone(), n.clone(), pattern).is_err(),
            "{alg} {pattern}"
        );
    }
}
