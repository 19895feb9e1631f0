//! Secrets: CSPRNG output, SHA-256 digests (the only form in which session and token secrets
//! are stored), Argon2id password hashing off the async executor, and the encoded session
//! credential of the wire contract.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// Random bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppError::internal(format!("rng: {e}")))?;
    Ok(b)
}

/// `n` random bytes as lowercase hex (2n characters).
pub fn random_hex(n: usize) -> AppResult<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| AppError::internal(format!("rng: {e}")))?;
    Ok(hex::encode(b))
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Constant-time comparison of two digests.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A new session secret: 256 lowercase hex characters (128 CSPRNG bytes).
pub fn new_session_secret() -> AppResult<String> {
    random_hex(128)
}

#[derive(Serialize, Deserialize)]
struct Credential<'a> {
    id: &'a str,
    secret: &'a str,
}

/// `base64({"id":"<userId>","secret":"<secret>"})`: the cookie value, the
/// `X-Appwrite-Session` value and the `secret` returned to API-key callers.
pub fn encode_credential(user_id: &str, secret: &str) -> String {
    let json = serde_json::to_string(&Credential {
        id: user_id,
        secret,
    })
    .unwrap_or_default();
    STANDARD.encode(json)
}

/// Decodes a credential; anything malformed is "no credential", never an error.
pub fn decode_credential(value: &str) -> Option<(String, String)> {
    let raw = STANDARD.decode(value.trim()).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    let id = v.get("id")?.as_str()?.to_string();
    let secret = v.get("secret")?.as_str()?.to_string();
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// Argon2id cost parameters for new password hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Argon2Cost {
    /// Memory in KiB.
    pub memory: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Cost {
    /// OWASP's recommendation for Argon2id: m=19456 KiB, t=2, p=1.
    fn default() -> Self {
        Self {
            memory: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Cost {
    fn hasher(&self) -> AppResult<Argon2<'static>> {
        let params = Params::new(self.memory, self.iterations, self.parallelism, None)
            .map_err(|e| AppError::internal(format!("argon2 params: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Stored next to the hash, as Appwrite's `hashOptions`.
    pub fn hash_options(&self) -> serde_json::Value {
        serde_json::json!({"type": "argon2", "memory_cost": self.memory,
            "time_cost": self.iterations, "threads": self.parallelism})
    }
}

/// Hashes a password to a PHC string, on the blocking pool.
pub async fn hash_password(password: String, cost: Argon2Cost) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let h = cost.hasher()?;
        h.hash_password(password.as_bytes())
            .map(|p| p.to_string())
            .map_err(|e| AppError::internal(format!("argon2 hash: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// Verifies a password against a PHC string (any Argon2 variant and parameters). `None`
/// runs a verification against a fixed hash of the default cost, so an unknown email costs
/// the same time as a wrong password.
pub async fn verify_password(password: String, phc: Option<String>) -> bool {
    let res = tokio::task::spawn_blocking(move || {
        let target = phc.as_deref().unwrap_or_else(|| dummy_hash());
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), target)
            .is_ok();
        ok && phc.is_some()
    })
    .await;
    res.unwrap_or(false)
}

/// An Argon2id hash (default cost) of a random string nobody knows, made once per process.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret = random_hex(16).unwrap_or_else(|_| "unguessable-fallback".into());
        Argon2Cost::default()
            .hasher()
            .ok()
            .and_then(|h| h.hash_password(secret.as_bytes()).ok())
            .map(|p| p.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_round_trips_and_matches_the_wire_form() {
        let enc = encode_credential("u1", "abc");
        assert_eq!(
            STANDARD.decode(&enc).unwrap_or_default(),
            br#"{"id":"u1","secret":"abc"}"#
        );
        assert_eq!(decode_credential(&enc), Some(("u1".into(), "abc".into())));
    }

    #[test]
    fn malformed_credentials_are_none() {
        for bad in [
            "",
            "%%%",
            "e30=",
            "bnVsbA==",
            &STANDARD.encode(r#"{"id":1,"secret":"x"}"#),
        ] {
            assert_eq!(decode_credential(bad), None, "{bad}");
        }
    }

    #[test]
    fn session_secret_is_256_lower_hex() {
        let s = new_session_secret().unwrap_or_default();
        assert_eq!(s.len(), 256);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn sha256_is_hex_of_digest() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_carry_their_parameters() {
        let cost = Argon2Cost {
            memory: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let h = hash_password("correct horse".into(), cost)
            .await
            .unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(verify_password("correct horse".into(), Some(h.clone())).await);
        assert!(!verify_password("wrong horse".into(), Some(h)).await);
        assert!(!verify_password("anything".into(), None).await);
    }

    #[test]
    fn dummy_hash_is_a_default_cost_phc_string() {
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }
}
