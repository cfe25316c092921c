//! Client options and the call target.

use std::time::Duration;

use pi_model::record::RemoteServerRecord;

use crate::ValueEncoding;

/// Settings of a [`crate::RemoteClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Time allowed to establish the TCP (and TLS) connection. Default 5 s.
    pub connect_timeout: Duration,
    /// Time allowed for the whole call: name resolution, connecting, sending
    /// and reading the complete answer. Default 10 s (privacyIDEA uses 60 s
    /// and no separate connect timeout).
    pub total_timeout: Duration,
    /// Largest response body read; a longer answer is not accepted.
    /// Default 64 KiB.
    pub max_response_bytes: usize,
    /// Hosts that may be called; empty means any host. Entries: an exact host
    /// name, `*.example.com`, an IP address or a CIDR network (see
    /// [`crate::HostPattern`]).
    pub allowed_hosts: Vec<String>,
    /// Allow link-local and cloud metadata addresses (see
    /// [`crate::is_link_local_or_metadata`]). Default false.
    pub allow_link_local: bool,
    /// How `user` and `pass` are encoded. Default
    /// [`ValueEncoding::PrivacyIdea`], which is what real privacyIDEA
    /// receivers need.
    pub value_encoding: ValueEncoding,
    /// Extra trusted root certificates (PEM, one or more per entry) besides
    /// the built-in Mozilla roots, for servers with a private CA.
    pub extra_root_certs_pem: Vec<Vec<u8>>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_response_bytes: 64 * 1024,
            allowed_hosts: Vec::new(),
            allow_link_local: false,
            value_encoding: ValueEncoding::default(),
            extra_root_certs_pem: Vec::new(),
        }
    }
}

/// Where a call goes: a privacyIDEA server definition's `url` and `tls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTarget {
    /// Base URL, e.g. `https://pi.example.com` or `https://host/pi`.
    pub url: String,
    /// Verify the server certificate (privacyIDEA's `tls` column). When
    /// false, any certificate is accepted.
    pub tls: bool,
}

impl RemoteTarget {
    /// A target from a base URL and the certificate-verification flag.
    pub fn new(url: impl Into<String>, tls: bool) -> Self {
        RemoteTarget {
            url: url.into(),
            tls,
        }
    }
}

impl From<&RemoteServerRecord> for RemoteTarget {
    fn from(record: &RemoteServerRecord) -> Self {
        RemoteTarget::new(record.url.clone(), record.tls)
    }
}
