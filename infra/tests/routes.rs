//! The five routers merge without collisions, every declared route is really served by its
//! function, and every path of the spec is served.

mod common;

use std::collections::HashSet;

use axum::http::Method;

#[test]
fn merged_routes_are_unique() {
    // Building the merged router panics on a duplicate (method, path).
    let _ = infra::app_router();
    let mut seen = HashSet::new();
    for (f, m, p) in infra::all_routes() {
        assert!(
            seen.insert((m, p)),
            "{m} {p} is declared twice (again by {f})"
        );
    }
}

#[tokio::test]
async fn every_declared_route_is_served_by_its_function() {
    let h = common::harness().await;
    let routers = [
        ("sessions", sessions::router()),
        ("tokens", tokens::router()),
        ("mfa", mfa::router()),
        ("verification", verification::router()),
        ("profile", profile::router()),
    ];
    for (name, router) in routers {
        let app = shared::http::finish(router, h.state.clone());
        for (f, m, p) in infra::all_routes() {
            let path = p.replace("{sessionId}", "current");
            let req = axum::http::Request::builder()
                .method(Method::from_bytes(m.as_bytes()).expect("method"))
                .uri(&path)
                .header("x-appwrite-project", "proj1")
                .body(axum::body::Body::empty())
                .expect("request");
            use tower::ServiceExt;
            let res = app.clone().oneshot(req).await.expect("infallible");
            let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .expect("body");
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let unrouted = v["type"] == "general_route_not_found";
            assert_eq!(
                unrouted,
                f != name,
                "{m} {p}: declared by {f}, probed on {name}"
            );
        }
    }
}

/// Internal routes outside the spec (contract-sessions §4.11).
const INTERNAL: &[(&str, &str)] = &[
    (
        "GET",
        "/v1/account/sessions/oauth2/callback/{provider}/{projectId}",
    ),
    (
        "POST",
        "/v1/account/sessions/oauth2/callback/{provider}/{projectId}",
    ),
];

#[test]
fn every_spec_path_is_served() {
    let declared: HashSet<(String, String)> = infra::all_routes()
        .into_iter()
        .map(|(_, m, p)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<String> = shared::http::routes::spec_routes()
        .into_iter()
        .filter(|(m, p)| !declared.contains(&(m.clone(), p.clone())))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "in the spec but not served: {missing:?}"
    );
    for (_, m, p) in infra::all_routes() {
        assert!(
            shared::http::routes::lookup(m, p).is_some() || INTERNAL.contains(&(m, p)),
            "{m} {p} has no spec metadata"
        );
    }
}
