//! `POST /v1/account`: sign-up with email and password. No session is created.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::models::{Account, TargetDoc, UserDoc};
use shared::password::{self, Personal, Policy};
use shared::{AppResult, AppState, Ctx, crypto, repo, validate};

pub async fn handle(
    State(st): State<AppState>,
    ctx: Ctx,
) -> AppResult<(StatusCode, Json<Account>)> {
    ctx.require_method(ctx.project.auths.email_password, "Email / Password")?;
    let now = st.now_ms();
    let raw_id = ctx.params.str_req("userId")?;
    let user_id = validate::custom_id("userId", raw_id, now)?;
    let email = validate::email("email", ctx.params.str_req("email")?)?;
    let raw_password = ctx.params.str_req("password")?;
    let name = match ctx.params.str_opt("name")? {
        Some(n) => validate::name("name", n)?,
        None => String::new(),
    };
    let auths = &ctx.project.auths;
    let project = &ctx.project.id;
    shared::tokens::check_user_limit(&st, &ctx).await?;
    let personal = Personal {
        user_id: raw_id,
        email: &email,
        name: &name,
        phone: "",
    };
    let password = password::check(
        &Policy::from_auths(auths),
        "password",
        raw_password,
        &personal,
    )?;
    if auths.enumeration_protection
        && repo::user_id_by_email(&st.table, project, &email)
            .await?
            .is_some()
    {
        // Enumeration-safe mode: the same answer as a new account, and nothing is created.
        let mut decoy = UserDoc::new(user_id, now, serde_json::Value::Null);
        decoy.name = name;
        decoy.email = Some(email);
        return Ok((StatusCode::CREATED, Json(Account::from(&decoy))));
    }
    let cost = ctx.project.argon2_cost();
    let hash = crypto::hash_password(password, cost).await?;
    let history = if auths.password_history > 0 {
        vec![hash.clone()]
    } else {
        vec![]
    };
    let mut user = UserDoc::new(user_id, now, cost.hash_options());
    user.name = name;
    user.email = Some(email.clone());
    user.password = Some(hash);
    user.password_update_ms = Some(now);
    user.password_history = history;
    user.targets.push(TargetDoc {
        id: validate::unique_id(now)?,
        created_ms: now,
        updated_ms: now,
        name: String::new(),
        provider_id: None,
        provider_type: "email".into(),
        identifier: email,
        expired: false,
    });
    repo::create_user(&st.table, project, &user).await?;
    repo::count_user_created(&st.table, project).await?;
    shared::audit::record(&st, &ctx, &user, "user.create").await;
    Ok((StatusCode::CREATED, Json(Account::from(&user))))
}
