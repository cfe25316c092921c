//! Optional: privacyIDEA's own WebUI from `PI_WEBUI_STATIC_DIR`. What each
//! route answers is decided by `pi_admin::webui::files`; here the request's
//! cookie, `Accept-Language`, `Accept` and query go in and the answer comes
//! out as HTTP.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use pi_admin::webui::files::{cookie_locale, Accept, Answer, Browser, WebUi};

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads the request's parts the answer depends on.
fn browser(req: &HttpRequest) -> Browser<'_> {
    let accept = Accept::parse(header_str(req, header::ACCEPT));
    Browser {
        cookie_locale: cookie_locale(
            req.headers()
                .get_all(header::COOKIE)
                .filter_map(|v| v.to_str().ok()),
        ),
        accept_language: header_str(req, header::ACCEPT_LANGUAGE),
        accept_html: accept.accept_html(),
        prefers_html: accept.prefers_html(),
        get: req.method() == actix_web::http::Method::GET,
        path: req.path(),
        query: req.query_string(),
    }
}

fn respond(answer: Answer) -> HttpResponse {
    match answer {
        Answer::Redirect(to) => redirect(HttpResponse::Found(), &to),
        Answer::Page(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(html),
        Answer::File(bytes, content_type) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(bytes),
        Answer::NotFound => not_found_json(),
    }
}

/// A redirect to `to` with werkzeug's body, as the release sends it.
pub fn redirect(mut status: actix_web::HttpResponseBuilder, to: &str) -> HttpResponse {
    let href = to
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    let body = format!(
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"{href}\">{href}</a>. If not, click the link.\n"
    );
    status
        .insert_header((header::LOCATION, to))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The release's 404 for a path no route serves: `{"error":"Not found"}`.
pub fn not_found_json() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/json")
        .body("{\"error\":\"Not found\"}\n")
}

/// A path no route serves, with the WebUI on: browsers get its shell
/// ([`WebUi::not_found`]).
pub async fn not_found(ui: web::Data<WebUi>, req: HttpRequest) -> HttpResponse {
    respond(ui.not_found(&browser(&req)))
}

async fn start_page(ui: web::Data<WebUi>, req: HttpRequest) -> HttpResponse {
    respond(ui.start_page(&browser(&req)))
}

async fn app_locale_only(
    ui: web::Data<WebUi>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    respond(ui.app(&path, None, &browser(&req)))
}

async fn app_with_subpath(
    ui: web::Data<WebUi>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (locale, sub) = path.into_inner();
    respond(ui.app(&locale, Some(&sub), &browser(&req)))
}

async fn static_file(
    ui: web::Data<WebUi>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let file = ui.clone().into_inner();
    let answer = web::block(move || file.static_file(&path)).await;
    match answer.unwrap_or(Answer::NotFound) {
        Answer::NotFound => respond(ui.not_found(&browser(&req))),
        found => respond(found),
    }
}

/// Registers the routes of the configured WebUI.
pub fn configure(cfg: &mut web::ServiceConfig, ui: WebUi) {
    // GET only; other methods answer 405, as the release's routes do
    let get = |path: &str| web::resource(path).default_service(web::to(super::method_not_allowed));
    cfg.app_data(web::Data::new(ui))
        .service(get("/").route(web::get().to(start_page)))
        .service(get("/app/v2/{locale}").route(web::get().to(app_locale_only)))
        .service(get("/app/v2/{locale}/{sub:.*}").route(web::get().to(app_with_subpath)))
        .service(get("/static/{path:.*}").route(web::get().to(static_file)));
}
