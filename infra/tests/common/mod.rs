//! Test harness: the merged application on an in-memory store with a fixed clock, a
//! project and an API key, and a small request helper.
#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use shared::clock::FixedClock;
use shared::store::redb_store::RedbTable;
use shared::store::{Cond, DynTable, Item, Key, QuerySpec, StoreError, StoreResult, Table, TxOp};
use shared::{AppState, Config};
use tower::ServiceExt;

pub const T0: i64 = 1_800_000_000_000;

pub struct Harness {
    pub app: Router,
    pub state: AppState,
    pub clock: Arc<FixedClock>,
    pub project: String,
    pub key: String,
    pub counter: Arc<Counting>,
    pub outbox: std::path::PathBuf,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn typ(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }
}

/// Counts store calls (round trips) made through it.
pub struct Counting {
    pub inner: DynTable,
    pub calls: std::sync::atomic::AtomicUsize,
    pub fail_transactions: std::sync::atomic::AtomicBool,
}

impl Counting {
    pub fn take(&self) -> usize {
        self.calls.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
    fn hit(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl Table for Counting {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.hit();
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.hit();
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        self.hit();
        self.inner.put(item, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        self.hit();
        self.inner.delete(key, cond).await
    }
    async fn query(&self, pk: &str, spec: &QuerySpec) -> StoreResult<Vec<Item>> {
        self.hit();
        self.inner.query(pk, spec).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        self.hit();
        if self
            .fail_transactions
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(StoreError::Backend("injected fault".into()));
        }
        self.inner.transact(ops).await
    }
    async fn add(
        &self,
        key: &Key,
        attr: &str,
        delta: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64> {
        self.hit();
        self.inner.add(key, attr, delta, expires_at).await
    }
}

pub async fn harness() -> Harness {
    harness_with(Config::default()).await
}

pub async fn harness_with(mut config: Config) -> Harness {
    config.project_cache_ms = 0;
    let clock = Arc::new(FixedClock::new(T0));
    let inner: DynTable = Arc::new(RedbTable::in_memory(clock.clone()).expect("memory store"));
    let counter = Arc::new(Counting {
        inner,
        calls: Default::default(),
        fail_transactions: Default::default(),
    });
    let table: DynTable = counter.clone();
    let mut project = shared::project::Project::new("proj1", "Test");
    project.mail = Some(shared::project::MailSender {
        email: "noreply@example.org".into(),
        name: "Test".into(),
        reply_to: String::new(),
    });
    project.sms = Some(Default::default());
    shared::project::save_project(&table, &project)
        .await
        .expect("project");
    let key = infra::admin::create_key(&table, "proj1", "k", infra::admin::DEV_SCOPES, None)
        .await
        .expect("key");
    let outbox = std::env::temp_dir().join(format!(
        "outbox-{}-{}.jsonl",
        std::process::id(),
        shared::crypto::random_hex(6).expect("rng")
    ));
    let sink = Arc::new(shared::messaging::outbox::Outbox::new(
        outbox.clone(),
        clock.clone(),
    ));
    let state = AppState::new(table, clock.clone(), config)
        .with_mailer(sink.clone())
        .with_sms(sink)
        .with_jwt_key(b"test-server-key-test-server-key-0123".to_vec());
    let app = infra::app(state.clone());
    counter.take();
    Harness {
        app,
        state,
        clock,
        project: "proj1".into(),
        key,
        counter,
        outbox,
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.outbox);
    }
}

impl Harness {
    pub fn clock_now(&self) -> i64 {
        use shared::clock::Clock;
        self.clock.now_ms()
    }

    /// Messages in the outbox, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.outbox)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The newest message to `to`.
    pub fn last_to(&self, to: &str) -> Value {
        self.messages()
            .into_iter()
            .rev()
            .find(|m| m["to"] == to)
            .unwrap_or(Value::Null)
    }

    /// Sends a request; `headers` are (name, value) pairs added after the project header.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        self.send(self.request(method, path, headers, body)).await
    }

    /// The request `call` sends: project and host headers, a browser user agent, JSON body.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Request<Body> {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("x-appwrite-project", &self.project)
            .header("host", "localhost:8080")
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
            );
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        b.body(body).expect("request")
    }

    /// Sends all `requests` at once and returns their statuses, sorted.
    pub async fn concurrently(&self, requests: Vec<Request<Body>>) -> Vec<u16> {
        let mut tasks = tokio::task::JoinSet::new();
        for req in requests {
            let app = self.app.clone();
            tasks.spawn(async move {
                app.oneshot(req)
                    .await
                    .expect("infallible")
                    .status()
                    .as_u16()
            });
        }
        let mut statuses = vec![];
        while let Some(s) = tasks.join_next().await {
            statuses.push(s.unwrap_or(0));
        }
        statuses.sort();
        statuses
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn signup(&self, id: &str, email: &str, password: &str) -> Resp {
        let body = serde_json::json!({"userId": id, "email": email, "password": password});
        self.call(
            Method::POST,
            "/v1/account",
            &[("x-appwrite-key", &self.key)],
            Some(body),
        )
        .await
    }

    /// Signs in with the API key and returns (session json, encoded credential).
    pub async fn login(&self, email: &str, password: &str) -> (Value, String) {
        let body = serde_json::json!({"email": email, "password": password});
        let r = self
            .call(
                Method::POST,
                "/v1/account/sessions/email",
                &[("x-appwrite-key", &self.key)],
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let secret = r.body["secret"].as_str().unwrap_or("").to_string();
        (r.body, secret)
    }

    pub async fn set(&self, assignment: &str) {
        infra::admin::set(&self.state.table, &self.project, assignment)
            .await
            .expect("setting");
    }
}
