//! `POST /v1/account/jwts` (alias `POST /v1/account/jwt`): a short-lived HS256 JWT bound to
//! the calling session (it stops working when that session ends).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::jwt::{self, Claims};
use shared::models::Jwt;
use shared::{AppError, AppResult, AppState, Ctx, ErrorType};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Jwt>)> {
    ctx.require_method(ctx.project.auths.jwt, "JWT")?;
    let auth = ctx.auth()?;
    let session = ctx.current_session().ok_or_else(|| {
        AppError::new(
            ErrorType::UserSessionNotFound,
            "The current user session could not be found.",
        )
    })?;
    let duration = ctx.params.int_opt("duration", 0..=3600)?.unwrap_or(900);
    let claims = Claims {
        user_id: auth.user.id.clone(),
        session_id: session.id.clone(),
        exp: st.now_ms().div_euclid(1000) + duration,
    };
    let token = jwt::issue(&st.jwt_key, &ctx.project.id, &claims)?;
    Ok((StatusCode::CREATED, Json(Jwt { jwt: token })))
}
