//! Lambda entry of the `mfa` function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::init_logging();
    let state = shared::runtime::state_from_env().await?;
    lambda_http::run(shared::http::finish(mfa::router(), state)).await
}
