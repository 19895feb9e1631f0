//! `POST /v1/account/recovery`: emails a one-hour password-reset link.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::crypto::random_hex;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, repo, tokens, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Token>)> {
    tokens::require_mail(&st, &ctx)?;
    let email = validate::email("email", ctx.params.str_req("email")?)?;
    let url = tokens::redirect_param(&st, &ctx, "url")?;
    let project = &ctx.project.id;
    let not_found = || {
        AppError::new(
            ErrorType::UserNotFound,
            "User with the requested ID could not be found.",
        )
    };
    let uid = repo::user_id_by_email(&st.table, project, &email)
        .await?
        .ok_or_else(not_found)?;
    let user = repo::load_auth(&st.table, project, &uid)
        .await?
        .ok_or_else(not_found)?
        .user;
    if !user.status {
        return Err(AppError::new(
            ErrorType::UserBlocked,
            "The current user has been blocked.",
        ));
    }
    let secret = random_hex(128)?;
    let doc = tokens::issue(&st, &ctx, &user.id, TokenKind::Recovery, &secret, 3600).await?;
    let expire = shared::clock::iso(doc.expire_ms);
    let mut vars = tokens::vars(&st, &ctx, &user);
    vars.link = tokens::build_link(
        &url,
        &[
            ("userId", &user.id),
            ("secret", &secret),
            ("expire", &expire),
        ],
    );
    vars.expires_minutes = 60;
    tokens::send_email(&st, &ctx, MessageKind::Recovery, &email, &user.name, &vars).await?;
    shared::audit::record(&st, &ctx, &user, "recovery.create").await;
    Ok(tokens::respond(&ctx, &doc, secret, String::new()))
}
