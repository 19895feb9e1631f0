//! The profile endpoints over the merged application. Test names carry the checklist item
//! they cover where one applies (A8, C6, E4, E7, E9, G3, G4).

mod common;

use axum::http::{Method, StatusCode};
use common::{Harness, harness};
use serde_json::json;

const PW: &str = "password123";

async fn user(h: &Harness, id: &str, email: &str) -> String {
    let r = h.signup(id, email, PW).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    h.login(email, PW).await.1
}

async fn patch(h: &Harness, cred: &str, path: &str, body: serde_json::Value) -> common::Resp {
    h.call(
        Method::PATCH,
        path,
        &[("x-appwrite-session", cred)],
        Some(body),
    )
    .await
}

#[tokio::test]
async fn name_and_prefs() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    let r = patch(&h, &s, "/v1/account/name", json!({"name": "Ann Lee"})).await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (StatusCode::OK, Some("Ann Lee"))
    );
    assert_eq!(
        patch(&h, &s, "/v1/account/name", json!({"name": ""}))
            .await
            .typ(),
        "general_argument_invalid"
    );
    let g = h
        .call(
            Method::GET,
            "/v1/account/prefs",
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    assert_eq!(g.body, json!({}));
    let r = patch(
        &h,
        &s,
        "/v1/account/prefs",
        json!({"prefs": {"theme": "dark", "n": 1}}),
    )
    .await;
    assert_eq!(r.body["prefs"], json!({"theme": "dark", "n": 1}));
    let r = patch(
        &h,
        &s,
        "/v1/account/prefs",
        json!({"prefs": {"lang": "de"}}),
    )
    .await;
    assert_eq!(
        r.body["prefs"],
        json!({"lang": "de"}),
        "whole-object replace"
    );
    let g = h
        .call(
            Method::GET,
            "/v1/account/prefs",
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    assert_eq!(g.body, json!({"lang": "de"}));
}

#[tokio::test]
async fn g3_prefs_must_be_a_small_object() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    for bad in [
        json!("{}"),
        json!([1, 2]),
        json!({"x": "-".repeat(100_000)}),
        json!({"x": "🍰".repeat(12_000)}),
    ] {
        let r = patch(&h, &s, "/v1/account/prefs", json!({"prefs": bad})).await;
        assert_eq!(
            (r.status, r.typ()),
            (StatusCode::BAD_REQUEST, "general_argument_invalid")
        );
    }
    let r = patch(
        &h,
        &s,
        "/v1/account/prefs",
        json!({"prefs": {"x": "-".repeat(60_000)}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a8_e7_c6_password_change() {
    let h = harness().await;
    let s1 = user(&h, "u1", "a@example.com").await;
    let (_, s2) = h.login("a@example.com", PW).await;
    let r = patch(
        &h,
        &s1,
        "/v1/account/password",
        json!({"password": "new passphrase 1"}),
    )
    .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::UNAUTHORIZED, "user_invalid_credentials"),
        "A8: old password required"
    );
    let r = patch(
        &h,
        &s1,
        "/v1/account/password",
        json!({"password": "new passphrase 1", "oldPassword": "wrongpass1"}),
    )
    .await;
    assert_eq!(r.typ(), "user_invalid_credentials");
    let r = patch(
        &h,
        &s1,
        "/v1/account/password",
        json!({"password": "new passphrase 1", "oldPassword": PW}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("password").is_none());
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &s1)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "E7: the current session stays");
    let other = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &s2)],
            None,
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::UNAUTHORIZED,
        "E7: other sessions end"
    );
    let notice = h.last_to("a@example.com");
    assert_eq!(notice["kind"], "notice", "C6");
    assert!(
        !notice["text"]
            .as_str()
            .unwrap_or("")
            .contains("new passphrase 1")
    );
    h.login("a@example.com", "new passphrase 1").await;
}

#[tokio::test]
async fn password_history_refuses_reuse() {
    let h = harness().await;
    h.set("auths.passwordHistory=2").await;
    let s = user(&h, "u1", "a@example.com").await;
    let r = patch(
        &h,
        &s,
        "/v1/account/password",
        json!({"password": PW, "oldPassword": PW}),
    )
    .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "password_recently_used")
    );
    let r = patch(
        &h,
        &s,
        "/v1/account/password",
        json!({"password": "second pass 22", "oldPassword": PW}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = patch(
        &h,
        &s,
        "/v1/account/password",
        json!({"password": PW, "oldPassword": "second pass 22"}),
    )
    .await;
    assert_eq!(r.typ(), "password_recently_used");
}

#[tokio::test]
async fn e9_c6_email_change() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    user(&h, "u2", "b@example.com").await;
    let r = patch(
        &h,
        &s,
        "/v1/account/email",
        json!({"email": "new@example.com", "password": "wrongpass1"}),
    )
    .await;
    assert_eq!(r.typ(), "user_invalid_credentials", "E9");
    let r = patch(
        &h,
        &s,
        "/v1/account/email",
        json!({"email": "B@example.com", "password": PW}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (409, "user_target_already_exists")
    );
    let r = patch(
        &h,
        &s,
        "/v1/account/email",
        json!({"email": "New@Example.com", "password": PW}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["email"].as_str(),
            r.body["emailVerification"].as_bool()
        ),
        (Some("new@example.com"), Some(false))
    );
    assert_eq!(r.body["targets"][0]["identifier"], "new@example.com");
    assert_eq!(
        h.last_to("a@example.com")["kind"],
        "notice",
        "C6: the old address hears of it"
    );
    h.login("new@example.com", PW).await;
    // The old address is free again.
    assert_eq!(
        h.signup("u3", "a@example.com", PW).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn concurrent_email_changes_to_one_address_leave_one_owner() {
    let h = harness().await;
    let mut creds = vec![];
    for i in 0..6 {
        creds.push(user(&h, &format!("u{i}"), &format!("u{i}@example.com")).await);
    }
    let requests = creds
        .iter()
        .map(|c| {
            let body = json!({"email": "prize@example.com", "password": PW});
            h.request(
                Method::PATCH,
                "/v1/account/email",
                &[("x-appwrite-session", c)],
                Some(body),
            )
        })
        .collect();
    let statuses = h.concurrently(requests).await;
    assert_eq!(statuses, vec![200, 409, 409, 409, 409, 409]);
}

#[tokio::test]
async fn anonymous_accounts_convert_by_email() {
    let h = harness().await;
    let r = h
        .call(
            Method::POST,
            "/v1/account/sessions/anonymous",
            &[("x-appwrite-key", &h.key)],
            None,
        )
        .await;
    let s = r.body["secret"].as_str().unwrap_or("").to_string();
    let r = patch(
        &h,
        &s,
        "/v1/account/email",
        json!({"email": "anon@example.com", "password": "chosen passphrase"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ne!(r.body["passwordUpdate"], "");
    h.login("anon@example.com", "chosen passphrase").await;
}

#[tokio::test]
async fn phone_change() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    let s2 = user(&h, "u2", "b@example.com").await;
    let r = patch(
        &h,
        &s,
        "/v1/account/phone",
        json!({"phone": "+14155550199", "password": PW}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["phone"].as_str(),
            r.body["phoneVerification"].as_bool()
        ),
        (Some("+14155550199"), Some(false))
    );
    let r = patch(
        &h,
        &s2,
        "/v1/account/phone",
        json!({"phone": "+14155550199", "password": PW}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (409, "user_target_already_exists")
    );
    let r = patch(
        &h,
        &s,
        "/v1/account/phone",
        json!({"phone": "4155550199", "password": PW}),
    )
    .await;
    assert_eq!(r.typ(), "general_argument_invalid");
}

#[tokio::test]
async fn g4_self_block_stops_every_session_and_sign_in() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    let (_, other) = h.login("a@example.com", PW).await;
    let r = h
        .call(
            Method::PATCH,
            "/v1/account/status",
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    assert!(r.cookies().iter().all(|c| c.contains("Max-Age=0")) && r.cookies().len() == 2);
    for cred in [&s, &other] {
        let me = h
            .call(
                Method::GET,
                "/v1/account",
                &[("x-appwrite-session", cred)],
                None,
            )
            .await;
        assert_eq!(me.typ(), "user_blocked");
    }
    let body = json!({"email": "a@example.com", "password": PW});
    let r = h
        .call(Method::POST, "/v1/account/sessions/email", &[], Some(body))
        .await;
    assert_eq!(r.typ(), "user_blocked");
}

#[tokio::test]
async fn e4_cookie_writes_from_foreign_origins_are_refused() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    let cookie = format!("a_session_proj1={s}");
    let r = h
        .call(
            Method::PATCH,
            "/v1/account/prefs",
            &[("cookie", &cookie), ("origin", "https://evil.example")],
            Some(json!({"prefs": {"x": 1}})),
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::FORBIDDEN, "general_unknown_origin")
    );
    infra::admin::add_platform(&h.state.table, "proj1", "web", "app.example.com", "App")
        .await
        .expect("platform");
    let r = h
        .call(
            Method::PATCH,
            "/v1/account/prefs",
            &[("cookie", &cookie), ("origin", "https://app.example.com")],
            Some(json!({"prefs": {"x": 1}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn push_targets() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    let s2 = user(&h, "u2", "b@example.com").await;
    let body = json!({"targetId": "t1", "identifier": "device-token-1"});
    let r = h
        .call(
            Method::POST,
            "/v1/account/targets/push",
            &[("x-appwrite-session", &s)],
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (
            r.body["providerType"].as_str(),
            r.body["identifier"].as_str()
        ),
        (Some("push"), Some("device-token-1"))
    );
    let me = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    assert!(
        me.body["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["$id"] == "t1")
    );
    let dup = json!({"targetId": "t9", "identifier": "device-token-1"});
    let r = h
        .call(
            Method::POST,
            "/v1/account/targets/push",
            &[("x-appwrite-session", &s2)],
            Some(dup),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.typ()),
        (409, "user_target_already_exists")
    );
    let r = h
        .call(
            Method::PUT,
            "/v1/account/targets/t1/push",
            &[("x-appwrite-session", &s)],
            Some(json!({"identifier": "device-token-2"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["identifier"].as_str()),
        (StatusCode::OK, Some("device-token-2"))
    );
    let r = h
        .call(
            Method::PUT,
            "/v1/account/targets/t1/push",
            &[("x-appwrite-session", &s2)],
            Some(json!({"identifier": "x"})),
        )
        .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::NOT_FOUND, "user_target_not_found"),
        "another user's target"
    );
    let r = h
        .call(
            Method::DELETE,
            "/v1/account/targets/t1/push",
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // The identifier is free again.
    let r = h
        .call(
            Method::POST,
            "/v1/account/targets/push",
            &[("x-appwrite-session", &s2)],
            Some(json!({"targetId": "t2", "identifier": "device-token-2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn g4_security_log_lists_account_events_newest_first() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    h.clock.advance_s(1);
    patch(&h, &s, "/v1/account/name", json!({"name": "Ann"})).await;
    let r = h
        .call(
            Method::GET,
            "/v1/account/logs",
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let events: Vec<&str> = r.body["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["event"].as_str())
        .collect();
    assert_eq!(events, vec!["user.update", "session.create", "user.create"]);
    assert_eq!(r.body["total"], 3);
    assert_eq!(r.body["logs"][0]["ip"], "127.0.0.1");
    assert_eq!(r.body["logs"][0]["osName"], "GNU/Linux");
    let q = r#"queries%5B0%5D=%7B%22method%22%3A%22limit%22%2C%22values%22%3A%5B1%5D%7D&queries%5B1%5D=offset(1)"#;
    let r = h
        .call(
            Method::GET,
            &format!("/v1/account/logs?{q}"),
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    let events: Vec<&str> = r.body["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["event"].as_str())
        .collect();
    assert_eq!(events, vec!["session.create"]);
    let r = h
        .call(
            Method::GET,
            "/v1/account/logs?queries%5B0%5D=nope(1)",
            &[("x-appwrite-session", &s)],
            None,
        )
        .await;
    assert_eq!(r.typ(), "general_argument_invalid");
}

#[tokio::test]
async fn a6_a7_password_change_applies_the_policy() {
    let h = harness().await;
    let s = user(&h, "u1", "a@example.com").await;
    h.set("auths.passwordDictionary=true").await;
    h.set("auths.personalDataCheck=true").await;
    let r = patch(
        &h,
        &s,
        "/v1/account/password",
        json!({"password": "password1234", "oldPassword": PW}),
    )
    .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "general_argument_invalid"),
        "A6"
    );
    let r = patch(
        &h,
        &s,
        "/v1/account/password",
        json!({"password": "my a@example.com pass", "oldPassword": PW}),
    )
    .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "password_personal_data"),
        "A7"
    );
}
