//! Outgoing messages: the `Mailer` and `SmsSender` ports take fully rendered messages;
//! adapters are SES v2 (`ses`), SNS (`sns`) and the local outbox (`outbox`, the local
//! default). Texts are rendered per locale by `templates`.

pub mod outbox;
pub mod ses;
pub mod sns;
pub mod templates;

use async_trait::async_trait;
use serde::Serialize;

/// What a message is for (the outbox's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    MagicUrl,
    EmailOtp,
    PhoneOtp,
    Verification,
    PhoneVerification,
    Recovery,
    MfaChallenge,
    MfaChallengeSms,
    SessionAlert,
    /// Security notices (password changed, email changed, ...): never carry a secret.
    Notice,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::MagicUrl => "magic_url",
            MessageKind::EmailOtp => "email_otp",
            MessageKind::PhoneOtp => "phone_otp",
            MessageKind::Verification => "verification",
            MessageKind::PhoneVerification => "phone_verification",
            MessageKind::Recovery => "recovery",
            MessageKind::MfaChallenge => "mfa_challenge",
            MessageKind::MfaChallengeSms => "mfa_challenge_sms",
            MessageKind::SessionAlert => "session_alert",
            MessageKind::Notice => "notice",
        }
    }
}

/// A rendered email with its sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub kind: MessageKind,
    pub to: String,
    /// Display name of the recipient (may be empty).
    pub to_name: String,
    pub from_email: String,
    pub from_name: String,
    /// Empty = none.
    pub reply_to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A rendered SMS.
#[derive(Debug, Clone, PartialEq)]
pub struct Sms {
    pub kind: MessageKind,
    /// E.164 number.
    pub to: String,
    pub text: String,
    /// Optional alphanumeric sender id (SNS `AWS.SNS.SMS.SenderID`); empty = none.
    pub sender_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("message delivery failed: {0}")]
pub struct DeliveryError(pub String);

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &Email) -> Result<(), DeliveryError>;
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: &Sms) -> Result<(), DeliveryError>;
}

/// Masks an address for log lines: `al***@example.com`, `+4915***67`.
pub fn mask(to: &str) -> String {
    if let Some((local, domain)) = to.split_once('@') {
        let keep: String = local.chars().take(2).collect();
        return format!("{keep}***@{domain}");
    }
    let chars: Vec<char> = to.chars().collect();
    if chars.len() <= 6 {
        return "***".into();
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}***{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_addresses() {
        assert_eq!(mask("alice@example.com"), "al***@example.com");
        assert_eq!(mask("+4915112345667"), "+4915***67");
        assert_eq!(mask("+1"), "***");
    }
}
