//! ID-token providers: generic OIDC and its presets (Auth0, Okta, Authentik, Keycloak),
//! Google, Microsoft and Apple.
//!
//! `email_verified` per provider:
//! * OIDC, presets, Google: the `email_verified` claim (of the ID token or userinfo).
//! * Apple: the `email_verified` claim of the ID token, which may be the string `"true"`.
//!   The `user` callback parameter passes through the browser, so only its name is used.
//! * Microsoft: Entra ID does not assert that a user owns the `email` claim, so the email is
//!   treated as unverified unless the token says so: the optional claim `xms_edov` (email
//!   domain owner verified) is true, or the email is listed in the optional
//!   `verified_primary_email` / `verified_secondary_email` claims. Tenants must add those
//!   optional claims for Microsoft logins to link to existing accounts by email.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    ClientAuth, Endpoints, OAuthError, Profile, ProviderSettings, TokenSet, endpoint_url,
    json_object, profile, text, token_post, truthy, validated_claims,
};
use crate::oauth2::Provider;

const OIDC_SCOPES: &[&str] = &["openid", "profile", "email"];

/// A display name from standard claims.
fn claims_name(c: &Map<String, Value>) -> String {
    let name = text(c, "name");
    if !name.is_empty() {
        return name;
    }
    let joined = format!("{} {}", text(c, "given_name"), text(c, "family_name"));
    match joined.trim() {
        "" => text(c, "preferred_username"),
        n => n.to_string(),
    }
}

/// Profile from the validated ID token claims merged with the userinfo answer (userinfo
/// wins; its `sub` must equal the ID token's, OIDC Core §5.3.2).
fn oidc_profile(userinfo: Option<&str>, tokens: &TokenSet) -> Result<Profile, OAuthError> {
    let id_claims = validated_claims(tokens)?;
    let mut c = id_claims.cloned().unwrap_or_default();
    match userinfo {
        Some(body) => {
            let ui = json_object(body, "userinfo")?;
            if id_claims.is_some() && text(&ui, "sub") != text(&c, "sub") {
                return Err(OAuthError::IdToken(
                    "userinfo sub differs from ID token".into(),
                ));
            }
            c.extend(ui);
        }
        None if id_claims.is_none() => {
            return Err(OAuthError::BadResponse(
                "neither ID token nor userinfo".into(),
            ));
        }
        None => {}
    }
    profile(
        text(&c, "sub"),
        text(&c, "email"),
        truthy(c.get("email_verified")),
        claims_name(&c),
    )
}

fn required(s: &ProviderSettings, key: &str) -> Result<String, OAuthError> {
    s.option(key)
        .ok_or_else(|| OAuthError::Config(format!("option `{key}` is required")))
        .and_then(endpoint_url)
}

/// Generic OpenID Connect. Endpoints from `authorizeUrl`, `tokenUrl`, `userinfoUrl` and
/// `issuer`; when the first two are missing, fetch [`Provider::discovery_url`] and
/// [`super::Discovery::apply`] it. Client authentication: `client_secret_basic` (the OIDC
/// default) unless `tokenEndpointAuthMethod` is `client_secret_post`.
pub struct Oidc;

impl Provider for Oidc {
    fn name(&self) -> &'static str {
        "oidc"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        OIDC_SCOPES
    }
    fn supports_pkce(&self) -> bool {
        true
    }
    fn default_endpoints(&self, s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        Ok(Endpoints {
            authorize: required(s, "authorizeUrl")?,
            token: required(s, "tokenUrl")?,
            userinfo: None,
            issuer: None,
        })
    }
    fn client_auth(&self, s: &ProviderSettings) -> ClientAuth {
        match s.option("tokenEndpointAuthMethod") {
            Some("client_secret_post") => ClientAuth::Post,
            _ => ClientAuth::Basic,
        }
    }
    fn discovery_url(&self, s: &ProviderSettings) -> Option<String> {
        if s.option("authorizeUrl").is_some() && s.option("tokenUrl").is_some() {
            return None;
        }
        if let Some(u) = s.option("wellKnownUrl") {
            return Some(u.to_string());
        }
        s.option("issuer").map(|i| {
            format!(
                "{}/.well-known/openid-configuration",
                i.trim_end_matches('/')
            )
        })
    }
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        tokens: &TokenSet,
        _extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        oidc_profile(userinfo_body, tokens)
    }
}

/// An OIDC provider whose endpoints follow from one option.
pub struct Preset {
    name: &'static str,
    auth: ClientAuth,
    build: fn(&ProviderSettings) -> Result<Endpoints, OAuthError>,
}

/// Auth0: `domain` (`tenant.eu.auth0.com`); issuer `https://<domain>/`.
pub(crate) const AUTH0: Preset = Preset {
    name: "auth0",
    auth: ClientAuth::Post,
    build: |s| {
        let base = required(s, "domain")?;
        Ok(Endpoints {
            authorize: format!("{base}/authorize"),
            token: format!("{base}/oauth/token"),
            userinfo: Some(format!("{base}/userinfo")),
            issuer: Some(format!("{base}/")),
        })
    },
};

/// Okta: `domain`, optional `authorizationServerId` (custom authorization server; without it
/// the org authorization server).
pub(crate) const OKTA: Preset = Preset {
    name: "okta",
    auth: ClientAuth::Basic,
    build: |s| {
        let domain = required(s, "domain")?;
        let (issuer, base) = match s.option("authorizationServerId") {
            Some(id) if id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                let iss = format!("{domain}/oauth2/{id}");
                (iss.clone(), format!("{iss}/v1"))
            }
            Some(_) => return Err(OAuthError::Config("bad authorizationServerId".into())),
            None => (domain.clone(), format!("{domain}/oauth2/v1")),
        };
        Ok(Endpoints {
            authorize: format!("{base}/authorize"),
            token: format!("{base}/token"),
            userinfo: Some(format!("{base}/userinfo")),
            issuer: Some(issuer),
        })
    },
};

/// Authentik: `endpoint`; the issuer depends on the application, so it is checked only
/// with the `slug` (or `issuer`) option.
pub(crate) const AUTHENTIK: Preset = Preset {
    name: "authentik",
    auth: ClientAuth::Post,
    build: |s| {
        let base = required(s, "endpoint")?;
        Ok(Endpoints {
            authorize: format!("{base}/application/o/authorize/"),
            token: format!("{base}/application/o/token/"),
            userinfo: Some(format!("{base}/application/o/userinfo/")),
            issuer: s
                .option("slug")
                .map(|slug| format!("{base}/application/o/{slug}/")),
        })
    },
};

/// Keycloak: `endpoint` = realm URL (`https://kc.example.com/realms/acme`), or server URL
/// plus `realm`; the realm URL is the issuer.
pub(crate) const KEYCLOAK: Preset = Preset {
    name: "keycloak",
    auth: ClientAuth::Basic,
    build: |s| {
        let server = required(s, "endpoint")?;
        let base = match s.option("realm") {
            Some(r) => format!("{server}/realms/{}", super::form_encode(r)),
            None if server.contains("/realms/") => server,
            None => return Err(OAuthError::Config("option `realm` is required".into())),
        };
        let oidc = format!("{base}/protocol/openid-connect");
        Ok(Endpoints {
            authorize: format!("{oidc}/auth"),
            token: format!("{oidc}/token"),
            userinfo: Some(format!("{oidc}/userinfo")),
            issuer: Some(base),
        })
    },
};

impl Provider for Preset {
    fn name(&self) -> &'static str {
        self.name
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        OIDC_SCOPES
    }
    fn supports_pkce(&self) -> bool {
        true
    }
    fn default_endpoints(&self, s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        (self.build)(s)
    }
    fn client_auth(&self, _s: &ProviderSettings) -> ClientAuth {
        self.auth
    }
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        tokens: &TokenSet,
        _extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        oidc_profile(userinfo_body, tokens)
    }
}

/// Google: profile from the ID token (no userinfo call); `access_type=offline` so a refresh
/// token is issued.
pub struct Google;

impl Provider for Google {
    fn name(&self) -> &'static str {
        "google"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        &["openid", "email", "profile"]
    }
    fn supports_pkce(&self) -> bool {
        true
    }
    fn authorize_extras(&self) -> &'static [(&'static str, &'static str)] {
        &[("access_type", "offline")]
    }
    fn default_endpoints(&self, _s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        Ok(Endpoints {
            authorize: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token: "https://oauth2.googleapis.com/token".into(),
            userinfo: None,
            issuer: Some("https://accounts.google.com".into()),
        })
    }
    fn accepted_issuers(
        &self,
        s: &ProviderSettings,
        _claims: &Map<String, Value>,
    ) -> Result<Vec<String>, OAuthError> {
        Ok(match s.option("issuer") {
            Some(i) => vec![i.to_string()],
            // Google documents both spellings.
            None => vec![
                "https://accounts.google.com".into(),
                "accounts.google.com".into(),
            ],
        })
    }
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        tokens: &TokenSet,
        _extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        oidc_profile(userinfo_body, tokens)
    }
}

/// Microsoft identity platform v2 (`tenant`: `common` by default, `organizations`,
/// `consumers`, a tenant id or domain). Profile from the ID token; id = `oid` (stable across
/// applications, as Graph's `/me` id), else `sub`. See the module notes on verification.
pub struct Microsoft;

const MS_MULTI: &[&str] = &["common", "organizations", "consumers"];

fn ms_tenant(s: &ProviderSettings) -> Result<&str, OAuthError> {
    let t = s.option("tenant").unwrap_or("common");
    if t.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        Ok(t)
    } else {
        Err(OAuthError::Config("bad tenant".into()))
    }
}

impl Provider for Microsoft {
    fn name(&self) -> &'static str {
        "microsoft"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        &["openid", "email", "profile", "offline_access"]
    }
    fn supports_pkce(&self) -> bool {
        true
    }
    fn default_endpoints(&self, s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        let base = format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0",
            ms_tenant(s)?
        );
        Ok(Endpoints {
            authorize: format!("{base}/authorize"),
            token: format!("{base}/token"),
            userinfo: None,
            issuer: None,
        })
    }
    /// The issuer is `https://login.microsoftonline.com/<tid>/v2.0` for the token's tenant;
    /// a single-tenant configuration (tenant id) also pins `tid`.
    fn accepted_issuers(
        &self,
        s: &ProviderSettings,
        claims: &Map<String, Value>,
    ) -> Result<Vec<String>, OAuthError> {
        if let Some(i) = s.option("issuer") {
            return Ok(vec![i.to_string()]);
        }
        let tid = text(claims, "tid");
        let tenant = ms_tenant(s)?;
        let pinned = !MS_MULTI.contains(&tenant) && !tenant.contains('.');
        if tid.is_empty() || (pinned && !tid.eq_ignore_ascii_case(tenant)) {
            return Err(OAuthError::IdToken("unexpected tenant".into()));
        }
        Ok(vec![format!(
            "https://login.microsoftonline.com/{tid}/v2.0"
        )])
    }
    fn refresh_request(
        &self,
        s: &ProviderSettings,
        refresh_token: &str,
    ) -> Result<super::HttpRequest, OAuthError> {
        s.check()?;
        let ep = self.endpoints(s)?;
        let scope = self.default_scopes().join(" ");
        let form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("scope", scope.as_str()),
        ];
        Ok(token_post(&ep.token, self.client_auth(s), s, form))
    }
    fn parse_profile(
        &self,
        _userinfo_body: Option<&str>,
        tokens: &TokenSet,
        _extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        let c =
            validated_claims(tokens)?.ok_or_else(|| OAuthError::IdToken("no ID token".into()))?;
        let id = Some(text(c, "oid"))
            .filter(|o| !o.is_empty())
            .unwrap_or_else(|| text(c, "sub"));
        let claimed = text(c, "email");
        let listed = |k: &str| {
            c.get(k).and_then(Value::as_array).is_some_and(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .any(|e| !claimed.is_empty() && e.eq_ignore_ascii_case(&claimed))
            })
        };
        let verified = !claimed.is_empty()
            && (truthy(c.get("xms_edov"))
                || listed("verified_primary_email")
                || listed("verified_secondary_email"));
        let email = if claimed.is_empty() {
            Some(text(c, "preferred_username"))
                .filter(|u| u.contains('@'))
                .unwrap_or_default()
        } else {
            claimed
        };
        profile(id, email, verified, claims_name(c))
    }
}

/// Sign in with Apple: `response_mode=form_post` (the callback arrives as POST), profile
/// from the ID token, name from the `user` parameter passed as `extra`. The client secret
/// is stored as Appwrite stores it, JSON `{"keyID", "teamID", "p8"}`, and a short-lived
/// client-secret JWT is signed from it per request (see [`apple_client_secret`]).
pub struct Apple;

const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// Lifetime of a signed Apple client secret. Apple accepts up to six months; one token
/// request needs seconds, so a secret that leaks from a log or proxy is soon worthless.
const APPLE_SECRET_TTL_S: i64 = 300;

/// The key material from the Apple developer account, in Appwrite's field names.
#[derive(Deserialize)]
struct AppleKey {
    #[serde(rename = "keyID")]
    key_id: String,
    #[serde(rename = "teamID")]
    team_id: String,
    /// The `.p8` file: a PKCS#8 P-256 private key, PEM.
    p8: String,
}

/// The client secret Apple's token endpoint gets at `now_s`: for a stored secret in
/// Appwrite's JSON form, an ES256 JWT (`kid` key id; `iss` team id, `sub` client id, `aud`
/// Apple) signed with the p8 key; None for any other secret, which is then sent as it is
/// (a client-secret JWT made elsewhere). Errors never quote the secret.
pub(crate) fn apple_client_secret(
    s: &ProviderSettings,
    now_s: i64,
) -> Result<Option<String>, OAuthError> {
    let raw = s.client_secret.trim();
    if !raw.starts_with('{') {
        return Ok(None);
    }
    let key: AppleKey = serde_json::from_str(raw).map_err(|_| {
        OAuthError::Config("the Apple secret must be JSON with keyID, teamID and p8".into())
    })?;
    let der =
        pem_der(&key.p8).ok_or_else(|| OAuthError::Config("the Apple p8 key is not PEM".into()))?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.key_id);
    let claims = serde_json::json!({
        "iss": key.team_id,
        "iat": now_s,
        "exp": now_s + APPLE_SECRET_TTL_S,
        "aud": APPLE_ISSUER,
        "sub": s.client_id,
    });
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&der))
        .map(Some)
        .map_err(|_| OAuthError::Config("the Apple p8 key is not a P-256 private key".into()))
}

/// The DER inside a PEM block: the text between the `-----…-----` markers, on any number of
/// lines (a key pasted into a JSON string often loses its line breaks).
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .split("-----")
        .step_by(2)
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok().filter(|d| !d.is_empty())
}

impl Provider for Apple {
    fn name(&self) -> &'static str {
        "apple"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        &["name", "email"]
    }
    fn supports_pkce(&self) -> bool {
        false
    }
    fn authorize_extras(&self) -> &'static [(&'static str, &'static str)] {
        &[("response_mode", "form_post")]
    }
    fn default_endpoints(&self, _s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        Ok(Endpoints {
            authorize: format!("{APPLE_ISSUER}/auth/authorize"),
            token: format!("{APPLE_ISSUER}/auth/token"),
            userinfo: None,
            issuer: Some(APPLE_ISSUER.into()),
        })
    }
    fn request_settings<'a>(
        &self,
        s: &'a ProviderSettings,
    ) -> Result<Cow<'a, ProviderSettings>, OAuthError> {
        let now_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Ok(match apple_client_secret(s, now_s)? {
            Some(client_secret) => Cow::Owned(ProviderSettings {
                client_secret,
                ..s.clone()
            }),
            None => Cow::Borrowed(s),
        })
    }
    fn parse_profile(
        &self,
        _userinfo_body: Option<&str>,
        tokens: &TokenSet,
        extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        let c =
            validated_claims(tokens)?.ok_or_else(|| OAuthError::IdToken("no ID token".into()))?;
        // `user` is sent on the first authorisation only, as a JSON string.
        let user = match extra {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s).unwrap_or_default(),
            Some(v) => v.clone(),
            None => Value::Null,
        };
        let part = |k: &str| {
            user.pointer(&format!("/name/{k}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let name = format!("{} {}", part("firstName"), part("lastName"))
            .trim()
            .to_string();
        profile(
            text(c, "sub"),
            text(c, "email"),
            truthy(c.get("email_verified")),
            name,
        )
    }
}
