//! `PUT /v1/account/mfa/challenges` (1.6: `/mfa/challenge`): completes a challenge. The
//! factor joins the current session and the session counts as recently challenged. The
//! challenge is deleted in the same transaction, and a TOTP step or recovery code is spent
//! through a versioned user write, so each works once even under concurrency.

use axum::Json;
use axum::extract::State;
use shared::crypto::{ct_eq, sha256_hex};
use shared::mfa::{self, MAX_CHALLENGE_FAILURES};
use shared::models::Session;
use shared::store::{Cond, StoreError, TxOp, keys};
use shared::{AppError, AppResult, AppState, Ctx, ErrorType, repo};

fn invalid() -> AppError {
    AppError::new(
        ErrorType::UserInvalidToken,
        "Invalid token passed in the request.",
    )
}

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Session>> {
    let challenge_id = ctx.params.str_req("challengeId")?.to_string();
    let otp = ctx.params.str_req("otp")?.trim().to_string();
    let auth = ctx.auth()?;
    let session = ctx.current_session().ok_or_else(|| {
        AppError::new(
            ErrorType::UserChallengeRequired,
            "Challenges can only be completed with a session.",
        )
    })?;
    let now = st.now_ms();
    let project = &ctx.project.id;
    let challenge = auth
        .challenges
        .iter()
        .find(|c| c.id == challenge_id && c.expire_ms >= now && c.failures < MAX_CHALLENGE_FAILURES)
        .cloned()
        .ok_or_else(invalid)?;
    let mut user = auth.user.clone();
    let mut user_changed = false;
    let ok = match challenge.factor.as_str() {
        "email" | "phone" => ct_eq(&challenge.code_hash, &sha256_hex(&otp)),
        "totp" => match user.totp.clone().filter(|t| t.verified) {
            Some(t) => {
                let secret = mfa::open_totp(&st.data_key, &user.id, &t.secret_enc)?;
                match mfa::verify_totp(&secret, &otp, now.div_euclid(1000), t.last_step) {
                    Some(step) => {
                        user.totp = Some(mfa::TotpDoc {
                            last_step: step,
                            ..t
                        });
                        user_changed = true;
                        true
                    }
                    None => false,
                }
            }
            None => false,
        },
        "recoveryCode" => match user.recovery_codes.clone() {
            Some(sealed) => {
                let mut codes = mfa::open_codes(&st.data_key, &user.id, &sealed)?;
                match codes.iter().position(|c| ct_eq(c, &otp)) {
                    Some(i) => {
                        codes.remove(i);
                        user.recovery_codes =
                            Some(mfa::seal_codes(&st.data_key, &user.id, &codes)?);
                        user_changed = true;
                        true
                    }
                    None => false,
                }
            }
            None => false,
        },
        _ => false,
    };
    let key = keys::challenge(project, &user.id, &challenge.id);
    if !ok {
        st.table
            .add(
                &key,
                "failures",
                1,
                Some(challenge.expire_ms.div_euclid(1000)),
            )
            .await?;
        return Err(invalid());
    }
    let mut s = session.clone();
    if !s.factors.iter().any(|f| f == &challenge.factor) {
        s.factors.push(challenge.factor.clone());
    }
    s.mfa_updated_ms = Some(now);
    s.updated_ms = now;
    let mut ops = vec![
        TxOp::Delete {
            key,
            cond: Some(Cond::Exists),
        },
        TxOp::Put {
            item: repo::session_item(project, &s)?,
            cond: Some(Cond::Exists),
        },
    ];
    if user_changed {
        user.updated_ms = now;
        ops.push(repo::user_update_op(project, &user)?);
    }
    match st.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(invalid()),
        Err(e) => return Err(e.into()),
    }
    shared::audit::record(&st, &ctx, &user, "challenges.update").await;
    Ok(Json(Session::from_doc(
        &s,
        true,
        String::new(),
        &st.data_key,
    )))
}
