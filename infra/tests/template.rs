//! template.yaml against the code: the routes the HTTP API sends to each function are
//! exactly the crates' `ROUTES`, every function is built by cargo-lambda from its own
//! binary, the table matches the store's expectations, and no DynamoDB grant is a wildcard.
//!
//! There is no YAML dependency: the template keeps a plain block style (one key per line,
//! `Path:`/`Method:` on their own lines, list items as `- `), and this file reads just that
//! shape by indentation. A shape it cannot read fails loudly instead of passing quietly.

use std::collections::{BTreeMap, BTreeSet};

const FUNCTIONS: [&str; 5] = ["sessions", "tokens", "mfa", "verification", "profile"];

/// The DynamoDB actions shared/src/store/dynamo.rs performs (TransactWriteItems is
/// authorised through the per-item actions).
const DYNAMO_ACTIONS: [&str; 7] = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
];

/// What the binaries read from the environment (shared/src/runtime.rs, shared/src/http).
const ENV_VARS: [&str; 13] = [
    "STORE",
    "TABLE_NAME",
    "JWT_SECRET",
    "MAIL",
    "SMS",
    "TRUSTED_PROXIES",
    "SERVER_HOSTS",
    "RATE_LIMITS",
    "SIGNIN_PER_IP",
    "PROJECT_CACHE_MS",
    "LOG_LEVEL",
    "PUBLIC_ENDPOINT",
    "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH",
];

/// One meaningful line: its indentation, its text without indentation or trailing comment,
/// and its 1-based number for messages.
#[derive(Debug, Clone)]
struct Line {
    indent: usize,
    text: String,
    no: usize,
}

impl Line {
    /// `- key: value` → (column of `key`, `key: value`); anything else unchanged.
    fn key_part(&self) -> (usize, &str) {
        match self.text.strip_prefix("- ") {
            Some(rest) => {
                let trimmed = rest.trim_start();
                (self.indent + self.text.len() - trimmed.len(), trimmed)
            }
            None => (self.indent, &self.text),
        }
    }

    /// (key, value) when the line (or its list item) is `key: value` / `key:`.
    fn key_value(&self) -> Option<(&str, &str)> {
        let (_, t) = self.key_part();
        if t.starts_with('!') || t.starts_with('[') || t.starts_with('{') {
            return None;
        }
        // The key ends at the first `: ` (or a final `:`), so `ses:ApiVersion: "2"` is one
        // key and `- dynamodb:GetItem` or `arn:aws:...` none.
        let (k, v) = match t.find(": ") {
            Some(p) => (&t[..p], &t[p + 2..]),
            None => (t.strip_suffix(':')?, ""),
        };
        if k.is_empty() || k.contains(' ') && !k.starts_with(['"', '\'']) {
            return None;
        }
        Some((unquote(k), v.trim()))
    }

    fn is_item(&self) -> bool {
        self.text == "-" || self.text.starts_with("- ")
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Removes a ` #` comment outside quoted scalars. A quote opens a scalar only where one
/// can start (line start, after a space, `[`, `,` or `{`), so `Appwrite's` is plain text.
fn strip_comment(s: &str) -> &str {
    let mut open: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match (open, c) {
            (Some(q), c) if c == q => open = None,
            (None, '\'' | '"') if matches!(prev, ' ' | '[' | ',' | '{') => open = Some(c),
            (None, '#') if prev == ' ' => return &s[..i],
            _ => {}
        }
        prev = c;
    }
    s
}

fn read_template() -> Vec<Line> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    assert!(
        !src.contains('\t'),
        "template.yaml must be indented with spaces"
    );
    parse(&src)
}

/// The non-blank, non-comment lines of a YAML text.
fn parse(src: &str) -> Vec<Line> {
    src.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let body = strip_comment(raw).trim_end();
            let text = body.trim_start();
            (!text.is_empty()).then(|| Line {
                indent: body.len() - text.len(),
                text: text.to_string(),
                no: i + 1,
            })
        })
        .collect()
}

/// The value block of the key on `lines[at]`: the lines indented deeper than the key,
/// plus a block list written at the key's own column.
fn block(lines: &[Line], at: usize) -> &[Line] {
    let (col, _) = lines[at].key_part();
    let len = lines[at + 1..]
        .iter()
        .position(|l| l.indent < col || l.indent == col && !l.is_item())
        .unwrap_or(lines.len() - at - 1);
    &lines[at + 1..at + 1 + len]
}

/// The whole mapping of the list item on `lines[at]` (`- key: v` and its sibling keys),
/// item line included.
fn item_body(lines: &[Line], at: usize) -> Vec<Line> {
    let indent = lines[at].indent;
    lines[at..]
        .iter()
        .enumerate()
        .take_while(|(j, l)| *j == 0 || l.indent > indent)
        .map(|(_, l)| l.clone())
        .collect()
}

/// The direct `key:` children of a mapping whose keys sit at `col`, with each child's
/// index into `lines`.
fn children(lines: &[Line], col: usize) -> Vec<(usize, &str, &str)> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.key_part().0 == col)
        .filter_map(|(i, l)| l.key_value().map(|(k, v)| (i, k, v)))
        .collect()
}

/// Looks `key` up among the direct children of the mapping `lines` (its first line sets
/// the column).
fn get<'a>(lines: &'a [Line], key: &str) -> Option<(usize, &'a str)> {
    let col = lines.first()?.key_part().0;
    children(lines, col)
        .into_iter()
        .find(|(_, k, _)| *k == key)
        .map(|(i, _, v)| (i, v))
}

/// The scalar or list value of `key` in the mapping `lines`: an inline scalar, an inline
/// `[a, b]` list, or a block list on the following lines.
fn values(lines: &[Line], key: &str) -> Option<Vec<String>> {
    let (i, v) = get(lines, key)?;
    if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Some(
            inner
                .split(',')
                .map(|s| unquote(s).to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        );
    }
    if !v.is_empty() {
        return Some(vec![unquote(v).to_string()]);
    }
    Some(
        block(lines, i)
            .iter()
            .filter_map(|l| l.text.strip_prefix("- "))
            .map(|s| unquote(s).to_string())
            .collect(),
    )
}

/// The top-level section `name` (e.g. `Resources`) as its nested lines.
fn section<'a>(lines: &'a [Line], name: &str) -> &'a [Line] {
    let at = lines
        .iter()
        .position(|l| l.indent == 0 && l.key_value().is_some_and(|(k, _)| k == name))
        .unwrap_or_else(|| panic!("template.yaml has no top-level `{name}:`"));
    block(lines, at)
}

/// Logical id → (type, the resource's nested lines).
fn resources(lines: &[Line]) -> BTreeMap<String, (String, &[Line])> {
    let res = section(lines, "Resources");
    let col = res.first().expect("Resources is empty").indent;
    children(res, col)
        .into_iter()
        .map(|(i, id, _)| {
            let body = block(res, i);
            let ty = get(body, "Type")
                .map(|(_, t)| unquote(t).to_string())
                .unwrap_or_else(|| panic!("resource {id} (line {}) has no Type", res[i].no));
            (id.to_string(), (ty, body))
        })
        .collect()
}

/// The nested lines of the mapping at `path` (e.g. `["Metadata", "BuildProperties"]`).
fn dig<'a>(mut lines: &'a [Line], path: &[&str]) -> Option<&'a [Line]> {
    for key in path {
        let (i, _) = get(lines, key)?;
        lines = block(lines, i);
    }
    Some(lines)
}

fn scalar(lines: &[Line], path: &[&str], key: &str) -> Option<String> {
    let m = dig(lines, path)?;
    get(m, key).map(|(_, v)| unquote(v).to_string())
}

struct Function<'a> {
    id: String,
    binary: String,
    body: &'a [Line],
}

fn functions(lines: &[Line]) -> Vec<Function<'_>> {
    resources(lines)
        .into_iter()
        .filter(|(_, (ty, _))| ty == "AWS::Serverless::Function")
        .map(|(id, (_, body))| {
            let binary = scalar(body, &["Metadata", "BuildProperties"], "Binary")
                .unwrap_or_else(|| panic!("function {id} has no Metadata.BuildProperties.Binary"));
            Function { id, binary, body }
        })
        .collect()
}

type Route = (String, String, String);

/// (function, METHOD, path) per HttpApi event, checking the event ids on the way.
fn template_routes(lines: &[Line]) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for f in functions(lines) {
        let Some(events) = dig(f.body, &["Properties", "Events"]) else {
            continue;
        };
        let Some(first) = events.first() else {
            continue;
        };
        for (i, id, _) in children(events, first.indent) {
            assert!(
                !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "event id `{id}` of {} (line {}) is not alphanumeric",
                f.id,
                events[i].no
            );
            assert!(
                ids.insert(format!("{}{id}", f.id)),
                "event id `{id}` of {} is repeated",
                f.id
            );
            let ev = block(events, i);
            let ty = get(ev, "Type").map(|(_, t)| unquote(t));
            assert_eq!(
                ty,
                Some("HttpApi"),
                "event {id} of {} is not an HttpApi event",
                f.id
            );
            let props = dig(ev, &["Properties"])
                .unwrap_or_else(|| panic!("event {id} of {} has no Properties", f.id));
            let method = get(props, "Method")
                .map(|(_, m)| unquote(m).to_ascii_uppercase())
                .unwrap_or_else(|| panic!("event {id} of {} has no `Method:` line", f.id));
            let path = get(props, "Path")
                .map(|(_, p)| unquote(p).to_string())
                .unwrap_or_else(|| panic!("event {id} of {} has no `Path:` line", f.id));
            assert_eq!(
                get(props, "ApiId").map(|(_, a)| a),
                Some("!Ref Api"),
                "event {id} of {} must attach to the one HttpApi",
                f.id
            );
            let route = (f.binary.clone(), method, path);
            assert!(
                routes.insert(route.clone()),
                "route {route:?} appears twice in template.yaml"
            );
        }
    }
    routes
}

#[test]
fn template_routes_equal_the_crates_routes() {
    let lines = read_template();
    let in_template = template_routes(&lines);
    let (cf, cm, cp) = infra::CATCH_ALL;
    let in_code: BTreeSet<Route> = infra::all_routes()
        .into_iter()
        .chain(std::iter::once((cf, cm, cp)))
        .map(|(f, m, p)| (f.to_string(), m.to_ascii_uppercase(), p.to_string()))
        .collect();
    let missing: Vec<_> = in_code.difference(&in_template).collect();
    let extra: Vec<_> = in_template.difference(&in_code).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "template.yaml routes differ from infra::all_routes()\n  \
         in the code but not the template: {missing:#?}\n  \
         in the template but not the code: {extra:#?}"
    );
    // Sanity: the parser did see events (sessions and profile have routes today).
    assert!(!in_template.is_empty() || in_code.is_empty());
}

#[test]
fn each_function_is_built_by_cargo_lambda_from_its_binary() {
    let lines = read_template();
    let fns = functions(&lines);
    let binaries: BTreeSet<&str> = fns.iter().map(|f| f.binary.as_str()).collect();
    assert_eq!(
        binaries,
        FUNCTIONS.into_iter().collect::<BTreeSet<_>>(),
        "template functions (by Binary) differ from the five crates"
    );
    assert_eq!(
        fns.len(),
        FUNCTIONS.len(),
        "a Binary is used by two functions"
    );
    for f in &fns {
        assert_eq!(
            scalar(f.body, &["Metadata"], "BuildMethod").as_deref(),
            Some("rust-cargolambda"),
            "{}: BuildMethod",
            f.id
        );
        assert_eq!(
            scalar(f.body, &["Properties"], "CodeUri").as_deref(),
            Some("./"),
            "{}: CodeUri must be the workspace root",
            f.id
        );
    }
}

#[test]
fn globals_configure_the_runtime() {
    let lines = read_template();
    let g = dig(section(&lines, "Globals"), &["Function"]).expect("Globals.Function");
    for (key, want) in [("Runtime", "provided.al2023"), ("Handler", "bootstrap")] {
        assert_eq!(
            get(g, key).map(|(_, v)| unquote(v)),
            Some(want),
            "Globals {key}"
        );
    }
    assert_eq!(values(g, "Architectures"), Some(vec!["arm64".to_string()]));
    let vars = dig(g, &["Environment", "Variables"]).expect("Globals environment variables");
    for var in ENV_VARS {
        assert!(get(vars, var).is_some(), "Globals sets no {var}");
    }
    assert_eq!(
        get(vars, "STORE").map(|(_, v)| unquote(v)),
        Some("dynamodb")
    );
    assert_eq!(get(vars, "TABLE_NAME").map(|(_, v)| v), Some("!Ref Table"));
}

#[test]
fn table_matches_the_store() {
    let lines = read_template();
    let all = resources(&lines);
    let tables: Vec<_> = all
        .iter()
        .filter(|(_, (ty, _))| ty == "AWS::DynamoDB::Table")
        .collect();
    assert_eq!(tables.len(), 1, "expected exactly one DynamoDB table");
    let (id, (_, body)) = tables[0];
    assert_eq!(
        id, "Table",
        "functions and outputs refer to the table as `Table`"
    );
    assert_eq!(get(body, "DeletionPolicy").map(|(_, v)| v), Some("Retain"));
    let p = dig(body, &["Properties"]).expect("table Properties");
    assert_eq!(
        get(p, "BillingMode").map(|(_, v)| v),
        Some("PAY_PER_REQUEST")
    );
    assert_eq!(
        scalar(p, &["TimeToLiveSpecification"], "AttributeName").as_deref(),
        Some("expires_at")
    );
    assert_eq!(
        scalar(p, &["TimeToLiveSpecification"], "Enabled").as_deref(),
        Some("true")
    );
    assert_eq!(
        scalar(
            p,
            &["PointInTimeRecoverySpecification"],
            "PointInTimeRecoveryEnabled"
        )
        .as_deref(),
        Some("true")
    );
    assert_eq!(
        scalar(p, &["SSESpecification"], "SSEEnabled").as_deref(),
        Some("true")
    );
    // KeySchema: pk HASH, sk RANGE, both strings.
    let pairs = |key: &str, field: &str| -> Vec<(String, String)> {
        let (i, _) = get(p, key).unwrap_or_else(|| panic!("table has no {key}"));
        let list = block(p, i);
        list.iter()
            .enumerate()
            .filter(|(_, l)| l.is_item())
            .map(|(j, _)| {
                let item = item_body(list, j);
                let name = get(&item, "AttributeName").map(|(_, v)| unquote(v).to_string());
                let other = get(&item, field).map(|(_, v)| unquote(v).to_string());
                (name.unwrap_or_default(), other.unwrap_or_default())
            })
            .collect()
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        pairs("KeySchema", "KeyType"),
        vec![s("pk", "HASH"), s("sk", "RANGE")]
    );
    assert_eq!(
        pairs("AttributeDefinitions", "AttributeType"),
        vec![s("pk", "S"), s("sk", "S")]
    );
}

/// Every IAM statement: a list item whose mapping has an `Effect:` key.
struct Statement {
    line: usize,
    actions: Vec<String>,
    resources: Option<Vec<String>>,
    not_resource: bool,
}

fn statements(lines: &[Line]) -> Vec<Statement> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !l.is_item() || l.key_value().is_none() {
            continue;
        }
        let item = item_body(lines, i);
        if get(&item, "Effect").is_none() {
            continue;
        }
        out.push(Statement {
            line: l.no,
            actions: values(&item, "Action").unwrap_or_default(),
            resources: values(&item, "Resource"),
            not_resource: get(&item, "NotResource").is_some(),
        });
    }
    out
}

#[test]
fn dynamodb_grants_are_scoped_to_the_table() {
    let lines = read_template();
    let all = statements(&lines);
    assert!(!all.is_empty(), "found no IAM statements to check");
    let allowed: BTreeSet<&str> = DYNAMO_ACTIONS.into_iter().collect();
    for s in &all {
        assert!(
            !s.actions.is_empty(),
            "statement at line {} has no readable Action",
            s.line
        );
        assert!(
            !s.actions.iter().any(|a| a == "*"),
            "statement at line {} allows every action",
            s.line
        );
        let dynamo: Vec<&String> = s
            .actions
            .iter()
            .filter(|a| a.to_ascii_lowercase().starts_with("dynamodb:"))
            .collect();
        if dynamo.is_empty() {
            continue;
        }
        for a in &dynamo {
            assert!(
                allowed.contains(a.as_str()),
                "statement at line {} grants {a}, which the store does not use",
                s.line
            );
        }
        assert!(
            !s.not_resource,
            "DynamoDB statement at line {} uses NotResource",
            s.line
        );
        let res = s
            .resources
            .as_ref()
            .unwrap_or_else(|| panic!("DynamoDB statement at line {} has no Resource", s.line));
        assert!(
            !res.is_empty(),
            "DynamoDB statement at line {} has an empty Resource",
            s.line
        );
        for r in res {
            assert!(
                !r.contains('*'),
                "DynamoDB statement at line {} uses the wildcard resource `{r}`",
                s.line
            );
            assert_eq!(
                r, "!GetAtt Table.Arn",
                "DynamoDB statement at line {} must name the table's ARN",
                s.line
            );
        }
    }
    // Every function can reach the table (each one opens it at start).
    for f in functions(&lines) {
        let own = statements(f.body);
        assert!(
            own.iter()
                .any(|s| s.actions.iter().any(|a| a.starts_with("dynamodb:"))),
            "{} has no DynamoDB statement",
            f.id
        );
    }
}

#[test]
fn parser_reads_the_shapes_it_relies_on() {
    let src = "\
Resources:
  A:
    Type: X # comment
    Properties:
      Policies:
        - Statement:
            - Sid: One
              Effect: Allow
              Action: [dynamodb:GetItem, 'dynamodb:Query']
              Resource: '*'
              Condition:
                StringEquals:
                  ses:ApiVersion: \"2\"
            - Effect: Deny
              Action:
                - s3:GetObject
              NotResource: !Sub arn:${AWS::Partition}:s3:::b/*
  B:
    Type: \"Y\"
";
    let lines = parse(src);
    let res = resources(&lines);
    assert_eq!(res.keys().collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(res["A"].0, "X");
    assert_eq!(res["B"].0, "Y");
    let st = statements(&lines);
    assert_eq!(st.len(), 2);
    assert_eq!(st[0].actions, ["dynamodb:GetItem", "dynamodb:Query"]);
    assert_eq!(st[0].resources.as_deref(), Some(&["*".to_string()][..]));
    let cond = Line {
        indent: 0,
        text: "ses:ApiVersion: \"2\"".to_string(),
        no: 0,
    };
    assert_eq!(cond.key_value(), Some(("ses:ApiVersion", "\"2\"")));
    assert_eq!(st[1].actions, ["s3:GetObject"]);
    assert!(st[1].not_resource && st[1].resources.is_none());
}
