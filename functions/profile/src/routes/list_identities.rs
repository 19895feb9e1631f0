//! `GET /v1/account/identities`: the caller's OAuth2 identities; `queries` in the JSON or
//! the legacy string form (contract-account §8, §10).

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};
use shared::identities::{Identity, IdentityList, QUERY_ATTRIBUTES};
use shared::queries::{self, Schema};
use shared::{AppError, AppResult, AppState, Ctx};

pub async fn handle(State(st): State<AppState>, ctx: Ctx) -> AppResult<Json<IdentityList>> {
    let auth = ctx.auth()?;
    let parsed = queries::entries(&ctx.params)?
        .iter()
        .map(queries::parse)
        .collect::<AppResult<Vec<_>>>()?;
    let with_total = ctx.params.bool_opt("total")?.unwrap_or(true);
    let docs: Vec<Map<String, Value>> = auth
        .identities
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let mut m = match serde_json::to_value(i.to_model(&st.data_key)) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            m.insert("$sequence".into(), Value::from(n as u64 + 1));
            m
        })
        .collect();
    let schema = Schema {
        attributes: QUERY_ATTRIBUTES,
        default_limit: 25,
    };
    let page = queries::apply(&parsed, docs, &schema)?;
    let identities = page
        .items
        .into_iter()
        .map(|mut m| {
            m.remove("$sequence");
            serde_json::from_value::<Identity>(Value::Object(m)).map_err(AppError::internal)
        })
        .collect::<AppResult<Vec<Identity>>>()?;
    Ok(Json(IdentityList {
        total: if with_total { page.total } else { 0 },
        identities,
    }))
}
