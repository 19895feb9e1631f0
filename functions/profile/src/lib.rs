//! The `profile` function: the account itself (create, get). Name, email, password, phone,
//! preferences, status, logs, identities and push targets join this router in later issues.

use axum::Router;
use axum::routing::get;
use shared::AppState;

mod routes;

/// (method, path) of every route this function serves; template.yaml routes the same set.
pub const ROUTES: &[(&str, &str)] = &[("GET", "/v1/account"), ("POST", "/v1/account")];

/// Every route of this function, with full `/v1/account/...` paths.
pub fn router() -> Router<AppState> {
    use routes::*;
    Router::new().route(
        "/v1/account",
        get(get_account::handle).post(create_account::handle),
    )
}
