//! `PATCH /v1/account/name`.

use axum::Json;
use axum::extract::State;
use shared::models::Account;
use shared::{AppResult, AppState, Ctx, repo, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Account>> {
    let mut user = ctx.auth()?.user.clone();
    user.name = validate::name("name", ctx.params.str_req("name")?)?;
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    Ok(Json(Account::from(&user)))
}
