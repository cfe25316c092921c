//! What a request tells the policy engine about itself: client IP, User-Agent
//! product, headers and the HTTP environment (filled by the server from its
//! HTTP request).

use pi_policy::HttpData;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

/// The product token of a User-Agent header: `^[A-Za-z0-9_-]+` (so
/// `privacyidea-cp/2.1 Windows/…` gives `privacyidea-cp`); `""` when there is none.
pub fn user_agent_product(ua: &str) -> String {
    pi_model::lists::user_agent_product(Some(ua))
}

/// A request parameter as Python's `str()` renders it; `None` when absent
/// or `null`.
pub fn param_str(params: &Map<String, Value>, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::Null => None,
        v => Some(pi_model::pyrepr::str_value(v)),
    }
}

/// A required parameter: absent, `null` or `""` ⇒ `Missing parameter: <key>`.
pub fn required_param(params: &Map<String, Value>, key: &str) -> crate::ApiResult<String> {
    match param_str(params, key) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(crate::ApiError::missing(key)),
    }
}

/// privacyIDEA's `is_true` over a parameter; `default` when absent or `null`.
pub fn param_is_true(params: &Map<String, Value>, key: &str, default: bool) -> bool {
    match params.get(key) {
        None | Some(Value::Null) => default,
        Some(v) => pi_model::pyrepr::is_true(v),
    }
}

/// The parameters of a request merged the privacyIDEA way
/// (spec/realm-auth-server.md §0.1):
///
/// 1. the query string, then form fields (first value of a repeated key
///    wins), each value percent-decoded once more unless the User-Agent
///    product is `privacyidea-cp`, `privacyidea-ldap-proxy` or
///    `simplesamlphp`;
/// 2. a JSON body's members (typed, not decoded), also for a content type
///    that is neither form nor multipart when the body parses as a JSON
///    object;
/// 3. path variables are added by the caller, last.
///
/// Bad JSON or a form body that is not UTF-8 is a 400.
pub fn merge_params(
    query: &str,
    content_type: &str,
    user_agent: &str,
    body: &[u8],
) -> crate::ApiResult<Map<String, Value>> {
    let product = user_agent_product(user_agent).to_ascii_lowercase();
    let decode = !matches!(
        product.as_str(),
        "privacyidea-cp" | "privacyidea-ldap-proxy" | "simplesamlphp"
    );
    let mut values = Map::new();
    merge_urlencoded(&mut values, query, decode);
    if body.is_empty() {
        return Ok(values);
    }
    let ctype = content_type.to_ascii_lowercase();
    let mime = ctype.split(';').next().unwrap_or("").trim();
    let bad = |message: String| crate::ApiError::http(400, message);
    if mime == "application/json" || mime.ends_with("+json") {
        let parsed: Value = serde_json::from_slice(body)
            .map_err(|e| bad(format!("Invalid JSON in request body: {e}")))?;
        if let Value::Object(obj) = parsed {
            values.extend(obj);
        }
    } else if mime == "application/x-www-form-urlencoded" {
        let text = std::str::from_utf8(body)
            .map_err(|_| bad("The form body is not valid UTF-8.".into()))?;
        merge_urlencoded(&mut values, text, decode);
    } else if mime.starts_with("multipart/") {
        // read by the handlers that accept uploads
    } else if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
        values.extend(obj);
    }
    Ok(values)
}

fn merge_urlencoded(values: &mut Map<String, Value>, raw: &str, decode: bool) {
    for (k, v) in form_urlencoded_pairs(raw) {
        if values.contains_key(&k) {
            continue; // first value wins, like request.values.get
        }
        let v = if decode { unquote(&v) } else { v };
        values.insert(k, Value::String(v));
    }
}

/// `application/x-www-form-urlencoded` pairs (`+` is a space), in order.
pub fn form_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (unquote(&k.replace('+', " ")), unquote(&v.replace('+', " ")))
        })
        .collect()
}

/// Python's `urllib.parse.unquote`: `%XX` sequences decoded as UTF-8 (invalid
/// bytes replaced), malformed sequences kept.
pub fn unquote(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The engine's view of a request ([`HttpData`]): the first value of each
/// header name, by (lower-case) name, as the engine's header conditions
/// read them; and the WSGI-style environment of the environment
/// conditions (`REQUEST_METHOD`, `PATH_INFO`, `QUERY_STRING`,
/// `REMOTE_ADDR`, `CONTENT_TYPE`, `HTTP_<NAME>`).
pub fn http_data(
    headers: &[(&str, &[u8])],
    method: &str,
    path: &str,
    query: &str,
    client_ip: IpAddr,
) -> HttpData {
    let mut first: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for &(name, value) in headers {
        first.entry(name).or_insert(value);
    }
    let lossy = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let mut environ = Map::new();
    let mut put = |k: &str, v: String| {
        environ.insert(k.to_owned(), Value::String(v));
    };
    put("REQUEST_METHOD", method.to_owned());
    put("PATH_INFO", path.to_owned());
    put("QUERY_STRING", query.to_owned());
    put("REMOTE_ADDR", client_ip.to_string());
    if let Some(v) = first
        .get("content-type")
        .and_then(|v| std::str::from_utf8(v).ok())
    {
        put("CONTENT_TYPE", v.to_owned());
    }
    for &(name, value) in headers {
        let key = format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_"));
        environ
            .entry(key)
            .or_insert_with(|| Value::String(lossy(value)));
    }
    let headers = first
        .into_iter()
        .map(|(name, value)| (name.to_owned(), lossy(value)))
        .collect();
    HttpData { headers, environ }
}

/// Facts about the calling request used for policy matching.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The TCP peer address.
    pub client_ip: IpAddr,
    /// The User-Agent product token (`""` without header).
    pub user_agent: String,
    /// Request headers and the HTTP environment, as the engine's conditions
    /// read them: built on first use (only a policy set with header or
    /// environment conditions needs them) and shared by every decision of
    /// the request.
    pub http: LazyHttp,
}

/// A request's [`HttpData`], built on first use and then shared.
///
/// Collecting it copies every header (the admin's JWT alone is several KB,
/// twice: as a header and as `HTTP_AUTHORIZATION`), which most policy sets
/// never read ([`pi_policy::PolicySet::reads_http`]).
#[derive(Clone)]
pub struct LazyHttp(Arc<LazyLock<HttpData, Box<dyn FnOnce() -> HttpData + Send>>>);

impl LazyHttp {
    /// Built by `collect` when first asked for.
    pub fn new(collect: impl FnOnce() -> HttpData + Send + 'static) -> LazyHttp {
        LazyHttp(Arc::new(LazyLock::new(Box::new(collect))))
    }

    /// Already collected.
    pub fn ready(data: HttpData) -> LazyHttp {
        LazyHttp::new(move || data)
    }

    /// The data (collected now if it was not yet).
    pub fn get(&self) -> &HttpData {
        &self.0
    }

    /// The data when the policy set can read it, else `None` (nothing is
    /// collected; the set decides the same without it).
    pub fn for_set(&self, set: &pi_policy::PolicySet) -> Option<&HttpData> {
        set.reads_http().then(|| self.get())
    }
}

impl Default for LazyHttp {
    fn default() -> LazyHttp {
        LazyHttp::ready(HttpData::default())
    }
}

impl std::fmt::Debug for LazyHttp {
    /// Does not collect the data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyHttp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_data_keeps_the_first_header_value_and_builds_the_environment() {
        let headers: [(&str, &[u8]); 4] = [
            ("x-tenant", b"a"),
            ("content-type", b"application/json"),
            ("x-tenant", b"b"),
            ("user-agent", b"curl/8"),
        ];
        let ip = IpAddr::from([10, 0, 0, 1]);
        let d = http_data(&headers, "POST", "/policy/p", "x=1", ip);
        let tenant: Vec<_> = d.headers.iter().filter(|(n, _)| n == "x-tenant").collect();
        assert_eq!(tenant, [&("x-tenant".to_owned(), "a".to_owned())]);
        assert_eq!(d.headers.len(), 3);
        let env = |k: &str| d.environ[k].as_str().unwrap_or_default().to_owned();
        assert_eq!(env("REQUEST_METHOD"), "POST");
        assert_eq!(env("PATH_INFO"), "/policy/p");
        assert_eq!(env("QUERY_STRING"), "x=1");
        assert_eq!(env("REMOTE_ADDR"), "10.0.0.1");
        assert_eq!(env("CONTENT_TYPE"), "application/json");
        assert_eq!(env("HTTP_X_TENANT"), "a");
        assert_eq!(env("HTTP_USER_AGENT"), "curl/8");
    }

    #[test]
    fn unquote_like_python() {
        assert_eq!(unquote("a%20b"), "a b");
        assert_eq!(unquote("pw_w_%25123"), "pw_w_%123");
        assert_eq!(unquote("100%"), "100%");
        assert_eq!(unquote("%zz"), "%zz");
        assert_eq!(unquote("%C3%A4"), "ä");
    }

    #[test]
    fn params_merge_query_form_and_json_as_privacyidea() {
        let form = "application/x-www-form-urlencoded";
        // query first; the first value of a repeated key wins; decoded twice
        let m = merge_params("a=1&a=2&p=%2541", form, "curl/8", b"a=3&b=x+y").unwrap();
        assert_eq!(m["a"], "1");
        assert_eq!(m["b"], "x y");
        assert_eq!(m["p"], "A");
        // the credential provider's values are decoded once only
        let m = merge_params("p=%2541", "", "privacyidea-cp/2.1", b"").unwrap();
        assert_eq!(m["p"], "%41");
        // JSON members override the query and keep their types
        let m = merge_params("a=1", "application/json; charset=utf-8", "", br#"{"a": 2}"#).unwrap();
        assert_eq!(m["a"], 2);
        // any other content type: a JSON object body is still read
        let m = merge_params("", "text/plain", "", br#"{"x": true}"#).unwrap();
        assert_eq!(m["x"], true);
        assert!(
            merge_params("", "multipart/form-data; boundary=b", "", b"{}")
                .unwrap()
                .is_empty()
        );
        // bad bodies are 400s
        for (ctype, body) in [("application/json", &b"{"[..]), (form, &b"\xff"[..])] {
            let err = merge_params("", ctype, "", body).unwrap_err();
            assert_eq!(err.kind.status(), 400, "{ctype}");
        }
    }

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
