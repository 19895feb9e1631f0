//! Administrative operations on either backend: projects, platforms, API keys, settings.
//! The `admin` binary and the tests call these; nothing here is reachable over HTTP.

use serde_json::Value;
use shared::project::{ApiKey, Platform, Project, create_api_key, load_project, save_project};
use shared::store::DynTable;
use shared::{AppError, AppResult};

/// Scopes of the development key the local server creates (everything a key may hold on
/// the account API).
pub const DEV_SCOPES: &[&str] = &[
    "sessions.write",
    "users.read",
    "users.write",
    "targets.write",
];

pub async fn create_project(table: &DynTable, id: &str, name: &str) -> AppResult<Project> {
    let p = Project::new(id, name);
    save_project(table, &p).await?;
    Ok(p)
}

pub async fn require_project(table: &DynTable, id: &str) -> AppResult<Project> {
    load_project(table, id).await?.ok_or_else(|| {
        AppError::new(
            shared::ErrorType::ProjectNotFound,
            format!("no project `{id}`"),
        )
    })
}

pub async fn add_platform(
    table: &DynTable,
    project: &str,
    kind: &str,
    hostname: &str,
    name: &str,
) -> AppResult<()> {
    let mut p = require_project(table, project).await?;
    p.platforms.push(Platform {
        kind: kind.into(),
        name: name.into(),
        hostname: hostname.into(),
    });
    save_project(table, &p).await
}

/// Creates an API key and returns it; only its hash is stored.
pub async fn create_key(
    table: &DynTable,
    project: &str,
    name: &str,
    scopes: &[&str],
    expire_ms: Option<i64>,
) -> AppResult<String> {
    require_project(table, project).await?;
    let key = ApiKey {
        project_id: project.into(),
        name: name.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        expire_ms,
    };
    create_api_key(table, &key).await
}

/// Sets one project setting by dotted path (`auths.maxSessions=3`, `name=Demo`,
/// `mail={"email":"a@b.c","name":"App"}`); the value is JSON, or a plain string.
pub async fn set(table: &DynTable, project: &str, assignment: &str) -> AppResult<Project> {
    let p = require_project(table, project).await?;
    let (path, raw) = assignment
        .split_once('=')
        .ok_or_else(|| AppError::invalid_param("setting", "expected path=value"))?;
    let value: Value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    let mut doc = serde_json::to_value(&p).map_err(AppError::internal)?;
    let mut cursor = &mut doc;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            match cursor.as_object_mut() {
                Some(obj) => {
                    obj.insert(part.to_string(), value.clone());
                }
                None => {
                    return Err(AppError::invalid_param(
                        "setting",
                        &format!("`{path}` is not a setting"),
                    ));
                }
            }
        } else {
            if cursor.get(part).is_none_or(Value::is_null) {
                if let Some(obj) = cursor.as_object_mut() {
                    obj.insert(part.to_string(), Value::Object(Default::default()));
                }
            }
            cursor = cursor.get_mut(part).ok_or_else(|| {
                AppError::invalid_param("setting", &format!("`{path}` is not a setting"))
            })?;
        }
    }
    let updated: Project = serde_json::from_value(doc)
        .map_err(|e| AppError::invalid_param("setting", &format!("`{path}`: {e}")))?;
    save_project(table, &updated).await?;
    Ok(updated)
}

/// Stores OAuth2 provider `name` for `project` from JSON `{"enabled", "clientId",
/// "clientSecret", "options"}`; the client secret is sealed with `data_key` (derived from the
/// functions' server key) and never stored in the clear.
pub async fn set_provider(
    table: &DynTable,
    project: &str,
    name: &str,
    json: &str,
    data_key: &[u8],
) -> AppResult<Project> {
    let Some(provider) = shared::oauth2::provider(name) else {
        return Err(AppError::new(
            shared::ErrorType::ProjectProviderUnsupported,
            format!("no provider `{name}`"),
        ));
    };
    let settings: shared::oauth2::ProviderSettings = serde_json::from_str(json)
        .map_err(|e| AppError::invalid_param("provider", &format!("settings JSON: {e}")))?;
    // Settings the provider cannot make requests with (an Apple key it cannot sign with)
    // would otherwise surface only at the first sign-in.
    provider
        .request_settings(&settings)
        .map_err(|e| AppError::invalid_param("clientSecret", &e.to_string()))?;
    let mut p = require_project(table, project).await?;
    p.set_provider(data_key, name, &settings)?;
    save_project(table, &p).await?;
    Ok(p)
}

/// First-start setup of the local server: reuses the project in
/// `<data-dir>/local-project.json` when the store still has it, else creates a project and a
/// development key and writes the file (`{"endpoint","projectId","apiKey"}`).
pub async fn bootstrap_local(
    table: &DynTable,
    data_dir: &std::path::Path,
    endpoint: &str,
) -> AppResult<(String, String)> {
    let file = data_dir.join("local-project.json");
    if let Ok(raw) = std::fs::read_to_string(&file) {
        let v: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        if let (Some(p), Some(k)) = (v["projectId"].as_str(), v["apiKey"].as_str()) {
            if load_project(table, p).await?.is_some()
                && shared::project::lookup_api_key(table, k).await?.is_some()
            {
                write_local(&file, endpoint, p, k)?;
                return Ok((p.to_string(), k.to_string()));
            }
        }
    }
    let id = format!("local-{}", shared::crypto::random_hex(4)?);
    let mut p = Project::new(&id, "Local");
    p.mail = Some(shared::project::MailSender {
        email: "noreply@localhost.localdomain".into(),
        name: "Local".into(),
        reply_to: String::new(),
    });
    p.sms = Some(Default::default());
    save_project(table, &p).await?;
    let key = create_key(table, &id, "development", DEV_SCOPES, None).await?;
    write_local(&file, endpoint, &id, &key)?;
    Ok((id, key))
}

fn write_local(file: &std::path::Path, endpoint: &str, project: &str, key: &str) -> AppResult<()> {
    let body = serde_json::json!({"endpoint": endpoint, "projectId": project, "apiKey": key});
    std::fs::write(file, format!("{body:#}\n")).map_err(AppError::internal)
}

/// The local server's JWT key: kept in `<data-dir>/jwt.key` (created once, owner-only).
pub fn local_jwt_key(data_dir: &std::path::Path) -> AppResult<Vec<u8>> {
    let path = data_dir.join("jwt.key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        if k.trim().len() >= 32 {
            return Ok(k.trim().as_bytes().to_vec());
        }
    }
    let k = shared::crypto::random_hex(32)?;
    std::fs::write(&path, &k).map_err(AppError::internal)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(k.into_bytes())
}
