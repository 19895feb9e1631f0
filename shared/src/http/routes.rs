//! Route metadata read from the official OpenAPI spec's `x-appwrite` blocks (scope, rate
//! limit, rate period, rate keys), so the limits we enforce are the contract's, not copies.
//! Aliases and the 1.6 spellings map to their canonical 1.8 path.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMeta {
    /// `account`, `sessions.write`, `public`, `targets.write`.
    pub scope: String,
    /// The spec's `x-appwrite.group` (`sessions`, `tokens`, `mfa`, ...).
    pub group: String,
    /// Requests per period; 0 = unlimited.
    pub rate_limit: i64,
    pub rate_time: i64,
    pub rate_keys: Vec<String>,
    /// The canonical `/v1/...` path (the `{url}` placeholder uses it).
    pub path: String,
}

const SPEC_18: &str = include_str!("../../spec/appwrite-account-1.8.x.json");

/// Alias spellings served in addition to the spec's paths: (method, alias, canonical).
pub const ALIASES: &[(&str, &str, &str)] = &[
    ("POST", "/v1/account/sessions", "/v1/account/sessions/email"),
    ("POST", "/v1/account/jwt", "/v1/account/jwts"),
    (
        "POST",
        "/v1/account/sessions/magic-url",
        "/v1/account/tokens/magic-url",
    ),
    (
        "POST",
        "/v1/account/sessions/phone",
        "/v1/account/tokens/phone",
    ),
    (
        "POST",
        "/v1/account/verification",
        "/v1/account/verifications/email",
    ),
    (
        "PUT",
        "/v1/account/verification",
        "/v1/account/verifications/email",
    ),
    (
        "POST",
        "/v1/account/verification/phone",
        "/v1/account/verifications/phone",
    ),
    (
        "PUT",
        "/v1/account/verification/phone",
        "/v1/account/verifications/phone",
    ),
    (
        "POST",
        "/v1/account/mfa/challenge",
        "/v1/account/mfa/challenges",
    ),
    (
        "PUT",
        "/v1/account/mfa/challenge",
        "/v1/account/mfa/challenges",
    ),
];

fn table() -> &'static HashMap<(String, String), RouteMeta> {
    static TABLE: OnceLock<HashMap<(String, String), RouteMeta>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let spec: Value = serde_json::from_str(SPEC_18).unwrap_or(Value::Null);
        let mut map = HashMap::new();
        if let Some(paths) = spec["paths"].as_object() {
            for (path, ops) in paths {
                let Some(ops) = ops.as_object() else { continue };
                for (method, op) in ops {
                    let x = &op["x-appwrite"];
                    let keys = match &x["rate-key"] {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => a
                            .iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect(),
                        _ => vec!["url:{url},ip:{ip}".to_string()],
                    };
                    let full = format!("/v1{path}");
                    let meta = RouteMeta {
                        scope: x["scope"].as_str().unwrap_or("account").to_string(),
                        group: x["group"].as_str().unwrap_or("").to_string(),
                        rate_limit: x["rate-limit"].as_i64().unwrap_or(0),
                        rate_time: x["rate-time"].as_i64().unwrap_or(3600).max(1),
                        rate_keys: keys,
                        path: full.clone(),
                    };
                    map.insert((method.to_uppercase(), full), meta);
                }
            }
        }
        map
    })
}

/// The OAuth2 redirect route is internal (not in the spec): scope `public`, 50 per hour
/// per IP (contract-sessions §4.11).
pub const OAUTH2_REDIRECT: &str = "/v1/account/sessions/oauth2/{provider}/redirect";

fn internal() -> &'static RouteMeta {
    static META: OnceLock<RouteMeta> = OnceLock::new();
    META.get_or_init(|| RouteMeta {
        scope: "public".into(),
        group: "sessions".into(),
        rate_limit: 50,
        rate_time: 3600,
        rate_keys: vec!["url:{url},ip:{ip}".into()],
        path: OAUTH2_REDIRECT.into(),
    })
}

/// Metadata for a matched route pattern (alias-aware).
pub fn lookup(method: &str, pattern: &str) -> Option<&'static RouteMeta> {
    if method == "GET" && pattern == OAUTH2_REDIRECT {
        return Some(internal());
    }
    let canonical = ALIASES
        .iter()
        .find(|(m, a, _)| *m == method && *a == pattern)
        .map(|(_, _, c)| *c)
        .unwrap_or(pattern);
    table().get(&(method.to_string(), canonical.to_string()))
}

/// Every (method, path) of the spec, for route-coverage tests.
pub fn spec_routes() -> Vec<(String, String)> {
    let mut v: Vec<_> = table().keys().cloned().collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_limits_from_the_spec() {
        let m = lookup("POST", "/v1/account/sessions/email").cloned();
        let m = m.unwrap_or_else(|| panic!("route missing"));
        assert_eq!((m.rate_limit, m.rate_time), (10, 3600));
        assert_eq!(
            m.rate_keys,
            vec!["url:{url},email:{param-email}".to_string()]
        );
        assert_eq!(m.scope, "sessions.write");
        let jwt = lookup("POST", "/v1/account/jwts").map(|m| (m.rate_limit, m.rate_time));
        assert_eq!(jwt, Some((120, 60)));
    }

    #[test]
    fn aliases_resolve_to_canonical_routes() {
        assert_eq!(
            lookup("POST", "/v1/account/sessions").map(|m| m.path.as_str()),
            Some("/v1/account/sessions/email")
        );
        assert!(lookup("GET", "/v1/account").is_some_and(|m| m.scope == "account"));
        assert!(lookup("GET", "/v1/nope").is_none());
    }

    #[test]
    fn multi_key_limits_keep_every_key() {
        let m = lookup("POST", "/v1/account/tokens/email").map(|m| m.rate_keys.len());
        assert_eq!(m, Some(2));
    }
}
