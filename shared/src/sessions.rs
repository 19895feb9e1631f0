//! Session creation shared by every sign-in path: secret generation (only its SHA-256 is
//! stored), device fields, the per-user session limit, cookies and the 201 response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::crypto::{encode_credential, new_session_secret, sha256_hex};
use crate::error::AppResult;
use crate::http::{AppState, Ctx, cookies};
use crate::models::{Session, SessionDoc, UserDoc};
use crate::repo;
use crate::store::Cond;
use crate::ua;
use crate::validate::unique_id;

/// What a sign-in path asks for.
pub struct NewSession<'a> {
    pub provider: &'a str,
    pub provider_uid: String,
    pub factors: Vec<String>,
}

/// Builds a session document and its raw secret for `user`.
pub fn build(
    st: &AppState,
    ctx: &Ctx,
    user: &UserDoc,
    spec: NewSession<'_>,
) -> AppResult<(SessionDoc, String)> {
    let now = st.now_ms();
    let secret = new_session_secret()?;
    let doc = SessionDoc {
        id: unique_id(now)?,
        user_id: user.id.clone(),
        created_ms: now,
        updated_ms: now,
        expire_ms: now + ctx.project.auths.duration.max(0) * 1000,
        provider: spec.provider.to_string(),
        provider_uid: spec.provider_uid,
        provider_access_token: String::new(),
        provider_access_token_expiry_ms: None,
        provider_refresh_token: String::new(),
        secret_hash: sha256_hex(&secret),
        user_agent: ctx.user_agent.chars().take(512).collect(),
        ip: ctx.ip.clone(),
        device: ua::parse(&ctx.user_agent),
        country_code: st.geo.country(&ctx.ip),
        factors: spec.factors,
        mfa_updated_ms: None,
    };
    Ok((doc, secret))
}

/// Stores a new session for an existing user, then trims the user's sessions to the
/// project's limit (oldest first). `existing` are the user's live sessions, oldest first.
pub async fn create(
    st: &AppState,
    ctx: &Ctx,
    user: &UserDoc,
    existing: &[SessionDoc],
    spec: NewSession<'_>,
) -> AppResult<Response> {
    let (doc, secret) = build(st, ctx, user, spec)?;
    repo::put_session(&st.table, &ctx.project.id, &doc, Some(Cond::NotExists)).await?;
    evict_over_limit(st, ctx, &user.id, existing).await?;
    alert(st, ctx, user, existing.len()).await;
    crate::audit::record(st, ctx, user, "session.create").await;
    Ok(respond(st, ctx, &doc, &secret))
}

/// The project's opt-in new-session alert: an email to the user when this is not their only
/// session. Best effort: a delivery failure is logged and does not fail the sign-in.
pub async fn alert(st: &AppState, ctx: &Ctx, user: &UserDoc, other_sessions: usize) {
    let Some(email) = user.email.as_deref() else {
        return;
    };
    if !ctx.project.auths.session_alerts
        || other_sessions == 0
        || crate::tokens::require_mail(st, ctx).is_err()
    {
        return;
    }
    let vars = crate::tokens::vars(st, ctx, user);
    let kind = crate::messaging::MessageKind::SessionAlert;
    if let Err(e) = crate::tokens::send_email(st, ctx, kind, email, &user.name, &vars).await {
        tracing::warn!(error = %e, "session alert not delivered");
    }
}

/// After one new session: deletes the oldest of `existing` beyond the project's limit.
pub async fn evict_over_limit(
    st: &AppState,
    ctx: &Ctx,
    user_id: &str,
    existing: &[SessionDoc],
) -> AppResult<()> {
    let max = ctx.project.auths.max_sessions.max(1) as usize;
    if existing.len() + 1 > max {
        let evict: Vec<String> = existing
            .iter()
            .take(existing.len() + 1 - max)
            .map(|s| s.id.clone())
            .collect();
        repo::delete_sessions(&st.table, &ctx.project.id, user_id, &evict).await?;
    }
    Ok(())
}

/// The 201 response: Session model (`secret` only for API-key callers), cookies and the
/// fallback header.
pub fn respond(st: &AppState, ctx: &Ctx, doc: &SessionDoc, secret: &str) -> Response {
    let credential = encode_credential(&doc.user_id, secret);
    let shown = if ctx.is_key() {
        credential.clone()
    } else {
        String::new()
    };
    let body = Session::from_doc(doc, true, shown, &st.data_key);
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    cookies::set_session(
        res.headers_mut(),
        ctx,
        &credential,
        st.now_ms(),
        doc.expire_ms,
    );
    res
}
