//! `POST /v1/account/mfa/recovery-codes`: six single-use codes, encrypted at rest.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, mfa, repo};

use super::RecoveryCodes;

pub async fn handle(
    State(st): State<AppState>,
    ctx: Ctx,
) -> AppResult<(StatusCode, Json<RecoveryCodes>)> {
    let mut user = ctx.auth()?.user.clone();
    if let Some(sealed) = &user.recovery_codes {
        if !mfa::open_codes(&st.data_key, &user.id, sealed)?.is_empty() {
            return Err(AppError::new(
                ErrorType::UserRecoveryCodesAlreadyExists,
                "The current user already generated recovery codes.",
            ));
        }
    }
    let codes = mfa::new_recovery_codes()?;
    user.recovery_codes = Some(mfa::seal_codes(&st.data_key, &user.id, &codes)?);
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    Ok((
        StatusCode::CREATED,
        Json(RecoveryCodes {
            recovery_codes: codes,
        }),
    ))
}
