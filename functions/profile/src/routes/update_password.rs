//! `PATCH /v1/account/password`: needs the current password when the account has one; the
//! project's password policy applies; with `invalidateSessions` every other session ends.
//! A notice goes to the account's email.

use axum::Json;
use axum::extract::State;
use shared::messaging::templates::NoticeKind;
use shared::models::Account;
use shared::password::{self, Personal, Policy};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, crypto, repo};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Account>> {
    let auth = ctx.auth()?;
    let mut user = auth.user.clone();
    let policy = Policy::from_auths(&ctx.project.auths);
    let personal = Personal {
        user_id: &user.id,
        email: user.email.as_deref().unwrap_or(""),
        name: &user.name,
        phone: user.phone.as_deref().unwrap_or(""),
    };
    let new = password::check(
        &policy,
        "password",
        ctx.params.str_req("password")?,
        &personal,
    )?;
    if let (Some(phc), Some(_)) = (user.password.clone(), user.password_update_ms) {
        let old = ctx.params.str_opt("oldPassword")?.unwrap_or("").to_string();
        if !crypto::verify_password(old, Some(phc)).await {
            return Err(AppError::new(
                ErrorType::UserInvalidCredentials,
                "Invalid credentials. Please check the email and password.",
            ));
        }
    }
    if policy.history > 0 && password::reused(&new, &user.password_history).await {
        return Err(AppError::new(
            ErrorType::PasswordRecentlyUsed,
            "The password you are trying to use is similar to your previous password. For your security, please choose a different password and try again.",
        ));
    }
    let cost = ctx.project.argon2_cost();
    let hash = crypto::hash_password(new, cost).await?;
    let now = st.now_ms();
    user.password_history =
        password::push_history(&user.password_history, hash.clone(), policy.history);
    user.password = Some(hash);
    user.hash = "argon2".into();
    user.hash_options = cost.hash_options();
    user.password_update_ms = Some(now);
    user.updated_ms = now;
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    if ctx.project.auths.invalidate_sessions {
        if let Some(current) = ctx.current_session() {
            let others: Vec<String> = auth
                .sessions
                .iter()
                .filter(|s| s.id != current.id)
                .map(|s| s.id.clone())
                .collect();
            repo::delete_sessions(&st.table, &ctx.project.id, &user.id, &others).await?;
        }
    }
    if let Some(email) = user.email.clone() {
        shared::tokens::notice(&st, &ctx, &user, &email, NoticeKind::PasswordChanged).await;
    }
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    Ok(Json(Account::from(&user)))
}
