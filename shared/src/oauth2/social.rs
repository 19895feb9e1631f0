//! Plain OAuth2 providers with a profile API: GitHub, GitLab, Discord, Facebook.
//!
//! `email_verified` per provider:
//! * GitHub: only the `primary` + `verified` entry of `/user/emails` (the route sends
//!   [`Provider::emails_request`] and passes the answer as `extra`). Without it, the public
//!   `/user` email is used unverified.
//! * GitLab: `confirmed_at` is non-null.
//! * Discord: `verified`.
//! * Facebook: the Graph API does not assert ownership of `email` (its old `verified` user
//!   field was about the account, not the address), so it counts as verified only if the
//!   answer carries a true `email_verified`; in practice Facebook logins never link to an
//!   existing account by email.

use serde_json::Value;

use super::{
    ClientAuth, Endpoints, HttpRequest, OAuthError, Profile, Provider, ProviderSettings, TokenSet,
    bearer_get, endpoint_url, hmac_sha256, id_text, json_object, profile, text, token_post, truthy,
    with_query,
};

fn or_else(a: String, b: String) -> String {
    if a.is_empty() { b } else { a }
}

fn userinfo(body: Option<&str>) -> Result<&str, OAuthError> {
    body.ok_or_else(|| OAuthError::BadResponse("userinfo answer missing".into()))
}

/// GitHub OAuth app (PKCE supported since 2025).
pub struct GitHub;

const GITHUB_API_HEADERS: &[(&str, &str)] = &[
    ("Accept", "application/vnd.github+json"),
    // The REST API rejects requests without a user agent.
    ("User-Agent", "appwrite-account"),
];

impl Provider for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        &["read:user", "user:email"]
    }
    fn supports_pkce(&self) -> bool {
        true
    }
    fn default_endpoints(&self, _s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        Ok(Endpoints {
            authorize: "https://github.com/login/oauth/authorize".into(),
            token: "https://github.com/login/oauth/access_token".into(),
            userinfo: Some("https://api.github.com/user".into()),
            issuer: None,
        })
    }
    fn userinfo_request(
        &self,
        s: &ProviderSettings,
        tokens: &TokenSet,
    ) -> Result<Option<HttpRequest>, OAuthError> {
        let url = self.endpoints(s)?.userinfo.unwrap_or_default();
        let mut r = bearer_get(url, &tokens.access_token, GITHUB_API_HEADERS);
        r.headers
            .retain(|(k, v)| k != "Accept" || v != "application/json");
        Ok(Some(r))
    }
    fn emails_request(
        &self,
        s: &ProviderSettings,
        tokens: &TokenSet,
    ) -> Result<Option<HttpRequest>, OAuthError> {
        Ok(self.userinfo_request(s, tokens)?.map(|mut r| {
            r.url.push_str("/emails");
            r
        }))
    }
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        _tokens: &TokenSet,
        extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        let u = json_object(userinfo(userinfo_body)?, "GitHub user")?;
        let emails = extra
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let entry = |verified: bool| {
            emails
                .iter()
                .find(|e| truthy(e.get("primary")) && (!verified || truthy(e.get("verified"))))
        };
        let address = |e: &Value| {
            e.get("email")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let (email, verified) = match entry(true) {
            Some(e) => (address(e), true),
            None => (
                or_else(
                    text(&u, "email"),
                    entry(false).map(address).unwrap_or_default(),
                ),
                false,
            ),
        };
        profile(
            id_text(u.get("id")),
            email,
            verified,
            or_else(text(&u, "name"), text(&u, "login")),
        )
    }
}

/// GitLab (gitlab.com, or a self-hosted instance in `endpoint`).
pub struct GitLab;

impl Provider for GitLab {
    fn name(&self) -> &'static str {
        "gitlab"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        &["read_user"]
    }
    fn supports_pkce(&self) -> bool {
        true
    }
    fn default_endpoints(&self, s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        let base = endpoint_url(s.option("endpoint").unwrap_or("https://gitlab.com"))?;
        Ok(Endpoints {
            authorize: format!("{base}/oauth/authorize"),
            token: format!("{base}/oauth/token"),
            userinfo: Some(format!("{base}/api/v4/user")),
            issuer: None,
        })
    }
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        _tokens: &TokenSet,
        _extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        let u = json_object(userinfo(userinfo_body)?, "GitLab user")?;
        let confirmed = !matches!(u.get("confirmed_at"), None | Some(Value::Null));
        profile(
            id_text(u.get("id")),
            text(&u, "email"),
            confirmed,
            or_else(text(&u, "name"), text(&u, "username")),
        )
    }
}

/// Discord (client authentication with HTTP Basic, as its documentation shows).
pub struct Discord;

impl Provider for Discord {
    fn name(&self) -> &'static str {
        "discord"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        &["identify", "email"]
    }
    fn supports_pkce(&self) -> bool {
        false
    }
    fn default_endpoints(&self, _s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        Ok(Endpoints {
            authorize: "https://discord.com/oauth2/authorize".into(),
            token: "https://discord.com/api/oauth2/token".into(),
            userinfo: Some("https://discord.com/api/users/@me".into()),
            issuer: None,
        })
    }
    fn client_auth(&self, _s: &ProviderSettings) -> ClientAuth {
        ClientAuth::Basic
    }
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        _tokens: &TokenSet,
        _extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        let u = json_object(userinfo(userinfo_body)?, "Discord user")?;
        profile(
            id_text(u.get("id")),
            text(&u, "email"),
            truthy(u.get("verified")),
            or_else(text(&u, "global_name"), text(&u, "username")),
        )
    }
}

/// Facebook Login (Graph API v21.0). Profile calls carry `appsecret_proof`; there are no
/// refresh tokens: `refresh_request` takes the current access token and exchanges it for a
/// long-lived one (`fb_exchange_token`).
pub struct Facebook;

const GRAPH: &str = "https://graph.facebook.com/v21.0";

impl Provider for Facebook {
    fn name(&self) -> &'static str {
        "facebook"
    }
    fn default_scopes(&self) -> &'static [&'static str] {
        &["email", "public_profile"]
    }
    fn supports_pkce(&self) -> bool {
        false
    }
    fn default_endpoints(&self, _s: &ProviderSettings) -> Result<Endpoints, OAuthError> {
        Ok(Endpoints {
            authorize: "https://www.facebook.com/v21.0/dialog/oauth".into(),
            token: format!("{GRAPH}/oauth/access_token"),
            userinfo: Some(format!("{GRAPH}/me?fields=id,name,email")),
            issuer: None,
        })
    }
    fn userinfo_request(
        &self,
        s: &ProviderSettings,
        tokens: &TokenSet,
    ) -> Result<Option<HttpRequest>, OAuthError> {
        let base = self.endpoints(s)?.userinfo.unwrap_or_default();
        let proof = hex::encode(hmac_sha256(
            s.client_secret.as_bytes(),
            tokens.access_token.as_bytes(),
        ));
        let url = with_query(&base, &[("appsecret_proof", &proof)]);
        Ok(Some(bearer_get(url, &tokens.access_token, &[])))
    }
    fn refresh_request(
        &self,
        s: &ProviderSettings,
        refresh_token: &str,
    ) -> Result<HttpRequest, OAuthError> {
        s.check()?;
        let ep = self.endpoints(s)?;
        let form = vec![
            ("grant_type", "fb_exchange_token"),
            ("fb_exchange_token", refresh_token),
        ];
        Ok(token_post(&ep.token, ClientAuth::Post, s, form))
    }
    fn parse_profile(
        &self,
        userinfo_body: Option<&str>,
        _tokens: &TokenSet,
        _extra: Option<&Value>,
    ) -> Result<Profile, OAuthError> {
        let u = json_object(userinfo(userinfo_body)?, "Facebook user")?;
        let verified = truthy(u.get("email_verified"));
        profile(
            id_text(u.get("id")),
            text(&u, "email"),
            verified,
            text(&u, "name"),
        )
    }
}
