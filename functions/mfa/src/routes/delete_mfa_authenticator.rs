//! `DELETE /v1/account/mfa/authenticators/{type}`: needs a challenge completed in the last
//! 30 minutes. A notice email follows.

use axum::extract::{Path, State};
use axum::response::Response;
use shared::messaging::templates::NoticeKind;
use shared::{AppResult, AppState, Ctx, mfa, repo};

pub async fn handle(
    State(st): State<AppState>,
    Path(kind): Path<String>,
    ctx: Ctx,
) -> AppResult<Response> {
    super::totp_type(&kind)?;
    mfa::require_recent(ctx.current_session(), st.now_ms())?;
    let mut user = ctx.auth()?.user.clone();
    if user.totp.take().is_none() {
        return Err(super::no_authenticator());
    }
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    super::notice(&st, &ctx, &user, NoticeKind::MfaAuthenticatorRemoved).await;
    Ok(shared::http::no_content())
}
