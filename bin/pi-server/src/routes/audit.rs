//! `GET /audit/` and `GET /audit/<file>.csv` (the use cases are
//! `pi_admin::audit::read`): the gate, parameters, the envelope and the
//! CSV stream.

use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::params::Params;
use crate::routes::resource;
use crate::server::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use pi_admin::audit::{self, CsvExport};
use pi_admin::gate::{self, AuditLog, AuditLogDownload, Target};

/// `GET /audit/`: the audit log, filtered and paged as privacyIDEA does.
pub(crate) async fn search(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    params: Params,
) -> crate::error::Reply {
    // `check_base_action` for auditlog ignores the request's user/realm/resolver
    let granted = gate::grant_now::<AuditLog>(&state, &admin, &Target::default()).await?;
    let value = audit::search(&state, &granted, state.audit_trail(), params.all()).await?;
    Ok(envelope::ok(value))
}

/// `GET /audit/<file>.csv`: the filtered audit log as CSV (`auditlog_download`).
pub(crate) async fn download(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    path: web::Path<String>,
    params: Params,
) -> crate::error::Reply {
    let filename = path.into_inner();
    let granted = gate::grant_now::<AuditLogDownload>(&state, &admin, &Target::default()).await?;
    let export = CsvExport::start(&granted, state.audit_trail(), params.all()).await?;
    let rounds = futures_util::stream::unfold(export.map(|e| (e, None)), move |cursor| {
        let state = state.clone();
        async move {
            let (export, after) = cursor?;
            match export.round(state.audit_trail(), after).await {
                Ok((chunk, next)) => {
                    Some((Ok(web::Bytes::from(chunk)), next.map(|n| (export, Some(n)))))
                }
                Err(e) => {
                    // the answer has started: cut it off, do not end it cleanly
                    log::error!("audit CSV export failed: {e}");
                    Some((
                        Err(actix_web::Error::from(crate::error::HttpError(e))),
                        None,
                    ))
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename={}",
                audit::read::attachment_name(&filename)
            ),
        ))
        .streaming(rounds))
}

/// Register the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/audit/").route(web::get().to(search)))
        .service(resource("/audit/{csvfile}").route(web::get().to(download)));
}
