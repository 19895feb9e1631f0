//! The `sessions` function: email/password and anonymous sign-in, and the management of a
//! user's sessions (list, get, extend, delete). Token exchanges and OAuth2 callbacks join
//! (magic URL, phone, email OTP, OAuth2 token flow) are redeemed here, and the OAuth2
//! session flow (start, provider callback, finish) runs here.

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
    ("GET", "/v1/account/sessions/oauth2/{provider}"),
    (
        "GET",
        "/v1/account/sessions/oauth2/callback/{provider}/{projectId}",
    ),
    (
        "POST",
        "/v1/account/sessions/oauth2/callback/{provider}/{projectId}",
    ),
    ("GET", "/v1/account/sessions/oauth2/{provider}/redirect"),
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
        .route("/v1/account/sessions/oauth2/{provider}", get(oauth2::start))
        .route(
            "/v1/account/sessions/oauth2/callback/{provider}/{projectId}",
            get(oauth2::callback).post(oauth2::callback),
        )
        .route(
            "/v1/account/sessions/oauth2/{provider}/redirect",
            get(oauth2::redirect),
        )
        .route(
            "/v1/account/sessions/{sessionId}",
            get(get_session::handle)
                .patch(update_session::handle)
                .delete(delete_session::handle),
        )
}
