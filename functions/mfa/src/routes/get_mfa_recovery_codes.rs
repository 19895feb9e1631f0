//! `GET /v1/account/mfa/recovery-codes`: the remaining codes; needs a recent challenge.

use axum::Json;
use axum::extract::State;
use shared::{AppResult, AppState, Ctx, mfa};

use super::RecoveryCodes;

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<RecoveryCodes>> {
    mfa::require_recent(ctx.current_session(), st.now_ms())?;
    let user = &ctx.auth()?.user;
    let sealed = user.recovery_codes.as_ref().ok_or_else(super::no_codes)?;
    let codes = mfa::open_codes(&st.data_key, &user.id, sealed)?;
    if codes.is_empty() {
        return Err(super::no_codes());
    }
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}
