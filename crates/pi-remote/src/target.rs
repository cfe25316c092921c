//! URL validation and the request-forgery guard.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use url::Url;

use crate::RemoteOptions;

/// Host names of cloud metadata services, refused unless
/// [`RemoteOptions::allow_link_local`] is set.
pub const METADATA_HOST_NAMES: &[&str] = &["metadata.google.internal"];

/// Why a URL cannot be stored or used as a privacyIDEA server URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The text is not a URL.
    #[error("invalid url `{url}`: {reason}")]
    Parse {
        /// The URL as given.
        url: String,
        /// What the URL parser said.
        reason: String,
    },
    /// The scheme is neither `http` nor `https`.
    #[error("unsupported url scheme `{0}`, expected http or https")]
    Scheme(String),
    /// The URL has no host.
    #[error("url `{0}` has no host")]
    NoHost(String),
}

/// An entry of [`RemoteOptions::allowed_hosts`] that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed host entry `{entry}`: {reason}")]
pub struct PatternError {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Why the request-forgery guard refuses a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The URL itself is not usable.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// An entry of the allowed hosts list is invalid.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// `allowed_hosts` is non-empty and the host matches none of its entries.
    #[error("host `{0}` is not in the allowed hosts")]
    NotAllowed(String),
    /// The host is a link-local or cloud metadata address or name.
    #[error("host `{0}` is a link-local or cloud metadata address")]
    LinkLocal(String),
    /// The host name resolves to a link-local or cloud metadata address.
    #[error("host `{host}` resolves to the link-local or cloud metadata address `{addr}`")]
    ResolvesToLinkLocal {
        /// The host name of the URL.
        host: String,
        /// The offending address.
        addr: IpAddr,
    },
    /// The host name could not be resolved.
    #[error("cannot resolve host `{host}`: {reason}")]
    Resolve {
        /// The host name of the URL.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// The host name resolved to no address at all.
    #[error("host `{0}` resolves to no address")]
    NoAddress(String),
}

/// Checks that `url` may be stored as a privacyIDEA server URL: an absolute
/// `http` or `https` URL with a host.
///
/// privacyIDEA stores any string; this is stricter on purpose, so that a
/// definition that can never be called is refused when it is written.
pub fn validate_url(url: &str) -> Result<(), UrlError> {
    parse_base(url).map(|_| ())
}

/// Parses a base URL and checks scheme and host.
pub(crate) fn parse_base(url: &str) -> Result<Url, UrlError> {
    let parsed = Url::parse(url).map_err(|e| UrlError::Parse {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(UrlError::Scheme(other.to_owned())),
    }
    match parsed.host_str() {
        Some(h) if !h.is_empty() => Ok(parsed),
        _ => Err(UrlError::NoHost(url.to_owned())),
    }
}

/// The URL that [`crate::RemoteClient::validate_check`] posts to for the
/// base URL `url`: the base path without trailing `/` plus
/// `/validate/check`; a query string is kept, a fragment dropped.
///
/// Deviation: privacyIDEA concatenates strings, so `https://pi/` gives
/// `https://pi//validate/check`; here it gives `https://pi/validate/check`.
pub fn check_endpoint(url: &str) -> Result<String, UrlError> {
    endpoint_url(url).map(String::from)
}

pub(crate) fn endpoint_url(url: &str) -> Result<Url, UrlError> {
    let mut parsed = parse_base(url)?;
    let path = format!("{}/validate/check", parsed.path().trim_end_matches('/'));
    parsed.set_path(&path);
    parsed.set_fragment(None);
    Ok(parsed)
}

/// One entry of [`RemoteOptions::allowed_hosts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// An exact host name (compared case-insensitively, trailing `.` ignored).
    Exact(String),
    /// `*.example.com`: every host name ending in `.example.com` (not
    /// `example.com` itself).
    Suffix(String),
    /// An IP address or CIDR network; matches only URLs whose host is an IP
    /// address literal inside it (host names are not resolved for matching).
    Net(IpNet),
}

impl HostPattern {
    /// Parses one allowed-hosts entry.
    pub fn parse(entry: &str) -> Result<HostPattern, PatternError> {
        let err = |reason| PatternError {
            entry: entry.to_owned(),
            reason,
        };
        let text = entry.trim();
        if text.is_empty() {
            return Err(err("empty entry"));
        }
        let unbracketed = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(net) = unbracketed.parse::<IpNet>() {
            return Ok(HostPattern::Net(canonical_net(net.trunc())));
        }
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(HostPattern::Net(IpNet::from(canonical_ip(ip))));
        }
        let lower = text.to_ascii_lowercase();
        let (suffix, name) = match lower.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, lower.as_str()),
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.is_empty() {
            return Err(err("no host name"));
        }
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || name.starts_with('.')
            || name.contains("..")
        {
            return Err(err(
                "expected a host name, `*.domain`, an ip address or a cidr network",
            ));
        }
        let name = name.to_owned();
        Ok(if suffix {
            HostPattern::Suffix(name)
        } else {
            HostPattern::Exact(name)
        })
    }

    fn matches(&self, host: &Host) -> bool {
        match (self, host) {
            (HostPattern::Exact(name), Host::Name(h)) => h == name,
            (HostPattern::Suffix(name), Host::Name(h)) => h
                .strip_suffix(name.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            (HostPattern::Net(net), Host::Ip(ip)) => net.contains(ip),
            _ => false,
        }
    }
}

/// A URL host, normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// A lower-case host name without trailing dot.
    Name(String),
    /// An IP address (IPv4-mapped IPv6 addresses as IPv4).
    Ip(IpAddr),
}

impl Host {
    pub(crate) fn of(url: &Url) -> Option<Host> {
        match url.host()? {
            url::Host::Domain(d) => {
                let d = d.to_ascii_lowercase();
                Some(Host::Name(d.strip_suffix('.').unwrap_or(&d).to_owned()))
            }
            url::Host::Ipv4(ip) => Some(Host::Ip(IpAddr::V4(ip))),
            url::Host::Ipv6(ip) => Some(Host::Ip(canonical_ip(IpAddr::V6(ip)))),
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) become IPv4.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        other => other,
    }
}

/// Whether `ip` is link-local or a cloud metadata address: `169.254.0.0/16`
/// (which holds the AWS/Azure/GCP/OpenStack metadata address
/// `169.254.169.254`), `fe80::/10`, AWS's IPv6 metadata address
/// `fd00:ec2::254`, and Alibaba Cloud's `100.100.100.200`. IPv4 addresses
/// embedded in IPv6 (IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`) are
/// judged as the IPv4 address. Loopback is not included.
#[must_use]
pub fn is_link_local_or_metadata(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_forbidden(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_forbidden(v4);
            }
            let seg = v6.segments();
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                return v4_forbidden(Ipv4Addr::new(a, b, c, d));
            }
            (seg[0] & 0xffc0) == 0xfe80 || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

fn v4_forbidden(v4: Ipv4Addr) -> bool {
    v4.is_link_local() || v4 == Ipv4Addr::new(100, 100, 100, 200)
}

/// The request-forgery guard on the URL alone (no name resolution): `url`
/// must be an `http`/`https` URL with a host; when
/// [`RemoteOptions::allowed_hosts`] is non-empty the host must match one of
/// its entries (see [`HostPattern`]); link-local and cloud metadata
/// addresses and names ([`is_link_local_or_metadata`],
/// [`METADATA_HOST_NAMES`]) are refused unless
/// [`RemoteOptions::allow_link_local`]. Loopback is allowed.
///
/// [`crate::RemoteClient::validate_check`] additionally checks every address
/// a host name resolves to, and connects only to those checked addresses.
pub fn check_target(url: &str, options: &RemoteOptions) -> Result<(), TargetError> {
    let parsed = parse_base(url)?;
    check_parsed(&parsed, options).map(|_| ())
}

pub(crate) fn check_parsed(url: &Url, options: &RemoteOptions) -> Result<Host, TargetError> {
    let host = Host::of(url).ok_or_else(|| UrlError::NoHost(url.to_string()))?;
    let shown = || url.host_str().unwrap_or_default().to_owned();
    if !options.allowed_hosts.is_empty() {
        let mut allowed = false;
        for entry in &options.allowed_hosts {
            if HostPattern::parse(entry)?.matches(&host) {
                allowed = true;
            }
        }
        if !allowed {
            return Err(TargetError::NotAllowed(shown()));
        }
    }
    if !options.allow_link_local {
        let forbidden = match &host {
            Host::Ip(ip) => is_link_local_or_metadata(*ip),
            Host::Name(name) => METADATA_HOST_NAMES.contains(&name.as_str()),
        };
        if forbidden {
            return Err(TargetError::LinkLocal(shown()));
        }
    }
    Ok(host)
}

/// Checks the addresses a host name resolved to; all must pass.
pub(crate) fn check_resolved(
    host: &str,
    addrs: &[SocketAddr],
    options: &RemoteOptions,
) -> Result<(), TargetError> {
    if addrs.is_empty() {
        return Err(TargetError::NoAddress(host.to_owned()));
    }
    if !options.allow_link_local {
        if let Some(bad) = addrs.iter().find(|a| is_link_local_or_metadata(a.ip())) {
            return Err(TargetError::ResolvesToLinkLocal {
                host: host.to_owned(),
                addr: bad.ip(),
            });
        }
    }
    Ok(())
}

/// Resolves `host` and checks every address; the result is what the
/// connection gets pinned to.
pub(crate) async fn resolve_checked(
    host: &str,
    port: u16,
    options: &RemoteOptions,
) -> Result<Vec<SocketAddr>, TargetError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| TargetError::Resolve {
            host: host.to_owned(),
            reason: e.to_string(),
        })?
        .collect();
    check_resolved(host, &addrs, options)?;
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(allowed: &[&str]) -> RemoteOptions {
        RemoteOptions {
            allowed_hosts: allowed.iter().map(|s| (*s).to_owned()).collect(),
            ..RemoteOptions::default()
        }
    }

    #[test]
    fn validate_url_cases() {
        assert!(validate_url("https://pi").is_ok());
        assert!(validate_url("http://127.0.0.1:5000/pi/").is_ok());
        assert!(validate_url("https://[::1]:8443").is_ok());
        assert!(matches!(validate_url("ftp://pi"), Err(UrlError::Scheme(s)) if s == "ftp"));
        assert!(matches!(
            validate_url("file:///etc/passwd"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            validate_url("pi.example.com"),
            Err(UrlError::Parse { .. })
        ));
        assert!(matches!(validate_url(""), Err(UrlError::Parse { .. })));
        assert!(matches!(
            validate_url("http://"),
            Err(UrlError::Parse { .. })
        ));
        assert_eq!(
            validate_url("gopher://x").map_err(|e| e.to_string()),
            Err("unsupported url scheme `gopher`, expected http or https".to_owned())
        );
    }

    #[test]
    fn endpoint_joins_without_double_slash() {
        let cases = [
            ("https://pi", "https://pi/validate/check"),
            ("https://pi/", "https://pi/validate/check"),
            ("https://pi/pi", "https://pi/pi/validate/check"),
            ("https://pi/pi//", "https://pi/pi/validate/check"),
            (
                "http://h:81/a/b/?x=1#f",
                "http://h:81/a/b/validate/check?x=1",
            ),
        ];
        for (base, expected) in cases {
            assert_eq!(check_endpoint(base).as_deref(), Ok(expected), "base {base}");
        }
    }

    #[test]
    fn patterns_parse() {
        assert_eq!(
            HostPattern::parse("PI.Example.com."),
            Ok(HostPattern::Exact("pi.example.com".into()))
        );
        assert_eq!(
            HostPattern::parse("*.example.com"),
            Ok(HostPattern::Suffix("example.com".into()))
        );
        assert!(matches!(
            HostPattern::parse("10.0.0.0/8"),
            Ok(HostPattern::Net(_))
        ));
        assert!(
            matches!(HostPattern::parse("10.1.2.3/8"), Ok(HostPattern::Net(n)) if n.to_string() == "10.0.0.0/8")
        );
        assert!(matches!(
            HostPattern::parse("[::1]"),
            Ok(HostPattern::Net(_))
        ));
        assert!(
            matches!(HostPattern::parse("::ffff:127.0.0.1"), Ok(HostPattern::Net(n)) if n.to_string() == "127.0.0.1/32")
        );
        for bad in [
            "",
            "  ",
            "*.",
            "*",
            "a/b",
            "a..b",
            "*.*.x",
            "http://x",
            "10.0.0.0/33",
        ] {
            assert!(
                HostPattern::parse(bad).is_err(),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn allowed_hosts_filtering() {
        let o = opts(&["pi.example.com", "*.corp.example", "10.0.0.0/8", "::1"]);
        for ok in [
            "https://pi.example.com",
            "https://PI.EXAMPLE.COM./x",
            "https://a.corp.example",
            "https://a.b.corp.example:8443",
            "http://10.20.30.40",
            "http://[::1]:5000",
            "http://[::ffff:10.0.0.1]",
        ] {
            assert_eq!(check_target(ok, &o), Ok(()), "{ok}");
        }
        for bad in [
            "https://example.com",
            "https://corp.example",
            "https://evilcorp.example",
            "https://pi.example.com.evil",
            "http://11.0.0.1",
            "http://127.0.0.1",
            "http://localhost",
        ] {
            assert!(
                matches!(check_target(bad, &o), Err(TargetError::NotAllowed(_))),
                "{bad}"
            );
        }
        // empty list = any host
        assert_eq!(check_target("http://anything.example", &opts(&[])), Ok(()));
        // an invalid entry is reported, not ignored
        assert!(matches!(
            check_target("http://x", &opts(&["a/b"])),
            Err(TargetError::Pattern(_))
        ));
    }

    #[test]
    fn link_local_and_metadata_refused() {
        let o = RemoteOptions::default();
        for bad in [
            "http://169.254.169.254/latest/meta-data",
            "http://169.254.1.1",
            "http://[fe80::1]",
            "http://[febf::1]",
            "http://[fd00:ec2::254]",
            "http://[::ffff:169.254.169.254]",
            "http://[64:ff9b::a9fe:a9fe]",
            "http://0xA9FEA9FE/",
            "http://2852039166/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.google.internal./",
            "http://100.100.100.200/",
        ] {
            assert!(
                matches!(check_target(bad, &o), Err(TargetError::LinkLocal(_))),
                "{bad}"
            );
        }
        let allow = RemoteOptions {
            allow_link_local: true,
            ..RemoteOptions::default()
        };
        assert_eq!(check_target("http://169.254.169.254", &allow), Ok(()));
        assert_eq!(
            check_target("http://metadata.google.internal", &allow),
            Ok(())
        );
        for ok in [
            "http://127.0.0.1:1",
            "http://[::1]",
            "http://localhost",
            "http://192.168.1.1",
            "http://[fec0::1]",
        ] {
            assert_eq!(check_target(ok, &o), Ok(()), "{ok}");
        }
    }

    #[test]
    fn resolved_addresses_checked() {
        let o = RemoteOptions::default();
        let good: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let bad: SocketAddr = "169.254.169.254:80".parse().unwrap();
        let bad6: SocketAddr = "[fe80::1%2]:80".parse().unwrap();
        assert_eq!(check_resolved("h", &[good], &o), Ok(()));
        assert!(matches!(
            check_resolved("h", &[good, bad], &o),
            Err(TargetError::ResolvesToLinkLocal { addr, .. }) if addr == bad.ip()
        ));
        assert!(check_resolved("h", &[bad6], &o).is_err());
        assert!(matches!(
            check_resolved("h", &[], &o),
            Err(TargetError::NoAddress(_))
        ));
        let allow = RemoteOptions {
            allow_link_local: true,
            ..RemoteOptions::default()
        };
        assert_eq!(check_resolved("h", &[bad], &allow), Ok(()));
    }

    #[tokio::test]
    async fn resolves_localhost() {
        let o = RemoteOptions::default();
        let addrs = resolve_checked("localhost", 80, &o).await.unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
