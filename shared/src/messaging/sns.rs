//! The Amazon SNS `SmsSender`: publishes each rendered `Sms` directly to its phone number as
//! a transactional SMS, with the optional alphanumeric sender id.

use async_trait::async_trait;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;

use super::{DeliveryError, Sms, SmsSender, mask};

/// Sends SMS through Amazon SNS `Publish`.
#[derive(Debug, Clone)]
pub struct SnsSms {
    client: aws_sdk_sns::Client,
}

impl SnsSms {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }

    /// A sender using the default AWS configuration chain (env, profile, IMDS, ...).
    pub async fn from_env() -> Self {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(aws_sdk_sns::Client::new(&conf))
    }
}

fn string_attr(value: &str) -> Result<MessageAttributeValue, DeliveryError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| DeliveryError(format!("SNS: cannot build message attribute: {e}")))
}

#[async_trait]
impl SmsSender for SnsSms {
    async fn send(&self, sms: &Sms) -> Result<(), DeliveryError> {
        let mut request = self
            .client
            .publish()
            .phone_number(&sms.to)
            .message(&sms.text)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attr("Transactional")?);
        let sender_id = sms.sender_id.trim();
        if !sender_id.is_empty() {
            request = request.message_attributes("AWS.SNS.SMS.SenderID", string_attr(sender_id)?);
        }

        let out = request.send().await.map_err(|e| {
            DeliveryError(format!(
                "SNS Publish ({}) to {}: {}",
                sms.kind.as_str(),
                mask(&sms.to),
                DisplayErrorContext(&e)
            ))
        })?;
        tracing::info!(
            channel = "sms",
            kind = sms.kind.as_str(),
            to = %mask(&sms.to),
            message_id = out.message_id().unwrap_or(""),
            "sns: sms sent"
        );
        Ok(())
    }
}
