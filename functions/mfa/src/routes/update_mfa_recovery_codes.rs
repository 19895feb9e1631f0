//! `PATCH /v1/account/mfa/recovery-codes`: replaces the codes; needs a recent challenge. A
//! notice email follows.

use axum::Json;
use axum::extract::State;
use shared::messaging::templates::NoticeKind;
use shared::{AppResult, AppState, Ctx, mfa, repo};

use super::RecoveryCodes;

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<RecoveryCodes>> {
    mfa::require_recent(ctx.current_session(), st.now_ms())?;
    let mut user = ctx.auth()?.user.clone();
    if user.recovery_codes.is_none() {
        return Err(super::no_codes());
    }
    let codes = mfa::new_recovery_codes()?;
    user.recovery_codes = Some(mfa::seal_codes(&st.data_key, &user.id, &codes)?);
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    super::notice(&st, &ctx, &user, NoticeKind::RecoveryCodesRegenerated).await;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}
