//! Lambda adapter tests: API Gateway v2 events through lambda_http into one function's
//! router, as the Lambda runtime delivers them.

mod common;

use axum::http::StatusCode;
use tower::ServiceExt;

/// Turns an API Gateway v2 event into the request `lambda_http::run` hands the router.
fn event(json: &str) -> axum::http::Request<axum::body::Body> {
    let req = lambda_http::request::from_str(json).expect("valid event");
    req.map(|b| axum::body::Body::from(b.to_vec()))
}

#[tokio::test]
async fn an_apigw_v2_event_reaches_the_sessions_function() {
    let h = common::harness().await;
    let geo = shared::runtime::geo_from_env().expect("GEO_MMDB readable");
    assert!(
        geo.is_enabled() || std::env::var("CI").is_err(),
        "CI sets GEO_MMDB"
    );
    let expected_country = if geo.is_enabled() { "de" } else { "--" };
    let app = shared::http::finish(sessions::router(), h.state.clone().with_geo(geo));
    let req = event(include_str!("data/apigw_v2_create_anonymous.json"));
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    assert!(cookies.iter().any(
        |c| c.contains("domain=.abc123.execute-api.eu-west-1.amazonaws.com")
            && c.contains("secure")
    ));
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    // The source IP comes from the request context; a spoofed X-Forwarded-For is ignored.
    assert_eq!(v["ip"], "193.99.144.80");
    assert_eq!(v["countryCode"], expected_country);
    assert_eq!(v["provider"], "anonymous");
    assert_eq!(
        (v["osName"].as_str(), v["deviceName"].as_str()),
        (Some("iOS"), Some("smartphone"))
    );
}

#[tokio::test]
async fn a_route_of_another_function_is_not_served_here() {
    let h = common::harness().await;
    let app = shared::http::finish(sessions::router(), h.state.clone());
    let json = include_str!("data/apigw_v2_create_anonymous.json")
        .replace("/v1/account/sessions/anonymous", "/v1/account");
    let res = app.oneshot(event(&json)).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
