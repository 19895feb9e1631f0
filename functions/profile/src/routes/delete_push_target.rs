//! `DELETE /v1/account/targets/{targetId}/push`.

use axum::extract::{Path, State};
use axum::response::Response;
use shared::http::no_content;
use shared::store::{Cond, StoreError, TxOp, Val, keys};
use shared::{AppResult, AppState, Ctx, repo};

pub async fn handle(
    State(st): State<AppState>,
    Path(target_id): Path<String>,
    ctx: Ctx,
) -> AppResult<Response> {
    let mut user = ctx.auth()?.user.clone();
    let pos = user
        .targets
        .iter()
        .position(|t| t.id == target_id && t.provider_type == "push")
        .ok_or_else(super::update_push_target::not_found)?;
    let removed = user.targets.remove(pos);
    user.updated_ms = st.now_ms();
    let project = &ctx.project.id;
    let ops = vec![
        repo::user_update_op(project, &user)?,
        TxOp::Delete {
            key: keys::target_guard(project, &removed.identifier),
            cond: Some(Cond::Equals("userId".into(), Val::S(user.id.clone()))),
        },
    ];
    match st.table.transact(ops).await {
        Ok(()) => {
            shared::audit::record(&st, &ctx, &user, "target.delete").await;
            Ok(no_content())
        }
        Err(StoreError::ConditionFailed { .. }) => Err(repo::conflict()),
        Err(e) => Err(e.into()),
    }
}
