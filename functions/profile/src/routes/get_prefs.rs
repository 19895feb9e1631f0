//! `GET /v1/account/prefs`.

use axum::Json;
use serde_json::{Map, Value};
use shared::{AppResult, Ctx};

pub async fn handle(ctx: Ctx) -> AppResult<Json<Map<String, Value>>> {
    Ok(Json(ctx.auth()?.user.prefs.clone()))
}
