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

#[tokio::test]
async fn apples_form_post_callback_arrives_as_an_event_and_is_forwarded_over_https() {
    let h = common::harness().await;
    let app = shared::http::finish(sessions::router(), h.state.clone());
    let path = "/v1/account/sessions/oauth2/callback/apple/proj1";
    let json = include_str!("data/apigw_v2_create_anonymous.json")
        .replace("/v1/account/sessions/anonymous", path)
        .replace("application/json\",\n    \"host", "application/x-www-form-urlencoded\",\n    \"host")
        .replace(
            "\"body\": \"{}\"",
            "\"body\": \"code=c1&state=s1&user=%7B%22name%22%3A%7B%22firstName%22%3A%22Ada%22%7D%7D\"",
        );
    let res = app.oneshot(event(&json)).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        location.starts_with(
            "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/account/sessions/oauth2/apple/redirect?"
        ),
        "{location}"
    );
    assert!(location.contains("code=c1") && location.contains("project=proj1"));
    assert!(location.contains("user=%7B%22name%22"), "{location}");
}
