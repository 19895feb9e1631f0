//! The one common crate of the account service: errors, wire models, validation, crypto,
//! storage (port and backends), projects, repositories and the HTTP glue every Lambda shares.

pub mod audit;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod federation;
pub mod geo;
pub mod http;
pub mod identities;
pub mod jwt;
pub mod messaging;
pub mod mfa;
pub mod models;
pub mod oauth2;
pub mod outbound;
pub mod password;
pub mod project;
pub mod queries;
pub mod repo;
pub mod runtime;
pub mod sessions;
pub mod store;
pub mod tokens;
pub mod ua;
pub mod validate;

pub use error::{AppError, AppResult, ErrorType};
pub use http::{AppState, Caller, Config, Ctx};
