//! `POST /v1/account/sessions/token`, `PUT /v1/account/sessions/magic-url` and
//! `PUT /v1/account/sessions/phone`: redeem a login token for a session, exactly once.

use axum::extract::State;
use axum::response::Response;
use shared::{AppResult, AppState, Ctx, tokens};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    tokens::redeem(&st, &ctx).await
}
