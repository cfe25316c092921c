//! Optional: privacyIDEA's own (Angular) WebUI served from an installed
//! privacyIDEA package's `static/` folder (`PI_WEBUI_STATIC_DIR` in pi.cfg;
//! off when unset), the way the released 3.14 serves it (`webui/login.py`):
//!
//! * `GET /` redirects to `/app/v2/` (or `/app/v2/<locale>/` when the
//!   browser prefers another language that has a build);
//! * `GET /app/v2/<locale>/…` answers the locale's `index.html` with the
//!   `pi-script-root` meta tag (any sub-path: the WebUI routes in the
//!   browser); `/app/v2/<locale>` and a differently spelled locale redirect
//!   to the canonical `/app/v2/<locale>/…`; an unknown first segment serves
//!   the preferred locale's shell to browsers and 404 to others;
//! * `GET /static/<path>` answers the files below the folder (no directory
//!   listings, nothing outside the folder).

use crate::server::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use std::path::{Component, Path, PathBuf};

/// The compiled WebUI below the static folder (`WEBUI_DIST_PATH`).
const DIST: [&str; 3] = ["dist", "privacyidea-webui", "browser"];
const LOCALE_COOKIE: &str = "pi_ui_locale";

/// The configured folder, if any.
pub fn static_dir(state: &AppState) -> Option<PathBuf> {
    match state.cfg.get("PI_WEBUI_STATIC_DIR") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(PathBuf::from(s)),
        _ => None,
    }
}

fn dist(root: &Path) -> PathBuf {
    DIST.iter().fold(root.to_path_buf(), |p, part| p.join(part))
}

/// `_canonical_locale`: case- and separator-insensitive lookup in the
/// configured languages; the answer uses `-`.
fn canonical_locale(locale: &str, languages: &[String]) -> Option<String> {
    let key = locale.replace('_', "-").to_lowercase();
    languages
        .iter()
        .map(|l| l.replace('_', "-"))
        .find(|l| l.to_lowercase() == key)
}

/// `get_preferred_language`: the locale cookie (when it names a configured
/// language), else the Accept-Language best match.
fn preferred(req: &HttpRequest, languages: &[String]) -> String {
    let cookie = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == LOCALE_COOKIE)
        .map(|(_, v)| v.trim_matches('"').to_owned());
    if let Some(l) = cookie.and_then(|c| canonical_locale(&c, languages)) {
        return l;
    }
    pi_admin::webui::config::best_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        languages,
    )
}

fn accepts_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn redirect(to: String) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/json")
        .body(r#"{"error": "Not found"}"#)
}

/// `_serve_locale`: the locale's `index.html` with the script-root meta tag.
fn serve_locale(root: &Path, locale: &str) -> Option<HttpResponse> {
    let index = dist(root).join(locale).join("index.html");
    let text = std::fs::read_to_string(index).ok()?;
    let text = text.replacen(
        "</head>",
        "<meta name=\"pi-script-root\" content=\"\"></head>",
        1,
    );
    Some(
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(text),
    )
}

fn has_build(root: &Path, locale: &str) -> bool {
    dist(root).join(locale).join("index.html").is_file()
}

async fn start_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(root) = static_dir(&state) else {
        return not_found();
    };
    let languages = pi_admin::webui::config::languages(&state.cfg);
    let locale = preferred(&req, &languages);
    if locale != "en" && has_build(&root, &locale) {
        return redirect(format!("/app/v2/{locale}/"));
    }
    if has_build(&root, "en") {
        return redirect("/app/v2/".to_owned());
    }
    not_found()
}

/// `/app/v2/` itself: the preferred locale's shell for browsers.
async fn app_root(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(root) = static_dir(&state) else {
        return not_found();
    };
    if !accepts_html(&req) {
        return not_found();
    }
    serve_locale(&root, "en").unwrap_or_else(not_found)
}

async fn app(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, Option<String>)>,
) -> HttpResponse {
    let Some(root) = static_dir(&state) else {
        return not_found();
    };
    let (locale, subpath) = path.into_inner();
    let languages = pi_admin::webui::config::languages(&state.cfg);
    let Some(canonical) = canonical_locale(&locale, &languages) else {
        if accepts_html(&req) {
            let pref = preferred(&req, &languages);
            return serve_locale(&root, &pref)
                .or_else(|| serve_locale(&root, "en"))
                .unwrap_or_else(not_found);
        }
        return not_found();
    };
    if canonical != locale || subpath.is_none() {
        let mut to = format!("/app/v2/{canonical}/{}", subpath.unwrap_or_default());
        if !req.query_string().is_empty() {
            to.push('?');
            to.push_str(req.query_string());
        }
        return redirect(to);
    }
    serve_locale(&root, &locale).unwrap_or_else(not_found)
}

async fn app_locale_only(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    app(state, req, web::Path::from((path.into_inner(), None))).await
}

async fn app_with_subpath(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (locale, sub) = path.into_inner();
    app(state, req, web::Path::from((locale, Some(sub)))).await
}

fn content_type(path: &Path) -> &'static str {
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

/// A file below the folder: only normal path components, no `..`.
async fn static_file(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some(root) = static_dir(&state) else {
        return not_found();
    };
    let rel = PathBuf::from(path.into_inner());
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return not_found();
    }
    let full = root.join(&rel);
    let read = web::block(move || {
        if full.is_file() {
            std::fs::read(&full).ok().map(|b| (b, content_type(&full)))
        } else {
            None
        }
    })
    .await;
    match read {
        Ok(Some((bytes, ctype))) => HttpResponse::Ok()
            .content_type(ctype)
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(bytes),
        _ => not_found(),
    }
}

/// Register the routes (only called when `PI_WEBUI_STATIC_DIR` is set).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(start_page))
        .route("/app/v2/", web::get().to(app_root))
        .route("/app/v2/{locale}", web::get().to(app_locale_only))
        .route("/app/v2/{locale}/{sub:.*}", web::get().to(app_with_subpath))
        .route("/static/{path:.*}", web::get().to(static_file));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_are_canonical() {
        let langs: Vec<String> = ["en", "de", "zh_Hant"]
            .iter()
            .map(|s| (*s).into())
            .collect();
        assert_eq!(canonical_locale("EN", &langs).as_deref(), Some("en"));
        assert_eq!(
            canonical_locale("zh_hant", &langs).as_deref(),
            Some("zh-Hant")
        );
        assert_eq!(canonical_locale("login", &langs), None);
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
}
