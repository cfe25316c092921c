//! The role of a logged-in caller: the one `Role` type of the workspace
//! (pi-auth's token claim, pi-server's callers and pi-policy's front door
//! use this type).

use serde::{Deserialize, Serialize};

/// The role a token grants (spec/realm-auth-server.md §5.3: the `role` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An administrator (local admin, superuser-realm user): policies of
    /// scope `admin` apply.
    Admin,
    /// A realm user: policies of scope `user` apply.
    User,
}

impl Role {
    /// `"admin"` or `"user"`, as in the token and in privacyIDEA's
    /// `logged_in_user` dict.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }

    /// The role of a wire name (`None` for anything but `admin`/`user`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "user" => Some(Self::User),
            _ => None,
        }
    }

    /// The policy scope whose policies govern this role (`admin` or `user`).
    #[must_use]
    pub fn scope(self) -> &'static str {
        self.as_str()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        for r in [Role::Admin, Role::User] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(Role::parse("auditor"), None);
        assert!(serde_json::from_str::<Role>("\"Admin\"").is_err());
    }
}
