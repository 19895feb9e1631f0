//! The `tokens` function: passwordless tokens (email OTP, magic URL, phone) and JWTs. Its routes arrive with their own issue; the crate exists so
//! the workspace, the template and the local server already have its place.

use axum::Router;
use shared::AppState;

/// (method, path) of every route this function serves; template.yaml routes the same set.
pub const ROUTES: &[(&str, &str)] = &[];

/// Every route of this function, with full `/v1/account/...` paths.
pub fn router() -> Router<AppState> {
    Router::new()
}
