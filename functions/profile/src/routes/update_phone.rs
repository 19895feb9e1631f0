//! `PATCH /v1/account/phone`: changes the number (unverified again) with the same password
//! rule as the email change; the phone guard moves in the user's transaction.

use axum::Json;
use axum::extract::State;
use shared::models::{Account, TargetDoc};
use shared::store::{Cond, Item, StoreError, TxOp, Val, keys};
use shared::{AppResult, AppState, Ctx, repo, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Account>> {
    let phone = validate::phone("phone", ctx.params.str_req("phone")?)?;
    let password = validate::password("password", ctx.params.str_req("password")?)?;
    let mut user = ctx.auth()?.user.clone();
    let now = st.now_ms();
    super::confirm_or_adopt(&ctx, &mut user, password, now).await?;
    if user.phone.as_deref() == Some(phone.as_str()) {
        return Err(super::target_taken());
    }
    let project = &ctx.project.id;
    let old = user.phone.replace(phone.clone());
    user.phone_verification = false;
    user.updated_ms = now;
    let mut rewrote = false;
    for t in user
        .targets
        .iter_mut()
        .filter(|t| t.provider_type == "sms" && Some(&t.identifier) == old.as_ref())
    {
        t.identifier = phone.clone();
        t.updated_ms = now;
        rewrote = true;
    }
    if !rewrote && old.is_none() {
        user.targets.push(TargetDoc {
            id: validate::unique_id(now)?,
            created_ms: now,
            updated_ms: now,
            name: String::new(),
            provider_id: None,
            provider_type: "sms".into(),
            identifier: phone.clone(),
            expired: false,
        });
    }
    let mut ops = vec![
        repo::user_update_op(project, &user)?,
        TxOp::Put {
            item: Item::new(keys::phone_guard(project, &phone))
                .with("userId", Val::S(user.id.clone())),
            cond: Some(Cond::NotExists),
        },
    ];
    if let Some(o) = &old {
        ops.push(TxOp::Delete {
            key: keys::phone_guard(project, o),
            cond: Some(Cond::Equals("userId".into(), Val::S(user.id.clone()))),
        });
    }
    match st.table.transact(ops).await {
        Ok(()) => {
            shared::audit::record(&st, &ctx, &user, "user.update").await;
            Ok(Json(Account::from(&user)))
        }
        Err(StoreError::ConditionFailed { index: Some(1) }) => Err(super::target_taken()),
        Err(StoreError::ConditionFailed { .. }) => Err(repo::conflict()),
        Err(e) => Err(e.into()),
    }
}
