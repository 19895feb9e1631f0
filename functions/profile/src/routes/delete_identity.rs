//! `DELETE /v1/account/identities/{identityId}`: removes one of the caller's identities
//! (with its uniqueness guard, in one transaction). Another user's id is 404.

use axum::extract::{Path, State};
use axum::response::Response;
use shared::http::no_content;
use shared::{AppResult, AppState, Ctx, federation};

pub async fn handle(
    State(st): State<AppState>,
    Path(identity_id): Path<String>,
    ctx: Ctx,
) -> AppResult<Response> {
    shared::validate::uid("identityId", &identity_id)?;
    federation::delete_identity(&st, &ctx, &identity_id).await?;
    shared::audit::record(&st, &ctx, &ctx.auth()?.user, "identity.delete").await;
    Ok(no_content())
}
