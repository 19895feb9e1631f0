//! `POST /v1/account/verifications/email` (alias `POST /v1/account/verification`): emails a
//! one-hour link proving the signed-in user owns their address.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::crypto::random_hex;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, tokens};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Token>)> {
    tokens::require_mail(&st, &ctx)?;
    let url = tokens::redirect_param(&st, &ctx, "url")?;
    let user = &ctx.auth()?.user;
    let email = user.email.clone().ok_or_else(|| {
        AppError::new(
            ErrorType::UserEmailNotFound,
            "The current user has no email address.",
        )
    })?;
    if user.email_verification {
        return Err(AppError::new(
            ErrorType::UserEmailAlreadyVerified,
            "The email of the current user is already verified.",
        ));
    }
    let secret = random_hex(128)?;
    let doc = tokens::issue(&st, &ctx, &user.id, TokenKind::Verification, &secret, 3600).await?;
    let expire = shared::clock::iso(doc.expire_ms);
    let mut vars = tokens::vars(&st, &ctx, user);
    vars.link = tokens::build_link(
        &url,
        &[
            ("userId", &user.id),
            ("secret", &secret),
            ("expire", &expire),
        ],
    );
    vars.expires_minutes = 60;
    tokens::send_email(
        &st,
        &ctx,
        MessageKind::Verification,
        &email,
        &user.name,
        &vars,
    )
    .await?;
    shared::audit::record(&st, &ctx, user, "verification.create").await;
    Ok((StatusCode::CREATED, Json(tokens::token_model(&doc))))
}
