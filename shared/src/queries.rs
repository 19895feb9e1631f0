//! Appwrite's `queries` parameter (contract-account §10): collection from the request, the
//! JSON form and the legacy string form (both always accepted), and evaluation over a small
//! in-memory list (a user's identities).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::error::{AppError, AppResult, ErrorType};
use crate::http::params::Params;

/// Values allowed in one query.
const MAX_VALUES: usize = 500;

/// One parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub method: String,
    pub attribute: String,
    /// Scalars, or nested queries (as JSON) for `and`/`or`.
    pub values: Vec<Value>,
}

fn bad(description: &str) -> AppError {
    AppError::invalid_param("queries", description)
}

/// The raw entries of `queries` (see [`Params::list`]).
pub fn entries(params: &Params) -> AppResult<Vec<Value>> {
    params.list("queries")
}

/// Parses one entry: an object, a JSON string, or the legacy `method(args)` form.
pub fn parse(entry: &Value) -> AppResult<Query> {
    match entry {
        Value::Object(_) => json_query(entry),
        Value::String(s) => {
            let s = s.trim();
            let looks_legacy = s.split_once('(').is_some_and(|(m, _)| {
                !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
            });
            if looks_legacy {
                legacy(s)
            } else {
                let v: Value =
                    serde_json::from_str(s).map_err(|_| bad(&format!("Invalid query: {s}")))?;
                json_query(&v)
            }
        }
        _ => Err(bad("Invalid query: each query must be a string")),
    }
}

fn json_query(v: &Value) -> AppResult<Query> {
    let method = v
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Invalid query: method must be a string"))?;
    let attribute = match v.get("attribute") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("Invalid query: attribute must be a string")),
    };
    let values = match v.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(bad("Invalid query: values must be an array")),
    };
    Ok(Query {
        method: method.to_string(),
        attribute,
        values,
    })
}

/// The legacy form: `equal("provider", ["github"])`, `limit(25)`, `cursorAfter("id")`.
/// Arguments are split on top-level commas; `[...]` is an array; quoted text is a string.
/// Conversion failure is 400 `general_query_invalid`.
fn legacy(s: &str) -> AppResult<Query> {
    let invalid = || {
        AppError::new(
            ErrorType::GeneralQueryInvalid,
            format!("Invalid query: {s}"),
        )
    };
    let (method, rest) = s.split_once('(').ok_or_else(invalid)?;
    let args = rest.trim_end().strip_suffix(')').ok_or_else(invalid)?;
    let method = method.trim();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid());
    }
    const KNOWN: &[&str] = &[
        "limit",
        "offset",
        "cursorAfter",
        "cursorBefore",
        "orderAsc",
        "orderDesc",
        "equal",
        "notEqual",
        "lessThan",
        "lessThanEqual",
        "greaterThan",
        "greaterThanEqual",
        "isNull",
        "isNotNull",
        "between",
        "startsWith",
        "endsWith",
        "contains",
        "search",
        "and",
        "or",
    ];
    if !KNOWN.contains(&method) {
        // Refused by the caller whatever the arguments ("Invalid query method").
        return Ok(Query {
            method: method.to_string(),
            attribute: String::new(),
            values: Vec::new(),
        });
    }
    let mut parts = split_top(args).ok_or_else(invalid)?;
    let mut values: Vec<Value> = Vec::new();
    let mut attribute = String::new();
    let takes_attribute = !matches!(
        method,
        "limit" | "offset" | "cursorAfter" | "cursorBefore" | "and" | "or"
    );
    if takes_attribute && !parts.is_empty() {
        match scalar(&parts.remove(0)).ok_or_else(invalid)? {
            Value::String(a) => attribute = a,
            _ => return Err(invalid()),
        }
    }
    for p in parts {
        let p = p.trim();
        if let Some(inner) = p.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            for q in split_top(inner).ok_or_else(invalid)? {
                if matches!(method, "and" | "or") {
                    values.push(Value::String(q.trim().to_string()));
                } else {
                    values.push(scalar(&q).ok_or_else(invalid)?);
                }
            }
        } else if matches!(method, "and" | "or") {
            values.push(Value::String(p.to_string()));
        } else {
            values.push(scalar(p).ok_or_else(invalid)?);
        }
    }
    Ok(Query {
        method: method.to_string(),
        attribute,
        values,
    })
}

/// Splits on commas outside quotes, brackets and parentheses. None on unbalanced input.
fn split_top(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in s.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                cur.push(c);
            }
            '[' | '(' => {
                depth += 1;
                cur.push(c);
            }
            ']' | ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if quote.is_some() || depth != 0 {
        return None;
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur);
    }
    Some(
        out.into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

/// A legacy scalar: quoted string (backslash escapes), true/false/null, or a number.
fn scalar(p: &str) -> Option<Value> {
    let p = p.trim();
    let first = p.chars().next()?;
    if (first == '"' || first == '\'') && p.len() >= 2 && p.ends_with(first) {
        let inner = &p[1..p.len() - 1];
        let mut out = String::new();
        let mut esc = false;
        for c in inner.chars() {
            if esc {
                out.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        return Some(Value::String(out));
    }
    match p {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "null" => Some(Value::Null),
        _ => serde_json::from_str::<serde_json::Number>(p)
            .ok()
            .map(Value::Number),
    }
}

/// What a list endpoint allows.
pub struct Schema<'a> {
    /// Attributes that may be filtered and ordered on.
    pub attributes: &'a [&'a str],
    pub default_limit: usize,
}

/// A page of documents and the number matching the filters (capped at 5000).
pub struct Page {
    pub total: usize,
    pub items: Vec<Map<String, Value>>,
}

/// Applies `queries` to `docs` (in insertion order; each has `$id`). A cursor naming a
/// document that is not in `docs` is 400 `general_cursor_not_found`.
pub fn apply(queries: &[Query], docs: Vec<Map<String, Value>>, schema: &Schema) -> AppResult<Page> {
    let mut filters = Vec::new();
    let mut limit: Option<usize> = None;
    let mut offset: Option<usize> = None;
    let mut cursor: Option<(bool, String)> = None;
    let mut orders: Vec<(String, bool)> = Vec::new();
    for q in queries {
        match q.method.as_str() {
            "limit" => {
                let n = int_value(q)?;
                if n < 1 {
                    return Err(bad(
                        "Invalid limit: Value must be a valid range between 1 and 5,000",
                    ));
                }
                limit.get_or_insert(n as usize);
            }
            "offset" => {
                let n = int_value(q)?;
                if n < 0 {
                    return Err(bad(
                        "Invalid offset: Value must be an integer of at least 0",
                    ));
                }
                offset.get_or_insert(n as usize);
            }
            "cursorAfter" | "cursorBefore" => {
                let id = match q.values.as_slice() {
                    [Value::String(s)] if crate::validate::uid("cursor", s).is_ok() => s.clone(),
                    _ => {
                        return Err(bad(
                            "Invalid cursor: Cursor must contain exactly one valid UID",
                        ));
                    }
                };
                if cursor.is_none() {
                    cursor = Some((q.method == "cursorAfter", id));
                }
            }
            "orderAsc" | "orderDesc" => {
                check_attribute(&q.attribute, schema)?;
                orders.push((q.attribute.clone(), q.method == "orderAsc"));
            }
            _ => {
                check_filter(q, schema, 0)?;
                filters.push(q.clone());
            }
        }
    }
    let mut docs: Vec<Map<String, Value>> = docs
        .into_iter()
        .filter(|d| filters.iter().all(|f| matches(f, d)))
        .collect();
    if !orders.is_empty() {
        docs.sort_by(|a, b| {
            for (attr, asc) in &orders {
                let o = compare(a.get(attr), b.get(attr));
                if o != Ordering::Equal {
                    return if *asc { o } else { o.reverse() };
                }
            }
            Ordering::Equal
        });
    }
    let total = docs.len().min(5000);
    if let Some((after, id)) = cursor {
        let pos = docs
            .iter()
            .position(|d| d.get("$id").and_then(Value::as_str) == Some(id.as_str()))
            .ok_or_else(|| {
                AppError::new(
                    ErrorType::GeneralCursorNotFound,
                    format!("Cursor not found: the document {id} is not in this list."),
                )
            })?;
        docs = if after {
            docs.split_off(pos + 1)
        } else {
            docs.truncate(pos);
            docs
        };
    }
    let limit = limit.unwrap_or(schema.default_limit);
    let items = docs
        .into_iter()
        .skip(offset.unwrap_or(0))
        .take(limit)
        .collect();
    Ok(Page { total, items })
}

fn int_value(q: &Query) -> AppResult<i64> {
    let invalid = || bad(&format!("Invalid {}: Value must be an integer", q.method));
    match q.values.first() {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(invalid),
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

fn check_attribute(attr: &str, schema: &Schema) -> AppResult<()> {
    if schema.attributes.contains(&attr) {
        Ok(())
    } else {
        Err(bad(&format!("Attribute not found in schema: {attr}")))
    }
}

fn check_filter(q: &Query, schema: &Schema, depth: usize) -> AppResult<()> {
    let n = q.values.len();
    if n > MAX_VALUES {
        return Err(bad(&format!(
            "Query on attribute \"{}\" has more than {MAX_VALUES} values",
            q.attribute
        )));
    }
    match q.method.as_str() {
        "and" | "or" => {
            if depth > 3 || n < 2 {
                return Err(bad(&format!(
                    "Invalid query: {} needs at least two queries",
                    q.method
                )));
            }
            for v in &q.values {
                let inner = parse(v)?;
                check_filter(&inner, schema, depth + 1)?;
            }
            Ok(())
        }
        "equal" | "notEqual" | "contains" | "search" | "startsWith" | "endsWith" | "lessThan"
        | "lessThanEqual" | "greaterThan" | "greaterThanEqual" | "between" | "isNull"
        | "isNotNull" => {
            check_attribute(&q.attribute, schema)?;
            let ok = match q.method.as_str() {
                "equal" | "contains" | "notEqual" => n >= 1,
                "between" => n == 2,
                "isNull" | "isNotNull" => n == 0,
                _ => n == 1,
            };
            if ok {
                Ok(())
            } else {
                Err(bad(&format!(
                    "Invalid query: wrong number of values for {}",
                    q.method
                )))
            }
        }
        other => Err(bad(&format!("Invalid query method: {other}"))),
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
    }
}

fn is_null(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

fn matches(q: &Query, doc: &Map<String, Value>) -> bool {
    let field = doc.get(&q.attribute);
    let text = field.and_then(Value::as_str).unwrap_or("");
    let eq = |v: &Value| compare(field, Some(v)) == Ordering::Equal;
    match q.method.as_str() {
        "and" => q
            .values
            .iter()
            .all(|v| parse(v).map(|inner| matches(&inner, doc)).unwrap_or(false)),
        "or" => q
            .values
            .iter()
            .any(|v| parse(v).map(|inner| matches(&inner, doc)).unwrap_or(false)),
        "equal" => q.values.iter().any(eq),
        "notEqual" => !q.values.iter().any(eq),
        "lessThan" => q
            .values
            .iter()
            .all(|v| compare(field, Some(v)) == Ordering::Less),
        "lessThanEqual" => q
            .values
            .iter()
            .all(|v| compare(field, Some(v)) != Ordering::Greater),
        "greaterThan" => q
            .values
            .iter()
            .all(|v| compare(field, Some(v)) == Ordering::Greater),
        "greaterThanEqual" => q
            .values
            .iter()
            .all(|v| compare(field, Some(v)) != Ordering::Less),
        "between" => {
            compare(field, q.values.first()) != Ordering::Less
                && compare(field, q.values.get(1)) != Ordering::Greater
        }
        "isNull" => is_null(field),
        "isNotNull" => !is_null(field),
        "startsWith" => q
            .values
            .iter()
            .any(|v| v.as_str().is_some_and(|p| text.starts_with(p))),
        "endsWith" => q
            .values
            .iter()
            .any(|v| v.as_str().is_some_and(|p| text.ends_with(p))),
        "contains" | "search" => q.values.iter().any(|v| {
            v.as_str()
                .is_some_and(|p| text.to_lowercase().contains(&p.to_lowercase()))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn docs() -> Vec<Map<String, Value>> {
        ["github", "oidc", "google"]
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({"$id": format!("id{i}"), "provider": p, "providerEmail": format!("{p}@x.test")})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    const SCHEMA: Schema = Schema {
        attributes: &["provider", "providerEmail", "$id"],
        default_limit: 25,
    };

    fn run(qs: &[Value]) -> AppResult<Vec<String>> {
        let parsed = qs.iter().map(parse).collect::<AppResult<Vec<_>>>()?;
        let page = apply(&parsed, docs(), &SCHEMA)?;
        Ok(page
            .items
            .iter()
            .map(|d| d["$id"].as_str().unwrap_or("").to_string())
            .collect())
    }

    #[test]
    fn both_syntaxes_filter_the_same() {
        let json_form = run(&[json!(
            r#"{"method":"equal","attribute":"provider","values":["oidc"]}"#
        )]);
        let legacy_form = run(&[json!(r#"equal("provider", ["oidc"])"#)]);
        assert_eq!(json_form.ok(), Some(vec!["id1".to_string()]));
        assert_eq!(legacy_form.ok(), Some(vec!["id1".to_string()]));
    }

    #[test]
    fn order_cursor_limit_and_offset() {
        let r = run(&[json!("orderDesc(\"provider\")"), json!("limit(2)")]);
        assert_eq!(r.ok(), Some(vec!["id1".into(), "id2".into()]));
        let r = run(&[json!("cursorAfter(\"id0\")"), json!("offset(1)")]);
        assert_eq!(r.ok(), Some(vec!["id2".into()]));
        let e = run(&[json!("cursorAfter(\"nope\")")]).err();
        assert_eq!(e.map(|e| e.kind), Some(ErrorType::GeneralCursorNotFound));
    }

    #[test]
    fn unknown_methods_and_attributes_are_refused() {
        for q in [
            json!("select([\"provider\"])"),
            json!(r#"{"method":"equal","attribute":"password","values":["x"]}"#),
            json!("{not json"),
            json!(r#"{"method":"between","attribute":"provider","values":["a"]}"#),
        ] {
            let e = run(std::slice::from_ref(&q)).err();
            assert_eq!(
                e.map(|e| e.kind),
                Some(ErrorType::GeneralArgumentInvalid),
                "{q}"
            );
        }
        let e = run(&[json!("equal(\"provider\"")]).err();
        assert_eq!(e.map(|e| e.kind), Some(ErrorType::GeneralQueryInvalid));
    }

    #[test]
    fn nested_or_and_string_matches() {
        let r = run(&[json!(
            r#"{"method":"or","values":[{"method":"startsWith","attribute":"provider","values":["goo"]},{"method":"endsWith","attribute":"providerEmail","values":["hub@x.test"]}]}"#
        )]);
        assert_eq!(r.ok(), Some(vec!["id0".into(), "id2".into()]));
    }
}
