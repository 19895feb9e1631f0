//! `GET /v1/account/mfa/factors` (callable while MFA is pending).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::{AppResult, AppState, Ctx, mfa};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaFactors {
    pub totp: bool,
    pub phone: bool,
    pub email: bool,
    pub recovery_code: bool,
}

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<MfaFactors>> {
    let user = &ctx.auth()?.user;
    let verified = mfa::verified_factors(user);
    let codes = match &user.recovery_codes {
        Some(sealed) => !mfa::open_codes(&st.data_key, &user.id, sealed)?.is_empty(),
        None => false,
    };
    Ok(Json(MfaFactors {
        totp: verified.contains(&"totp"),
        phone: verified.contains(&"phone"),
        email: verified.contains(&"email"),
        recovery_code: codes,
    }))
}
