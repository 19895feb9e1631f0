//! Session cookies (`a_session_<project>` and its `_legacy` twin) and the
//! `X-Fallback-Cookies` header for browsers that cannot keep third-party cookies.

use axum::http::{HeaderMap, HeaderValue, header};

use super::Ctx;
use crate::clock::http_date;

fn is_ip_or_localhost(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
}

/// The last two labels of a hostname: a registrable-domain approximation (no public suffix
/// list), used only to decide whether the fallback header is needed.
fn site(host: &str) -> Option<String> {
    if is_ip_or_localhost(host) {
        return None;
    }
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    (labels.len() >= 2).then(|| labels[labels.len() - 2..].join("."))
}

/// Whether the API host and the request's Origin share a site (cookies will stick).
pub fn domain_verified(ctx: &Ctx) -> bool {
    let Some(origin) = ctx.origin.as_deref() else {
        return false;
    };
    let ohost = origin
        .split_once("://")
        .map(|(_, r)| r.split(['/', ':']).next().unwrap_or(""))
        .unwrap_or("")
        .to_lowercase();
    matches!((site(&ctx.host), site(&ohost)), (Some(a), Some(b)) if a == b)
}

fn encode_value(v: &str) -> String {
    v.replace('%', "%25")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn cookie_line(
    ctx: &Ctx,
    name: &str,
    value: &str,
    expires_ms: i64,
    max_age: i64,
    same_site_none: bool,
) -> String {
    let mut c = format!(
        "{name}={value}; expires={}; Max-Age={max_age}; path=/",
        http_date(expires_ms)
    );
    if !is_ip_or_localhost(&ctx.host) {
        c.push_str(&format!("; domain=.{}", ctx.host));
    }
    if ctx.https {
        c.push_str("; secure");
    }
    c.push_str("; httponly");
    if same_site_none {
        c.push_str("; samesite=None");
    }
    c
}

fn cookie_name(ctx: &Ctx) -> String {
    format!("a_session_{}", ctx.project.id.to_lowercase())
}

/// Adds the two session cookies and, when the site is not verified, the fallback header.
pub fn set_session(h: &mut HeaderMap, ctx: &Ctx, credential: &str, now_ms: i64, expire_ms: i64) {
    let name = cookie_name(ctx);
    let value = encode_value(credential);
    let max_age = ((expire_ms - now_ms) / 1000).max(0);
    for (n, same_site) in [(name.clone(), true), (format!("{name}_legacy"), false)] {
        if let Ok(v) =
            HeaderValue::from_str(&cookie_line(ctx, &n, &value, expire_ms, max_age, same_site))
        {
            h.append(header::SET_COOKIE, v);
        }
    }
    if !domain_verified(ctx) {
        let fb =
            serde_json::json!({ format!("a_session_{}", ctx.project.id): credential }).to_string();
        if let Ok(v) = HeaderValue::from_str(&fb) {
            h.insert("x-fallback-cookies", v);
        }
    }
}

/// Expires both session cookies (logout).
pub fn clear_session(h: &mut HeaderMap, ctx: &Ctx, now_ms: i64) {
    let name = cookie_name(ctx);
    for (n, same_site) in [(name.clone(), true), (format!("{name}_legacy"), false)] {
        if let Ok(v) = HeaderValue::from_str(&cookie_line(
            ctx,
            &n,
            "deleted",
            now_ms - 3_600_000,
            0,
            same_site,
        )) {
            h.append(header::SET_COOKIE, v);
        }
    }
    if !domain_verified(ctx) {
        h.insert("x-fallback-cookies", HeaderValue::from_static("[]"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites() {
        assert_eq!(site("api.example.com").as_deref(), Some("example.com"));
        assert_eq!(site("localhost"), None);
        assert_eq!(site("127.0.0.1"), None);
        assert_eq!(site("[::1]"), None);
    }

    #[test]
    fn cookie_values_are_url_encoded() {
        assert_eq!(encode_value("ab+/c=="), "ab%2B%2Fc%3D%3D");
    }
}
