//! What the release's router (werkzeug) answers around the routes
//! themselves, decided over the route table (the API document's paths and
//! methods, which the server's test keeps equal to what it serves):
//!
//! * a path that misses its route's trailing slash (`GET /policy`), or has
//!   doubled slashes (`GET /realm//`), is redirected (308) to the route's
//!   path when that route takes the method ([`RouteTable::redirect`]);
//! * `OPTIONS` on a route answers 200 with `Allow` ([`RouteTable::allow`]);
//! * `HEAD` is `GET` without the body (the server runs `GET`);
//! * the path is routed as the WSGI server hands it over: `%2F` decoded to
//!   `/` before routing and leading slashes dropped ([`wsgi_path`]).

/// The path as werkzeug routes it, when that differs from `path` (the raw,
/// percent-encoded request path): the WSGI server decodes `%2F` before
/// routing (`/policy/a%2Fb` is `/policy/a/b`, which no route serves;
/// `/policy/%2F` is `/policy//`, redirected), and werkzeug's matcher drops
/// leading slashes (`//policy/` is `/policy/`). Other escapes stay for the
/// router, which decodes them in path variables.
pub fn wsgi_path(path: &str) -> Option<String> {
    let lead = path.len() - path.trim_start_matches('/').len();
    let encoded_slash = path.contains("%2F") || path.contains("%2f");
    if lead <= 1 && !encoded_slash {
        return None;
    }
    let rest = &path[lead..];
    let rest = match encoded_slash {
        true => rest.replace("%2F", "/").replace("%2f", "/"),
        false => rest.to_owned(),
    };
    Some(format!("/{rest}"))
}

/// The served paths (`/policy/{name}`) with their methods (upper case).
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    /// A table of `(path, methods)`, e.g. from `pi_openapi::operations()`.
    pub fn new(routes: impl IntoIterator<Item = (String, Vec<String>)>) -> RouteTable {
        let routes = routes
            .into_iter()
            .map(|(path, methods)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let methods = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods of the routes `path` matches (a `{name}` segment takes
    /// any non-empty segment); `None` when no route matches.
    fn methods(&self, path: &str) -> Option<Vec<&str>> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut found: Option<Vec<&str>> = None;
        for (template, methods) in &self.routes {
            let matches = template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| {
                    if t.starts_with('{') {
                        !s.is_empty()
                    } else {
                        t == s
                    }
                });
            if matches {
                let all = found.get_or_insert_with(Vec::new);
                all.extend(methods.iter().map(String::as_str));
            }
        }
        found
    }

    /// Whether a route serves `method` on `path` (`HEAD` where `GET` is,
    /// `OPTIONS` everywhere: werkzeug adds both to every rule).
    fn takes(&self, method: &str, path: &str) -> bool {
        let method = if method == "HEAD" { "GET" } else { method };
        self.methods(path)
            .is_some_and(|methods| method == "OPTIONS" || methods.contains(&method))
    }

    /// `path` with every run of slashes merged into one.
    fn merged(path: &str) -> String {
        let mut merged = String::with_capacity(path.len());
        for c in path.chars() {
            if !(c == '/' && merged.ends_with('/')) {
                merged.push(c);
            }
        }
        merged
    }

    /// The `Allow` of a 405 werkzeug answers to a path with doubled slashes
    /// whose merged path has a route that does not take `method`
    /// (`DELETE /policy//`: `GET, HEAD, OPTIONS`); a missing trailing slash
    /// is a 404 instead.
    pub fn merged_not_allowed(&self, method: &str, path: &str) -> Option<String> {
        let merged = Self::merged(path);
        if merged == path || self.methods(path).is_some() || self.takes(method, &merged) {
            return None;
        }
        self.allow(&merged)
    }

    /// Where werkzeug redirects a request no route serves as sent: the path
    /// with doubled slashes merged, else with the trailing slash its route
    /// has, when a route takes `method` there. A path starting with `//` is
    /// left alone.
    pub fn redirect(&self, method: &str, path: &str) -> Option<String> {
        if path.starts_with("//") || self.methods(path).is_some() {
            return None;
        }
        let merged = Self::merged(path);
        if merged != path && self.takes(method, &merged) {
            return Some(merged);
        }
        let slashed = format!("{merged}/");
        self.takes(method, &slashed).then_some(slashed)
    }

    /// The `Allow` header of an `OPTIONS` request on `path`: its route's
    /// methods, `HEAD` with `GET`, and `OPTIONS`; `None` when no route
    /// matches.
    pub fn allow(&self, path: &str) -> Option<String> {
        let mut methods = self.methods(path)?;
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        methods.push("OPTIONS");
        methods.sort_unstable();
        methods.dedup();
        Some(methods.join(", "))
    }
}

/// The scheme of a redirect's absolute URL: `https` when a proxy on the
/// same host says the client's connection was secure (`X-Forwarded-Proto:
/// https`, `X-Forwarded-Ssl: on` or `X-Forwarded-Protocol: ssl`; gunicorn's
/// defaults, trusted from loopback only), else `http` (the server itself
/// speaks plain HTTP).
pub fn redirect_scheme<'a>(
    peer_is_loopback: bool,
    header: impl Fn(&str) -> Option<&'a str>,
) -> &'static str {
    let secure = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-ssl", "on"),
        ("x-forwarded-protocol", "ssl"),
    ];
    let said = |(name, value): (&str, &str)| {
        header(name).is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
    };
    if peer_is_loopback && secure.into_iter().any(said) {
        "https"
    } else {
        "http"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        let route =
            |p: &str, m: &[&str]| (p.to_owned(), m.iter().map(|m| (*m).to_owned()).collect());
        RouteTable::new([
            route("/policy/", &["get"]),
            route("/policy/{name}", &["get", "post", "delete"]),
            route("/policy/defs", &["get"]),
            route("/realm/", &["get"]),
            route("/healthz/livez", &["get"]),
            route("/auth", &["post"]),
        ])
    }

    #[test]
    fn missing_trailing_slashes_and_doubled_slashes_redirect_as_werkzeug() {
        let t = table();
        let cases = [
            ("GET", "/policy", Some("/policy/")),
            ("HEAD", "/realm", Some("/realm/")),
            // the slashed route does not take the method: no redirect (404)
            ("POST", "/policy", None),
            ("DELETE", "/realm", None),
            // merged slashes
            ("GET", "/realm//", Some("/realm/")),
            ("GET", "/policy//defs", Some("/policy/defs")),
            ("GET", "/healthz//livez", Some("/healthz/livez")),
            ("POST", "/policy//a", Some("/policy/a")),
            // OPTIONS is every route's
            ("OPTIONS", "/policy//x", Some("/policy/x")),
            ("OPTIONS", "/policy", Some("/policy/")),
            // no slash is taken away, nothing leads anywhere else
            ("GET", "/policy/defs/", None),
            ("POST", "/auth/", None),
            ("GET", "/nope", None),
            ("GET", "//policy/", None),
            ("POST", "/policy/a/b", None),
            // a served path is never redirected
            ("PATCH", "/policy/p1", None),
        ];
        for (method, path, want) in cases {
            assert_eq!(t.redirect(method, path).as_deref(), want, "{method} {path}");
        }
        // a merged path whose route does not take the method: 405
        let cases = [
            ("POST", "/policy//", Some("GET, HEAD, OPTIONS")),
            ("DELETE", "/realm//", Some("GET, HEAD, OPTIONS")),
            ("GET", "/policy//", None),  // redirected
            ("DELETE", "/policy", None), // no slash to merge: 404
            ("DELETE", "/nope//", None),
        ];
        for (method, path, want) in cases {
            let allow = t.merged_not_allowed(method, path);
            assert_eq!(allow.as_deref(), want, "{method} {path}");
        }
    }

    #[test]
    fn a_local_proxy_can_say_https() {
        let headers = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        };
        let proto = headers(&[("x-forwarded-proto", "HTTPS")]);
        assert_eq!(redirect_scheme(true, proto), "https");
        assert_eq!(redirect_scheme(false, proto), "http");
        assert_eq!(
            redirect_scheme(true, headers(&[("x-forwarded-ssl", "on")])),
            "https"
        );
        assert_eq!(
            redirect_scheme(true, headers(&[("x-forwarded-protocol", "ssl")])),
            "https"
        );
        assert_eq!(
            redirect_scheme(true, headers(&[("x-forwarded-proto", "http")])),
            "http"
        );
        assert_eq!(redirect_scheme(true, headers(&[])), "http");
    }

    #[test]
    fn encoded_slashes_and_leading_slashes_as_wsgi_hands_them_over() {
        let cases = [
            ("/policy/", None),
            ("/policy/a%20b", None),
            ("/", None),
            ("//policy/", Some("/policy/")),
            ("///realm/", Some("/realm/")),
            ("//", Some("/")),
            ("/policy/%2F", Some("/policy//")),
            ("/policy/a%2fb", Some("/policy/a/b")),
            ("//policy/%2F/", Some("/policy///")),
            ("/policy/%252F", None),
        ];
        for (path, want) in cases {
            assert_eq!(wsgi_path(path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn options_lists_the_route_methods() {
        let t = table();
        assert_eq!(t.allow("/realm/").as_deref(), Some("GET, HEAD, OPTIONS"));
        assert_eq!(
            t.allow("/policy/defs").as_deref(),
            Some("DELETE, GET, HEAD, OPTIONS, POST")
        );
        assert_eq!(t.allow("/auth").as_deref(), Some("OPTIONS, POST"));
        assert_eq!(t.allow("/nope"), None);
        assert_eq!(t.allow("/policy/"), Some("GET, HEAD, OPTIONS".into()));
    }
}
