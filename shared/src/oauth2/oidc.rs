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
/// from the ID token, name from the `user` parameter passed as `extra`. `client_secret` must
/// be the client-secret JWT (ES256, signed with the team's key; up to six months valid),
/// generated outside this module.
pub struct Apple;

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
            authorize: "https://appleid.apple.com/auth/authorize".into(),
            token: "https://appleid.apple.com/auth/token".into(),
            userinfo: None,
            issuer: Some("https://appleid.apple.com".into()),
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
