//! One module per Appwrite method, and the rules several of them share.

pub mod create_account;
pub mod create_push_target;
pub mod delete_identity;
pub mod delete_push_target;
pub mod get_account;
pub mod get_prefs;
pub mod list_identities;
pub mod list_logs;
pub mod update_email;
pub mod update_name;
pub mod update_password;
pub mod update_phone;
pub mod update_prefs;
pub mod update_push_target;
pub mod update_status;

use shared::models::UserDoc;
use shared::password::{self, Personal, Policy};
use shared::{AppError, AppResult, Ctx, ErrorType, crypto};

/// Email and phone changes need the current password; an account without one (anonymous,
/// passwordless, OAuth) adopts the given password instead, which converts it.
pub(crate) async fn confirm_or_adopt(
    ctx: &Ctx,
    user: &mut UserDoc,
    password: String,
    now: i64,
) -> AppResult<()> {
    match user.password.clone() {
        Some(phc) if user.password_update_ms.is_some() => {
            if !crypto::verify_password(password, Some(phc)).await {
                return Err(AppError::new(
                    ErrorType::UserInvalidCredentials,
                    "Invalid credentials. Please check the email and password.",
                ));
            }
        }
        _ => {
            // Adopting a password is setting one: the project's policy applies.
            let personal = Personal {
                user_id: &user.id,
                email: user.email.as_deref().unwrap_or(""),
                name: &user.name,
                phone: user.phone.as_deref().unwrap_or(""),
            };
            let password = password::check(
                &Policy::from_auths(&ctx.project.auths),
                "password",
                &password,
                &personal,
            )?;
            let cost = ctx.project.argon2_cost();
            user.password = Some(crypto::hash_password(password, cost).await?);
            user.hash = "argon2".into();
            user.hash_options = cost.hash_options();
            user.password_update_ms = Some(now);
        }
    }
    Ok(())
}

/// A 409 for an identifier (email, phone, push token) another target already uses.
pub(crate) fn target_taken() -> AppError {
    AppError::new(
        ErrorType::UserTargetAlreadyExists,
        "A target with the same identifier already exists.",
    )
}
