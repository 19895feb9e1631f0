//! DynamoDB backend (the only module that imports aws-sdk-dynamodb). Conditions become
//! condition expressions that also treat TTL-expired items as absent, because DynamoDB's
//! sweeper deletes them lazily (hours or days later, never on moto).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
    KeyType, KeysAndAttributes, Put, ReturnValue, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};

use super::{
    Cond, EXPIRES_AT, Item, Key, QuerySpec, StoreError, StoreResult, Table, TxOp, Val, now_s,
};
use crate::clock::Clock;

type AttrMap = HashMap<String, AttributeValue>;

pub struct DynamoTable {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

fn backend<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Builds an SDK client from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).
pub async fn client_from_env() -> Client {
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Client::new(&conf)
}

/// Creates the single table (pk/sk strings, on-demand, TTL on `expires_at`) unless it
/// exists. The admin CLI, the tests and template.yaml describe the same table.
pub async fn create_table(client: &Client, name: &str) -> StoreResult<()> {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(backend)
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .map_err(backend)
    };
    let res = client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match res {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
        Err(e) => return Err(backend(DisplayErrorContext(&e))),
    }
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(EXPIRES_AT)
        .enabled(true)
        .build()
        .map_err(backend)?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| backend(DisplayErrorContext(&e)))?;
    Ok(())
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    fn now(&self) -> i64 {
        now_s(self.clock.as_ref())
    }
}

fn key_map(key: &Key) -> AttrMap {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(key.pk.clone())),
        ("sk".to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

fn to_av(v: &Val) -> AttributeValue {
    match v {
        Val::S(s) => AttributeValue::S(s.clone()),
        Val::N(n) => AttributeValue::N(n.to_string()),
        Val::B(b) => AttributeValue::Bool(*b),
    }
}

fn item_map(item: &Item) -> AttrMap {
    let mut m = key_map(&item.key);
    for (k, v) in &item.attrs {
        m.insert(k.clone(), to_av(v));
    }
    m
}

fn from_map(map: &AttrMap) -> StoreResult<Item> {
    let s = |n: &str| match map.get(n) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(backend("item without string key")),
    };
    let mut attrs = BTreeMap::new();
    for (k, v) in map {
        if k == "pk" || k == "sk" {
            continue;
        }
        let val = match v {
            AttributeValue::S(s) => Val::S(s.clone()),
            AttributeValue::N(n) => Val::N(n.parse().map_err(backend)?),
            AttributeValue::Bool(b) => Val::B(*b),
            _ => return Err(backend("unsupported attribute type")),
        };
        attrs.insert(k.clone(), val);
    }
    Ok(Item {
        key: Key::new(s("pk")?, s("sk")?),
        attrs,
    })
}

/// A condition expression with its names and values.
struct Expr {
    text: String,
    names: HashMap<String, String>,
    values: AttrMap,
}

fn cond_expr(cond: &Cond, now: i64) -> Expr {
    let mut names = HashMap::from([("#ttl".to_string(), EXPIRES_AT.to_string())]);
    let mut values = HashMap::from([(":now".to_string(), AttributeValue::N(now.to_string()))]);
    let live = "(attribute_not_exists(#ttl) OR #ttl > :now)";
    let text = match cond {
        Cond::NotExists => "(attribute_not_exists(pk) OR #ttl <= :now)".to_string(),
        Cond::Exists => format!("attribute_exists(pk) AND {live}"),
        Cond::Equals(name, v) => {
            names.insert("#c".into(), name.clone());
            values.insert(":c".into(), to_av(v));
            format!("#c = :c AND {live}")
        }
    };
    Expr {
        text,
        names,
        values,
    }
}

fn is_condition_failure<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(DisplayErrorContext(&e)))?;
        match out.item() {
            Some(m) => {
                let item = from_map(m)?;
                Ok((!item.expired(self.now())).then_some(item))
            }
            None => Ok(None),
        }
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        let now = self.now();
        let mut out = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending: Vec<AttrMap> = chunk.iter().map(key_map).collect();
            let mut rounds = 0;
            while !pending.is_empty() {
                rounds += 1;
                if rounds > 8 {
                    return Err(backend("batch get left keys unprocessed"));
                }
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(backend)?;
                let res = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ka)
                    .send()
                    .await
                    .map_err(|e| backend(DisplayErrorContext(&e)))?;
                if let Some(items) = res.responses().and_then(|r| r.get(&self.table)) {
                    for m in items {
                        let item = from_map(m)?;
                        if !item.expired(now) {
                            out.push(item);
                        }
                    }
                }
                if let Some(left) = res.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    pending = left.keys().to_vec();
                }
            }
        }
        Ok(out)
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_map(&item)));
        if let Some(c) = cond {
            let e = cond_expr(&c, self.now());
            req = req
                .condition_expression(e.text)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(Some(e.values));
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::ConditionFailed { index: None }),
            Err(e) => Err(backend(DisplayErrorContext(&e))),
        }
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)));
        if let Some(c) = cond {
            let e = cond_expr(&c, self.now());
            req = req
                .condition_expression(e.text)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(Some(e.values));
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::ConditionFailed { index: None }),
            Err(e) => Err(backend(DisplayErrorContext(&e))),
        }
    }

    async fn query(&self, pk: &str, spec: &QuerySpec) -> StoreResult<Vec<Item>> {
        let now = self.now();
        let mut all = Vec::new();
        let mut start: Option<AttrMap> = None;
        loop {
            let req = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()));
            // DynamoDB rejects an empty key-condition value: an empty prefix is the whole partition.
            let req = if spec.prefix.is_empty() {
                req.key_condition_expression("pk = :pk")
            } else {
                req.key_condition_expression("pk = :pk AND begins_with(sk, :pfx)")
                    .expression_attribute_values(":pfx", AttributeValue::S(spec.prefix.clone()))
            };
            let res = req
                .scan_index_forward(!spec.descending)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(DisplayErrorContext(&e)))?;
            for m in res.items() {
                let item = from_map(m)?;
                if item.expired(now) {
                    continue;
                }
                let after_ok = match &spec.after {
                    Some(a) if spec.descending => item.key.sk < *a,
                    Some(a) => item.key.sk > *a,
                    None => true,
                };
                if after_ok {
                    all.push(item);
                }
            }
            if spec.limit.is_some_and(|l| all.len() >= l) {
                break;
            }
            match res.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        if let Some(l) = spec.limit {
            all.truncate(l);
        }
        Ok(all)
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        let now = self.now();
        let mut items = Vec::with_capacity(ops.len());
        for op in &ops {
            let twi = match op {
                TxOp::Put { item, cond } => {
                    let mut b = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item_map(item)));
                    if let Some(c) = cond {
                        let e = cond_expr(c, now);
                        b = b
                            .condition_expression(e.text)
                            .set_expression_attribute_names(Some(e.names))
                            .set_expression_attribute_values(Some(e.values));
                    }
                    TransactWriteItem::builder()
                        .put(b.build().map_err(backend)?)
                        .build()
                }
                TxOp::Delete { key, cond } => {
                    let mut b = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(key)));
                    if let Some(c) = cond {
                        let e = cond_expr(c, now);
                        b = b
                            .condition_expression(e.text)
                            .set_expression_attribute_names(Some(e.names))
                            .set_expression_attribute_values(Some(e.values));
                    }
                    TransactWriteItem::builder()
                        .delete(b.build().map_err(backend)?)
                        .build()
                }
                TxOp::Check { key, cond } => {
                    let e = cond_expr(cond, now);
                    let b = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(key)))
                        .condition_expression(e.text)
                        .set_expression_attribute_names(Some(e.names))
                        .set_expression_attribute_values(Some(e.values));
                    TransactWriteItem::builder()
                        .condition_check(b.build().map_err(backend)?)
                        .build()
                }
            };
            items.push(twi);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(tc) => {
                    let index = tc
                        .cancellation_reasons()
                        .iter()
                        .position(|r| r.code() == Some("ConditionalCheckFailed"));
                    match index {
                        Some(i) => Err(StoreError::ConditionFailed { index: Some(i) }),
                        None => Err(backend(tc)),
                    }
                }
                other => Err(backend(other)),
            },
        }
    }

    async fn add(
        &self,
        key: &Key,
        attr: &str,
        delta: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64> {
        let now = self.now();
        for _ in 0..3 {
            let mut req = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_map(key)))
                .condition_expression(
                    "attribute_not_exists(pk) OR attribute_not_exists(#ttl) OR #ttl > :now",
                )
                .expression_attribute_names("#a", attr)
                .expression_attribute_names("#ttl", EXPIRES_AT)
                .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .return_values(ReturnValue::AllNew);
            req = match expires_at {
                Some(e) => req
                    .update_expression("ADD #a :d SET #ttl = if_not_exists(#ttl, :e)")
                    .expression_attribute_values(":e", AttributeValue::N(e.to_string())),
                None => req.update_expression("ADD #a :d"),
            };
            match req.send().await {
                Ok(out) => {
                    return match out.attributes().and_then(|a| a.get(attr)) {
                        Some(AttributeValue::N(n)) => n.parse().map_err(backend),
                        _ => Err(backend("counter missing after update")),
                    };
                }
                Err(e) if is_condition_failure(&e) => {
                    // The item is expired: replace it, unless someone else just did.
                    let mut item = Item::new(key.clone()).with(attr, Val::N(delta));
                    if let Some(e) = expires_at {
                        item = item.with(EXPIRES_AT, Val::N(e));
                    }
                    let e = cond_expr(&Cond::NotExists, now);
                    let res = self
                        .client
                        .put_item()
                        .table_name(&self.table)
                        .set_item(Some(item_map(&item)))
                        .condition_expression(e.text)
                        .set_expression_attribute_names(Some(e.names))
                        .set_expression_attribute_values(Some(e.values))
                        .send()
                        .await;
                    match res {
                        Ok(_) => return Ok(delta),
                        Err(e) if is_condition_failure(&e) => continue,
                        Err(e) => return Err(backend(DisplayErrorContext(&e))),
                    }
                }
                Err(e) => return Err(backend(DisplayErrorContext(&e))),
            }
        }
        Err(backend("counter update kept conflicting"))
    }
}
