//! Router tests over the merged application: flows, error contract, limits and faults.

mod common;

use axum::http::{Method, StatusCode};
use common::{Harness, harness, harness_with};
use serde_json::json;
use shared::Config;

const PW: &str = "password123";

#[tokio::test]
async fn signup_signin_and_session_management() {
    let h = harness().await;
    let r = h.signup("u1", "Ann@Example.com", PW).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["email"], "ann@example.com");
    assert_eq!(r.body["targets"][0]["identifier"], "ann@example.com");
    assert!(r.body.get("password").is_none() && r.body.get("hash").is_none());

    let (s1, cred) = h.login("ann@example.com", PW).await;
    assert_eq!(s1["current"], true);
    assert_eq!(s1["factors"], json!(["password"]));
    assert_eq!(s1["clientName"], "Firefox");
    assert_eq!(s1["osName"], "GNU/Linux");
    assert!(!cred.is_empty());

    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["$id"], "u1");

    let list = h
        .call(
            Method::GET,
            "/v1/account/sessions",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["sessions"][0]["current"], true);
    assert_eq!(list.body["sessions"][0]["secret"], "");

    // The same credential works as a cookie (URL-encoded or not).
    let cookie = format!("a_session_proj1={}", cred.replace('=', "%3D"));
    let me = h
        .call(
            Method::GET,
            "/v1/account/sessions/current",
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["$id"], s1["$id"]);

    // ... and through X-Fallback-Cookies.
    let fb = json!({"a_session_proj1": cred}).to_string();
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-fallback-cookies", &fb)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.header("x-debug-fallback"), Some("true"));

    // PATCH extends the session.
    h.clock.advance_s(100);
    let p = h
        .call(
            Method::PATCH,
            "/v1/account/sessions/current",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body["expire"].as_str() > s1["expire"].as_str());

    // A second session, deleted by id.
    let (s2, _) = h.login("ann@example.com", PW).await;
    let id2 = s2["$id"].as_str().unwrap_or("");
    let d = h
        .call(
            Method::DELETE,
            &format!("/v1/account/sessions/{id2}"),
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert!(
        d.cookies().is_empty(),
        "deleting another session keeps this one's cookies"
    );
    let g = h
        .call(
            Method::GET,
            &format!("/v1/account/sessions/{id2}"),
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(
        (g.status, g.typ()),
        (StatusCode::NOT_FOUND, "user_session_not_found")
    );

    // Sign out everywhere: cookies cleared, credential dead.
    let d = h
        .call(
            Method::DELETE,
            "/v1/account/sessions",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let cookies = d.cookies();
    assert_eq!(cookies.len(), 2);
    assert!(cookies.iter().all(|c| c.contains("Max-Age=0")));
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(
        (me.status, me.typ()),
        (StatusCode::UNAUTHORIZED, "general_unauthorized_scope")
    );
    assert_eq!(
        me.body["message"],
        "User (role: guests) missing scopes ([\"account\"])"
    );
}

#[tokio::test]
async fn e8_another_users_session_is_invisible() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    h.signup("u2", "b@example.com", PW).await;
    let (_, a) = h.login("a@example.com", PW).await;
    let (sb, b) = h.login("b@example.com", PW).await;
    let path = format!("/v1/account/sessions/{}", sb["$id"].as_str().unwrap_or(""));
    for m in [Method::GET, Method::PATCH, Method::DELETE] {
        let r = h
            .call(m.clone(), &path, &[("x-appwrite-session", &a)], None)
            .await;
        assert_eq!(
            (r.status, r.typ()),
            (StatusCode::NOT_FOUND, "user_session_not_found"),
            "{m}"
        );
    }
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &b)],
            None,
        )
        .await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "B's session survived A's attempts"
    );
}

#[tokio::test]
async fn a1_a3_a4_passwords_count_code_points_and_are_not_trimmed() {
    let h = harness().await;
    assert_eq!(
        h.signup("u1", "a@example.com", "🐎🐎").await.status,
        StatusCode::BAD_REQUEST
    );
    let pw = "  pass phrase 🐎 ü ";
    assert_eq!(
        h.signup("u1", "a@example.com", pw).await.status,
        StatusCode::CREATED
    );
    for wrong in [pw.trim(), "  pass phrase 🐎 ü  "] {
        let body = json!({"email": "a@example.com", "password": wrong});
        let r = h
            .call(
                Method::POST,
                "/v1/account/sessions/email",
                &[("x-appwrite-key", &h.key)],
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    h.login("a@example.com", pw).await;
}

#[tokio::test]
async fn e3_cookies_follow_the_contract() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    let body = json!({"email": "a@example.com", "password": PW});
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/email",
            &[
                ("host", "api.example.com"),
                ("x-forwarded-proto", "https"),
                ("origin", "https://localhost"),
            ],
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["secret"], "", "clients never see the secret");
    let cookies = r.cookies();
    let main = cookies
        .iter()
        .find(|c| c.starts_with("a_session_proj1="))
        .cloned()
        .unwrap_or_default();
    let legacy = cookies
        .iter()
        .find(|c| c.starts_with("a_session_proj1_legacy="))
        .cloned()
        .unwrap_or_default();
    for c in [&main, &legacy] {
        assert!(
            c.contains("; httponly") && c.contains("; path=/") && c.contains("; secure"),
            "{c}"
        );
    }
    assert!(main.contains("samesite=None") && !legacy.contains("samesite"));
    let fallback = r.header("x-fallback-cookies").unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(fallback).unwrap_or_default();
    let cred = v["a_session_proj1"].as_str().unwrap_or("").to_string();
    assert!(!cred.is_empty());
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn anonymous_sessions_and_the_session_group() {
    let h = harness().await;
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/anonymous",
            &[("x-appwrite-key", &h.key)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["provider"], "anonymous");
    let cred = r.body["secret"].as_str().unwrap_or("").to_string();
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(
        (
            me.body["email"].as_str(),
            me.body["passwordUpdate"].as_str()
        ),
        (Some(""), Some(""))
    );
    // A signed-in caller cannot create another session.
    let again = h
        .call(
            Method::POST,
            "/v1/account/sessions/anonymous",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.typ()),
        (StatusCode::UNAUTHORIZED, "user_session_already_exists")
    );
    // ... and an API key next to a session is refused outright.
    let both = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred), ("x-appwrite-key", &h.key)],
            None,
        )
        .await;
    assert_eq!(
        (both.status, both.typ()),
        (StatusCode::FORBIDDEN, "user_key_and_session_set")
    );
}

#[tokio::test]
async fn session_limit_evicts_the_oldest() {
    let h = harness().await;
    h.set("auths.maxSessions=3").await;
    h.signup("u1", "a@example.com", PW).await;
    let mut ids = vec![];
    let mut last = String::new();
    for _ in 0..4 {
        h.clock.advance_s(1);
        let (s, c) = h.login("a@example.com", PW).await;
        ids.push(s["$id"].as_str().unwrap_or("").to_string());
        last = c;
    }
    let list = h
        .call(
            Method::GET,
            "/v1/account/sessions",
            &[("x-appwrite-session", &last)],
            None,
        )
        .await;
    let listed: Vec<&str> = list.body["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["$id"].as_str())
        .collect();
    assert_eq!(
        listed,
        ids[1..].iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn e6_sessions_expire_with_the_project_duration() {
    let h = harness().await;
    h.set("auths.duration=60").await;
    h.signup("u1", "a@example.com", PW).await;
    let (_, cred) = h.login("a@example.com", PW).await;
    h.clock.advance_s(59);
    let ok = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    h.clock.advance_s(2);
    let gone = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn credential_errors() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    let cases = [
        (
            json!({"email": "a@example.com", "password": "wrongpass1"}),
            401,
            "user_invalid_credentials",
        ),
        (
            json!({"email": "nobody@example.com", "password": PW}),
            401,
            "user_invalid_credentials",
        ),
        (
            json!({"email": "a@example.com", "password": "short"}),
            400,
            "general_argument_invalid",
        ),
        (
            json!({"email": "not-an-email", "password": PW}),
            400,
            "general_argument_invalid",
        ),
        (
            json!({"email": "a@example.com"}),
            400,
            "general_argument_invalid",
        ),
    ];
    for (body, status, typ) in cases {
        let r = h
            .call(
                Method::POST,
                "/v1/account/sessions/email",
                &[("x-appwrite-key", &h.key)],
                Some(body.clone()),
            )
            .await;
        assert_eq!((r.status.as_u16(), r.typ()), (status, typ), "{body}");
        assert_eq!(r.body["code"], status);
        assert_eq!(r.body["version"], shared::error::SERVER_VERSION);
    }
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/email",
            &[("x-appwrite-key", &h.key)],
            Some(json!({"email": "a@example.com"})),
        )
        .await;
    assert_eq!(r.body["message"], "Param \"password\" is not optional.");
    let r = h.signup("u2", "bad", PW).await;
    assert!(
        r.body["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Invalid `email` param")
    );
}

#[tokio::test]
async fn blocked_users_are_refused_everywhere() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    let (_, cred) = h.login("a@example.com", PW).await;
    let mut auth = shared::repo::load_auth(&h.state.table, "proj1", "u1")
        .await
        .ok()
        .flatten()
        .expect("user");
    auth.user.status = false;
    shared::repo::save_user(&h.state.table, "proj1", &auth.user)
        .await
        .expect("save");
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(
        (me.status, me.typ()),
        (StatusCode::UNAUTHORIZED, "user_blocked")
    );
    let body = json!({"email": "a@example.com", "password": PW});
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/email",
            &[("x-appwrite-key", &h.key)],
            Some(body),
        )
        .await;
    assert_eq!(r.typ(), "user_blocked");
    let body = json!({"email": "a@example.com", "password": "wrongpass1"});
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/email",
            &[("x-appwrite-key", &h.key)],
            Some(body),
        )
        .await;
    assert_eq!(
        r.typ(),
        "user_invalid_credentials",
        "a wrong password reveals nothing about the block"
    );
}

#[tokio::test]
async fn request_and_project_errors() {
    let h = harness().await;
    let r = h.call(Method::GET, "/v1/nope", &[], None).await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::NOT_FOUND, "general_route_not_found")
    );

    let req = axum::http::Request::builder()
        .uri("/v1/account")
        .body(axum::body::Body::empty())
        .expect("req");
    let r = h.send(req).await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::NOT_FOUND, "project_not_found")
    );
    let req = axum::http::Request::builder()
        .uri("/v1/account")
        .header("x-appwrite-project", "missing")
        .body(axum::body::Body::empty())
        .expect("req");
    assert_eq!(h.send(req).await.typ(), "project_not_found");

    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/account")
        .header("x-appwrite-project", "proj1")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .expect("req");
    let r = h.send(req).await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "general_argument_invalid")
    );

    let big = format!("{{\"userId\":\"{}\"}}", "x".repeat(2 << 20));
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/account")
        .header("x-appwrite-project", "proj1")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(big))
        .expect("req");
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = h
        .call(
            Method::POST,
            "/v1/account",
            &[("x-appwrite-key", "standard_nope")],
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::UNAUTHORIZED, "user_unauthorized")
    );
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-key", &h.key)],
            None,
        )
        .await;
    assert_eq!(
        r.body["message"],
        "User (role: applications) missing scopes ([\"account\"])"
    );
    let expired = infra::admin::create_key(
        &h.state.table,
        "proj1",
        "old",
        &["sessions.write"],
        Some(common::T0 - 1),
    )
    .await
    .expect("key");
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/anonymous",
            &[("x-appwrite-key", &expired)],
            None,
        )
        .await;
    assert_eq!(r.typ(), "project_key_expired");
    let narrow = infra::admin::create_key(&h.state.table, "proj1", "narrow", &["users.read"], None)
        .await
        .expect("key");
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/anonymous",
            &[("x-appwrite-key", &narrow)],
            None,
        )
        .await;
    assert_eq!(r.typ(), "general_unauthorized_scope");
}

#[tokio::test]
async fn disabled_methods_and_user_limit() {
    let h = harness().await;
    h.set("auths.anonymous=false").await;
    let r = h
        .call(Method::POST, "/v1/account/sessions/anonymous", &[], None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (501, "user_auth_method_unsupported")
    );
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/anonymous",
            &[("x-appwrite-key", &h.key)],
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "API keys bypass method toggles"
    );
    h.set("auths.limit=1").await;
    let r = h.signup("u2", "b@example.com", PW).await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "user_count_exceeded")
    );
}

#[tokio::test]
async fn g1_concurrent_signups_with_one_email_yield_one_user() {
    let h = harness().await;
    let requests = (0..8)
        .map(|i| {
            let body =
                json!({"userId": format!("racer{i}"), "email": "race@example.com", "password": PW});
            h.request(
                Method::POST,
                "/v1/account",
                &[("x-appwrite-key", &h.key)],
                Some(body),
            )
        })
        .collect();
    let statuses = h.concurrently(requests).await;
    assert_eq!(statuses, vec![201, 409, 409, 409, 409, 409, 409, 409]);
    let owner = shared::repo::user_id_by_email(&h.state.table, "proj1", "race@example.com")
        .await
        .ok()
        .flatten();
    let owner = owner.expect("guard");
    assert!(
        shared::repo::load_auth(&h.state.table, "proj1", &owner)
            .await
            .ok()
            .flatten()
            .is_some()
    );
}

#[tokio::test]
async fn b1_failed_signins_are_rate_limited_and_successes_reset() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    let attempt = |pw: &'static str| {
        let h: &Harness = &h;
        async move {
            let body = json!({"email": "a@example.com", "password": pw});
            h.call(Method::POST, "/v1/account/sessions/email", &[], Some(body))
                .await
        }
    };
    for _ in 0..5 {
        assert_eq!(attempt(PW).await.status, StatusCode::CREATED);
    }
    for i in 0..10 {
        let r = attempt("wrongpass1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((9 - i).to_string().as_str())
        );
    }
    let r = attempt(PW).await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (429, "general_rate_limit_exceeded")
    );
    assert_eq!(r.header("x-ratelimit-limit"), Some("10"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    // The next window opens again.
    h.clock.advance_s(3600);
    assert_eq!(attempt(PW).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn b2_password_spraying_is_limited_per_ip() {
    let h = harness_with(Config {
        signin_per_ip: 5,
        ..Config::default()
    })
    .await;
    let mut last = None;
    for i in 0..6 {
        let body = json!({"email": format!("victim{i}@example.com"), "password": "Summer2026!"});
        last = Some(
            h.call(Method::POST, "/v1/account/sessions/email", &[], Some(body))
                .await,
        );
    }
    assert_eq!(last.map(|r| r.status.as_u16()), Some(429));
}

#[tokio::test]
async fn e4_foreign_origins_are_refused_and_registered_ones_echoed() {
    let h = harness().await;
    infra::admin::add_platform(&h.state.table, "proj1", "web", "app.example.com", "App")
        .await
        .expect("platform");
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("origin", "https://evil.example.net")],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::FORBIDDEN, "general_unknown_origin")
    );
    assert!(r.header("access-control-allow-origin").is_none());
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("origin", "https://app.example.com")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let r = h
        .call(
            Method::OPTIONS,
            "/v1/account",
            &[("origin", "https://app.example.com")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(
        r.header("access-control-expose-headers")
            .unwrap_or("")
            .contains("X-Fallback-Cookies")
    );
}

#[tokio::test]
async fn a_store_fault_is_a_masked_500_with_nothing_written() {
    let h = harness().await;
    h.counter
        .fail_transactions
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = h.signup("u1", "a@example.com", PW).await;
    assert_eq!((r.status.as_u16(), r.typ()), (500, "general_server_error"));
    assert_eq!(r.body["message"], "Server Error");
    h.counter
        .fail_transactions
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(
        shared::repo::user_id_by_email(&h.state.table, "proj1", "a@example.com")
            .await
            .ok()
            .flatten()
            .is_none()
    );
    assert_eq!(
        h.signup("u1", "a@example.com", PW).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_app_keeps_serving() {
    let h = harness().await;
    let routes = infra::app_router().route(
        "/v1/test-panic",
        axum::routing::get(|| async {
            let v: Vec<u8> = vec![];
            #[allow(clippy::indexing_slicing)]
            let x = v[1];
            x.to_string()
        }),
    );
    let app = shared::http::finish(routes, h.state.clone());
    use tower::ServiceExt;
    let req = |p: &str| {
        axum::http::Request::builder()
            .uri(p.to_string())
            .header("x-appwrite-project", "proj1")
            .body(axum::body::Body::empty())
            .expect("req")
    };
    let res = app
        .clone()
        .oneshot(req("/v1/test-panic"))
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let res = app.oneshot(req("/v1/account")).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn store_round_trips_per_request() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    let (_, cred) = h.login("a@example.com", PW).await;
    h.counter.take();
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Project (cached on Lambda; uncached here) + one query for user and sessions.
    assert_eq!(h.counter.take(), 2, "GET /account");
    let body = json!({"email": "a@example.com", "password": PW});
    let r = h
        .call(Method::POST, "/v1/account/sessions/email", &[], Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Project, 2 rate counters, email guard, user+sessions query, session put, security-log
    // entry, counter reset.
    assert_eq!(h.counter.take(), 8, "POST /account/sessions/email");
}

#[tokio::test]
async fn b3_forwarded_for_is_believed_only_from_configured_proxies() {
    let proxy: std::net::IpAddr = "10.0.0.1".parse().expect("ip");
    let h = harness_with(Config {
        trusted_proxies: vec![proxy],
        ..Config::default()
    })
    .await;
    let ip_seen = |peer: &'static str| {
        let h: &Harness = &h;
        async move {
            let mut req = axum::http::Request::builder()
                .method("POST")
                .uri("/v1/account/sessions/anonymous")
                .header("x-appwrite-project", "proj1")
                .header("x-forwarded-for", "198.51.100.7, 10.0.0.1")
                .body(axum::body::Body::empty())
                .expect("req");
            let addr: std::net::SocketAddr = format!("{peer}:40000").parse().expect("addr");
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
            h.send(req).await.body["ip"]
                .as_str()
                .unwrap_or("")
                .to_string()
        }
    };
    assert_eq!(ip_seen("10.0.0.1").await, "198.51.100.7");
    assert_eq!(ip_seen("203.0.113.5").await, "203.0.113.5");
}

#[tokio::test]
async fn a6_a7_sign_up_applies_the_password_policy() {
    let h = harness().await;
    let body = |id: &str, pw: &str| json!({"userId": id, "email": format!("{id}@example.com"), "password": pw, "name": "Alice Smith"});
    let r = h
        .call(
            Method::POST,
            "/v1/account",
            &[],
            Some(body("u1", "password1234")),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "the dictionary is opt-in, as in Appwrite"
    );
    h.set("auths.passwordDictionary=true").await;
    h.set("auths.personalDataCheck=true").await;
    let r = h
        .call(
            Method::POST,
            "/v1/account",
            &[],
            Some(body("u2", "password1234")),
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "general_argument_invalid")
    );
    assert!(
        r.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("commonly used")
    );
    let r = h
        .call(
            Method::POST,
            "/v1/account",
            &[],
            Some(body("u3", "alicesmith2024!")),
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "password_personal_data")
    );
    let r = h
        .call(
            Method::POST,
            "/v1/account",
            &[],
            Some(body("u4", "u4@example.com-pw")),
        )
        .await;
    assert_eq!(r.typ(), "password_personal_data");
    let r = h
        .call(
            Method::POST,
            "/v1/account",
            &[],
            Some(body("u5", "tangerine skyline 77")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a2_a5_long_passphrases_are_accepted_and_oversized_ones_refused_early() {
    let h = harness().await;
    assert_eq!(
        h.signup("u64", "a@example.com", &"x".repeat(64))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        h.signup("u256", "b@example.com", &"y".repeat(256))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        h.signup("u257", "c@example.com", &"z".repeat(257))
            .await
            .typ(),
        "general_argument_invalid"
    );
    let lower = "correcthorsebatterystaple";
    assert_eq!(
        h.signup("lower", "d@example.com", lower).await.status,
        StatusCode::CREATED,
        "A5: no composition rules"
    );
    let big = "p".repeat(900_000);
    let started = std::time::Instant::now();
    let r = h.signup("big", "e@example.com", &big).await;
    assert_eq!(r.typ(), "general_argument_invalid");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "refused before any hashing"
    );
}

#[tokio::test]
async fn a9_no_response_carries_a_hash() {
    let h = harness().await;
    let r = h.signup("u1", "a@example.com", PW).await;
    let (session, cred) = h.login("a@example.com", PW).await;
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    let list = h
        .call(
            Method::GET,
            "/v1/account/sessions",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    let logs = h
        .call(
            Method::GET,
            "/v1/account/logs",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    for mut body in [r.body, session, me.body, list.body, logs.body] {
        // The session credential (random base64) is what key callers get; it is no hash.
        if let Some(o) = body.as_object_mut() {
            o.remove("secret");
        }
        let text = body.to_string();
        assert!(
            !text.contains("argon2") && !text.contains("\"hash") && !text.contains("\"password\":"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn e1_a_chosen_credential_is_never_adopted() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    let planted = shared::crypto::encode_credential("u1", &"a".repeat(256));
    let body = json!({"email": "a@example.com", "password": PW});
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/email",
            &[("cookie", &format!("a_session_proj1={planted}"))],
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let set = r.cookies().join("\n");
    assert!(!set.contains(&planted), "the server chose a fresh secret");
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &planted)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}
