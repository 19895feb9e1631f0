//! `GET /v1/account`: the signed-in user.

use axum::Json;
use shared::models::Account;
use shared::{AppResult, Ctx};

pub async fn handle(ctx: Ctx) -> AppResult<Json<Account>> {
    Ok(Json(Account::from(&ctx.auth()?.user)))
}
