//! Projects and API keys: the per-project settings item (auth methods, session duration and
//! limit, password policy, platforms, mail sender, Argon2 cost) and hashed API keys with
//! scopes. Both are read through a short per-container cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::crypto::{Argon2Cost, random_hex, sha256_hex};
use crate::error::{AppError, AppResult};
use crate::store::{Cond, DynTable, Item, Val, keys};

fn yes() -> bool {
    true
}
fn default_duration() -> i64 {
    31_536_000
}
fn default_max_sessions() -> u32 {
    10
}
fn default_retention() -> i64 {
    365
}

/// Appwrite's `auths` object with its defaults for new projects.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Auths {
    #[serde(default = "yes")]
    pub email_password: bool,
    #[serde(default = "yes")]
    pub anonymous: bool,
    #[serde(default = "yes")]
    pub magic_url: bool,
    #[serde(default = "yes")]
    pub email_otp: bool,
    #[serde(default = "yes")]
    pub phone: bool,
    #[serde(default = "yes")]
    pub jwt: bool,
    /// Maximum number of users; 0 = unlimited.
    #[serde(default)]
    pub limit: u64,
    /// Session length in seconds.
    #[serde(default = "default_duration")]
    pub duration: i64,
    #[serde(default = "default_max_sessions")]
    pub max_sessions: u32,
    #[serde(default)]
    pub password_history: u32,
    #[serde(default)]
    pub password_dictionary: bool,
    #[serde(default)]
    pub personal_data_check: bool,
    #[serde(default)]
    pub session_alerts: bool,
    #[serde(default = "yes")]
    pub invalidate_sessions: bool,
    /// Enumeration-safe mode (off by default, as Appwrite behaves): recovery answers 201 for
    /// unknown emails, sign-up with a taken email answers 201 without creating anything, and
    /// token endpoints answer with the requested user id instead of the owner's.
    #[serde(default)]
    pub enumeration_protection: bool,
    /// Test numbers answered with a fixed code and no SMS (at most 10).
    #[serde(default)]
    pub mock_numbers: Vec<MockNumber>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MockNumber {
    pub phone: String,
    pub otp: String,
}

impl Default for Auths {
    fn default() -> Self {
        serde_json::from_str("{}").unwrap_or_else(|_| unreachable_default())
    }
}

fn unreachable_default() -> Auths {
    Auths {
        email_password: true,
        anonymous: true,
        magic_url: true,
        email_otp: true,
        phone: true,
        jwt: true,
        limit: 0,
        duration: default_duration(),
        max_sessions: default_max_sessions(),
        password_history: 0,
        password_dictionary: false,
        personal_data_check: false,
        session_alerts: false,
        invalidate_sessions: true,
        enumeration_protection: false,
        mock_numbers: vec![],
    }
}

/// A registered client platform (used for CORS, Origin and redirect checks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Platform {
    /// `web`, `flutter-web`, `flutter-ios`, `apple-ios`, `android`, `scheme`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// Web hostname (`example.com`, `*.example.com`) or native bundle/package id or scheme.
    pub hostname: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct MailSender {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub reply_to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SmsSettings {
    /// Alphanumeric sender id where the destination country supports it.
    #[serde(default)]
    pub sender_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub auths: Auths,
    #[serde(default)]
    pub platforms: Vec<Platform>,
    #[serde(default)]
    pub mail: Option<MailSender>,
    /// SMS delivery for this project; `None` answers 503 `general_phone_disabled`.
    #[serde(default)]
    pub sms: Option<SmsSettings>,
    /// Per-kind, per-locale message overrides, keyed `<kind>-<locale>` (e.g. `email_otp-de`).
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, crate::messaging::templates::Override>,
    #[serde(default)]
    pub argon2: Option<Argon2Cost>,
    /// Days security-log entries are kept (0 keeps none).
    #[serde(default = "default_retention")]
    pub log_retention_days: i64,
    /// `services.account`: false turns the account API off for non-key callers.
    #[serde(default = "yes")]
    pub account_service: bool,
    /// OAuth2 providers by name (`oidc`, `github`, ...), client secrets sealed.
    #[serde(default)]
    pub oauth2: std::collections::BTreeMap<String, StoredProvider>,
}

/// A provider's settings at rest: the client secret is sealed with the server's data key
/// (bound to project and provider), so a table dump does not reveal it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StoredProvider {
    pub enabled: bool,
    pub client_id: String,
    pub sealed_secret: String,
    pub options: serde_json::Map<String, serde_json::Value>,
}

fn provider_context(project: &str, name: &str) -> String {
    format!("oauth2:{project}:{name}")
}

impl Project {
    pub fn new(id: &str, name: &str) -> Self {
        Project {
            id: id.to_string(),
            name: name.to_string(),
            auths: Auths::default(),
            platforms: vec![],
            mail: None,
            sms: None,
            templates: Default::default(),
            argon2: None,
            log_retention_days: default_retention(),
            account_service: true,
            oauth2: Default::default(),
        }
    }

    /// The settings of provider `name` with the client secret opened; None when the
    /// project has none.
    pub fn provider_settings(
        &self,
        data_key: &[u8],
        name: &str,
    ) -> AppResult<Option<crate::oauth2::ProviderSettings>> {
        let Some(p) = self.oauth2.get(name) else {
            return Ok(None);
        };
        let secret = if p.sealed_secret.is_empty() {
            String::new()
        } else {
            let raw = crate::mfa::decrypt(
                data_key,
                &provider_context(&self.id, name),
                &p.sealed_secret,
            )?;
            String::from_utf8(raw).map_err(AppError::internal)?
        };
        Ok(Some(crate::oauth2::ProviderSettings {
            enabled: p.enabled,
            client_id: p.client_id.clone(),
            client_secret: secret,
            options: p.options.clone(),
        }))
    }

    /// Stores provider `name`, sealing its client secret.
    pub fn set_provider(
        &mut self,
        data_key: &[u8],
        name: &str,
        s: &crate::oauth2::ProviderSettings,
    ) -> AppResult<()> {
        let sealed_secret = if s.client_secret.is_empty() {
            String::new()
        } else {
            crate::mfa::encrypt(
                data_key,
                &provider_context(&self.id, name),
                s.client_secret.as_bytes(),
            )?
        };
        self.oauth2.insert(
            name.to_string(),
            StoredProvider {
                enabled: s.enabled,
                client_id: s.client_id.clone(),
                sealed_secret,
                options: s.options.clone(),
            },
        );
        Ok(())
    }

    pub fn argon2_cost(&self) -> Argon2Cost {
        self.argon2.unwrap_or_default()
    }

    pub fn to_item(&self) -> Item {
        Item::new(keys::project(&self.id)).with(
            "data",
            Val::S(serde_json::to_string(self).unwrap_or_default()),
        )
    }

    pub fn from_item(item: &Item) -> AppResult<Self> {
        serde_json::from_str(item.s("data").unwrap_or("")).map_err(AppError::internal)
    }
}

/// A stored API key. The key string itself is never stored: its SHA-256 is the item's key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub project_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// Expiry in epoch ms; `None` never expires.
    pub expire_ms: Option<i64>,
}

impl ApiKey {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Generates a key (`standard_<256 hex>`), stores its hash and returns the key once.
pub async fn create_api_key(table: &DynTable, key: &ApiKey) -> AppResult<String> {
    let secret = format!("standard_{}", random_hex(128)?);
    let item = Item::new(keys::api_key(&sha256_hex(&secret))).with(
        "data",
        Val::S(serde_json::to_string(key).map_err(AppError::internal)?),
    );
    table.put(item, Some(Cond::NotExists)).await?;
    Ok(secret)
}

pub async fn lookup_api_key(table: &DynTable, secret: &str) -> AppResult<Option<ApiKey>> {
    match table.get(&keys::api_key(&sha256_hex(secret))).await? {
        Some(item) => Ok(Some(
            serde_json::from_str(item.s("data").unwrap_or("")).map_err(AppError::internal)?,
        )),
        None => Ok(None),
    }
}

pub async fn load_project(table: &DynTable, id: &str) -> AppResult<Option<Project>> {
    match table.get(&keys::project(id)).await? {
        Some(item) => Ok(Some(Project::from_item(&item)?)),
        None => Ok(None),
    }
}

pub async fn save_project(table: &DynTable, p: &Project) -> AppResult<()> {
    table.put(p.to_item(), None).await?;
    Ok(())
}

/// Per-container project cache (entries live `ttl_ms`; 0 disables caching).
pub struct ProjectCache {
    ttl_ms: i64,
    entries: Mutex<HashMap<String, (i64, Arc<Project>)>>,
}

impl ProjectCache {
    pub fn new(ttl_ms: i64) -> Self {
        Self {
            ttl_ms,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(
        &self,
        table: &DynTable,
        clock: &dyn Clock,
        id: &str,
    ) -> AppResult<Option<Arc<Project>>> {
        let now = clock.now_ms();
        if self.ttl_ms > 0 {
            if let Ok(map) = self.entries.lock() {
                if let Some((at, p)) = map.get(id) {
                    if now - at < self.ttl_ms {
                        return Ok(Some(p.clone()));
                    }
                }
            }
        }
        let p = load_project(table, id).await?.map(Arc::new);
        if let (Some(p), true) = (&p, self.ttl_ms > 0) {
            if let Ok(mut map) = self.entries.lock() {
                if map.len() > 1000 {
                    map.clear();
                }
                map.insert(id.to_string(), (now, p.clone()));
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_appwrites() {
        let a = Auths::default();
        assert!(a.email_password && a.anonymous && a.jwt && a.invalidate_sessions);
        assert_eq!(a.duration, 31_536_000);
        assert_eq!(a.max_sessions, 10);
        assert_eq!(a.limit, 0);
        assert_eq!(a, unreachable_default());
    }

    #[test]
    fn project_round_trips_through_an_item() {
        let mut p = Project::new("p1", "Demo");
        p.auths.max_sessions = 3;
        let back = Project::from_item(&p.to_item()).ok();
        assert_eq!(back, Some(p));
    }
}
