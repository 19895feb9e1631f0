//! The local all-in-one server's parts, the admin operations shared by the CLI and the
//! tests, and the union of the five functions' routes.

pub mod admin;

use axum::Router;
use shared::AppState;

/// The five routers merged. Axum panics on a duplicate (method, path), so building this is
/// itself the collision check; `all_routes` lists what the template must route.
pub fn app_router() -> Router<AppState> {
    Router::new()
        .merge(sessions::router())
        .merge(tokens::router())
        .merge(mfa::router())
        .merge(verification::router())
        .merge(profile::router())
}

/// The API Gateway catch-all route, served by the sessions function: CORS preflights (the
/// app answers OPTIONS itself) and unknown paths (an Appwrite-style 404) reach the code
/// instead of API Gateway's own answers.
pub const CATCH_ALL: (&str, &str, &str) = ("sessions", "ANY", "/{proxy+}");

/// (function, method, path) for every route of every function.
pub fn all_routes() -> Vec<(&'static str, &'static str, &'static str)> {
    let sets: [(&str, &[(&str, &str)]); 5] = [
        ("sessions", sessions::ROUTES),
        ("tokens", tokens::ROUTES),
        ("mfa", mfa::ROUTES),
        ("verification", verification::ROUTES),
        ("profile", profile::ROUTES),
    ];
    sets.iter()
        .flat_map(|(f, rs)| rs.iter().map(move |(m, p)| (*f, *m, *p)))
        .collect()
}

/// The full local application: all routes, the gate and the outer layers.
pub fn app(state: AppState) -> Router {
    shared::http::finish(app_router(), state)
}
