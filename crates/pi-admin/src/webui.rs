//! What a login gets from the webui policies, as the released privacyIDEA
//! 3.14 computes it (release-differences.md §E): the login mode (before the
//! password is checked), the JWT validity, and the WebUI settings of the
//! `/auth` answer (`get_webui_settings` and the `rss_age` pre-policy).
//!
//! Every look-up is the release's `Match` call with the same user object,
//! user name and realm, so restrictions, conditions, the uniqueness rule
//! (conflicting values at the top priority: 403, code 303) and defaults
//! agree.

use crate::error::{ApiError, ApiResult};
use crate::policyset::map_match_error;
use pi_model::pyrepr::parse_int;
use pi_policy::{GenericParams, Match, MatchContext, PolicySet, UserObject};
use serde_json::{json, Map, Value};

pub mod config;
pub mod files;

const DEFAULT_LOGOUT_TIME: i64 = 120;
const DEFAULT_AUDIT_PAGE_SIZE: i64 = 10;
const DEFAULT_PAGE_SIZE: i64 = 15;
const DEFAULT_TOKENTYPE: &str = "hotp";
const DEFAULT_CONTAINER_TYPE: &str = "generic";
const DEFAULT_TIMEOUT_ACTION: &str = "lockscreen";
const DEFAULT_SESSION_PERSISTENCE: &str = "tab";
const DEFAULT_POLICY_TEMPLATE_URL: &str = "/static/policy-templates/";
const ANDROID_APP_URL: &str =
    "https://play.google.com/store/apps/details?id=it.netknights.piauthenticator";
const IOS_APP_URL: &str = "https://apps.apple.com/us/app/privacyidea-authenticator/id1445401301";
/// Tokens a deployment may assign without a subscription.
pub const FREE_TOKENS: i64 = 50;

/// The WebUI login mode a `login_mode` policy selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginMode {
    /// The password of the user store (default).
    Userstore,
    /// privacyIDEA's own token check.
    PrivacyIdea,
}

/// `get_login_mode_values` and what `/auth` makes of it: only the matching
/// policies of the highest priority count; `disable` among them refuses the
/// login (403), several distinct modes are a conflict (403, code 303).
pub fn login_mode(
    set: &PolicySet,
    ctx: &MatchContext<'_>,
    user: &UserObject,
) -> ApiResult<LoginMode> {
    let m = set
        .match_user(ctx, "webui", Some("login_mode"), Some(user))
        .map_err(map_match_error)?;
    let policies = m.policies().map_err(map_match_error)?;
    let Some(top) = policies.first().map(|p| p.priority()) else {
        return Ok(LoginMode::Userstore);
    };
    let top: Vec<_> = policies
        .into_iter()
        .filter(|p| p.priority() == top)
        .collect();
    let values = pi_policy::extract_action_values(&top, "login_mode", false, false)
        .map_err(map_match_error)?;
    if values.get("disable").is_some() {
        return Err(ApiError::policy("The login for this user is disabled."));
    }
    if values.len() > 1 {
        let mut names: Vec<&str> = values.policy_names();
        names.sort_unstable();
        names.dedup();
        return Err(ApiError::policy(format!(
            "There are policies with conflicting actions: {}",
            pi_model::pyrepr::repr_str_list(&names)
        )));
    }
    Ok(match values.first().flatten() {
        Some("privacyIDEA") => LoginMode::PrivacyIdea,
        _ => LoginMode::Userstore,
    })
}

/// `get_jwt_validity(request.User)`: `Match.user(webui, jwt_validity)`,
/// unique; a value that is not an integer gives `default` (privacyIDEA's
/// 3600 s, `PI_JWT_VALIDITY` here).
pub fn jwt_validity(
    set: &PolicySet,
    ctx: &MatchContext<'_>,
    user: &UserObject,
    default: i64,
) -> ApiResult<i64> {
    let values = set
        .match_user(ctx, "webui", Some("jwt_validity"), Some(user))
        .and_then(|m| m.action_values(true, false))
        .map_err(map_match_error)?;
    Ok(match values.first().flatten() {
        Some(v) if values.len() == 1 => parse_int(v).unwrap_or_else(|| {
            log::warn!("invalid JWT validity period `{v}`; using {default} s");
            default
        }),
        _ => default,
    })
}

/// What the settings depend on besides the policies.
#[derive(Debug)]
pub struct Login<'a> {
    /// `admin` or `user`.
    pub role: &'a str,
    /// Login name without realm.
    pub username: &'a str,
    /// Realm (`""` for local admins).
    pub realm: &'a str,
    /// `request.User`: `None` for a local admin.
    pub user: Option<&'a UserObject>,
    /// Tokens the user owns (role user).
    pub tokens: i64,
    /// Containers the user owns (role user).
    pub containers: i64,
    /// The node name `show_node` reveals.
    pub node_name: &'a str,
    /// The `subscription_status` value.
    pub subscription_status: i64,
}

/// `subscription_status("privacyidea")`: 0 within the free tier, 1 over it
/// without a subscription, else 2 (expired) or 3 (valid) by the end date.
pub fn subscription_status(
    assigned_active_tokens: i64,
    end_dates: &[Option<chrono::NaiveDateTime>],
    now: chrono::NaiveDateTime,
) -> i64 {
    if assigned_active_tokens <= FREE_TOKENS {
        0
    } else if end_dates.is_empty() {
        1
    } else if end_dates.iter().any(|d| d.is_some_and(|d| d >= now)) {
        3
    } else {
        2
    }
}

struct Lookup<'s, 'a> {
    set: &'s PolicySet,
    ctx: &'a MatchContext<'a>,
    login: &'a Login<'a>,
}

impl<'s, 'a> Lookup<'s, 'a>
where
    's: 'a,
{
    /// `Match.generic(g, scope, action, user_object=u, user=<login>, realm=<realm>)`.
    fn generic(&self, scope: &'a str, action: &'a str) -> Match<'s, 'a> {
        self.set.match_generic(
            self.ctx,
            GenericParams {
                scope: Some(scope),
                action: Some(action),
                user_object: self.login.user,
                user: Some(self.login.username),
                realm: Some(self.login.realm),
                ..GenericParams::default()
            },
        )
    }

    fn webui(&self, action: &'a str) -> Match<'s, 'a> {
        self.generic("webui", action)
    }

    /// `Match.user(g, scope, action, user_object=u)`.
    fn user(&self, scope: &'a str, action: &'a str) -> ApiResult<Match<'s, 'a>> {
        self.set
            .match_user(self.ctx, scope, Some(action), self.login.user)
            .map_err(map_match_error)
    }
}

fn unique(m: &Match<'_, '_>) -> ApiResult<Option<String>> {
    let v = m.action_values(true, false).map_err(map_match_error)?;
    Ok(match v.first().flatten() {
        Some(s) if v.len() == 1 => Some(s.to_string()),
        _ => None,
    })
}

fn any(m: &Match<'_, '_>) -> ApiResult<bool> {
    m.any().map_err(map_match_error)
}

/// Python's `int(v)` of a policy value; the release fails the login with
/// HTTP 500 where `int()` raises. That is a server-side configuration
/// error, so it stays a 500 here too, with the reason.
fn int_setting(action: &str, v: Option<String>, default: i64) -> ApiResult<i64> {
    match v {
        None => Ok(default),
        Some(v) => parse_int(&v).ok_or_else(|| {
            ApiError::internal(format!(
                "webui policy action {action}={v} is not an integer"
            ))
        }),
    }
}

/// The WebUI settings of a successful login, in the release's order of
/// evaluation (the first conflict raises).
pub fn settings(
    set: &PolicySet,
    ctx: &MatchContext<'_>,
    login: &Login<'_>,
) -> ApiResult<Map<String, Value>> {
    let l = Lookup { set, ctx, login };
    let is_user = login.role == "user";
    let is_admin = login.role == "admin";
    let logout_time = unique(&l.webui("logout_time"))?;
    let timeout_action = unique(&l.webui("timeout_action"))?;
    let session_persistence = unique(&l.webui("session_persistence"))?;
    let audit_page_size = unique(&l.webui("audit_page_size"))?;
    let token_page_size = unique(&l.webui("token_page_size"))?;
    let user_page_size = unique(&l.webui("user_page_size"))?;
    let token_wizard_2nd = is_user
        && !l
            .webui("tokenwizard_2nd_token")
            .policies()
            .map_err(map_match_error)?
            .is_empty();
    let admin_dashboard = is_admin && any(&l.webui("admin_dashboard"))?;
    let rollover = l
        .webui("token_rollover")
        .action_values(false, false)
        .map_err(map_match_error)?;
    let token_rollover: Map<String, Value> = rollover
        .iter()
        .map(|(v, names)| (v.unwrap_or("None").to_string(), json!(names)))
        .collect();

    let mut out = Map::new();
    let mut token_wizard = false;
    let mut dialog_no_token = false;
    let mut container_wizard = json!({"enabled": false});
    if is_user {
        let wizard = any(&l.user("webui", "tokenwizard")?)?;
        token_wizard = wizard && login.tokens == 0;
        let dialog = any(&l.user("webui", "dialog_no_token")?)?;
        dialog_no_token = dialog && login.tokens == 0;
        let force = l
            .user("user", "indexedsecret_force_attribute")?
            .action_values(false, false)
            .map_err(map_match_error)?;
        if !force.is_empty() {
            out.insert("indexedsecret_force_attribute".into(), json!(1));
        }
        if login.containers == 0 {
            if let Some(ctype) = unique(&l.user("webui", "container_wizard_type")?)? {
                let template = unique(&l.user("webui", "container_wizard_template")?)?.map(|t| {
                    match t.split_once(&format!("({ctype})")) {
                        Some((name, _)) => name.to_string(),
                        None => t,
                    }
                });
                let registration = any(&l.user("webui", "container_wizard_registration")?)?;
                container_wizard = json!({
                    "enabled": true,
                    "type": ctype,
                    "template": template,
                    "registration": registration,
                });
            }
        }
    }

    let user_details = !l
        .webui("user_details")
        .policies()
        .map_err(map_match_error)?
        .is_empty();
    let search_on_enter = !l
        .webui("search_on_enter")
        .policies()
        .map_err(map_match_error)?
        .is_empty();
    let hide_welcome = any(&l.webui("hide_welcome_info"))?;
    let hide_buttons = any(&l.webui("hide_buttons"))?;
    let deletion_confirmation = any(&l.webui("deletion_confirmation"))?;
    let default_tokentype = unique(&l.webui("default_tokentype"))?;
    let default_container_type = unique(&l.webui("default_container_type"))?;
    let show_seed = any(&l.webui("show_seed"))?;
    // `show_node` passes the realm and the user object, but no user name.
    let show_node = any(&set.match_generic(
        ctx,
        GenericParams {
            scope: Some("webui"),
            action: Some("show_node"),
            user_object: login.user,
            realm: Some(login.realm),
            ..GenericParams::default()
        },
    ))?;
    let qr_ios = any(&l.webui("show_ios_privacyidea_authenticator"))?;
    let qr_android = any(&l.webui("show_android_privacyidea_authenticator"))?;
    let qr_custom = unique(&l.webui("show_custom_authenticator"))?;
    let logout_redirect = unique(&l.webui("logout_redirect"))?;
    let require_description: Vec<String> = l
        .generic("enrollment", "require_description")
        .action_values(false, false)
        .map_err(map_match_error)?
        .iter()
        .map(|(v, _)| v.unwrap_or("None").to_string())
        .collect();

    let audit_page_size = int_setting("audit_page_size", audit_page_size, DEFAULT_AUDIT_PAGE_SIZE)?;
    let token_page_size = int_setting("token_page_size", token_page_size, DEFAULT_PAGE_SIZE)?;
    let user_page_size = int_setting("user_page_size", user_page_size, DEFAULT_PAGE_SIZE)?;
    let logout_time = int_setting("logout_time", logout_time, DEFAULT_LOGOUT_TIME)?;

    let template_url = unique(
        &set.match_action_only(ctx, "webui", Some("policy_template_url"))
            .map_err(map_match_error)?,
    )?;
    let preset = unique(
        &set.match_realm(
            ctx,
            "webui",
            Some("indexedsecret_preset_attribute"),
            Some(login.realm),
        )
        .map_err(map_match_error)?,
    )?;
    if let Some(p) = preset {
        out.insert("indexedsecret_preset_attribute".into(), json!(p));
    }

    out.insert("logout_time".into(), json!(logout_time));
    out.insert("audit_page_size".into(), json!(audit_page_size));
    out.insert("token_page_size".into(), json!(token_page_size));
    out.insert("user_page_size".into(), json!(user_page_size));
    out.insert(
        "policy_template_url".into(),
        json!(template_url
            .as_deref()
            .unwrap_or(DEFAULT_POLICY_TEMPLATE_URL)),
    );
    out.insert(
        "default_tokentype".into(),
        json!(default_tokentype.as_deref().unwrap_or(DEFAULT_TOKENTYPE)),
    );
    out.insert(
        "default_container_type".into(),
        json!(default_container_type
            .as_deref()
            .unwrap_or(DEFAULT_CONTAINER_TYPE)),
    );
    out.insert("user_details".into(), json!(user_details));
    out.insert("token_wizard".into(), json!(token_wizard));
    out.insert("token_wizard_2nd".into(), json!(token_wizard_2nd));
    out.insert("admin_dashboard".into(), json!(admin_dashboard));
    out.insert("dialog_no_token".into(), json!(dialog_no_token));
    out.insert("search_on_enter".into(), json!(search_on_enter));
    out.insert(
        "timeout_action".into(),
        json!(timeout_action.as_deref().unwrap_or(DEFAULT_TIMEOUT_ACTION)),
    );
    out.insert(
        "session_persistence".into(),
        json!(session_persistence
            .as_deref()
            .unwrap_or(DEFAULT_SESSION_PERSISTENCE)),
    );
    out.insert("token_rollover".into(), Value::Object(token_rollover));
    out.insert("hide_welcome".into(), json!(hide_welcome));
    out.insert("hide_buttons".into(), json!(hide_buttons));
    out.insert("deletion_confirmation".into(), json!(deletion_confirmation));
    out.insert("show_seed".into(), json!(show_seed));
    out.insert(
        "show_node".into(),
        json!(if show_node { login.node_name } else { "" }),
    );
    out.insert(
        "subscription_status".into(),
        json!(login.subscription_status),
    );
    let qr = |on: bool, url: &str| {
        if on {
            json!(crate::qr::png_data_uri(url))
        } else {
            Value::Null
        }
    };
    out.insert("qr_image_android".into(), qr(qr_android, ANDROID_APP_URL));
    out.insert("qr_image_ios".into(), qr(qr_ios, IOS_APP_URL));
    out.insert(
        "qr_image_custom".into(),
        match &qr_custom {
            Some(url) => qr(true, url),
            None => Value::Null,
        },
    );
    out.insert(
        "logout_redirect_url".into(),
        json!(logout_redirect.as_deref().unwrap_or("")),
    );
    out.insert("require_description".into(), json!(require_description));
    out.insert("rss_age".into(), json!(rss_age(set, ctx, login)?));
    out.insert("container_wizard".into(), container_wizard);
    Ok(out)
}

/// The `rss_age` pre-policy: `Match.user(webui, rss_age, request.User)`
/// (an empty user for local admins), unique; default 180 for admins and 0
/// for users; a value that is not an integer gives the default.
fn rss_age(set: &PolicySet, ctx: &MatchContext<'_>, login: &Login<'_>) -> ApiResult<i64> {
    let default = if login.role == "admin" { 180 } else { 0 };
    let empty = UserObject::default();
    let user = login.user.unwrap_or(&empty);
    let m = set
        .match_user(ctx, "webui", Some("rss_age"), Some(user))
        .map_err(map_match_error)?;
    Ok(unique(&m)?.map_or(default, |v| {
        parse_int(&v).unwrap_or_else(|| {
            log::warn!("invalid rss_age `{v}`; using the default");
            default
        })
    }))
}
