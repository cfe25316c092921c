//! Response signatures (spec/realm-auth-server.md §7.3): ours verify like privacyIDEA's, and
//! privacyIDEA 3.14's verify with ours.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use pi_auth::{SignatureVerifier, Signer};
use pi_model::pyrepr::py_json_dumps;
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// Bodies answered by a privacyIDEA 3.14 with audit keys (created policy,
/// read with a nonce, deleted, an error), and its public key.
#[test]
fn privacyidea_signed_responses_verify() {
    let verifier =
        SignatureVerifier::from_pem(&fixture("ref-3.14-signed/ref-public.pem")).expect("key");
    for name in [
        "ref-create.json",
        "ref-get-nonce.json",
        "ref-delete.json",
        "ref-error.json",
    ] {
        let text = fixture(&format!("ref-3.14-signed/{name}"));
        let mut body: Value = serde_json::from_str(&text).expect("json");
        // The body is `json.dumps(…, sort_keys=True)`: we write it byte for byte.
        assert_eq!(py_json_dumps(&body), text, "{name}");
        let sig = body
            .as_object_mut()
            .and_then(|o| o.remove("signature"))
            .and_then(|s| s.as_str().map(str::to_string))
            .expect("signature");
        let signed = py_json_dumps(&body);
        assert!(verifier.verify(&signed, &sig), "{name}");
        // Any change breaks it.
        assert!(!verifier.verify(&format!("{signed} "), &sig), "{name}");
    }
}

#[test]
fn our_signatures_verify_and_are_randomised() {
    let signer = Signer::from_pem(&fixture("trusted-rsa.key")).expect("key");
    let verifier = SignatureVerifier::from_pem(&fixture("trusted-rsa.pub")).expect("key");
    let text = r#"{"id": 1, "result": {"status": true, "value": "Gr\u00fc\u00dfe"}}"#;
    let a = signer.sign(text).expect("sign");
    let b = signer.sign(text).expect("sign");
    assert!(a.starts_with("rsa_sha256_pss:"));
    // 2048-bit key: 256 bytes, lower-case hex.
    assert_eq!(a.len(), "rsa_sha256_pss:".len() + 512);
    assert!(a[15..]
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    assert_ne!(a, b, "PSS salts are random");
    assert!(verifier.verify(text, &a) && verifier.verify(text, &b));
    assert!(!verifier.verify("other", &a));
    for bad in [
        "",
        "rsa_sha256_pss:",
        "rsa_sha256_pss:zz",
        &a[1..],
        &a.replace("pss", "xxx"),
    ] {
        assert!(!verifier.verify(text, bad), "{bad}");
    }
    let other =
        SignatureVerifier::from_pem(&fixture("ref-3.14-signed/ref-public.pem")).expect("key");
    assert!(!other.verify(text, &a));
    assert!(Signer::from_pem("not a key").is_err());
    // An EC key is a key, but not an RSA key.
    assert!(Signer::from_pem(&fixture("trusted-ec.pk8")).is_err());
    assert!(SignatureVerifier::from_pem(&fixture("trusted-ec.pub")).is_err());
    assert!(SignatureVerifier::from_pem("not a key").is_err());
}
