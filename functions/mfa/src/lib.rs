//! The `mfa` function: TOTP authenticators, challenges (TOTP, email, SMS, recovery code),
//! factors and recovery codes. The gate itself lives in the shared auth layer.

use axum::Router;
use axum::routing::{get, patch, post};
use shared::AppState;

mod routes;

/// (method, path) of every route this function serves; template.yaml routes the same set.
pub const ROUTES: &[(&str, &str)] = &[
    ("PATCH", "/v1/account/mfa"),
    ("POST", "/v1/account/mfa/authenticators/{type}"),
    ("PUT", "/v1/account/mfa/authenticators/{type}"),
    ("DELETE", "/v1/account/mfa/authenticators/{type}"),
    ("POST", "/v1/account/mfa/challenges"),
    ("PUT", "/v1/account/mfa/challenges"),
    ("POST", "/v1/account/mfa/challenge"),
    ("PUT", "/v1/account/mfa/challenge"),
    ("GET", "/v1/account/mfa/factors"),
    ("POST", "/v1/account/mfa/recovery-codes"),
    ("GET", "/v1/account/mfa/recovery-codes"),
    ("PATCH", "/v1/account/mfa/recovery-codes"),
];

/// Every route of this function, with full `/v1/account/...` paths.
pub fn router() -> Router<AppState> {
    use routes::*;
    let challenges = || post(create_mfa_challenge::handle).put(update_mfa_challenge::handle);
    Router::new()
        .route("/v1/account/mfa", patch(update_mfa::handle))
        .route(
            "/v1/account/mfa/authenticators/{type}",
            post(create_mfa_authenticator::handle)
                .put(update_mfa_authenticator::handle)
                .delete(delete_mfa_authenticator::handle),
        )
        .route("/v1/account/mfa/challenges", challenges())
        .route("/v1/account/mfa/challenge", challenges())
        .route("/v1/account/mfa/factors", get(list_mfa_factors::handle))
        .route(
            "/v1/account/mfa/recovery-codes",
            post(create_mfa_recovery_codes::handle)
                .get(get_mfa_recovery_codes::handle)
                .patch(update_mfa_recovery_codes::handle),
        )
}
