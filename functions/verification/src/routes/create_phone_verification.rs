//! `POST /v1/account/verifications/phone` (alias `POST /v1/account/verification/phone`):
//! texts a one-hour code to the signed-in user's phone (mock numbers: fixed code, no SMS).
//!
//! Unlike Appwrite, the code is bound to its purpose: it verifies the phone and cannot open
//! a session, and a sign-in code cannot verify the phone.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, tokens};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Token>)> {
    ctx.require_method(ctx.project.auths.phone, "Phone")?;
    tokens::require_sms(&st, &ctx)?;
    let user = &ctx.auth()?.user;
    let phone = user.phone.clone().ok_or_else(|| {
        AppError::new(
            ErrorType::UserPhoneNotFound,
            "The current user has no phone number.",
        )
    })?;
    if user.phone_verification {
        return Err(AppError::new(
            ErrorType::UserPhoneAlreadyVerified,
            "The phone of the current user is already verified.",
        ));
    }
    let mock = ctx
        .project
        .auths
        .mock_numbers
        .iter()
        .find(|m| m.phone == phone);
    let code = match mock {
        Some(m) => m.otp.clone(),
        None => tokens::six_digits()?,
    };
    let doc = tokens::issue(
        &st,
        &ctx,
        &user.id,
        TokenKind::PhoneVerification,
        &code,
        3600,
    )
    .await?;
    if mock.is_none() {
        let mut vars = tokens::vars(&st, &ctx, user);
        vars.code = code;
        vars.expires_minutes = 60;
        tokens::send_sms(&st, &ctx, MessageKind::PhoneVerification, &phone, &vars).await?;
    }
    shared::audit::record(&st, &ctx, user, "verification.create").await;
    Ok((StatusCode::CREATED, Json(tokens::token_model(&doc))))
}
