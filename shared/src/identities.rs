//! OAuth2 identities: the stored document, its wire model, and the provider tokens sealed
//! at rest (AES-256-GCM under the data key, bound to the record they belong to). The owner
//! reads the tokens back through the Identity and Session models, as the contract exposes
//! them; nothing else does.

use serde::{Deserialize, Serialize};

use crate::clock::iso;
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdentityDoc {
    pub id: String,
    pub user_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub provider: String,
    pub provider_uid: String,
    pub provider_email: String,
    /// Sealed; "" when none.
    pub access_token: String,
    /// Sealed; "" when none.
    pub refresh_token: String,
    pub access_token_expiry_ms: Option<i64>,
}

/// The Identity model (spec schema `identity`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    pub user_id: String,
    pub provider: String,
    pub provider_uid: String,
    pub provider_email: String,
    pub provider_access_token: String,
    pub provider_access_token_expiry: String,
    pub provider_refresh_token: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityList {
    pub total: usize,
    pub identities: Vec<Identity>,
}

/// Attributes `GET /account/identities` filters and orders on.
pub const QUERY_ATTRIBUTES: &[&str] = &[
    "userId",
    "provider",
    "providerUid",
    "providerEmail",
    "providerAccessTokenExpiry",
    "$id",
    "$createdAt",
    "$updatedAt",
    "$sequence",
];

impl IdentityDoc {
    fn context(&self, which: &str) -> String {
        format!("identity:{}:{}:{which}", self.user_id, self.id)
    }

    /// Stores the provider's tokens (sealed) and the access token's expiry.
    pub fn set_tokens(
        &mut self,
        key: &[u8],
        access: &str,
        refresh: Option<&str>,
        expiry_ms: Option<i64>,
    ) -> AppResult<()> {
        self.access_token = seal(key, &self.context("access"), access)?;
        self.refresh_token = seal(key, &self.context("refresh"), refresh.unwrap_or(""))?;
        self.access_token_expiry_ms = expiry_ms;
        Ok(())
    }

    pub fn refresh_token(&self, key: &[u8]) -> String {
        open(key, &self.context("refresh"), &self.refresh_token)
    }

    pub fn to_model(&self, key: &[u8]) -> Identity {
        Identity {
            id: self.id.clone(),
            created_at: iso(self.created_ms),
            updated_at: iso(self.updated_ms),
            user_id: self.user_id.clone(),
            provider: self.provider.clone(),
            provider_uid: self.provider_uid.clone(),
            provider_email: self.provider_email.clone(),
            provider_access_token: open(key, &self.context("access"), &self.access_token),
            provider_access_token_expiry: self.access_token_expiry_ms.map(iso).unwrap_or_default(),
            provider_refresh_token: self.refresh_token(key),
        }
    }
}

/// Seals a provider token for the record named by `context`; "" stays "".
pub fn seal(key: &[u8], context: &str, plain: &str) -> AppResult<String> {
    if plain.is_empty() {
        return Ok(String::new());
    }
    crate::mfa::encrypt(key, context, plain.as_bytes())
}

/// Opens a sealed token; "" (or a value that does not open under this key) reads as "".
pub fn open(key: &[u8], context: &str, sealed: &str) -> String {
    if sealed.is_empty() {
        return String::new();
    }
    crate::mfa::decrypt(key, context, sealed)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// Context for a session's provider tokens.
pub fn session_context(user_id: &str, session_id: &str, which: &str) -> String {
    format!("session:{user_id}:{session_id}:{which}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_sealed_and_bound_to_their_identity() {
        let key = [7u8; 32];
        let mut a = IdentityDoc {
            id: "i1".into(),
            user_id: "u1".into(),
            created_ms: 0,
            updated_ms: 0,
            provider: "oidc".into(),
            provider_uid: "sub".into(),
            provider_email: "a@b.test".into(),
            access_token: String::new(),
            refresh_token: String::new(),
            access_token_expiry_ms: None,
        };
        let ok = a.set_tokens(&key, "at-secret", Some("rt-secret"), Some(1000));
        assert!(ok.is_ok());
        assert!(!a.access_token.contains("at-secret"));
        let m = a.to_model(&key);
        assert_eq!(
            (
                m.provider_access_token.as_str(),
                m.provider_refresh_token.as_str()
            ),
            ("at-secret", "rt-secret")
        );
        // Moved onto another record, the ciphertext no longer opens.
        let mut b = a.clone();
        b.id = "i2".into();
        assert_eq!(b.to_model(&key).provider_access_token, "");
    }
}
