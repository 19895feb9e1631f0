//! The security log behind `GET /account/logs`: one item per audited event in a partition of
//! the acting user, newest first, expiring after the project's retention. Recording is best
//! effort (a store failure is logged, never answered); listing reads `limit`/`offset` from
//! Appwrite's `queries` parameter.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::iso;
use crate::error::{AppError, AppResult};
use crate::geo::{self, Geo};
use crate::http::params::Params;
use crate::http::{AppState, Ctx};
use crate::models::UserDoc;
use crate::store::{Cond, DynTable, EXPIRES_AT, Item, QuerySpec, Val, keys};
use crate::ua::{self, Device};

/// Retention when a project sets none, in days.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;
/// `limit` when `queries` has none.
pub const DEFAULT_LIMIT: usize = 25;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 5000;

/// A stored log entry (JSON in the item's `data`). Its id and time order live in the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogDoc {
    /// Audit event name (`user.create`, `session.create`, ...).
    pub event: String,
    pub user_id: String,
    pub user_email: String,
    pub user_name: String,
    pub ip: String,
    pub time_ms: i64,
    pub device: Device,
    /// Lower-case ISO alpha-2, or `--`.
    pub country_code: String,
    /// `default` (client or API) or `admin` (console acting in the project).
    pub mode: String,
}

/// The spec's `log` schema.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    pub event: String,
    pub user_id: String,
    pub user_email: String,
    pub user_name: String,
    pub mode: String,
    pub ip: String,
    pub time: String,
    pub os_code: String,
    pub os_name: String,
    pub os_version: String,
    pub client_type: String,
    pub client_code: String,
    pub client_name: String,
    pub client_version: String,
    pub client_engine: String,
    pub client_engine_version: String,
    pub device_name: String,
    pub device_brand: String,
    pub device_model: String,
    pub country_code: String,
    pub country_name: String,
}

impl Log {
    /// The wire form; a country without a name in `locale` is `--`/"Unknown", as in Appwrite.
    pub fn from_doc(d: &LogDoc, locale: &str) -> Log {
        let code = if geo::is_known(&d.country_code) {
            d.country_code.to_ascii_lowercase()
        } else {
            geo::UNKNOWN_CODE.to_string()
        };
        let dev = &d.device;
        Log {
            event: d.event.clone(),
            user_id: d.user_id.clone(),
            user_email: d.user_email.clone(),
            user_name: d.user_name.clone(),
            mode: d.mode.clone(),
            ip: d.ip.clone(),
            time: iso(d.time_ms),
            os_code: dev.os_code.clone(),
            os_name: dev.os_name.clone(),
            os_version: dev.os_version.clone(),
            client_type: dev.client_type.clone(),
            client_code: dev.client_code.clone(),
            client_name: dev.client_name.clone(),
            client_version: dev.client_version.clone(),
            client_engine: dev.client_engine.clone(),
            client_engine_version: dev.client_engine_version.clone(),
            device_name: dev.device_name.clone(),
            device_brand: dev.device_brand.clone(),
            device_model: dev.device_model.clone(),
            country_name: geo::country_name(&code, locale),
            country_code: code,
        }
    }
}

/// The spec's `logList` schema.
#[derive(Debug, Clone, Serialize)]
pub struct LogList {
    pub total: u64,
    pub logs: Vec<Log>,
}

/// The entry `user` causes with `event` in this request, at `now_ms`.
pub fn entry(ctx: &Ctx, geo: &Geo, user: &UserDoc, event: &str, now_ms: i64) -> LogDoc {
    LogDoc {
        event: event.to_string(),
        user_id: user.id.clone(),
        user_email: user.email.clone().unwrap_or_default(),
        user_name: user.name.clone(),
        ip: ctx.ip.clone(),
        time_ms: now_ms,
        device: ua::parse(&ctx.user_agent),
        country_code: geo.country(&ctx.ip),
        mode: "default".to_string(),
    }
}

/// Stores one entry under `id`, expiring `retention_days` after its time.
pub async fn put(
    table: &DynTable,
    project: &str,
    id: &str,
    doc: &LogDoc,
    retention_days: i64,
) -> AppResult<()> {
    let expires_at = doc
        .time_ms
        .div_euclid(1000)
        .saturating_add(retention_days.saturating_mul(86_400));
    let data = serde_json::to_string(doc).map_err(AppError::internal)?;
    let item = Item::new(keys::log(project, &doc.user_id, doc.time_ms, id))
        .with("data", Val::S(data))
        .with(EXPIRES_AT, Val::N(expires_at));
    table.put(item, Some(Cond::NotExists)).await?;
    Ok(())
}

/// Records `event` for `user`, acting in this request. Best effort: a failure is logged as a
/// warning and never fails the request. A retention of zero days or less records nothing.
pub async fn record(st: &AppState, ctx: &Ctx, user: &UserDoc, event: &str) {
    let retention_days = ctx.project.log_retention_days;
    if retention_days <= 0 {
        return;
    }
    let now = st.now_ms();
    let doc = entry(ctx, &st.geo, user, event, now);
    let stored = match entry_id() {
        Ok(id) => put(&st.table, &ctx.project.id, &id, &doc, retention_days).await,
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, event, "security log entry not recorded");
    }
}

/// An entry id that sorts later entries of one process first within the same millisecond
/// (an inverted sequence), with random bits so containers never collide.
fn entry_id() -> AppResult<String> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(format!(
        "{:016x}{}",
        u64::MAX - n,
        crate::crypto::random_hex(4)?
    ))
}

/// The user's live entries, newest first: the total count and the page at `offset`.
pub async fn list(
    st: &AppState,
    project: &str,
    user_id: &str,
    limit: usize,
    offset: usize,
) -> AppResult<(u64, Vec<LogDoc>)> {
    let spec = QuerySpec {
        prefix: keys::LOG_PREFIX.to_string(),
        ..Default::default()
    };
    let items = st
        .table
        .query(&keys::log_pk(project, user_id), &spec)
        .await?;
    let total = items.len() as u64;
    let page = items
        .iter()
        .skip(offset)
        .take(limit)
        .map(|i| serde_json::from_str(i.s("data").unwrap_or("")).map_err(AppError::internal))
        .collect::<AppResult<Vec<LogDoc>>>()?;
    Ok((total, page))
}

fn bad_query(description: &str) -> AppError {
    AppError::invalid_param("queries", description)
}

/// `(limit, offset)` from the `queries` parameter: a JSON array (request bodies) or the keys
/// `queries[0]`, `queries[1]`, ... (query strings; also a lone `queries` or `queries[]`).
/// Each query is Appwrite's JSON form (`{"method":"limit","values":[25]}`) or the legacy
/// form (`limit(25)`, `offset(5)`); the first `limit` and the first `offset` win. Anything
/// else is 400 `general_argument_invalid` naming `queries`.
pub fn parse_queries(params: &Params) -> AppResult<(usize, usize)> {
    let mut limit = None;
    let mut offset = None;
    for entry in crate::queries::entries(params)? {
        let q = crate::queries::parse(&entry)?;
        match q.method.as_str() {
            "limit" => {
                let n = int_value(&q.method, &q.values)?;
                if !(1..=MAX_LIMIT as i64).contains(&n) {
                    return Err(bad_query(
                        "Invalid limit: Value must be a valid range between 1 and 5,000",
                    ));
                }
                limit.get_or_insert(n as usize);
            }
            "offset" => {
                let n = int_value(&q.method, &q.values)?;
                let n = usize::try_from(n).map_err(|_| {
                    bad_query("Invalid offset: Value must be an integer of at least 0")
                })?;
                offset.get_or_insert(n);
            }
            other => return Err(bad_query(&format!("Invalid query method: {other}"))),
        }
    }
    Ok((limit.unwrap_or(DEFAULT_LIMIT), offset.unwrap_or(0)))
}

/// The first value as an integer (a JSON integer or a numeric string).
fn int_value(method: &str, values: &[Value]) -> AppResult<i64> {
    let bad = || bad_query(&format!("Invalid {method}: Value must be an integer"));
    match values.first() {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::FixedClock;
    use crate::error::ErrorType;
    use crate::http::{Caller, Config};
    use crate::project::Project;
    use crate::store::redb_store::RedbTable;

    #[test]
    fn newer_entries_sort_first() {
        let times = [0, 1, 999, 1_000, 1_700_000_000_000, 1_700_000_000_001];
        let sks: Vec<String> = times
            .iter()
            .map(|t| keys::log("p", "u", *t, "id").sk)
            .collect();
        for pair in sks.windows(2) {
            assert!(pair[1] < pair[0], "{} !< {}", pair[1], pair[0]);
        }
        assert_eq!(keys::log_inverted_time(0), "9999999999999");
        assert_eq!(keys::log_inverted_time(keys::LOG_TIME_MAX), "0000000000000");
        assert_eq!(keys::log_inverted_time(-5), "9999999999999");
        let k = keys::log("p", "u", 1, "x");
        assert!(k.sk.starts_with(keys::LOG_PREFIX));
        assert_eq!(k.pk, "P#p#U#u#LOG");
        assert_ne!(k.pk, keys::user("p", "u").pk);
        // Same millisecond: the id decides, deterministically.
        assert!(keys::log("p", "u", 5, "a").sk < keys::log("p", "u", 5, "b").sk);
    }

    fn get(q: &str) -> Params {
        Params::parse("GET", Some(q), "", b"").unwrap_or_default()
    }

    fn body(json: &str) -> Params {
        Params::parse("POST", None, "application/json", json.as_bytes()).unwrap_or_default()
    }

    fn enc(s: &str) -> String {
        serde_urlencoded::to_string([("v", s)])
            .unwrap_or_default()
            .trim_start_matches("v=")
            .to_string()
    }

    #[test]
    fn queries_default_to_25_from_0() {
        assert_eq!(parse_queries(&get("")).ok(), Some((25, 0)));
        assert_eq!(parse_queries(&body("{}")).ok(), Some((25, 0)));
        assert_eq!(
            parse_queries(&body(r#"{"queries":[]}"#)).ok(),
            Some((25, 0))
        );
    }

    #[test]
    fn queries_in_both_syntaxes() {
        let limit = enc(r#"{"method":"limit","values":[10]}"#);
        let offset = enc(r#"{"method":"offset","values":[5]}"#);
        let q = format!("queries%5B0%5D={limit}&queries%5B1%5D={offset}&project=p");
        assert_eq!(parse_queries(&get(&q)).ok(), Some((10, 5)));
        // Unencoded brackets and the legacy form.
        assert_eq!(
            parse_queries(&get("queries[0]=offset(3)&queries[1]=limit(7)")).ok(),
            Some((7, 3))
        );
        assert_eq!(parse_queries(&get("queries=limit(2)")).ok(), Some((2, 0)));
        assert_eq!(
            parse_queries(&get("queries[]=offset(4)")).ok(),
            Some((25, 4))
        );
        // Numeric index order, and the first occurrence wins.
        assert_eq!(
            parse_queries(&get("queries[10]=limit(7)&queries[2]=limit(5)")).ok(),
            Some((5, 0))
        );
        // Request bodies: an array of strings (or of query objects).
        let b = body(
            r#"{"queries":["{\"method\":\"limit\",\"values\":[3]}","offset(1)",{"method":"offset","values":[9]}]}"#,
        );
        assert_eq!(parse_queries(&b).ok(), Some((3, 1)));
        // Numeric strings and spaces are accepted; an `attribute` is ignored.
        let b = body(
            r#"{"queries":["{\"method\":\"limit\",\"attribute\":\"\",\"values\":[\"12\"]}"," limit( 4 ) "]}"#,
        );
        assert_eq!(parse_queries(&b).ok(), Some((12, 0)));
        assert_eq!(
            parse_queries(&get("queries[0]=limit(5000)")).ok(),
            Some((5000, 0))
        );
    }

    #[test]
    fn bad_queries_are_400_naming_queries() {
        let cases = [
            "queries[0]=limit(0)",
            "queries[0]=limit(5001)",
            "queries[0]=limit(-1)",
            "queries[0]=offset(-1)",
            "queries[0]=limit(2.5)",
            "queries[0]=limit()",
            "queries[0]=limit(abc)",
            "queries[0]=limit(5",
            "queries[0]=limit",
            "queries[0]=",
            "queries[0]=cursorAfter(\"x\")",
            "queries[0]=select([\"a\"])",
            "queries[0]=Query.limit(5)",
            "queries[0]={nope",
            "queries[0]=[1]",
            "queries[0]=limit(1)&queries[1]=orderDesc(\"$id\")",
        ];
        // A legacy string that cannot be converted is `general_query_invalid` (contract
        // §10.3); everything else names the parameter.
        let unconvertible = [
            "queries[0]=limit(5",
            "queries[0]=limit(abc)",
            "queries[0]=Query.limit(5)",
        ];
        for q in cases {
            let e = parse_queries(&get(q)).err();
            let kind = e.as_ref().map(|e| e.kind);
            let msg = e.map(|e| e.message).unwrap_or_default();
            if unconvertible.contains(&q) {
                assert_eq!(kind, Some(ErrorType::GeneralQueryInvalid), "{q}");
                assert!(msg.starts_with("Invalid query: "), "{q}: {msg}");
            } else {
                assert_eq!(kind, Some(ErrorType::GeneralArgumentInvalid), "{q}");
                assert!(msg.starts_with("Invalid `queries` param: "), "{q}: {msg}");
            }
        }
        let json_cases = [
            r#"{"queries":"x"}"#,
            r#"{"queries":5}"#,
            r#"{"queries":[5]}"#,
            r#"{"queries":[null]}"#,
            r#"{"queries":["{\"method\":\"equal\",\"attribute\":\"a\",\"values\":[1]}"]}"#,
            r#"{"queries":["{\"values\":[1]}"]}"#,
            r#"{"queries":["{\"method\":\"limit\",\"values\":5}"]}"#,
            r#"{"queries":["{\"method\":\"limit\",\"values\":[]}"]}"#,
            r#"{"queries":["{\"method\":\"offset\",\"values\":[-5]}"]}"#,
            r#"{"queries":["{\"method\":\"limit\",\"values\":[true]}"]}"#,
        ];
        for b in json_cases {
            let e = parse_queries(&body(b)).err();
            assert_eq!(
                e.map(|e| e.kind),
                Some(ErrorType::GeneralArgumentInvalid),
                "{b}"
            );
        }
        let e = parse_queries(&get("queries[0]=orderAsc(\"x\")")).err();
        assert_eq!(
            e.map(|e| e.message).as_deref(),
            Some("Invalid `queries` param: Invalid query method: orderAsc")
        );
    }

    fn spec_fields(schema: &str) -> Vec<String> {
        let spec: Value = serde_json::from_str(include_str!("../spec/appwrite-account-1.8.x.json"))
            .unwrap_or_default();
        let mut f: Vec<String> = spec["components"]["schemas"][schema]["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        f.sort();
        f
    }

    fn keys_of(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    }

    fn doc(country: &str) -> LogDoc {
        LogDoc {
            event: "user.create".into(),
            user_id: "u".into(),
            user_email: "a@b.c".into(),
            user_name: "A".into(),
            ip: "127.0.0.1".into(),
            time_ms: 1_000,
            device: Device::default(),
            country_code: country.into(),
            mode: "default".into(),
        }
    }

    #[test]
    fn log_and_log_list_match_the_spec() {
        let log = Log::from_doc(&doc("us"), "en");
        let v = serde_json::to_value(&log).unwrap_or_default();
        assert!(!spec_fields("log").is_empty());
        assert_eq!(keys_of(&v), spec_fields("log"));
        assert_eq!(v["time"], "1970-01-01T00:00:01.000+00:00");
        assert_eq!(v["countryCode"], "us");
        assert_eq!(v["countryName"], "United States");
        let list = LogList {
            total: 1,
            logs: vec![log],
        };
        let v = serde_json::to_value(&list).unwrap_or_default();
        assert_eq!(keys_of(&v), spec_fields("logList"));
        for code in ["--", "zz", ""] {
            let l = Log::from_doc(&doc(code), "en");
            assert_eq!(
                (l.country_code.as_str(), l.country_name.as_str()),
                ("--", "Unknown")
            );
        }
    }

    const T0: i64 = 1_700_000_000_000;

    fn setup() -> (AppState, Arc<FixedClock>, Ctx, UserDoc) {
        let clock = Arc::new(FixedClock::new(T0));
        let table = match RedbTable::in_memory(clock.clone()) {
            Ok(t) => Arc::new(t),
            Err(e) => panic!("{e}"),
        };
        let st = AppState::new(table, clock.clone(), Config::default());
        let ctx = Ctx {
            project: Arc::new({
                let mut p = Project::new("p1", "Project");
                p.log_retention_days = 1;
                p
            }),
            caller: Arc::new(Caller::Guest),
            params: Arc::new(Params::default()),
            ip: "10.0.0.7".into(),
            user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                         (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
                .into(),
            host: "localhost".into(),
            https: false,
            origin: None,
            locale: "en".into(),
            route: None,
            rate_counters: vec![],
        };
        let mut user = UserDoc::new("u1".into(), T0, Value::Null);
        user.email = Some("a@b.c".into());
        user.name = "Ann".into();
        (st, clock, ctx, user)
    }

    #[tokio::test]
    async fn record_then_list_newest_first_with_paging_and_expiry() {
        let (st, clock, ctx, user) = setup();
        for event in ["user.create", "session.create", "user.update"] {
            record(&st, &ctx, &user, event).await;
            clock.advance_s(1);
        }
        // Another user's and another project's logs stay apart.
        let mut other = user.clone();
        other.id = "u2".into();
        record(&st, &ctx, &other, "user.create").await;
        // Zero retention records nothing.
        let mut keep_none = (*ctx.project).clone();
        keep_none.log_retention_days = 0;
        let ctx0 = Ctx {
            project: Arc::new(keep_none),
            ..ctx.clone()
        };
        record(&st, &ctx0, &user, "user.delete").await;

        let events = |docs: &[LogDoc]| docs.iter().map(|d| d.event.clone()).collect::<Vec<_>>();
        let (total, page) = list(&st, "p1", "u1", 25, 0).await.unwrap_or_default();
        assert_eq!(total, 3);
        assert_eq!(
            events(&page),
            ["user.update", "session.create", "user.create"]
        );
        let first = &page[2];
        assert_eq!(first.time_ms, T0);
        assert_eq!(
            (
                first.user_id.as_str(),
                first.user_email.as_str(),
                first.user_name.as_str()
            ),
            ("u1", "a@b.c", "Ann")
        );
        assert_eq!(first.ip, "10.0.0.7");
        assert_eq!(first.country_code, "--");
        assert_eq!(first.mode, "default");
        assert_eq!(first.device, ua::parse(&ctx.user_agent));
        assert_eq!(first.device.client_name, "Chrome");

        let (total, page) = list(&st, "p1", "u1", 2, 0).await.unwrap_or_default();
        assert_eq!(
            (total, events(&page)),
            (
                3,
                vec!["user.update".to_string(), "session.create".to_string()]
            )
        );
        let (total, page) = list(&st, "p1", "u1", 2, 2).await.unwrap_or_default();
        assert_eq!((total, events(&page)), (3, vec!["user.create".to_string()]));
        let (total, page) = list(&st, "p1", "u1", 2, 5).await.unwrap_or_default();
        assert_eq!((total, page.len()), (3, 0));
        let (total, _) = list(&st, "p1", "u2", 25, 0).await.unwrap_or_default();
        assert_eq!(total, 1);
        let (total, _) = list(&st, "p2", "u1", 25, 0).await.unwrap_or_default();
        assert_eq!(total, 0);

        // Entries at T0, T0+1s and T0+2s with one day's retention: at T0+1d+1s the first two
        // are gone.
        clock.set(T0 + 86_401_000);
        let (total, page) = list(&st, "p1", "u1", 25, 0).await.unwrap_or_default();
        assert_eq!((total, events(&page)), (1, vec!["user.update".to_string()]));
        clock.advance_s(1);
        let (total, page) = list(&st, "p1", "u1", 25, 0).await.unwrap_or_default();
        assert_eq!((total, page.len()), (0, 0));
    }

    #[tokio::test]
    async fn record_never_fails_the_request() {
        // A duplicate key makes the store refuse the write; `record` only logs it.
        let (st, _clock, ctx, user) = setup();
        let d = entry(&ctx, &Geo::none(), &user, "user.update", T0);
        assert!(put(&st.table, "p1", "same", &d, 1).await.is_ok());
        assert!(put(&st.table, "p1", "same", &d, 1).await.is_err());
        record(&st, &ctx, &user, "user.update").await;
        let (total, _) = list(&st, "p1", "u1", 25, 0).await.unwrap_or_default();
        assert_eq!(total, 2);
    }
}
