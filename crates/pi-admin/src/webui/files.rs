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
//!   listings, nothing outside the folder) — [`WebUi::static_file`].

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
    /// Whether `Accept` takes `text/html` ([`accepts_html`]: a browser navigating).
    pub accepts_html: bool,
    /// The query string (kept on redirects).
    pub query: &'a str,
}

/// The configured WebUI: its folder and the languages it offers.
#[derive(Debug, Clone)]
pub struct WebUi {
    root: PathBuf,
    languages: Vec<String>,
}

/// Whether an `Accept` header takes `text/html`, as werkzeug's
/// `"text/html" in request.accept_mimetypes` answers: the most specific
/// entry that matches (`text/html`, else `text/*`, else `*/*`) has a
/// quality above 0. No header takes nothing.
pub fn accepts_html(accept: Option<&str>) -> bool {
    let mut best: Option<(u8, f32)> = None;
    for entry in accept.unwrap_or_default().split(',') {
        let mut parts = entry.split(';');
        let specificity = match parts.next().map(|t| t.trim().to_ascii_lowercase()) {
            Some(t) if t == "text/html" => 2,
            Some(t) if t == "text/*" => 1,
            Some(t) if t == "*/*" => 0,
            _ => continue,
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.is_some_and(|(_, q)| q > 0.0)
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

    /// `GET /app/v2/`: the English shell for browsers.
    pub fn app_root(&self, b: &Browser<'_>) -> Answer {
        if !b.accepts_html {
            return Answer::NotFound;
        }
        self.serve_locale("en").unwrap_or(Answer::NotFound)
    }

    /// `GET /app/v2/<locale>` (`subpath` `None`) and
    /// `GET /app/v2/<locale>/<subpath>`.
    pub fn app(&self, locale: &str, subpath: Option<&str>, b: &Browser<'_>) -> Answer {
        let Some(canonical) = self.canonical_locale(locale) else {
            if b.accepts_html {
                return self
                    .serve_locale(&self.preferred(b))
                    .or_else(|| self.serve_locale("en"))
                    .unwrap_or(Answer::NotFound);
            }
            return Answer::NotFound;
        };
        if canonical != locale || subpath.is_none() {
            let mut to = format!("/app/v2/{canonical}/{}", subpath.unwrap_or_default());
            if !b.query.is_empty() {
                to.push('?');
                to.push_str(b.query);
            }
            return Answer::Redirect(to);
        }
        self.serve_locale(locale).unwrap_or(Answer::NotFound)
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

    #[test]
    fn accept_is_matched_as_werkzeug_does() {
        for yes in [
            "text/html",
            "*/*",
            "text/*",
            "application/json, text/html;q=0.5",
            "TEXT/HTML",
        ] {
            assert!(accepts_html(Some(yes)), "{yes}");
        }
        for no in [
            "",
            "application/json",
            "*/*;q=0",
            "application/xhtml+xml",
            "image/png",
            "text/html;q=0, */*",
        ] {
            assert!(!accepts_html(Some(no)), "{no}");
        }
        assert!(!accepts_html(None));
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
            accepts_html: true,
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
        assert_eq!(ui.app_root(&browser), page);
        assert_eq!(ui.app_root(&Browser::default()), Answer::NotFound);
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
        std::fs::write(dir.path().join("app.css"), "a{}").unwrap();
        assert_eq!(
            ui.static_file("app.css"),
            Answer::File(b"a{}".to_vec(), "text/css; charset=utf-8")
        );
        assert_eq!(ui.static_file("../etc/passwd"), Answer::NotFound);
        assert_eq!(ui.static_file("/etc/passwd"), Answer::NotFound);
        assert_eq!(ui.static_file("dist"), Answer::NotFound);
    }
}
