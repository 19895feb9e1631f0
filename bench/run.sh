#!/usr/bin/env bash
# Load measurement of `GET /v1/account` with a valid session, and of the OAuth2 start
# (`GET /v1/account/tokens/oauth2/github`: settings decryption, signed state, PKCE, 301),
# against the release-built local server (wrk, 64 connections, 10 s each). The baseline, measured in the same run on the same
# server, is an unknown route (router + outer layers, no store access); the report gives
# requests per second for both and their ratio. A measurement, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bin appwrite-local -q
DATA=$(mktemp -d)
PORT=${PORT:-8290}
RATE_LIMITS=off ./target/release/appwrite-local --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
  --oauth2 'github={"enabled":true,"clientId":"bench","clientSecret":"bench-secret"}' > "$DATA/log" 2>&1 &
PID=$!
trap 'kill $PID; rm -rf "$DATA"' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/account" && break; sleep 0.1; done
P=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['projectId'])" "$DATA/local-project.json")
K=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['apiKey'])" "$DATA/local-project.json")
B="http://127.0.0.1:$PORT/v1"
curl -s -o /dev/null -X POST "$B/account" -H "x-appwrite-project: $P" -H "x-appwrite-key: $K" \
  -H 'content-type: application/json' -d '{"userId":"bench","email":"bench@example.com","password":"password123"}'
S=$(curl -s -X POST "$B/account/sessions/email" -H "x-appwrite-project: $P" -H "x-appwrite-key: $K" \
  -H 'content-type: application/json' -d '{"email":"bench@example.com","password":"password123"}' |
  python3 -c "import json,sys;print(json.load(sys.stdin)['secret'])")
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/account" -H "x-appwrite-project: $P" -H "x-appwrite-session: $S")
[ "$code" = 200 ] || { echo "session check failed: $code"; exit 1; }
rps() { wrk -t2 -c64 -d10s "$@" | awk '/Requests\/sec/ {print $2}'; }
base=$(rps -H "x-appwrite-project: $P" "$B/no-such-route")
acct=$(rps -H "x-appwrite-project: $P" -H "x-appwrite-session: $S" "$B/account")
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/account/tokens/oauth2/github?project=$P")
[ "$code" = 301 ] || { echo "oauth2 start check failed: $code"; exit 1; }
oauth=$(rps "$B/account/tokens/oauth2/github?project=$P")
python3 - "$base" "$acct" "$oauth" <<'PY'
import sys
base, acct, oauth = (float(a) for a in sys.argv[1:4])
print(f"baseline (unknown route, no store): {base:,.0f} req/s")
print(f"GET /v1/account (valid session):    {acct:,.0f} req/s")
print(f"GET /v1/account/tokens/oauth2/...:  {oauth:,.0f} req/s")
print(f"ratio GET /account / baseline:      {acct / base:.2f}")
print(f"ratio OAuth2 start / baseline:      {oauth / base:.2f}")
PY
