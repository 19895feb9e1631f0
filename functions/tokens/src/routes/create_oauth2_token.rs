//! `GET /v1/account/tokens/oauth2/{provider}`: starts the OAuth2 token flow (301 to the
//! provider; the finish redirects to `success` with a one-time `userId`/`secret` pair for
//! `POST /v1/account/sessions/token`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::{AppState, Ctx, federation};

pub async fn handle(
    State(st): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    ctx: Ctx,
) -> Response {
    federation::start(&st, &ctx, &headers, &provider, true).await
}
