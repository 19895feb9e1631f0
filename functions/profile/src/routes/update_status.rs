//! `PATCH /v1/account/status`: the user blocks their own account. Sessions stop working at
//! once (every later call is 401 `user_blocked`) and this response clears the cookies.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use shared::http::cookies;
use shared::models::Account;
use shared::{AppResult, AppState, Ctx, repo};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let mut user = ctx.auth()?.user.clone();
    user.status = false;
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    let mut res = Json(Account::from(&user)).into_response();
    cookies::clear_session(res.headers_mut(), &ctx, st.now_ms());
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    Ok(res)
}
