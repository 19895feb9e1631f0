//! The `Table` port: the small DynamoDB subset the service uses, with two backends
//! (DynamoDB and redb). Conditions are an enum, never expression strings, so both backends
//! give them one meaning. Items carrying `expires_at` (epoch seconds, the table's TTL
//! attribute) are invisible once expired, on every backend: correctness never waits for
//! DynamoDB's lazy TTL sweeper.

pub mod dynamo;
pub mod keys;
pub mod redb_store;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::Clock;

/// A scalar attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    S(String),
    N(i64),
    B(bool),
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::S(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::N(n) => Some(*n),
            _ => None,
        }
    }
}

/// Primary key of an item: partition key and sort key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// Name of the TTL attribute (epoch seconds).
pub const EXPIRES_AT: &str = "expires_at";

/// One stored item: its key and flat scalar attributes (`pk` and `sk` are reserved names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: Key,
    pub attrs: BTreeMap<String, Val>,
}

impl Item {
    pub fn new(key: Key) -> Self {
        Self {
            key,
            attrs: BTreeMap::new(),
        }
    }
    pub fn with(mut self, name: &str, v: Val) -> Self {
        self.attrs.insert(name.to_string(), v);
        self
    }
    pub fn s(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(Val::as_str)
    }
    pub fn n(&self, name: &str) -> Option<i64> {
        self.attrs.get(name).and_then(Val::as_i64)
    }
    pub fn expires_at(&self) -> Option<i64> {
        self.n(EXPIRES_AT)
    }
    /// Whether the item is past its TTL at `now_s` (epoch seconds).
    pub fn expired(&self, now_s: i64) -> bool {
        self.expires_at().is_some_and(|e| e <= now_s)
    }
}

/// A write condition, evaluated against the live (unexpired) item at the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// No live item at the key.
    NotExists,
    /// A live item exists at the key.
    Exists,
    /// A live item exists and its attribute equals the value.
    Equals(String, Val),
}

/// One operation of a transactional write.
#[derive(Debug, Clone)]
pub enum TxOp {
    Put { item: Item, cond: Option<Cond> },
    Delete { key: Key, cond: Option<Cond> },
    Check { key: Key, cond: Cond },
}

/// Sort-key selection of a query within one partition.
#[derive(Debug, Clone, Default)]
pub struct QuerySpec {
    pub prefix: String,
    /// Exclusive start sort key (cursor), in query order.
    pub after: Option<String>,
    pub limit: Option<usize>,
    pub descending: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition failed; for transactions, `index` names the failed operation.
    #[error("condition failed")]
    ConditionFailed { index: Option<usize> },
    #[error("store backend failure: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The storage port. Every backend passes the same contract suite (`shared/tests/store_contract.rs`).
#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;
    /// Items found among `keys` (missing and expired ones omitted), in no particular order.
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>>;
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()>;
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()>;
    /// Live items of partition `pk` whose sort key starts with `spec.prefix`, in sort-key order.
    async fn query(&self, pk: &str, spec: &QuerySpec) -> StoreResult<Vec<Item>>;
    /// All operations succeed or none is applied. At most 100 operations, one per key.
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()>;
    /// Atomically add `delta` to numeric attribute `attr` (created at 0 when the item is
    /// absent or expired) and return the new value. `expires_at` is set when the item has none.
    async fn add(
        &self,
        key: &Key,
        attr: &str,
        delta: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64>;
}

pub type DynTable = Arc<dyn Table>;

/// Seconds since the epoch from an injected clock.
pub(crate) fn now_s(clock: &dyn Clock) -> i64 {
    clock.now_ms().div_euclid(1000)
}
