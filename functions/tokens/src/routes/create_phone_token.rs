//! `POST /v1/account/tokens/phone` (alias `POST /v1/account/sessions/phone`): a 6-digit
//! sign-in code by SMS (valid 10 minutes). Project mock numbers get their fixed code and no SMS.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::crypto::encode_credential;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::tokens::OTP_LIFETIME_S;
use shared::{AppResult, AppState, Ctx, tokens, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Token>)> {
    ctx.require_method(ctx.project.auths.phone, "Phone")?;
    tokens::require_sms(&st, &ctx)?;
    let user_id = validate::custom_id("userId", ctx.params.str_req("userId")?, st.now_ms())?;
    let phone = validate::phone("phone", ctx.params.str_req("phone")?)?;
    let user = tokens::user_for_phone(&st, &ctx, &user_id, &phone).await?;
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
    let doc = tokens::issue(&st, &ctx, &user.id, TokenKind::Phone, &code, OTP_LIFETIME_S).await?;
    if mock.is_none() {
        let mut vars = tokens::vars(&st, &ctx, &user);
        vars.code = code.clone();
        vars.expires_minutes = 10;
        tokens::send_sms(&st, &ctx, MessageKind::PhoneOtp, &phone, &vars).await?;
    }
    // Appwrite returns the phone token's secret to keys in the encoded credential form.
    let mut shown = doc.clone();
    shown.user_id = tokens::shown_user_id(&st, &ctx, &user_id, &user, doc.expire_ms).await?;
    let for_key = encode_credential(&shown.user_id, &code);
    Ok(tokens::respond(&ctx, &shown, for_key, String::new()))
}
