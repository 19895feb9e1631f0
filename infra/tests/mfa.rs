//! Multi-factor authentication over the merged application (checklist group D).

mod common;

use axum::http::{Method, StatusCode};
use common::{Harness, harness};
use serde_json::{Value, json};

const PW: &str = "password123";

fn totp_now(h: &Harness, secret_b32: &str, offset_s: i64) -> String {
    let secret = shared::mfa::from_base32(secret_b32).unwrap_or_default();
    shared::mfa::code_at(&secret, h.clock_now() / 1000 + offset_s)
}

async fn call(h: &Harness, m: Method, path: &str, cred: &str, body: Option<Value>) -> common::Resp {
    h.call(m, path, &[("x-appwrite-session", cred)], body).await
}

/// A user with a verified TOTP authenticator, MFA on and recovery codes; returns the
/// session, the base32 secret and the codes.
async fn enrolled(h: &Harness) -> (String, String, Vec<String>) {
    h.signup("u1", "a@example.com", PW).await;
    let (_, s) = h.login("a@example.com", PW).await;
    let r = call(
        h,
        Method::POST,
        "/v1/account/mfa/authenticators/totp",
        &s,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap_or("").to_string();
    assert_eq!(secret.len(), 103);
    assert!(
        r.body["uri"]
            .as_str()
            .unwrap_or("")
            .starts_with("otpauth://totp/Test%3Aa%40example.com?issuer=Test&secret=")
    );
    let r = call(
        h,
        Method::PUT,
        "/v1/account/mfa/authenticators/totp",
        &s,
        Some(json!({"otp": totp_now(h, &secret, 0)})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(
        h,
        Method::PATCH,
        "/v1/account/mfa",
        &s,
        Some(json!({"mfa": true})),
    )
    .await;
    assert_eq!(r.body["mfa"], true);
    let r = call(h, Method::POST, "/v1/account/mfa/recovery-codes", &s, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let codes: Vec<String> = r.body["recoveryCodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(String::from))
        .collect();
    assert_eq!(codes.len(), 6);
    (s, secret, codes)
}

async fn challenge(h: &Harness, s: &str, factor: &str) -> String {
    let r = call(
        h,
        Method::POST,
        "/v1/account/mfa/challenges",
        s,
        Some(json!({"factor": factor})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["$id"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn d1_a_second_sign_in_needs_a_second_factor() {
    let h = harness().await;
    let (first, secret, _) = enrolled(&h).await;
    assert_eq!(
        call(&h, Method::GET, "/v1/account", &first, None)
            .await
            .status,
        StatusCode::OK,
        "enrolling never locks out"
    );
    let (_, s) = h.login("a@example.com", PW).await;
    for (m, p) in [
        (Method::GET, "/v1/account"),
        (Method::PATCH, "/v1/account/prefs"),
        (Method::POST, "/v1/account/jwts"),
    ] {
        let body = (m == Method::PATCH).then(|| json!({"prefs": {}}));
        let r = call(&h, m.clone(), p, &s, body).await;
        assert_eq!(
            (r.status, r.typ()),
            (StatusCode::UNAUTHORIZED, "user_more_factors_required"),
            "{m} {p}"
        );
    }
    let f = call(&h, Method::GET, "/v1/account/mfa/factors", &s, None).await;
    assert_eq!(
        f.body,
        json!({"totp": true, "phone": false, "email": false, "recoveryCode": true})
    );
    h.clock.advance_s(30);
    let id = challenge(&h, &s, "totp").await;
    let wrong = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"challengeId": id, "otp": "000000"})),
    )
    .await;
    assert_eq!(wrong.typ(), "user_invalid_token");
    let ok = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenge",
        &s,
        Some(json!({"challengeId": id, "otp": totp_now(&h, &secret, 0)})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["factors"], json!(["password", "totp"]));
    assert_eq!(
        call(&h, Method::GET, "/v1/account", &s, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn d2_a_totp_code_is_accepted_once() {
    let h = harness().await;
    let (_, secret, _) = enrolled(&h).await;
    h.clock.advance_s(60);
    let (_, s) = h.login("a@example.com", PW).await;
    let code = totp_now(&h, &secret, 0);
    let id = challenge(&h, &s, "totp").await;
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"challengeId": id, "otp": code})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let (_, s2) = h.login("a@example.com", PW).await;
    let id = challenge(&h, &s2, "totp").await;
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s2,
        Some(json!({"challengeId": id, "otp": code})),
    )
    .await;
    assert_eq!(r.typ(), "user_invalid_token", "replay in the same step");
    h.clock.advance_s(30);
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s2,
        Some(json!({"challengeId": id, "otp": totp_now(&h, &secret, 0)})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "the next step's code works");
}

#[tokio::test]
async fn d4_recovery_codes_are_single_use_and_read_back_only_after_a_challenge() {
    let h = harness().await;
    let (first, _, codes) = enrolled(&h).await;
    let r = call(
        &h,
        Method::GET,
        "/v1/account/mfa/recovery-codes",
        &first,
        None,
    )
    .await;
    assert_eq!(
        r.typ(),
        "user_challenge_required",
        "D3: reading codes needs a recent challenge"
    );
    let (_, s) = h.login("a@example.com", PW).await;
    let id = challenge(&h, &s, "recoverycode").await;
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"challengeId": id, "otp": codes[0]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["factors"], json!(["password", "recoveryCode"]));
    let r = call(&h, Method::GET, "/v1/account/mfa/recovery-codes", &s, None).await;
    assert_eq!(r.body["recoveryCodes"].as_array().map(Vec::len), Some(5));
    let (_, s2) = h.login("a@example.com", PW).await;
    let id = challenge(&h, &s2, "recoveryCode").await;
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s2,
        Some(json!({"challengeId": id, "otp": codes[0]})),
    )
    .await;
    assert_eq!(r.typ(), "user_invalid_token", "a used code is spent");
    // Regeneration voids the old codes.
    let r = call(
        &h,
        Method::PATCH,
        "/v1/account/mfa/recovery-codes",
        &s,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s2,
        Some(json!({"challengeId": id, "otp": codes[1]})),
    )
    .await;
    assert_eq!(r.typ(), "user_invalid_token");
    assert_eq!(h.last_to("a@example.com")["kind"], "notice");
    // At rest the codes are sealed.
    let auth = shared::repo::load_auth(&h.state.table, "proj1", "u1")
        .await
        .ok()
        .flatten()
        .expect("user");
    let at_rest = serde_json::to_string(&auth.user).unwrap_or_default();
    assert!(!codes.iter().any(|c| at_rest.contains(c.as_str())));
}

#[tokio::test]
async fn challenges_expire_and_die_after_five_wrong_codes() {
    let h = harness().await;
    let (_, secret, codes) = enrolled(&h).await;
    let (_, s) = h.login("a@example.com", PW).await;
    let id = challenge(&h, &s, "recoveryCode").await;
    for _ in 0..5 {
        call(
            &h,
            Method::PUT,
            "/v1/account/mfa/challenges",
            &s,
            Some(json!({"challengeId": id, "otp": "ffffffffff"})),
        )
        .await;
    }
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"challengeId": id, "otp": codes[0]})),
    )
    .await;
    assert_eq!(r.typ(), "user_invalid_token", "void after 5 failures");
    let id = challenge(&h, &s, "totp").await;
    h.clock.advance_s(3601);
    let (_, s3) = h.login("a@example.com", PW).await;
    let _ = s3;
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"challengeId": id, "otp": totp_now(&h, &secret, 0)})),
    )
    .await;
    assert_eq!(r.typ(), "user_invalid_token", "expired after an hour");
}

#[tokio::test]
async fn d3_removing_the_authenticator_needs_a_recent_challenge() {
    let h = harness().await;
    let (s, secret, _) = enrolled(&h).await;
    let r = call(
        &h,
        Method::DELETE,
        "/v1/account/mfa/authenticators/totp",
        &s,
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::UNAUTHORIZED, "user_challenge_required")
    );
    h.clock.advance_s(30);
    let id = challenge(&h, &s, "totp").await;
    call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"challengeId": id, "otp": totp_now(&h, &secret, 0)})),
    )
    .await;
    let r = call(
        &h,
        Method::DELETE,
        "/v1/account/mfa/authenticators/TOTP",
        &s,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let f = call(&h, Method::GET, "/v1/account/mfa/factors", &s, None).await;
    assert_eq!(f.body["totp"], false);
    h.clock.advance_s(1801);
    let r = call(&h, Method::GET, "/v1/account/mfa/recovery-codes", &s, None).await;
    assert_eq!(
        r.typ(),
        "user_challenge_required",
        "recent means 30 minutes"
    );
}

#[tokio::test]
async fn d5_email_challenges_need_a_verified_address_and_send_a_code() {
    let h = harness().await;
    h.signup("u1", "a@example.com", PW).await;
    let (_, s) = h.login("a@example.com", PW).await;
    let r = call(
        &h,
        Method::POST,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"factor": "email"})),
    )
    .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::BAD_REQUEST, "user_email_not_verified")
    );
    let mut auth = shared::repo::load_auth(&h.state.table, "proj1", "u1")
        .await
        .ok()
        .flatten()
        .expect("user");
    auth.user.email_verification = true;
    shared::repo::save_user(&h.state.table, "proj1", &auth.user)
        .await
        .expect("save");
    let id = challenge(&h, &s, "email").await;
    let mail = h.last_to("a@example.com");
    assert_eq!(mail["kind"], "mfa_challenge");
    let code: String = mail["text"]
        .as_str()
        .unwrap_or("")
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or("")
        .into();
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"challengeId": id, "otp": code})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(
        &h,
        Method::POST,
        "/v1/account/mfa/challenges",
        &s,
        Some(json!({"factor": "sms"})),
    )
    .await;
    assert_eq!(r.typ(), "general_argument_invalid");
}

#[tokio::test]
async fn jwts_are_not_gated_but_minting_one_is() {
    let h = harness().await;
    let (first, _, _) = enrolled(&h).await;
    let jwt = call(&h, Method::POST, "/v1/account/jwts", &first, None)
        .await
        .body["jwt"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let r = h
        .call(
            Method::GET,
            "/v1/account",
            &[("x-appwrite-jwt", &jwt)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (_, s) = h.login("a@example.com", PW).await;
    assert_eq!(
        call(&h, Method::POST, "/v1/account/jwts", &s, None)
            .await
            .typ(),
        "user_more_factors_required"
    );
}

#[tokio::test]
async fn g1_twenty_parallel_redemptions_of_one_recovery_code_yield_one_success() {
    // Twenty challenges in a row would meet the challenge rate limit; this test is about the
    // store, so limits are off.
    let h = common::harness_with(shared::Config {
        abuse: false,
        ..shared::Config::default()
    })
    .await;
    let (_, _, codes) = enrolled(&h).await;
    let mut pending = vec![];
    for _ in 0..20 {
        let (_, s) = h.login("a@example.com", PW).await;
        let id = challenge(&h, &s, "recoveryCode").await;
        pending.push((s, id));
    }
    let requests = pending
        .iter()
        .map(|(s, id)| {
            let body = json!({"challengeId": id, "otp": codes[0]});
            h.request(
                Method::PUT,
                "/v1/account/mfa/challenges",
                &[("x-appwrite-session", s)],
                Some(body),
            )
        })
        .collect();
    let statuses = h.concurrently(requests).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn another_users_challenge_is_invisible() {
    let h = harness().await;
    let (_, _, codes) = enrolled(&h).await;
    let (_, s) = h.login("a@example.com", PW).await;
    let id = challenge(&h, &s, "recoveryCode").await;
    h.signup("u2", "b@example.com", PW).await;
    let (_, other) = h.login("b@example.com", PW).await;
    let r = call(
        &h,
        Method::PUT,
        "/v1/account/mfa/challenges",
        &other,
        Some(json!({"challengeId": id, "otp": codes[0]})),
    )
    .await;
    assert_eq!(
        (r.status, r.typ()),
        (StatusCode::UNAUTHORIZED, "user_invalid_token")
    );
}

#[tokio::test]
async fn d1_every_first_factor_path_is_gated() {
    let h = harness().await;
    let (_, _, _) = enrolled(&h).await;
    // Email OTP (factor `email`): one factor, MFA needs two.
    let r = h
        .call(
            Method::POST,
            "/v1/account/tokens/email",
            &[],
            Some(json!({"userId": "x", "email": "a@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let text = h.last_to("a@example.com")["text"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or("")
        .into();
    let s = h
        .call(
            Method::POST,
            "/v1/account/sessions/token",
            &[("x-appwrite-key", &h.key)],
            Some(json!({"userId": "u1", "secret": code})),
        )
        .await;
    let cred = s.body["secret"].as_str().unwrap_or("").to_string();
    assert_eq!(s.body["factors"], json!(["email"]));
    let r = call(&h, Method::GET, "/v1/account", &cred, None).await;
    assert_eq!(r.typ(), "user_more_factors_required");
    // Signing out stays possible while factors are missing.
    let r = call(
        &h,
        Method::DELETE,
        "/v1/account/sessions/current",
        &cred,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn c5_recovery_does_not_bypass_mfa() {
    let h = harness().await;
    let (_, _, _) = enrolled(&h).await;
    infra::admin::add_platform(&h.state.table, "proj1", "web", "app.example.com", "App")
        .await
        .expect("platform");
    let r = h
        .call(
            Method::POST,
            "/v1/account/recovery",
            &[],
            Some(json!({"email": "a@example.com", "url": "https://app.example.com/r"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let text = h.last_to("a@example.com")["text"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://app.example.com"))
        .unwrap_or("");
    let secret = link
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or("")
        .to_string();
    let body = json!({"userId": "u1", "secret": secret, "password": "after recovery 99"});
    let r = h
        .call(Method::PUT, "/v1/account/recovery", &[], Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.cookies().is_empty(), "recovery creates no session");
    let (_, s) = h.login("a@example.com", "after recovery 99").await;
    let r = call(&h, Method::GET, "/v1/account", &s, None).await;
    assert_eq!(r.typ(), "user_more_factors_required");
}
