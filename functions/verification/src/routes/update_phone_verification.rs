//! `PUT /v1/account/verifications/phone` (alias `PUT /v1/account/verification/phone`).

use axum::Json;
use axum::extract::State;
use shared::models::{Token, TokenKind};
use shared::{AppResult, AppState, Ctx, tokens};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Token>> {
    let done = tokens::consume(&st, &ctx, &[TokenKind::PhoneVerification], |u| {
        u.phone_verification = true
    })
    .await?;
    shared::audit::record(&st, &ctx, &done.user, "verification.update").await;
    Ok(Json(tokens::token_model(&done.token)))
}
