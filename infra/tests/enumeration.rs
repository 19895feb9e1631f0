//! B7: enumeration-safe mode. Off by default (Appwrite's observable behaviour); when a
//! project turns it on, no endpoint tells whether an address has an account.

mod common;

use axum::http::{Method, StatusCode};
use common::harness;
use serde_json::json;

const PW: &str = "password123";

#[tokio::test]
async fn b7_default_mode_keeps_appwrites_answers() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    assert_eq!(
        h.signup("u2", "a@example.com", PW).await.typ(),
        "user_already_exists"
    );
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/email",
            &[],
            Some(json!({"userId": "fresh", "email": "a@example.com"})),
        )
        .await;
    assert_eq!(r.body["userId"], "u1", "Appwrite echoes the owner's id");
}

#[tokio::test]
async fn b7_safe_mode_reveals_nothing_and_still_works_for_the_owner() {
    let h = harness().await;
    infra::admin::add_platform(&h.state.table, "proj1", "web", "app.example.com", "App")
        .await
        .expect("platform");
    h.set("auths.enumerationProtection=true").await;
    h.signup("u1", "a@example.com", PW).await;

    let r = h.signup("u2", "a@example.com", "attacker pass 1").await;
    assert_eq!(
        (r.status, r.body["$id"].as_str()),
        (StatusCode::CREATED, Some("u2"))
    );
    let body = json!({"email": "a@example.com", "password": "attacker pass 1"});
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
        "nothing was created or changed"
    );
    h.login("a@example.com", PW).await;

    for email in ["a@example.com", "nobody@example.com"] {
        let r = h
            .call(
                Method::POST,
                "/v1/account/recovery",
                &[],
                Some(json!({"email": email, "url": "https://app.example.com/r"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{email}");
        assert_eq!(r.body["secret"], "");
    }
    assert!(h.messages().iter().all(|m| m["to"] != "nobody@example.com"));

    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/email",
            &[],
            Some(json!({"userId": "fresh", "email": "a@example.com"})),
        )
        .await;
    assert_eq!(r.body["userId"], "fresh", "the owner's id is not echoed");
    let text = h.last_to("a@example.com")["text"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or("")
        .to_string();
    let body = json!({"userId": "fresh", "secret": code});
    let s = h
        .call(
            Method::POST,
            "/v1/account/sessions/token",
            &[("x-appwrite-key", &h.key)],
            Some(body),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
    assert_eq!(
        s.body["userId"], "u1",
        "the mailbox owner signs in to their own account"
    );
}
