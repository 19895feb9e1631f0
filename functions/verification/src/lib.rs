//! The `verification` function: proving ownership of an email address or phone number, and
//! password recovery. Both path spellings are served (1.8 `/verifications/*`, 1.6
//! `/verification[/phone]`).

use axum::Router;
use axum::routing::post;
use shared::AppState;

mod routes;

/// (method, path) of every route this function serves; template.yaml routes the same set.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/account/verifications/email"),
    ("PUT", "/v1/account/verifications/email"),
    ("POST", "/v1/account/verification"),
    ("PUT", "/v1/account/verification"),
    ("POST", "/v1/account/verifications/phone"),
    ("PUT", "/v1/account/verifications/phone"),
    ("POST", "/v1/account/verification/phone"),
    ("PUT", "/v1/account/verification/phone"),
    ("POST", "/v1/account/recovery"),
    ("PUT", "/v1/account/recovery"),
];

/// Every route of this function, with full `/v1/account/...` paths.
pub fn router() -> Router<AppState> {
    use routes::*;
    let email = || post(create_email_verification::handle).put(update_email_verification::handle);
    let phone = || post(create_phone_verification::handle).put(update_phone_verification::handle);
    Router::new()
        .route("/v1/account/verifications/email", email())
        .route("/v1/account/verification", email())
        .route("/v1/account/verifications/phone", phone())
        .route("/v1/account/verification/phone", phone())
        .route(
            "/v1/account/recovery",
            post(create_recovery::handle).put(update_recovery::handle),
        )
}
