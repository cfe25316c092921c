//! `GET /policy/lint`: the policy linter (`pi_policy::lint`) over the
//! current snapshot — not part of privacyIDEA.
//!
//! Gate: `policyread`, as `GET /policy/`. A policy literally named `lint`
//! keeps privacyIDEA's meaning of `GET /policy/lint` (that policy); the
//! linter is then reached at `GET /policy/lint/` (which privacyIDEA answers
//! with 404), see docs/compatibility.md.

use super::gated;
use crate::auth::Admin;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::server::AppState;
use actix_web::{web, HttpResponse};
use pi_admin::gate::PolicyRead;
use pi_admin::policy::node_names;
use pi_admin::Snapshot;
use pi_policy::lint::{lint, report, LintContext};
use std::sync::Arc;

async fn answer(state: &AppState, snap: &Arc<Snapshot>) -> ApiResult<HttpResponse> {
    let ctx = LintContext {
        realms: snap.realms.iter().map(|r| r.name.clone()).collect(),
        resolvers: snap.resolvers.iter().map(|r| r.name.clone()).collect(),
        nodes: node_names(state).await?,
        superuser_realms: state.cfg.superuser_realm.clone(),
    };
    // thousands of policies take a noticeable moment: off the worker thread
    let snap = Arc::clone(snap);
    let value = web::block(move || report(&lint(&snap.policies, &ctx)))
        .await
        .map_err(ApiError::internal)?;
    Ok(envelope::ok(value))
}

/// `GET /policy/lint` when no policy is named `lint` (`None`: there is
/// one, answer it as privacyIDEA does).
pub(super) async fn unless_named_policy(
    state: &AppState,
    admin: &Admin,
    params: &Params,
) -> ApiResult<Option<HttpResponse>> {
    let granted = gated::<PolicyRead>(state, admin, params).await?;
    let snap = granted.snapshot();
    if snap.policies.iter().any(|p| p.name == "lint") {
        return Ok(None);
    }
    answer(state, snap).await.map(Some)
}

/// `GET /policy/lint/`: always the linter.
pub(crate) async fn get(on: crate::routes::Allowed<PolicyRead>) -> crate::error::Reply {
    Ok(answer(&on.state, on.granted.snapshot()).await?)
}
