//! `DELETE /v1/account/sessions/{sessionId}` (`current` = sign out).

use axum::extract::{Path, State};
use axum::response::Response;
use shared::http::{cookies, no_content};
use shared::{AppResult, AppState, Ctx, repo};

pub async fn handle(
    State(st): State<AppState>,
    Path(session_id): Path<String>,
    ctx: Ctx,
) -> AppResult<Response> {
    let s = super::find_session(&ctx, &session_id)?;
    let current = super::is_current(&ctx, s);
    repo::delete_sessions(
        &st.table,
        &ctx.project.id,
        &s.user_id,
        std::slice::from_ref(&s.id),
    )
    .await?;
    let mut res = no_content();
    if current {
        cookies::clear_session(res.headers_mut(), &ctx, st.now_ms());
    }
    shared::audit::record(&st, &ctx, &ctx.auth()?.user, "session.delete").await;
    Ok(res)
}
