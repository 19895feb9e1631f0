//! `PUT /v1/account/mfa/authenticators/{type}`: verifies the authenticator with a first code;
//! `totp` joins the current session's factors. A notice email follows.

use axum::Json;
use axum::extract::{Path, State};
use shared::messaging::templates::NoticeKind;
use shared::models::Account;
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, mfa, repo};

pub async fn handle(
    State(st): State<AppState>,
    Path(kind): Path<String>,
    ctx: Ctx,
) -> AppResult<Json<Account>> {
    super::totp_type(&kind)?;
    let otp = ctx.params.str_req("otp")?.to_string();
    let mut user = ctx.auth()?.user.clone();
    let totp = user.totp.clone().ok_or_else(super::no_authenticator)?;
    if totp.verified {
        return Err(AppError::new(
            ErrorType::UserAuthenticatorAlreadyVerified,
            "The current user already has a verified authenticator.",
        ));
    }
    let secret = mfa::open_totp(&st.data_key, &user.id, &totp.secret_enc)?;
    let now = st.now_ms();
    let step =
        mfa::verify_totp(&secret, &otp, now.div_euclid(1000), totp.last_step).ok_or_else(|| {
            AppError::new(
                ErrorType::UserInvalidToken,
                "Invalid token passed in the request.",
            )
        })?;
    user.totp = Some(mfa::TotpDoc {
        verified: true,
        last_step: step,
        ..totp
    });
    user.updated_ms = now;
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    super::add_session_factors(&st, &ctx, &["totp"], None).await?;
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    super::notice(&st, &ctx, &user, NoticeKind::MfaAuthenticatorAdded).await;
    Ok(Json(Account::from(&user)))
}
