//! The AWS messaging adapters against moto's server: `SesMailer` sends a simple email that
//! moto records with its subject, sender and body; display names with specials and non-ASCII
//! characters pass; an unverified sender is refused with a `DeliveryError` that carries no
//! message body; `SnsSms` publishes a transactional SMS (with and without a sender id) that
//! moto records with its number and text. Results are read back from moto's
//! `/moto-api/data.json` with a tiny HTTP/1.0 client.
//!
//! Without `MOTO_ENDPOINT` (e.g. `http://127.0.0.1:4566`) the tests are skipped with a notice,
//! except when `CI` is set: then they fail, so CI can never silently skip them.

use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;
use shared::messaging::ses::SesMailer;
use shared::messaging::sns::SnsSms;
use shared::messaging::{Email, Mailer, MessageKind, Sms, SmsSender};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOMAIN: &str = "example.org";

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A token unique to this run and call: used in addresses, subjects and codes.
fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    format!("{}x{n}x{nanos}", std::process::id())
}

/// A unique North American test number (+1 555 01xx xxxx style, digits only).
fn unique_phone() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let tail = (u64::from(nanos) + u64::from(std::process::id()) * 7919 + u64::from(n) * 104_729)
        % 10_000_000;
    format!("+1555{tail:07}")
}

fn endpoint() -> Option<String> {
    let Some(ep) = std::env::var("MOTO_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "MOTO_ENDPOINT is unset but CI is set: the SES/SNS adapter tests must not be \
             skipped in CI (start moto and set MOTO_ENDPOINT=http://127.0.0.1:4566)"
        );
        eprintln!("notice: MOTO_ENDPOINT unset, SES/SNS adapter tests skipped");
        return None;
    };
    Some(ep.trim_end_matches('/').to_owned())
}

fn credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "messaging-moto")
}

fn ses_client(ep: &str) -> aws_sdk_sesv2::Client {
    let conf = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(ep)
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials())
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

fn sns_client(ep: &str) -> aws_sdk_sns::Client {
    let conf = aws_sdk_sns::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(ep)
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials())
        .build();
    aws_sdk_sns::Client::from_conf(conf)
}

/// Verifies `example.org` as a sending domain (moto accepts it at once).
async fn verify_domain(client: &aws_sdk_sesv2::Client) {
    match client
        .create_email_identity()
        .email_identity(DOMAIN)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) => {}
        Err(e) => panic!(
            "create the {DOMAIN} identity: {}",
            aws_sdk_sesv2::error::DisplayErrorContext(&e)
        ),
    }
}

/// `GET {endpoint}{path}` over plain HTTP/1.0: returns the body of a 200 response.
async fn http_get(endpoint: &str, path: &str) -> String {
    let authority = endpoint
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("MOTO_ENDPOINT must be a plain http:// URL, got {endpoint}"));
    let authority = authority.split('/').next().unwrap_or(authority);
    let addr = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: application/json\r\n\
         Connection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the HTTP request");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .expect("read the HTTP response");
    let raw = String::from_utf8(raw).expect("a UTF-8 HTTP response");
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header/body separator in {raw:?}"));
    let status = head.lines().next().unwrap_or_default();
    assert!(
        status.split_whitespace().nth(1) == Some("200"),
        "GET {path}: unexpected status line {status:?}"
    );
    body.to_owned()
}

/// moto's model snapshot (`/moto-api/data.json`).
async fn moto_data(ep: &str) -> Value {
    let body = http_get(ep, "/moto-api/data.json").await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("data.json is not JSON ({e}): {body}"))
}

/// The SES message moto recorded for exactly this recipient address.
async fn sent_email(ep: &str, recipient: &str) -> Value {
    let data = moto_data(ep).await;
    let messages = data["ses"]["Message"]
        .as_array()
        .unwrap_or_else(|| panic!("no .ses.Message[] in moto's data: {data}"));
    let mut found: Vec<&Value> = messages
        .iter()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|to| {
                    to.iter()
                        .filter_map(Value::as_str)
                        .any(|a| a == recipient || a.ends_with(&format!("<{recipient}>")))
                })
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one message to {recipient}: {messages:?}"
    );
    found.remove(0).clone()
}

fn email(to: &str, to_name: &str, from_name: &str, subject: &str, code: &str) -> Email {
    Email {
        kind: MessageKind::EmailOtp,
        to: to.into(),
        to_name: to_name.into(),
        from_email: format!("noreply@{DOMAIN}"),
        from_name: from_name.into(),
        reply_to: format!("support@{DOMAIN}"),
        subject: subject.into(),
        text: format!("Your login code is {code}."),
        html: format!("<p>Your login code is <strong>{code}</strong>.</p>"),
    }
}

#[tokio::test]
async fn ses_sends_a_simple_email() {
    let Some(ep) = endpoint() else { return };
    let client = ses_client(&ep);
    verify_domain(&client).await;
    let mailer = SesMailer::new(client);

    let id = unique();
    let to = format!("user-{id}@example.com");
    let subject = format!("Your code {id}");
    let code = format!("C{id}");
    Mailer::send(&mailer, &email(&to, "Test User", "App", &subject, &code))
        .await
        .expect("SES accepts a verified sender");

    let msg = sent_email(&ep, &to).await;
    assert_eq!(msg["subject"], subject.as_str(), "{msg}");
    assert_eq!(msg["source"], "App <noreply@example.org>", "{msg}");
    assert_eq!(
        msg["destinations"]["ToAddresses"],
        serde_json::json!([format!("Test User <{to}>")]),
        "{msg}"
    );
    let body = msg["body"].as_str().expect("a string body");
    assert!(body.contains(&code), "body carries the code: {msg}");
    // With both parts given moto keeps the HTML one.
    assert!(body.contains("<strong>"), "moto keeps the HTML part: {msg}");
}

#[tokio::test]
async fn ses_accepts_display_names_with_specials_and_non_ascii() {
    let Some(ep) = endpoint() else { return };
    let client = ses_client(&ep);
    verify_domain(&client).await;
    let mailer = SesMailer::new(client);

    let id = unique();
    let to = format!("special-{id}@example.com");
    let code = format!("S{id}");
    Mailer::send(
        &mailer,
        &email(
            &to,
            "Doe, \"JD\" Jane",
            "Jörg's Äpp",
            &format!("Hi {id}"),
            &code,
        ),
    )
    .await
    .expect("SES accepts quoted and encoded display names");

    let msg = sent_email(&ep, &to).await;
    assert_eq!(
        msg["destinations"]["ToAddresses"],
        serde_json::json!([format!("\"Doe, \\\"JD\\\" Jane\" <{to}>")]),
        "{msg}"
    );
    assert_eq!(
        msg["source"], "=?UTF-8?B?SsO2cmcncyDDhHBw?= <noreply@example.org>",
        "{msg}"
    );
}

#[tokio::test]
async fn ses_refuses_an_unverified_sender() {
    let Some(ep) = endpoint() else { return };
    let mailer = SesMailer::new(ses_client(&ep));

    let id = unique();
    let to = format!("nobody-{id}@example.com");
    let code = format!("U{id}");
    let mut e = email(&to, "", "App", "Never sent", &code);
    e.from_email = format!("noreply@unverified-{id}.example");
    let err = Mailer::send(&mailer, &e)
        .await
        .expect_err("moto rejects senders without a verified identity");

    let text = err.to_string();
    assert!(
        text.starts_with("message delivery failed: SES SendEmail"),
        "{text}"
    );
    assert!(
        text.contains("not verified"),
        "the SDK's error context is kept: {text}"
    );
    assert!(
        !text.contains(&code),
        "the error never carries the body: {text}"
    );
    assert!(!text.contains(&to), "the error masks the recipient: {text}");
}

#[tokio::test]
async fn sns_publishes_a_transactional_sms() {
    let Some(ep) = endpoint() else { return };
    let sender = SnsSms::new(sns_client(&ep));

    let data_before = moto_data(&ep).await;
    let before = data_before["sns"]["SMS"].as_array().map_or(0, Vec::len);

    let mut sent = Vec::new();
    for sender_id in ["", "MyApp"] {
        let phone = unique_phone();
        let text = format!("Your code is {}", unique());
        SmsSender::send(
            &sender,
            &Sms {
                kind: MessageKind::PhoneOtp,
                to: phone.clone(),
                text: text.clone(),
                sender_id: sender_id.into(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("SNS publish (sender id {sender_id:?}): {e}"));
        sent.push((phone, text));
    }

    let data = moto_data(&ep).await;
    let sms = data["sns"]["SMS"]
        .as_array()
        .unwrap_or_else(|| panic!("no .sns.SMS[] in moto's data: {data}"));
    assert!(sms.len() >= before + 2, "two new SMS recorded: {sms:?}");
    for (phone, text) in sent {
        let mine: Vec<&Value> = sms
            .iter()
            .filter(|m| m["message"] == text.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "exactly one SMS with {text:?}: {sms:?}");
        assert_eq!(mine[0]["phone_number"], phone.as_str(), "{}", mine[0]);
    }
}
