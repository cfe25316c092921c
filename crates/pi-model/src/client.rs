//! Client (IP) lists of the `client` policy attribute (spec/policy.md §1.10, §2.4.9).

use crate::error::ValidationError;
use ipnet::IpNet;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// One parsed client entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientEntry {
    /// The raw entry (stripped).
    pub raw: String,
    /// `true` for `-net` / `!net`.
    pub exclude: bool,
    /// The network (host bits allowed, e.g. `172.16.0.4/24`); `None` if the
    /// entry does not parse (only possible for lists read from a database).
    #[serde(serialize_with = "ser_net")]
    pub net: Option<IpNet>,
}

fn ser_net<S: serde::Serializer>(n: &Option<IpNet>, s: S) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => s.serialize_some(&n.to_string()),
        None => s.serialize_none(),
    }
}

/// A client list: empty entries are ignored, as privacyIDEA does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ClientList {
    /// Boxed slice: kept by every client-restricted policy of a set.
    entries: Box<[ClientEntry]>,
}

/// Parse an address or network like netaddr's `IPNetwork`: an address, or
/// `addr/prefix`, or IPv4 `addr/netmask` (contiguous mask).
pub fn parse_network(s: &str) -> Option<IpNet> {
    if let Some((addr, pfx)) = s.split_once('/') {
        let addr: IpAddr = addr.parse().ok()?;
        let len: u8 = if !pfx.is_empty() && pfx.bytes().all(|b| b.is_ascii_digit()) {
            pfx.parse().ok()?
        } else if let (IpAddr::V4(_), Ok(mask)) = (addr, pfx.parse::<Ipv4Addr>()) {
            let m = u32::from(mask);
            let ones = m.leading_ones();
            if m.checked_shl(ones).unwrap_or(0) != 0 {
                return None;
            }
            ones as u8
        } else {
            return None;
        };
        IpNet::new(addr, len).ok()
    } else {
        let addr: IpAddr = s.parse().ok()?;
        Some(IpNet::from(addr))
    }
}

/// `net.contains(&ip)`; an IPv4 address in an IPv4 network by its masked
/// bits (the general form is several times the instructions, and a
/// decision checks the client of every client-restricted candidate).
#[inline]
fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpNet::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(n.prefix_len()))
                .unwrap_or(0);
            (u32::from(n.addr()) ^ u32::from(a)) & mask == 0
        }
        _ => net.contains(&ip),
    }
}

/// An IPv4 network of a client list as masked bits ([`ClientList::v4_nets`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V4Net {
    /// The network's address bits (host bits kept, as the list has them).
    pub addr: u32,
    /// The prefix as a mask (`0` for `/0`).
    pub mask: u32,
    /// `true` for `-net` / `!net`.
    pub exclude: bool,
}

/// [`ClientList::allows`] of an IPv4 address, for the list's
/// [`ClientList::v4_nets`]: the only entries that can contain it (an IPv6
/// network, `::ffff:…` included, contains no IPv4 address, and an entry
/// that did not parse matches nothing).
#[inline]
pub fn v4_allows(nets: &[V4Net], addr: u32) -> bool {
    let mut found = false;
    let mut excluded = false;
    for n in nets {
        if (n.addr ^ addr) & n.mask == 0 {
            if n.exclude {
                excluded = true;
            } else {
                found = true;
            }
        }
    }
    found && !excluded
}

impl ClientList {
    /// The IPv4 networks of the list, in order, for [`v4_allows`].
    pub fn v4_nets(&self) -> Box<[V4Net]> {
        self.entries
            .iter()
            .filter_map(|e| match &e.net {
                Some(IpNet::V4(n)) => Some(V4Net {
                    addr: u32::from(n.addr()),
                    mask: u32::MAX
                        .checked_shl(32 - u32::from(n.prefix_len()))
                        .unwrap_or(0),
                    exclude: e.exclude,
                }),
                _ => None,
            })
            .collect()
    }

    /// Lenient parse of stored list items (already split and stripped):
    /// entries that do not parse are kept with `net: None` and match nothing.
    pub fn from_items<S: AsRef<str>>(items: &[S]) -> ClientList {
        let entries = items
            .iter()
            .map(AsRef::as_ref)
            .filter(|s| !s.is_empty())
            .map(|raw| {
                let (exclude, body) = match raw.as_bytes()[0] {
                    b'-' | b'!' => (true, &raw[1..]),
                    _ => (false, raw),
                };
                ClientEntry {
                    raw: raw.to_string(),
                    exclude,
                    net: parse_network(body),
                }
            })
            .collect();
        ClientList { entries }
    }

    /// Validating parse of a stored client string (`set_policy`'s check):
    /// any entry that does not parse → error 302 `Invalid client definition!`.
    pub fn parse(raw: &str) -> Result<ClientList, ValidationError> {
        let items: Vec<&str> = raw.split(',').map(str::trim).collect();
        let list = ClientList::from_items(&items);
        if list.entries.iter().any(|e| e.net.is_none()) {
            return Err(ValidationError::InvalidClient);
        }
        Ok(list)
    }

    /// The non-empty entries.
    pub fn entries(&self) -> &[ClientEntry] {
        &self.entries
    }

    /// `true` when no entries (the policy is not client-restricted).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries that did not parse.
    pub fn invalid_entries(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| e.net.is_none())
            .map(|e| e.raw.as_str())
    }

    /// privacyIDEA's `check_ip_in_policy`: `(found, excluded)`.
    pub fn check(&self, ip: IpAddr) -> (bool, bool) {
        let mut found = false;
        let mut excluded = false;
        for e in &self.entries {
            if let Some(net) = &e.net {
                if net_contains(net, ip) {
                    if e.exclude {
                        excluded = true;
                    } else {
                        found = true;
                    }
                }
            }
        }
        (found, excluded)
    }

    /// `found && !excluded`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let (f, e) = self.check(ip);
        f && !e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses the client tests try (IPv4, then IPv6).
    const ADDRS: [&str; 15] = [
        "10.1.2.3",
        "10.1.2.4",
        "10.1.1.1",
        "10.2.0.1",
        "11.0.0.0",
        "0.0.0.0",
        "255.255.255.255",
        "255.255.255.254",
        "127.255.255.255",
        "128.0.0.0",
        "172.16.0.200",
        "172.16.1.1",
        "::1",
        "fe80::1",
        "::ffff:10.0.0.1",
    ];

    /// The IPv4 fast path of `net_contains` is `IpNet::contains`.
    #[test]
    fn net_contains_is_ipnet_contains() {
        let nets = [
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.3/32",
            "0.0.0.0/0",
            "172.16.0.4/24",
            "255.255.255.255/31",
            "128.0.0.0/1",
            "::/0",
            "fe80::/10",
            "::ffff:10.0.0.0/104",
        ];
        for n in nets {
            let net = parse_network(n).unwrap();
            for a in ADDRS {
                let ip = ip(a);
                assert_eq!(net_contains(&net, ip), net.contains(&ip), "{n} {a}");
            }
        }
    }

    /// `v4_allows` over `v4_nets` is `allows` for every IPv4 address.
    #[test]
    fn v4_allows_is_allows() {
        let lists: [&[&str]; 9] = [
            &["10.0.0.0/8"],
            &["10.1.0.0/16", "-10.1.1.1"],
            &["!10.1.2.3", "10.0.0.0/8"],
            &["0.0.0.0/0", "::/0"],
            &["::/0", "::ffff:10.0.0.0/104"],
            &["172.16.0.4/24", "fe80::/10", "nohost", "10.1.2.3"],
            &["-10.0.0.0/8"],
            &["128.0.0.0/1", "!255.255.255.254/31"],
            &[],
        ];
        for l in lists {
            let list = ClientList::from_items(l);
            let nets = list.v4_nets();
            for (a, v4) in ADDRS
                .iter()
                .filter_map(|a| Some((a, a.parse::<Ipv4Addr>().ok()?)))
            {
                assert_eq!(
                    v4_allows(&nets, u32::from(v4)),
                    list.allows(IpAddr::V4(v4)),
                    "{l:?} {a}"
                );
            }
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn case_007_invalid_client() {
        let e = ClientList::parse("10.1.2.3.4").unwrap_err();
        assert_eq!(e.code(), 302);
        assert_eq!(e.to_string(), "Invalid client definition!");
        for bad in ["myhost", "10.0.0.0/33", "-", "!", "10.0.0.1, nohost"] {
            assert!(ClientList::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "172.16.0.3, 172.16.0.4/24",
            "10.0.0.0/8, -10.0.0.1",
            "::1, fe80::/10",
            "10.0.0.0/255.0.0.0",
            "",
            "1.2.3.4,",
        ] {
            assert!(ClientList::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn case_139_check_ip_in_policy() {
        let l = ClientList::from_items(&["10.0.1.0/24", "1.1.1.1"]);
        assert_eq!(l.check(ip("10.0.1.2")), (true, false));
        let l = ClientList::from_items(&["10.0.1.0/24", "!10.0.1.2"]);
        assert_eq!(l.check(ip("10.0.1.2")), (true, true));
        let l = ClientList::from_items(&["10.0.1.0/24", "!10.0.1.2", ""]);
        assert_eq!(l.check(ip("10.0.1.2")), (true, true));
    }

    #[test]
    fn host_bits_and_versions() {
        let l = ClientList::parse("172.16.0.4/24").unwrap();
        assert!(l.allows(ip("172.16.0.200")));
        let l = ClientList::parse("::/0").unwrap();
        assert!(!l.allows(ip("10.0.0.1")));
        let l = ClientList::parse("-10.0.0.1").unwrap();
        assert!(!l.allows(ip("10.0.0.2")) && !l.allows(ip("10.0.0.1")));
    }
}
