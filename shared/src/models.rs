//! Stored documents (`*Doc`, JSON in an item's `data` attribute) and the wire models that
//! match the spec's schemas field for field. Timestamps are epoch milliseconds at rest and
//! ISO-8601 on the wire; absent strings are `""` on the wire, as Appwrite answers.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::iso;
use crate::ua::Device;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetDoc {
    pub id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub name: String,
    pub provider_id: Option<String>,
    pub provider_type: String,
    pub identifier: String,
    pub expired: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserDoc {
    pub id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// PHC string; `None` for passwordless accounts.
    pub password: Option<String>,
    pub hash: String,
    pub hash_options: Value,
    pub registration_ms: i64,
    pub status: bool,
    pub labels: Vec<String>,
    pub password_update_ms: Option<i64>,
    pub email_verification: bool,
    pub phone_verification: bool,
    pub mfa: bool,
    pub prefs: Map<String, Value>,
    pub targets: Vec<TargetDoc>,
    pub accessed_ms: i64,
    #[serde(default)]
    pub reset: bool,
    #[serde(default)]
    pub password_history: Vec<String>,
    /// The TOTP authenticator, its secret encrypted at rest.
    #[serde(default)]
    pub totp: Option<crate::mfa::TotpDoc>,
    /// Recovery codes, encrypted at rest (JSON list inside).
    #[serde(default)]
    pub recovery_codes: Option<String>,
    /// Optimistic-concurrency version (the item's `ver` attribute, not part of `data`).
    #[serde(skip)]
    pub version: i64,
}

impl UserDoc {
    /// A new, active, unverified user without email, phone or password; sign-up paths fill
    /// in what they have.
    pub fn new(id: String, now_ms: i64, hash_options: Value) -> Self {
        UserDoc {
            id,
            created_ms: now_ms,
            updated_ms: now_ms,
            name: String::new(),
            email: None,
            phone: None,
            password: None,
            hash: "argon2".into(),
            hash_options,
            registration_ms: now_ms,
            status: true,
            labels: vec![],
            password_update_ms: None,
            email_verification: false,
            phone_verification: false,
            mfa: false,
            prefs: Map::new(),
            targets: vec![],
            accessed_ms: now_ms,
            reset: false,
            password_history: vec![],
            totp: None,
            recovery_codes: None,
            version: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionDoc {
    pub id: String,
    pub user_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub expire_ms: i64,
    pub provider: String,
    pub provider_uid: String,
    pub provider_access_token: String,
    pub provider_access_token_expiry_ms: Option<i64>,
    pub provider_refresh_token: String,
    /// SHA-256 hex of the session secret; the secret itself is never stored.
    pub secret_hash: String,
    pub user_agent: String,
    pub ip: String,
    pub device: Device,
    pub country_code: String,
    pub factors: Vec<String>,
    pub mfa_updated_ms: Option<i64>,
}

/// Appwrite's token types (the numbers are Appwrite's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    Verification = 2,
    Recovery = 3,
    MagicUrl = 5,
    Phone = 6,
    OAuth2 = 7,
    Generic = 8,
    EmailOtp = 9,
    PhoneVerification = 10,
}

impl TokenKind {
    /// Short codes whose guesses are counted against the token.
    pub fn is_short_code(self) -> bool {
        matches!(
            self,
            TokenKind::EmailOtp
                | TokenKind::Phone
                | TokenKind::Generic
                | TokenKind::PhoneVerification
        )
    }
}

/// A stored token. Only the SHA-256 of its secret is kept; the item's sort key is built from
/// that digest, so a redemption finds its token without scanning.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenDoc {
    pub id: String,
    pub user_id: String,
    pub kind: TokenKind,
    pub created_ms: i64,
    pub expire_ms: i64,
    pub secret_hash: String,
    pub ip: String,
    pub user_agent: String,
    /// Wrong guesses counted against this token (a separate atomic attribute at rest).
    #[serde(default)]
    pub failures: i64,
}

fn opt_iso(ms: Option<i64>) -> String {
    ms.map(iso).unwrap_or_default()
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    pub name: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "providerId")]
    pub provider_id: Option<String>,
    #[serde(rename = "providerType")]
    pub provider_type: String,
    pub identifier: String,
    pub expired: bool,
}

/// The Account model: the spec's `user` schema without `password`, `hash`, `hashOptions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    pub name: String,
    pub registration: String,
    pub status: bool,
    pub labels: Vec<String>,
    pub password_update: String,
    pub email: String,
    pub phone: String,
    pub email_verification: bool,
    pub phone_verification: bool,
    pub mfa: bool,
    pub prefs: Map<String, Value>,
    pub targets: Vec<Target>,
    pub accessed_at: String,
}

impl From<&UserDoc> for Account {
    fn from(u: &UserDoc) -> Self {
        Account {
            id: u.id.clone(),
            created_at: iso(u.created_ms),
            updated_at: iso(u.updated_ms),
            name: u.name.clone(),
            registration: iso(u.registration_ms),
            status: u.status,
            labels: u.labels.clone(),
            password_update: opt_iso(u.password_update_ms),
            email: u.email.clone().unwrap_or_default(),
            phone: u.phone.clone().unwrap_or_default(),
            email_verification: u.email_verification,
            phone_verification: u.phone_verification,
            mfa: u.mfa,
            prefs: u.prefs.clone(),
            targets: u
                .targets
                .iter()
                .map(|t| Target {
                    id: t.id.clone(),
                    created_at: iso(t.created_ms),
                    updated_at: iso(t.updated_ms),
                    name: t.name.clone(),
                    user_id: u.id.clone(),
                    provider_id: t.provider_id.clone(),
                    provider_type: t.provider_type.clone(),
                    identifier: t.identifier.clone(),
                    expired: t.expired,
                })
                .collect(),
            accessed_at: iso(u.accessed_ms),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    pub user_id: String,
    pub expire: String,
    pub provider: String,
    pub provider_uid: String,
    pub provider_access_token: String,
    pub provider_access_token_expiry: String,
    pub provider_refresh_token: String,
    pub ip: String,
    pub os_code: String,
    pub os_name: String,
    pub os_version: String,
    pub client_type: String,
    pub client_code: String,
    pub client_name: String,
    pub client_version: String,
    pub client_engine: String,
    pub client_engine_version: String,
    pub device_name: String,
    pub device_brand: String,
    pub device_model: String,
    pub country_code: String,
    pub country_name: String,
    pub current: bool,
    pub factors: Vec<String>,
    pub secret: String,
    pub mfa_updated_at: String,
}

impl Session {
    /// The wire form; `secret` is the encoded credential for API-key callers at creation,
    /// `""` everywhere else.
    /// `key` opens the sealed provider tokens of OAuth2 sessions.
    pub fn from_doc(s: &SessionDoc, current: bool, secret: String, key: &[u8]) -> Self {
        let d = &s.device;
        let open = |which: &str, v: &str| {
            crate::identities::open(
                key,
                &crate::identities::session_context(&s.user_id, &s.id, which),
                v,
            )
        };
        Session {
            id: s.id.clone(),
            created_at: iso(s.created_ms),
            updated_at: iso(s.updated_ms),
            user_id: s.user_id.clone(),
            expire: iso(s.expire_ms),
            provider: s.provider.clone(),
            provider_uid: s.provider_uid.clone(),
            provider_access_token: open("access", &s.provider_access_token),
            provider_access_token_expiry: opt_iso(s.provider_access_token_expiry_ms),
            provider_refresh_token: open("refresh", &s.provider_refresh_token),
            ip: s.ip.clone(),
            os_code: d.os_code.clone(),
            os_name: d.os_name.clone(),
            os_version: d.os_version.clone(),
            client_type: d.client_type.clone(),
            client_code: d.client_code.clone(),
            client_name: d.client_name.clone(),
            client_version: d.client_version.clone(),
            client_engine: d.client_engine.clone(),
            client_engine_version: d.client_engine_version.clone(),
            device_name: d.device_name.clone(),
            device_brand: d.device_brand.clone(),
            device_model: d.device_model.clone(),
            country_code: s.country_code.clone(),
            country_name: country_name(&s.country_code),
            current,
            factors: s.factors.clone(),
            secret,
            mfa_updated_at: opt_iso(s.mfa_updated_ms),
        }
    }
}

/// Country name for a code; `--` (unknown) is "Unknown".
pub fn country_name(code: &str) -> String {
    crate::geo::country_name(code, "en")
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionList {
    pub total: u64,
    pub sessions: Vec<Session>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    pub user_id: String,
    pub secret: String,
    pub expire: String,
    pub phrase: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Jwt {
    pub jwt: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_fields(schema: &str) -> Vec<String> {
        let spec: Value = serde_json::from_str(include_str!("../spec/appwrite-account-1.8.x.json"))
            .unwrap_or_default();
        spec["components"]["schemas"][schema]["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    }

    fn user() -> UserDoc {
        let mut u = UserDoc::new("u".into(), 0, Value::Null);
        u.targets.push(TargetDoc {
            id: "t".into(),
            created_ms: 0,
            updated_ms: 0,
            name: String::new(),
            provider_id: None,
            provider_type: "email".into(),
            identifier: "a@b.c".into(),
            expired: false,
        });
        u
    }

    #[test]
    fn account_matches_user_schema_without_secrets() {
        let v = serde_json::to_value(Account::from(&user())).unwrap_or_default();
        let mut want: Vec<String> = spec_fields("user")
            .into_iter()
            .filter(|f| !["password", "hash", "hashOptions"].contains(&f.as_str()))
            .collect();
        want.sort();
        assert_eq!(keys(&v), want);
        let mut tf = spec_fields("target");
        tf.sort();
        assert_eq!(keys(&v["targets"][0]), tf);
        assert_eq!(v["email"], "");
        assert_eq!(v["passwordUpdate"], "");
    }

    #[test]
    fn session_and_token_match_their_schemas() {
        let doc = SessionDoc {
            id: "s".into(),
            user_id: "u".into(),
            created_ms: 0,
            updated_ms: 0,
            expire_ms: 0,
            provider: "email".into(),
            provider_uid: String::new(),
            provider_access_token: String::new(),
            provider_access_token_expiry_ms: None,
            provider_refresh_token: String::new(),
            secret_hash: "h".into(),
            user_agent: String::new(),
            ip: String::new(),
            device: Device::default(),
            country_code: "--".into(),
            factors: vec![],
            mfa_updated_ms: None,
        };
        let v = serde_json::to_value(Session::from_doc(&doc, true, String::new(), &[0u8; 32]))
            .unwrap_or_default();
        let mut want = spec_fields("session");
        want.sort();
        assert_eq!(keys(&v), want);
        assert_eq!(v["countryName"], "Unknown");
        let t = Token {
            id: String::new(),
            created_at: String::new(),
            user_id: String::new(),
            secret: String::new(),
            expire: String::new(),
            phrase: String::new(),
        };
        let mut want = spec_fields("token");
        want.sort();
        assert_eq!(keys(&serde_json::to_value(t).unwrap_or_default()), want);
    }
}
