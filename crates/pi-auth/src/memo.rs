//! A bounded memo of verified tokens: a client sends the same JWT with every
//! request, and verifying it (two base64 decodes, an HMAC, a JSON parse of
//! the claims with their `rights` list) is a measurable part of a cheap
//! request's cost.

use crate::{verify_with_trusted, AuthError, Claims, TrustedJwt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Tokens that verified, with their claims. A hit is only served while the
/// token's `exp` is in the future; anything else (a miss, an expired entry)
/// goes through [`verify_with_trusted`], so the answer, including every error,
/// is the same as without the memo. Only successes are kept. The memo holds
/// at most `capacity` tokens: when full it is emptied (tokens are re-verified
/// once, no entry outlives its `exp` check).
///
/// The key is the token as sent; the secret and the trusted keys must be the
/// same for every call on one memo (they are fixed for a server's lifetime).
#[derive(Debug)]
pub struct VerifiedTokens {
    map: Mutex<HashMap<String, Arc<Claims>>>,
    capacity: usize,
}

impl VerifiedTokens {
    /// An empty memo of at most `capacity` tokens (0: nothing is kept).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// [`verify_with_trusted`], answered from the memo when the token verified
    /// before and has not expired since. `now` is epoch seconds (`None`: the
    /// system clock).
    ///
    /// # Errors
    ///
    /// Those of [`verify_with_trusted`].
    pub fn verify(
        &self,
        secret: &[u8],
        token: &str,
        now: Option<i64>,
        trusted: &[TrustedJwt],
    ) -> Result<Arc<Claims>, AuthError> {
        let now = now.unwrap_or_else(|| chrono::Utc::now().timestamp());
        if let Some(claims) = self.lookup(token) {
            if claims.exp.is_none_or(|exp| exp > now) {
                return Ok(claims);
            }
        }
        let claims = Arc::new(verify_with_trusted(secret, token, Some(now), trusted)?);
        if self.capacity > 0 {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(token.to_owned(), claims.clone());
        }
        Ok(claims)
    }

    fn lookup(&self, token: &str) -> Option<Arc<Claims>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token).cloned()
    }

    /// How many tokens the memo holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether the memo holds no token.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{issue, Role};

    const SECRET: &[u8] = b"memo-secret";

    fn token(exp_in: u64, now: i64) -> String {
        let claims = Claims::new(
            "admin",
            "",
            Role::Admin,
            "password",
            vec!["policywrite".into()],
        );
        issue(SECRET, &claims, exp_in, now).expect("issue")
    }

    #[test]
    fn a_hit_is_served_until_exp_then_verified_again() {
        let memo = VerifiedTokens::new(8);
        let t = token(100, 1_000);
        let first = memo.verify(SECRET, &t, Some(1_000), &[]).expect("valid");
        assert_eq!(memo.len(), 1);
        let again = memo
            .verify(SECRET, &t, Some(1_050), &[])
            .expect("still valid");
        assert!(Arc::ptr_eq(&first, &again), "served from the memo");
        // at exp the memo does not answer: verification says expired
        assert!(matches!(
            memo.verify(SECRET, &t, Some(1_100), &[]),
            Err(AuthError::Expired)
        ));
    }

    #[test]
    fn failures_are_not_kept_and_errors_are_unchanged() {
        let memo = VerifiedTokens::new(8);
        let t = token(100, 1_000);
        let wrong = memo.verify(b"other", &t, Some(1_000), &[]).unwrap_err();
        let plain = verify_with_trusted(b"other", &t, Some(1_000), &[]).unwrap_err();
        assert_eq!(wrong.code(), plain.code());
        assert_eq!(wrong.message(), plain.message());
        assert!(memo.is_empty());
        let garbage = memo.verify(SECRET, "a.b.c", Some(1_000), &[]).unwrap_err();
        assert_eq!(
            garbage.message(),
            verify_with_trusted(SECRET, "a.b.c", Some(1_000), &[])
                .unwrap_err()
                .message()
        );
        assert!(memo.is_empty());
    }

    #[test]
    fn bounded() {
        let memo = VerifiedTokens::new(2);
        for i in 0..5 {
            memo.verify(SECRET, &token(100 + i, 1_000), Some(1_000), &[])
                .expect("valid");
            assert!(memo.len() <= 2);
        }
        let none = VerifiedTokens::new(0);
        none.verify(SECRET, &token(100, 1_000), Some(1_000), &[])
            .expect("valid");
        assert!(none.is_empty());
    }
}
