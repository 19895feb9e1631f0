//! `PATCH /v1/account/prefs`: replaces the whole preferences object (no merge), at most
//! 65,535 bytes as Appwrite measures it (JSON with non-ASCII escaped as `\uXXXX`).

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use shared::models::Account;
use shared::{AppError, AppResult, AppState, Ctx, repo};

/// Length of the JSON encoding with every non-ASCII UTF-16 unit written as `\uXXXX`.
fn encoded_len(v: &Value) -> usize {
    let s = v.to_string();
    s.chars()
        .map(|c| if c.is_ascii() { 1 } else { 6 * c.len_utf16() })
        .sum()
}

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<Account>> {
    let bad = || {
        AppError::invalid_param(
            "prefs",
            "Value must be a valid object and no longer than 65535 bytes",
        )
    };
    let prefs = match ctx.params.get("prefs") {
        None => return Err(AppError::missing_param("prefs")),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(bad()),
    };
    if encoded_len(&Value::Object(prefs.clone())) > 65_535 {
        return Err(bad());
    }
    let mut user = ctx.auth()?.user.clone();
    user.prefs = prefs;
    user.updated_ms = st.now_ms();
    repo::save_user(&st.table, &ctx.project.id, &user).await?;
    shared::audit::record(&st, &ctx, &user, "user.update").await;
    Ok(Json(Account::from(&user)))
}

#[cfg(test)]
mod tests {
    use super::encoded_len;

    #[test]
    fn measures_like_appwrite() {
        assert_eq!(encoded_len(&serde_json::json!({"a": "b"})), 9);
        assert_eq!(encoded_len(&serde_json::json!({"a": "é"})), 14);
        assert_eq!(encoded_len(&serde_json::json!({"a": "🍰"})), 20);
    }
}
