//! `POST /v1/account/recovery`: emails a one-hour password-reset link.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::crypto::random_hex;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, repo, tokens, validate};

/// A 201 Token like a real one, for an address that gets no email.
fn decoy(st: &AppState) -> AppResult<(StatusCode, Json<Token>)> {
    let now = st.now_ms();
    let token = Token {
        id: shared::validate::unique_id(now)?,
        created_at: shared::clock::iso(now),
        user_id: shared::validate::unique_id(now)?,
        secret: String::new(),
        expire: shared::clock::iso(now + 3_600_000),
        phrase: String::new(),
    };
    Ok((StatusCode::CREATED, Json(token)))
}

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Token>)> {
    tokens::require_mail(&st, &ctx)?;
    let email = validate::email("email", ctx.params.str_req("email")?)?;
    let url = tokens::redirect_param(&st, &ctx, "url")?;
    let project = &ctx.project.id;
    let user = match repo::user_id_by_email(&st.table, project, &email).await? {
        Some(uid) => repo::load_auth(&st.table, project, &uid)
            .await?
            .map(|a| a.user),
        None => None,
    };
    let user = match user {
        Some(u) if u.status => u,
        // Enumeration-safe mode: unknown and blocked addresses get the answer a sent link gets.
        _ if ctx.project.auths.enumeration_protection => return decoy(&st),
        Some(_) => {
            return Err(AppError::new(
                ErrorType::UserBlocked,
                "The current user has been blocked.",
            ));
        }
        None => {
            return Err(AppError::new(
                ErrorType::UserNotFound,
                "User with the requested ID could not be found.",
            ));
        }
    };
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
