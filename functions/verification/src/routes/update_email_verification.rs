//! `PUT /v1/account/verifications/email` (alias `PUT /v1/account/verification`): completes
//! email verification with the secret from the link. No session needed.

use axum::Json;
use axum::extract::State;
use shared::models::{Token, TokenKind};
use shared::{AppResult, AppState, Ctx, tokens};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Token>> {
    let done = tokens::consume(&st, &ctx, &[TokenKind::Verification], |u| {
        u.email_verification = true
    })
    .await?;
    shared::audit::record(&st, &ctx, &done.user, "verification.update").await;
    Ok(Json(tokens::token_model(&done.token)))
}
