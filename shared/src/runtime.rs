//! Building `AppState` from the environment for a Lambda container or the local server.
//!
//! `STORE` selects the backend: `dynamodb` (default on Lambda; table from `TABLE_NAME`,
//! endpoint and credentials from the usual AWS variables), `redb:<path>`, or `memory`.

use std::path::Path;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::http::{AppState, Config};
use crate::store::DynTable;
use crate::store::dynamo::{DynamoTable, client_from_env};
use crate::store::redb_store::RedbTable;

/// Opens the backend named by `spec` (`dynamodb`, `redb:<path>`, `memory`).
pub async fn open_store(spec: &str, clock: Arc<dyn Clock>) -> Result<DynTable, String> {
    match spec.split_once(':') {
        Some(("redb", path)) => Ok(Arc::new(
            RedbTable::open(Path::new(path), clock).map_err(|e| e.to_string())?,
        )),
        _ if spec == "memory" => Ok(Arc::new(
            RedbTable::in_memory(clock).map_err(|e| e.to_string())?,
        )),
        _ if spec == "dynamodb" => {
            let table =
                std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set".to_string())?;
            Ok(Arc::new(DynamoTable::new(
                client_from_env().await,
                table,
                clock,
            )))
        }
        _ => Err(format!(
            "unknown STORE `{spec}` (use dynamodb, redb:<path> or memory)"
        )),
    }
}

/// State for a Lambda container: `STORE` (default `dynamodb`) and `Config::from_env`.
pub async fn state_from_env() -> Result<AppState, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let spec = std::env::var("STORE").unwrap_or_else(|_| "dynamodb".into());
    let table = open_store(&spec, clock.clone()).await?;
    Ok(AppState::new(table, clock, Config::from_env()))
}
