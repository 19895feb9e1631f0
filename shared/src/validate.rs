//! Validated input types. Each parser returns Appwrite's parameter error wording, so a
//! handler can `?` straight into the wire error.

use crate::crypto::random_hex;
use crate::error::{AppError, AppResult};

const ID_RULE: &str = "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char";

fn id_chars_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 36
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !s.starts_with(['.', '_', '-'])
}

/// A new server-generated id: 13 hex chars of the microsecond clock and 7 random hex chars.
pub fn unique_id(now_ms: i64) -> AppResult<String> {
    let micros = now_ms.max(0) as u64 * 1000;
    let rand = random_hex(4)?;
    Ok(format!("{micros:013x}{}", &rand[..7]))
}

/// A client-chosen id (`CustomId`): `unique()` or 1–36 chars of `[A-Za-z0-9._-]`, not
/// starting with a special char.
pub fn custom_id(param: &str, value: &str, now_ms: i64) -> AppResult<String> {
    if value == "unique()" {
        return unique_id(now_ms);
    }
    if id_chars_ok(value) {
        Ok(value.to_string())
    } else {
        Err(AppError::invalid_param(param, &format!("{ID_RULE}.")))
    }
}

/// A path id (`UID`), or the literal `current` where the route allows it.
pub fn uid(param: &str, value: &str) -> AppResult<String> {
    if id_chars_ok(value) {
        Ok(value.to_string())
    } else {
        Err(AppError::invalid_param(param, &format!("{ID_RULE}.")))
    }
}

/// An email: trimmed and lower-cased, local part ≤ 64, total ≤ 254, ASCII, a dotted domain
/// or an IP literal.
pub fn email(param: &str, value: &str) -> AppResult<String> {
    let e = value.trim().to_lowercase();
    let bad = || AppError::invalid_param(param, "Value must be a valid email address");
    if e.len() > 254 || !e.is_ascii() {
        return Err(bad());
    }
    let (local, domain) = e.rsplit_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let domain_ok = if domain.starts_with('[') && domain.ends_with(']') {
        domain[1..domain.len() - 1]
            .parse::<std::net::IpAddr>()
            .is_ok()
    } else {
        domain.contains('.')
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if local_ok && domain_ok {
        Ok(e)
    } else {
        Err(bad())
    }
}

/// A password: 8 to 256 characters (counted in characters, not bytes).
pub fn password(param: &str, value: &str) -> AppResult<String> {
    let n = value.chars().count();
    if (8..=256).contains(&n) {
        Ok(value.to_string())
    } else {
        Err(AppError::invalid_param(
            param,
            "Password must be between 8 and 256 characters long.",
        ))
    }
}

/// A phone number in E.164: `+`, a non-zero digit, then 6 to 14 digits.
pub fn phone(param: &str, value: &str) -> AppResult<String> {
    let digits = value.strip_prefix('+').unwrap_or("");
    let ok = (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(value.to_string())
    } else {
        Err(AppError::invalid_param(
            param,
            "Phone number must start with a '+' can have a maximum of fifteen digits.",
        ))
    }
}

/// A display name: 1 to 128 characters.
pub fn name(param: &str, value: &str) -> AppResult<String> {
    let n = value.chars().count();
    if (1..=128).contains(&n) {
        Ok(value.to_string())
    } else {
        Err(AppError::invalid_param(
            param,
            "Value must be a valid string and at least 1 chars and no longer than 128 chars",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids() {
        assert_eq!(
            custom_id("userId", "abc-1.2_3", 0).ok().as_deref(),
            Some("abc-1.2_3")
        );
        for bad in ["", "_x", ".x", "-x", "a b", "é", &"a".repeat(37)] {
            let e = custom_id("userId", bad, 0)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(e.starts_with("Invalid `userId` param:"), "{bad}");
        }
        let u = custom_id("userId", "unique()", 1_700_000_000_000).unwrap_or_default();
        assert_eq!(u.len(), 20);
        assert!(u.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("email", " A.B@Example.COM ").ok().as_deref(),
            Some("a.b@example.com")
        );
        assert!(email("email", "x@[127.0.0.1]").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@.com",
            "a..b@c.com",
            "ü@x.com",
            "a@b_c.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
        let long = format!("{}@x.com", "a".repeat(65));
        assert!(email("email", &long).is_err());
    }

    #[test]
    fn passwords_count_characters() {
        assert!(password("password", "1234567").is_err());
        assert!(password("password", "12345678").is_ok());
        assert!(password("password", &"é".repeat(256)).is_ok());
        assert!(password("password", &"é".repeat(257)).is_err());
    }

    #[test]
    fn phones() {
        assert!(phone("phone", "+14155552671").is_ok());
        for bad in [
            "14155552671",
            "+0123456789",
            "+12345",
            "+1234567890123456",
            "+1415555abcd",
        ] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(name("name", "").is_err());
        assert!(name("name", &"n".repeat(128)).is_ok());
        assert!(name("name", &"n".repeat(129)).is_err());
    }
}
