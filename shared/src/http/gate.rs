//! The request gate, run before every handler: parameters, project, caller (API key,
//! cookie, `X-Appwrite-Session`, `X-Fallback-Cookies`), scope, blocked users and rate
//! limits, in Appwrite's order. Handlers receive the result as [`Ctx`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::params::Params;
use super::ratelimit::{self, RateHeaders};
use super::routes::{self, RouteMeta};
use crate::crypto::{ct_eq, decode_credential, sha256_hex};
use crate::error::{AppError, AppResult, ErrorType};
use crate::models::SessionDoc;
use crate::project::{ApiKey, Project, lookup_api_key};
use crate::repo::{AuthData, load_auth};
use crate::store::Key;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Guest,
    /// A user authenticated by a session credential (`session_id` is the matched session)
    /// or by a JWT (`session_id` is `None`: JWT requests have no current session).
    User {
        auth: Box<AuthData>,
        session_id: Option<String>,
    },
    /// A project API key.
    Key(ApiKey),
}

/// Everything the gate learnt about a request.
#[derive(Clone)]
pub struct Ctx {
    pub project: Arc<Project>,
    pub caller: Arc<Caller>,
    pub params: Arc<Params>,
    pub ip: String,
    pub user_agent: String,
    /// Request host without port, lower-cased.
    pub host: String,
    pub https: bool,
    pub origin: Option<String>,
    /// `locale` parameter, else `X-Appwrite-Locale`, else "en".
    pub locale: String,
    pub route: Option<&'static RouteMeta>,
    /// Counters charged for this request (reset after a successful sign-in).
    pub rate_counters: Vec<Key>,
}

impl Ctx {
    pub fn is_key(&self) -> bool {
        matches!(*self.caller, Caller::Key(_))
    }

    /// The signed-in user, or 401 `general_unauthorized_scope`.
    pub fn auth(&self) -> AppResult<&AuthData> {
        match &*self.caller {
            Caller::User { auth, .. } => Ok(auth),
            _ => Err(scope_error(&self.caller, "account")),
        }
    }

    pub fn current_session(&self) -> Option<&SessionDoc> {
        match &*self.caller {
            Caller::User {
                auth,
                session_id: Some(id),
            } => auth.sessions.iter().find(|s| &s.id == id),
            _ => None,
        }
    }

    /// Session-creating routes refuse callers that already hold a session or JWT.
    pub fn reject_if_signed_in(&self) -> AppResult<()> {
        if matches!(*self.caller, Caller::User { .. }) {
            return Err(AppError::new(
                ErrorType::UserSessionAlreadyExists,
                "Creation of a session is prohibited when a session is active.",
            ));
        }
        Ok(())
    }

    /// A disabled auth method answers 501, except to API keys (as in Appwrite).
    pub fn require_method(&self, enabled: bool, name: &str) -> AppResult<()> {
        if enabled || self.is_key() {
            return Ok(());
        }
        Err(AppError::new(
            ErrorType::UserAuthMethodUnsupported,
            format!("{name} authentication is disabled for this project."),
        ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .remove::<Ctx>()
            .ok_or_else(|| AppError::internal("request context missing"))
    }
}

fn scope_error(caller: &Caller, scope: &str) -> AppError {
    let (who, role) = match caller {
        Caller::Guest => ("User".to_string(), "guests"),
        Caller::User { auth, .. } => (
            auth.user.email.clone().unwrap_or_else(|| "User".into()),
            "users",
        ),
        Caller::Key(_) => ("User".to_string(), "applications"),
    };
    AppError::new(
        ErrorType::GeneralUnauthorizedScope,
        format!("{who} (role: {role}) missing scopes ([\"{scope}\"])"),
    )
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Percent-decodes a cookie value (Appwrite writes them URL-encoded; accept both forms).
fn url_decode(v: &str) -> String {
    let mut out = Vec::with_capacity(v.len());
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(n) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
            {
                out.push(n);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn cookie(h: &HeaderMap, name: &str) -> Option<String> {
    for v in h.get_all("cookie") {
        let Ok(s) = v.to_str() else { continue };
        for pair in s.split(';') {
            if let Some((k, val)) = pair.trim().split_once('=') {
                if k.trim().eq_ignore_ascii_case(name) && !val.is_empty() {
                    return Some(url_decode(val.trim()));
                }
            }
        }
    }
    None
}

/// The session credential in Appwrite's resolution order, and whether the fallback header
/// was consulted.
fn credential(h: &HeaderMap, project_id: &str) -> (Option<String>, bool) {
    let name = format!("a_session_{}", project_id.to_lowercase());
    if let Some(c) = cookie(h, &name).or_else(|| cookie(h, &format!("{name}_legacy"))) {
        return (Some(c), false);
    }
    if let Some(s) = header(h, "x-appwrite-session") {
        return (Some(s.to_string()), false);
    }
    let fallback = header(h, "x-fallback-cookies")
        .and_then(|f| serde_json::from_str::<serde_json::Value>(f).ok())
        .and_then(|v| {
            v.get(format!("a_session_{project_id}"))?
                .as_str()
                .map(String::from)
        });
    (fallback, true)
}

/// The client IP: the API Gateway source IP on Lambda, the socket peer locally; the
/// left-most `X-Forwarded-For` entry only when the peer is a configured proxy.
fn client_ip(req: &Request, trusted: &[IpAddr]) -> String {
    let peer: Option<IpAddr> = req
        .extensions()
        .get::<lambda_http::request::RequestContext>()
        .and_then(|c| match c {
            lambda_http::request::RequestContext::ApiGatewayV2(v2) => v2.http.source_ip.clone(),
            lambda_http::request::RequestContext::ApiGatewayV1(v1) => v1.identity.source_ip.clone(),
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .and_then(|s| s.parse().ok())
        .or_else(|| {
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        });
    if let Some(p) = peer {
        if trusted.contains(&p) {
            if let Some(fwd) = header(req.headers(), "x-forwarded-for")
                .and_then(|f| f.split(',').next())
                .and_then(|f| f.trim().parse::<IpAddr>().ok())
            {
                return fwd.to_string();
            }
        }
        return p.to_string();
    }
    "127.0.0.1".to_string()
}

fn request_host(h: &HeaderMap) -> String {
    let host = header(h, "host").unwrap_or("localhost");
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|s| format!("{s}]"))
            .unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    };
    host.to_lowercase()
}

/// Internal routes outside Appwrite's `api` group: no project, credentials or rate limit
/// (the OAuth2 callback only forwards the provider's answer to the redirect route).
pub const UNGATED_PREFIX: &str = "/v1/account/sessions/oauth2/callback/";

pub async fn gate(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let ungated = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|m| m.as_str().starts_with(UNGATED_PREFIX));
    if ungated {
        return next.run(req).await;
    }
    match run_gate(&st, req).await {
        Ok((req, rate, fallback)) => {
            let mut res = next.run(req).await;
            decorate(&mut res, rate.as_ref(), fallback);
            res
        }
        Err((e, rate, fallback)) => {
            let origin_rejected = e.kind == ErrorType::GeneralUnknownOrigin;
            let mut res = e.into_response();
            if origin_rejected {
                res.extensions_mut().insert(super::origin::OriginRejected);
            }
            decorate(&mut res, rate.as_ref(), fallback);
            res
        }
    }
}

fn decorate(res: &mut Response, rate: Option<&RateHeaders>, fallback: bool) {
    let h = res.headers_mut();
    h.insert(
        "x-debug-fallback",
        HeaderValue::from_static(if fallback { "true" } else { "false" }),
    );
    if let Some(r) = rate {
        r.apply(h);
    }
}

type GateErr = (AppError, Option<RateHeaders>, bool);

async fn run_gate(
    st: &AppState,
    req: Request,
) -> Result<(Request, Option<RateHeaders>, bool), GateErr> {
    let plain = |e: AppError| (e, None, false);
    let method = req.method().as_str().to_string();
    let pattern = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let route = routes::lookup(&method, &pattern);
    let ip = client_ip(&req, &st.config.trusted_proxies);
    let (parts, body) = req.into_parts();
    let h = &parts.headers;

    let bytes = axum::body::to_bytes(body, st.config.max_body)
        .await
        .map_err(|_| {
            plain(AppError::new(
                ErrorType::GeneralArgumentInvalid,
                format!(
                    "The request body is larger than {} bytes.",
                    st.config.max_body
                ),
            ))
        })?;
    let ctype = header(h, "content-type").unwrap_or("application/json");
    let params = Params::parse(&method, parts.uri.query(), ctype, &bytes).map_err(plain)?;

    // Project: a `project` parameter wins over the header (browser redirects use it).
    let project_id = params
        .raw("project")
        .or_else(|| header(h, "x-appwrite-project").map(String::from))
        .unwrap_or_default();
    let not_found = || {
        AppError::new(
            ErrorType::ProjectNotFound,
            "Project with the requested ID could not be found. Please check the value of the X-Appwrite-Project header to ensure the correct project ID is being used.",
        )
    };
    if project_id.is_empty() {
        return Err(plain(not_found()));
    }
    let project = st
        .projects
        .get(&st.table, st.clock.as_ref(), &project_id)
        .await
        .map_err(plain)?
        .ok_or_else(|| plain(not_found()))?;

    let key_header = header(h, "x-appwrite-key").map(String::from);
    super::origin::check_origin(h, &project, &st.config, key_header.is_some()).map_err(plain)?;

    // Caller.
    let now = st.now_ms();
    let (cred, fallback) = credential(h, &project.id);
    let mut caller = Caller::Guest;
    if let Some((uid, secret)) = cred.as_deref().and_then(decode_credential) {
        if let Some(auth) = load_auth(&st.table, &project.id, &uid)
            .await
            .map_err(|e| (e, None, fallback))?
        {
            let hash = sha256_hex(&secret);
            let found = auth
                .sessions
                .iter()
                .find(|s| ct_eq(&s.secret_hash, &hash) && s.expire_ms >= now)
                .map(|s| s.id.clone());
            if let Some(id) = found {
                caller = Caller::User {
                    auth: Box::new(auth),
                    session_id: Some(id),
                };
            }
        }
    }
    // X-Appwrite-JWT: refused next to a session credential; a bad token is a 401 even on
    // routes guests may call; a token outlives nothing: its session must still exist.
    if let Some(token) = header(h, "x-appwrite-jwt") {
        if matches!(caller, Caller::User { .. }) {
            return Err((
                AppError::new(
                    ErrorType::UserJwtAndCookieSet,
                    "A JWT and a session cookie or header cannot be used in the same request.",
                ),
                None,
                fallback,
            ));
        }
        let claims = crate::jwt::verify(&st.jwt_key, &project.id, token, now.div_euclid(1000))
            .map_err(|e| (e, None, fallback))?;
        if let Some(auth) = load_auth(&st.table, &project.id, &claims.user_id)
            .await
            .map_err(|e| (e, None, fallback))?
        {
            if auth
                .sessions
                .iter()
                .any(|s| s.id == claims.session_id && s.expire_ms >= now)
            {
                caller = Caller::User {
                    auth: Box::new(auth),
                    session_id: None,
                };
            }
        }
    }
    if let Some(k) = key_header {
        if matches!(caller, Caller::User { .. }) {
            return Err((
                AppError::new(
                    ErrorType::UserKeyAndSessionSet,
                    "An API key and a user session cannot be used in the same request. Use separate clients.",
                ),
                None,
                fallback,
            ));
        }
        let key = lookup_api_key(&st.table, &k)
            .await
            .map_err(|e| (e, None, fallback))?;
        match key {
            Some(key) if key.project_id == project.id => {
                if key.expire_ms.is_some_and(|e| e < now) {
                    return Err((
                        AppError::new(
                            ErrorType::ProjectKeyExpired,
                            "The project key has expired. Please generate a new key.",
                        ),
                        None,
                        fallback,
                    ));
                }
                caller = Caller::Key(key);
            }
            _ => {
                return Err((
                    AppError::new(
                        ErrorType::UserUnauthorized,
                        "The current user is not authorized to perform the requested action.",
                    ),
                    None,
                    fallback,
                ));
            }
        }
    }

    if !project.account_service && !matches!(caller, Caller::Key(_)) {
        return Err((
            AppError::new(
                ErrorType::GeneralServiceDisabled,
                "The requested service is disabled. You can enable the service from the Appwrite console.",
            ),
            None,
            fallback,
        ));
    }

    if let Some(meta) = route {
        let allowed = match (&caller, meta.scope.as_str()) {
            (Caller::User { .. }, "account" | "targets.write") => true,
            (_, "account" | "targets.write") => false,
            (Caller::Key(k), s) => k.has_scope(s),
            _ => true,
        };
        if !allowed {
            return Err((scope_error(&caller, &meta.scope), None, fallback));
        }
    }

    if let Caller::User { auth, .. } = &caller {
        if !auth.user.status {
            return Err((
                AppError::new(ErrorType::UserBlocked, "The current user has been blocked."),
                None,
                fallback,
            ));
        }
        if auth.user.reset {
            return Err((
                AppError::new(
                    ErrorType::UserPasswordResetRequired,
                    "The current user requires a password reset.",
                ),
                None,
                fallback,
            ));
        }
    }
    // The MFA gate: only session requests (JWTs and keys are never gated).
    if let Caller::User {
        auth,
        session_id: Some(sid),
    } = &caller
    {
        if let Some(session) = auth.sessions.iter().find(|s| &s.id == sid) {
            crate::mfa::gate(&auth.user, session, &method, &pattern)
                .map_err(|e| (e, None, fallback))?;
        }
    }

    let user_id = match &caller {
        Caller::User { auth, .. } => auth.user.id.clone(),
        _ => String::new(),
    };
    let host = request_host(h);
    let mut rate = None;
    let mut counters = Vec::new();
    if let Some(meta) = route {
        if st.config.abuse && !matches!(caller, Caller::Key(_)) {
            let out = ratelimit::enforce(st, &project.id, meta, &params, &ip, &user_id, &host)
                .await
                .map_err(|(e, r)| (e, r, fallback))?;
            rate = out.0;
            counters = out.1;
        }
    }

    let https = header(h, "x-forwarded-proto")
        .map(|p| p.eq_ignore_ascii_case("https"))
        .unwrap_or(false)
        || parts.uri.scheme_str() == Some("https");
    let ua = if matches!(caller, Caller::Key(_)) {
        header(h, "x-forwarded-user-agent").or_else(|| header(h, "user-agent"))
    } else {
        header(h, "user-agent")
    }
    .unwrap_or("")
    .to_string();
    let locale = params
        .raw("locale")
        .or_else(|| header(h, "x-appwrite-locale").map(String::from))
        .unwrap_or_else(|| "en".into());
    let ctx = Ctx {
        project,
        caller: Arc::new(caller),
        params: Arc::new(params),
        ip,
        user_agent: ua,
        host,
        https,
        origin: header(h, "origin").map(String::from),
        locale,
        route,
        rate_counters: counters,
    };
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(ctx);
    Ok((req, rate, fallback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_are_url_decoded() {
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            HeaderValue::from_static("x=1; a_session_p1=ab%3D%3D; y=2"),
        );
        assert_eq!(cookie(&h, "a_session_p1").as_deref(), Some("ab=="));
        assert_eq!(url_decode("a%2Fb%2Bc%"), "a/b+c%");
    }

    #[test]
    fn credential_order_cookie_then_header_then_fallback() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-fallback-cookies",
            HeaderValue::from_static(r#"{"a_session_P1":"fb"}"#),
        );
        assert_eq!(credential(&h, "P1"), (Some("fb".into()), true));
        h.insert("x-appwrite-session", HeaderValue::from_static("hdr"));
        assert_eq!(credential(&h, "P1"), (Some("hdr".into()), false));
        h.insert(
            "cookie",
            HeaderValue::from_static("a_session_p1_legacy=leg"),
        );
        assert_eq!(credential(&h, "P1"), (Some("leg".into()), false));
        h.insert(
            "cookie",
            HeaderValue::from_static("a_session_p1=main; a_session_p1_legacy=leg"),
        );
        assert_eq!(credential(&h, "P1"), (Some("main".into()), false));
    }

    #[test]
    fn host_strips_port() {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("API.example.com:8443"));
        assert_eq!(request_host(&h), "api.example.com");
        h.insert("host", HeaderValue::from_static("[::1]:8080"));
        assert_eq!(request_host(&h), "[::1]");
    }
}
