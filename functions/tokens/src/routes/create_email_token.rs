//! `POST /v1/account/tokens/email`: a 6-digit sign-in code by email (valid 10 minutes).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::tokens::OTP_LIFETIME_S;
use shared::{AppResult, AppState, Ctx, tokens, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Token>)> {
    ctx.require_method(ctx.project.auths.email_otp, "Email OTP")?;
    tokens::require_mail(&st, &ctx)?;
    let user_id = validate::custom_id("userId", ctx.params.str_req("userId")?, st.now_ms())?;
    let email = validate::email("email", ctx.params.str_req("email")?)?;
    let with_phrase = ctx.params.bool_opt("phrase")?.unwrap_or(false);
    let user = tokens::user_for_email(&st, &ctx, &user_id, &email, true).await?;
    let code = tokens::six_digits()?;
    let doc = tokens::issue(
        &st,
        &ctx,
        &user.id,
        TokenKind::EmailOtp,
        &code,
        OTP_LIFETIME_S,
    )
    .await?;
    let phrase = if with_phrase {
        tokens::phrase()?
    } else {
        String::new()
    };
    let mut vars = tokens::vars(&st, &ctx, &user);
    vars.code = code.clone();
    vars.phrase = phrase.clone();
    vars.expires_minutes = 10;
    tokens::send_email(&st, &ctx, MessageKind::EmailOtp, &email, &user.name, &vars).await?;
    let mut shown = doc.clone();
    shown.user_id = tokens::shown_user_id(&st, &ctx, &user_id, &user, doc.expire_ms).await?;
    Ok(tokens::respond(&ctx, &shown, code, phrase))
}
