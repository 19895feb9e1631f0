//! The `sessions` function: email/password and anonymous sign-in, and the management of a
//! user's sessions (list, get, extend, delete). Token exchanges and OAuth2 callbacks join
//! (magic URL, phone, email OTP) are redeemed here; OAuth2 callbacks join later.

use axum::Router;
use axum::routing::{get, post, put};
use shared::AppState;

mod routes;

/// (method, path) of every route this function serves; template.yaml routes the same set.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/account/sessions/email"),
    ("POST", "/v1/account/sessions"),
    ("GET", "/v1/account/sessions"),
    ("DELETE", "/v1/account/sessions"),
    ("POST", "/v1/account/sessions/anonymous"),
    ("POST", "/v1/account/sessions/token"),
    ("PUT", "/v1/account/sessions/magic-url"),
    ("PUT", "/v1/account/sessions/phone"),
    ("GET", "/v1/account/sessions/{sessionId}"),
    ("PATCH", "/v1/account/sessions/{sessionId}"),
    ("DELETE", "/v1/account/sessions/{sessionId}"),
];

/// Every route of this function, with full `/v1/account/...` paths.
pub fn router() -> Router<AppState> {
    use routes::*;
    Router::new()
        .route(
            "/v1/account/sessions/email",
            post(create_email_password_session::handle),
        )
        .route(
            "/v1/account/sessions",
            post(create_email_password_session::handle)
                .get(list_sessions::handle)
                .delete(delete_sessions::handle),
        )
        .route(
            "/v1/account/sessions/anonymous",
            post(create_anonymous_session::handle),
        )
        .route("/v1/account/sessions/token", post(create_session::handle))
        .route(
            "/v1/account/sessions/magic-url",
            put(create_session::handle),
        )
        .route("/v1/account/sessions/phone", put(create_session::handle))
        .route(
            "/v1/account/sessions/{sessionId}",
            get(get_session::handle)
                .patch(update_session::handle)
                .delete(delete_session::handle),
        )
}
