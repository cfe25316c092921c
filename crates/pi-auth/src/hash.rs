//! Admin password hashes, compatible with privacyIDEA's passlib `CryptContext`.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// Standard base64 alphabet, written without padding, read with or without it.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// passlib's argon2 parameters as privacyIDEA uses them (`argon2__rounds = 9`).
pub const ARGON2_M_COST: u32 = 65536;
/// Argon2 time cost (passes).
pub const ARGON2_T_COST: u32 = 9;
/// Argon2 parallelism (lanes).
pub const ARGON2_P_COST: u32 = 4;
/// Salt length of new hashes, in bytes (all schemes).
pub const SALT_LEN: usize = 16;
/// Argon2 output length, in bytes.
pub const ARGON2_HASH_LEN: usize = 32;

/// Errors of [`hash_password`] and [`verify_password`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// `PI_HASH_ALGO_LIST` is empty.
    #[error("the hash algorithm list is empty")]
    EmptyAlgoList,
    /// The first entry of `PI_HASH_ALGO_LIST` is not a scheme we can produce.
    #[error("unsupported hash algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// The stored hash is in no format we know (its text is not repeated: it is a secret).
    #[error("unknown password hash format")]
    UnknownFormat,
    /// The stored hash names a known scheme but cannot be parsed.
    #[error("malformed `{scheme}` hash: {reason}")]
    Malformed {
        /// The scheme (`argon2id`, `pbkdf2-sha512`, …).
        scheme: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The argon2 implementation rejected the parameters.
    #[error("argon2 failure: {0}")]
    Argon2(String),
}

/// The schemes [`hash_password`] can produce, by their passlib names.
pub const SUPPORTED_ALGORITHMS: &[&str] =
    &["argon2", "pbkdf2_sha512", "pbkdf2_sha256", "pbkdf2_sha1"];

/// Hashes `pepper + password` with the first scheme of `algo_list` (privacyIDEA's
/// `PI_HASH_ALGO_LIST`), like passlib does for privacyIDEA:
///
/// * `argon2`: `$argon2id$v=19$m=65536,t=9,p=4$<salt>$<hash>` (16-byte salt, 32-byte hash,
///   unpadded standard base64),
/// * `pbkdf2_sha512` / `pbkdf2_sha256` / `pbkdf2_sha1`: `$pbkdf2-sha512$25000$…`,
///   `$pbkdf2-sha256$29000$…`, `$pbkdf2$131000$…` (passlib's default rounds, 16-byte salt,
///   "ab64" base64 with `.` for `+`).
///
/// # Errors
///
/// [`HashError::EmptyAlgoList`], [`HashError::UnsupportedAlgorithm`] (e.g. `bcrypt`), or
/// [`HashError::Argon2`].
pub fn hash_password<S: AsRef<str>>(
    pepper: &str,
    password: &str,
    algo_list: &[S],
) -> Result<String, HashError> {
    let algo = algo_list.first().ok_or(HashError::EmptyAlgoList)?.as_ref();
    let secret = format!("{pepper}{password}");
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    match algo {
        "argon2" => {
            let params = Params::new(
                ARGON2_M_COST,
                ARGON2_T_COST,
                ARGON2_P_COST,
                Some(ARGON2_HASH_LEN),
            )
            .map_err(|e| HashError::Argon2(e.to_string()))?;
            let mut out = [0u8; ARGON2_HASH_LEN];
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password_into(secret.as_bytes(), &salt, &mut out)
                .map_err(|e| HashError::Argon2(e.to_string()))?;
            Ok(format!(
                "$argon2id$v=19$m={ARGON2_M_COST},t={ARGON2_T_COST},p={ARGON2_P_COST}${}${}",
                B64.encode(salt),
                B64.encode(out)
            ))
        }
        "pbkdf2_sha512" | "pbkdf2_sha256" | "pbkdf2_sha1" => {
            let digest = match algo {
                "pbkdf2_sha512" => Digest::Sha512,
                "pbkdf2_sha256" => Digest::Sha256,
                _ => Digest::Sha1,
            };
            let rounds = digest.default_rounds();
            let out = digest.derive(secret.as_bytes(), &salt, rounds, digest.len());
            Ok(format!(
                "${}${rounds}${}${}",
                digest.ident(),
                ab64_encode(&salt),
                ab64_encode(&out)
            ))
        }
        other => Err(HashError::UnsupportedAlgorithm(other.to_owned())),
    }
}

/// Checks `pepper + password` against a stored hash in constant time.
///
/// Accepted formats: `$argon2id$…` and `$argon2i$…` (any parameters, with or without `v=`),
/// passlib's `$pbkdf2-sha512$…`, `$pbkdf2-sha256$…` and `$pbkdf2$…` (SHA-1). Unlike passlib,
/// a hash is accepted whatever `PI_HASH_ALGO_LIST` says, as long as its format is known.
///
/// # Errors
///
/// [`HashError::UnknownFormat`] or [`HashError::Malformed`] if the hash cannot be read,
/// [`HashError::Argon2`] if its argon2 parameters are out of range. A wrong password is
/// `Ok(false)`, never an error.
pub fn verify_password(pepper: &str, password: &str, hash: &str) -> Result<bool, HashError> {
    let secret = format!("{pepper}{password}");
    let parts: Vec<&str> = hash.split('$').collect();
    if parts.len() < 2 || !parts[0].is_empty() {
        return Err(HashError::UnknownFormat);
    }
    match parts[1] {
        "argon2id" => verify_argon2(Algorithm::Argon2id, "argon2id", &parts[2..], &secret),
        "argon2i" => verify_argon2(Algorithm::Argon2i, "argon2i", &parts[2..], &secret),
        "pbkdf2-sha512" => verify_pbkdf2(Digest::Sha512, &parts[2..], &secret),
        "pbkdf2-sha256" => verify_pbkdf2(Digest::Sha256, &parts[2..], &secret),
        "pbkdf2" => verify_pbkdf2(Digest::Sha1, &parts[2..], &secret),
        _ => Err(HashError::UnknownFormat),
    }
}

fn verify_argon2(
    algorithm: Algorithm,
    scheme: &'static str,
    parts: &[&str],
    secret: &str,
) -> Result<bool, HashError> {
    let malformed = |reason| HashError::Malformed { scheme, reason };
    // [v=19,] m=..,t=..,p=.., salt, hash
    let (version, rest) = match parts.first().and_then(|v| v.strip_prefix("v=")) {
        Some(v) => {
            let n: u32 = v.parse().map_err(|_| malformed("bad version"))?;
            let version = Version::try_from(n).map_err(|_| malformed("unknown version"))?;
            (version, &parts[1..])
        }
        None => (Version::V0x10, parts),
    };
    let [params, salt, digest] = rest else {
        return Err(malformed("wrong number of fields"));
    };
    let (mut m, mut t, mut p) = (None, None, None);
    for kv in params.split(',') {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| malformed("bad parameters"))?;
        let v: u32 = v.parse().map_err(|_| malformed("bad parameters"))?;
        match k {
            "m" => m = Some(v),
            "t" => t = Some(v),
            "p" => p = Some(v),
            _ => return Err(malformed("unsupported parameter")),
        }
    }
    let (Some(m), Some(t), Some(p)) = (m, t, p) else {
        return Err(malformed("missing parameter"));
    };
    let salt = B64
        .decode(salt)
        .map_err(|_| malformed("bad salt encoding"))?;
    let expected = B64
        .decode(digest)
        .map_err(|_| malformed("bad hash encoding"))?;
    let params =
        Params::new(m, t, p, Some(expected.len())).map_err(|e| HashError::Argon2(e.to_string()))?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into(secret.as_bytes(), &salt, &mut out)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(bool::from(out.ct_eq(&expected)))
}

fn verify_pbkdf2(digest: Digest, parts: &[&str], secret: &str) -> Result<bool, HashError> {
    let malformed = |reason| HashError::Malformed {
        scheme: digest.ident(),
        reason,
    };
    let [rounds, salt, checksum] = parts else {
        return Err(malformed("wrong number of fields"));
    };
    let rounds: u32 = rounds.parse().map_err(|_| malformed("bad rounds"))?;
    if rounds == 0 {
        return Err(malformed("bad rounds"));
    }
    let salt = ab64_decode(salt).ok_or_else(|| malformed("bad salt encoding"))?;
    let expected = ab64_decode(checksum).ok_or_else(|| malformed("bad checksum encoding"))?;
    if expected.len() != digest.len() {
        return Err(malformed("bad checksum length"));
    }
    let out = digest.derive(secret.as_bytes(), &salt, rounds, expected.len());
    Ok(bool::from(out.ct_eq(&expected)))
}

#[derive(Debug, Clone, Copy)]
enum Digest {
    Sha512,
    Sha256,
    Sha1,
}

impl Digest {
    fn ident(self) -> &'static str {
        match self {
            Self::Sha512 => "pbkdf2-sha512",
            Self::Sha256 => "pbkdf2-sha256",
            Self::Sha1 => "pbkdf2",
        }
    }

    /// passlib 1.7's default rounds.
    fn default_rounds(self) -> u32 {
        match self {
            Self::Sha512 => 25000,
            Self::Sha256 => 29000,
            Self::Sha1 => 131_000,
        }
    }

    fn len(self) -> usize {
        match self {
            Self::Sha512 => 64,
            Self::Sha256 => 32,
            Self::Sha1 => 20,
        }
    }

    fn derive(self, secret: &[u8], salt: &[u8], rounds: u32, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        match self {
            Self::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(secret, salt, rounds, &mut out),
            Self::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(secret, salt, rounds, &mut out),
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(secret, salt, rounds, &mut out),
        }
        out
    }
}

/// passlib's "adapted base64": standard alphabet with `.` instead of `+`, no padding.
fn ab64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes).replace('+', ".")
}

fn ab64_decode(text: &str) -> Option<Vec<u8>> {
    if text.contains('+') {
        return None;
    }
    B64.decode(text.replace('.', "+")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEPPER: &str = "zzsWra6vnoYFrlVXJM3DlgPO";

    #[test]
    fn ab64_round_trip() {
        let bytes: Vec<u8> = (0u8..=255).collect();
        let text = ab64_encode(&bytes);
        assert!(!text.contains('+') && !text.contains('='));
        assert_eq!(ab64_decode(&text), Some(bytes));
    }

    #[test]
    fn pbkdf2_round_trips() {
        for algo in ["pbkdf2_sha512", "pbkdf2_sha256", "pbkdf2_sha1"] {
            let hash = hash_password(PEPPER, "Test123!", &[algo]).unwrap();
            assert!(
                verify_password(PEPPER, "Test123!", &hash).unwrap(),
                "{hash}"
            );
            assert!(
                !verify_password(PEPPER, "Test123?", &hash).unwrap(),
                "{hash}"
            );
            assert!(
                !verify_password("other", "Test123!", &hash).unwrap(),
                "{hash}"
            );
        }
    }

    #[test]
    fn pbkdf2_formats() {
        let hash = hash_password(PEPPER, "x", &["pbkdf2_sha512"]).unwrap();
        let parts: Vec<&str> = hash.split('$').collect();
        assert_eq!(&parts[..3], ["", "pbkdf2-sha512", "25000"]);
        assert_eq!(parts[3].len(), 22);
        assert_eq!(parts[4].len(), 86);
        assert!(hash_password(PEPPER, "x", &["pbkdf2_sha256"])
            .unwrap()
            .starts_with("$pbkdf2-sha256$29000$"));
        assert!(hash_password(PEPPER, "x", &["pbkdf2_sha1"])
            .unwrap()
            .starts_with("$pbkdf2$131000$"));
    }

    #[test]
    fn algo_list_errors() {
        assert_eq!(
            hash_password::<&str>(PEPPER, "x", &[]),
            Err(HashError::EmptyAlgoList)
        );
        assert_eq!(
            hash_password(PEPPER, "x", &["bcrypt"]),
            Err(HashError::UnsupportedAlgorithm("bcrypt".into()))
        );
    }

    #[test]
    fn unknown_and_malformed_hashes() {
        for bad in [
            "",
            "plain",
            "$bcrypt$xyz",
            "$2b$12$abc",
            "$argon2d$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert_eq!(
                verify_password(PEPPER, "x", bad),
                Err(HashError::UnknownFormat),
                "{bad}"
            );
        }
        assert!(matches!(
            verify_password(PEPPER, "x", "$pbkdf2-sha512$25000$abc"),
            Err(HashError::Malformed { .. })
        ));
        assert!(matches!(
            verify_password(PEPPER, "x", "$pbkdf2-sha512$many$abc$def"),
            Err(HashError::Malformed { .. })
        ));
        assert!(matches!(
            verify_password(PEPPER, "x", "$argon2id$v=19$m=8,t=1$c2FsdHNhbHQ$aGFzaA"),
            Err(HashError::Malformed { .. })
        ));
    }

    #[test]
    fn small_argon2_hashes_verify() {
        // RFC 9106-independent check with cheap parameters: hash with the crate, verify ours.
        let params = Params::new(8, 1, 1, Some(32)).unwrap();
        let salt = b"saltsaltsaltsalt";
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
            .hash_password_into(format!("{PEPPER}pw").as_bytes(), salt, &mut out)
            .unwrap();
        let hash = format!(
            "$argon2i$v=19$m=8,t=1,p=1${}${}",
            B64.encode(salt),
            B64.encode(out)
        );
        assert!(verify_password(PEPPER, "pw", &hash).unwrap());
        assert!(!verify_password(PEPPER, "pW", &hash).unwrap());
    }
}
