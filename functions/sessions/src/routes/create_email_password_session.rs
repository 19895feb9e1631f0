//! `POST /v1/account/sessions/email` (alias `POST /v1/account/sessions`).

use axum::extract::State;
use axum::response::Response;
use shared::http::ratelimit;
use shared::sessions::{self, NewSession};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, crypto, repo, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require_method(ctx.project.auths.email_password, "Email / Password")?;
    ctx.reject_if_signed_in()?;
    let email = validate::email("email", ctx.params.str_req("email")?)?;
    let password = validate::password("password", ctx.params.str_req("password")?)?;
    let project = &ctx.project.id;
    let auth = match repo::user_id_by_email(&st.table, project, &email).await? {
        Some(uid) => repo::load_auth(&st.table, project, &uid).await?,
        None => None,
    };
    // Unknown emails still pay for one Argon2 verification: timing reveals nothing.
    let phc = auth.as_ref().and_then(|a| a.user.password.clone());
    let verified = crypto::verify_password(password, phc).await;
    let Some(auth) = auth.filter(|_| verified) else {
        return Err(AppError::new(
            ErrorType::UserInvalidCredentials,
            "Invalid credentials. Please check the email and password.",
        ));
    };
    if !auth.user.status {
        return Err(AppError::new(
            ErrorType::UserBlocked,
            "The current user has been blocked.",
        ));
    }
    let spec = NewSession {
        provider: "email",
        provider_uid: email,
        factors: vec!["password".into()],
    };
    let res = sessions::create(&st, &ctx, &auth.user, &auth.sessions, spec).await?;
    ratelimit::reset(&st, &ctx.rate_counters).await;
    Ok(res)
}
