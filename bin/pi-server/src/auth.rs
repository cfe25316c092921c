//! Authentication of every request but `POST /auth`: the JWT from
//! `PI-Authorization`, else `Authorization`, verified with the configured key
//! and algorithm; the role decides which blueprints the caller may use.

use crate::error::{ApiError, HttpError};
use crate::server::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

pub use pi_admin::{Admin, Caller};

/// The extractor of an authenticated [`Caller`] (any role) or [`Admin`]
/// (role `admin`, else 4306): `Auth(admin): Auth<Admin>` in a handler's
/// arguments.
#[derive(Debug, Clone)]
pub struct Auth<T>(pub T);

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Verify the request's token (a route open to both roles).
pub fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    authenticate_for(req, &[pi_auth::Role::User, pi_auth::Role::Admin])
}

/// Verify the request's token for a route that requires one of `required`
/// (named in the 4306 message when the token's role is missing or unknown).
fn authenticate_for(req: &HttpRequest, required: &[pi_auth::Role]) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let map = |e: pi_auth::AuthError| {
        let e = match e {
            pi_auth::AuthError::MissingRole { .. } => pi_auth::AuthError::MissingRole {
                required: required.to_vec(),
            },
            e => e,
        };
        ApiError::auth(i64::from(e.code()), e.message())
    };
    let token = pi_auth::extract_token(
        header(req, "PI-Authorization"),
        header(req, "Authorization"),
    )
    .map_err(map)?;
    let claims = state.verify_token(token).map_err(map)?;
    let role = claims.role;
    let caller = Caller {
        username: claims.username.clone(),
        realm: claims.realm.clone(),
        role,
        info: crate::request::from_request(req),
    };
    crate::audit::note_caller(&caller);
    Ok(caller)
}

impl FromRequest for Auth<Caller> {
    type Error = HttpError;
    type Future = Ready<Result<Self, HttpError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(Auth).map_err(HttpError))
    }
}

impl FromRequest for Auth<Admin> {
    type Error = HttpError;
    type Future = Ready<Result<Self, HttpError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            authenticate_for(req, &[pi_auth::Role::Admin])
                .and_then(Admin::check)
                .map(Auth)
                .map_err(HttpError),
        )
    }
}
