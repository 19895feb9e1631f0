//! Request parameters as Appwrite reads them: the query string for GET, the body (JSON or
//! form) for every other method. Typed accessors answer with Appwrite's parameter errors.

use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Default)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Parses a request's parameters. Malformed JSON is a 400, not a silent empty body.
    pub fn parse(
        method: &str,
        query: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> AppResult<Params> {
        if method == "GET" || method == "HEAD" {
            return Ok(Params(parse_form(query.unwrap_or("").as_bytes())));
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params::default());
        }
        if content_type.starts_with("application/x-www-form-urlencoded") {
            return Ok(Params(parse_form(body)));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(Params(m)),
            Ok(_) => Err(AppError::new(
                crate::error::ErrorType::GeneralArgumentInvalid,
                "The request body must be a JSON object.",
            )),
            Err(_) => Err(AppError::new(
                crate::error::ErrorType::GeneralArgumentInvalid,
                "The request body is not valid JSON.",
            )),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A required string parameter.
    pub fn str_req(&self, name: &str) -> AppResult<&str> {
        match self.get(name) {
            None => Err(AppError::missing_param(name)),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(AppError::invalid_param(
                name,
                "Value must be a valid string",
            )),
        }
    }

    /// An optional string parameter.
    pub fn str_opt(&self, name: &str) -> AppResult<Option<&str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(AppError::invalid_param(
                name,
                "Value must be a valid string",
            )),
        }
    }

    /// An optional boolean (JSON bool, or "true"/"false"/"1"/"0" from forms and queries).
    pub fn bool_opt(&self, name: &str) -> AppResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "1" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" || s == "0" => Ok(Some(false)),
            Some(_) => Err(AppError::invalid_param(
                name,
                "Value must be a valid boolean",
            )),
        }
    }

    /// An optional integer within `range` (JSON number or numeric string).
    pub fn int_opt(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> AppResult<Option<i64>> {
        let bad = || {
            AppError::invalid_param(
                name,
                &format!(
                    "Value must be a valid range between {} and {}",
                    range.start(),
                    range.end()
                ),
            )
        };
        let n = match self.get(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(bad)?,
            Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
        };
        if range.contains(&n) {
            Ok(Some(n))
        } else {
            Err(bad())
        }
    }

    /// The raw value as a rate-limit key fragment (`None` when absent or empty).
    /// An array parameter: a JSON array (request bodies), or the keys `name[0]`, `name[1]`,
    /// ... in index order, then `name[]` (query strings); a lone scalar is one entry.
    pub fn list(&self, name: &str) -> AppResult<Vec<Value>> {
        let mut out: Vec<Value> = Vec::new();
        match self.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => out.extend(list.iter().cloned()),
            Some(v @ (Value::String(_) | Value::Object(_))) => out.push(v.clone()),
            Some(_) => {
                return Err(AppError::invalid_param(name, "Value must be a valid array"));
            }
        }
        let open = format!("{name}[");
        let mut indexed: Vec<((bool, u64), &Value)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let inner = k.strip_prefix(open.as_str())?.strip_suffix(']')?;
                if inner.is_empty() {
                    Some(((true, 0), v))
                } else {
                    inner.parse::<u64>().ok().map(|n| ((false, n), v))
                }
            })
            .collect();
        indexed.sort_by_key(|(order, _)| *order);
        for (_, v) in indexed {
            match v {
                Value::Array(a) => out.extend(a.iter().cloned()),
                other => out.push(other.clone()),
            }
        }
        Ok(out)
    }

    pub fn raw(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

fn parse_form(bytes: &[u8]) -> Map<String, Value> {
    let mut m = Map::new();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
    for (k, v) in pairs {
        m.insert(k, Value::String(v));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_and_queries() {
        let p = Params::parse(
            "POST",
            None,
            "application/json",
            br#"{"email":"a@b.c","n":1}"#,
        );
        let p = p.unwrap_or_default();
        assert_eq!(p.str_req("email").ok(), Some("a@b.c"));
        assert_eq!(
            p.str_req("n").err().map(|e| e.message),
            Some("Invalid `n` param: Value must be a valid string".into())
        );
        assert_eq!(
            p.str_req("password").err().map(|e| e.message),
            Some("Param \"password\" is not optional.".into())
        );
        let q = Params::parse("GET", Some("project=p1&x=1"), "", b"ignored").unwrap_or_default();
        assert_eq!(q.raw("project").as_deref(), Some("p1"));
    }

    #[test]
    fn malformed_json_is_rejected() {
        for bad in [&b"{nope"[..], b"[1,2]", b"\"s\""] {
            let e = Params::parse("POST", None, "application/json", bad).err();
            assert_eq!(
                e.map(|e| e.kind),
                Some(crate::error::ErrorType::GeneralArgumentInvalid)
            );
        }
        assert!(Params::parse("DELETE", None, "application/json", b"").is_ok());
        assert!(Params::parse("DELETE", None, "application/json", b"{}").is_ok());
    }

    #[test]
    fn forms_parse() {
        let p = Params::parse(
            "POST",
            None,
            "application/x-www-form-urlencoded",
            b"a=1&b=x%40y",
        )
        .unwrap_or_default();
        assert_eq!(p.raw("b").as_deref(), Some("x@y"));
        assert_eq!(p.bool_opt("a").ok().flatten(), Some(true));
    }
}
