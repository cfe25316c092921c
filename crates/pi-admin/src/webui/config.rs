//! The WebUI's configuration (`GET /config`): the settings the released
//! privacyIDEA 3.14 renders for its WebUI (`webui/login.py`,
//! `get_render_context` + `get_ui_config`): theme and customization from
//! pi.cfg, the login-form realm list, login text, GDPR link, menu/baseline
//! customization from webui policies, the passkey button, the version
//! (hidden before login by `hide_version`); the WebUI's languages and the
//! best one for a client. Anonymous; a valid token only matters for
//! `hide_version`.

use crate::error::ApiResult;
use crate::policyset::{map_match_error, request_context_parts};
use crate::request::RequestInfo;
use crate::state::AppState;
use pi_config::PiConfig;
use pi_policy::{GenericParams, MatchError};
use serde_json::{json, Value};

/// The privacyIDEA API level this server implements.
pub const VERSION_NUMBER: &str = "3.14";

const DEFAULT_THEME: &str = "/static/contrib/css/bootstrap-theme.css";
const DEFAULT_LANGUAGES: [&str; 13] = [
    "en", "de", "nl", "zh_Hant", "fr", "es", "tr", "cs", "it", "ta", "pt", "ru", "uk",
];

fn cfg_str(cfg: &PiConfig, key: &str, default: &str) -> String {
    match cfg.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => default.to_owned(),
        Some(v) => pi_model::pyrepr::str_value(v),
    }
}

fn cfg_value(cfg: &PiConfig, key: &str, default: Value) -> Value {
    cfg.get(key).cloned().unwrap_or(default)
}

/// Python truthiness of a pi.cfg value.
fn cfg_truthy(cfg: &PiConfig, key: &str) -> bool {
    match cfg.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// `PI_PREFERRED_LANGUAGE` (a list, or a comma-separated string).
pub fn languages(cfg: &PiConfig) -> Vec<String> {
    let list: Vec<String> = match cfg.get("PI_PREFERRED_LANGUAGE") {
        Some(Value::Array(a)) => a.iter().map(pi_model::pyrepr::str_value).collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    if list.is_empty() {
        DEFAULT_LANGUAGES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        list
    }
}

fn norm(tag: &str) -> String {
    tag.replace('_', "-").to_lowercase()
}

/// Werkzeug's `LanguageAccept.best_match(server, default=server[0])`:
/// client tags by quality; an exact (normalised) match first, then the
/// primary subtags.
pub fn best_language(header: Option<&str>, server: &[String]) -> String {
    let default = server.first().cloned().unwrap_or_default();
    let Some(header) = header else {
        return default;
    };
    let mut client: Vec<(String, f64)> = header
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let tag = it.next()?.trim().to_owned();
            if tag.is_empty() {
                return None;
            }
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q=").map(str::trim))
                .filter_map(|q| q.parse::<f64>().ok())
                .next()
                .unwrap_or(1.0);
            (q > 0.0).then_some((tag, q))
        })
        .collect();
    client.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    for (tag, _) in &client {
        if tag == "*" {
            return default;
        }
        if let Some(s) = server.iter().find(|s| norm(s) == norm(tag)) {
            return s.clone();
        }
    }
    for (tag, _) in &client {
        let primary = norm(tag).split('-').next().unwrap_or_default().to_owned();
        if let Some(s) = server
            .iter()
            .find(|s| norm(s).split('-').next() == Some(primary.as_str()))
        {
            return s.clone();
        }
    }
    default
}

/// The WebUI's configuration and whether the version is hidden from this
/// client (`hide_version` before login: the answer's envelope then carries
/// no `version`/`versionnumber` either).
#[derive(Debug)]
pub struct UiConfig {
    /// The value of the answer.
    pub value: Value,
    /// The version is hidden (the value has no `privacyideaVersionNumber`).
    pub version_hidden: bool,
}

/// The WebUI's configuration for a request (`info`; `logged_in`: it carries
/// a valid token; `accept_language`: its `Accept-Language` header).
pub async fn ui_config(
    state: &AppState,
    info: &RequestInfo,
    logged_in: bool,
    accept_language: Option<&str>,
) -> ApiResult<UiConfig> {
    let cfg = &state.cfg;
    let snap = state.snapshot().await?;
    let parts = request_context_parts(info);
    let set = &snap.policy_set;
    let ctx = parts.context(set, None);
    let action_only = |scope: &'static str, action: &'static str| {
        set.match_action_only(&ctx, scope, Some(action))
            .map_err(map_match_error)
    };
    let hide_version = !action_only("hardening", "hide_version")?
        .policies()
        .map_err(map_match_error)?
        .is_empty();
    let hidden = hide_version && !logged_in;
    if cfg_truthy(cfg, "PI_UI_DEACTIVATED") {
        // The release renders nothing, then still sets the logo.
        return Ok(UiConfig {
            value: json!({"logo": cfg_value(cfg, "PI_LOGO", json!(""))}),
            version_hidden: hidden,
        });
    }
    let assigned_and_ends = state
        .db(|s| {
            Ok((
                s.assigned_active_token_count()?,
                s.subscription_end_dates("privacyidea")?,
            ))
        })
        .await?;
    let sub_state = super::subscription_status(
        assigned_and_ends.0,
        &assigned_and_ends.1,
        chrono::Utc::now().naive_utc(),
    );
    let customizable = !(sub_state == 1 || sub_state == 2);

    let theme = cfg_str(cfg, "PI_CSS", DEFAULT_THEME)
        .trim_matches('/')
        .to_owned();
    let customization = cfg_str(cfg, "PI_CUSTOMIZATION", "/static/customize/")
        .trim_matches('/')
        .to_owned();
    let custom_css = if cfg_truthy(cfg, "PI_CUSTOM_CSS") {
        format!("{customization}/css/custom.css")
    } else {
        String::new()
    };
    let browser_lang = best_language(accept_language, &languages(cfg));

    // realm_dropdown: the realms of the policy values, or every realm when
    // the action is a plain flag.
    let dropdown = action_only("webui", "realm_dropdown")?;
    let realms = if dropdown.policies().map_err(map_match_error)?.is_empty() {
        String::new()
    } else {
        match dropdown.action_values(false, false) {
            Ok(values) => values
                .iter()
                .filter_map(|(v, _)| v)
                .collect::<Vec<_>>()
                .join(","),
            Err(MatchError::NotAValueAction(_)) => snap
                .realms
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(","),
            Err(e) => return Err(map_match_error(e)),
        }
    };
    let show_node = set
        .match_generic(
            &ctx,
            GenericParams {
                scope: Some("webui"),
                action: Some("show_node"),
                ..GenericParams::default()
            },
        )
        .any()
        .map_err(map_match_error)?;

    // Unique, whitespace-preserving webui values; used only without an
    // expired/missing subscription.
    let unique_value = |action: &'static str| -> ApiResult<Option<String>> {
        let values = action_only("webui", action)?
            .action_values(true, true)
            .map_err(map_match_error)?;
        Ok(values
            .first()
            .flatten()
            .filter(|v| !v.is_empty() && customizable)
            .map(str::to_owned))
    };
    let menu_file =
        unique_value("custom_menu")?.unwrap_or_else(|| "templates/menu.html".to_owned());
    let baseline_file =
        unique_value("custom_baseline")?.unwrap_or_else(|| "templates/baseline.html".to_owned());
    let login_text = unique_value("login_text")?.unwrap_or_default();
    let gdpr_link = unique_value("privacy_statement_link")?.unwrap_or_default();

    let random_pin: Vec<Value> = action_only("user", "otp_pin_set_random")?
        .policies()
        .map_err(map_match_error)?
        .into_iter()
        .map(|p| p.to_json())
        .collect();
    let passkey = action_only("webui", "passkey_login")?
        .action_values(true, false)
        .map_err(map_match_error)?
        .first()
        .flatten()
        .map(str::to_owned)
        .unwrap_or_else(|| "show".to_owned());
    let password_reset = snap
        .resolvers
        .iter()
        .any(|r| snap.resolver_object(&r.name).is_some_and(|o| o.editable()))
        && set
            .match_generic(
                &ctx,
                GenericParams {
                    scope: Some("user"),
                    action: Some("password_reset"),
                    ..GenericParams::default()
                },
            )
            .allowed()
            .map_err(map_match_error)?;

    let node = if show_node {
        state.node.name.as_str()
    } else {
        ""
    };
    let version = if hidden { "" } else { VERSION_NUMBER };
    let mut v = json!({
        "instance": "",
        "backendUrl": "",
        "browser_lang": browser_lang,
        "remote_user": "",
        "force_remote_user": false,
        "theme": theme,
        "translation_warning": cfg_value(cfg, "PI_TRANSLATION_WARNING", json!(false)),
        "password_reset": password_reset,
        "hsm_ready": true,
        "has_job_queue": "False",
        "customization": customization,
        "custom_css": custom_css,
        "customization_menu_file": menu_file,
        "customization_baseline_file": baseline_file,
        "realms": realms,
        "show_node": node,
        "external_links": cfg_value(cfg, "PI_EXTERNAL_LINKS", json!(true)),
        "login_text": login_text,
        "gdpr_link": gdpr_link,
        "logo": cfg_value(cfg, "PI_LOGO", json!("")),
        "page_title": cfg_value(cfg, "PI_PAGE_TITLE", json!("privacyIDEA Authentication System")),
        "otp_pin_set_random_user": random_pin,
        "privacyideaVersionNumber": version,
        "passkey_login": passkey,
    });
    if let Some(obj) = v.as_object_mut().filter(|_| hidden) {
        obj.remove("privacyideaVersionNumber");
    }
    Ok(UiConfig {
        value: v,
        version_hidden: hidden,
    })
}

#[cfg(test)]
mod tests {
    use super::best_language;

    fn langs() -> Vec<String> {
        super::DEFAULT_LANGUAGES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    #[test]
    fn accept_language_best_match() {
        assert_eq!(best_language(None, &langs()), "en");
        assert_eq!(
            best_language(Some("de-DE,de;q=0.9,en;q=0.8"), &langs()),
            "de"
        );
        assert_eq!(best_language(Some("fr;q=0.5, nl"), &langs()), "nl");
        assert_eq!(best_language(Some("zh-hant"), &langs()), "zh_Hant");
        assert_eq!(best_language(Some("xx"), &langs()), "en");
    }
}
