//! The password policy, applied on every path that sets a password: account creation,
//! password change, recovery and anonymous conversion (email or phone update on an account
//! that never had a password). One policy for all paths, so no path is weaker than another.
//!
//! The project's `auths` settings switch the rules on:
//! - `passwordDictionary`: the password must not be one of the common passwords embedded
//!   from `data/common-passwords.txt` (exact, case-sensitive match);
//! - `personalDataCheck`: the password must not contain the user's id, email, email local
//!   part, name or phone (case-insensitive);
//! - `passwordHistory`: the password must not match one of the last N password hashes.
//!
//! [`check`] is pure and cheap (no hashing), so handlers run it before any Argon2 work;
//! [`reused`] is the only part that hashes, and it does so on the blocking pool.
//!
//! Personal-data rule, one deliberate extension over Appwrite: besides the name as stored,
//! the name with its whitespace removed is also looked for, so that with the name
//! "Alice Smith" the password "alicesmith2024!" is refused. The name is not split into its
//! words: a short given name ("Al") would then refuse far too many passwords.

use std::sync::OnceLock;

use crate::error::{AppError, AppResult, ErrorType};
use crate::project::Auths;
use crate::validate;

/// The largest `passwordHistory` a project may set.
pub const MAX_HISTORY: u32 = 20;

/// Validator description for a password found in the common-password list (Appwrite's
/// wording, so clients matching on it keep working).
const DICTIONARY_RULE: &str =
    "Password must be at least 8 characters and should not be one of the commonly used password.";

/// Message of `password_personal_data` (Appwrite's wording).
const PERSONAL_DATA_MESSAGE: &str = "The password you are trying to use contains references to your name, email, phone or userID. For your security, please choose a different password and try again.";

/// The embedded list: one password a line, sorted in byte order, no duplicates.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Which rules apply to a new password, taken from the project's `auths`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Refuse passwords from the common-password list.
    pub dictionary: bool,
    /// How many previous password hashes are kept and checked; 0 keeps none.
    pub history: u32,
    /// Refuse passwords that contain the user's own data.
    pub personal_data: bool,
}

impl Policy {
    /// The policy of a project. `passwordHistory` is capped at [`MAX_HISTORY`].
    pub fn from_auths(a: &Auths) -> Self {
        Policy {
            dictionary: a.password_dictionary,
            history: a.password_history.min(MAX_HISTORY),
            personal_data: a.personal_data_check,
        }
    }
}

/// The user's data a password must not contain. Empty fields are ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Personal<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    /// E.164, with its leading `+`.
    pub phone: &'a str,
}

/// Length (validate::password), then dictionary (exact, case-sensitive match against the
/// embedded list → 400 general_argument_invalid with a description mentioning a commonly
/// used password, naming `param`), then personal data (→ 400 password_personal_data).
/// Pure and fast: no hashing.
pub fn check(
    policy: &Policy,
    param: &str,
    password: &str,
    personal: &Personal<'_>,
) -> AppResult<String> {
    // The length check comes first, so an oversized input is refused before any other work.
    let password = validate::password(param, password)?;
    if policy.dictionary && is_common(&password) {
        return Err(AppError::invalid_param(param, DICTIONARY_RULE));
    }
    if policy.personal_data && contains_personal_data(&password, personal) {
        return Err(AppError::new(
            ErrorType::PasswordPersonalData,
            PERSONAL_DATA_MESSAGE,
        ));
    }
    Ok(password)
}

/// Whether `password` is, exactly, one of the embedded common passwords.
pub fn is_common(password: &str) -> bool {
    common_passwords().binary_search(&password).is_ok()
}

/// The embedded list, split into lines once per process. The file is kept sorted and
/// unique; sorting again here costs little on sorted input and keeps the binary search
/// correct even if the file were edited by hand.
fn common_passwords() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list: Vec<&'static str> = COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.is_empty())
            .collect();
        list.sort_unstable();
        list.dedup();
        list
    })
}

/// Whether the lower-cased password contains any lower-cased personal field: the user id,
/// the email, its local part, the name, the name without whitespace, the phone and the
/// phone without its leading `+`. Fields that are empty (or only whitespace) are skipped.
fn contains_personal_data(password: &str, personal: &Personal<'_>) -> bool {
    let password = password.to_lowercase();
    let email = personal.email.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default().to_string();
    let name = personal.name.to_lowercase();
    let name_joined: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    let phone = personal.phone.to_lowercase();
    let phone_digits = phone.strip_prefix('+').unwrap_or(&phone).to_string();
    let user_id = personal.user_id.to_lowercase();

    [
        user_id,
        email,
        local_part,
        name,
        name_joined,
        phone,
        phone_digits,
    ]
    .iter()
    .any(|field| !field.trim().is_empty() && password.contains(field.as_str()))
}

/// Whether `password` matches any PHC hash in `history`; runs the verifications on the
/// blocking pool, one after another, and stops at the first match.
///
/// Every entry given is checked (as Appwrite does with the stored history). The stored
/// history already holds at most the project's limit, as [`push_history`] trims it; a caller
/// that wants only the last `limit` entries after the limit was lowered passes that slice.
/// Call it only when [`Policy::history`] is non-zero.
pub async fn reused(password: &str, history: &[String]) -> bool {
    for phc in history.iter().filter(|h| !h.is_empty()) {
        if crate::crypto::verify_password(password.to_string(), Some(phc.clone())).await {
            return true;
        }
    }
    false
}

/// The new history after setting `new_hash`: appended, trimmed to the last `limit`
/// (empty when limit is 0).
pub fn push_history(history: &[String], new_hash: String, limit: u32) -> Vec<String> {
    let limit = limit as usize;
    if limit == 0 {
        return Vec::new();
    }
    let keep_old = limit - 1;
    let start = history.len().saturating_sub(keep_old);
    let mut next = Vec::with_capacity(limit.min(history.len() + 1));
    next.extend_from_slice(&history[start..]);
    next.push(new_hash);
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Argon2Cost, hash_password, random_hex};

    const ALL_ON: Policy = Policy {
        dictionary: true,
        history: 5,
        personal_data: true,
    };

    fn alice() -> Personal<'static> {
        Personal {
            user_id: "user-7f3a",
            email: "Alice.Smith@Example.com",
            name: "Alice Smith",
            phone: "+14155550123",
        }
    }

    fn err_of(r: AppResult<String>) -> Option<(ErrorType, String)> {
        r.err().map(|e| (e.kind, e.message))
    }

    #[test]
    fn list_is_large_sorted_and_unique() {
        let lines: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(lines.len() >= 10_000, "only {} entries", lines.len());
        assert!(lines.iter().all(|l| !l.is_empty()));
        assert!(
            lines.windows(2).all(|w| w[0] < w[1]),
            "not strictly sorted in byte order"
        );
        assert_eq!(common_passwords().len(), lines.len());
        assert!(COMMON_PASSWORDS.len() < 150_000);
    }

    #[test]
    fn common_passwords_are_found_exactly() {
        assert!(is_common("password"));
        assert!(is_common("123456"));
        assert!(is_common("password1234"));
        // Exact and case-sensitive.
        assert!(!is_common("Password"));
        assert!(!is_common("password "));
        assert!(!is_common(""));
        let random = random_hex(10).unwrap_or_default();
        assert_eq!(random.len(), 20);
        assert!(!is_common(&random));
    }

    #[test]
    fn dictionary_rule_names_the_param() {
        let got = err_of(check(&ALL_ON, "password", "password", &Personal::default()));
        let (kind, msg) = got.unwrap_or((ErrorType::GeneralUnknown, String::new()));
        assert_eq!(kind, ErrorType::GeneralArgumentInvalid);
        assert_eq!(kind.as_str(), "general_argument_invalid");
        assert_eq!(kind.status(), 400);
        assert!(msg.starts_with("Invalid `password` param: "), "{msg}");
        assert!(msg.contains("commonly used password"), "{msg}");
        // Off by default: the same password passes.
        let off = Policy::default();
        assert_eq!(
            check(&off, "password", "password", &Personal::default()).ok(),
            Some("password".to_string())
        );
        // Case-sensitive: a capital letter is enough to leave the list.
        assert!(check(&ALL_ON, "password", "Password", &Personal::default()).is_ok());
    }

    #[test]
    fn length_is_checked_first_and_in_characters() {
        for short in ["1234567", "🐎🐎", "ab🐎cd"] {
            let (kind, msg) = err_of(check(&ALL_ON, "password", short, &Personal::default()))
                .unwrap_or((ErrorType::GeneralUnknown, String::new()));
            assert_eq!(kind, ErrorType::GeneralArgumentInvalid, "{short}");
            assert!(msg.contains("between 8 and 256"), "{msg}");
        }
        // Too long: refused with the length message, not the dictionary one.
        let long = "x".repeat(257);
        let (_, msg) = err_of(check(&ALL_ON, "password", &long, &Personal::default()))
            .unwrap_or((ErrorType::GeneralUnknown, String::new()));
        assert!(msg.contains("between 8 and 256"), "{msg}");
        // A huge input is refused without being scanned by the other rules.
        let huge = "y".repeat(1 << 20);
        assert!(check(&ALL_ON, "password", &huge, &alice()).is_err());
        assert!(check(&ALL_ON, "password", &"z".repeat(256), &Personal::default()).is_ok());
        assert!(check(&ALL_ON, "password", "q7Lm2vXc", &Personal::default()).is_ok());
    }

    #[test]
    fn personal_data_is_refused_case_insensitively() {
        let p = alice();
        for pw in [
            "xxUSER-7F3Axx",            // user id
            "alice.smith@example.com!", // email
            "my-Alice.Smith-pass",      // email local part
            "i am alice smith!",        // name
            "alicesmith2024!",          // name without its space
            "call+14155550123",         // phone
            "14155550123abc",           // phone without +
        ] {
            let (kind, msg) = err_of(check(&ALL_ON, "password", pw, &p))
                .unwrap_or((ErrorType::GeneralUnknown, String::new()));
            assert_eq!(kind, ErrorType::PasswordPersonalData, "{pw}");
            assert_eq!(kind.as_str(), "password_personal_data");
            assert_eq!(kind.status(), 400);
            assert!(msg.contains("references to your name"), "{msg}");
        }
        assert!(check(&ALL_ON, "password", "correct horse battery", &p).is_ok());
        // Off: the same password passes.
        let off = Policy {
            personal_data: false,
            ..ALL_ON
        };
        assert!(check(&off, "password", "alicesmith2024!", &p).is_ok());
    }

    #[test]
    fn empty_personal_fields_are_skipped() {
        let p = Personal {
            user_id: "",
            email: "",
            name: "   ",
            phone: "+",
        };
        assert!(check(&ALL_ON, "password", "plain words here", &p).is_ok());
        let only_name = Personal {
            name: "Bob",
            ..Personal::default()
        };
        assert!(check(&ALL_ON, "password", "kangaroo-jumps", &only_name).is_ok());
        assert!(check(&ALL_ON, "password", "kangaroo-bob-jumps", &only_name).is_err());
    }

    #[test]
    fn dictionary_runs_before_personal_data() {
        let p = Personal {
            name: "password",
            ..Personal::default()
        };
        let kind = err_of(check(&ALL_ON, "password", "password", &p)).map(|(k, _)| k);
        assert_eq!(kind, Some(ErrorType::GeneralArgumentInvalid));
    }

    #[test]
    fn policy_follows_the_project() {
        let mut a = Auths::default();
        assert_eq!(Policy::from_auths(&a), Policy::default());
        a.password_dictionary = true;
        a.personal_data_check = true;
        a.password_history = 7;
        assert_eq!(
            Policy::from_auths(&a),
            Policy {
                dictionary: true,
                history: 7,
                personal_data: true
            }
        );
        a.password_history = 500;
        assert_eq!(Policy::from_auths(&a).history, MAX_HISTORY);
    }

    #[test]
    fn history_is_appended_and_trimmed() {
        let h = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(push_history(&h(&["a", "b"]), "c".into(), 0).is_empty());
        assert_eq!(push_history(&[], "a".into(), 1), h(&["a"]));
        assert_eq!(push_history(&h(&["a", "b"]), "c".into(), 1), h(&["c"]));
        assert_eq!(
            push_history(&h(&["a", "b"]), "c".into(), 3),
            h(&["a", "b", "c"])
        );
        assert_eq!(
            push_history(&h(&["a", "b", "c"]), "d".into(), 3),
            h(&["b", "c", "d"])
        );
        assert_eq!(
            push_history(&h(&["a", "b", "c", "d", "e"]), "f".into(), 2),
            h(&["e", "f"])
        );
        assert_eq!(push_history(&h(&["a"]), "b".into(), 20), h(&["a", "b"]));
    }

    #[tokio::test]
    async fn reuse_is_detected_with_real_hashes() {
        let cost = Argon2Cost {
            memory: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let old1 = hash_password("first secret pw".into(), cost)
            .await
            .unwrap_or_default();
        let old2 = hash_password("second secret pw".into(), cost)
            .await
            .unwrap_or_default();
        assert!(old1.starts_with("$argon2id$"), "{old1}");
        let history = vec![old1, String::new(), old2];
        assert!(reused("first secret pw", &history).await);
        assert!(reused("second secret pw", &history).await);
        assert!(!reused("a third secret pw", &history).await);
        assert!(!reused("First secret pw", &history).await);
        assert!(!reused("first secret pw", &[]).await);
        assert!(!reused("first secret pw", &["not a phc".to_string()]).await);
    }
}
