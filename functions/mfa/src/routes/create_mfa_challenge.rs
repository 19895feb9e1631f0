//! `POST /v1/account/mfa/challenges` (1.6: `/mfa/challenge`): starts a challenge for one
//! factor. Email and SMS challenges send a 6-digit code; TOTP and recovery-code challenges
//! send nothing. Challenges expire after an hour.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use shared::crypto::sha256_hex;
use shared::messaging::MessageKind;
use shared::mfa::{self, ChallengeDoc};
use shared::store::{Cond, Item, Val, keys};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, tokens, validate};

#[derive(Debug, Serialize)]
pub struct MfaChallenge {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub expire: String,
}

pub async fn handle(
    State(st): State<AppState>,
    ctx: Ctx,
) -> AppResult<(StatusCode, Json<MfaChallenge>)> {
    let raw = ctx.params.str_req("factor")?;
    let factor = mfa::canonical_factor(raw).ok_or_else(|| {
        AppError::invalid_param(
            "factor",
            "Value must be one of (email, phone, totp, recoverycode)",
        )
    })?;
    let user = &ctx.auth()?.user;
    let now = st.now_ms();
    let mut code = String::new();
    match factor {
        "email" => {
            tokens::require_mail(&st, &ctx)?;
            if user.email.is_none() {
                return Err(AppError::new(
                    ErrorType::UserEmailNotFound,
                    "The current user has no email address.",
                ));
            }
            if !user.email_verification {
                return Err(AppError::new(
                    ErrorType::UserEmailNotVerified,
                    "The email of the current user is not verified.",
                ));
            }
            code = tokens::six_digits()?;
        }
        "phone" => {
            tokens::require_sms(&st, &ctx)?;
            if user.phone.is_none() {
                return Err(AppError::new(
                    ErrorType::UserPhoneNotFound,
                    "The current user has no phone number.",
                ));
            }
            if !user.phone_verification {
                return Err(AppError::new(
                    ErrorType::UserPhoneNotVerified,
                    "The phone of the current user is not verified.",
                ));
            }
            code = tokens::six_digits()?;
        }
        _ => {}
    }
    let doc = ChallengeDoc {
        id: validate::unique_id(now)?,
        user_id: user.id.clone(),
        factor: factor.to_string(),
        code_hash: if code.is_empty() {
            String::new()
        } else {
            sha256_hex(&code)
        },
        created_ms: now,
        expire_ms: now + mfa::CHALLENGE_TTL_MS,
        failures: 0,
    };
    let item = Item::new(keys::challenge(&ctx.project.id, &user.id, &doc.id))
        .with(
            "data",
            Val::S(serde_json::to_string(&doc).map_err(AppError::internal)?),
        )
        .with(
            shared::store::EXPIRES_AT,
            Val::N(doc.expire_ms.div_euclid(1000)),
        );
    st.table.put(item, Some(Cond::NotExists)).await?;
    let mut vars = tokens::vars(&st, &ctx, user);
    vars.code = code;
    vars.expires_minutes = 60;
    match factor {
        "email" => {
            let to = user.email.clone().unwrap_or_default();
            tokens::send_email(&st, &ctx, MessageKind::MfaChallenge, &to, &user.name, &vars)
                .await?;
        }
        "phone" => {
            let to = user.phone.clone().unwrap_or_default();
            tokens::send_sms(&st, &ctx, MessageKind::MfaChallengeSms, &to, &vars).await?;
        }
        _ => {}
    }
    shared::audit::record(&st, &ctx, user, "challenge.create").await;
    let body = MfaChallenge {
        id: doc.id,
        created_at: shared::clock::iso(doc.created_ms),
        user_id: doc.user_id,
        expire: shared::clock::iso(doc.expire_ms),
    };
    Ok((StatusCode::CREATED, Json(body)))
}
