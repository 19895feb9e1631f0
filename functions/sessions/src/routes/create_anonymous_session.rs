//! `POST /v1/account/sessions/anonymous`.

use axum::extract::State;
use axum::response::Response;
use shared::models::UserDoc;
use shared::sessions::{self, NewSession};
use shared::{AppResult, AppState, Ctx, repo, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require_method(ctx.project.auths.anonymous, "Anonymous")?;
    ctx.reject_if_signed_in()?;
    let project = &ctx.project.id;
    shared::tokens::check_user_limit(&st, &ctx).await?;
    let now = st.now_ms();
    let user = UserDoc::new(
        validate::unique_id(now)?,
        now,
        ctx.project.argon2_cost().hash_options(),
    );
    let spec = NewSession {
        provider: "anonymous",
        provider_uid: String::new(),
        factors: vec!["anonymous".into()],
    };
    let (session, secret) = sessions::build(&st, &ctx, &user, spec)?;
    repo::create_user_with_session(&st.table, project, &user, &session).await?;
    repo::count_user_created(&st.table, project).await?;
    shared::audit::record(&st, &ctx, &user, "session.create").await;
    Ok(sessions::respond(&st, &ctx, &session, &secret))
}
