//! Multi-factor authentication: TOTP (RFC 6238, SHA-1, 6 digits, 30 s), recovery codes,
//! challenges, the factor gate, and encryption at rest of the secrets the API must be able to
//! read back (TOTP secrets, recovery codes).
//!
//! Safer than Appwrite on the same wire: a TOTP code is accepted once (the last accepted
//! step is stored; a replay in the same step fails) within a ±1 step drift window; challenges
//! expire after an hour and die after 5 wrong codes; recovery codes are single-use under
//! concurrency (versioned user write) and encrypted with AES-256-GCM under `DATA_KEY`.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::crypto::{random_bytes, random_hex};
use crate::error::{AppError, AppResult, ErrorType};
use crate::models::{SessionDoc, UserDoc};

/// Routes a session may call while it still lacks factors.
pub const GATE_ALLOW: &[(&str, &str)] = &[
    ("DELETE", "/v1/account/sessions/{sessionId}"),
    ("POST", "/v1/account/mfa/challenges"),
    ("PUT", "/v1/account/mfa/challenges"),
    ("POST", "/v1/account/mfa/challenge"),
    ("PUT", "/v1/account/mfa/challenge"),
    ("GET", "/v1/account/mfa/factors"),
];

/// How long a completed challenge counts as recent (sensitive MFA changes need one).
pub const RECENT_MS: i64 = 30 * 60 * 1000;
pub const CHALLENGE_TTL_MS: i64 = 3600 * 1000;
pub const MAX_CHALLENGE_FAILURES: i64 = 5;

/// A TOTP authenticator as stored on the user: the secret is encrypted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TotpDoc {
    pub secret_enc: String,
    pub verified: bool,
    /// Last 30-second step accepted (replay protection).
    #[serde(default)]
    pub last_step: i64,
}

/// A pending challenge (stored in the user's partition under `AUTH#CHALLENGE#<id>`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChallengeDoc {
    pub id: String,
    pub user_id: String,
    /// Canonical factor: `totp`, `email`, `phone`, `recoveryCode`.
    pub factor: String,
    /// SHA-256 of the emailed/texted code; empty for `totp`/`recoveryCode`.
    pub code_hash: String,
    pub created_ms: i64,
    pub expire_ms: i64,
    #[serde(default)]
    pub failures: i64,
}

/// Maps a factor name case-insensitively to its canonical spelling (`recoverycode` and
/// `recoveryCode` both work).
pub fn canonical_factor(raw: &str) -> Option<&'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "totp" => Some("totp"),
        "email" => Some("email"),
        "phone" => Some("phone"),
        "recoverycode" => Some("recoveryCode"),
        _ => None,
    }
}

/// Factors the user has proven possession of (counted by the gate).
pub fn verified_factors(user: &UserDoc) -> Vec<&'static str> {
    let mut f = vec![];
    if user.totp.as_ref().is_some_and(|t| t.verified) {
        f.push("totp");
    }
    if user.email.is_some() && user.email_verification {
        f.push("email");
    }
    if user.phone.is_some() && user.phone_verification {
        f.push("phone");
    }
    f
}

/// Factors a session needs: 2 when MFA is on and the user has a second factor, else 1.
pub fn minimum_factors(user: &UserDoc) -> usize {
    if user.mfa && !verified_factors(user).is_empty() {
        2
    } else {
        1
    }
}

/// Whether `session` holds the factors `user` needs (it has passed the MFA gate).
pub fn passed_gate(user: &UserDoc, session: &SessionDoc) -> bool {
    session.factors.len() >= minimum_factors(user)
}

/// 401 `user_more_factors_required` when `session` lacks factors for this route.
pub fn gate(user: &UserDoc, session: &SessionDoc, method: &str, pattern: &str) -> AppResult<()> {
    if GATE_ALLOW
        .iter()
        .any(|(m, p)| *m == method && *p == pattern)
    {
        return Ok(());
    }
    if !passed_gate(user, session) {
        return Err(AppError::new(
            ErrorType::UserMoreFactorsRequired,
            "More factors are required to complete the sign in process.",
        ));
    }
    Ok(())
}

/// 401 `user_challenge_required` unless the session completed a challenge in the last 30 min.
pub fn require_recent(session: Option<&SessionDoc>, now_ms: i64) -> AppResult<()> {
    match session.and_then(|s| s.mfa_updated_ms) {
        Some(t) if t + RECENT_MS >= now_ms => Ok(()),
        _ => Err(AppError::new(
            ErrorType::UserChallengeRequired,
            "A recently succeeded challenge is required to complete this action.",
        )),
    }
}

// ---- encryption at rest ----

fn cipher(key: &[u8]) -> AppResult<LessSafeKey> {
    let k = UnboundKey::new(&AES_256_GCM, key)
        .map_err(|_| AppError::internal("data key must be 32 bytes"))?;
    Ok(LessSafeKey::new(k))
}

/// AES-256-GCM with a random nonce; `context` is bound as associated data (e.g. the user
/// id) so a ciphertext cannot be moved to another record. Output: base64(nonce ‖ ct ‖ tag).
pub fn encrypt(key: &[u8], context: &str, plain: &[u8]) -> AppResult<String> {
    let nonce_bytes = random_bytes::<NONCE_LEN>()?;
    let mut buf = plain.to_vec();
    cipher(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(context.as_bytes()),
            &mut buf,
        )
        .map_err(|_| AppError::internal("encryption failed"))?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&buf);
    Ok(STANDARD.encode(out))
}

pub fn decrypt(key: &[u8], context: &str, sealed: &str) -> AppResult<Vec<u8>> {
    let raw = STANDARD
        .decode(sealed)
        .map_err(|_| AppError::internal("sealed value is not base64"))?;
    if raw.len() < NONCE_LEN + 16 {
        return Err(AppError::internal("sealed value too short"));
    }
    let (nonce, ct) = raw.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| AppError::internal("bad nonce"))?;
    let mut buf = ct.to_vec();
    let plain = cipher(key)?
        .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
        .map_err(|_| AppError::internal("decryption failed"))?;
    Ok(plain.to_vec())
}

// ---- TOTP ----

/// RFC 4648 base32, upper-case, without padding.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes unpadded RFC 4648 base32 (upper or lower case).
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.trim_end_matches('=').chars() {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// A new TOTP secret: 64 random bytes.
pub fn new_totp_secret() -> AppResult<Vec<u8>> {
    Ok(random_bytes::<64>()?.to_vec())
}

fn totp(secret: &[u8]) -> totp_rs::TOTP {
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.to_vec())
}

/// The 6-digit code of `secret` for the 30-second step containing `at_s`.
pub fn code_at(secret: &[u8], at_s: i64) -> String {
    totp(secret).generate(at_s.max(0) as u64)
}

/// Checks `otp` against the steps now-1, now and now+1 that are newer than `last_step`;
/// returns the matched step (to store as the new `last_step`).
pub fn verify_totp(secret: &[u8], otp: &str, now_s: i64, last_step: i64) -> Option<i64> {
    let step = now_s.div_euclid(30);
    (step - 1..=step + 1)
        .filter(|s| *s > last_step)
        .find(|s| crate::crypto::ct_eq(&code_at(secret, s * 30), otp.trim()))
}

fn percent(s: &str, space: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push_str(space),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `otpauth://totp/<issuer:label>?issuer=<issuer>&secret=<secret>` as Appwrite builds it.
pub fn otpauth_uri(issuer: &str, label: &str, secret_b32: &str) -> String {
    format!(
        "otpauth://totp/{}?issuer={}&secret={}",
        percent(&format!("{issuer}:{label}"), "%20"),
        percent(issuer, "%20"),
        secret_b32
    )
}

// ---- recovery codes ----

/// Six codes of 10 lower-case hex characters.
pub fn new_recovery_codes() -> AppResult<Vec<String>> {
    (0..6).map(|_| random_hex(5)).collect()
}

pub fn seal_codes(key: &[u8], user_id: &str, codes: &[String]) -> AppResult<String> {
    let json = serde_json::to_vec(codes).map_err(AppError::internal)?;
    encrypt(key, &format!("recovery-codes:{user_id}"), &json)
}

pub fn open_codes(key: &[u8], user_id: &str, sealed: &str) -> AppResult<Vec<String>> {
    let plain = decrypt(key, &format!("recovery-codes:{user_id}"), sealed)?;
    serde_json::from_slice(&plain).map_err(AppError::internal)
}

pub fn seal_totp(key: &[u8], user_id: &str, secret: &[u8]) -> AppResult<String> {
    encrypt(key, &format!("totp:{user_id}"), secret)
}

pub fn open_totp(key: &[u8], user_id: &str, sealed: &str) -> AppResult<Vec<u8>> {
    decrypt(key, &format!("totp:{user_id}"), sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(&[0u8; 64]).len(), 103);
        let bytes: Vec<u8> = (0..64).collect();
        assert_eq!(from_base32(&base32(&bytes)), Some(bytes));
        assert_eq!(from_base32("not base32!"), None);
    }

    #[test]
    fn totp_matches_rfc6238_vectors() {
        // RFC 6238 appendix B, SHA-1 seed, 8 digits there; the last 6 digits here.
        let seed = b"12345678901234567890";
        assert_eq!(code_at(seed, 59), "287082");
        assert_eq!(code_at(seed, 1_111_111_109), "081804");
        assert_eq!(code_at(seed, 2_000_000_000), "279037");
    }

    #[test]
    fn totp_codes_are_single_use_within_the_drift_window() {
        let seed = b"12345678901234567890";
        let now = 1_111_111_109;
        let code = code_at(seed, now);
        let step = verify_totp(seed, &code, now, 0);
        assert_eq!(step, Some(now / 30));
        assert_eq!(
            verify_totp(seed, &code, now, now / 30),
            None,
            "replay in the same step"
        );
        assert!(
            verify_totp(seed, &code_at(seed, now - 30), now, 0).is_some(),
            "one step of drift"
        );
        assert!(verify_totp(seed, &code_at(seed, now - 90), now, 0).is_none());
    }

    #[test]
    fn sealed_values_round_trip_and_are_bound_to_their_record() {
        let key = [7u8; 32];
        let sealed = seal_totp(&key, "u1", b"secret").unwrap_or_default();
        assert_eq!(
            open_totp(&key, "u1", &sealed).ok(),
            Some(b"secret".to_vec())
        );
        assert!(open_totp(&key, "u2", &sealed).is_err());
        assert!(open_totp(&[8u8; 32], "u1", &sealed).is_err());
        let codes = new_recovery_codes().unwrap_or_default();
        assert_eq!(codes.len(), 6);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 10 && c.chars().all(|ch| ch.is_ascii_hexdigit()))
        );
        let sealed = seal_codes(&key, "u1", &codes).unwrap_or_default();
        assert!(!sealed.contains(&codes[0]));
        assert_eq!(open_codes(&key, "u1", &sealed).ok(), Some(codes));
    }

    #[test]
    fn uri_is_appwrites() {
        let u = otpauth_uri("My App", "a@b.c", "ABC");
        assert_eq!(
            u,
            "otpauth://totp/My%20App%3Aa%40b.c?issuer=My%20App&secret=ABC"
        );
    }

    #[test]
    fn factor_names_are_normalised() {
        assert_eq!(canonical_factor("recoverycode"), Some("recoveryCode"));
        assert_eq!(canonical_factor("RecoveryCode"), Some("recoveryCode"));
        assert_eq!(canonical_factor("TOTP"), Some("totp"));
        assert_eq!(canonical_factor("sms"), None);
    }
}
