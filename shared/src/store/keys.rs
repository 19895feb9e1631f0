//! Every key string of the single table is built here, nowhere else.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | project settings | `PROJECT#<projectId>` | `PROJECT` | JSON in `data` |
//! | API key | `APIKEY#<sha256(key)>` | `APIKEY` | project, scopes, expiry; the key itself is never stored |
//! | user | `P#<projectId>#U#<userId>` | `AUTH#USER` | JSON in `data` |
//! | session | `P#<projectId>#U#<userId>` | `AUTH#SESSION#<sessionId>` | `expires_at` = session expiry |
//! | token | `P#<projectId>#U#<userId>` | `AUTH#TOKEN#<sha256(secret)>` | `expires_at`; `failures` counter |
//! | MFA challenge | `P#<projectId>#U#<userId>` | `AUTH#CHALLENGE#<challengeId>` | `expires_at`; `failures` counter |
//! | OAuth2 identity | `P#<projectId>#U#<userId>` | `AUTH#IDENTITY#<identityId>` | JSON in `data`; provider tokens sealed |
//! | identity guard | `P#<projectId>#IDENTITY#<sha256(provider NUL providerUid)>` | `GUARD` | `userId`, `identityId`; written with the identity |
//! | identity email index | `P#<projectId>#IDEMAIL#<providerEmail>` | `<identityId>` | `userId`; written with the identity |
//! | email guard | `P#<projectId>#EMAIL#<email>` | `GUARD` | `userId`; written in the user's transaction |
//! | phone guard | `P#<projectId>#PHONE#<phone>` | `GUARD` | same |
//! | push-target guard | `P#<projectId>#TARGET#<identifier>` | `GUARD` | `userId` |
//! | token alias (enumeration-safe mode) | `P#<projectId>#ALIAS#<shown userId>` | `ALIAS` | `userId`, `expires_at` |
//! | user counter | `P#<projectId>#USERCOUNT` | `COUNT` | `n` = users created (for `auths.limit`) |
//! | rate-limit counter | `P#<projectId>#RL#<expanded key>#<window>` | `RL` | `n`, `expires_at` = window end |
//! | security log | `P#<projectId>#U#<userId>#LOG` | `LOG#<9999999999999 - ms, 13 digits>#<logId>` | JSON in `data`; `expires_at` = time + retention; a forward query is newest first |
//!
//! Access patterns:
//! - authenticate a request: one query of the user partition with prefix `AUTH#` (user,
//!   sessions and pending tokens in one round trip);
//! - redeem a token: the same query finds it by the digest of the presented secret;
//! - sign in by email: get the email guard, then the same query;
//! - sign up: one transaction putting the user and its guards with `NotExists` conditions.

use super::Key;

pub const SK_USER: &str = "AUTH#USER";
pub const AUTH_PREFIX: &str = "AUTH#";
pub const SESSION_PREFIX: &str = "AUTH#SESSION#";
pub const TOKEN_PREFIX: &str = "AUTH#TOKEN#";
pub const CHALLENGE_PREFIX: &str = "AUTH#CHALLENGE#";
pub const IDENTITY_PREFIX: &str = "AUTH#IDENTITY#";

pub fn project(project_id: &str) -> Key {
    Key::new(format!("PROJECT#{project_id}"), "PROJECT")
}

pub fn api_key(key_hash: &str) -> Key {
    Key::new(format!("APIKEY#{key_hash}"), "APIKEY")
}

pub fn user_pk(project_id: &str, user_id: &str) -> String {
    format!("P#{project_id}#U#{user_id}")
}

pub fn user(project_id: &str, user_id: &str) -> Key {
    Key::new(user_pk(project_id, user_id), SK_USER)
}

pub fn session(project_id: &str, user_id: &str, session_id: &str) -> Key {
    Key::new(
        user_pk(project_id, user_id),
        format!("{SESSION_PREFIX}{session_id}"),
    )
}

/// An MFA challenge, in the user's partition so authentication loads it too.
pub fn challenge(project_id: &str, user_id: &str, challenge_id: &str) -> Key {
    Key::new(
        user_pk(project_id, user_id),
        format!("{CHALLENGE_PREFIX}{challenge_id}"),
    )
}

/// A token is keyed by the digest of its secret, so a redemption is a key lookup.
pub fn token(project_id: &str, user_id: &str, secret_hash: &str) -> Key {
    Key::new(
        user_pk(project_id, user_id),
        format!("{TOKEN_PREFIX}{secret_hash}"),
    )
}

/// An OAuth2 identity, in the user's partition so authentication loads it too.
pub fn identity(project_id: &str, user_id: &str, identity_id: &str) -> Key {
    Key::new(
        user_pk(project_id, user_id),
        format!("{IDENTITY_PREFIX}{identity_id}"),
    )
}

/// One identity per (provider, provider user id) in a project. Provider ids are arbitrary
/// text, so the key carries their digest.
pub fn identity_guard(project_id: &str, provider: &str, provider_uid: &str) -> Key {
    let digest = crate::crypto::sha256_hex(&format!("{provider}\0{provider_uid}"));
    Key::new(format!("P#{project_id}#IDENTITY#{digest}"), "GUARD")
}

/// The partition listing identities by provider email (lower-cased).
pub fn identity_email_pk(project_id: &str, email: &str) -> String {
    format!("P#{project_id}#IDEMAIL#{}", email.to_lowercase())
}

pub fn identity_email(project_id: &str, email: &str, identity_id: &str) -> Key {
    Key::new(identity_email_pk(project_id, email), identity_id)
}

/// Emails are stored lower-cased; the guard key uses the same form.
pub fn email_guard(project_id: &str, email: &str) -> Key {
    Key::new(
        format!("P#{project_id}#EMAIL#{}", email.to_lowercase()),
        "GUARD",
    )
}

pub fn phone_guard(project_id: &str, phone: &str) -> Key {
    Key::new(format!("P#{project_id}#PHONE#{phone}"), "GUARD")
}

/// Enumeration-safe mode: the user id a token response showed, pointing at the real owner
/// for as long as the token lives.
pub fn token_alias(project_id: &str, alias: &str) -> Key {
    Key::new(format!("P#{project_id}#ALIAS#{alias}"), "ALIAS")
}

/// Push-target identifiers are unique across a project.
pub fn target_guard(project_id: &str, identifier: &str) -> Key {
    Key::new(format!("P#{project_id}#TARGET#{identifier}"), "GUARD")
}

pub fn user_count(project_id: &str) -> Key {
    Key::new(format!("P#{project_id}#USERCOUNT"), "COUNT")
}

pub fn rate_limit(project_id: &str, expanded: &str, window: i64) -> Key {
    Key::new(format!("P#{project_id}#RL#{expanded}#{window}"), "RL")
}

/// Sort-key prefix of security log items.
pub const LOG_PREFIX: &str = "LOG#";

/// Largest time (ms) the inverted log time can represent (year 2286).
pub const LOG_TIME_MAX: i64 = 9_999_999_999_999;

/// A user's security logs live in their own partition, next to (not in) the user's, so the
/// authentication query never reads them. User ids cannot contain `#`.
pub fn log_pk(project_id: &str, user_id: &str) -> String {
    format!("{}#LOG", user_pk(project_id, user_id))
}

/// `LOG_TIME_MAX - ms`, zero-padded to 13 digits: later times sort first.
pub fn log_inverted_time(time_ms: i64) -> String {
    format!("{:013}", LOG_TIME_MAX - time_ms.clamp(0, LOG_TIME_MAX))
}

/// One log entry; a forward (ascending) query of the partition returns the newest first.
pub fn log(project_id: &str, user_id: &str, time_ms: i64, log_id: &str) -> Key {
    Key::new(
        log_pk(project_id, user_id),
        format!("{LOG_PREFIX}{}#{log_id}", log_inverted_time(time_ms)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_sessions_share_a_partition() {
        let u = user("p1", "u1");
        let s = session("p1", "u1", "s1");
        assert_eq!(u.pk, s.pk);
        assert!(u.sk.starts_with(AUTH_PREFIX) && s.sk.starts_with(AUTH_PREFIX));
        assert!(s.sk.starts_with(SESSION_PREFIX) && !u.sk.starts_with(SESSION_PREFIX));
    }

    #[test]
    fn email_guard_is_case_insensitive() {
        assert_eq!(email_guard("p", "A@B.com"), email_guard("p", "a@b.COM"));
    }

    #[test]
    fn projects_do_not_share_partitions() {
        assert_ne!(user("p1", "u").pk, user("p2", "u").pk);
        assert_ne!(email_guard("p1", "a@b.c").pk, email_guard("p2", "a@b.c").pk);
    }
}
