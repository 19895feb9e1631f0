//! `PATCH /v1/account/email`: changes the address (unverified again) and converts an
//! account without a password. The uniqueness guards move in the same transaction as the
//! user, so two users can never end up with one address. A notice goes to the old address.

use axum::Json;
use axum::extract::State;
use shared::messaging::templates::NoticeKind;
use shared::models::Account;
use shared::store::{Cond, Item, StoreError, TxOp, Val, keys};
use shared::{AppResult, AppState, Ctx, repo, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Account>> {
    let email = validate::email("email", ctx.params.str_req("email")?)?;
    let password = validate::password("password", ctx.params.str_req("password")?)?;
    let mut user = ctx.auth()?.user.clone();
    let now = st.now_ms();
    super::confirm_or_adopt(&ctx, &mut user, password, now).await?;
    if user.email.as_deref() == Some(email.as_str()) {
        return Err(super::target_taken());
    }
    let project = &ctx.project.id;
    // An address another user signs in with through a provider stays theirs.
    let holders = shared::federation::identity_email_owners(&st, project, &email).await?;
    if holders.iter().any(|u| u != &user.id) {
        return Err(shared::AppError::new(
            shared::ErrorType::GeneralBadRequest,
            "This email is linked to another account's sign-in provider.",
        ));
    }
    let old = user.email.replace(email.clone());
    user.email_verification = false;
    user.updated_ms = now;
    for t in user
        .targets
        .iter_mut()
        .filter(|t| t.provider_type == "email" && Some(&t.identifier) == old.as_ref())
    {
        t.identifier = email.clone();
        t.updated_ms = now;
    }
    let mut ops = vec![
        repo::user_update_op(project, &user)?,
        TxOp::Put {
            item: Item::new(keys::email_guard(project, &email))
                .with("userId", Val::S(user.id.clone())),
            cond: Some(Cond::NotExists),
        },
    ];
    if let Some(o) = &old {
        ops.push(TxOp::Delete {
            key: keys::email_guard(project, o),
            cond: Some(Cond::Equals("userId".into(), Val::S(user.id.clone()))),
        });
    }
    match st.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: Some(1) }) => return Err(super::target_taken()),
        Err(StoreError::ConditionFailed { .. }) => return Err(repo::conflict()),
        Err(e) => return Err(e.into()),
    }
    if let Some(o) = old {
        shared::tokens::notice(&st, &ctx, &user, &o, NoticeKind::EmailChanged).await;
    }
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    Ok(Json(Account::from(&user)))
}
