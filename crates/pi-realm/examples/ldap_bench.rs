//! What the LDAP resolver adds to slapd's own round trip.
//!
//! ```text
//! cargo run --release -p pi-realm --example ldap_bench -- ldap://127.0.0.1:3891 [iterations]
//! ```
//!
//! Against the fixture of `scripts/ldap-test-server.sh`, compares (median
//! and mean per operation, single thread):
//! * a raw `ldap3` search for `uid=alice` on one bound connection with the
//!   resolver's `user_id("alice")` (cache off, so every call searches);
//! * a raw connect + simple bind as alice with the resolver's
//!   `check_password`.

use std::time::{Duration, Instant};

use ldap3::{LdapConn, Scope, SearchEntry};
use pi_realm::{LdapResolver, Resolver};

fn stats(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let median = d[d.len() / 2].as_secs_f64() * 1e6;
    let mean = d.iter().map(Duration::as_secs_f64).sum::<f64>() / d.len() as f64 * 1e6;
    (median, mean)
}

fn time<F: FnMut()>(n: usize, mut f: F) -> (f64, f64) {
    for _ in 0..n / 10 {
        f();
    }
    let mut d = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f();
        d.push(t.elapsed());
    }
    stats(d)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let uri = args
        .next()
        .unwrap_or_else(|| "ldap://127.0.0.1:3890".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let base = "dc=example,dc=org";
    let dn = "uid=alice,ou=people,dc=example,dc=org";
    let attrs = [
        "uid",
        "givenName",
        "sn",
        "mail",
        "telephoneNumber",
        "mobile",
    ];

    let mut raw = LdapConn::new(&uri)?;
    raw.simple_bind("cn=admin,dc=example,dc=org", "adminpw")?
        .success()?;
    let raw_search = time(n, || {
        let rs = raw
            .search(
                base,
                Scope::Subtree,
                "(&(objectClass=inetOrgPerson)(uid=alice))",
                attrs.to_vec(),
            )
            .and_then(|r| r.success())
            .map(|(rs, _)| rs)
            .unwrap_or_default();
        assert_eq!(rs.into_iter().map(SearchEntry::construct).count(), 1);
    });
    let raw_bind = time(n / 4, || {
        let ok = LdapConn::new(&uri).ok().and_then(|mut c| {
            let ok = c.simple_bind(dn, "alicepw").ok().map(|r| r.rc == 0);
            let _ = c.unbind();
            ok
        });
        assert_eq!(ok, Some(true));
    });

    let cfg = serde_json::json!({
        "LDAPURI": uri, "LDAPBASE": base,
        "BINDDN": "cn=admin,dc=example,dc=org", "BINDPW": "adminpw",
        "LOGINNAMEATTRIBUTE": "uid", "LDAPSEARCHFILTER": "(objectClass=inetOrgPerson)",
        "USERINFO": r#"{"username":"uid","givenname":"givenName","surname":"sn","email":"mail","phone":"telephoneNumber","mobile":"mobile"}"#,
        "UIDTYPE": "DN", "CACHE_TIMEOUT": "0",
    });
    let map = cfg.as_object().ok_or("config")?;
    let r = LdapResolver::from_config(map)?;
    let res_lookup = time(n, || {
        assert_eq!(r.user_id("alice").as_deref(), Ok(dn));
    });
    let res_bind = time(n / 4, || {
        assert_eq!(r.check_password(dn, "alicepw"), Ok(true));
    });
    let cached = LdapResolver::from_config(
        serde_json::json!({"CACHE_TIMEOUT": "120"})
            .as_object()
            .map(|o| {
                let mut m = map.clone();
                m.extend(o.clone());
                m
            })
            .as_ref()
            .ok_or("config")?,
    )?;
    let res_cached = time(n, || {
        assert_eq!(cached.user_id("alice").as_deref(), Ok(dn));
    });

    println!("operation                         median µs   mean µs");
    for (name, (median, mean)) in [
        ("raw ldap3 search (bound conn)", raw_search),
        ("resolver user_id, cache off", res_lookup),
        ("resolver user_id, cache hit", res_cached),
        ("raw ldap3 connect + bind", raw_bind),
        ("resolver check_password", res_bind),
    ] {
        println!("{name:<33} {median:>9.1} {mean:>9.1}");
    }
    Ok(())
}
