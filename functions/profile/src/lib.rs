//! The `profile` function: the account itself (create, get, name, email, password, phone,
//! preferences, status), its security log, its push targets and its OAuth2 identities.

use axum::Router;
use axum::routing::{get, patch, post};
use shared::AppState;

mod routes;

/// (method, path) of every route this function serves; template.yaml routes the same set.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/account"),
    ("POST", "/v1/account"),
    ("PATCH", "/v1/account/name"),
    ("PATCH", "/v1/account/email"),
    ("PATCH", "/v1/account/password"),
    ("PATCH", "/v1/account/phone"),
    ("GET", "/v1/account/logs"),
    ("GET", "/v1/account/prefs"),
    ("PATCH", "/v1/account/prefs"),
    ("PATCH", "/v1/account/status"),
    ("POST", "/v1/account/targets/push"),
    ("PUT", "/v1/account/targets/{targetId}/push"),
    ("DELETE", "/v1/account/targets/{targetId}/push"),
    ("GET", "/v1/account/identities"),
    ("DELETE", "/v1/account/identities/{identityId}"),
];

/// Every route of this function, with full `/v1/account/...` paths.
pub fn router() -> Router<AppState> {
    use routes::*;
    Router::new()
        .route(
            "/v1/account",
            get(get_account::handle).post(create_account::handle),
        )
        .route("/v1/account/name", patch(update_name::handle))
        .route("/v1/account/email", patch(update_email::handle))
        .route("/v1/account/password", patch(update_password::handle))
        .route("/v1/account/phone", patch(update_phone::handle))
        .route("/v1/account/logs", get(list_logs::handle))
        .route(
            "/v1/account/prefs",
            get(get_prefs::handle).patch(update_prefs::handle),
        )
        .route("/v1/account/status", patch(update_status::handle))
        .route("/v1/account/targets/push", post(create_push_target::handle))
        .route(
            "/v1/account/targets/{targetId}/push",
            axum::routing::put(update_push_target::handle).delete(delete_push_target::handle),
        )
        .route("/v1/account/identities", get(list_identities::handle))
        .route(
            "/v1/account/identities/{identityId}",
            axum::routing::delete(delete_identity::handle),
        )
}
