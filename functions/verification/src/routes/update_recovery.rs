//! `PUT /v1/account/recovery`: sets a new password with the secret from the reset link.
//! The password policy applies as on every path that sets a password; completing recovery
//! proves the mailbox (email verified) and, with `invalidateSessions`, ends every session.

use axum::Json;
use axum::extract::State;
use shared::messaging::templates::NoticeKind;
use shared::models::{Token, TokenKind};
use shared::password::{self, Personal, Policy};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, crypto, repo, tokens};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Token>> {
    let policy = Policy::from_auths(&ctx.project.auths);
    let raw = ctx.params.str_req("password")?;
    // The user is looked up first so the policy (personal data included, unlike Appwrite)
    // refuses a bad password before the token is spent.
    let user_id = shared::validate::uid("userId", ctx.params.str_req("userId")?)?;
    let auth = repo::load_auth(&st.table, &ctx.project.id, &user_id)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorType::UserNotFound,
                "User with the requested ID could not be found.",
            )
        })?;
    let u = &auth.user;
    let personal = Personal {
        user_id: &u.id,
        email: u.email.as_deref().unwrap_or(""),
        name: &u.name,
        phone: u.phone.as_deref().unwrap_or(""),
    };
    let password = password::check(&policy, "password", raw, &personal)?;
    if policy.history > 0 && password::reused(&password, &u.password_history).await {
        return Err(AppError::new(
            ErrorType::PasswordRecentlyUsed,
            "The password you are trying to use is similar to your previous password. For your security, please choose a different password and try again.",
        ));
    }
    let cost = ctx.project.argon2_cost();
    let hash = crypto::hash_password(password, cost).await?;
    let now = st.now_ms();
    let done = tokens::consume(&st, &ctx, &[TokenKind::Recovery], |u| {
        u.password_history =
            password::push_history(&u.password_history, hash.clone(), policy.history);
        u.password = Some(hash);
        u.hash = "argon2".into();
        u.hash_options = cost.hash_options();
        u.password_update_ms = Some(now);
        u.email_verification = true;
    })
    .await?;
    if ctx.project.auths.invalidate_sessions {
        let ids: Vec<String> = done.auth.sessions.iter().map(|s| s.id.clone()).collect();
        repo::delete_sessions(&st.table, &ctx.project.id, &done.user.id, &ids).await?;
    }
    if let Some(email) = done.user.email.as_deref() {
        tokens::notice(&st, &ctx, &done.user, email, NoticeKind::PasswordRecovered).await;
    }
    shared::audit::record(&st, &ctx, &done.user, "recovery.update").await;
    Ok(Json(tokens::token_model(&done.token)))
}
