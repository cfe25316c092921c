//! privacyIDEA's response and audit signatures: RSA-PSS with SHA-256, MGF1
//! SHA-256 and the maximal salt length, written `rsa_sha256_pss:<hex>`
//! (spec §7.3).

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::pss::{BlindedSigningKey, Signature, VerifyingKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier as _};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// The version prefix of every signature.
pub const SIGNATURE_PREFIX: &str = "rsa_sha256_pss";

/// A key that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// PSS's largest salt for a modulus of `bits` bits and SHA-256
/// (what Python's `cryptography` uses for `PSS.MAX_LENGTH`).
fn max_salt_len(bits: usize) -> usize {
    let em_len = bits.saturating_sub(1).div_ceil(8);
    em_len.saturating_sub(32 + 2)
}

/// Signs texts with a private RSA key (PEM, PKCS#8 or PKCS#1).
#[derive(Clone)]
pub struct Signer {
    key: BlindedSigningKey<Sha256>,
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
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| KeyError(format!("not an RSA private key in PEM form: {e}")))?;
        let salt = max_salt_len(key.n().bits());
        Ok(Signer {
            key: BlindedSigningKey::new_with_salt_len(key, salt),
        })
    }

    /// `rsa_sha256_pss:<lower-case hex>` of `text` (privacyIDEA's `Sign.sign`).
    pub fn sign(&self, text: &str) -> String {
        let sig = self
            .key
            .sign_with_rng(&mut rand::rngs::OsRng, text.as_bytes());
        format!("{SIGNATURE_PREFIX}:{}", hex::encode(sig.to_bytes()))
    }
}

/// Checks signatures with a public RSA key (PEM, SPKI or PKCS#1).
#[derive(Debug, Clone)]
pub struct SignatureVerifier {
    key: VerifyingKey<Sha256>,
}

impl SignatureVerifier {
    /// A verifier from a PEM public key.
    ///
    /// # Errors
    ///
    /// [`KeyError`] when the text is not an RSA public key.
    pub fn from_pem(pem: &str) -> Result<SignatureVerifier, KeyError> {
        let key = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|e| KeyError(format!("not an RSA public key in PEM form: {e}")))?;
        let salt = max_salt_len(key.n().bits());
        Ok(SignatureVerifier {
            key: VerifyingKey::new_with_salt_len(key, salt),
        })
    }

    /// Whether `signature` (`rsa_sha256_pss:<hex>`) signs `text`.
    pub fn verify(&self, text: &str, signature: &str) -> bool {
        let Some(hex_sig) = signature
            .strip_prefix(SIGNATURE_PREFIX)
            .and_then(|s| s.strip_prefix(':'))
        else {
            return false;
        };
        let Ok(bytes) = hex::decode(hex_sig) else {
            return false;
        };
        let Ok(sig) = Signature::try_from(bytes.as_slice()) else {
            return false;
        };
        self.key.verify(text.as_bytes(), &sig).is_ok()
    }
}
