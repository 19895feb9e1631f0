//! Passwordless sign-in and JWTs over the merged application, reading codes and links from
//! the outbox as a person reads their inbox.

mod common;

use axum::http::{Method, StatusCode};
use common::{Harness, harness};
use serde_json::{Value, json};

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_default()
        .to_string()
}

async fn email_token(h: &Harness, user_id: &str, email: &str) -> (Value, String) {
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/email",
            &[],
            Some(json!({"userId": user_id, "email": email})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["secret"], "");
    let mail = h.last_to(email);
    assert_eq!(mail["kind"], "email_otp");
    (r.body, code_in(mail["text"].as_str().unwrap_or("")))
}

async fn redeem(h: &Harness, user_id: &str, secret: &str) -> common::Resp {
    let body = json!({"userId": user_id, "secret": secret});
    h.call(
        Method::POST,
        "/v1/account/sessions/token",
        &[("x-appwrite-key", &h.key)],
        Some(body),
    )
    .await
}

#[tokio::test]
async fn email_otp_signs_in_once_and_verifies_the_email() {
    let h = harness().await;
    let (token, code) = email_token(&h, "otp1", "otp@example.com").await;
    assert_eq!(token["userId"], "otp1");
    assert_eq!(code.len(), 6);
    let s = redeem(&h, "otp1", &code).await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
    assert_eq!(
        (s.body["provider"].as_str(), s.body["factors"].clone()),
        (Some("token"), json!(["email"]))
    );
    let cred = s.body["secret"].as_str().unwrap_or("").to_string();
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(me.body["emailVerification"], true);
    let again = redeem(&h, "otp1", &code).await;
    assert_eq!(
        (again.status, again.typ()),
        (StatusCode::UNAUTHORIZED, "user_invalid_token")
    );
    // An existing email reuses its user, whatever userId is sent.
    let (t2, _) = email_token(&h, "someone-else", "otp@example.com").await;
    assert_eq!(t2["userId"], "otp1");
}

#[tokio::test]
async fn b4_five_wrong_codes_void_the_token_whatever_the_source_address() {
    let h = harness().await;
    let (_, code) = email_token(&h, "u1", "a@example.com").await;
    for i in 0..5 {
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let body = json!({"userId": "u1", "secret": wrong});
        let fwd = format!("10.0.0.{i}");
        let r = h
            .call(
                Method::POST,
                "/v1/account/sessions/token",
                &[("x-appwrite-key", &h.key), ("x-forwarded-for", &fwd)],
                Some(body),
            )
            .await;
        assert_eq!(r.typ(), "user_invalid_token");
    }
    let r = redeem(&h, "u1", &code).await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::UNAUTHORIZED, "user_invalid_token")
    );
    // A new token works again.
    let (_, fresh) = email_token(&h, "u1", "a@example.com").await;
    assert_eq!(redeem(&h, "u1", &fresh).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn c2_c3_expired_and_wrong_type_tokens_are_refused() {
    let h = harness().await;
    let (_, code) = email_token(&h, "u1", "a@example.com").await;
    h.clock.advance_s(10 * 60 + 1);
    assert_eq!(
        redeem(&h, "u1", &code).await.typ(),
        "user_invalid_token",
        "C2: codes live 10 minutes"
    );
    // A recovery token (issued by the verification function later) is no login token.
    let doc = shared::models::TokenDoc {
        id: "t".into(),
        user_id: "u1".into(),
        kind: shared::models::TokenKind::Recovery,
        created_ms: h.clock_now(),
        expire_ms: h.clock_now() + 3_600_000,
        secret_hash: shared::crypto::sha256_hex("recovery-secret"),
        ip: String::new(),
        user_agent: String::new(),
        failures: 0,
    };
    shared::repo::put_token(&h.state.table, "proj1", &doc)
        .await
        .expect("token");
    assert_eq!(
        redeem(&h, "u1", "recovery-secret").await.typ(),
        "user_invalid_token"
    );
    assert_eq!(
        redeem(&h, "nobody", "123456").await.typ(),
        "user_invalid_token"
    );
    let r = redeem(&h, "u1", "").await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "general_argument_invalid")
    );
}

#[tokio::test]
async fn g1_concurrent_redemptions_yield_exactly_one_session() {
    let h = harness().await;
    let (_, code) = email_token(&h, "u1", "race@example.com").await;
    let requests = (0..10)
        .map(|_| {
            let body = json!({"userId": "u1", "secret": code});
            h.request(
                Method::POST,
                "/v1/account/sessions/token",
                &[("x-appwrite-key", &h.key)],
                Some(body),
            )
        })
        .collect();
    let statuses = h.concurrently(requests).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 401),
        "{statuses:?}"
    );
    let auth = shared::repo::load_auth(&h.state.table, "proj1", "u1")
        .await
        .ok()
        .flatten()
        .expect("user");
    assert_eq!(auth.sessions.len(), 1);
}

#[tokio::test]
async fn c4_magic_url_links_point_only_at_registered_platforms() {
    let h = harness().await;
    let body = |url: &str| json!({"userId": "m1", "email": "m@example.com", "url": url});
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/magic-url",
            &[],
            Some(body("https://evil.example/x")),
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "general_argument_invalid")
    );
    assert!(
        h.messages().is_empty(),
        "nothing is sent for a refused link"
    );
    infra::admin::add_platform(&h.state.table, "proj1", "web", "app.example.com", "App")
        .await
        .expect("platform");
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/magic-url",
            &[("x-appwrite-key", &h.key)],
            Some(body("https://app.example.com/cb?a=1")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap_or("").to_string();
    assert_eq!(secret.len(), 64);
    let mail = h.last_to("m@example.com");
    assert_eq!(mail["kind"], "magic_url");
    let text = mail["text"].as_str().unwrap_or("");
    assert!(
        text.contains(&format!(
            "https://app.example.com/cb?a=1&userId=m1&secret={secret}"
        )),
        "{text}"
    );
    let s = h
        .call(
            Method::PUT,
            "/v1/account/sessions/magic-url",
            &[],
            Some(json!({"userId": "m1", "secret": secret})),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED);
    assert_eq!(s.body["provider"], "magic-url");
    // Clients (no key) get cookies, not the secret.
    assert_eq!(s.body["secret"], "");
    assert_eq!(s.cookies().len(), 2);
}

#[tokio::test]
async fn phone_tokens_and_mock_numbers() {
    let h = harness().await;
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/phone",
            &[("x-appwrite-key", &h.key)],
            Some(json!({"userId": "p1", "phone": "+14155550100"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sms = h.last_to("+14155550100");
    assert_eq!(
        (sms["channel"].as_str(), sms["kind"].as_str()),
        (Some("sms"), Some("phone_otp"))
    );
    let code = code_in(sms["text"].as_str().unwrap_or(""));
    // Keys get the encoded credential form of the code.
    let enc = r.body["secret"].as_str().unwrap_or("");
    assert_eq!(
        shared::crypto::decode_credential(enc),
        Some(("p1".into(), code.clone()))
    );
    let s = h
        .call(
            Method::PUT,
            "/v1/account/sessions/phone",
            &[],
            Some(json!({"userId": "p1", "secret": code})),
        )
        .await;
    assert_eq!(
        (s.status, s.body["provider"].as_str()),
        (StatusCode::CREATED, Some("phone"))
    );

    h.set(r#"auths.mockNumbers=[{"phone":"+15005550006","otp":"424242"}]"#)
        .await;
    let before = h.messages().len();
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/phone",
            &[],
            Some(json!({"userId": "p2", "phone": "+15005550006"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(h.messages().len(), before, "mock numbers get no SMS");
    assert_eq!(redeem(&h, "p2", "424242").await.status, StatusCode::CREATED);

    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/phone",
            &[],
            Some(json!({"userId": "p3", "phone": "555-0100"})),
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "general_argument_invalid")
    );
}

#[tokio::test]
async fn delivery_switched_off_is_503() {
    let h = harness().await;
    h.set("mail=null").await;
    h.set("sms=null").await;
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/email",
            &[],
            Some(json!({"userId": "u", "email": "a@example.com"})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.typ()), (503, "general_smtp_disabled"));
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/phone",
            &[],
            Some(json!({"userId": "u", "phone": "+14155550100"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (503, "general_phone_disabled")
    );
    h.set("auths.emailOtp=false").await;
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/email",
            &[],
            Some(json!({"userId": "u", "email": "a@example.com"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (501, "user_auth_method_unsupported")
    );
}

#[tokio::test]
async fn b5_sends_are_limited_per_recipient() {
    let h = harness().await;
    let mut last = None;
    for i in 0..11 {
        let fwd = format!("10.1.0.{i}");
        last = Some(
            h.call(
                Method::POST,
                "/v1/account/tokens/email",
                &[("x-forwarded-for", &fwd)],
                Some(json!({"userId": "u", "email": "flood@example.com"})),
            )
            .await,
        );
    }
    assert_eq!(last.map(|r| r.status.as_u16()), Some(429));
}

#[tokio::test]
async fn e5_f1_jwts_authenticate_until_their_session_ends() {
    let h = harness().await;
    h.signup("u1", "a@example.com", "password123").await;
    let (_, cred) = h.login("a@example.com", "password123").await;
    let r = h
        .call(
            Method::POST,
            "/v1/account/jwts",
            &[("x-appwrite-session", &cred)],
            Some(json!({"duration": 60})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let jwt = r.body["jwt"].as_str().unwrap_or("").to_string();
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-jwt", &jwt)],
            None,
        )
        .await;
    assert_eq!(
        (me.status, me.body["$id"].as_str()),
        (StatusCode::OK, Some("u1"))
    );
    // Under a JWT no session is current, and no JWT can be minted from a JWT.
    let list = h
        .call(
            Method::GET,
            "/v1/account/sessions",
            &[("x-appwrite-jwt", &jwt)],
            None,
        )
        .await;
    assert_eq!(list.body["sessions"][0]["current"], false);
    let r = h
        .call(
            Method::POST,
            "/v1/account/jwt",
            &[("x-appwrite-jwt", &jwt)],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::NOT_FOUND, "user_session_not_found")
    );
    // JWT plus session credential is refused.
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-jwt", &jwt), ("x-appwrite-session", &cred)],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::FORBIDDEN, "user_jwt_and_cookie_set")
    );
    // Tampering and expiry.
    let tampered = format!("{}x", &jwt[..jwt.len() - 1]);
    for bad in [tampered.as_str(), "not.a.jwt", "abc"] {
        let r = h
            .call(Method::GET, "/v1/account", &[("x-appwrite-jwt", bad)], None)
            .await;
        assert_eq!(
            (r.status, r.typ()),
            (StatusCode::UNAUTHORIZED, "user_jwt_invalid"),
            "{bad}"
        );
    }
    let r = h
        .call(
            Method::POST,
            "/v1/account/jwts",
            &[("x-appwrite-session", &cred)],
            Some(json!({"duration": 3601})),
        )
        .await;
    assert_eq!(r.typ(), "general_argument_invalid");
    h.clock.advance_s(61);
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-jwt", &jwt)],
            None,
        )
        .await;
    assert_eq!(
        (r.typ(), r.body["message"].as_str()),
        (
            "user_jwt_invalid",
            Some("Failed to verify JWT. Invalid token: Expired")
        )
    );
    // A fresh JWT dies with its session.
    let r = h
        .call(
            Method::POST,
            "/v1/account/jwts",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await;
    let jwt = r.body["jwt"].as_str().unwrap_or("").to_string();
    h.call(
        Method::DELETE,
        "/v1/account/sessions/current",
        &[("x-appwrite-session", &cred)],
        None,
    )
    .await;
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-jwt", &jwt)],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::UNAUTHORIZED, "general_unauthorized_scope")
    );
}

#[tokio::test]
async fn a_jwt_of_another_project_is_refused() {
    let h = harness().await;
    h.signup("u1", "a@example.com", "password123").await;
    let (_, cred) = h.login("a@example.com", "password123").await;
    let jwt = h
        .call(
            Method::POST,
            "/v1/account/jwts",
            &[("x-appwrite-session", &cred)],
            None,
        )
        .await
        .body["jwt"]
        .as_str()
        .unwrap_or("")
        .to_string();
    infra::admin::create_project(&h.state.table, "proj2", "Other")
        .await
        .expect("project");
    let r = h.call(Method::GET, "/v1/account", &[], None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let req = axum::http::Request::builder()
        .uri("/v1/account")
        .header("x-appwrite-project", "proj2")
        .header("x-appwrite-jwt", jwt)
        .body(axum::body::Body::empty())
        .expect("req");
    let r = h.send(req).await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::UNAUTHORIZED, "user_jwt_invalid")
    );
}

#[tokio::test]
async fn session_alerts_are_opt_in_and_skip_the_first_session() {
    let h = harness().await;
    h.signup("u1", "a@example.com", "password123").await;
    h.login("a@example.com", "password123").await;
    h.login("a@example.com", "password123").await;
    assert!(h.messages().is_empty(), "off by default");
    h.set("auths.sessionAlerts=true").await;
    h.signup("u2", "b@example.com", "password123").await;
    h.login("b@example.com", "password123").await;
    assert!(h.messages().is_empty(), "no alert for the first session");
    h.login("b@example.com", "password123").await;
    let alert = h.last_to("b@example.com");
    assert_eq!(alert["kind"], "session_alert");
    let text = alert["text"].as_str().unwrap_or("");
    assert!(!text.contains("password123"));
    let (_, code) = email_token(&h, "u3", "c@example.com").await;
    redeem(&h, "u3", &code).await;
    let (_, code) = email_token(&h, "u3", "c@example.com").await;
    redeem(&h, "u3", &code).await;
    assert_eq!(
        h.last_to("c@example.com")["kind"],
        "email_otp",
        "emailed secrets send no alert"
    );
}

#[tokio::test]
async fn store_round_trips_of_token_redemption() {
    let h = harness().await;
    let (_, code) = email_token(&h, "u1", "a@example.com").await;
    h.counter.take();
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/token",
            &[],
            Some(json!({"userId": "u1", "secret": code})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Project, rate counter, user+sessions+tokens query, one transaction, security-log entry,
    // counter reset.
    assert_eq!(h.counter.take(), 6);
}
