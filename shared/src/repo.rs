//! Typed repositories over the `Table` port: users with their uniqueness guards, and
//! sessions. A user and its sessions share one partition, so authenticating a request is a
//! single query.

use crate::error::{AppError, AppResult, ErrorType};
use crate::models::{SessionDoc, TokenDoc, UserDoc};
use crate::store::{Cond, DynTable, Item, Key, QuerySpec, StoreError, TxOp, Val, keys};

/// A user with every live session, as loaded for authentication.
#[derive(Debug, Clone)]
pub struct AuthData {
    pub user: UserDoc,
    /// Oldest first.
    pub sessions: Vec<SessionDoc>,
    /// Live, unredeemed tokens.
    pub tokens: Vec<TokenDoc>,
    /// Live MFA challenges.
    pub challenges: Vec<crate::mfa::ChallengeDoc>,
    /// OAuth2 identities, oldest first.
    pub identities: Vec<crate::identities::IdentityDoc>,
}

fn data<T: serde::Serialize>(v: &T) -> AppResult<Val> {
    Ok(Val::S(
        serde_json::to_string(v).map_err(AppError::internal)?,
    ))
}

fn parse<T: serde::de::DeserializeOwned>(item: &Item) -> AppResult<T> {
    serde_json::from_str(item.s("data").unwrap_or("")).map_err(AppError::internal)
}

pub fn user_item(project: &str, u: &UserDoc) -> AppResult<Item> {
    Ok(Item::new(keys::user(project, &u.id))
        .with("data", data(u)?)
        .with("ver", Val::N(u.version)))
}

/// Writes `u` over the version it was read at: the write fails (condition) when someone
/// changed the user in between, so concurrent updates never silently overwrite each other.
pub fn user_update_op(project: &str, u: &UserDoc) -> AppResult<TxOp> {
    let mut next = u.clone();
    next.version = u.version + 1;
    Ok(TxOp::Put {
        item: user_item(project, &next)?,
        cond: Some(Cond::Equals("ver".into(), Val::N(u.version))),
    })
}

pub fn token_item(project: &str, t: &TokenDoc) -> AppResult<Item> {
    Ok(Item::new(keys::token(project, &t.user_id, &t.secret_hash))
        .with("data", data(t)?)
        .with(
            crate::store::EXPIRES_AT,
            Val::N(t.expire_ms.div_euclid(1000)),
        ))
}

/// Stores a new token.
pub async fn put_token(table: &DynTable, project: &str, t: &TokenDoc) -> AppResult<()> {
    table
        .put(token_item(project, t)?, Some(Cond::NotExists))
        .await?;
    Ok(())
}

/// Counts one wrong guess against each of the user's live short-code tokens.
pub async fn count_token_failure(
    table: &DynTable,
    project: &str,
    tokens: &[TokenDoc],
) -> AppResult<()> {
    for t in tokens.iter().filter(|t| t.kind.is_short_code()) {
        let key = keys::token(project, &t.user_id, &t.secret_hash);
        table
            .add(&key, "failures", 1, Some(t.expire_ms.div_euclid(1000)))
            .await?;
    }
    Ok(())
}

pub fn session_item(project: &str, s: &SessionDoc) -> AppResult<Item> {
    Ok(Item::new(keys::session(project, &s.user_id, &s.id))
        .with("data", data(s)?)
        .with(
            crate::store::EXPIRES_AT,
            Val::N(s.expire_ms.div_euclid(1000)),
        ))
}

pub fn identity_item(project: &str, i: &crate::identities::IdentityDoc) -> AppResult<Item> {
    Ok(Item::new(keys::identity(project, &i.user_id, &i.id)).with("data", data(i)?))
}

pub fn guard_item(key: Key, user_id: &str) -> Item {
    Item::new(key).with("userId", Val::S(user_id.to_string()))
}

/// One query: the user and all its live sessions.
pub async fn load_auth(
    table: &DynTable,
    project: &str,
    user_id: &str,
) -> AppResult<Option<AuthData>> {
    let spec = QuerySpec {
        prefix: keys::AUTH_PREFIX.to_string(),
        ..Default::default()
    };
    let items = table.query(&keys::user_pk(project, user_id), &spec).await?;
    let mut user = None;
    let mut sessions = Vec::new();
    let mut tokens = Vec::new();
    let mut challenges = Vec::new();
    let mut identities = Vec::new();
    for item in &items {
        if item.key.sk == keys::SK_USER {
            let mut u = parse::<UserDoc>(item)?;
            u.version = item.n("ver").unwrap_or(0);
            user = Some(u);
        } else if item.key.sk.starts_with(keys::SESSION_PREFIX) {
            sessions.push(parse::<SessionDoc>(item)?);
        } else if item.key.sk.starts_with(keys::TOKEN_PREFIX) && item.s("data").is_some() {
            // A failure counter can outlive its token by a moment (redeemed while a wrong
            // guess was being counted); without `data` it is not a token.
            let mut t = parse::<TokenDoc>(item)?;
            t.failures = item.n("failures").unwrap_or(0);
            tokens.push(t);
        } else if item.key.sk.starts_with(keys::CHALLENGE_PREFIX) && item.s("data").is_some() {
            let mut c = parse::<crate::mfa::ChallengeDoc>(item)?;
            c.failures = item.n("failures").unwrap_or(0);
            challenges.push(c);
        } else if item.key.sk.starts_with(keys::IDENTITY_PREFIX) {
            identities.push(parse::<crate::identities::IdentityDoc>(item)?);
        }
    }
    identities.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    sessions.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    Ok(user.map(|user| AuthData {
        user,
        sessions,
        tokens,
        challenges,
        identities,
    }))
}

pub async fn user_id_by_email(
    table: &DynTable,
    project: &str,
    email: &str,
) -> AppResult<Option<String>> {
    Ok(table
        .get(&keys::email_guard(project, email))
        .await?
        .and_then(|i| i.s("userId").map(String::from)))
}

/// Inserts a new user with its email/phone guards in one transaction. Any existing id,
/// email or phone fails the whole write with 409 `user_already_exists`.
pub async fn create_user(table: &DynTable, project: &str, u: &UserDoc) -> AppResult<()> {
    let mut ops = vec![TxOp::Put {
        item: user_item(project, u)?,
        cond: Some(Cond::NotExists),
    }];
    if let Some(e) = &u.email {
        ops.push(TxOp::Put {
            item: guard_item(keys::email_guard(project, e), &u.id),
            cond: Some(Cond::NotExists),
        });
    }
    if let Some(p) = &u.phone {
        ops.push(TxOp::Put {
            item: guard_item(keys::phone_guard(project, p), &u.id),
            cond: Some(Cond::NotExists),
        });
    }
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(AppError::new(
            ErrorType::UserAlreadyExists,
            "A user with the same id, email, or phone already exists in this project.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Creates a user and its first session atomically (anonymous sign-in).
pub async fn create_user_with_session(
    table: &DynTable,
    project: &str,
    u: &UserDoc,
    s: &SessionDoc,
) -> AppResult<()> {
    let ops = vec![
        TxOp::Put {
            item: user_item(project, u)?,
            cond: Some(Cond::NotExists),
        },
        TxOp::Put {
            item: session_item(project, s)?,
            cond: Some(Cond::NotExists),
        },
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(AppError::new(
            ErrorType::UserAlreadyExists,
            "A user with the same id already exists in this project.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Overwrites a user document that must still exist.
/// Saves a user read at `u.version`; a concurrent change in between is 409
/// `document_update_conflict` (the client retries).
pub async fn save_user(table: &DynTable, project: &str, u: &UserDoc) -> AppResult<()> {
    match table.transact(vec![user_update_op(project, u)?]).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(conflict()),
        Err(e) => Err(e.into()),
    }
}

pub fn conflict() -> AppError {
    AppError::new(
        ErrorType::DocumentUpdateConflict,
        "The account was changed by another request at the same time. Please try again.",
    )
}

pub async fn put_session(
    table: &DynTable,
    project: &str,
    s: &SessionDoc,
    cond: Option<Cond>,
) -> AppResult<()> {
    table.put(session_item(project, s)?, cond).await?;
    Ok(())
}

/// Deletes sessions of one user atomically, in transactions of at most 100.
pub async fn delete_sessions(
    table: &DynTable,
    project: &str,
    user_id: &str,
    ids: &[String],
) -> AppResult<()> {
    for chunk in ids.chunks(100) {
        let ops = chunk
            .iter()
            .map(|id| TxOp::Delete {
                key: keys::session(project, user_id, id),
                cond: None,
            })
            .collect();
        table.transact(ops).await?;
    }
    Ok(())
}

/// Users created so far (for the project's user limit).
pub async fn user_count(table: &DynTable, project: &str) -> AppResult<i64> {
    Ok(table
        .get(&keys::user_count(project))
        .await?
        .and_then(|i| i.n("n"))
        .unwrap_or(0))
}

pub async fn count_user_created(table: &DynTable, project: &str) -> AppResult<()> {
    table.add(&keys::user_count(project), "n", 1, None).await?;
    Ok(())
}
