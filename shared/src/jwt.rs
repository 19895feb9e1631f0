//! JWTs for `X-Appwrite-JWT`: HS256 only, payload `{userId, sessionId, exp}` as Appwrite
//! issues it. The signing key is derived per project from the server key, so a token of one
//! project never verifies in another while the payload stays Appwrite's.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult, ErrorType};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "sessionId")]
    pub session_id: String,
    pub exp: i64,
}

fn project_key(server_key: &[u8], project: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"appwrite-account/jwt/v1\0");
    h.update((server_key.len() as u64).to_be_bytes());
    h.update(server_key);
    h.update(project.as_bytes());
    h.finalize().to_vec()
}

pub fn issue(server_key: &[u8], project: &str, claims: &Claims) -> AppResult<String> {
    let key =
        EncodingKey::from_secret(&project_key(server_key, project)).map_err(AppError::internal)?;
    encode(&Header::new(Algorithm::HS256), claims, &key).map_err(AppError::internal)
}

fn invalid(reason: &str) -> AppError {
    AppError::new(
        ErrorType::UserJwtInvalid,
        format!("Failed to verify JWT. Invalid token: {reason}"),
    )
}

/// Verifies signature (HS256 only) and expiry against the injected clock (`now_s >= exp` is
/// expired, no leeway).
pub fn verify(server_key: &[u8], project: &str, token: &str, now_s: i64) -> AppResult<Claims> {
    if token.split('.').count() != 3 {
        return Err(invalid("Incomplete segments"));
    }
    let key =
        DecodingKey::from_secret(&project_key(server_key, project)).map_err(AppError::internal)?;
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.leeway = 0;
    v.required_spec_claims.clear();
    let data = decode::<Claims>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature => invalid("Signature failed"),
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                invalid("Algorithm not allowed")
            }
            _ => invalid("Malformed token"),
        }
    })?;
    if now_s >= data.claims.exp {
        return Err(invalid("Expired"));
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn claims(exp: i64) -> Claims {
        Claims {
            user_id: "u1".into(),
            session_id: "s1".into(),
            exp,
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let t = issue(b"k", "p", &claims(100)).unwrap_or_default();
        assert_eq!(verify(b"k", "p", &t, 99).ok(), Some(claims(100)));
        let e = verify(b"k", "p", &t, 100).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("Failed to verify JWT. Invalid token: Expired")
        );
    }

    #[test]
    fn header_and_payload_are_appwrites() {
        let t = issue(b"k", "p", &claims(100)).unwrap_or_default();
        let parts: Vec<&str> = t.split('.').collect();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(header, serde_json::json!({"typ": "JWT", "alg": "HS256"}));
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(
            payload,
            serde_json::json!({"userId": "u1", "sessionId": "s1", "exp": 100})
        );
    }

    #[test]
    fn forgeries_are_refused() {
        let t = issue(b"k", "p", &claims(100)).unwrap_or_default();
        let parts: Vec<&str> = t.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"none"}"#);
        let hs512 = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS512"}"#);
        let edited = URL_SAFE_NO_PAD.encode(br#"{"userId":"admin","sessionId":"s1","exp":100}"#);
        let forged = [
            format!("{none_header}.{}.", parts[1]),
            format!("{hs512}.{}.{}", parts[1], parts[2]),
            format!("{}.{edited}.{}", parts[0], parts[2]),
            "abc".to_string(),
            String::new(),
        ];
        for f in forged {
            let e = verify(b"k", "p", &f, 1).err().map(|e| e.kind);
            assert_eq!(e, Some(ErrorType::UserJwtInvalid), "{f}");
        }
        assert!(verify(b"k", "other-project", &t, 1).is_err());
        assert!(verify(b"other-key", "p", &t, 1).is_err());
    }
}
