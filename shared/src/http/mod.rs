//! HTTP glue shared by every function: application state, the spec-driven route table, the
//! request gate (project, caller, scope, rate limit), cookies, and the outer layers (request
//! id and log line, panic guard, 404 fallback, CORS preflight).

pub mod cookies;
pub mod gate;
pub mod origin;
pub mod params;
pub mod ratelimit;
pub mod routes;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::clock::Clock;
use crate::error::{AppError, ErrorType, FaultDetail};
use crate::messaging::{Mailer, SmsSender};
use crate::project::ProjectCache;
use crate::store::DynTable;

pub use gate::{Caller, Ctx};

/// Process configuration, read once at start from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Peers whose `X-Forwarded-For` is believed (e.g. a local reverse proxy).
    pub trusted_proxies: Vec<IpAddr>,
    /// Hostnames always accepted as Origin (the API's own hosts).
    pub server_hosts: Vec<String>,
    /// Rate limits on (`_APP_OPTIONS_ABUSE` semantics).
    pub abuse: bool,
    /// Failed password sign-ins allowed per IP per hour, across all accounts (anti-spraying).
    pub signin_per_ip: i64,
    pub project_cache_ms: i64,
    /// Largest accepted request body.
    pub max_body: usize,
    /// The API's public base URL (`https://api.example.com`) for OAuth2 callback URLs; None
    /// uses the request's protocol and Host.
    pub public_endpoint: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            trusted_proxies: vec![],
            server_hosts: vec!["localhost".into(), "127.0.0.1".into()],
            abuse: true,
            signin_per_ip: 100,
            project_cache_ms: 5_000,
            max_body: 1 << 20,
            public_endpoint: None,
        }
    }
}

impl Config {
    /// `TRUSTED_PROXIES` (comma-separated IPs), `SERVER_HOSTS`, `RATE_LIMITS` (`off`
    /// disables), `SIGNIN_PER_IP`, `PROJECT_CACHE_MS`, `PUBLIC_ENDPOINT`.
    pub fn from_env() -> Self {
        let mut c = Config::default();
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("TRUSTED_PROXIES") {
            c.trusted_proxies = v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
        }
        if let Some(v) = var("SERVER_HOSTS") {
            c.server_hosts = v.split(',').map(|s| s.trim().to_lowercase()).collect();
        }
        if let Some(v) = var("RATE_LIMITS") {
            c.abuse = v != "off";
        }
        if let Some(n) = var("SIGNIN_PER_IP").and_then(|v| v.parse().ok()) {
            c.signin_per_ip = n;
        }
        c.public_endpoint = var("PUBLIC_ENDPOINT");
        if let Some(n) = var("PROJECT_CACHE_MS").and_then(|v| v.parse().ok()) {
            c.project_cache_ms = n;
        }
        c
    }
}

/// Everything a handler needs, carried explicitly (no globals).
#[derive(Clone)]
pub struct AppState {
    pub table: DynTable,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub projects: Arc<ProjectCache>,
    /// Email delivery; `None` answers 503 `general_smtp_disabled`.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// SMS delivery; `None` answers 503 `general_phone_disabled`.
    pub sms: Option<Arc<dyn SmsSender>>,
    /// Server key from which each project's JWT key is derived.
    pub jwt_key: Arc<Vec<u8>>,
    /// AES-256 key for secrets that must be readable back (recovery codes, TOTP secrets).
    pub data_key: Arc<Vec<u8>>,
    /// IP-to-country lookup (`--` everywhere without a database).
    pub geo: crate::geo::Geo,
    /// Outbound HTTP toward OAuth2 providers.
    pub fetcher: crate::outbound::DynFetcher,
}

impl AppState {
    /// State without message delivery and with a random JWT key (callers add what they need).
    pub fn new(table: DynTable, clock: Arc<dyn Clock>, config: Config) -> Self {
        let projects = Arc::new(ProjectCache::new(config.project_cache_ms));
        let jwt_key = crate::crypto::random_bytes::<32>()
            .map(|b| b.to_vec())
            .unwrap_or_default();
        let data_key = derive_data_key(&jwt_key);
        AppState {
            table,
            clock,
            config: Arc::new(config),
            projects,
            mailer: None,
            sms: None,
            jwt_key: Arc::new(jwt_key),
            data_key: Arc::new(data_key),
            geo: crate::geo::Geo::none(),
            fetcher: Arc::new(crate::outbound::SharedFetcher),
        }
    }

    pub fn with_geo(mut self, geo: crate::geo::Geo) -> Self {
        self.geo = geo;
        self
    }

    pub fn with_mailer(mut self, m: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(m);
        self
    }

    pub fn with_sms(mut self, s: Arc<dyn SmsSender>) -> Self {
        self.sms = Some(s);
        self
    }

    /// Sets the server key; the JWT keys and the data-encryption key (recovery codes, TOTP
    /// secrets) are derived from it with distinct labels.
    pub fn with_jwt_key(mut self, key: Vec<u8>) -> Self {
        self.data_key = Arc::new(derive_data_key(&key));
        self.jwt_key = Arc::new(key);
        self
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// The data-encryption key derived from the server key (what `AppState::with_jwt_key` sets);
/// the admin CLI uses it to seal provider secrets the functions can open.
pub fn derive_data_key(server_key: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"appwrite-account/data-key/v1\0");
    h.update(server_key);
    h.finalize().to_vec()
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

/// A request id: process-unique and unpredictable enough to correlate logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn new_request_id() -> String {
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    let r = crate::crypto::random_hex(4).unwrap_or_default();
    format!("{r}{n:x}")
}

/// Wraps a function's routes with the gate and the outer layers. Lambda mains and the local
/// server both serve the result.
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    // A function whose routes arrive later has none yet; axum refuses a route layer then.
    let routes = if routes.has_routes() {
        routes.route_layer(middleware::from_fn_with_state(state.clone(), gate::gate))
    } else {
        routes
    };
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), origin::cors))
        .layer(middleware::from_fn(guard))
        .with_state(state)
}

async fn not_found() -> Response {
    AppError::new(
        ErrorType::GeneralRouteNotFound,
        "The requested route was not found. Please refer to the API docs and try again.",
    )
    .into_response()
}

/// Outermost layer: request id, one log line per request, and a panic guard that turns a
/// handler panic into a 500 while the process keeps serving.
async fn guard(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = new_request_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let fut = std::panic::AssertUnwindSafe(next.run(req));
    let mut res = match futures_catch(fut).await {
        Ok(r) => r,
        Err(msg) => {
            tracing::error!(request_id = %id, panic = %msg, "handler panicked");
            AppError::internal("handler panicked").into_response()
        }
    };
    if let Some(FaultDetail(detail)) = res.extensions().get::<FaultDetail>() {
        tracing::error!(request_id = %id, detail = %detail, "server error");
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    let route = res
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or(route);
    tracing::info!(
        target: "request",
        "{} {} {} {}ms id={}",
        method,
        route,
        res.status().as_u16(),
        start.elapsed().as_millis(),
        id
    );
    res
}

/// Polls a future, catching a panic as a message.
async fn futures_catch<F: std::future::Future<Output = Response>>(
    fut: std::panic::AssertUnwindSafe<F>,
) -> Result<Response, String> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(r)) => std::task::Poll::Ready(Ok(r)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                std::task::Poll::Ready(Err(msg))
            }
        }
    })
    .await
}

/// 204 No Content, for deletions.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Installs the log subscriber (plain lines, no ANSI); `RUST_LOG`-style level via `LOG_LEVEL`.
pub fn init_logging() {
    let level = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .try_init();
}
