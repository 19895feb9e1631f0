//! `PATCH /v1/account/mfa`: turns MFA on or off for the user. Turning it on adds the user's
//! verified factors to the current session, so enabling never locks that session out.

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use shared::models::Account;
use shared::{AppError, AppResult, AppState, Ctx, mfa, repo};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Account>> {
    let on = match ctx.params.get("mfa") {
        Some(Value::Bool(b)) => *b,
        None => return Err(AppError::missing_param("mfa")),
        Some(_) => {
            return Err(AppError::invalid_param(
                "mfa",
                "Value must be a valid boolean",
            ));
        }
    };
    let mut user = ctx.auth()?.user.clone();
    user.mfa = on;
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    if on {
        super::add_session_factors(&st, &ctx, &mfa::verified_factors(&user), None).await?;
    }
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    Ok(Json(Account::from(&user)))
}
