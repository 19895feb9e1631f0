//! One module per Appwrite method.

pub mod create_email_token;
pub mod create_jwt;
pub mod create_magic_url_token;
pub mod create_oauth2_token;
pub mod create_phone_token;
