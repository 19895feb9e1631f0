//! OAuth2 / OpenID Connect toward third-party providers: the pure layer the OAuth2 routes use
//! (contract-sessions §4.10–4.12, security checklist E2, F2). No I/O happens here: every
//! request to a provider is returned as an [`HttpRequest`] value for the route to send, and
//! every answer is handed back as text to be parsed.
//!
//! Owned here: provider settings, the [`Provider`] trait and its implementations (generic
//! `oidc`, `google`, `github`, `microsoft`, `apple`, `gitlab`, `discord`, `facebook` and the
//! OIDC presets `auth0`, `okta`, `authentik`, `keycloak`), the [`provider`] registry, OIDC
//! discovery parsing, PKCE (RFC 7636), HMAC-SHA256 (RFC 2104) and the signed `state`.
//!
//! Flow for a route: `authorize_url` (start) → provider → callback with `code` and `state` →
//! [`open_state`] (+ [`StateData::matches_cookie`] against the nonce cookie) →
//! `token_request` → `parse_token` → `validate_id_token` → `userinfo_request` (and, for
//! GitHub, `emails_request`) → `parse_profile`. [`Provider::refresh_request`] serves the
//! session refresh (PATCH).
//!
//! Trust assumptions:
//! * **ID tokens are not signature-checked.** They are only ever taken from the token
//!   endpoint's response, which the route fetches itself over TLS (back channel). OpenID
//!   Connect Core 1.0 §3.1.3.7 (6) lets a client rely on TLS server validation instead of
//!   the signature in exactly that case. ID tokens arriving any other way (front channel,
//!   form post) must never be fed to this module. The claims are still checked:
//!   `aud` contains the client id (and `azp`, when present or when there are several
//!   audiences, equals it), `iss` is the expected issuer whenever it is known, `exp` is in
//!   the future and `sub` is present. `parse_profile` refuses an ID token that
//!   `validate_id_token` did not accept (fail closed).
//! * Userinfo bodies are likewise fetched by the route over TLS with the access token.
//! * `email_verified` is true only when the provider asserts it (per provider below); the
//!   routes must not link a login to an existing account by email otherwise (F2).
//! * The `state` is signed (HMAC-SHA256), not encrypted: anyone who sees the redirect sees
//!   its content. It expires after ten minutes and carries a random nonce that the route also
//!   sets as a cookie, which binds the callback to the initiating browser (F2). Prefer
//!   [`derive_pkce`] (verifier derived from the key and the nonce) over storing a verifier in
//!   [`StateData::pkce_verifier`], which would travel next to the code it protects.
//! * Provider-defined endpoints must be `https://` (plain `http://` only for loopback hosts).

mod oidc;
mod social;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use oidc::{Apple, Google, Microsoft, Oidc, Preset};
pub use social::{Discord, Facebook, GitHub, GitLab};

/// Lifetime of a sealed `state` in seconds.
pub const STATE_TTL_S: i64 = 600;

/// Names [`provider`] knows.
pub const PROVIDERS: &[&str] = &[
    "apple",
    "auth0",
    "authentik",
    "discord",
    "facebook",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "microsoft",
    "oidc",
    "okta",
];

/// The implementation of a provider name (exact, case-sensitive); unknown → `None`
/// (the route answers 400 `project_provider_unsupported`).
pub fn provider(name: &str) -> Option<Box<dyn Provider>> {
    Some(match name {
        "apple" => Box::new(Apple),
        "auth0" => Box::new(oidc::AUTH0),
        "authentik" => Box::new(oidc::AUTHENTIK),
        "discord" => Box::new(Discord),
        "facebook" => Box::new(Facebook),
        "github" => Box::new(GitHub),
        "gitlab" => Box::new(GitLab),
        "google" => Box::new(Google),
        "keycloak" => Box::new(oidc::KEYCLOAK),
        "microsoft" => Box::new(Microsoft),
        "oidc" => Box::new(Oidc),
        "okta" => Box::new(oidc::OKTA),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Types

/// A project's settings for one provider. `options` hold per-provider extras and overrides:
/// `authorizeUrl`, `tokenUrl`, `userinfoUrl` (any provider), `issuer`, `wellKnownUrl`,
/// `tokenEndpointAuthMethod` (OIDC), `tenant` (Microsoft), `domain` (Auth0, Okta),
/// `authorizationServerId` (Okta), `endpoint` (GitLab self-hosted, Authentik, Keycloak),
/// `slug` (Authentik), `realm` (Keycloak).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderSettings {
    pub enabled: bool,
    pub client_id: String,
    pub client_secret: String,
    pub options: Map<String, Value>,
}

impl ProviderSettings {
    /// A non-empty, trimmed string option.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Disabled, or client id or secret empty ⇒ [`OAuthError::Disabled`] (412
    /// `project_provider_disabled`).
    pub fn check(&self) -> Result<(), OAuthError> {
        if self.enabled && !self.client_id.is_empty() && !self.client_secret.is_empty() {
            Ok(())
        } else {
            Err(OAuthError::Disabled)
        }
    }
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("enabled", &self.enabled)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("options", &self.options)
            .finish()
    }
}

/// A request for the route to send. Its `Debug` shows neither headers nor body (secrets).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpRequest {
    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpRequest({} {})", self.method, self.url)
    }
}

/// A token endpoint answer. `id_claims` is filled only by [`Provider::validate_id_token`].
#[derive(Clone, Default, PartialEq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub id_token: Option<String>,
    pub id_claims: Option<Map<String, Value>>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_in", &self.expires_in)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("has_id_token", &self.id_token.is_some())
            .finish_non_exhaustive()
    }
}

/// The provider's account. `email` is empty when the provider gave none, and then
/// `email_verified` is false.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
}

/// Endpoints of a provider for given settings (after `options` overrides).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    pub userinfo: Option<String>,
    pub issuer: Option<String>,
}

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// HTTP Basic with the form-encoded id and secret.
    Basic,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    /// Provider disabled, or client id/secret empty (412 `project_provider_disabled`).
    Disabled,
    /// A required option is missing or invalid (also: endpoints must first be discovered).
    Config(String),
    /// The provider answered with an OAuth error.
    Provider { error: String, description: String },
    /// A provider answer could not be understood.
    BadResponse(String),
    /// An ID token failed a check, or was not validated before use.
    IdToken(String),
    /// The profile has no provider user id (400 `user_missing_id`).
    MissingId,
    /// The `state` is malformed or its MAC does not match.
    InvalidState,
    /// The `state` is older than [`STATE_TTL_S`].
    ExpiredState,
    /// The OS random generator failed.
    Random,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disabled => f.write_str("provider is disabled or not configured"),
            Self::Config(m) => write!(f, "provider configuration: {m}"),
            Self::Provider { error, description } => write!(f, "{error}: {description}"),
            Self::BadResponse(m) => write!(f, "unexpected provider response: {m}"),
            Self::IdToken(m) => write!(f, "invalid ID token: {m}"),
            Self::MissingId => f.write_str("missing provider user id"),
            Self::InvalidState => f.write_str("invalid state"),
            Self::ExpiredState => f.write_str("expired state"),
            Self::Random => f.write_str("random generator failed"),
        }
    }
}

impl std::error::Error for OAuthError {}

// ---------------------------------------------------------------------------------------------
// The provider trait

/// One OAuth2 provider. Object-safe; the provided methods cover the common RFC 6749 shapes
/// and implementations override what differs.
pub trait Provider: Send + Sync {
    /// The name used in routes (`google`, `oidc`, …).
    fn name(&self) -> &'static str;

    /// Scopes always requested; the caller's scopes are appended.
    fn default_scopes(&self) -> &'static [&'static str];

    /// Whether the provider accepts PKCE (S256). When false, challenge and verifier are
    /// silently left out.
    fn supports_pkce(&self) -> bool;

    /// Endpoints before `options` overrides; see [`Provider::endpoints`].
    fn default_endpoints(&self, s: &ProviderSettings) -> Result<Endpoints, OAuthError>;

    /// Maps the provider's answers to a [`Profile`]. `userinfo_body` is the answer to
    /// `userinfo_request` (None when there was none); `extra` is provider-specific: GitHub's
    /// `/user/emails` answer, Apple's `user` callback parameter (string or object).
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        tokens: &TokenSet,
        extra: Option<&Value>,
    ) -> Result<Profile, OAuthError>;

    /// Endpoints with the `authorizeUrl`, `tokenUrl`, `userinfoUrl` and `issuer` overrides.
    fn endpoints(&self, s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        let mut ep = self.default_endpoints(s)?;
        if let Some(u) = s.option("authorizeUrl") {
            ep.authorize = endpoint_url(u)?;
        }
        if let Some(u) = s.option("tokenUrl") {
            ep.token = endpoint_url(u)?;
        }
        if let Some(u) = s.option("userinfoUrl") {
            ep.userinfo = Some(endpoint_url(u)?);
        }
        if let Some(i) = s.option("issuer") {
            ep.issuer = Some(i.to_string());
        }
        Ok(ep)
    }

    /// Token endpoint client authentication.
    fn client_auth(&self, _s: &ProviderSettings) -> ClientAuth {
        ClientAuth::Post
    }

    /// Extra authorize parameters (Apple: `response_mode=form_post`).
    fn authorize_extras(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The discovery document to fetch when the endpoints are not configured (generic OIDC);
    /// apply the result with [`Discovery::apply`].
    fn discovery_url(&self, _s: &ProviderSettings) -> Option<String> {
        None
    }

    /// The URL to send the browser to. `scopes` are appended to [`Provider::default_scopes`]
    /// (duplicates dropped) and joined with spaces; `pkce_challenge` (S256) is sent when the
    /// provider supports PKCE.
    fn authorize_url(
        &self,
        s: &ProviderSettings,
        redirect_uri: &str,
        state: &str,
        pkce_challenge: Option<&str>,
        scopes: &[String],
    ) -> Result<String, OAuthError> {
        s.check()?;
        let ep = self.endpoints(s)?;
        let scope = join_scopes(self.default_scopes(), scopes);
        let mut q = vec![
            ("client_id", s.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", scope.as_str()),
            ("state", state),
        ];
        if let Some(c) = pkce_challenge.filter(|_| self.supports_pkce()) {
            q.push(("code_challenge", c));
            q.push(("code_challenge_method", "S256"));
        }
        q.extend_from_slice(self.authorize_extras());
        Ok(with_query(&ep.authorize, &q))
    }

    /// The settings token and refresh requests are made with: the stored ones, or a copy
    /// whose client secret is derived from them (Apple signs one per request). An error
    /// here is a configuration error, so the admin tool calls this before storing settings.
    fn request_settings<'a>(
        &self,
        s: &'a ProviderSettings,
    ) -> Result<Cow<'a, ProviderSettings>, OAuthError> {
        Ok(Cow::Borrowed(s))
    }

    /// The authorization-code exchange (RFC 6749 §4.1.3).
    fn token_request(
        &self,
        s: &ProviderSettings,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: Option<&str>,
    ) -> Result<HttpRequest, OAuthError> {
        s.check()?;
        let s = &*self.request_settings(s)?;
        let ep = self.endpoints(s)?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(v) = pkce_verifier.filter(|_| self.supports_pkce()) {
            form.push(("code_verifier", v));
        }
        Ok(token_post(&ep.token, self.client_auth(s), s, form))
    }

    /// A refresh of the provider tokens (RFC 6749 §6) for PATCH `/account/sessions/{id}`.
    fn refresh_request(
        &self,
        s: &ProviderSettings,
        refresh_token: &str,
    ) -> Result<HttpRequest, OAuthError> {
        s.check()?;
        let s = &*self.request_settings(s)?;
        let ep = self.endpoints(s)?;
        let form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        Ok(token_post(&ep.token, self.client_auth(s), s, form))
    }

    /// Parses a token (or refresh) answer: JSON, or a form-encoded body as some providers
    /// send without `Accept: application/json`. An `error` member ⇒ [`OAuthError::Provider`].
    fn parse_token(&self, body: &str) -> Result<TokenSet, OAuthError> {
        parse_token_body(body)
    }

    /// Accepted `iss` values for an ID token; empty = unknown (not checked).
    fn accepted_issuers(
        &self,
        s: &ProviderSettings,
        _claims: &Map<String, Value>,
    ) -> Result<Vec<String>, OAuthError> {
        Ok(self.endpoints(s)?.issuer.into_iter().collect())
    }

    /// Checks the ID token of `tokens` (if any) and stores its claims in
    /// `tokens.id_claims`. See the module notes for why the signature is not checked.
    fn validate_id_token(
        &self,
        s: &ProviderSettings,
        tokens: &mut TokenSet,
        now_s: i64,
    ) -> Result<(), OAuthError> {
        tokens.id_claims = None;
        let Some(jwt) = tokens.id_token.as_deref() else {
            return Ok(());
        };
        let claims = jwt_claims(jwt)?;
        check_claims(
            &claims,
            &s.client_id,
            &self.accepted_issuers(s, &claims)?,
            now_s,
        )?;
        tokens.id_claims = Some(claims);
        Ok(())
    }

    /// The profile request, or None when the profile comes from the ID token.
    fn userinfo_request(
        &self,
        s: &ProviderSettings,
        tokens: &TokenSet,
    ) -> Result<Option<HttpRequest>, OAuthError> {
        Ok(self
            .endpoints(s)?
            .userinfo
            .map(|u| bearer_get(u, &tokens.access_token, &[])))
    }

    /// A second profile request whose answer goes to `parse_profile` as `extra` (GitHub's
    /// `/user/emails`, the only source of a verified email there).
    fn emails_request(
        &self,
        _s: &ProviderSettings,
        _tokens: &TokenSet,
    ) -> Result<Option<HttpRequest>, OAuthError> {
        Ok(None)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the implementations

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B).
pub(crate) fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `base` with `pairs` appended as query parameters.
pub(crate) fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", form(pairs))
}

fn join_scopes(defaults: &[&str], extra: &[String]) -> String {
    let mut all: Vec<&str> = Vec::new();
    for s in defaults
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
    {
        let s = s.trim();
        if !s.is_empty() && !all.contains(&s) {
            all.push(s);
        }
    }
    all.join(" ")
}

/// A configured base URL or host: scheme-less values get `https://`; plain `http://` is
/// accepted only for loopback hosts; the trailing `/` is dropped.
pub(crate) fn endpoint_url(raw: &str) -> Result<String, OAuthError> {
    let raw = raw.trim().trim_end_matches('/');
    let url = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let loopback = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|p| {
            url.strip_prefix(p)
                .is_some_and(|r| r.is_empty() || r.starts_with([':', '/']))
        });
    let host_ok = url
        .strip_prefix("https://")
        .is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    if host_ok || loopback {
        Ok(url)
    } else {
        Err(OAuthError::Config(format!("endpoint must be https: {raw}")))
    }
}

pub(crate) fn token_post<'a>(
    url: &str,
    auth: ClientAuth,
    s: &'a ProviderSettings,
    mut fields: Vec<(&'a str, &'a str)>,
) -> HttpRequest {
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Accept".to_string(), "application/json".to_string()),
    ];
    match auth {
        ClientAuth::Post => {
            fields.push(("client_id", &s.client_id));
            fields.push(("client_secret", &s.client_secret));
        }
        ClientAuth::Basic => {
            let pair = format!(
                "{}:{}",
                form_encode(&s.client_id),
                form_encode(&s.client_secret)
            );
            headers.push((
                "Authorization".to_string(),
                format!("Basic {}", STANDARD.encode(pair)),
            ));
        }
    }
    HttpRequest {
        method: "POST".to_string(),
        url: url.to_string(),
        headers,
        body: form(&fields),
    }
}

pub(crate) fn bearer_get(url: String, token: &str, extra: &[(&str, &str)]) -> HttpRequest {
    let mut headers = vec![
        ("Authorization".to_string(), format!("Bearer {token}")),
        ("Accept".to_string(), "application/json".to_string()),
    ];
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    HttpRequest {
        method: "GET".to_string(),
        url,
        headers,
        body: String::new(),
    }
}

pub(crate) fn json_object(body: &str, what: &str) -> Result<Map<String, Value>, OAuthError> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(OAuthError::BadResponse(format!(
            "{what} is not a JSON object"
        ))),
    }
}

/// A trimmed string member ("" when absent or not a string).
pub(crate) fn text(m: &Map<String, Value>, key: &str) -> String {
    m.get(key)
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// An id that may be a JSON number (GitHub, GitLab, Facebook as string) or string.
pub(crate) fn id_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Provider truthiness: JSON `true` or the string `"true"` (Apple) — nothing else.
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn lenient_i64(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Builds the profile; an empty id is [`OAuthError::MissingId`], no email is never verified.
pub(crate) fn profile(
    id: String,
    email: String,
    verified: bool,
    name: String,
) -> Result<Profile, OAuthError> {
    if id.is_empty() {
        return Err(OAuthError::MissingId);
    }
    Ok(Profile {
        email_verified: verified && !email.is_empty(),
        id,
        email,
        name,
    })
}

pub(crate) fn parse_token_body(body: &str) -> Result<TokenSet, OAuthError> {
    let m = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return Err(OAuthError::BadResponse(
                "token answer is not an object".into(),
            ));
        }
        Err(_) => serde_urlencoded::from_str::<Vec<(String, String)>>(body)
            .map_err(|_| OAuthError::BadResponse("token answer is neither JSON nor a form".into()))?
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    };
    let error = text(&m, "error");
    if !error.is_empty() {
        return Err(OAuthError::Provider {
            error,
            description: text(&m, "error_description"),
        });
    }
    let access_token = text(&m, "access_token");
    if access_token.is_empty() {
        return Err(OAuthError::BadResponse("no access_token".into()));
    }
    let opt = |k: &str| Some(text(&m, k)).filter(|v| !v.is_empty());
    Ok(TokenSet {
        refresh_token: opt("refresh_token"),
        id_token: opt("id_token"),
        expires_in: lenient_i64(m.get("expires_in")),
        access_token,
        id_claims: None,
    })
}

/// The payload of a compact JWS, decoded without checking the signature (see module notes).
fn jwt_claims(jwt: &str) -> Result<Map<String, Value>, OAuthError> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    let [_, payload, _] = parts.as_slice() else {
        return Err(OAuthError::IdToken("not a compact JWS".into()));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| OAuthError::IdToken("payload is not base64url".into()))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(OAuthError::IdToken("payload is not a JSON object".into())),
    }
}

fn check_claims(
    c: &Map<String, Value>,
    client_id: &str,
    issuers: &[String],
    now_s: i64,
) -> Result<(), OAuthError> {
    let bad = |m: &str| Err(OAuthError::IdToken(m.to_string()));
    let azp = c.get("azp").and_then(Value::as_str);
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => {
            list.iter().any(|a| a.as_str() == Some(client_id)) && (list.len() == 1 || azp.is_some())
        }
        _ => false,
    };
    if !aud_ok || azp.is_some_and(|a| a != client_id) {
        return bad("audience is not this client");
    }
    if !issuers.is_empty() && !issuers.iter().any(|i| *i == text(c, "iss")) {
        return bad("unexpected issuer");
    }
    match lenient_i64(c.get("exp")) {
        Some(exp) if exp > now_s => {}
        Some(_) => return bad("expired"),
        None => return bad("no exp"),
    }
    if text(c, "sub").is_empty() {
        return bad("no sub");
    }
    Ok(())
}

/// The validated ID token claims; an ID token that was not validated is an error.
pub(crate) fn validated_claims(t: &TokenSet) -> Result<Option<&Map<String, Value>>, OAuthError> {
    match (&t.id_token, &t.id_claims) {
        (_, Some(c)) => Ok(Some(c)),
        (Some(_), None) => Err(OAuthError::IdToken("not validated".into())),
        (None, None) => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// OIDC discovery

/// The parts of an OpenID Provider Configuration document this module uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// Parses a discovery document; issuer, authorization and token endpoints are required and
/// endpoints must be https (loopback excepted).
pub fn parse_discovery(json: &str) -> Result<Discovery, OAuthError> {
    let d: Discovery = serde_json::from_str(json)
        .map_err(|e| OAuthError::BadResponse(format!("discovery document: {e}")))?;
    if d.issuer.trim().is_empty() {
        return Err(OAuthError::BadResponse(
            "discovery document without issuer".into(),
        ));
    }
    endpoint_url(&d.authorization_endpoint)?;
    endpoint_url(&d.token_endpoint)?;
    if let Some(u) = &d.userinfo_endpoint {
        endpoint_url(u)?;
    }
    Ok(d)
}

impl Discovery {
    /// Fills the endpoint options of `s` that are not set yet. A configured `issuer` that
    /// differs from the document's is an error (OIDC Discovery §4.3).
    pub fn apply(&self, s: &mut ProviderSettings) -> Result<(), OAuthError> {
        if s.option("issuer").is_some_and(|i| i != self.issuer) {
            return Err(OAuthError::Config(
                "discovery issuer differs from configured issuer".into(),
            ));
        }
        let mut set = |k: &str, v: &str| {
            if s.option(k).is_none() && !v.is_empty() {
                s.options
                    .insert(k.to_string(), Value::String(v.to_string()));
            }
        };
        set("issuer", &self.issuer);
        set("authorizeUrl", &self.authorization_endpoint);
        set("tokenUrl", &self.token_endpoint);
        set(
            "userinfoUrl",
            self.userinfo_endpoint.as_deref().unwrap_or_default(),
        );
        let m = &self.token_endpoint_auth_methods_supported;
        if m.iter().any(|x| x == "client_secret_post")
            && !m.iter().any(|x| x == "client_secret_basic")
        {
            set("tokenEndpointAuthMethod", "client_secret_post");
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// HMAC, PKCE, state

/// HMAC-SHA256 (RFC 2104, 64-byte blocks).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > k.len() {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const STATE_LABEL: &[u8] = b"appwrite-account/oauth2/state/v1";
const PKCE_LABEL: &[u8] = b"appwrite-account/oauth2/pkce/v1";

/// The S256 challenge of a verifier: base64url (no padding) of its SHA-256.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A random `(verifier, challenge)`: 32 CSPRNG bytes as a 43-character base64url verifier.
pub fn pkce_pair() -> Result<(String, String), OAuthError> {
    let bytes = crate::crypto::random_bytes::<32>().map_err(|_| OAuthError::Random)?;
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = pkce_challenge(&verifier);
    Ok((verifier, challenge))
}

/// A `(verifier, challenge)` derived from the state key and the state's nonce, so the
/// verifier never travels in the redirect: the start route sends the challenge, the callback
/// recomputes the verifier from the opened state.
pub fn derive_pkce(key: &[u8], nonce: &str) -> (String, String) {
    let sub = hmac_sha256(key, PKCE_LABEL);
    let verifier = URL_SAFE_NO_PAD.encode(hmac_sha256(&sub, nonce.as_bytes()));
    let challenge = pkce_challenge(&verifier);
    (verifier, challenge)
}

/// What the start route hands to the callback through the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateData {
    pub project_id: String,
    pub success: String,
    pub failure: String,
    /// `true` for the `/account/tokens/oauth2` start (token flow).
    pub token: bool,
    /// Random; the route also sets it as a cookie to bind the callback to the browser.
    pub nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce_verifier: Option<String>,
    /// The logged-in user of the start request (linking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The callback must present the nonce cookie (the start was a browser navigation, or
    /// the flow ends in a session cookie).
    #[serde(default)]
    pub bound: bool,
    /// Expiry, epoch seconds (set by [`seal_state`]).
    pub exp: i64,
}

impl StateData {
    /// A state with a fresh 128-bit nonce.
    pub fn new(
        project_id: &str,
        success: &str,
        failure: &str,
        token: bool,
        user_id: Option<&str>,
    ) -> Result<Self, OAuthError> {
        Ok(Self {
            project_id: project_id.to_string(),
            success: success.to_string(),
            failure: failure.to_string(),
            token,
            nonce: crate::crypto::random_hex(16).map_err(|_| OAuthError::Random)?,
            pkce_verifier: None,
            user_id: user_id.map(str::to_string),
            bound: false,
            exp: 0,
        })
    }

    /// Constant-time comparison of the nonce with the browser's cookie.
    pub fn matches_cookie(&self, cookie: &str) -> bool {
        !self.nonce.is_empty() && ct_eq(self.nonce.as_bytes(), cookie.as_bytes())
    }
}

/// `base64url(json) "." base64url(HMAC-SHA256(k, json))` with `exp = now_s + 600`, where
/// `k` is derived from `key` for this purpose only.
pub fn seal_state(key: &[u8], state: &StateData, now_s: i64) -> String {
    let mut st = state.clone();
    st.exp = now_s + STATE_TTL_S;
    // Serialising a struct of strings, bools and integers cannot fail.
    let json = serde_json::to_vec(&st).unwrap_or_default();
    let mac = hmac_sha256(&hmac_sha256(key, STATE_LABEL), &json);
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&json),
        URL_SAFE_NO_PAD.encode(mac)
    )
}

/// Verifies and decodes a sealed state: bad shape or MAC ⇒ [`OAuthError::InvalidState`],
/// `exp <= now_s` ⇒ [`OAuthError::ExpiredState`].
pub fn open_state(key: &[u8], sealed: &str, now_s: i64) -> Result<StateData, OAuthError> {
    let (body, mac) = sealed
        .trim()
        .split_once('.')
        .ok_or(OAuthError::InvalidState)?;
    let json = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| OAuthError::InvalidState)?;
    let mac = URL_SAFE_NO_PAD
        .decode(mac)
        .map_err(|_| OAuthError::InvalidState)?;
    if !ct_eq(&hmac_sha256(&hmac_sha256(key, STATE_LABEL), &json), &mac) {
        return Err(OAuthError::InvalidState);
    }
    let st: StateData = serde_json::from_slice(&json).map_err(|_| OAuthError::InvalidState)?;
    if st.exp <= now_s {
        return Err(OAuthError::ExpiredState);
    }
    Ok(st)
}
