//! The shape the configuration writes of the server share: the store call
//! under the request's `If-Match` precondition on the blocking pool, its
//! outcome mapped to privacyIDEA's answer or error (each write has its own
//! texts), then — only after a successful write — the snapshot refreshed,
//! so the client reads its own write.

use crate::error::ApiResult;
use crate::state::AppState;
use pi_store::{Precondition, Store, StoreError};

/// `write` on the store under `pre`, `answer` over its outcome, then the
/// snapshot refreshed; the answer.
pub(crate) async fn checked_write<T, R>(
    state: &AppState,
    pre: Option<Precondition>,
    write: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    answer: impl FnOnce(T) -> ApiResult<R>,
) -> ApiResult<R>
where
    T: Send + 'static,
{
    let outcome = state.db(move |s| s.with_precondition(pre, write)).await?;
    let value = answer(outcome)?;
    state.refresh().await?;
    Ok(value)
}
