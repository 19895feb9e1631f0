//! Passwordless sign-in shared by the `tokens` and `sessions` functions: issuing login tokens
//! (email OTP, magic URL, phone OTP), finding or creating their user, delivering the
//! message, and redeeming a token for a session exactly once.
//!
//! Beyond Appwrite: each wrong guess is counted against the user's live short-code tokens,
//! and a token with 5 counted failures is void whatever addresses the guesses came from.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::Response;

use crate::crypto::{ct_eq, random_bytes, random_hex, sha256_hex};
use crate::error::{AppError, AppResult, ErrorType};
use crate::http::{AppState, Ctx, ratelimit};
use crate::messaging::templates::{self, Vars};
use crate::messaging::{Email, Mailer, MessageKind, Sms, SmsSender};
use crate::models::{TargetDoc, Token, TokenDoc, TokenKind, UserDoc};
use crate::project::{MailSender, SmsSettings};
use crate::repo;
use crate::sessions::{self, NewSession};
use crate::store::{Cond, StoreError, TxOp, keys};
use crate::validate::unique_id;

/// Lifetime of emailed and texted sign-in codes: 10 minutes (ASVS 2.7.2 / NIST 800-63B;
/// Appwrite uses 15). The wire carries the expiry, so SDKs are unaffected.
pub const OTP_LIFETIME_S: i64 = 600;

/// Wrong guesses after which a short-code token is void.
pub const MAX_FAILURES: i64 = 5;

/// A code of six decimal digits, each uniform (rejection sampling, leading zeros allowed).
pub fn six_digits() -> AppResult<String> {
    let mut out = String::with_capacity(6);
    while out.len() < 6 {
        for b in random_bytes::<16>()? {
            if b < 250 && out.len() < 6 {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    Ok(out)
}

const ADJECTIVES: &[&str] = &[
    "Amber", "Bold", "Bright", "Calm", "Clever", "Cosy", "Curious", "Daring", "Eager", "Gentle",
    "Glad", "Golden", "Happy", "Honest", "Jolly", "Kind", "Lively", "Lucky", "Merry", "Mighty",
    "Neat", "Noble", "Patient", "Proud", "Quick", "Quiet", "Sunny", "Swift", "Tidy", "Warm",
    "Wise", "Witty",
];
const NOUNS: &[&str] = &[
    "badger",
    "beacon",
    "comet",
    "dolphin",
    "falcon",
    "fern",
    "harbour",
    "heron",
    "island",
    "kettle",
    "lantern",
    "maple",
    "meadow",
    "otter",
    "owl",
    "pebble",
    "pine",
    "puffin",
    "river",
    "robin",
    "saffron",
    "sparrow",
    "tulip",
    "walnut",
    "willow",
    "zebra",
    "lighthouse",
    "teapot",
    "violin",
    "orchard",
    "glacier",
    "pancake",
];

/// A two-word phrase the user compares between the app and the message. Not stored.
pub fn phrase() -> AppResult<String> {
    let b = random_bytes::<2>()?;
    Ok(format!(
        "{} {}",
        ADJECTIVES[usize::from(b[0]) % ADJECTIVES.len()],
        NOUNS[usize::from(b[1]) % NOUNS.len()]
    ))
}

/// Project sender and mail adapter, or 503 `general_smtp_disabled`.
pub fn require_mail(st: &AppState, ctx: &Ctx) -> AppResult<(Arc<dyn Mailer>, MailSender)> {
    match (&st.mailer, &ctx.project.mail) {
        (Some(m), Some(s)) if !s.email.is_empty() => Ok((m.clone(), s.clone())),
        _ => Err(AppError::new(
            ErrorType::GeneralSmtpDisabled,
            "SMTP is disabled for this project.",
        )),
    }
}

/// SMS settings and adapter, or 503 `general_phone_disabled`.
pub fn require_sms(st: &AppState, ctx: &Ctx) -> AppResult<(Arc<dyn SmsSender>, SmsSettings)> {
    match (&st.sms, &ctx.project.sms) {
        (Some(s), Some(cfg)) => Ok((s.clone(), cfg.clone())),
        _ => Err(AppError::new(
            ErrorType::GeneralPhoneDisabled,
            "Phone authentication is disabled for this project.",
        )),
    }
}

fn user_limit_error() -> AppError {
    AppError::new(
        ErrorType::UserCountExceeded,
        "The current project has exceeded the maximum number of users. Please check your user limit in the Appwrite console.",
    )
}

/// 400 `user_count_exceeded` when the project's user limit is reached (every sign-up path).
pub async fn check_user_limit(st: &AppState, ctx: &Ctx) -> AppResult<()> {
    let limit = ctx.project.auths.limit;
    if limit > 0 && repo::user_count(&st.table, &ctx.project.id).await? >= limit as i64 {
        return Err(user_limit_error());
    }
    Ok(())
}

/// A new messaging target (`email` or `sms`) for `identifier`.
pub fn target(now: i64, kind: &str, identifier: &str) -> AppResult<TargetDoc> {
    Ok(TargetDoc {
        id: unique_id(now)?,
        created_ms: now,
        updated_ms: now,
        name: String::new(),
        provider_id: None,
        provider_type: kind.into(),
        identifier: identifier.into(),
        expired: false,
    })
}

/// The user owning `email`, or a new passwordless one with id `user_id`.
pub async fn user_for_email(
    st: &AppState,
    ctx: &Ctx,
    user_id: &str,
    email: &str,
    with_target: bool,
) -> AppResult<UserDoc> {
    let project = &ctx.project.id;
    if let Some(uid) = repo::user_id_by_email(&st.table, project, email).await? {
        if let Some(auth) = repo::load_auth(&st.table, project, &uid).await? {
            return Ok(auth.user);
        }
    }
    check_user_limit(st, ctx).await?;
    let now = st.now_ms();
    let mut user = UserDoc::new(
        user_id.to_string(),
        now,
        ctx.project.argon2_cost().hash_options(),
    );
    user.email = Some(email.to_string());
    if with_target {
        user.targets.push(target(now, "email", email)?);
    }
    repo::create_user(&st.table, project, &user).await?;
    repo::count_user_created(&st.table, project).await?;
    Ok(user)
}

/// The user owning `phone`, or a new passwordless one with id `user_id`.
pub async fn user_for_phone(
    st: &AppState,
    ctx: &Ctx,
    user_id: &str,
    phone: &str,
) -> AppResult<UserDoc> {
    let project = &ctx.project.id;
    if let Some(guard) = st.table.get(&keys::phone_guard(project, phone)).await? {
        if let Some(uid) = guard.s("userId") {
            if let Some(auth) = repo::load_auth(&st.table, project, uid).await? {
                return Ok(auth.user);
            }
        }
    }
    check_user_limit(st, ctx).await?;
    let now = st.now_ms();
    let mut user = UserDoc::new(
        user_id.to_string(),
        now,
        ctx.project.argon2_cost().hash_options(),
    );
    user.phone = Some(phone.to_string());
    user.targets.push(target(now, "sms", phone)?);
    repo::create_user(&st.table, project, &user).await?;
    repo::count_user_created(&st.table, project).await?;
    Ok(user)
}

/// The user id a token response shows. In enumeration-safe mode a request naming an email
/// or phone that already has an owner gets its own requested id back (remembered as an alias
/// of the owner until the token expires), so the response does not reveal the owner's id.
pub async fn shown_user_id(
    st: &AppState,
    ctx: &Ctx,
    requested: &str,
    owner: &UserDoc,
    expire_ms: i64,
) -> AppResult<String> {
    if !ctx.project.auths.enumeration_protection || requested == owner.id {
        return Ok(owner.id.clone());
    }
    let item = crate::store::Item::new(keys::token_alias(&ctx.project.id, requested))
        .with("userId", crate::store::Val::S(owner.id.clone()))
        .with(
            crate::store::EXPIRES_AT,
            crate::store::Val::N(expire_ms.div_euclid(1000)),
        );
    st.table.put(item, None).await?;
    Ok(requested.to_string())
}

/// Resolves a redeemed `userId`: the user itself, or the owner an alias points at.
async fn resolve_user(
    st: &AppState,
    project: &str,
    user_id: &str,
) -> AppResult<Option<crate::repo::AuthData>> {
    if let Some(auth) = repo::load_auth(&st.table, project, user_id).await? {
        return Ok(Some(auth));
    }
    match st.table.get(&keys::token_alias(project, user_id)).await? {
        Some(alias) => match alias.s("userId") {
            Some(owner) => repo::load_auth(&st.table, project, owner).await,
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// Stores a token for `secret` (only its digest) valid `ttl_s` seconds.
pub async fn issue(
    st: &AppState,
    ctx: &Ctx,
    user_id: &str,
    kind: TokenKind,
    secret: &str,
    ttl_s: i64,
) -> AppResult<TokenDoc> {
    let now = st.now_ms();
    let doc = TokenDoc {
        id: unique_id(now)?,
        user_id: user_id.to_string(),
        kind,
        created_ms: now,
        expire_ms: now + ttl_s * 1000,
        secret_hash: sha256_hex(secret),
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.chars().take(512).collect(),
        failures: 0,
    };
    repo::put_token(&st.table, &ctx.project.id, &doc).await?;
    Ok(doc)
}

/// The 201 Token response; `secret` is shown to API-key callers only.
pub fn respond(
    ctx: &Ctx,
    doc: &TokenDoc,
    secret_for_key: String,
    phrase: String,
) -> (StatusCode, Json<Token>) {
    let body = Token {
        id: doc.id.clone(),
        created_at: crate::clock::iso(doc.created_ms),
        user_id: doc.user_id.clone(),
        secret: if ctx.is_key() {
            secret_for_key
        } else {
            String::new()
        },
        expire: crate::clock::iso(doc.expire_ms),
        phrase,
    };
    (StatusCode::CREATED, Json(body))
}

/// Template variables common to every message about this request.
pub fn vars(st: &AppState, ctx: &Ctx, user: &UserDoc) -> Vars {
    let d = crate::ua::parse(&ctx.user_agent);
    let join = |a: &str, b: &str| format!("{a} {b}").trim().to_string();
    let now = crate::clock::iso(st.now_ms());
    Vars {
        project: ctx.project.name.clone(),
        user: user.name.clone(),
        agent_client: join(&d.client_name, &d.client_version),
        agent_os: join(&d.os_name, &d.os_version),
        agent_device: d.device_name,
        ip: ctx.ip.clone(),
        country: crate::models::country_name(&st.geo.country(&ctx.ip)),
        date: now.get(..10).unwrap_or("").to_string(),
        time: now.get(11..16).unwrap_or("").to_string(),
        ..Vars::default()
    }
}

/// Renders and sends an email of `kind` to `to`.
pub async fn send_email(
    st: &AppState,
    ctx: &Ctx,
    kind: MessageKind,
    to: &str,
    to_name: &str,
    vars: &Vars,
) -> AppResult<()> {
    let (mailer, sender) = require_mail(st, ctx)?;
    let custom = ctx.project.templates.get(&format!(
        "{}-{}",
        kind.as_str(),
        templates::locale(&ctx.locale)
    ));
    let r = templates::render_email(kind, &ctx.locale, vars, custom);
    let email = Email {
        kind,
        to: to.to_string(),
        to_name: to_name.to_string(),
        from_email: sender.email,
        from_name: if sender.name.is_empty() {
            ctx.project.name.clone()
        } else {
            sender.name
        },
        reply_to: sender.reply_to,
        subject: r.subject,
        text: r.text,
        html: r.html,
    };
    mailer.send(&email).await.map_err(AppError::internal)
}

/// A security notice (no secret inside) to `to`. Best effort: a project without mail or a
/// delivery failure never fails the change it reports.
pub async fn notice(
    st: &AppState,
    ctx: &Ctx,
    user: &UserDoc,
    to: &str,
    kind: templates::NoticeKind,
) {
    if require_mail(st, ctx).is_err() {
        return;
    }
    let mut vars = vars(st, ctx, user);
    vars.notice = kind;
    if let Err(e) = send_email(st, ctx, MessageKind::Notice, to, &user.name, &vars).await {
        tracing::warn!(error = %e, "security notice not delivered");
    }
}

/// Renders and sends an SMS of `kind` to `to`.
pub async fn send_sms(
    st: &AppState,
    ctx: &Ctx,
    kind: MessageKind,
    to: &str,
    vars: &Vars,
) -> AppResult<()> {
    let (sender, cfg) = require_sms(st, ctx)?;
    let custom = ctx.project.templates.get(&format!(
        "{}-{}",
        kind.as_str(),
        templates::locale(&ctx.locale)
    ));
    let text = templates::render_sms(kind, &ctx.locale, vars, custom);
    let sms = Sms {
        kind,
        to: to.to_string(),
        text,
        sender_id: cfg.sender_id,
    };
    sender.send(&sms).await.map_err(AppError::internal)
}

fn invalid_token() -> AppError {
    AppError::new(
        ErrorType::UserInvalidToken,
        "Invalid token passed in the request.",
    )
}

/// A token consumed by [`consume`]: the user as updated, and the token.
pub struct Consumed {
    pub user: UserDoc,
    pub token: TokenDoc,
    pub auth: crate::repo::AuthData,
}

/// Consumes a non-login token (verification, recovery) of one of `kinds` for `userId` and
/// `secret`: the token's conditional delete and the user update are one transaction, so a
/// secret works exactly once. Unknown user → 404 `user_not_found`; anything else wrong →
/// 401 `user_invalid_token` (and a counted failure).
pub async fn consume(
    st: &AppState,
    ctx: &Ctx,
    kinds: &[TokenKind],
    update: impl FnOnce(&mut UserDoc),
) -> AppResult<Consumed> {
    let user_id = crate::validate::uid("userId", ctx.params.str_req("userId")?)?;
    let secret = ctx.params.str_req("secret")?;
    if secret.is_empty() || secret.chars().count() > 256 {
        return Err(AppError::invalid_param(
            "secret",
            "Value must be a valid string and at least 1 chars and no longer than 256 chars",
        ));
    }
    let project = &ctx.project.id;
    let auth = repo::load_auth(&st.table, project, &user_id)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorType::UserNotFound,
                "User with the requested ID could not be found.",
            )
        })?;
    let now = st.now_ms();
    let hash = sha256_hex(secret);
    let Some(token) = auth
        .tokens
        .iter()
        .find(|t| {
            kinds.contains(&t.kind)
                && ct_eq(&t.secret_hash, &hash)
                && t.expire_ms >= now
                && t.failures < MAX_FAILURES
        })
        .cloned()
    else {
        repo::count_token_failure(&st.table, project, &auth.tokens).await?;
        return Err(invalid_token());
    };
    let mut user = auth.user.clone();
    update(&mut user);
    user.updated_ms = now;
    let ops = vec![
        TxOp::Delete {
            key: keys::token(project, &user.id, &token.secret_hash),
            cond: Some(Cond::Exists),
        },
        repo::user_update_op(project, &user)?,
    ];
    match st.table.transact(ops).await {
        Ok(()) => Ok(Consumed { user, token, auth }),
        Err(StoreError::ConditionFailed { .. }) => Err(invalid_token()),
        Err(e) => Err(e.into()),
    }
}

/// The Token model of a consumed or issued token, without its secret.
pub fn token_model(doc: &TokenDoc) -> Token {
    Token {
        id: doc.id.clone(),
        created_at: crate::clock::iso(doc.created_ms),
        user_id: doc.user_id.clone(),
        secret: String::new(),
        expire: crate::clock::iso(doc.expire_ms),
        phrase: String::new(),
    }
}

/// A redirect URL parameter checked against the project's platforms (no open redirect).
pub fn redirect_param(st: &AppState, ctx: &Ctx, name: &str) -> AppResult<String> {
    let url = ctx.params.str_req(name)?;
    if crate::http::origin::redirect_allowed(url, &ctx.project, &st.config) {
        Ok(url.to_string())
    } else {
        Err(AppError::invalid_param(
            name,
            "URL host must be one of the hostnames of this project's registered platforms",
        ))
    }
}

/// `url` with the given parameters set in its query (replacing same-named ones), fragment kept.
pub fn build_link(url: &str, pairs: &[(&str, &str)]) -> String {
    let (without_fragment, fragment) = match url.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (url, None),
    };
    let (base, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let mut kept: Vec<(String, String)> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !pairs.iter().any(|(n, _)| n == k))
            .collect();
    kept.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let q = serde_urlencoded::to_string(&kept).unwrap_or_default();
    match fragment {
        Some(f) => format!("{base}?{q}#{f}"),
        None => format!("{base}?{q}"),
    }
}

/// A new magic-URL secret: 64 lowercase hex characters.
pub fn magic_secret() -> AppResult<String> {
    random_hex(32)
}

/// Redeems a login token for a session: `POST /account/sessions/token`,
/// `PUT /account/sessions/magic-url`, `PUT /account/sessions/phone`. The token is deleted
/// with a condition in the same transaction that stores the session, so concurrent
/// redemptions yield exactly one session.
pub async fn redeem(st: &AppState, ctx: &Ctx) -> AppResult<Response> {
    ctx.reject_if_signed_in()?;
    let user_id = crate::validate::uid("userId", ctx.params.str_req("userId")?)?;
    let secret = ctx.params.str_req("secret")?;
    if secret.is_empty() || secret.chars().count() > 256 {
        return Err(AppError::invalid_param(
            "secret",
            "Value must be a valid string and at least 1 chars and no longer than 256 chars",
        ));
    }
    let project = &ctx.project.id;
    let auth = resolve_user(st, project, &user_id)
        .await?
        .ok_or_else(invalid_token)?;
    let now = st.now_ms();
    let hash = sha256_hex(secret);
    let Some(token) = auth
        .tokens
        .iter()
        .find(|t| ct_eq(&t.secret_hash, &hash) && t.expire_ms >= now && t.failures < MAX_FAILURES)
    else {
        repo::count_token_failure(&st.table, project, &auth.tokens).await?;
        return Err(invalid_token());
    };
    let (provider, factor) = match token.kind {
        TokenKind::MagicUrl => ("magic-url", "email"),
        TokenKind::EmailOtp => ("token", "email"),
        TokenKind::Phone => ("phone", "phone"),
        TokenKind::OAuth2 => ("oauth2", "email"),
        TokenKind::Generic => ("token", "token"),
        _ => return Err(invalid_token()),
    };
    let mut user = auth.user.clone();
    let mut user_changed = false;
    match token.kind {
        TokenKind::MagicUrl | TokenKind::EmailOtp if !user.email_verification => {
            user.email_verification = true;
            user_changed = true;
        }
        TokenKind::Phone if !user.phone_verification => {
            user.phone_verification = true;
            user_changed = true;
        }
        _ => {}
    }
    if user_changed {
        user.updated_ms = now;
    }
    let spec = NewSession {
        provider,
        provider_uid: String::new(),
        factors: vec![factor.to_string()],
    };
    let (session, session_secret) = sessions::build(st, ctx, &user, spec)?;
    let mut ops = vec![
        TxOp::Delete {
            key: keys::token(project, &user.id, &token.secret_hash),
            cond: Some(Cond::Exists),
        },
        TxOp::Put {
            item: repo::session_item(project, &session)?,
            cond: Some(Cond::NotExists),
        },
    ];
    if user_changed {
        ops.push(repo::user_update_op(project, &user)?);
    }
    match st.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(invalid_token()),
        Err(e) => return Err(e.into()),
    }
    sessions::evict_over_limit(st, ctx, &user.id, &auth.sessions).await?;
    // Appwrite sends no alert for sessions made from an emailed secret: the email is the alert.
    if !matches!(token.kind, TokenKind::MagicUrl | TokenKind::EmailOtp) {
        sessions::alert(st, ctx, &user, auth.sessions.len()).await;
    }
    if ctx
        .route
        .is_some_and(|r| r.path != "/v1/account/sessions/phone")
    {
        ratelimit::reset(st, &ctx.rate_counters).await;
    }
    crate::audit::record(st, ctx, &user, "session.create").await;
    Ok(sessions::respond(st, ctx, &session, &session_secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_uniform_digits() {
        let mut counts = [0u32; 10];
        for _ in 0..2000 {
            let c = six_digits().unwrap_or_default();
            assert_eq!(c.len(), 6);
            for ch in c.chars() {
                let d = ch.to_digit(10).unwrap_or(99) as usize;
                assert!(d < 10);
                counts[d] += 1;
            }
        }
        // 12000 digits: each near 1200; a biased generator (b % 10 over 256) would skew 0-5.
        assert!(
            counts.iter().all(|&n| (1000..1400).contains(&n)),
            "{counts:?}"
        );
    }

    #[test]
    fn links_merge_the_query_and_keep_the_fragment() {
        let l = build_link(
            "https://a.test/cb?x=1&secret=old#top",
            &[("userId", "u1"), ("secret", "s")],
        );
        assert_eq!(l, "https://a.test/cb?x=1&userId=u1&secret=s#top");
        assert_eq!(
            build_link("https://a.test", &[("a", "b c")]),
            "https://a.test?a=b+c"
        );
    }

    #[test]
    fn phrases_are_two_words() {
        let p = phrase().unwrap_or_default();
        assert_eq!(p.split(' ').count(), 2, "{p}");
    }
}
