//! The OAuth2 session flow: `GET /v1/account/sessions/oauth2/{provider}` (start),
//! `GET|POST /v1/account/sessions/oauth2/callback/{provider}/{projectId}` (the provider's
//! redirect target; `POST` for `form_post` providers such as Apple) and
//! `GET /v1/account/sessions/oauth2/{provider}/redirect` (finish). The logic lives in
//! `shared::federation`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::{AppState, Ctx, federation};

pub async fn start(
    State(st): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    ctx: Ctx,
) -> Response {
    federation::start(&st, &ctx, &headers, &provider, false).await
}

pub async fn callback(
    State(st): State<AppState>,
    Path((provider, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    federation::callback(
        &st.config,
        &headers,
        &provider,
        &project,
        query.as_deref(),
        &body,
    )
}

pub async fn redirect(
    State(st): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    ctx: Ctx,
) -> Response {
    federation::finish(&st, &ctx, &headers, &provider).await
}
