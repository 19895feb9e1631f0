//! Origin checks (CSRF) against the project's registered platforms, and CORS headers.
//! Every request carrying an `Origin` is checked (Appwrite's baseline), API-key requests
//! excepted; only a request that passed the check gets its origin echoed back.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Config;
use crate::error::{AppError, AppResult, ErrorType};
use crate::project::Project;

const BROWSER_SCHEMES: &[&str] = &[
    "http",
    "https",
    "chrome-extension",
    "moz-extension",
    "safari-web-extension",
    "ms-browser-extension",
];

/// Marks a response whose Origin failed the check, so CORS does not echo it.
#[derive(Debug, Clone, Copy)]
pub struct OriginRejected;

fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_lowercase();
    if pattern.contains('/') || pattern.contains(':') {
        return false;
    }
    if pattern == "*" || pattern == host {
        return true;
    }
    pattern.strip_prefix("*.").is_some_and(|apex| {
        host.len() > apex.len() + 1
            && host.ends_with(apex)
            && host[..host.len() - apex.len()].ends_with('.')
    })
}

/// Whether `origin` (`scheme://host[:port]`) is allowed for the project.
pub fn origin_allowed(origin: &str, project: &Project, config: &Config) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let scheme = scheme.to_lowercase();
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    }
    .to_lowercase();
    if BROWSER_SCHEMES.contains(&scheme.as_str()) {
        if config.server_hosts.iter().any(|h| h == &host) {
            return true;
        }
        return project.platforms.iter().any(|p| match p.kind.as_str() {
            "web" | "flutter-web" => host_matches(&p.hostname, &host),
            "scheme" => false,
            _ => p.hostname.eq_ignore_ascii_case(&host),
        });
    }
    scheme == "exp"
        || scheme == format!("appwrite-callback-{}", project.id.to_lowercase())
        || project
            .platforms
            .iter()
            .any(|p| p.kind == "scheme" && p.hostname.eq_ignore_ascii_case(&scheme))
}

/// Whether a redirect URL (magic URL, verification, recovery, OAuth2) may be used: an
/// absolute URL whose host is a registered platform (or a registered app scheme). URLs with
/// credentials, backslashes or whitespace are refused outright (no open redirect).
pub fn redirect_allowed(url: &str, project: &Project, config: &Config) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if url.len() > 2048
        || url.contains('\\')
        || url.chars().any(char::is_whitespace)
        || authority.contains('@')
        || authority.is_empty()
    {
        return false;
    }
    origin_allowed(url, project, config)
}

/// 403 `general_unknown_origin` for a foreign Origin (skipped for API-key requests).
pub fn check_origin(
    h: &HeaderMap,
    project: &Project,
    config: &Config,
    has_key: bool,
) -> AppResult<()> {
    let Some(origin) = h
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.is_empty() && *o != "null")
    else {
        return Ok(());
    };
    if has_key || origin_allowed(origin, project, config) {
        return Ok(());
    }
    let shown: String = origin.chars().take(200).collect();
    Err(AppError::new(
        ErrorType::GeneralUnknownOrigin,
        format!(
            "Invalid Origin. Register your new client ({shown}) as a new Web platform on your project console dashboard"
        ),
    ))
}

const ALLOW_HEADERS: &str = "Origin, Cookie, Set-Cookie, X-Requested-With, Content-Type, Access-Control-Allow-Origin, Access-Control-Request-Headers, Accept, X-Appwrite-Project, X-Appwrite-Key, X-Appwrite-Dev-Key, X-Appwrite-Locale, X-Appwrite-Mode, X-Appwrite-JWT, X-Appwrite-Response-Format, X-Appwrite-Timeout, X-Appwrite-Session, X-Appwrite-ID, X-SDK-Version, X-SDK-Name, X-SDK-Language, X-SDK-Platform, X-SDK-GraphQL, X-Fallback-Cookies, X-Forwarded-User-Agent, Content-Range, Range, Cache-Control, Expires, Pragma";
const EXPOSE_HEADERS: &str = "X-Fallback-Cookies, X-Appwrite-Session, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Debug-Fallback";

/// CORS: preflights are answered here; other responses echo an Origin that passed the gate.
pub async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get("origin").cloned();
    let preflight = req.method() == Method::OPTIONS;
    let mut res = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let rejected = res.extensions().get::<OriginRejected>().is_some();
    let h = res.headers_mut();
    if let Some(o) = origin.filter(|_| !rejected) {
        h.insert("access-control-allow-origin", o);
        h.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
        h.insert("vary", HeaderValue::from_static("Origin"));
    }
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
    );
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    if preflight {
        h.insert("access-control-max-age", HeaderValue::from_static("86400"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Platform;

    fn project() -> Project {
        let mut p = Project::new("Proj", "P");
        p.platforms.push(Platform {
            kind: "web".into(),
            name: "w".into(),
            hostname: "app.example.com".into(),
        });
        p.platforms.push(Platform {
            kind: "web".into(),
            name: "w".into(),
            hostname: "*.preview.dev".into(),
        });
        p.platforms.push(Platform {
            kind: "scheme".into(),
            name: "s".into(),
            hostname: "myapp".into(),
        });
        p
    }

    #[test]
    fn platforms_decide() {
        let (p, c) = (project(), Config::default());
        assert!(origin_allowed("https://app.example.com", &p, &c));
        assert!(origin_allowed("http://app.example.com:3000", &p, &c));
        assert!(origin_allowed("https://a.preview.dev", &p, &c));
        assert!(!origin_allowed("https://preview.dev", &p, &c));
        assert!(!origin_allowed("https://evil.com", &p, &c));
        assert!(!origin_allowed("https://app.example.com.evil.com", &p, &c));
        assert!(origin_allowed("http://localhost:5173", &p, &c));
        assert!(origin_allowed("myapp://cb", &p, &c));
        assert!(origin_allowed("appwrite-callback-proj://x", &p, &c));
        assert!(!origin_allowed("other://x", &p, &c));
    }

    #[test]
    fn redirects_must_point_at_platforms() {
        let (p, c) = (project(), Config::default());
        assert!(redirect_allowed("https://app.example.com/cb?x=1", &p, &c));
        for bad in [
            "https://evil.com/cb",
            "https://app.example.com@evil.com/",
            "https://evil.com\\@app.example.com/",
            "//evil.com/",
            "javascript:alert(1)",
            "https:///app.example.com",
            "https://app.example.com.evil.com/",
        ] {
            assert!(!redirect_allowed(bad, &p, &c), "{bad}");
        }
    }
}
