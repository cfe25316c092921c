#![doc = include_str!("../README.md")]

mod hash;
mod jwt;
mod memo;
mod sign;
mod trusted;

pub use hash::{
    hash_password, verify_password, HashError, ARGON2_HASH_LEN, ARGON2_M_COST, ARGON2_P_COST,
    ARGON2_T_COST, SALT_LEN, SUPPORTED_ALGORITHMS,
};
pub use jwt::{
    extract_token, issue, new_nonce, require_role, verify, AuthError, Claims, IssueError, Role,
    ALGORITHM,
};
pub use memo::VerifiedTokens;
pub use sign::{KeyError, SignatureVerifier, Signer, SIGNATURE_PREFIX};
pub use trusted::{verify_with_trusted, TrustedJwt, TRUSTED_ALGORITHMS};
