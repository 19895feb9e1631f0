//! `POST /v1/account/targets/push`: registers a device push token. Identifiers are unique
//! across the project (a guard item written with the user, in one transaction).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::models::{Account, Target, TargetDoc};
use shared::store::{Cond, Item, StoreError, TxOp, Val, keys};
use shared::{AppError, AppResult, AppState, Ctx, repo, validate};

/// A push identifier: 1 to 255 characters.
pub(crate) fn identifier(ctx: &Ctx) -> AppResult<String> {
    let v = ctx.params.str_req("identifier")?;
    if v.is_empty() || v.chars().count() > 255 {
        return Err(AppError::invalid_param(
            "identifier",
            "Value must be a valid string and at least 1 chars and no longer than 255 chars",
        ));
    }
    Ok(v.to_string())
}

/// "<brand> <model>" of the requesting device, as Appwrite names push targets.
pub(crate) fn device_name(ctx: &Ctx) -> String {
    let d = shared::ua::parse(&ctx.user_agent);
    format!("{} {}", d.device_brand, d.device_model)
}

/// The Target model of one of `account`'s targets.
pub(crate) fn wire(account: &Account, id: &str) -> Option<Target> {
    account.targets.iter().find(|t| t.id == id).cloned()
}

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Target>)> {
    let now = st.now_ms();
    let target_id = validate::custom_id("targetId", ctx.params.str_req("targetId")?, now)?;
    let identifier = identifier(&ctx)?;
    let provider_id = match ctx.params.str_opt("providerId")? {
        Some(p) if !p.is_empty() => Some(validate::uid("providerId", p)?),
        _ => None,
    };
    let mut user = ctx.auth()?.user.clone();
    if user.targets.iter().any(|t| t.id == target_id) {
        return Err(super::target_taken());
    }
    user.targets.push(TargetDoc {
        id: target_id.clone(),
        created_ms: now,
        updated_ms: now,
        name: device_name(&ctx),
        provider_id,
        provider_type: "push".into(),
        identifier: identifier.clone(),
        expired: false,
    });
    user.updated_ms = now;
    let project = &ctx.project.id;
    let ops = vec![
        repo::user_update_op(project, &user)?,
        TxOp::Put {
            item: Item::new(keys::target_guard(project, &identifier))
                .with("userId", Val::S(user.id.clone())),
            cond: Some(Cond::NotExists),
        },
    ];
    match st.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: Some(1) }) => return Err(super::target_taken()),
        Err(StoreError::ConditionFailed { .. }) => return Err(repo::conflict()),
        Err(e) => return Err(e.into()),
    }
    let target = wire(&Account::from(&user), &target_id)
        .ok_or_else(|| AppError::internal("target vanished"))?;
    shared::audit::record(&st, &ctx, &user, "target.create").await;
    Ok((StatusCode::CREATED, Json(target)))
}
