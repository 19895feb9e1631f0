//! `DELETE /v1/account/sessions`: signs the caller out everywhere.

use axum::extract::State;
use axum::response::Response;
use shared::http::{cookies, no_content};
use shared::{AppResult, AppState, Ctx, repo};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let auth = ctx.auth()?;
    let ids: Vec<String> = auth.sessions.iter().map(|s| s.id.clone()).collect();
    repo::delete_sessions(&st.table, &ctx.project.id, &auth.user.id, &ids).await?;
    let mut res = no_content();
    cookies::clear_session(res.headers_mut(), &ctx, st.now_ms());
    shared::audit::record(&st, &ctx, &auth.user, "session.delete").await;
    Ok(res)
}
