//! Fixed-window rate limits driven by the spec's `rate-limit`/`rate-time`/`rate-key`, with
//! counters as TTL items in the table (so every Lambda container shares them). An extra
//! per-IP budget on password sign-in works against password spraying across accounts.

use axum::http::{HeaderMap, HeaderValue};

use super::AppState;
use super::params::Params;
use super::routes::RouteMeta;
use crate::error::{AppError, ErrorType};
use crate::store::{Key, keys};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: i64,
    pub remaining: i64,
    pub reset: i64,
}

impl RateHeaders {
    pub fn apply(&self, h: &mut HeaderMap) {
        for (name, v) in [
            ("x-ratelimit-limit", self.limit),
            ("x-ratelimit-remaining", self.remaining),
            ("x-ratelimit-reset", self.reset),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v.to_string()) {
                h.insert(name, v);
            }
        }
    }
}

/// Expands a key template: `{ip}`, `{url}`, `{userId}`, `{method}`, `{param-<name>}`.
/// An absent parameter leaves its placeholder in place, as Appwrite does.
pub fn expand(
    template: &str,
    meta: &RouteMeta,
    params: &Params,
    ip: &str,
    user_id: &str,
    host: &str,
) -> String {
    let mut out = template
        .replace("{ip}", ip)
        .replace("{url}", &format!("{host}{}", meta.path))
        .replace("{userId}", user_id);
    while let Some(start) = out.find("{param-") {
        let Some(end) = out[start..].find('}').map(|e| start + e) else {
            break;
        };
        let name = out[start + 7..end].to_string();
        let value = params.raw(&name).map(|v| v.to_lowercase());
        match value {
            Some(v) => out.replace_range(start..=end, &v),
            None => {
                // Keep the literal but avoid re-scanning it.
                let lit = format!("(param-{name})");
                out.replace_range(start..=end, &lit);
            }
        }
    }
    out
}

type Outcome = (Option<RateHeaders>, Vec<Key>);

/// Charges one hit to every key of the route; 429 when any is over its limit.
pub async fn enforce(
    st: &AppState,
    project: &str,
    meta: &RouteMeta,
    params: &Params,
    ip: &str,
    user_id: &str,
    host: &str,
) -> Result<Outcome, (AppError, Option<RateHeaders>)> {
    let mut budgets: Vec<(String, i64, i64, bool)> = Vec::new();
    if meta.rate_limit > 0 {
        for t in &meta.rate_keys {
            budgets.push((
                expand(t, meta, params, ip, user_id, host),
                meta.rate_limit,
                meta.rate_time,
                true,
            ));
        }
    }
    if meta.path == "/v1/account/sessions/email" && st.config.signin_per_ip > 0 {
        budgets.push((
            format!("signin-ip:{ip}"),
            st.config.signin_per_ip,
            3600,
            false,
        ));
    }
    let now_s = st.now_ms().div_euclid(1000);
    let mut worst: Option<RateHeaders> = None;
    let mut charged = Vec::new();
    for (expanded, limit, period, resettable) in budgets {
        let window = now_s - now_s.rem_euclid(period);
        let key = keys::rate_limit(project, &expanded, window);
        let count = st
            .table
            .add(&key, "n", 1, Some(window + period))
            .await
            .map_err(|e| (AppError::from(e), None))?;
        let h = RateHeaders {
            limit,
            remaining: (limit - count).max(0),
            reset: window + period,
        };
        if worst.as_ref().is_none_or(|w| h.remaining < w.remaining) {
            worst = Some(h.clone());
        }
        if resettable {
            charged.push(key);
        }
        if count > limit {
            return Err((
                AppError::new(
                    ErrorType::GeneralRateLimitExceeded,
                    "Rate limit for the current endpoint has been exceeded. Please try again after some time.",
                ),
                Some(h),
            ));
        }
    }
    Ok((worst, charged))
}

/// After a successful sign-in the route's counters start again (failures stay limited,
/// successes do not), as Appwrite does for password and token sign-ins.
pub async fn reset(st: &AppState, counters: &[Key]) {
    for k in counters {
        if let Err(e) = st.table.delete(k, None).await {
            tracing::warn!(error = %e, "rate counter reset failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RouteMeta {
        RouteMeta {
            scope: "sessions.write".into(),
            group: "sessions".into(),
            rate_limit: 10,
            rate_time: 3600,
            rate_keys: vec![],
            path: "/v1/account/sessions/email".into(),
        }
    }

    #[test]
    fn expands_placeholders() {
        let p = Params::parse("POST", None, "application/json", br#"{"email":"A@b.c"}"#)
            .unwrap_or_default();
        let m = meta();
        assert_eq!(
            expand(
                "url:{url},email:{param-email}",
                &m,
                &p,
                "1.2.3.4",
                "",
                "api.test"
            ),
            "url:api.test/v1/account/sessions/email,email:a@b.c"
        );
        assert_eq!(
            expand("ip:{ip},userId:{param-userId}", &m, &p, "1.2.3.4", "", "h"),
            "ip:1.2.3.4,userId:(param-userId)"
        );
        assert_eq!(
            expand("url:{url},userId:{userId}", &m, &p, "", "u1", "h"),
            "url:h/v1/account/sessions/email,userId:u1"
        );
    }
}
