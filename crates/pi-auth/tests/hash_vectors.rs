//! Hashes made by passlib exactly as privacyIDEA makes them.

use pi_auth::{hash_password, verify_password};

const PEPPER: &str = "zzsWra6vnoYFrlVXJM3DlgPO";
const PASSWORD: &str = "Test123!";
const ARGON2: &str =
    "$argon2id$v=19$m=65536,t=9,p=4$Z8z5vxdiDMH4P0cIoVRKyQ$UbvtDsQdNYzYWGJdbBQ0IW0mi6499eDsbPXUaaYIe7E";
const PBKDF2_SHA512: &str = "$pbkdf2-sha512$25000$hnCOMWas1dobAyAk5Pz/fw$JmXXgMVksOP3nqvyBh7In2KRo.SbTpsnZPNizDDS/gCHx8KnSdR.zYNOJbBH2GCSetg1UBjQKSaj53SC4b2ANQ";

#[test]
fn passlib_argon2_vector() {
    assert_eq!(verify_password(PEPPER, PASSWORD, ARGON2), Ok(true));
    assert_eq!(verify_password(PEPPER, "Test123?", ARGON2), Ok(false));
}

#[test]
fn passlib_pbkdf2_sha512_vector() {
    assert_eq!(verify_password(PEPPER, PASSWORD, PBKDF2_SHA512), Ok(true));
    assert_eq!(
        verify_password(PEPPER, "Test123?", PBKDF2_SHA512),
        Ok(false)
    );
    // The pepper is part of the hashed string.
    assert_eq!(verify_password("", PASSWORD, PBKDF2_SHA512), Ok(false));
    assert_eq!(
        verify_password("", &format!("{PEPPER}{PASSWORD}"), PBKDF2_SHA512),
        Ok(true)
    );
}

#[test]
fn argon2_default_round_trip() {
    let hash = hash_password(PEPPER, PASSWORD, &["argon2", "pbkdf2_sha512"]).unwrap();
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(&parts[..4], ["", "argon2id", "v=19", "m=65536,t=9,p=4"]);
    assert_eq!(parts[4].len(), 22, "16-byte salt, unpadded");
    assert_eq!(parts[5].len(), 43, "32-byte hash, unpadded");
    assert!(!parts[4].contains('=') && !parts[5].contains('='));
    assert_eq!(verify_password(PEPPER, PASSWORD, &hash), Ok(true));
}

#[test]
fn configured_list_as_strings() {
    let list = vec!["pbkdf2_sha512".to_owned(), "argon2".to_owned()];
    let hash = hash_password(PEPPER, PASSWORD, &list).unwrap();
    assert!(hash.starts_with("$pbkdf2-sha512$25000$"));
    assert_eq!(verify_password(PEPPER, PASSWORD, &hash), Ok(true));
    assert_eq!(verify_password(PEPPER, "", &hash), Ok(false));
}
