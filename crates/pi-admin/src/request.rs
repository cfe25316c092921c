//! What a request tells the policy engine about itself: client IP, User-Agent
//! product, headers and the HTTP environment (filled by the server from its
//! HTTP request).

use std::collections::BTreeMap;
use std::net::IpAddr;

/// The product token of a User-Agent header: `^[A-Za-z0-9_-]+` (so
/// `privacyidea-cp/2.1 Windows/…` gives `privacyidea-cp`); `""` when there is none.
pub fn user_agent_product(ua: &str) -> String {
    pi_model::lists::user_agent_product(Some(ua))
}

/// Facts about the calling request used for policy matching.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The TCP peer address.
    pub client_ip: IpAddr,
    /// The User-Agent product token (`""` without header).
    pub user_agent: String,
    /// Request headers (name as sent, value lossily decoded).
    pub headers: BTreeMap<String, String>,
    /// HTTP environment in the WSGI spelling (`REQUEST_METHOD`, `PATH_INFO`, …).
    pub environment: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_tokens() {
        assert_eq!(
            user_agent_product("privacyidea-cp/2.1 Windows/10"),
            "privacyidea-cp"
        );
        assert_eq!(user_agent_product("Mozilla/5.0 (X11)"), "Mozilla");
        assert_eq!(user_agent_product(""), "");
        assert_eq!(user_agent_product("PAM"), "PAM");
        assert_eq!(user_agent_product("/x"), "");
    }
}
