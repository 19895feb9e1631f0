//! The Amazon SES v2 `Mailer`: sends each rendered `Email` as a simple (subject + text + HTML)
//! message with `SendEmail`, and owns the formatting of `Name <address>` mailboxes.

use async_trait::async_trait;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use base64::Engine as _;

use super::{DeliveryError, Email, Mailer, mask};

/// Sends email through Amazon SES (API v2).
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client) -> Self {
        Self { client }
    }

    /// A mailer using the default AWS configuration chain (env, profile, IMDS, ...).
    pub async fn from_env() -> Self {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(aws_sdk_sesv2::Client::new(&conf))
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| DeliveryError(format!("SES: cannot build message content: {e}")))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        let destination = Destination::builder()
            .to_addresses(mailbox(&email.to_name, &email.to))
            .build();

        let mut request = self
            .client
            .send_email()
            .from_email_address(mailbox(&email.from_name, &email.from_email))
            .destination(destination)
            .content(EmailContent::builder().simple(message).build());
        if !email.reply_to.trim().is_empty() {
            request = request.reply_to_addresses(email.reply_to.trim());
        }

        let out = request.send().await.map_err(|e| {
            DeliveryError(format!(
                "SES SendEmail ({}) to {}: {}",
                email.kind.as_str(),
                mask(&email.to),
                DisplayErrorContext(&e)
            ))
        })?;
        tracing::info!(
            channel = "email",
            kind = email.kind.as_str(),
            to = %mask(&email.to),
            message_id = out.message_id().unwrap_or(""),
            "ses: email sent"
        );
        Ok(())
    }
}

/// Formats a mailbox for an SES address field: the bare address without a (usable) name;
/// `Name <addr>` when the name is a plain RFC 5322 phrase; a quoted string when it holds
/// ASCII specials (`"Doe, Jane" <addr>`); RFC 2047 encoded words when it is not ASCII
/// (as SES requires). A name with control characters is dropped, never passed on.
pub(crate) fn mailbox(name: &str, addr: &str) -> String {
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return addr.to_owned();
    }
    if !name.is_ascii() {
        return format!("{} <{addr}>", encoded_words(name));
    }
    if name.chars().all(is_phrase_char) {
        return format!("{name} <{addr}>");
    }
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    format!("{quoted} <{addr}>")
}

/// `atext` (RFC 5322 3.2.3) plus the spaces between words.
fn is_phrase_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ' ' || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// RFC 2047 `B` encoded words, each at most 75 characters, split on character boundaries.
fn encoded_words(name: &str) -> String {
    // "=?UTF-8?B?" + "?=" leaves 63 characters: 45 raw bytes encode to 60.
    const MAX_RAW: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in name.chars() {
        if chunk.len() + c.len_utf8() > MAX_RAW {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_formats() {
        assert_eq!(mailbox("", "a@example.org"), "a@example.org");
        assert_eq!(mailbox("  ", "a@example.org"), "a@example.org");
        assert_eq!(mailbox("App", "a@example.org"), "App <a@example.org>");
        assert_eq!(
            mailbox(" My App ", "a@example.org"),
            "My App <a@example.org>"
        );
        assert_eq!(
            mailbox("Doe, Jane", "a@example.org"),
            "\"Doe, Jane\" <a@example.org>"
        );
        assert_eq!(
            mailbox("Say \"hi\" \\o/", "a@example.org"),
            "\"Say \\\"hi\\\" \\\\o/\" <a@example.org>"
        );
        assert_eq!(
            mailbox("Evil\r\nBcc: x@y.z", "a@example.org"),
            "a@example.org"
        );
        assert_eq!(
            mailbox("Jörg", "a@example.org"),
            "=?UTF-8?B?SsO2cmc=?= <a@example.org>"
        );
    }

    #[test]
    fn long_non_ascii_names_split_into_short_words() {
        let name = "Ünïcödé ".repeat(10);
        let formatted = mailbox(&name, "a@example.org");
        let (words, addr) = formatted.rsplit_once(' ').expect("name and address");
        assert_eq!(addr, "<a@example.org>");
        let mut decoded = Vec::new();
        for w in words.split(' ') {
            assert!(w.len() <= 75, "encoded word too long: {w}");
            let b64 = w
                .strip_prefix("=?UTF-8?B?")
                .and_then(|w| w.strip_suffix("?="))
                .expect("an encoded word");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64");
            assert!(
                String::from_utf8(bytes.clone()).is_ok(),
                "split inside a character"
            );
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).expect("utf-8"), name.trim());
    }
}
