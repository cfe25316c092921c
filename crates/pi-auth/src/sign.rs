//! privacyIDEA's response and audit signatures: RSA-PSS with SHA-256, MGF1
//! SHA-256 and the maximal salt length, written `rsa_sha256_pss:<hex>`
//! (spec/realm-auth-server.md §7.3). OpenSSL does the RSA work, as it does for privacyIDEA
//! (through Python's `cryptography`).

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Padding;
use openssl::sign::RsaPssSaltlen;

/// The version prefix of every signature.
pub const SIGNATURE_PREFIX: &str = "rsa_sha256_pss";

/// A key that could not be used, or a failed signature.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

impl From<openssl::error::ErrorStack> for KeyError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        KeyError(e.to_string())
    }
}

/// Signs texts with a private RSA key (PEM, PKCS#8 or PKCS#1).
#[derive(Clone)]
pub struct Signer {
    key: PKey<Private>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { .. }")
    }
}

impl Signer {
    /// A signer from a PEM private key.
    ///
    /// # Errors
    ///
    /// [`KeyError`] when the text is not an RSA private key.
    pub fn from_pem(pem: &str) -> Result<Signer, KeyError> {
        let key = PKey::private_key_from_pem(pem.as_bytes())
            .map_err(|e| KeyError(format!("not a private key in PEM form: {e}")))?;
        if key.rsa().is_err() {
            return Err(KeyError("not an RSA private key".into()));
        }
        Ok(Signer { key })
    }

    /// `rsa_sha256_pss:<lower-case hex>` of `text` (privacyIDEA's `Sign.sign`).
    ///
    /// # Errors
    ///
    /// [`KeyError`] if OpenSSL fails to sign (not expected for a loaded key).
    pub fn sign(&self, text: &str) -> Result<String, KeyError> {
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &self.key)?;
        s.set_rsa_padding(Padding::PKCS1_PSS)?;
        s.set_rsa_mgf1_md(MessageDigest::sha256())?;
        s.set_rsa_pss_saltlen(RsaPssSaltlen::MAXIMUM_LENGTH)?;
        s.update(text.as_bytes())?;
        Ok(format!(
            "{SIGNATURE_PREFIX}:{}",
            hex::encode(s.sign_to_vec()?)
        ))
    }
}

/// Checks signatures with a public RSA key (PEM, SPKI or PKCS#1).
#[derive(Clone)]
pub struct SignatureVerifier {
    key: PKey<Public>,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignatureVerifier { .. }")
    }
}

impl SignatureVerifier {
    /// A verifier from a PEM public key.
    ///
    /// # Errors
    ///
    /// [`KeyError`] when the text is not an RSA public key.
    pub fn from_pem(pem: &str) -> Result<SignatureVerifier, KeyError> {
        let key = PKey::public_key_from_pem(pem.as_bytes())
            .or_else(|_| {
                openssl::rsa::Rsa::public_key_from_pem_pkcs1(pem.as_bytes())
                    .and_then(PKey::from_rsa)
            })
            .map_err(|e| KeyError(format!("not a public key in PEM form: {e}")))?;
        if key.rsa().is_err() {
            return Err(KeyError("not an RSA public key".into()));
        }
        Ok(SignatureVerifier { key })
    }

    /// Whether `signature` (`rsa_sha256_pss:<hex>`) signs `text`.
    pub fn verify(&self, text: &str, signature: &str) -> bool {
        let Some(hex_sig) = signature
            .strip_prefix(SIGNATURE_PREFIX)
            .and_then(|s| s.strip_prefix(':'))
        else {
            return false;
        };
        let Ok(sig) = hex::decode(hex_sig) else {
            return false;
        };
        self.check(text, &sig).unwrap_or(false)
    }

    fn check(&self, text: &str, sig: &[u8]) -> Result<bool, openssl::error::ErrorStack> {
        let mut v = openssl::sign::Verifier::new(MessageDigest::sha256(), &self.key)?;
        v.set_rsa_padding(Padding::PKCS1_PSS)?;
        v.set_rsa_mgf1_md(MessageDigest::sha256())?;
        v.set_rsa_pss_saltlen(RsaPssSaltlen::MAXIMUM_LENGTH)?;
        v.update(text.as_bytes())?;
        v.verify(sig)
    }
}
