//! `GET /v1/account/sessions/{sessionId}` (`current` allowed).

use axum::Json;
use axum::extract::Path;
use shared::models::Session;
use shared::{AppResult, Ctx};

pub async fn handle(Path(session_id): Path<String>, ctx: Ctx) -> AppResult<Json<Session>> {
    let s = super::find_session(&ctx, &session_id)?;
    Ok(Json(Session::from_doc(
        s,
        super::is_current(&ctx, s),
        String::new(),
    )))
}
