//! One module per Appwrite method.

pub mod create_anonymous_session;
pub mod create_email_password_session;
pub mod create_session;
pub mod delete_session;
pub mod delete_sessions;
pub mod get_session;
pub mod list_sessions;
pub mod oauth2;
pub mod update_session;

use shared::models::SessionDoc;
use shared::{AppError, AppResult, Ctx, ErrorType};

/// Resolves `sessionId` (or `current`) among the caller's own sessions.
pub(crate) fn find_session<'a>(ctx: &'a Ctx, session_id: &str) -> AppResult<&'a SessionDoc> {
    let auth = ctx.auth()?;
    let found = if session_id == "current" {
        ctx.current_session()
    } else {
        shared::validate::uid("sessionId", session_id)?;
        auth.sessions.iter().find(|s| s.id == session_id)
    };
    found.ok_or_else(|| {
        AppError::new(
            ErrorType::UserSessionNotFound,
            "The current user session could not be found.",
        )
    })
}

/// Whether `s` is the session that authenticated this request.
pub(crate) fn is_current(ctx: &Ctx, s: &SessionDoc) -> bool {
    ctx.current_session().is_some_and(|c| c.id == s.id)
}
