//! Store contract suite: every test runs the same behaviour against each `Table` backend
//! (redb on a file, redb in memory, and DynamoDB when `DYNAMODB_ENDPOINT` names a moto or
//! DynamoDB Local server) and proves that they agree on: attribute round trips, conditional
//! writes (`NotExists`/`Exists`/`Equals`) on put, delete and transactions, all-or-nothing
//! transactions reporting the failed operation's index, batch gets, prefix queries (order,
//! direction, cursor, limit, partition isolation), atomic counters under concurrency, and
//! TTL: once a `FixedClock` passes an item's `expires_at`, the item is absent to every read,
//! every condition and `add`, without waiting for any sweeper.
//!
//! Without `DYNAMODB_ENDPOINT` the DynamoDB backend is skipped with a notice, except when
//! `CI` is set: then every test fails, so CI can never silently skip DynamoDB.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use shared::clock::FixedClock;
use shared::store::dynamo::{DynamoTable, create_table};
use shared::store::redb_store::RedbTable;
use shared::store::{
    Cond, DynTable, EXPIRES_AT, Item, Key, QuerySpec, StoreError, StoreResult, TxOp, Val,
};

/// 2100-01-01T00:00:00Z: in the future, so no real TTL sweeper would ever touch test items.
const START_MS: i64 = 4_102_444_800_000;
const NOW: i64 = START_MS / 1000;

static SEQ: AtomicU32 = AtomicU32::new(0);

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    format!("store-contract-{tag}-{}-{n}-{nanos}", std::process::id())
}

/// The backends under test, sharing one clock; the redb file's directory goes with it.
struct Fixture {
    clock: Arc<FixedClock>,
    tables: Vec<(&'static str, DynTable)>,
    dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture() -> Fixture {
    let clock = Arc::new(FixedClock::new(START_MS));
    let dir = std::env::temp_dir().join(unique("redb"));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let file = RedbTable::open(&dir.join("store.redb"), clock.clone()).expect("open redb file");
    let mem = RedbTable::in_memory(clock.clone()).expect("open redb in memory");
    let mut tables: Vec<(&'static str, DynTable)> =
        vec![("redb-file", Arc::new(file)), ("redb-memory", Arc::new(mem))];
    if let Some(t) = dynamo(clock.clone()).await {
        tables.push(("dynamodb", t));
    }
    Fixture { clock, tables, dir }
}

/// A fresh table on the server named by `DYNAMODB_ENDPOINT`, created as the admin CLI does.
async fn dynamo(clock: Arc<FixedClock>) -> Option<DynTable> {
    let Some(endpoint) = std::env::var("DYNAMODB_ENDPOINT").ok().filter(|e| !e.is_empty()) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "DYNAMODB_ENDPOINT is unset but CI is set: the DynamoDB contract run must not be \
             skipped in CI (start moto and set DYNAMODB_ENDPOINT=http://127.0.0.1:4566)"
        );
        eprintln!("notice: DYNAMODB_ENDPOINT unset, DynamoDB backend skipped (redb only)");
        return None;
    };
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "contract"))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(conf);
    let name = unique("t");
    create_table(&client, &name)
        .await
        .expect("create the DynamoDB table at DYNAMODB_ENDPOINT");
    Some(Arc::new(DynamoTable::new(client, name, clock)))
}

/// Unwraps a store result, naming the backend and the step on failure.
trait At<T> {
    fn at(self, be: &str, what: &str) -> T;
}

impl<T> At<T> for StoreResult<T> {
    fn at(self, be: &str, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("[{be}] {what}: unexpected error {e:?}"))
    }
}

fn assert_cond_failed<T: Debug>(r: StoreResult<T>, index: Option<usize>, be: &str, what: &str) {
    match r {
        Err(StoreError::ConditionFailed { index: i }) if i == index => {}
        other => panic!("[{be}] {what}: expected ConditionFailed {{ index: {index:?} }}, got {other:?}"),
    }
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

fn num(k: Key, n: i64) -> Item {
    Item::new(k).with("n", Val::N(n))
}

fn sks(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.key.sk.as_str()).collect()
}

#[tokio::test]
async fn put_get_round_trip_and_delete() {
    let fx = fixture().await;
    for (be, t) in &fx.tables {
        let k = key("user#1", "PROFILE");
        let item = Item::new(k.clone())
            .with("name", Val::S("Ada Lovelace ☃ \"quoted\"".into()))
            .with("neg", Val::N(-42))
            .with("max", Val::N(i64::MAX))
            .with("min", Val::N(i64::MIN))
            .with("yes", Val::B(true))
            .with("no", Val::B(false));
        t.put(item.clone(), None).await.at(be, "put");
        assert_eq!(t.get(&k).await.at(be, "get"), Some(item), "[{be}] round trip");
        let missing = t.get(&key("user#1", "OTHER")).await.at(be, "get missing");
        assert_eq!(missing, None, "[{be}] missing sort key");
        let other_pk = t.get(&key("user#2", "PROFILE")).await.at(be, "get other pk");
        assert_eq!(other_pk, None, "[{be}] same sort key, other partition");

        let replaced = Item::new(k.clone()).with("name", Val::S("Bob".into()));
        t.put(replaced.clone(), None).await.at(be, "overwrite");
        let got = t.get(&k).await.at(be, "get after overwrite");
        assert_eq!(got, Some(replaced), "[{be}] unconditional put replaces the whole item");

        t.delete(&k, None).await.at(be, "delete");
        assert_eq!(t.get(&k).await.at(be, "get deleted"), None, "[{be}] deleted");
        t.delete(&k, None).await.at(be, "deleting a missing item is not an error");
    }
}

#[tokio::test]
async fn conditional_puts_and_deletes() {
    let fx = fixture().await;
    for (be, t) in &fx.tables {
        let (k, absent) = (key("c", "1"), key("c", "absent"));
        let v1 = num(k.clone(), 1).with("state", Val::S("a".into()));
        t.put(v1.clone(), Some(Cond::NotExists)).await.at(be, "first NotExists put");
        let second = t.put(num(k.clone(), 9), Some(Cond::NotExists)).await;
        assert_cond_failed(second, None, be, "second NotExists put");
        assert_eq!(t.get(&k).await.at(be, "get"), Some(v1), "[{be}] loser wrote nothing");

        let v2 = num(k.clone(), 2).with("state", Val::S("a".into()));
        t.put(v2.clone(), Some(Cond::Exists)).await.at(be, "Exists put on live item");
        let r = t.put(num(absent.clone(), 1), Some(Cond::Exists)).await;
        assert_cond_failed(r, None, be, "Exists put on absent item");
        assert_eq!(t.get(&absent).await.at(be, "get"), None, "[{be}] nothing created");

        let v3 = num(k.clone(), 3).with("state", Val::S("a".into()));
        let eq2 = Cond::Equals("n".into(), Val::N(2));
        t.put(v3.clone(), Some(eq2.clone())).await.at(be, "Equals put, matching");
        for (cond, what) in [
            (eq2, "Equals put, stale value"),
            (Cond::Equals("n".into(), Val::S("3".into())), "Equals put, other type"),
            (Cond::Equals("zz".into(), Val::N(3)), "Equals put, missing attribute"),
            (Cond::Equals("n".into(), Val::N(3)), "Equals put, absent item"),
        ] {
            let target = if what.ends_with("absent item") { &absent } else { &k };
            let r = t.put(num(target.clone(), 99), Some(cond)).await;
            assert_cond_failed(r, None, be, what);
        }
        assert_eq!(t.get(&k).await.at(be, "get"), Some(v3), "[{be}] failed puts wrote nothing");

        assert_cond_failed(t.delete(&absent, Some(Cond::Exists)).await, None, be, "Exists delete, absent");
        let r = t.delete(&k, Some(Cond::Equals("state".into(), Val::S("b".into())))).await;
        assert_cond_failed(r, None, be, "Equals delete, mismatch");
        assert_cond_failed(t.delete(&k, Some(Cond::NotExists)).await, None, be, "NotExists delete, live");
        assert!(t.get(&k).await.at(be, "get").is_some(), "[{be}] failed deletes kept the item");
        let eq_a = Cond::Equals("state".into(), Val::S("a".into()));
        t.delete(&k, Some(eq_a)).await.at(be, "Equals delete, matching");
        assert_eq!(t.get(&k).await.at(be, "get"), None, "[{be}] deleted");
        t.put(num(k.clone(), 4), None).await.at(be, "put");
        t.delete(&k, Some(Cond::Exists)).await.at(be, "Exists delete, live");
        assert_eq!(t.get(&k).await.at(be, "get"), None, "[{be}] deleted by Exists delete");
    }
}

#[tokio::test]
async fn expired_items_are_absent_to_reads_and_conditions() {
    let fx = fixture().await;
    let (x, keep) = (key("ttl", "k#x"), key("ttl", "k#keep"));
    let eq = Cond::Equals("n".into(), Val::N(1));
    for (be, t) in &fx.tables {
        let exp = num(x.clone(), 1).with(EXPIRES_AT, Val::N(NOW + 10));
        t.put(exp, None).await.at(be, "put expiring");
        t.put(num(keep.clone(), 2), None).await.at(be, "put durable");
    }
    fx.clock.advance_s(9);
    for (be, t) in &fx.tables {
        assert!(t.get(&x).await.at(be, "get").is_some(), "[{be}] live 1s before expiry");
    }
    fx.clock.advance_s(1); // now == expires_at: expired
    for (be, t) in &fx.tables {
        assert_eq!(t.get(&x).await.at(be, "get"), None, "[{be}] get hides expired");
        let got = t.batch_get(&[x.clone(), keep.clone()]).await.at(be, "batch_get");
        assert_eq!(sks(&got), ["k#keep"], "[{be}] batch_get hides expired");
        let spec = QuerySpec { prefix: "k#".into(), ..Default::default() };
        let got = t.query("ttl", &spec).await.at(be, "query");
        assert_eq!(sks(&got), ["k#keep"], "[{be}] query hides expired");

        assert_cond_failed(t.put(num(x.clone(), 5), Some(Cond::Exists)).await, None, be, "Exists put");
        assert_cond_failed(t.put(num(x.clone(), 5), Some(eq.clone())).await, None, be, "Equals put");
        assert_cond_failed(t.delete(&x, Some(Cond::Exists)).await, None, be, "Exists delete");
        assert_cond_failed(t.delete(&x, Some(eq.clone())).await, None, be, "Equals delete");
        let check = vec![TxOp::Check { key: x.clone(), cond: Cond::Exists }];
        assert_cond_failed(t.transact(check).await, Some(0), be, "Exists check");

        let fresh = num(x.clone(), 7);
        t.put(fresh.clone(), Some(Cond::NotExists)).await.at(be, "NotExists put over expired");
        assert_eq!(t.get(&x).await.at(be, "get"), Some(fresh), "[{be}] replaced, no TTL left");
    }
}

#[tokio::test]
async fn batch_get_returns_hits_only() {
    let fx = fixture().await;
    for (be, t) in &fx.tables {
        let a = num(key("b", "a"), 1).with("s", Val::S("x".into()));
        let b = num(key("b", "b"), 2).with("f", Val::B(false));
        let dead = num(key("b", "dead"), 3).with(EXPIRES_AT, Val::N(NOW));
        for item in [a.clone(), b.clone(), dead.clone()] {
            t.put(item, None).await.at(be, "put");
        }
        let keys = [key("b", "missing"), b.key.clone(), dead.key, a.key.clone(), key("bb", "a")];
        let mut got = t.batch_get(&keys).await.at(be, "batch_get");
        got.sort_by(|l, r| l.key.cmp(&r.key));
        assert_eq!(got, vec![a, b], "[{be}] hits with full attributes, no miss or expired");
        assert!(t.batch_get(&[]).await.at(be, "empty batch_get").is_empty(), "[{be}] empty");
    }
}

#[tokio::test]
async fn query_orders_pages_and_isolates() {
    let fx = fixture().await;
    for (be, t) in &fx.tables {
        for sk in ["a#3", "a#1", "b#1", "a", "a#2", "a$", "A#0"] {
            t.put(num(key("q", sk), 1).with("sk", Val::S(sk.into())), None).await.at(be, "put");
        }
        let dying = num(key("q", "a#15"), 1).with(EXPIRES_AT, Val::N(NOW + 5));
        t.put(dying, None).await.at(be, "put expiring");
        for pk in ["p", "q2", "qq", "Q"] {
            t.put(num(key(pk, "a#0"), 1), None).await.at(be, "put other partition");
        }
    }
    fx.clock.advance_s(5);
    let q = |prefix: &str, after: Option<&str>, limit: Option<usize>, descending: bool| QuerySpec {
        prefix: prefix.into(),
        after: after.map(String::from),
        limit,
        descending,
    };
    let cases: [(QuerySpec, &[&str]); 12] = [
        (q("a#", None, None, false), &["a#1", "a#2", "a#3"]),
        (q("a#", None, None, true), &["a#3", "a#2", "a#1"]),
        (q("a#", Some("a#1"), None, false), &["a#2", "a#3"]),
        (q("a#", Some("a#15"), None, false), &["a#2", "a#3"]),
        (q("a#", Some("a#3"), None, true), &["a#2", "a#1"]),
        (q("a#", None, Some(2), false), &["a#1", "a#2"]),
        (q("a#", Some("a#3"), Some(1), true), &["a#2"]),
        (q("a#", Some("a#3"), None, false), &[]),
        (q("a", None, None, false), &["a", "a#1", "a#2", "a#3", "a$"]),
        (q("b", None, None, false), &["b#1"]),
        (q("A", None, None, false), &["A#0"]),
        (q("z", None, None, false), &[]),
    ];
    for (be, t) in &fx.tables {
        for (spec, want) in &cases {
            let got = t.query("q", spec).await.at(be, "query");
            assert_eq!(sks(&got), *want, "[{be}] query {spec:?}");
        }
        let got = t.query("q", &q("a#2", None, None, false)).await.at(be, "query");
        let want = num(key("q", "a#2"), 1).with("sk", Val::S("a#2".into()));
        assert_eq!(got, vec![want], "[{be}] query returns whole items");
        let none = t.query("nope", &q("", None, None, false)).await.at(be, "query");
        assert!(none.is_empty(), "[{be}] unknown partition is empty");

        let (mut pages, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let spec = q("a#", cursor.as_deref(), Some(1), false);
            let page = t.query("q", &spec).await.at(be, "page");
            let Some(last) = page.last() else { break };
            cursor = Some(last.key.sk.clone());
            pages.push(sks(&page).join(","));
            assert!(pages.len() <= 3, "[{be}] paging does not terminate: {pages:?}");
        }
        assert_eq!(pages, ["a#1", "a#2", "a#3"], "[{be}] paging by cursor");
    }
}

#[tokio::test]
async fn transactions_are_all_or_nothing() {
    let fx = fixture().await;
    for (be, t) in &fx.tables {
        let (a, b, c) = (key("tx", "a"), key("tx", "b"), key("tx", "c"));
        let ops = vec![
            TxOp::Put { item: num(a.clone(), 1), cond: Some(Cond::NotExists) },
            TxOp::Put { item: num(b.clone(), 1), cond: Some(Cond::Exists) },
        ];
        assert_cond_failed(t.transact(ops).await, Some(1), be, "failing op 1");
        assert_eq!(t.get(&a).await.at(be, "get"), None, "[{be}] op 0 not applied");
        assert_eq!(t.get(&b).await.at(be, "get"), None, "[{be}] op 1 not applied");

        t.put(num(c.clone(), 1), None).await.at(be, "put c");
        let ops = vec![
            TxOp::Delete { key: c.clone(), cond: None },
            TxOp::Put { item: num(a.clone(), 1), cond: None },
            TxOp::Check { key: b.clone(), cond: Cond::Exists },
        ];
        assert_cond_failed(t.transact(ops).await, Some(2), be, "failing check at 2");
        assert!(t.get(&c).await.at(be, "get").is_some(), "[{be}] delete not applied");
        assert_eq!(t.get(&a).await.at(be, "get"), None, "[{be}] put not applied");

        let ops = vec![
            TxOp::Check { key: key("tx", "nope"), cond: Cond::Exists },
            TxOp::Put { item: num(a.clone(), 1), cond: None },
        ];
        assert_cond_failed(t.transact(ops).await, Some(0), be, "failing check at 0");

        let ops = vec![
            TxOp::Check { key: c.clone(), cond: Cond::Equals("n".into(), Val::N(1)) },
            TxOp::Put { item: num(a.clone(), 10), cond: Some(Cond::NotExists) },
            TxOp::Put { item: num(b.clone(), 20), cond: None },
            TxOp::Check { key: key("tx", "nope"), cond: Cond::NotExists },
        ];
        t.transact(ops).await.at(be, "passing transaction");
        assert_eq!(t.get(&a).await.at(be, "get"), Some(num(a.clone(), 10)), "[{be}] a");
        assert_eq!(t.get(&b).await.at(be, "get"), Some(num(b.clone(), 20)), "[{be}] b");
        assert_eq!(t.get(&c).await.at(be, "get"), Some(num(c.clone(), 1)), "[{be}] check wrote nothing");

        let ops = vec![
            TxOp::Delete { key: a.clone(), cond: Some(Cond::Equals("n".into(), Val::N(10))) },
            TxOp::Delete { key: b.clone(), cond: Some(Cond::Exists) },
        ];
        t.transact(ops).await.at(be, "conditional deletes");
        let left = t.batch_get(&[a.clone(), b.clone(), c.clone()]).await.at(be, "batch_get");
        assert_eq!(sks(&left), ["c"], "[{be}] both deletes applied");
    }
}

#[tokio::test]
async fn add_creates_increments_and_restarts_after_expiry() {
    let fx = fixture().await;
    let (x, y) = (key("ctr", "x"), key("ctr", "y"));
    for (be, t) in &fx.tables {
        assert_eq!(t.add(&x, "n", 5, Some(NOW + 100)).await.at(be, "add"), 5, "[{be}] 0+5");
        let inc = t.add(&x, "n", 3, Some(NOW + 999)).await.at(be, "add");
        assert_eq!(inc, 8, "[{be}] 5+3");
        assert_eq!(t.add(&x, "n", -10, None).await.at(be, "add"), -2, "[{be}] 8-10");
        let got = t.get(&x).await.at(be, "get");
        let want = num(x.clone(), -2).with(EXPIRES_AT, Val::N(NOW + 100));
        assert_eq!(got, Some(want), "[{be}] expiry set at creation only");

        t.put(Item::new(y.clone()).with("name", Val::S("n".into())), None).await.at(be, "put");
        assert_eq!(t.add(&y, "hits", 2, None).await.at(be, "add"), 2, "[{be}] new attribute");
        let got = t.get(&y).await.at(be, "get").map(|i| i.attrs.len());
        assert_eq!(got, Some(2), "[{be}] add keeps other attributes");
    }
    fx.clock.advance_s(100);
    for (be, t) in &fx.tables {
        assert_eq!(t.get(&x).await.at(be, "get"), None, "[{be}] counter expired");
        let restarted = t.add(&x, "n", 4, Some(NOW + 300)).await.at(be, "add");
        assert_eq!(restarted, 4, "[{be}] expired counter restarts at 0+4");
        let want = num(x.clone(), 4).with(EXPIRES_AT, Val::N(NOW + 300));
        assert_eq!(t.get(&x).await.at(be, "get"), Some(want), "[{be}] fresh item, new expiry");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_are_atomic() {
    let fx = fixture().await;
    let (k, dying) = (key("cc", "n"), key("cc", "dying"));
    for (be, t) in &fx.tables {
        t.put(num(dying.clone(), 1000).with(EXPIRES_AT, Val::N(NOW + 1)), None).await.at(be, "put");
    }
    fx.clock.advance_s(1);
    for (be, t) in &fx.tables {
        // On a fresh key and on an expired one, 20 racing adds each see a distinct total.
        for target in [&k, &dying] {
            let tasks: Vec<_> = (0..20)
                .map(|_| {
                    let (t, target) = (t.clone(), target.clone());
                    tokio::spawn(async move { t.add(&target, "n", 1, Some(NOW + 60)).await })
                })
                .collect();
            let mut seen = Vec::new();
            for task in tasks {
                seen.push(task.await.expect("add task panicked").at(be, "concurrent add"));
            }
            seen.sort_unstable();
            assert_eq!(seen, (1..=20).collect::<Vec<i64>>(), "[{be}] {target:?} totals");
            let n = t.get(target).await.at(be, "get").and_then(|i| i.n("n"));
            assert_eq!(n, Some(20), "[{be}] {target:?} sums exactly");
        }
    }
}
