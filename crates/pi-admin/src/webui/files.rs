//! privacyIDEA's own (Angular) WebUI served from an installed privacyIDEA
//! package's `static/` folder (`PI_WEBUI_STATIC_DIR` in pi.cfg; off when
//! unset), the way the released 3.14 serves it (`webui/login.py`). The
//! answers are decided here; the server only turns an [`Answer`] into HTTP:
//!
//! * `GET /` redirects to `/app/v2/` (or `/app/v2/<locale>/` when the
//!   browser prefers another language that has a build) — [`WebUi::start_page`];
//! * `GET /app/v2/<locale>/…` answers the locale's `index.html` with the
//!   `pi-script-root` meta tag (any sub-path: the WebUI routes in the
//!   browser); `/app/v2/<locale>` and a differently spelled locale redirect
//!   to the canonical `/app/v2/<locale>/…`; an unknown first segment serves
//!   the preferred locale's shell to browsers and 404 to others — [`WebUi::app`];
//! * `GET /static/<path>` answers the files below the folder (no directory
//!   listings, nothing outside the folder) — [`WebUi::static_file`];
//! * a path no route serves gets what the release's not-found handler
//!   gives: the WebUI shell to a request that prefers HTML, else 404 —
//!   [`WebUi::not_found`], with `Accept` read as werkzeug reads it ([`Accept`]).

use pi_config::PiConfig;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

/// The compiled WebUI below the static folder (`WEBUI_DIST_PATH`).
const DIST: [&str; 3] = ["dist", "privacyidea-webui", "browser"];
/// The cookie the WebUI stores its language in.
pub const LOCALE_COOKIE: &str = "pi_ui_locale";

/// What to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 302 to this location.
    Redirect(String),
    /// 200, `text/html`, not cached: a locale's `index.html`.
    Page(String),
    /// 200, a file with its content type, not cached.
    File(Vec<u8>, &'static str),
    /// 404 (`{"error":"Not found"}` and a newline, as the release writes it).
    NotFound,
}

/// What the answer depends on in the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Browser<'a> {
    /// The `pi_ui_locale` cookie's value, if sent.
    pub cookie_locale: Option<&'a str>,
    /// The `Accept-Language` header.
    pub accept_language: Option<&'a str>,
    /// `Accept` takes HTML, quality ignored ([`Accept::accept_html`]).
    pub accept_html: bool,
    /// HTML is `Accept`'s best match among HTML and JSON
    /// ([`Accept::prefers_html`]: a browser navigating).
    pub prefers_html: bool,
    /// The method is `GET`.
    pub get: bool,
    /// The request's path.
    pub path: &'a str,
    /// The query string (kept on redirects).
    pub query: &'a str,
}

/// The configured WebUI: its folder and the languages it offers.
#[derive(Debug, Clone)]
pub struct WebUi {
    root: PathBuf,
    languages: Vec<String>,
}

/// An `Accept` header read as werkzeug 3.1's `MIMEAccept` reads it (the
/// release's `request.accept_mimetypes`): entries with a valid quality
/// (0 to 1; others are skipped), parameters other than `q` kept, sorted by
/// specificity (`*/*` < `text/*` < `text/html` < `text/html;level=1`), then
/// quality, both descending.
#[derive(Debug, Clone, Default)]
pub struct Accept {
    entries: Vec<(Vec<String>, f32)>,
}

impl Accept {
    /// Parses the header (`None`: no entries).
    pub fn parse(header: Option<&str>) -> Accept {
        let mut entries = Vec::new();
        for entry in header.unwrap_or_default().split(',') {
            let mut parts = entry.split(';').map(str::trim);
            let mime = parts.next().unwrap_or_default().to_ascii_lowercase();
            if mime.is_empty() {
                continue;
            }
            let mut q = Some(1.0);
            let mut split: Vec<String> = mime.splitn(2, '/').map(str::to_owned).collect();
            let mut params = Vec::new();
            for p in parts.filter(|p| !p.is_empty()) {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                if k.trim().eq_ignore_ascii_case("q") {
                    q = parse_quality(v.trim());
                } else {
                    params.push(format!("{}={}", k.trim(), v.trim()).to_ascii_lowercase());
                }
            }
            let Some(q) = q else { continue };
            params.sort();
            split.extend(params);
            entries.push((split, q));
        }
        let specificity = |e: &(Vec<String>, f32)| e.0.iter().map(|x| x != "*").collect::<Vec<_>>();
        // stable: equal entries keep the header's order, as Python's sort
        entries.sort_by(|a, b| {
            (specificity(b), b.1)
                .partial_cmp(&(specificity(a), a.1))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Accept { entries }
    }

    /// werkzeug's `_value_matches` of an offered type (`text/html`) and an
    /// entry.
    fn matches(offer: &str, entry: &[String]) -> bool {
        let (Some(ty), Some(sub)) = (entry.first(), entry.get(1)) else {
            return false; // no `/`: matches nothing
        };
        let (oty, osub) = offer.split_once('/').unwrap_or((offer, ""));
        if ty == "*" {
            return sub == "*";
        }
        ty == oty && (sub == "*" || (sub == osub && entry.len() == 2))
    }

    /// The most specific entry that matches `offer`, with its quality.
    fn best_entry(&self, offer: &str) -> Option<&(Vec<String>, f32)> {
        self.entries.iter().find(|(e, _)| Self::matches(offer, e))
    }

    /// `offer in accept`: some entry matches, whatever its quality.
    pub fn contains(&self, offer: &str) -> bool {
        self.best_entry(offer).is_some()
    }

    /// `accept_html`: takes `text/html`, `application/xhtml+xml` or
    /// `application/xml` (quality ignored, as werkzeug does).
    pub fn accept_html(&self) -> bool {
        ["text/html", "application/xhtml+xml", "application/xml"]
            .iter()
            .any(|m| self.contains(m))
    }

    /// `best_match(offers)`: the offer whose most specific matching entry
    /// has the highest quality above 0 (then the more specific entry, then
    /// the first offer).
    pub fn best_match<'a>(&self, offers: &[&'a str]) -> Option<&'a str> {
        let mut best: Option<(&'a str, f32, Vec<bool>)> = None;
        for offer in offers {
            let Some((entry, q)) = self.best_entry(offer) else {
                continue;
            };
            let specificity: Vec<bool> = entry.iter().map(|x| x != "*").collect();
            let better = match &best {
                None => *q > 0.0,
                Some((_, bq, bs)) => *q > 0.0 && (*q > *bq || (*q == *bq && specificity > *bs)),
            };
            if better {
                best = Some((offer, *q, specificity));
            }
        }
        best.map(|(offer, _, _)| offer)
    }

    /// Whether HTML is the best match among HTML and JSON (the release's
    /// not-found handler serves the WebUI to such a request).
    pub fn prefers_html(&self) -> bool {
        self.best_match(&["text/html", "application/json"]) == Some("text/html")
    }
}

/// werkzeug's quality: `-?digits(.digits)?` within 0..=1, else the entry is
/// skipped.
fn parse_quality(v: &str) -> Option<f32> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return None;
    }
    v.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))
}

/// The value of the `pi_ui_locale` cookie among `Cookie` header values.
pub fn cookie_locale<'a>(cookie_headers: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    cookie_headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == LOCALE_COOKIE)
        .map(|(_, v)| v.trim_matches('"'))
}

impl WebUi {
    /// The WebUI of `PI_WEBUI_STATIC_DIR`, or `None` when it is unset.
    pub fn from_config(cfg: &PiConfig) -> Option<WebUi> {
        match cfg.get("PI_WEBUI_STATIC_DIR") {
            Some(Value::String(s)) if !s.is_empty() => Some(WebUi {
                root: PathBuf::from(s),
                languages: super::config::languages(cfg),
            }),
            _ => None,
        }
    }

    fn dist(&self) -> PathBuf {
        DIST.iter().fold(self.root.clone(), |p, part| p.join(part))
    }

    fn has_build(&self, locale: &str) -> bool {
        self.dist().join(locale).join("index.html").is_file()
    }

    /// `_canonical_locale`: case- and separator-insensitive lookup in the
    /// configured languages; the answer uses `-`.
    fn canonical_locale(&self, locale: &str) -> Option<String> {
        let key = locale.replace('_', "-").to_lowercase();
        self.languages
            .iter()
            .map(|l| l.replace('_', "-"))
            .find(|l| l.to_lowercase() == key)
    }

    /// `get_preferred_language`: the locale cookie (when it names a
    /// configured language), else the Accept-Language best match.
    fn preferred(&self, b: &Browser<'_>) -> String {
        if let Some(l) = b.cookie_locale.and_then(|c| self.canonical_locale(c)) {
            return l;
        }
        super::config::best_language(b.accept_language, &self.languages)
    }

    /// `_serve_locale`: the locale's `index.html` with the script-root meta tag.
    fn serve_locale(&self, locale: &str) -> Option<Answer> {
        let index = self.dist().join(locale).join("index.html");
        let text = std::fs::read_to_string(index).ok()?;
        Some(Answer::Page(text.replacen(
            "</head>",
            "<meta name=\"pi-script-root\" content=\"\"></head>",
            1,
        )))
    }

    /// `GET /`.
    pub fn start_page(&self, b: &Browser<'_>) -> Answer {
        let locale = self.preferred(b);
        if locale != "en" && self.has_build(&locale) {
            return Answer::Redirect(format!("/app/v2/{locale}/"));
        }
        if self.has_build("en") {
            return Answer::Redirect("/app/v2/".to_owned());
        }
        Answer::NotFound
    }

    /// `GET /app/v2/<locale>` (`subpath` `None`) and
    /// `GET /app/v2/<locale>/<subpath>`.
    pub fn app(&self, locale: &str, subpath: Option<&str>, b: &Browser<'_>) -> Answer {
        let Some(canonical) = self.canonical_locale(locale) else {
            if b.accept_html {
                let served = self.locale_or_english(&self.preferred(b));
                return served.unwrap_or_else(|| self.not_found(b));
            }
            return self.not_found(b);
        };
        if canonical != locale || subpath.is_none() {
            let mut to = format!("/app/v2/{canonical}/{}", subpath.unwrap_or_default());
            if !b.query.is_empty() {
                to.push('?');
                to.push_str(b.query);
            }
            return Answer::Redirect(to);
        }
        self.serve_locale(locale)
            .unwrap_or_else(|| self.not_found(b))
    }

    /// The release's not-found handler (`errorhandler(404)` in `app.py`),
    /// for every path no route serves and for the WebUI routes' own 404s:
    ///
    /// 1. `/static/public/customize…`: an empty page;
    /// 2. `/app/v2/…` when HTML is preferred: the shell of the locale the
    ///    path names (`/app/v2/<locale>/…`), else English;
    /// 3. any other `GET` outside `/static/` when HTML is preferred: the
    ///    shell of the locale the first segment names, else the preferred one;
    /// 4. else 404 (`{"error":"Not found"}`).
    ///
    /// Without a build for the locale or English, 2 and 3 redirect to `/`.
    pub fn not_found<'a>(&self, b: &Browser<'a>) -> Answer {
        let path = b.path;
        if path.starts_with("/static/public/customize") {
            return Answer::Page(String::new());
        }
        let named = |segment: Option<&'a str>| segment.filter(|s| self.listed_locale(s));
        if let Some(rest) = path.strip_prefix("/app/v2/") {
            if b.prefers_html {
                let locale = named(rest.split_once('/').map(|(first, _)| first));
                return self.shell(locale.unwrap_or("en"));
            }
        }
        if b.get && !path.starts_with("/static/") && b.prefers_html {
            let first = path
                .strip_prefix('/')
                .map(|p| p.split('/').next().unwrap_or(p));
            return match named(first) {
                Some(locale) => self.shell(locale),
                None => self.shell(&self.preferred(b)),
            };
        }
        Answer::NotFound
    }

    /// Whether `segment` is one of the configured languages as written, or
    /// with `-` for `_` (the release's locale pattern; case-sensitive).
    fn listed_locale(&self, segment: &str) -> bool {
        self.languages
            .iter()
            .any(|l| l == segment || (l.contains('_') && l.replace('_', "-") == segment))
    }

    /// A locale's shell, else the English one, else a redirect to `/`.
    fn shell(&self, locale: &str) -> Answer {
        self.locale_or_english(locale)
            .unwrap_or_else(|| Answer::Redirect("/".to_owned()))
    }

    /// `_serve_locale(locale) or _serve_locale("en")`: the shell of a
    /// configured locale (any spelling), else the English one.
    fn locale_or_english(&self, locale: &str) -> Option<Answer> {
        let serve = |l: &str| self.canonical_locale(l).and_then(|c| self.serve_locale(&c));
        serve(locale).or_else(|| serve("en"))
    }

    /// `GET /static/<rel>`: a file below the folder, only normal path
    /// components (no `..`, no absolute path). Reads the file: call it off
    /// the async threads.
    pub fn static_file(&self, rel: &str) -> Answer {
        let rel = Path::new(rel);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Answer::NotFound;
        }
        let full = self.root.join(rel);
        if !full.is_file() {
            return Answer::NotFound;
        }
        match std::fs::read(&full) {
            Ok(bytes) => Answer::File(bytes, content_type(&full)),
            Err(_) => Answer::NotFound,
        }
    }
}

/// The content type of a WebUI file by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/vnd.microsoft.icon",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webui(root: &Path) -> WebUi {
        WebUi {
            root: root.to_path_buf(),
            languages: ["en", "de", "zh_Hant"]
                .iter()
                .map(|s| (*s).into())
                .collect(),
        }
    }

    fn build(root: &Path, locale: &str) {
        let dir = DIST
            .iter()
            .fold(root.to_path_buf(), |p, d| p.join(d))
            .join(locale);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), format!("<head>{locale}</head>")).unwrap();
    }

    #[test]
    fn locales_are_canonical() {
        let ui = webui(Path::new("/nonexistent"));
        assert_eq!(ui.canonical_locale("EN").as_deref(), Some("en"));
        assert_eq!(ui.canonical_locale("zh_hant").as_deref(), Some("zh-Hant"));
        assert_eq!(ui.canonical_locale("login"), None);
    }

    #[test]
    fn content_types() {
        assert_eq!(
            content_type(Path::new("a/main-X.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.woff2")), "font/woff2");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }

    /// (header, accept_html, prefers_html), checked against the release: its
    /// `/app/v2/login` (accept_html) and `/pi.cfg` (prefers_html) answers.
    const ACCEPTS: [(&str, bool, bool); 16] = [
        ("text/html", true, true),
        ("*/*", true, true),
        ("text/*", true, true),
        ("TEXT/HTML", true, true),
        ("application/json, text/html", true, true),
        ("application/json, text/html;q=0.5", true, false),
        ("application/json;q=0.5, text/*", true, true),
        ("text/html;q=0, */*", true, false),
        ("*/*;q=0", true, false),
        ("application/xhtml+xml", true, false),
        ("text/html;level=1", false, false),
        ("text/html;q=2", false, false),
        ("text/html;q=x, application/json", false, false),
        ("application/json", false, false),
        ("image/png", false, false),
        ("", false, false),
    ];

    #[test]
    fn accept_is_read_as_werkzeug_reads_it() {
        for (header, html, prefers) in ACCEPTS {
            let accept = Accept::parse(Some(header));
            assert_eq!(accept.accept_html(), html, "accept_html {header}");
            assert_eq!(accept.prefers_html(), prefers, "prefers_html {header}");
        }
        let none = Accept::parse(None);
        assert!(!none.accept_html() && !none.prefers_html());
        let json_first = Accept::parse(Some("text/*;q=0.9, application/json;q=0.9"));
        assert_eq!(
            json_first.best_match(&["text/html", "application/json"]),
            Some("application/json"),
            "equal quality: the more specific entry wins"
        );
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        assert_eq!(cookie_locale(["a=1; pi_ui_locale=\"de\""]), Some("de"));
        assert_eq!(cookie_locale(["a=1", "pi_ui_locale=en"]), Some("en"));
        assert_eq!(cookie_locale(["pi_ui_localex=en"]), None);
    }

    #[test]
    fn pages_redirects_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let ui = webui(dir.path());
        let browser = Browser {
            accept_html: true,
            prefers_html: true,
            get: true,
            ..Browser::default()
        };
        assert_eq!(ui.start_page(&browser), Answer::NotFound);
        build(dir.path(), "en");
        build(dir.path(), "de");
        assert_eq!(ui.start_page(&browser), Answer::Redirect("/app/v2/".into()));
        let german = Browser {
            cookie_locale: Some("DE"),
            ..browser
        };
        assert_eq!(
            ui.start_page(&german),
            Answer::Redirect("/app/v2/de/".into())
        );
        let page =
            Answer::Page("<head>en<meta name=\"pi-script-root\" content=\"\"></head>".into());
        assert_eq!(ui.app("en", Some("tokens"), &browser), page);
        let query = Browser {
            query: "a=1",
            ..browser
        };
        assert_eq!(
            ui.app("EN", Some("x"), &query),
            Answer::Redirect("/app/v2/en/x?a=1".into())
        );
        assert_eq!(
            ui.app("de", None, &browser),
            Answer::Redirect("/app/v2/de/".into())
        );
        assert_eq!(ui.app("login", None, &browser), page);
        assert_eq!(ui.app("login", None, &Browser::default()), Answer::NotFound);
        // a listed locale without a build: the not-found handler's shell
        assert_eq!(ui.app("zh-Hant", Some("x"), &browser), page);
        std::fs::write(dir.path().join("app.css"), "a{}").unwrap();
        assert_eq!(
            ui.static_file("app.css"),
            Answer::File(b"a{}".to_vec(), "text/css; charset=utf-8")
        );
        assert_eq!(ui.static_file("../etc/passwd"), Answer::NotFound);
        assert_eq!(ui.static_file("/etc/passwd"), Answer::NotFound);
        assert_eq!(ui.static_file("dist"), Answer::NotFound);
    }

    #[test]
    fn not_found_serves_browsers_the_shell_as_the_release_does() {
        let dir = tempfile::tempdir().unwrap();
        let ui = webui(dir.path());
        let at = |path, prefers_html, get| Browser {
            path,
            prefers_html,
            get,
            ..Browser::default()
        };
        // no build at all: browsers are sent to `/`
        assert_eq!(
            ui.not_found(&at("/pi.cfg", true, true)),
            Answer::Redirect("/".into())
        );
        build(dir.path(), "en");
        build(dir.path(), "de");
        let shell = |l: &str| {
            Answer::Page(format!(
                "<head>{l}<meta name=\"pi-script-root\" content=\"\"></head>"
            ))
        };
        assert_eq!(ui.not_found(&at("/app/v2/", true, true)), shell("en"));
        assert_eq!(ui.not_found(&at("/app/v2/", false, true)), Answer::NotFound);
        // `/app/v2/…` needs no GET; the locale only counts before a `/`
        assert_eq!(ui.not_found(&at("/app/v2/de/x", true, false)), shell("de"));
        assert_eq!(ui.not_found(&at("/app/v2/de", true, true)), shell("en"));
        assert_eq!(ui.not_found(&at("/pi.cfg", true, true)), shell("en"));
        assert_eq!(ui.not_found(&at("/de", true, true)), shell("de"));
        assert_eq!(ui.not_found(&at("/DE/x", true, true)), shell("en"));
        let cookie = Browser {
            cookie_locale: Some("de"),
            ..at("/x/y", true, true)
        };
        assert_eq!(ui.not_found(&cookie), shell("de"));
        assert_eq!(ui.not_found(&at("/pi.cfg", true, false)), Answer::NotFound);
        assert_eq!(ui.not_found(&at("/pi.cfg", false, true)), Answer::NotFound);
        assert_eq!(
            ui.not_found(&at("/static/x.js", true, true)),
            Answer::NotFound
        );
        assert_eq!(
            ui.not_found(&at("/static/public/customize/a.css", false, false)),
            Answer::Page(String::new())
        );
    }
}
