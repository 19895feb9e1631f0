//! The `tokens` function: passwordless login tokens (email OTP, magic URL, phone OTP), the
//! OAuth2 token-flow start and JWTs. Tokens are redeemed for sessions by the `sessions` function.

use axum::Router;
use axum::routing::{get, post};
use shared::AppState;

mod routes;

/// (method, path) of every route this function serves; template.yaml routes the same set.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/account/tokens/email"),
    ("POST", "/v1/account/tokens/magic-url"),
    ("POST", "/v1/account/sessions/magic-url"),
    ("POST", "/v1/account/tokens/phone"),
    ("POST", "/v1/account/sessions/phone"),
    ("POST", "/v1/account/jwts"),
    ("POST", "/v1/account/jwt"),
    ("GET", "/v1/account/tokens/oauth2/{provider}"),
];

/// Every route of this function, with full `/v1/account/...` paths.
pub fn router() -> Router<AppState> {
    use routes::*;
    Router::new()
        .route("/v1/account/tokens/email", post(create_email_token::handle))
        .route(
            "/v1/account/tokens/magic-url",
            post(create_magic_url_token::handle),
        )
        .route(
            "/v1/account/sessions/magic-url",
            post(create_magic_url_token::handle),
        )
        .route("/v1/account/tokens/phone", post(create_phone_token::handle))
        .route(
            "/v1/account/sessions/phone",
            post(create_phone_token::handle),
        )
        .route("/v1/account/jwts", post(create_jwt::handle))
        .route("/v1/account/jwt", post(create_jwt::handle))
        .route(
            "/v1/account/tokens/oauth2/{provider}",
            get(create_oauth2_token::handle),
        )
}
