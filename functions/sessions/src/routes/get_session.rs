//! `GET /v1/account/sessions/{sessionId}` (`current` allowed).

use axum::Json;
use axum::extract::{Path, State};
use shared::models::Session;
use shared::{AppResult, AppState, Ctx};

pub async fn handle(
    State(st): State<AppState>,
    Path(session_id): Path<String>,
    ctx: Ctx,
) -> AppResult<Json<Session>> {
    let s = super::find_session(&ctx, &session_id)?;
    Ok(Json(Session::from_doc(
        s,
        super::is_current(&ctx, s),
        String::new(),
        &st.data_key,
    )))
}
