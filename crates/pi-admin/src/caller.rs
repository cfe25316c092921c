//! Who calls: an authenticated caller (the JWT's claims and the request's
//! facts), and an [`Admin`] — a caller whose role check ran.

use crate::error::ApiError;
use crate::request::RequestInfo;

/// The role of a logged-in caller (pi-model's, the workspace's one `Role`).
pub use pi_model::Role;

/// Any authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `username` claim.
    pub username: String,
    /// `realm` claim (`""` for local admins).
    pub realm: String,
    /// `role` claim.
    pub role: Role,
    /// Facts about the request, for policy matching.
    pub info: RequestInfo,
}

/// An authenticated caller with role `admin`: the only one the admin
/// blueprints (`/policy`, `/realm`, `/resolver`, …) accept. Holding an `Admin`
/// is the proof that the role check ran ([`Admin::check`] is the only way
/// to get one).
#[derive(Debug, Clone)]
pub struct Admin(Caller);

impl Admin {
    /// The role check: an admin, else privacyIDEA's 4306 error.
    pub fn check(caller: Caller) -> Result<Admin, ApiError> {
        match caller.role {
            Role::Admin => Ok(Admin(caller)),
            Role::User => Err(ApiError::auth(
                4306,
                "Authentication failure. You do not have the necessary role (['admin']) to access this resource!",
            )),
        }
    }

    /// The caller behind this admin.
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}
