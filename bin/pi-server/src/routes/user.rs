//! `GET /user/`, `GET /user/count` and `GET /user/settings`: the users the
//! resolvers of the realms know, as the released privacyIDEA 3.14 lists and
//! counts them (`api/user.py`). The use cases (the `realmadmin` pre-policy,
//! the `userlist` gates, the token-ownership right, the listing) are
//! `pi_admin::userlist`; this module reads the parameters and builds the
//! envelope (its `detail`: skipped resolvers, truncation).

use super::resource;
use crate::auth::{Auth, Caller};
use crate::envelope;
use crate::error::HttpError;
use crate::server::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use pi_admin::userlist::{self, Answer};
use serde_json::{json, Map, Value};

/// A user-list request that passed its checks (`userlist::authorize`: the
/// caller's JWT, the parameters, `realmadmin` and the `userlist` gates).
struct Authorized {
    state: web::Data<AppState>,
    auth: userlist::Authorized,
}

impl FromRequest for Authorized {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = super::request_parts::<Caller>(req, payload);
        Box::pin(async move {
            let (state, caller, params) = parts.await?;
            let auth = userlist::authorize(&state, &caller, params.into_map())
                .await
                .map_err(HttpError)?;
            Ok(Authorized { state, auth })
        })
    }
}

/// The envelope of a list or count: `detail` reports skipped resolvers and
/// a cut at `PI_USERLIST_MAX`, with the thread id, when there is any.
fn answer(answer: Answer) -> HttpResponse {
    let mut d = Map::new();
    if !answer.skipped_resolvers.is_empty() {
        d.insert("skipped_resolvers".into(), json!(answer.skipped_resolvers));
    }
    if answer.truncated {
        d.insert("truncated".into(), json!(true));
        d.insert("userlist_max".into(), json!(answer.limit));
    }
    if d.is_empty() {
        return envelope::ok(answer.value);
    }
    d.insert("threadid".into(), json!(envelope::thread_id()));
    envelope::json_response(
        actix_web::http::StatusCode::OK,
        &envelope::success_body_with_detail(answer.value, Value::Object(d)),
    )
}

/// `GET /user/`.
async fn list(q: Authorized) -> crate::error::Reply {
    Ok(answer(userlist::list(&q.state, q.auth).await?))
}

/// `GET /user/count`.
async fn count(q: Authorized) -> crate::error::Reply {
    Ok(answer(userlist::count(&q.state, q.auth).await?))
}

/// `GET /user/settings`: the caller's stored WebUI settings document (an
/// empty object when none is stored). A local admin is keyed by name; any
/// caller with a realm by the resolver identity of its login.
async fn settings(state: web::Data<AppState>, Auth(caller): Auth<Caller>) -> crate::error::Reply {
    Ok(envelope::ok(
        pi_admin::users::settings(&state, &caller).await?,
    ))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/user/").route(web::get().to(list)))
        .service(resource("/user/count").route(web::get().to(count)))
        .service(resource("/user/settings").route(web::get().to(settings)));
}
