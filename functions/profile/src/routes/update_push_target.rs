//! `PUT /v1/account/targets/{targetId}/push`: replaces a push target's identifier.

use axum::Json;
use axum::extract::{Path, State};
use shared::models::{Account, Target};
use shared::store::{Cond, Item, StoreError, TxOp, Val, keys};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, repo};

use super::create_push_target::{device_name, identifier, wire};

pub(crate) fn not_found() -> AppError {
    AppError::new(
        ErrorType::UserTargetNotFound,
        "The target could not be found.",
    )
}

pub async fn handle(
    State(st): State<AppState>,
    Path(target_id): Path<String>,
    ctx: Ctx,
) -> AppResult<Json<Target>> {
    let identifier = identifier(&ctx)?;
    let now = st.now_ms();
    let mut user = ctx.auth()?.user.clone();
    let name = device_name(&ctx);
    let target = user
        .targets
        .iter_mut()
        .find(|t| t.id == target_id && t.provider_type == "push")
        .ok_or_else(not_found)?;
    let old = std::mem::replace(&mut target.identifier, identifier.clone());
    target.expired = false;
    target.name = name;
    target.updated_ms = now;
    user.updated_ms = now;
    let project = &ctx.project.id;
    let mut ops = vec![repo::user_update_op(project, &user)?];
    if old != identifier {
        ops.push(TxOp::Put {
            item: Item::new(keys::target_guard(project, &identifier))
                .with("userId", Val::S(user.id.clone())),
            cond: Some(Cond::NotExists),
        });
        ops.push(TxOp::Delete {
            key: keys::target_guard(project, &old),
            cond: Some(Cond::Equals("userId".into(), Val::S(user.id.clone()))),
        });
    }
    match st.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: Some(1) }) => return Err(super::target_taken()),
        Err(StoreError::ConditionFailed { .. }) => return Err(repo::conflict()),
        Err(e) => return Err(e.into()),
    }
    shared::audit::record(&st, &ctx, &user, "target.update").await;
    wire(&Account::from(&user), &target_id)
        .map(Json)
        .ok_or_else(not_found)
}
