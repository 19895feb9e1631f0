//! `POST /v1/account/tokens/magic-url` (alias `POST /v1/account/sessions/magic-url`): a
//! sign-in link by email (valid 1 hour), pointing only at a registered platform.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::http::origin::redirect_allowed;
use shared::messaging::MessageKind;
use shared::models::{Token, TokenKind};
use shared::{AppError, AppResult, AppState, Ctx, tokens, validate};

/// `url` with `userId`, `secret`, `expire` and `project` set in its query (replacing any
/// parameters of those names), fragment kept.
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
    let link = build_link(
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
    Ok(tokens::respond(&ctx, &doc, secret, phrase))
}

#[cfg(test)]
mod tests {
    use super::build_link;

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
}
