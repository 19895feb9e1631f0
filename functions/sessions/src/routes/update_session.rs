//! `PATCH /v1/account/sessions/{sessionId}`: extends the session by the project's duration
//! and, for an OAuth2 session, refreshes the provider's tokens.

use axum::Json;
use axum::extract::{Path, State};
use shared::models::Session;
use shared::store::Cond;
use shared::{AppResult, AppState, Ctx, repo};

pub async fn handle(
    State(st): State<AppState>,
    Path(session_id): Path<String>,
    ctx: Ctx,
) -> AppResult<Json<Session>> {
    let mut s = super::find_session(&ctx, &session_id)?.clone();
    let now = st.now_ms();
    s.expire_ms = now + ctx.project.auths.duration.max(0) * 1000;
    s.updated_ms = now;
    shared::federation::refresh(&st, &ctx, &mut s).await?;
    repo::put_session(&st.table, &ctx.project.id, &s, Some(Cond::Exists)).await?;
    shared::audit::record(&st, &ctx, &ctx.auth()?.user, "session.update").await;
    Ok(Json(Session::from_doc(
        &s,
        super::is_current(&ctx, &s),
        String::new(),
        &st.data_key,
    )))
}
