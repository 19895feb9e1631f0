//! Admin CLI against either backend (`--store dynamodb|redb:<path>|memory`, default
//! `redb:./.data/store.redb`; DynamoDB uses `TABLE_NAME` and the usual AWS variables).
//!
//! ```text
//! admin create-table
//! admin create-project <id> <name>
//! admin add-platform <project> <type> <hostname> [name]
//! admin create-key <project> <name> <scope,scope,...> [expire-ms]
//! admin set <project> <path=value>...      e.g. auths.maxSessions=3 auths.anonymous=false
//! admin show-project <project>
//! admin set-provider <project> <provider> '{"enabled":true,"clientId":"…","clientSecret":"…","options":{…}}'
//! ```
//! `set-provider` seals the client secret with the key derived from `JWT_SECRET` (the
//! functions' server key), which must therefore be set.
//! A redb file is locked by a running local server: stop it before changing settings.

use std::sync::Arc;

use shared::clock::{Clock, SystemClock};

fn usage() -> ! {
    eprintln!(
        "usage: admin [--store SPEC] <create-table|create-project|add-platform|create-key|set|set-provider|show-project> ..."
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut store = "redb:./.data/store.redb".to_string();
    if args.first().map(String::as_str) == Some("--store") {
        store = args.get(1).cloned().unwrap_or_else(|| usage());
        args.drain(..2);
    }
    let cmd = args.first().cloned().unwrap_or_else(|| usage());
    let a = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    if cmd == "create-table" {
        let name = std::env::var("TABLE_NAME")?;
        shared::store::dynamo::create_table(&shared::store::dynamo::client_from_env().await, &name)
            .await?;
        println!("table {name} ready");
        return Ok(());
    }
    if let Some(path) = store.strip_prefix("redb:") {
        if let Some(dir) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let table = shared::runtime::open_store(&store, clock.clone()).await?;
    match cmd.as_str() {
        "create-project" => {
            let p = infra::admin::create_project(&table, &a(1), &a(2)).await?;
            println!("{}", serde_json::to_string_pretty(&p)?);
        }
        "add-platform" => {
            let name = args.get(4).cloned().unwrap_or_else(|| a(3));
            infra::admin::add_platform(&table, &a(1), &a(2), &a(3), &name).await?;
            println!("platform added");
        }
        "create-key" => {
            let scopes = a(3);
            let scopes: Vec<&str> = scopes.split(',').collect();
            let expire = args.get(4).and_then(|e| e.parse().ok());
            let key = infra::admin::create_key(&table, &a(1), &a(2), &scopes, expire).await?;
            println!("{key}");
        }
        "set" => {
            let project = a(1);
            let mut last = None;
            for assignment in args.iter().skip(2) {
                last = Some(infra::admin::set(&table, &project, assignment).await?);
            }
            let p = last.unwrap_or_else(|| usage());
            println!("{}", serde_json::to_string_pretty(&p)?);
        }
        "set-provider" => {
            let key = shared::runtime::jwt_key_from_env()?
                .ok_or("set-provider needs JWT_SECRET (the functions' server key)")?;
            let data_key = shared::http::derive_data_key(&key);
            infra::admin::set_provider(&table, &a(1), &a(2), &a(3), &data_key).await?;
            println!("provider {} stored (secret sealed)", a(2));
        }
        "show-project" => {
            let p = infra::admin::require_project(&table, &a(1)).await?;
            println!("{}", serde_json::to_string_pretty(&p)?);
        }
        _ => usage(),
    }
    Ok(())
}
