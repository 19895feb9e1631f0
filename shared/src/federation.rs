//! The OAuth2 routes (contract-sessions §4.10–4.11; checklist E2, F2): start, callback,
//! redirect (sign-in, sign-up or linking) and the provider-token refresh of
//! `PATCH /account/sessions/{id}`. [`crate::oauth2`] builds and parses every provider
//! message; this module sends them and owns the account decisions.
//!
//! Same wire as Appwrite, safer substance:
//! * the `state` is signed and expires (10 min); a nonce cookie set by the start binds the
//!   callback to the browser that started it. Session flows always need it; token flows need
//!   it when the start was a browser navigation (`Sec-Fetch-Mode: navigate`). A server-side
//!   start (node's `createOAuth2Token`, whose response never reaches the browser) cannot set
//!   it, so that one case relies on PKCE, the single-use provider code and the single-use,
//!   60-second token secret delivered only to a registered success URL;
//! * PKCE (S256) toward every provider that accepts it, the verifier derived server-side;
//! * a login is linked to an existing account by email only when the provider asserts the
//!   email is verified (otherwise 400 `general_bad_request`), and a new account's email is
//!   verified only when the provider says so;
//! * linking needs the start and the finish to come from the same signed-in user;
//! * identity uniqueness is a guard item in the same transaction as the identity, user and
//!   session or token writes; provider tokens are sealed at rest;
//! * the session secret never travels in a URL (no console-style `secret` parameter);
//! * a session-flow sign-in of a user with MFA on still needs a second factor.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::crypto::{encode_credential, random_hex, sha256_hex};
use crate::error::{AppError, AppResult, ErrorType};
use crate::http::{AppState, Caller, Config, Ctx, cookies};
use crate::identities::{IdentityDoc, session_context};
use crate::models::{SessionDoc, TokenDoc, TokenKind, UserDoc};
use crate::oauth2::{
    self, OAuthError, Profile, Provider, ProviderSettings, StateData, TokenSet, derive_pkce,
    open_state, seal_state,
};
use crate::repo;
use crate::sessions::{self, NewSession};
use crate::store::{Cond, StoreError, TxOp, Val, keys};
use crate::validate::unique_id;

/// Lifetime of a token-flow secret: enough for the app to exchange it.
pub const TOKEN_TTL_MS: i64 = 60_000;
/// Path of the nonce cookies (the start routes set them, the redirect route reads them).
const COOKIE_PATH: &str = "/v1/account/sessions/oauth2";
const COOKIE_PREFIX: &str = "a_oauth2_";
/// Cached discovery documents live this long in a container.
const DISCOVERY_TTL_MS: i64 = 600_000;

fn unsupported() -> AppError {
    AppError::new(
        ErrorType::ProjectProviderUnsupported,
        "The chosen OAuth2 provider is not supported by this server.",
    )
}

fn disabled(name: &str) -> AppError {
    AppError::new(
        ErrorType::ProjectProviderDisabled,
        format!(
            "The {name} OAuth2 provider is disabled for this project. Enable it and set its client id and secret first."
        ),
    )
}

fn provider_error(name: &str, detail: &str) -> AppError {
    AppError::new(
        ErrorType::UserOauth2ProviderError,
        format!("The {name} OAuth2 provider refused the sign-in: {detail}"),
    )
}

fn oauth_error(name: &str, e: OAuthError) -> AppError {
    match e {
        OAuthError::Disabled => disabled(name),
        OAuthError::MissingId => AppError::new(
            ErrorType::UserMissingId,
            "The OAuth2 provider did not return a user id.",
        ),
        OAuthError::Config(m) => AppError::internal(format!("{name} provider settings: {m}")),
        OAuthError::Random => AppError::internal("random generator failed"),
        OAuthError::Provider { error, description } => {
            provider_error(name, &format!("{error} {description}"))
        }
        other => provider_error(name, &other.to_string()),
    }
}

/// 400 for a state that is not ours, was altered, or is too old.
fn bad_state() -> AppError {
    AppError::new(
        ErrorType::GeneralBadRequest,
        "The OAuth2 state is invalid or has expired. Start the sign-in again.",
    )
}

fn unbound() -> AppError {
    AppError::new(
        ErrorType::UserUnauthorized,
        "This sign-in was started in another browser or has already been completed. Start it again.",
    )
}

// ---------------------------------------------------------------------------------------------
// Responses

fn no_cache(h: &mut HeaderMap) {
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// 301 to `url` with the no-cache headers.
fn moved(url: &str) -> Response {
    let mut res = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(v) = HeaderValue::from_str(url) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    no_cache(res.headers_mut());
    res
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The error as an HTML page for browsers (these routes are navigations), else as JSON.
pub fn error_view(headers: &HeaderMap, e: AppError) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if !wants_html {
        return e.into_response();
    }
    let status = e.status();
    let body = e.body();
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Error {code}</title></head>\
         <body><h1>Error {code}</h1><p>{msg}</p><p><code>{ty}</code></p></body></html>",
        code = status.as_u16(),
        msg = html_escape(&body.message),
        ty = html_escape(body.r#type),
    );
    let mut res = (status, page).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    no_cache(res.headers_mut());
    res
}

/// 301 to the failure URL with Appwrite's `error` JSON in its query.
fn failure_redirect(failure: &str, e: &AppError) -> Response {
    let error = json!({"message": e.message, "type": e.kind.as_str(), "code": e.kind.status()});
    moved(&crate::tokens::build_link(
        failure,
        &[("error", &error.to_string())],
    ))
}

// ---------------------------------------------------------------------------------------------
// URLs

/// This API's base URL as browsers reach it: `PUBLIC_ENDPOINT` when set, else the request's
/// protocol (`X-Forwarded-Proto`) and Host.
pub fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(e) = &config.public_endpoint {
        return e.trim_end_matches('/').trim_end_matches("/v1").to_string();
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn callback_url(base: &str, provider: &str, project: &str) -> String {
    format!("{base}/v1/account/sessions/oauth2/callback/{provider}/{project}")
}

fn default_url(base: &str, which: &str) -> String {
    format!("{base}/console/auth/oauth2/{which}")
}

/// A success/failure URL: a registered platform's, or this API's own default page.
fn url_allowed(st: &AppState, ctx: &Ctx, base: &str, url: &str) -> bool {
    url.starts_with(&format!("{base}/console/auth/oauth2/"))
        || crate::http::origin::redirect_allowed(url, &ctx.project, &st.config)
}

fn nonce_cookie_name(nonce: &str) -> String {
    format!("{COOKIE_PREFIX}{}", nonce.get(..16).unwrap_or(nonce))
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_string())
}

fn set_nonce_cookie(res: &mut Response, nonce: &str, secure: bool, max_age: i64) {
    let value = if max_age > 0 { nonce } else { "" };
    let cookie = format!(
        "{}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        nonce_cookie_name(nonce),
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

// ---------------------------------------------------------------------------------------------
// Provider I/O

/// The provider and this project's settings for it (discovery applied).
async fn provider_for(
    st: &AppState,
    ctx: &Ctx,
    name: &str,
) -> AppResult<(Box<dyn Provider>, ProviderSettings)> {
    let provider = oauth2::provider(name).ok_or_else(unsupported)?;
    let mut settings = ctx
        .project
        .provider_settings(&st.data_key, name)?
        .ok_or_else(|| disabled(name))?;
    settings.check().map_err(|e| oauth_error(name, e))?;
    if let Some(url) = provider.discovery_url(&settings) {
        let d = discover(st, name, &url).await?;
        d.apply(&mut settings).map_err(|e| oauth_error(name, e))?;
    }
    Ok((provider, settings))
}

type DiscoveryCache = Mutex<HashMap<String, (i64, oauth2::Discovery)>>;

async fn discover(st: &AppState, name: &str, url: &str) -> AppResult<oauth2::Discovery> {
    static CACHE: std::sync::OnceLock<DiscoveryCache> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let now = st.now_ms();
    if let Ok(c) = cache.lock() {
        if let Some((at, d)) = c.get(url) {
            if now - at < DISCOVERY_TTL_MS {
                return Ok(d.clone());
            }
        }
    }
    let endpoint = oauth2::endpoint_url(url).map_err(|e| oauth_error(name, e))?;
    let req = oauth2::HttpRequest {
        method: "GET".into(),
        url: endpoint,
        headers: vec![("accept".into(), "application/json".into())],
        body: String::new(),
    };
    let answer = st
        .fetcher
        .send(&req)
        .await
        .map_err(|e| provider_error(name, &format!("discovery failed: {e}")))?;
    if answer.status != 200 {
        return Err(provider_error(
            name,
            &format!("discovery answered HTTP {}", answer.status),
        ));
    }
    let d = oauth2::parse_discovery(&answer.body).map_err(|e| oauth_error(name, e))?;
    if let Ok(mut c) = cache.lock() {
        c.insert(url.to_string(), (now, d.clone()));
    }
    Ok(d)
}

/// Sends a token-endpoint request and parses the answer; HTTP 400/401 map to
/// `user_oauth2_bad_request`/`user_oauth2_unauthorized` (contract §4.11 step 3).
async fn exchange(
    st: &AppState,
    name: &str,
    provider: &dyn Provider,
    req: &oauth2::HttpRequest,
) -> AppResult<TokenSet> {
    let answer = st
        .fetcher
        .send(req)
        .await
        .map_err(|e| provider_error(name, &format!("token endpoint unreachable: {e}")))?;
    let parsed = provider.parse_token(&answer.body);
    let detail = |fallback: String| match &parsed {
        Err(OAuthError::Provider { error, description }) => format!("{error} {description}"),
        _ => fallback,
    };
    match answer.status {
        200..=299 => parsed.map_err(|e| oauth_error(name, e)),
        400 => Err(AppError::new(
            ErrorType::UserOauth2BadRequest,
            format!(
                "The {name} OAuth2 provider refused the request: {}",
                detail("bad request".into())
            ),
        )),
        401 => Err(AppError::new(
            ErrorType::UserOauth2Unauthorized,
            format!(
                "The {name} OAuth2 provider refused the client credentials: {}",
                detail("unauthorized".into())
            ),
        )),
        s => Err(provider_error(name, &detail(format!("HTTP {s}")))),
    }
}

async fn fetch_text(
    st: &AppState,
    name: &str,
    req: Option<oauth2::HttpRequest>,
) -> AppResult<Option<String>> {
    let Some(req) = req else { return Ok(None) };
    let answer = st
        .fetcher
        .send(&req)
        .await
        .map_err(|e| provider_error(name, &format!("profile request failed: {e}")))?;
    if !(200..300).contains(&answer.status) {
        return Err(provider_error(
            name,
            &format!("profile request answered HTTP {}", answer.status),
        ));
    }
    Ok(Some(answer.body))
}

// ---------------------------------------------------------------------------------------------
// Start

/// `GET /account/sessions/oauth2/{provider}` (`token` false) and
/// `GET /account/tokens/oauth2/{provider}` (`token` true): 301 to the provider.
pub async fn start(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    name: &str,
    token: bool,
) -> Response {
    match start_flow(st, ctx, headers, name, token).await {
        Ok(r) => r,
        Err(e) => error_view(headers, e),
    }
}

fn url_param(st: &AppState, ctx: &Ctx, base: &str, name: &str) -> AppResult<String> {
    let url = ctx.params.str_opt(name)?.unwrap_or("").trim().to_string();
    if url.is_empty() {
        return Ok(default_url(base, name));
    }
    if ctx.is_key() || url_allowed(st, ctx, base, &url) {
        Ok(url)
    } else {
        Err(AppError::invalid_param(
            name,
            "URL host must be one of the hostnames of this project's registered platforms",
        ))
    }
}

fn scopes_param(ctx: &Ctx) -> AppResult<Vec<String>> {
    let list = ctx.params.list("scopes")?;
    if list.len() > 100 {
        return Err(AppError::invalid_param(
            "scopes",
            "Value must be an array of no more than 100 items",
        ));
    }
    list.into_iter()
        .map(|v| match v {
            Value::String(s) if s.chars().count() <= 4096 => Ok(s),
            _ => Err(AppError::invalid_param(
                "scopes",
                "Each scope must be a string of at most 4096 chars",
            )),
        })
        .collect()
}

async fn start_flow(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    name: &str,
    token: bool,
) -> AppResult<Response> {
    if oauth2::provider(name).is_none() {
        return Err(unsupported());
    }
    let base = base_url(&st.config, headers);
    let success = url_param(st, ctx, &base, "success")?;
    let failure = url_param(st, ctx, &base, "failure")?;
    let scopes = scopes_param(ctx)?;
    let (provider, settings) = provider_for(st, ctx, name).await?;
    let user_id = match &*ctx.caller {
        Caller::User { auth, .. } => Some(auth.user.id.as_str()),
        _ => None,
    };
    let mut state = StateData::new(&ctx.project.id, &success, &failure, token, user_id)
        .map_err(|e| oauth_error(name, e))?;
    let navigation = headers
        .get("sec-fetch-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"navigate"))
        || headers
            .get("sec-fetch-dest")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"document"));
    state.bound = !token || navigation;
    let sealed = seal_state(&st.jwt_key, &state, st.now_ms().div_euclid(1000));
    let (_, challenge) = derive_pkce(&st.jwt_key, &state.nonce);
    let url = provider
        .authorize_url(
            &settings,
            &callback_url(&base, name, &ctx.project.id),
            &sealed,
            Some(&challenge),
            &scopes,
        )
        .map_err(|e| oauth_error(name, e))?;
    let mut res = moved(&url);
    set_nonce_cookie(
        &mut res,
        &state.nonce,
        base.starts_with("https://"),
        oauth2::STATE_TTL_S,
    );
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Callback

/// `GET|POST /account/sessions/oauth2/callback/{provider}/{projectId}`: no project check, no
/// credentials; forwards what the provider sent to the redirect route of the same host.
pub fn callback(
    config: &Config,
    headers: &HeaderMap,
    provider: &str,
    project: &str,
    query: Option<&str>,
    form: &[u8],
) -> Response {
    // Query and form body (form_post) together; unparseable parts are ignored.
    let mut params: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    if !form.is_empty() {
        params.extend(
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(form).unwrap_or_default(),
        );
    }
    if oauth2::provider(provider).is_none() {
        return error_view(headers, unsupported());
    }
    if project.is_empty()
        || project.len() > 36
        || !project
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return error_view(
            headers,
            AppError::invalid_param("projectId", "Value must be a valid project id"),
        );
    }
    let mut forward: Vec<(String, String)> = Vec::new();
    for (k, v) in params {
        if k == "projectId" || k == "project" || forward.len() >= 20 {
            continue;
        }
        let cap = if matches!(k.as_str(), "code" | "state" | "error" | "error_description") {
            2048
        } else {
            4096
        };
        if v.chars().count() > cap || k.len() > 64 {
            return error_view(
                headers,
                AppError::invalid_param(&k, &format!("Value must be at most {cap} chars")),
            );
        }
        forward.push((k, v));
    }
    forward.push(("project".into(), project.to_string()));
    let query = serde_urlencoded::to_string(&forward).unwrap_or_default();
    moved(&format!(
        "{}/v1/account/sessions/oauth2/{provider}/redirect?{query}",
        base_url(config, headers)
    ))
}

// ---------------------------------------------------------------------------------------------
// Redirect

/// `GET /account/sessions/oauth2/{provider}/redirect`: verifies the state and the browser,
/// exchanges the code, then signs in, signs up or links, and redirects to the app.
pub async fn finish(st: &AppState, ctx: &Ctx, headers: &HeaderMap, name: &str) -> Response {
    let base = base_url(&st.config, headers);
    let state = match open_checked(st, ctx, &base) {
        Ok(s) => s,
        Err(e) => return error_view(headers, e),
    };
    let mut res = match complete(st, ctx, headers, &base, name, &state).await {
        Ok(r) => r,
        Err(e) => {
            if e.kind == ErrorType::GeneralServerError {
                tracing::error!(detail = %e.message, provider = name, "oauth2 sign-in failed");
            }
            failure_redirect(&state.failure, &e)
        }
    };
    // The nonce is spent whatever happened: a second use of this state fails the binding.
    set_nonce_cookie(&mut res, &state.nonce, base.starts_with("https://"), 0);
    res
}

fn open_checked(st: &AppState, ctx: &Ctx, base: &str) -> AppResult<StateData> {
    let raw = ctx.params.str_opt("state")?.unwrap_or("");
    let state =
        open_state(&st.jwt_key, raw, st.now_ms().div_euclid(1000)).map_err(|_| bad_state())?;
    if state.project_id != ctx.project.id {
        return Err(bad_state());
    }
    if !url_allowed(st, ctx, base, &state.success) {
        return Err(AppError::new(
            ErrorType::ProjectInvalidSuccessUrl,
            "Invalid URL received for OAuth success redirect",
        ));
    }
    if state.failure.is_empty() || !url_allowed(st, ctx, base, &state.failure) {
        return Err(AppError::new(
            ErrorType::ProjectInvalidFailureUrl,
            "Invalid URL received for OAuth failure redirect",
        ));
    }
    Ok(state)
}

async fn complete(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    base: &str,
    name: &str,
    state: &StateData,
) -> AppResult<Response> {
    let cookie = cookie_value(headers, &nonce_cookie_name(&state.nonce));
    let cookie_ok = cookie.as_deref().is_some_and(|c| state.matches_cookie(c));
    if !cookie_ok && (state.bound || cookie.is_some()) {
        return Err(unbound());
    }
    let (provider, settings) = provider_for(st, ctx, name).await?;
    if let Some(error) = ctx.params.str_opt("error")? {
        let description = ctx.params.str_opt("error_description")?.unwrap_or("");
        return Err(provider_error(name, &format!("{error} {description}")));
    }
    let code = ctx.params.str_opt("code")?.unwrap_or("");
    if code.is_empty() {
        return Err(provider_error(name, "no authorization code was returned"));
    }
    let (verifier, _) = derive_pkce(&st.jwt_key, &state.nonce);
    let redirect_uri = callback_url(base, name, &ctx.project.id);
    let req = provider
        .token_request(&settings, code, &redirect_uri, Some(&verifier))
        .map_err(|e| oauth_error(name, e))?;
    let mut tokens = exchange(st, name, provider.as_ref(), &req).await?;
    provider
        .validate_id_token(&settings, &mut tokens, st.now_ms().div_euclid(1000))
        .map_err(|e| oauth_error(name, e))?;
    let userinfo = fetch_text(
        st,
        name,
        provider
            .userinfo_request(&settings, &tokens)
            .map_err(|e| oauth_error(name, e))?,
    )
    .await?;
    let mut extra = fetch_text(
        st,
        name,
        provider
            .emails_request(&settings, &tokens)
            .map_err(|e| oauth_error(name, e))?,
    )
    .await?
    .and_then(|b| serde_json::from_str::<Value>(&b).ok());
    if extra.is_none() {
        // Apple posts the user's name once, as a `user` parameter (JSON text).
        extra = ctx.params.str_opt("user")?.map(|u| {
            serde_json::from_str::<Value>(u).unwrap_or_else(|_| Value::String(u.to_string()))
        });
    }
    let mut profile = provider
        .parse_profile(userinfo.as_deref(), &tokens, extra.as_ref())
        .map_err(|e| oauth_error(name, e))?;
    if profile.id.trim().is_empty() {
        return Err(oauth_error(name, OAuthError::MissingId));
    }
    // An address this service would refuse at sign-up counts as no address.
    profile.email = crate::validate::email("email", &profile.email).unwrap_or_default();
    let outcome = settle(st, ctx, name, state, &profile, &tokens).await?;
    respond(st, ctx, state, outcome)
}

/// What [`settle`] wrote.
struct Outcome {
    user: UserDoc,
    session: Option<(SessionDoc, String)>,
    token_secret: Option<String>,
}

fn already_exists() -> AppError {
    AppError::new(
        ErrorType::UserAlreadyExists,
        "This provider account or its email already belongs to another user.",
    )
}

fn unverified_email() -> AppError {
    AppError::new(
        ErrorType::GeneralBadRequest,
        "An account with this email exists, but the provider has not verified the email. Sign in another way and link the provider from the account.",
    )
}

/// Users holding identities whose provider email is `email`.
pub async fn identity_email_owners(
    st: &AppState,
    project: &str,
    email: &str,
) -> AppResult<Vec<String>> {
    if email.is_empty() {
        return Ok(vec![]);
    }
    let items = st
        .table
        .query(
            &keys::identity_email_pk(project, email),
            &Default::default(),
        )
        .await?;
    Ok(items
        .iter()
        .filter_map(|i| i.s("userId").map(String::from))
        .collect())
}

async fn guard_owner(st: &AppState, key: &crate::store::Key) -> AppResult<Option<String>> {
    Ok(st
        .table
        .get(key)
        .await?
        .and_then(|i| i.s("userId").map(String::from)))
}

/// Finds or creates the user, links the identity and writes the session or token: one
/// transaction (contract §4.11 steps 5–11, with the F2 rule).
async fn settle(
    st: &AppState,
    ctx: &Ctx,
    name: &str,
    state: &StateData,
    profile: &Profile,
    tokens: &TokenSet,
) -> AppResult<Outcome> {
    let project = ctx.project.id.as_str();
    let now = st.now_ms();
    let identity_guard = keys::identity_guard(project, name, &profile.id);
    let identity_owner = guard_owner(st, &identity_guard).await?;
    let email_owner = if profile.email.is_empty() {
        None
    } else {
        repo::user_id_by_email(&st.table, project, &profile.email).await?
    };
    let idemail_owners = identity_email_owners(st, project, &profile.email).await?;

    let mut created = false;
    let mut replaced_session: Option<String> = None;
    let auth = if let Some(linking) = &state.user_id {
        // Linking: the same signed-in user must start and finish.
        let (auth, session_id) = match &*ctx.caller {
            Caller::User { auth, session_id } if &auth.user.id == linking => {
                (auth.as_ref().clone(), session_id.clone())
            }
            _ => return Err(unbound()),
        };
        let other = |o: &Option<String>| o.as_ref().is_some_and(|u| u != linking);
        if other(&identity_owner)
            || other(&email_owner)
            || idemail_owners.iter().any(|u| u != linking)
        {
            return Err(already_exists());
        }
        if !state.token {
            replaced_session = session_id;
        }
        Some(auth)
    } else if let Some(uid) = identity_owner.clone() {
        repo::load_auth(&st.table, project, &uid).await?
    } else {
        None
    };
    let auth = match auth {
        Some(a) => Some(a),
        None => {
            if profile.email.is_empty() {
                return Err(AppError::new(
                    ErrorType::UserUnauthorized,
                    "The provider did not share an email address, so no account can be matched or created.",
                ));
            }
            let by_email = match (&email_owner, idemail_owners.first()) {
                (Some(u), _) | (None, Some(u)) => Some(u.clone()),
                _ => None,
            };
            match by_email {
                Some(uid) => {
                    // F2: never take over an account on an email the provider did not verify.
                    if !profile.email_verified {
                        return Err(unverified_email());
                    }
                    repo::load_auth(&st.table, project, &uid).await?
                }
                None => None,
            }
        }
    };

    let mut ops: Vec<TxOp> = Vec::new();
    let mut user = match &auth {
        Some(a) => a.user.clone(),
        None => {
            crate::tokens::check_user_limit(st, ctx).await?;
            created = true;
            let mut u = UserDoc::new(
                unique_id(now)?,
                now,
                ctx.project.argon2_cost().hash_options(),
            );
            u.email = Some(profile.email.clone());
            u.email_verification = profile.email_verified;
            u.name = profile.name.chars().take(128).collect();
            u.targets
                .push(crate::tokens::target(now, "email", &profile.email)?);
            u
        }
    };
    if !user.status {
        return Err(AppError::new(
            ErrorType::UserBlocked,
            "The current user has been blocked.",
        ));
    }
    if created {
        ops.push(TxOp::Put {
            item: repo::user_item(project, &user)?,
            cond: Some(Cond::NotExists),
        });
        ops.push(TxOp::Put {
            item: repo::guard_item(keys::email_guard(project, &profile.email), &user.id),
            cond: Some(Cond::NotExists),
        });
    } else {
        if user.email.is_none() && !profile.email.is_empty() {
            // Converts an anonymous (or phone-only) account.
            user.email = Some(profile.email.clone());
            user.email_verification = profile.email_verified;
            user.targets
                .push(crate::tokens::target(now, "email", &profile.email)?);
            ops.push(TxOp::Put {
                item: repo::guard_item(keys::email_guard(project, &profile.email), &user.id),
                cond: Some(Cond::NotExists),
            });
        }
        if user.name.is_empty() {
            user.name = profile.name.chars().take(128).collect();
        }
        user.updated_ms = now;
        user.accessed_ms = now;
        ops.push(repo::user_update_op(project, &user)?);
    }

    // The identity: refresh its tokens, or create it with its guard and email index.
    let existing = auth.as_ref().and_then(|a| {
        a.identities
            .iter()
            .find(|i| i.provider == name && i.provider_uid == profile.id)
            .cloned()
    });
    let expiry = tokens.expires_in.map(|s| now + s.max(0) * 1000);
    let new_identity = existing.is_none();
    let identity = match existing {
        Some(mut i) => {
            i.updated_ms = now;
            i.set_tokens(
                &st.data_key,
                &tokens.access_token,
                tokens.refresh_token.as_deref(),
                expiry,
            )?;
            ops.push(TxOp::Put {
                item: repo::identity_item(project, &i)?,
                cond: Some(Cond::Exists),
            });
            i
        }
        None => {
            if identity_owner.as_ref().is_some_and(|u| u != &user.id)
                || idemail_owners.iter().any(|u| u != &user.id)
            {
                return Err(AppError::new(
                    ErrorType::GeneralBadRequest,
                    "This provider account or its email is linked to another user.",
                ));
            }
            let mut i = IdentityDoc {
                id: unique_id(now)?,
                user_id: user.id.clone(),
                created_ms: now,
                updated_ms: now,
                provider: name.to_string(),
                provider_uid: profile.id.clone(),
                provider_email: profile.email.clone(),
                access_token: String::new(),
                refresh_token: String::new(),
                access_token_expiry_ms: None,
            };
            i.set_tokens(
                &st.data_key,
                &tokens.access_token,
                tokens.refresh_token.as_deref(),
                expiry,
            )?;
            ops.push(TxOp::Put {
                item: repo::identity_item(project, &i)?,
                cond: Some(Cond::NotExists),
            });
            ops.push(TxOp::Put {
                item: repo::guard_item(identity_guard.clone(), &user.id)
                    .with("identityId", Val::S(i.id.clone())),
                cond: Some(Cond::NotExists),
            });
            if !i.provider_email.is_empty() {
                ops.push(TxOp::Put {
                    item: repo::guard_item(
                        keys::identity_email(project, &i.provider_email, &i.id),
                        &user.id,
                    ),
                    cond: Some(Cond::NotExists),
                });
            }
            i
        }
    };

    let mut session = None;
    let mut token_secret = None;
    if state.token {
        let secret = random_hex(32)?;
        let doc = TokenDoc {
            id: unique_id(now)?,
            user_id: user.id.clone(),
            kind: TokenKind::OAuth2,
            created_ms: now,
            expire_ms: now + TOKEN_TTL_MS,
            secret_hash: sha256_hex(&secret),
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.chars().take(512).collect(),
            failures: 0,
        };
        ops.push(TxOp::Put {
            item: repo::token_item(project, &doc)?,
            cond: Some(Cond::NotExists),
        });
        token_secret = Some(secret);
    } else {
        // Appwrite lists `email` and `oauth2`: two factors, so the sign-in passes the MFA
        // gate. Both stand for the one provider login, so a user with MFA on gets `oauth2`
        // alone and completes a challenge like every other first factor (checklist D1),
        // unless this links the provider from a session that had already passed the gate.
        let carried = auth.as_ref().is_some_and(|a| {
            a.sessions.iter().any(|s| {
                Some(&s.id) == replaced_session.as_ref() && crate::mfa::passed_gate(&user, s)
            })
        });
        let factors = if crate::mfa::minimum_factors(&user) > 1 && !carried {
            vec!["oauth2".into()]
        } else {
            vec!["email".into(), "oauth2".into()]
        };
        let spec = NewSession {
            provider: name,
            provider_uid: profile.id.clone(),
            factors,
        };
        let (mut doc, secret) = sessions::build(st, ctx, &user, spec)?;
        let seal = |which: &str, v: &str| {
            crate::identities::seal(
                &st.data_key,
                &session_context(&doc.user_id, &doc.id, which),
                v,
            )
        };
        doc.provider_access_token = seal("access", &tokens.access_token)?;
        doc.provider_refresh_token =
            seal("refresh", tokens.refresh_token.as_deref().unwrap_or(""))?;
        doc.provider_access_token_expiry_ms = identity.access_token_expiry_ms.or(Some(now));
        ops.push(TxOp::Put {
            item: repo::session_item(project, &doc)?,
            cond: Some(Cond::NotExists),
        });
        if let Some(old) = &replaced_session {
            ops.push(TxOp::Delete {
                key: keys::session(project, &user.id, old),
                cond: None,
            });
        }
        session = Some((doc, secret));
    }

    match st.table.transact(ops).await {
        Ok(()) => {}
        // A new user or identity lost a race for its guard; else the user changed meanwhile.
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(if created || new_identity {
                already_exists()
            } else {
                repo::conflict()
            });
        }
        Err(e) => return Err(e.into()),
    }
    if created {
        repo::count_user_created(&st.table, project).await?;
        crate::audit::record(st, ctx, &user, "user.create").await;
    }
    if let (Some(a), Some(_)) = (&auth, &session) {
        let others: Vec<SessionDoc> = a
            .sessions
            .iter()
            .filter(|s| Some(&s.id) != replaced_session.as_ref())
            .cloned()
            .collect();
        sessions::evict_over_limit(st, ctx, &user.id, &others).await?;
    }
    if session.is_some() {
        crate::audit::record(st, ctx, &user, "session.create").await;
    }
    Ok(Outcome {
        user,
        session,
        token_secret,
    })
}

fn respond(st: &AppState, ctx: &Ctx, state: &StateData, outcome: Outcome) -> AppResult<Response> {
    if let Some(secret) = outcome.token_secret {
        return Ok(moved(&crate::tokens::build_link(
            &state.success,
            &[("secret", &secret), ("userId", &outcome.user.id)],
        )));
    }
    let Some((doc, secret)) = outcome.session else {
        return Err(AppError::internal("oauth2 flow ended without a session"));
    };
    let mut res = moved(&state.success);
    let credential = encode_credential(&doc.user_id, &secret);
    cookies::set_session(
        res.headers_mut(),
        ctx,
        &credential,
        st.now_ms(),
        doc.expire_ms,
    );
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Refresh

/// `PATCH /account/sessions/{id}` on an OAuth2 session: refreshes the provider tokens of
/// the session and of its identity. Other sessions, and OAuth2 sessions without a refresh
/// token, are left as they are.
pub async fn refresh(st: &AppState, ctx: &Ctx, s: &mut SessionDoc) -> AppResult<()> {
    let name = s.provider.clone();
    if oauth2::provider(&name).is_none() || s.provider_refresh_token.is_empty() {
        return Ok(());
    }
    let ctx_of = |which: &str| session_context(&s.user_id, &s.id, which);
    let refresh_token =
        crate::identities::open(&st.data_key, &ctx_of("refresh"), &s.provider_refresh_token);
    if refresh_token.is_empty() {
        return Ok(());
    }
    let (provider, settings) = provider_for(st, ctx, &name).await?;
    let req = provider
        .refresh_request(&settings, &refresh_token)
        .map_err(|e| oauth_error(&name, e))?;
    let tokens = exchange(st, &name, provider.as_ref(), &req).await?;
    let now = st.now_ms();
    let expiry = Some(now + tokens.expires_in.unwrap_or(0).max(0) * 1000);
    // A provider that does not rotate refresh tokens keeps the old one valid.
    let new_refresh = tokens
        .refresh_token
        .clone()
        .unwrap_or_else(|| refresh_token.clone());
    s.provider_access_token =
        crate::identities::seal(&st.data_key, &ctx_of("access"), &tokens.access_token)?;
    s.provider_refresh_token =
        crate::identities::seal(&st.data_key, &ctx_of("refresh"), &new_refresh)?;
    s.provider_access_token_expiry_ms = expiry;
    let auth = ctx.auth()?;
    if let Some(mut i) = auth
        .identities
        .iter()
        .find(|i| i.provider == name && i.provider_uid == s.provider_uid)
        .cloned()
    {
        i.updated_ms = now;
        i.set_tokens(
            &st.data_key,
            &tokens.access_token,
            Some(&new_refresh),
            expiry,
        )?;
        st.table
            .put(
                repo::identity_item(&ctx.project.id, &i)?,
                Some(Cond::Exists),
            )
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Identities

/// Deletes one of the caller's identities with its guard and email index entry.
pub async fn delete_identity(st: &AppState, ctx: &Ctx, identity_id: &str) -> AppResult<()> {
    let auth = ctx.auth()?;
    let i = auth
        .identities
        .iter()
        .find(|i| i.id == identity_id)
        .ok_or_else(|| {
            AppError::new(
                ErrorType::UserIdentityNotFound,
                "The identity could not be found.",
            )
        })?;
    let project = &ctx.project.id;
    let mut ops = vec![
        TxOp::Delete {
            key: keys::identity(project, &i.user_id, &i.id),
            cond: Some(Cond::Exists),
        },
        TxOp::Delete {
            key: keys::identity_guard(project, &i.provider, &i.provider_uid),
            cond: None,
        },
    ];
    if !i.provider_email.is_empty() {
        ops.push(TxOp::Delete {
            key: keys::identity_email(project, &i.provider_email, &i.id),
            cond: None,
        });
    }
    match st.table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(AppError::new(
            ErrorType::UserIdentityNotFound,
            "The identity could not be found.",
        )),
        Err(e) => Err(e.into()),
    }
}
