//! Optional: privacyIDEA's own WebUI from `PI_WEBUI_STATIC_DIR`. What each
//! route answers is decided by `pi_admin::webui::files`; here the request's
//! cookie, `Accept-Language`, `Accept` and query go in and the answer comes
//! out as HTTP.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use pi_admin::webui::files::{accepts_html, cookie_locale, Answer, Browser, WebUi};

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads the request's parts the answer depends on.
fn browser(req: &HttpRequest) -> Browser<'_> {
    Browser {
        cookie_locale: cookie_locale(
            req.headers()
                .get_all(header::COOKIE)
                .filter_map(|v| v.to_str().ok()),
        ),
        accept_language: header_str(req, header::ACCEPT_LANGUAGE),
        accepts_html: accepts_html(header_str(req, header::ACCEPT)),
        query: req.query_string(),
    }
}

fn respond(answer: Answer) -> HttpResponse {
    match answer {
        Answer::Redirect(to) => HttpResponse::Found()
            .insert_header((header::LOCATION, to))
            .finish(),
        Answer::Page(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(html),
        Answer::File(bytes, content_type) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(bytes),
        Answer::NotFound => HttpResponse::NotFound()
            .content_type("application/json")
            .body("{\"error\":\"Not found\"}\n"),
    }
}

async fn start_page(ui: web::Data<WebUi>, req: HttpRequest) -> HttpResponse {
    respond(ui.start_page(&browser(&req)))
}

async fn app_root(ui: web::Data<WebUi>, req: HttpRequest) -> HttpResponse {
    respond(ui.app_root(&browser(&req)))
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

async fn static_file(ui: web::Data<WebUi>, path: web::Path<String>) -> HttpResponse {
    let ui = ui.into_inner();
    let answer = web::block(move || ui.static_file(&path)).await;
    respond(answer.unwrap_or(Answer::NotFound))
}

/// Registers the routes of the configured WebUI.
pub fn configure(cfg: &mut web::ServiceConfig, ui: WebUi) {
    cfg.app_data(web::Data::new(ui))
        .route("/", web::get().to(start_page))
        .route("/app/v2/", web::get().to(app_root))
        .route("/app/v2/{locale}", web::get().to(app_locale_only))
        .route("/app/v2/{locale}/{sub:.*}", web::get().to(app_with_subpath))
        .route("/static/{path:.*}", web::get().to(static_file));
}
