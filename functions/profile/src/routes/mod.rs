//! One module per Appwrite method.

pub mod create_account;
pub mod get_account;
