//! `POST /v1/account/mfa/authenticators/{type}`: a new TOTP secret (64 bytes, base32) and its
//! `otpauth://` URI. An unverified authenticator is replaced; a verified one is a 409.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, mfa, repo};

#[derive(Debug, Serialize)]
pub struct MfaType {
    pub secret: String,
    pub uri: String,
}

pub async fn handle(
    State(st): State<AppState>,
    Path(kind): Path<String>,
    ctx: Ctx,
) -> AppResult<Json<MfaType>> {
    super::totp_type(&kind)?;
    let mut user = ctx.auth()?.user.clone();
    if user.totp.as_ref().is_some_and(|t| t.verified) {
        return Err(AppError::new(
            ErrorType::UserAuthenticatorAlreadyVerified,
            "The current user already has a verified authenticator.",
        ));
    }
    let secret = mfa::new_totp_secret()?;
    user.totp = Some(mfa::TotpDoc {
        secret_enc: mfa::seal_totp(&st.data_key, &user.id, &secret)?,
        verified: false,
        last_step: 0,
    });
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    let b32 = mfa::base32(&secret);
    let label = user
        .email
        .clone()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| user.id.clone());
    let issuer = ctx.project.name.replace(':', " ");
    Ok(Json(MfaType {
        uri: mfa::otpauth_uri(&issuer, &label, &b32),
        secret: b32,
    }))
}
