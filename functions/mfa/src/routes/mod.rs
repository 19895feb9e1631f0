//! One module per Appwrite method, and the pieces they share.

pub mod create_mfa_authenticator;
pub mod create_mfa_challenge;
pub mod create_mfa_recovery_codes;
pub mod delete_mfa_authenticator;
pub mod get_mfa_recovery_codes;
pub mod list_mfa_factors;
pub mod update_mfa;
pub mod update_mfa_authenticator;
pub mod update_mfa_challenge;
pub mod update_mfa_recovery_codes;

use serde::Serialize;
use shared::messaging::templates::NoticeKind;
use shared::models::UserDoc;
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, repo, tokens};

/// The `{type}` path parameter: only `totp` (any case).
pub(crate) fn totp_type(t: &str) -> AppResult<()> {
    if t.eq_ignore_ascii_case("totp") {
        Ok(())
    } else {
        Err(AppError::invalid_param(
            "type",
            "Value must be one of (totp)",
        ))
    }
}

pub(crate) fn no_authenticator() -> AppError {
    AppError::new(
        ErrorType::UserAuthenticatorNotFound,
        "Authenticator could not be found on the current user.",
    )
}

pub(crate) fn no_codes() -> AppError {
    AppError::new(
        ErrorType::UserRecoveryCodesNotFound,
        "Recovery codes could not be found.",
    )
}

/// Adds `factors` to the current session (when the request has one), keeping order and
/// skipping those it already has.
pub(crate) async fn add_session_factors(
    st: &AppState,
    ctx: &Ctx,
    factors: &[&str],
    challenged_at: Option<i64>,
) -> AppResult<()> {
    let Some(session) = ctx.current_session() else {
        return Ok(());
    };
    let mut s = session.clone();
    for f in factors {
        if !s.factors.iter().any(|x| x == f) {
            s.factors.push((*f).to_string());
        }
    }
    if let Some(t) = challenged_at {
        s.mfa_updated_ms = Some(t);
    }
    s.updated_ms = st.now_ms();
    repo::put_session(
        &st.table,
        &ctx.project.id,
        &s,
        Some(shared::store::Cond::Exists),
    )
    .await
}

/// A security notice to the account's email, if it has one (best effort).
pub(crate) async fn notice(st: &AppState, ctx: &Ctx, user: &UserDoc, kind: NoticeKind) {
    if let Some(email) = user.email.clone() {
        tokens::notice(st, ctx, user, &email, kind).await;
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}
