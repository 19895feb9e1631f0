//! Building `AppState` from the environment for a Lambda container or the local server.
//!
//! `STORE` selects the backend: `dynamodb` (default on Lambda; table from `TABLE_NAME`,
//! endpoint and credentials from the usual AWS variables), `redb:<path>`, or `memory`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::http::{AppState, Config};
use crate::messaging::outbox::Outbox;
use crate::messaging::ses::SesMailer;
use crate::messaging::sns::SnsSms;
use crate::messaging::{Mailer, SmsSender};
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

/// Mail adapter by name: `ses`, `outbox:<path>` or `none`.
pub async fn mailer(spec: &str, clock: Arc<dyn Clock>) -> Result<Option<Arc<dyn Mailer>>, String> {
    match spec.split_once(':') {
        Some(("outbox", path)) => Ok(Some(Arc::new(Outbox::new(PathBuf::from(path), clock)))),
        _ if spec == "ses" => Ok(Some(Arc::new(SesMailer::from_env().await))),
        _ if spec == "none" => Ok(None),
        _ => Err(format!(
            "unknown MAIL `{spec}` (use ses, outbox:<path> or none)"
        )),
    }
}

/// SMS adapter by name: `sns`, `outbox:<path>` or `none`.
pub async fn sms(spec: &str, clock: Arc<dyn Clock>) -> Result<Option<Arc<dyn SmsSender>>, String> {
    match spec.split_once(':') {
        Some(("outbox", path)) => Ok(Some(Arc::new(Outbox::new(PathBuf::from(path), clock)))),
        _ if spec == "sns" => Ok(Some(Arc::new(SnsSms::from_env().await))),
        _ if spec == "none" => Ok(None),
        _ => Err(format!(
            "unknown SMS `{spec}` (use sns, outbox:<path> or none)"
        )),
    }
}

/// The country database named by `GEO_MMDB`, or none (countries are then `--`).
pub fn geo_from_env() -> Result<crate::geo::Geo, String> {
    match std::env::var("GEO_MMDB") {
        Ok(path) if !path.is_empty() => crate::geo::Geo::open(Path::new(&path)),
        _ => Ok(crate::geo::Geo::none()),
    }
}

/// The JWT server key from `JWT_SECRET` (at least 32 characters).
pub fn jwt_key_from_env() -> Result<Option<Vec<u8>>, String> {
    match std::env::var("JWT_SECRET") {
        Ok(k) if k.len() >= 32 => Ok(Some(k.into_bytes())),
        Ok(_) => Err("JWT_SECRET must be at least 32 characters".into()),
        Err(_) => Ok(None),
    }
}

/// State for a Lambda container: `STORE` (default `dynamodb`), `MAIL` (default `ses`),
/// `SMS` (default `sns`), `JWT_SECRET` (required) and `Config::from_env`.
pub async fn state_from_env() -> Result<AppState, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let table = open_store(&var("STORE", "dynamodb"), clock.clone()).await?;
    let key = jwt_key_from_env()?.ok_or("JWT_SECRET is not set")?;
    let mut state = AppState::new(table, clock.clone(), Config::from_env()).with_jwt_key(key);
    if let Some(m) = mailer(&var("MAIL", "ses"), clock.clone()).await? {
        state = state.with_mailer(m);
    }
    if let Some(s) = sms(&var("SMS", "sns"), clock).await? {
        state = state.with_sms(s);
    }
    Ok(state.with_geo(geo_from_env()?))
}
