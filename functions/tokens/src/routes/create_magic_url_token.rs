//! `POST /v1/account/tokens/magic-url` (alias `POST /v1/account/sessions/magic-url`): a
//! sign-in link by email (valid 1 hour), pointing only at a registered platform.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::http::origin::redirect_allowed;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::{AppError, AppResult, AppState, Ctx, tokens, validate};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<(StatusCode, Json<Token>)> {
    ctx.require_method(ctx.project.auths.magic_url, "Magic URL")?;
    tokens::require_mail(&st, &ctx)?;
    let user_id = validate::custom_id("userId", ctx.params.str_req("userId")?, st.now_ms())?;
    let email = validate::email("email", ctx.params.str_req("email")?)?;
    let with_phrase = ctx.params.bool_opt("phrase")?.unwrap_or(false);
    let url = match ctx.params.str_opt("url")? {
        Some(u) => u.to_string(),
        None => match ctx
            .project
            .platforms
            .iter()
            .find(|p| p.kind == "web" && !p.hostname.contains('*'))
        {
            Some(p) => format!("https://{}/", p.hostname),
            None => return Err(AppError::missing_param("url")),
        },
    };
    if !redirect_allowed(&url, &ctx.project, &st.config) {
        return Err(AppError::invalid_param(
            "url",
            "URL host must be one of: the hostnames of this project's registered platforms",
        ));
    }
    let user = tokens::user_for_email(&st, &ctx, &user_id, &email, false).await?;
    let secret = tokens::magic_secret()?;
    let doc = tokens::issue(&st, &ctx, &user.id, TokenKind::MagicUrl, &secret, 3600).await?;
    let expire = shared::clock::iso(doc.expire_ms);
    let link = tokens::build_link(
        &url,
        &[
            ("userId", &user.id),
            ("secret", &secret),
            ("expire", &expire),
            ("project", &ctx.project.id),
        ],
    );
    let phrase = if with_phrase {
        tokens::phrase()?
    } else {
        String::new()
    };
    let mut vars = tokens::vars(&st, &ctx, &user);
    vars.link = link;
    vars.phrase = phrase.clone();
    vars.expires_minutes = 60;
    tokens::send_email(&st, &ctx, MessageKind::MagicUrl, &email, &user.name, &vars).await?;
    let mut shown = doc.clone();
    shown.user_id = tokens::shown_user_id(&st, &ctx, &user_id, &user, doc.expire_ms).await?;
    Ok(tokens::respond(&ctx, &shown, secret, phrase))
}
