//! The local all-in-one server: the five functions' routes in one process on an embedded
//! store, zero configuration. First start creates a project and a development API key,
//! prints both and writes `<data-dir>/local-project.json`.
//!
//! Flags: `--listen ADDR` (127.0.0.1:8080), `--data-dir DIR` (./.data), `--store SPEC`
//! (`redb` = `<data-dir>/store.redb`, `memory`, or `dynamodb` with `TABLE_NAME`).
//! Email and SMS go to `<data-dir>/outbox.jsonl` unless `MAIL`/`SMS` say otherwise
//! (`ses`, `sns`, `none`); the JWT key is `JWT_SECRET` or one kept in `<data-dir>/jwt.key`.
//! `--oauth2 NAME=JSON` (repeatable) stores an OAuth2 provider's settings in the project
//! at start (see `admin set-provider`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use shared::clock::{Clock, SystemClock};
use shared::{AppState, Config};

fn arg(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::http::init_logging();
    let args: Vec<String> = std::env::args().collect();
    let listen = arg(&args, "--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
    let data_dir = PathBuf::from(arg(&args, "--data-dir").unwrap_or_else(|| "./.data".into()));
    std::fs::create_dir_all(&data_dir)?;
    let store = match arg(&args, "--store").as_deref() {
        None | Some("redb") => format!("redb:{}", data_dir.join("store.redb").display()),
        Some(other) => other.to_string(),
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let table = shared::runtime::open_store(&store, clock.clone()).await?;
    if store == "dynamodb" {
        if let Ok(name) = std::env::var("TABLE_NAME") {
            shared::store::dynamo::create_table(
                &shared::store::dynamo::client_from_env().await,
                &name,
            )
            .await?;
        }
    }
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    let endpoint = format!("http://{addr}/v1");
    let (project, key) = infra::admin::bootstrap_local(&table, &data_dir, &endpoint).await?;
    println!("Appwrite-compatible account API on {endpoint}");
    println!("project: {project}");
    println!("api key: {key}");
    println!(
        "settings: {}",
        data_dir.join("local-project.json").display()
    );
    let outbox = format!("outbox:{}", data_dir.join("outbox.jsonl").display());
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| outbox.clone());
    let jwt_key = match shared::runtime::jwt_key_from_env()? {
        Some(k) => k,
        None => infra::admin::local_jwt_key(&data_dir)?,
    };
    let mut state = AppState::new(table, clock.clone(), Config::from_env()).with_jwt_key(jwt_key);
    if let Some(m) = shared::runtime::mailer(&var("MAIL"), clock.clone()).await? {
        state = state.with_mailer(m);
    }
    if let Some(s) = shared::runtime::sms(&var("SMS"), clock).await? {
        state = state.with_sms(s);
    }
    let state = state.with_geo(shared::runtime::geo_from_env()?);
    for (i, a) in args.iter().enumerate() {
        if a != "--oauth2" {
            continue;
        }
        let spec = args.get(i + 1).ok_or("--oauth2 needs NAME=JSON")?;
        let (name, json) = spec.split_once('=').ok_or("--oauth2 needs NAME=JSON")?;
        infra::admin::set_provider(&state.table, &project, name, json, &state.data_key).await?;
        println!("oauth2 provider {name} configured");
    }
    println!(
        "outbox: {} (codes and links land here)",
        data_dir.join("outbox.jsonl").display()
    );
    let app = infra::app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
