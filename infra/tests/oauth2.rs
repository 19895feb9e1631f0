//! OAuth2 routes in process, up to the point where a provider would be called: start
//! (URL, PKCE, state, nonce cookie), provider checks, the ungated callback, state and
//! browser-binding failures, identities' bad input. The full flows against a real OpenID
//! Provider are in tests/sdk/oauth2.test.mjs.

mod common;

use axum::http::{Method, StatusCode};
use common::Harness;
use serde_json::Value;
use shared::oauth2::ProviderSettings;

const OK: &str = "http://localhost/ok";
const FAIL: &str = "http://localhost/fail";

async fn with_provider(h: &Harness, name: &str, enabled: bool, secret: &str) {
    let mut p = infra::admin::require_project(&h.state.table, &h.project)
        .await
        .expect("project");
    let s = ProviderSettings {
        enabled,
        client_id: "client-123".into(),
        client_secret: secret.into(),
        options: Default::default(),
    };
    p.set_provider(&h.state.data_key, name, &s).expect("seal");
    shared::project::save_project(&h.state.table, &p)
        .await
        .expect("save");
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    serde_urlencoded::from_str(q).unwrap_or_default()
}

fn param(url: &str, name: &str) -> String {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn start_path(flow: &str, provider: &str) -> String {
    let q = serde_urlencoded::to_string([("success", OK), ("failure", FAIL)]).unwrap_or_default();
    format!("/v1/account/{flow}/oauth2/{provider}?{q}")
}

/// Starts a session flow as a browser navigation: (provider URL, nonce cookie pair).
async fn start(h: &Harness) -> (String, String) {
    let r = h
        .call(
            Method::GET,
            &start_path("sessions", "github"),
            &[("sec-fetch-mode", "navigate")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY, "{}", r.body);
    let location = r.header("location").unwrap_or("").to_string();
    let cookie = r
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("a_oauth2_"))
        .and_then(|c| c.split(';').next().map(String::from))
        .unwrap_or_default();
    (location, cookie)
}

fn failure_error(location: &str) -> Value {
    assert!(location.starts_with(FAIL), "{location}");
    serde_json::from_str(&param(location, "error")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn start_redirects_to_the_provider_with_pkce_a_signed_state_and_a_nonce_cookie() {
    let h = common::harness().await;
    with_provider(&h, "github", true, "gh-secret").await;
    let r = h
        .call(
            Method::GET,
            &format!(
                "{}&scopes[0]=repo&scopes[1]=gist",
                start_path("sessions", "github")
            ),
            &[("sec-fetch-mode", "navigate")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    let loc = r.header("location").unwrap_or("");
    assert!(
        loc.starts_with("https://github.com/login/oauth/authorize?"),
        "{loc}"
    );
    assert_eq!(param(loc, "client_id"), "client-123");
    assert_eq!(
        param(loc, "redirect_uri"),
        "http://localhost:8080/v1/account/sessions/oauth2/callback/github/proj1"
    );
    assert_eq!(param(loc, "scope"), "read:user user:email repo gist");
    assert_eq!(param(loc, "code_challenge_method"), "S256");
    assert_eq!(param(loc, "code_challenge").len(), 43);
    let state = param(loc, "state");
    assert!(
        !state.contains("localhost"),
        "the URLs are not readable in clear JSON"
    );
    assert_eq!(
        r.header("cache-control"),
        Some("no-store, no-cache, must-revalidate, max-age=0")
    );
    let cookie = r
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("a_oauth2_"))
        .unwrap_or_default();
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Max-Age=600",
        "Path=/v1/account/sessions/oauth2",
    ] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    // The token flow answers the same way from its own route.
    let t = h
        .call(Method::GET, &start_path("tokens", "github"), &[], None)
        .await;
    assert_eq!(t.status, StatusCode::MOVED_PERMANENTLY);
}

#[tokio::test]
async fn unknown_disabled_and_unconfigured_providers_are_refused() {
    let h = common::harness().await;
    let r = h
        .call(Method::GET, &start_path("sessions", "amazon"), &[], None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (400, "project_provider_unsupported")
    );
    let r = h
        .call(Method::GET, &start_path("tokens", "nope"), &[], None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (400, "project_provider_unsupported")
    );
    // Browsers get an HTML page with the same status.
    let req = h.request(
        Method::GET,
        &start_path("sessions", "amazon"),
        &[("accept", "text/html")],
        None,
    );
    let res = tower::ServiceExt::oneshot(h.app.clone(), req)
        .await
        .expect("infallible");
    assert_eq!(res.status().as_u16(), 400);
    let html = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap_or_default();
    assert!(String::from_utf8_lossy(&html).contains("project_provider_unsupported"));

    let r = h
        .call(Method::GET, &start_path("sessions", "github"), &[], None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (412, "project_provider_disabled")
    );
    with_provider(&h, "github", false, "s").await;
    let r = h
        .call(Method::GET, &start_path("tokens", "github"), &[], None)
        .await;
    assert_eq!(r.status.as_u16(), 412);
    with_provider(&h, "github", true, "").await;
    let r = h
        .call(Method::GET, &start_path("tokens", "github"), &[], None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (412, "project_provider_disabled")
    );
}

#[tokio::test]
async fn foreign_redirect_urls_and_oversized_scopes_are_refused() {
    let h = common::harness().await;
    with_provider(&h, "github", true, "s").await;
    let q = serde_urlencoded::to_string([("success", "https://evil.example/x"), ("failure", FAIL)])
        .unwrap_or_default();
    let r = h
        .call(
            Method::GET,
            &format!("/v1/account/tokens/oauth2/github?{q}"),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (400, "general_argument_invalid")
    );
    assert!(r.body["message"].as_str().unwrap_or("").contains("success"));
    let many: String = (0..101).map(|i| format!("&scopes[{i}]=s{i}")).collect();
    let r = h
        .call(
            Method::GET,
            &format!("{}{many}", start_path("tokens", "github")),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 400);
}

#[tokio::test]
async fn the_client_secret_is_sealed_at_rest() {
    let h = common::harness().await;
    with_provider(&h, "github", true, "very-secret-client-value").await;
    let item = h
        .state
        .table
        .get(&shared::store::keys::project("proj1"))
        .await
        .expect("get")
        .expect("project item");
    assert!(
        !item
            .s("data")
            .unwrap_or("")
            .contains("very-secret-client-value")
    );
    let p = infra::admin::require_project(&h.state.table, "proj1")
        .await
        .expect("project");
    let s = p
        .provider_settings(&h.state.data_key, "github")
        .expect("open")
        .expect("settings");
    assert_eq!(s.client_secret, "very-secret-client-value");
    assert!(
        p.provider_settings(b"another-key-another-key-another-k", "github")
            .is_err()
    );
}

#[tokio::test]
async fn admin_refuses_an_apple_key_json_it_cannot_sign_with() {
    let h = common::harness().await;
    let bad = r#"{"enabled":true,"clientId":"com.example.web","clientSecret":"{\"keyID\":\"K\",\"teamID\":\"T\",\"p8\":\"not a key\"}"}"#;
    let err = infra::admin::set_provider(&h.state.table, "proj1", "apple", bad, &h.state.data_key)
        .await
        .expect_err("an unusable p8 key is refused");
    assert_eq!(err.kind, shared::ErrorType::GeneralArgumentInvalid);
    assert!(!err.message.contains("not a key"), "{}", err.message);
    let p = infra::admin::require_project(&h.state.table, "proj1")
        .await
        .expect("project");
    assert!(
        p.provider_settings(&h.state.data_key, "apple")
            .expect("open")
            .is_none(),
        "nothing stored"
    );
    let jwt =
        r#"{"enabled":true,"clientId":"com.example.web","clientSecret":"eyJ.made.elsewhere"}"#;
    infra::admin::set_provider(&h.state.table, "proj1", "apple", jwt, &h.state.data_key)
        .await
        .expect("a ready-made client-secret JWT is stored");
}

#[tokio::test]
async fn the_callback_is_ungated_and_forwards_to_the_redirect_route() {
    let h = common::harness().await;
    // No project header, no credentials: the provider's browser redirect.
    let req = axum::http::Request::builder()
        .method(Method::GET)
        .uri("/v1/account/sessions/oauth2/callback/github/proj1?code=abc&state=xyz&projectId=evil")
        .header("host", "api.example.com")
        .header("x-forwarded-proto", "https")
        .body(axum::body::Body::empty())
        .expect("request");
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    let loc = r.header("location").unwrap_or("").to_string();
    assert!(
        loc.starts_with("https://api.example.com/v1/account/sessions/oauth2/github/redirect?"),
        "{loc}"
    );
    assert_eq!(param(&loc, "code"), "abc");
    assert_eq!(param(&loc, "state"), "xyz");
    assert_eq!(param(&loc, "project"), "proj1");
    assert!(!loc.contains("evil"));

    // Apple's form_post: the form body is forwarded, `user` included.
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/account/sessions/oauth2/callback/apple/proj1")
        .header("host", "localhost:8080")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(
            "code=c1&state=s1&user=%7B%22name%22%3A%7B%22firstName%22%3A%22Ada%22%7D%7D",
        ))
        .expect("request");
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    let loc = r.header("location").unwrap_or("").to_string();
    assert_eq!(param(&loc, "user"), r#"{"name":{"firstName":"Ada"}}"#);
    assert_eq!(param(&loc, "code"), "c1");

    let long = "x".repeat(2049);
    let r = h
        .call(
            Method::GET,
            &format!("/v1/account/sessions/oauth2/callback/github/proj1?code={long}"),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (400, "general_argument_invalid")
    );
    let r = h
        .call(
            Method::GET,
            "/v1/account/sessions/oauth2/callback/nope/proj1?code=a",
            &[],
            None,
        )
        .await;
    assert_eq!(r.typ(), "project_provider_unsupported");
}

fn redirect_path(location: &str, extra: &str) -> String {
    let state = param(location, "state");
    let q = serde_urlencoded::to_string([("state", state.as_str())]).unwrap_or_default();
    format!("/v1/account/sessions/oauth2/github/redirect?{q}{extra}")
}

/// The redirect route for the state of `location`, with `extra` query text and the cookie
/// header `cookie` (empty: none).
async fn finish(h: &Harness, location: &str, extra: &str, cookie: &str) -> common::Resp {
    let headers: &[(&str, &str)] = if cookie.is_empty() {
        &[]
    } else {
        &[("cookie", cookie)]
    };
    h.call(Method::GET, &redirect_path(location, extra), headers, None)
        .await
}

#[tokio::test]
async fn a_tampered_or_expired_state_is_a_400_before_any_redirect() {
    let h = common::harness().await;
    with_provider(&h, "github", true, "s").await;
    let (loc, cookie) = start(&h).await;
    let state = param(&loc, "state");
    let mut forged = state.clone().into_bytes();
    forged[3] ^= 1;
    let forged = String::from_utf8(forged).unwrap_or_default();
    let q = serde_urlencoded::to_string([("state", forged.as_str()), ("code", "c")])
        .unwrap_or_default();
    let r = h
        .call(
            Method::GET,
            &format!("/v1/account/sessions/oauth2/github/redirect?{q}"),
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.typ()), (400, "general_bad_request"));
    assert!(r.header("location").is_none());
    // Ten minutes later the genuine state has expired.
    h.clock.advance_s(601);
    let r = finish(&h, &loc, "&code=c", &cookie).await;
    assert_eq!((r.status.as_u16(), r.typ()), (400, "general_bad_request"));
}

#[tokio::test]
async fn without_the_starting_browsers_cookie_the_flow_fails_to_the_failure_url() {
    let h = common::harness().await;
    with_provider(&h, "github", true, "s").await;
    let (loc, cookie) = start(&h).await;
    // Another browser: no nonce cookie.
    let r = finish(&h, &loc, "&code=c", "").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    let e = failure_error(r.header("location").unwrap_or(""));
    assert_eq!(e["type"], "user_unauthorized");
    assert!(r.cookies().iter().all(|c| !c.starts_with("a_session_")));
    // A different nonce cookie value: same answer.
    let wrong = format!("{}=0000", cookie.split('=').next().unwrap_or(""));
    let r = finish(&h, &loc, "&code=c", &wrong).await;
    assert_eq!(
        failure_error(r.header("location").unwrap_or(""))["type"],
        "user_unauthorized"
    );
    // The starting browser, with the provider's error: delivered to the failure URL, and
    // the nonce cookie is cleared.
    let r = finish(
        &h,
        &loc,
        "&error=access_denied&error_description=User+said+no",
        &cookie,
    )
    .await;
    let e = failure_error(r.header("location").unwrap_or(""));
    assert_eq!(e["type"], "user_oauth2_provider_error");
    assert_eq!(e["code"], 424);
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("access_denied")
    );
    assert!(
        r.cookies()
            .iter()
            .any(|c| c.starts_with("a_oauth2_") && c.contains("Max-Age=0"))
    );
    // Missing code.
    let r = finish(&h, &loc, "", &cookie).await;
    assert_eq!(
        failure_error(r.header("location").unwrap_or(""))["type"],
        "user_oauth2_provider_error"
    );
}

#[tokio::test]
async fn identities_bad_input() {
    let h = common::harness().await;
    h.signup("u1", "a@example.com", "a-long-password-1").await;
    let (_, s) = h.login("a@example.com", "a-long-password-1").await;
    let auth = [("x-appwrite-session", s.as_str())];
    let r = h
        .call(Method::GET, "/v1/account/identities", &auth, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["total"], 0);
    assert_eq!(r.body["identities"], serde_json::json!([]));
    for (q, ty) in [
        (r#"select(["provider"])"#, "general_argument_invalid"),
        ("{nope", "general_argument_invalid"),
        (r#"equal("password",["x"])"#, "general_argument_invalid"),
        (r#"equal("provider""#, "general_query_invalid"),
        (r#"cursorAfter("abc")"#, "general_cursor_not_found"),
    ] {
        let query = serde_urlencoded::to_string([("queries[0]", q)]).unwrap_or_default();
        let r = h
            .call(
                Method::GET,
                &format!("/v1/account/identities?{query}"),
                &auth,
                None,
            )
            .await;
        assert_eq!((r.status.as_u16(), r.typ()), (400, ty), "{q}");
    }
    let r = h
        .call(Method::DELETE, "/v1/account/identities/abc123", &auth, None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (404, "user_identity_not_found")
    );
    let r = h
        .call(
            Method::DELETE,
            "/v1/account/identities/bad%20id",
            &auth,
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 400);
    let r = h
        .call(Method::GET, "/v1/account/identities", &[], None)
        .await;
    assert_eq!(r.status.as_u16(), 401);
}
