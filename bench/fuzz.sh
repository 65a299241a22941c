#!/usr/bin/env bash
# Fuzz the running API from its own OpenAPI document with schemathesis: every generated
# request, valid or not, must get an answer that is not a 5xx. Expects DATABASE_URL (a fresh,
# migrated database is best; `./dev fuzz` sets one up) and the secrets in the environment.
#   bench/fuzz.sh [seconds]     (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${1:-120}
VENV=.data/fuzzenv
[ -x "$VENV/bin/schemathesis" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q schemathesis; }
cargo build -q --bin groupwork
BIN=target/debug/groupwork
"$BIN" demo >/dev/null
PORT=${FUZZ_PORT:-18181}
GROUPWORK_BIND=127.0.0.1:$PORT RUST_LOG=warn "$BIN" serve > .data/fuzz-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"supervisor@demo.groupwork.test","password":"demo-harbor-lantern-2026"}' |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --url "http://127.0.0.1:$PORT/api/v1" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error \
  --exclude-path /auth/logout --exclude-path /me/password \
  --phases examples,fuzzing,stateful \
  --max-time "$BUDGET" --workers 2 --suppress-health-check all
