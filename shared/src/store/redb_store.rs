//! Embedded backend on redb: one ACID table keyed by `(pk, sk)`, a file under the data dir
//! (the local default) or in memory (unit tests). redb serialises write transactions, so a
//! condition and the write it guards are atomic, as in DynamoDB.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::Value;

use super::{Cond, Item, Key, QuerySpec, StoreError, StoreResult, Table, TxOp, Val, now_s};
use crate::clock::Clock;

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

pub struct RedbTable {
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
}

fn backend<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl RedbTable {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let db = Database::create(path).map_err(backend)?;
        Self::init(db, clock)
    }

    /// A fresh in-memory database.
    pub fn in_memory(clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(backend)?;
        Self::init(db, clock)
    }

    fn init(db: Database, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let tx = db.begin_write().map_err(backend)?;
        tx.open_table(ITEMS).map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(Self {
            db: Arc::new(db),
            clock,
        })
    }

    async fn blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Database, i64) -> StoreResult<T> + Send + 'static,
    {
        let db = self.db.clone();
        let now = now_s(self.clock.as_ref());
        tokio::task::spawn_blocking(move || f(&db, now))
            .await
            .map_err(backend)?
    }
}

fn encode(attrs: &BTreeMap<String, Val>) -> Vec<u8> {
    let map: serde_json::Map<String, Value> = attrs
        .iter()
        .map(|(k, v)| {
            let j = match v {
                Val::S(s) => Value::String(s.clone()),
                Val::N(n) => Value::from(*n),
                Val::B(b) => Value::Bool(*b),
            };
            (k.clone(), j)
        })
        .collect();
    serde_json::to_vec(&map).unwrap_or_default()
}

fn decode(key: Key, bytes: &[u8]) -> StoreResult<Item> {
    let map: serde_json::Map<String, Value> = serde_json::from_slice(bytes).map_err(backend)?;
    let mut attrs = BTreeMap::new();
    for (k, v) in map {
        let val = match v {
            Value::String(s) => Val::S(s),
            Value::Bool(b) => Val::B(b),
            Value::Number(n) => Val::N(n.as_i64().ok_or_else(|| backend("non-integer number"))?),
            _ => return Err(backend("unsupported attribute type")),
        };
        attrs.insert(k, val);
    }
    Ok(Item { key, attrs })
}

fn read_live<T: ReadableTable<(&'static str, &'static str), &'static [u8]>>(
    table: &T,
    key: &Key,
    now: i64,
) -> StoreResult<Option<Item>> {
    let got = table
        .get((key.pk.as_str(), key.sk.as_str()))
        .map_err(backend)?;
    match got {
        Some(g) => {
            let item = decode(key.clone(), g.value())?;
            Ok((!item.expired(now)).then_some(item))
        }
        None => Ok(None),
    }
}

fn check(cond: &Cond, live: Option<&Item>) -> bool {
    match cond {
        Cond::NotExists => live.is_none(),
        Cond::Exists => live.is_some(),
        Cond::Equals(name, v) => live.is_some_and(|i| i.attrs.get(name) == Some(v)),
    }
}

#[async_trait]
impl Table for RedbTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let key = key.clone();
        self.blocking(move |db, now| {
            let tx = db.begin_read().map_err(backend)?;
            let t = tx.open_table(ITEMS).map_err(backend)?;
            read_live(&t, &key, now)
        })
        .await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        let keys = keys.to_vec();
        self.blocking(move |db, now| {
            let tx = db.begin_read().map_err(backend)?;
            let t = tx.open_table(ITEMS).map_err(backend)?;
            let mut out = Vec::new();
            for k in &keys {
                if let Some(i) = read_live(&t, k, now)? {
                    out.push(i);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        self.transact(vec![TxOp::Put { item, cond }])
            .await
            .map_err(single)
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        self.transact(vec![TxOp::Delete {
            key: key.clone(),
            cond,
        }])
        .await
        .map_err(single)
    }

    async fn query(&self, pk: &str, spec: &QuerySpec) -> StoreResult<Vec<Item>> {
        let pk = pk.to_string();
        let spec = spec.clone();
        self.blocking(move |db, now| {
            let tx = db.begin_read().map_err(backend)?;
            let t = tx.open_table(ITEMS).map_err(backend)?;
            let start = (pk.as_str(), spec.prefix.as_str());
            let mut all = Vec::new();
            for row in t.range(start..).map_err(backend)? {
                let (k, v) = row.map_err(backend)?;
                let (p, s) = k.value();
                if p != pk || !s.starts_with(&spec.prefix) {
                    break;
                }
                let item = decode(Key::new(p, s), v.value())?;
                if !item.expired(now) {
                    all.push(item);
                }
            }
            if spec.descending {
                all.reverse();
            }
            let mut out: Vec<Item> = match &spec.after {
                Some(after) => all
                    .into_iter()
                    .filter(|i| {
                        if spec.descending {
                            i.key.sk < *after
                        } else {
                            i.key.sk > *after
                        }
                    })
                    .collect(),
                None => all,
            };
            if let Some(l) = spec.limit {
                out.truncate(l);
            }
            Ok(out)
        })
        .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        if ops.len() > 100 {
            return Err(backend("a transaction holds at most 100 operations"));
        }
        self.blocking(move |db, now| {
            let tx = db.begin_write().map_err(backend)?;
            {
                let mut t = tx.open_table(ITEMS).map_err(backend)?;
                let mut seen = std::collections::HashSet::new();
                for (i, op) in ops.iter().enumerate() {
                    let (key, cond) = match op {
                        TxOp::Put { item, cond } => (&item.key, cond.as_ref()),
                        TxOp::Delete { key, cond } => (key, cond.as_ref()),
                        TxOp::Check { key, cond } => (key, Some(cond)),
                    };
                    if !seen.insert(key.clone()) {
                        return Err(backend("two operations on one item in a transaction"));
                    }
                    if let Some(c) = cond {
                        let live = read_live(&t, key, now)?;
                        if !check(c, live.as_ref()) {
                            return Err(StoreError::ConditionFailed { index: Some(i) });
                        }
                    }
                }
                for op in &ops {
                    match op {
                        TxOp::Put { item, .. } => {
                            let bytes = encode(&item.attrs);
                            t.insert(
                                (item.key.pk.as_str(), item.key.sk.as_str()),
                                bytes.as_slice(),
                            )
                            .map_err(backend)?;
                        }
                        TxOp::Delete { key, .. } => {
                            t.remove((key.pk.as_str(), key.sk.as_str()))
                                .map_err(backend)?;
                        }
                        TxOp::Check { .. } => {}
                    }
                }
            }
            // Dropping `tx` without commit aborts: a failed condition writes nothing.
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn add(
        &self,
        key: &Key,
        attr: &str,
        delta: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64> {
        let key = key.clone();
        let attr = attr.to_string();
        self.blocking(move |db, now| {
            let tx = db.begin_write().map_err(backend)?;
            let value;
            {
                let mut t = tx.open_table(ITEMS).map_err(backend)?;
                let mut item = read_live(&t, &key, now)?.unwrap_or_else(|| Item::new(key.clone()));
                if let Some(e) = expires_at {
                    item.attrs
                        .entry(super::EXPIRES_AT.into())
                        .or_insert(Val::N(e));
                }
                value = item.n(&attr).unwrap_or(0) + delta;
                item.attrs.insert(attr, Val::N(value));
                let bytes = encode(&item.attrs);
                t.insert((key.pk.as_str(), key.sk.as_str()), bytes.as_slice())
                    .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(value)
        })
        .await
    }
}

/// Single-item writes report a failed condition without a transaction index.
fn single(e: StoreError) -> StoreError {
    match e {
        StoreError::ConditionFailed { .. } => StoreError::ConditionFailed { index: None },
        other => other,
    }
}
