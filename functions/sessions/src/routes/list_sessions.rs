//! `GET /v1/account/sessions`: every live session of the caller, oldest first.

use axum::Json;
use axum::extract::State;
use shared::models::{Session, SessionList};
use shared::{AppResult, AppState, Ctx};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<SessionList>> {
    let auth = ctx.auth()?;
    let sessions: Vec<Session> = auth
        .sessions
        .iter()
        .map(|s| Session::from_doc(s, super::is_current(&ctx, s), String::new(), &st.data_key))
        .collect();
    Ok(Json(SessionList {
        total: sessions.len() as u64,
        sessions,
    }))
}
