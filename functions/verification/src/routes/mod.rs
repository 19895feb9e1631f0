//! One module per Appwrite method.

pub mod create_email_verification;
pub mod create_phone_verification;
pub mod create_recovery;
pub mod update_email_verification;
pub mod update_phone_verification;
pub mod update_recovery;
