//! `GET /v1/account/logs`: the signed-in user's security log, newest first. `queries` takes
//! `limit` and `offset` only; `total=false` answers `total: 0`, as in Appwrite 1.8.

use axum::Json;
use axum::extract::State;
use shared::audit::{self, Log, LogList};
use shared::{AppResult, AppState, Ctx};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<LogList>> {
    let user_id = &ctx.auth()?.user.id;
    let (limit, offset) = audit::parse_queries(&ctx.params)?;
    let with_total = ctx.params.bool_opt("total")?.unwrap_or(true);
    let (total, docs) = audit::list(&st, &ctx.project.id, user_id, limit, offset).await?;
    Ok(Json(LogList {
        total: if with_total { total } else { 0 },
        logs: docs.iter().map(|d| Log::from_doc(d, &ctx.locale)).collect(),
    }))
}
