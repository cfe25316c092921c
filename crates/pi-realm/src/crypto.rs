//! Encryption of resolver passwords, compatible with privacyIDEA's default
//! security module (`PI_ENCFILE`).
//!
//! # Format (read from privacyIDEA 3.14 `lib/security/default.py`)
//!
//! * The key file holds **96 raw bytes**: three 32-byte AES-256 keys, slot 0 =
//!   token key, slot 1 = **config key** (resolver passwords, `encryptPassword`),
//!   slot 2 = value key. It is *not* hex. `pi-manage setup create_enckey`
//!   writes `os.urandom(96)` and sets mode `0400`.
//! * A key file longer than 100 bytes is taken as *password-encrypted*
//!   (`pi-manage setup encrypt_enckey`): the text `<iv hex>:<cipher hex>`,
//!   AES-256-CBC with key `sha256(password)`, plaintext = hex of the 96 key
//!   bytes followed by `0x01 0x02` and zero padding. See
//!   [`EncKey::load_with_password`].
//! * A password is encrypted with the config key, AES-256-CBC, a fresh random
//!   16-byte IV and PKCS#7 padding of its UTF-8 bytes, and stored as
//!   `<iv hex>:<ciphertext hex>` (lower-case hex).
//! * Decryption splits at the first `:`, and after CBC decryption removes the
//!   PKCS#7 padding; if that padding is invalid the *legacy* format is tried
//!   (cut at the last `0x01 0x02`, then hex-decode), exactly as privacyIDEA does.

use std::fs;
use std::io::Write;
use std::path::Path;

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rand::RngCore;
use sha2::{Digest, Sha256};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Length of a plain key file: three 32-byte keys.
pub const KEY_FILE_LEN: usize = 96;

/// privacyIDEA's placeholder for a password that could not be decrypted
/// (`FAILED_TO_DECRYPT_PASSWORD` in `lib/crypto.py`); it shows up in resolver
/// configurations instead of an error.
pub const FAILED_TO_DECRYPT_PASSWORD: &str = "FAILED TO DECRYPT PASSWORD!";

/// Slot of the token key (PINs, OTP keys).
const TOKEN_KEY: usize = 0;
/// Slot of the config key (resolver and other config passwords).
const CONFIG_KEY: usize = 1;

/// Errors of key loading and password encryption.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file could not be read or written.
    #[error("key file `{path}`: {source}")]
    Io {
        /// The key file path.
        path: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file exists and would be overwritten.
    #[error("key file `{0}` already exists, refusing to overwrite it")]
    Exists(String),
    /// The key file does not have the expected size.
    #[error("key file `{path}` holds {len} bytes, expected {KEY_FILE_LEN}")]
    BadLength {
        /// The key file path.
        path: String,
        /// Its length.
        len: usize,
    },
    /// The key file is password-encrypted; use [`EncKey::load_with_password`].
    #[error("key file `{0}` is encrypted, a password is needed to open it")]
    NeedsPassword(String),
    /// The password for an encrypted key file is wrong (or the file is damaged).
    #[error("cannot decrypt the key file, probably a wrong password")]
    WrongKeyPassword,
    /// A stored value is not `<iv hex>:<cipher hex>` or does not decrypt.
    #[error("cannot decrypt value: {0}")]
    Decrypt(&'static str),
}

/// The three AES-256 keys of privacyIDEA's `PI_ENCFILE`.
#[derive(Clone)]
pub struct EncKey {
    keys: [[u8; 32]; 3],
}

impl std::fmt::Debug for EncKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncKey(..)")
    }
}

impl EncKey {
    /// Builds the key set from the 96 raw bytes of a key file.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_FILE_LEN {
            return None;
        }
        let mut keys = [[0u8; 32]; 3];
        for (slot, chunk) in keys.iter_mut().zip(bytes.chunks_exact(32)) {
            slot.copy_from_slice(chunk);
        }
        Some(Self { keys })
    }

    /// Loads a plain (not password-encrypted) key file.
    ///
    /// Like privacyIDEA, a file of more than 100 bytes is taken as encrypted
    /// ([`CryptoError::NeedsPassword`]). Files of 96 to 100 bytes use their
    /// first 96 bytes (privacyIDEA reads the slots by offset and ignores the
    /// rest); shorter files are rejected.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| io_err(path, source))?;
        if bytes.len() > 100 {
            return Err(CryptoError::NeedsPassword(path.display().to_string()));
        }
        bytes
            .get(..KEY_FILE_LEN)
            .and_then(Self::from_bytes)
            .ok_or_else(|| CryptoError::BadLength {
                path: path.display().to_string(),
                len: bytes.len(),
            })
    }

    /// Loads a key file written by `pi-manage setup encrypt_enckey`, opening it
    /// with `password`. A plain key file is accepted as well (the password is
    /// then ignored), so callers can pass the configured password either way.
    pub fn load_with_password(path: impl AsRef<Path>, password: &str) -> Result<Self, CryptoError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| io_err(path, source))?;
        if bytes.len() <= 100 {
            return Self::load(path);
        }
        let text = String::from_utf8(bytes).map_err(|_| CryptoError::WrongKeyPassword)?;
        let key: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        let (iv, data) = split_iv_cipher(text.trim())?;
        let plain = cbc_decrypt_raw(&key, &iv, data).ok_or(CryptoError::WrongKeyPassword)?;
        let plain = legacy_unpad(&plain).ok_or(CryptoError::WrongKeyPassword)?;
        Self::from_bytes(&plain).ok_or(CryptoError::WrongKeyPassword)
    }

    /// Creates a new key file with 96 random bytes and mode `0400` (owner
    /// read-only), like `pi-manage setup create_enckey`. Refuses to overwrite
    /// an existing file.
    pub fn generate_file(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        let path = path.as_ref();
        let mut bytes = [0u8; KEY_FILE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o400);
        }
        let mut file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                CryptoError::Exists(path.display().to_string())
            } else {
                io_err(path, source)
            }
        })?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|source| io_err(path, source))?;
        Self::from_bytes(&bytes).ok_or(CryptoError::BadLength {
            path: path.display().to_string(),
            len: bytes.len(),
        })
    }

    /// Encrypts a resolver password with the config key (slot 1), as
    /// privacyIDEA's `encryptPassword`: `<iv hex>:<ciphertext hex>`.
    pub fn encrypt_password(&self, plain: &str) -> String {
        self.encrypt_slot(CONFIG_KEY, plain.as_bytes())
    }

    /// Decrypts a value produced by [`EncKey::encrypt_password`] or by
    /// privacyIDEA's `encryptPassword` with the same key file.
    ///
    /// privacyIDEA itself turns any failure into the text
    /// [`FAILED_TO_DECRYPT_PASSWORD`]; callers that want that behaviour use
    /// `unwrap_or_else(|_| FAILED_TO_DECRYPT_PASSWORD.into())`.
    pub fn decrypt_password(&self, stored: &str) -> Result<String, CryptoError> {
        self.decrypt_slot(CONFIG_KEY, stored)
    }

    /// Encrypts a PIN with the token key (slot 0), as privacyIDEA's `encryptPin`.
    pub fn encrypt_pin(&self, plain: &str) -> String {
        self.encrypt_slot(TOKEN_KEY, plain.as_bytes())
    }

    /// Decrypts a value of [`EncKey::encrypt_pin`] / privacyIDEA's `encryptPin`.
    pub fn decrypt_pin(&self, stored: &str) -> Result<String, CryptoError> {
        self.decrypt_slot(TOKEN_KEY, stored)
    }

    fn encrypt_slot(&self, slot: usize, data: &[u8]) -> String {
        let mut iv = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut iv);
        let mut buf = data.to_vec();
        let pad = 16 - buf.len() % 16;
        buf.extend(std::iter::repeat_n(pad as u8, pad));
        let key = &self.keys[slot];
        let len = buf.len();
        // The buffer is a whole number of blocks, so this cannot fail; fall
        // back to an empty ciphertext rather than panicking.
        let cipher = Aes256CbcEnc::new(key.into(), (&iv).into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        format!("{}:{}", hex::encode(iv), hex::encode(cipher))
    }

    fn decrypt_slot(&self, slot: usize, stored: &str) -> Result<String, CryptoError> {
        let (iv, data) = split_iv_cipher(stored)?;
        let plain = cbc_decrypt_raw(&self.keys[slot], &iv, data).ok_or(CryptoError::Decrypt(
            "ciphertext is not a whole number of blocks",
        ))?;
        let clear = match pkcs7_unpad(&plain) {
            Some(clear) => clear.to_vec(),
            None => legacy_unpad(&plain).ok_or(CryptoError::Decrypt("bad padding"))?,
        };
        String::from_utf8(clear).map_err(|_| CryptoError::Decrypt("plaintext is not utf-8"))
    }
}

fn io_err(path: &Path, source: std::io::Error) -> CryptoError {
    CryptoError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Splits `<iv hex>:<cipher hex>` at the first `:` and decodes both halves.
fn split_iv_cipher(stored: &str) -> Result<([u8; 16], Vec<u8>), CryptoError> {
    let (iv_hex, data_hex) = stored.split_once(':').ok_or(CryptoError::Decrypt(
        "missing `:` between iv and ciphertext",
    ))?;
    let iv = hex::decode(iv_hex).map_err(|_| CryptoError::Decrypt("iv is not hex"))?;
    let iv: [u8; 16] = iv
        .try_into()
        .map_err(|_| CryptoError::Decrypt("iv is not 16 bytes"))?;
    let data = hex::decode(data_hex).map_err(|_| CryptoError::Decrypt("ciphertext is not hex"))?;
    Ok((iv, data))
}

/// AES-256-CBC decryption without removing any padding.
fn cbc_decrypt_raw(key: &[u8; 32], iv: &[u8; 16], mut data: Vec<u8>) -> Option<Vec<u8>> {
    if data.len() % 16 != 0 {
        return None;
    }
    let len = Aes256CbcDec::new(key.into(), iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .ok()?
        .len();
    data.truncate(len);
    Some(data)
}

/// Strict PKCS#7 unpadding (as `cryptography`'s unpadder).
fn pkcs7_unpad(data: &[u8]) -> Option<&[u8]> {
    let &last = data.last()?;
    let n = usize::from(last);
    if n == 0 || n > 16 || n > data.len() {
        return None;
    }
    let (clear, pad) = data.split_at(data.len() - n);
    pad.iter().all(|&b| b == last).then_some(clear)
}

/// privacyIDEA's legacy padding: hex text, then `0x01 0x02`, then zeros.
fn legacy_unpad(data: &[u8]) -> Option<Vec<u8>> {
    let end = data
        .windows(2)
        .rposition(|w| w == [1, 2])
        .unwrap_or(data.len());
    hex::decode(&data[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name)
    }

    fn vectors() -> serde_json::Value {
        let text = fs::read_to_string(testdata("enckey.vectors.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn pairs(v: &serde_json::Value, key: &str) -> Vec<(String, String)> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn decrypts_values_encrypted_by_privacyidea() {
        let key = EncKey::load(testdata("enckey")).unwrap();
        let v = vectors();
        let all: Vec<_> = pairs(&v, "password_vectors")
            .into_iter()
            .chain(pairs(&v, "legacy_vectors"))
            .chain(pairs(&v, "rust_vectors"))
            .collect();
        assert!(all.len() >= 8);
        for (plain, stored) in all {
            assert_eq!(key.decrypt_password(&stored).unwrap(), plain, "{stored}");
        }
    }

    /// Prints values encrypted here, for checking them with privacyIDEA
    /// (`testdata/check_rust_vectors.py`); their result is recorded as
    /// `rust_vectors` in `enckey.vectors.json`.
    #[test]
    #[ignore]
    fn emit_rust_vectors() {
        let key = EncKey::load(testdata("enckey")).unwrap();
        let v: Vec<_> = ["rust secret", "", "pässwörd ☃ 0123456789abcdef"]
            .iter()
            .map(|p| serde_json::json!([p, key.encrypt_password(p)]))
            .collect();
        println!("RUST_VECTORS={}", serde_json::Value::Array(v));
    }

    #[test]
    fn round_trip_and_format() {
        let key = EncKey::load(testdata("enckey")).unwrap();
        for plain in [
            "",
            "a",
            "sixteen bytes!!!",
            "pässwörd ☃ with more than one block",
        ] {
            let stored = key.encrypt_password(plain);
            let (iv, ct) = stored.split_once(':').unwrap();
            assert_eq!(iv.len(), 32);
            assert_eq!(ct.len() % 32, 0);
            assert!(ct.len() >= 32);
            assert!(stored
                .chars()
                .all(|c| c == ':' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
            assert_eq!(key.decrypt_password(&stored).unwrap(), plain);
            // upper-case hex is accepted too (binascii.unhexlify is case-blind)
            assert_eq!(key.decrypt_password(&stored.to_uppercase()).unwrap(), plain);
        }
        // random IV: two encryptions differ
        assert_ne!(key.encrypt_password("x"), key.encrypt_password("x"));
    }

    #[test]
    fn pin_slot_differs_from_config_slot() {
        let key = EncKey::load(testdata("enckey")).unwrap();
        let pin = key.encrypt_pin("1234");
        assert_eq!(key.decrypt_pin(&pin).unwrap(), "1234");
        assert_ne!(key.decrypt_password(&pin).ok().as_deref(), Some("1234"));
    }

    #[test]
    fn malformed_values_are_errors() {
        let key = EncKey::load(testdata("enckey")).unwrap();
        for bad in [
            "",
            "nocolon",
            "zz:00",
            "00:00",
            "00112233445566778899aabbccddeeff:0011",
            "00112233445566778899aabbccddeeff:xyz",
        ] {
            assert!(
                matches!(key.decrypt_password(bad), Err(CryptoError::Decrypt(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn encrypted_key_file() {
        let v = vectors();
        let pw = v["encrypted_keyfile_password"].as_str().unwrap();
        let path = testdata("enckey.encrypted");
        assert!(matches!(
            EncKey::load(&path),
            Err(CryptoError::NeedsPassword(_))
        ));
        assert!(matches!(
            EncKey::load_with_password(&path, "wrong"),
            Err(CryptoError::WrongKeyPassword)
        ));
        let key = EncKey::load_with_password(&path, pw).unwrap();
        let plain = EncKey::load(testdata("enckey")).unwrap();
        assert_eq!(key.keys, plain.keys);
        // a plain file opens with any password
        assert!(EncKey::load_with_password(testdata("enckey"), "ignored").is_ok());
    }

    #[test]
    fn generate_refuses_overwrite_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enckey");
        let key = EncKey::generate_file(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap().len(), KEY_FILE_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o400);
        }
        assert!(matches!(
            EncKey::generate_file(&path),
            Err(CryptoError::Exists(_))
        ));
        let loaded = EncKey::load(&path).unwrap();
        assert_eq!(
            loaded
                .decrypt_password(&key.encrypt_password("pw"))
                .unwrap(),
            "pw"
        );
    }

    #[test]
    fn bad_key_file_lengths() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("short");
        fs::write(&short, [0u8; 64]).unwrap();
        assert!(matches!(
            EncKey::load(&short),
            Err(CryptoError::BadLength { len: 64, .. })
        ));
        let long = dir.path().join("long");
        fs::write(&long, [7u8; 100]).unwrap();
        assert!(EncKey::load(&long).is_ok());
        assert!(matches!(
            EncKey::load(dir.path().join("missing")),
            Err(CryptoError::Io { .. })
        ));
    }
}
