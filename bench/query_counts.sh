#!/usr/bin/env bash
# Statements per request on the hot read paths (issue 18), counted by pg_stat_statements: the
# demo practice, the demo therapist, N sequential requests per endpoint, and every statement
# the server ran meanwhile (background tasks included; they show as fractions).
#   DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres GROUPWORK_BIN=target/debug/groupwork \
#     bench/query_counts.sh
# The server must load the extension (shared_preload_libraries = pg_stat_statements).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to any database on a server that loads pg_stat_statements}"
N=${N:-50}
BASE=${DATABASE_URL%/*}
DB=gw_counts_$$
PORT=${BENCH_PORT:-18393}
BIN=${GROUPWORK_BIN:-${CARGO_TARGET_DIR:-target}/debug/groupwork}
PSQL=(psql "$BASE/postgres" -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CREATE DATABASE $DB"
export DATABASE_URL="$BASE/$DB"
export GROUPWORK_JWT_SECRET=bench-secret-bench-secret-bench-secret-0
export GROUPWORK_NOTES_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
export GROUPWORK_AUDIT_KEY=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=
export GROUPWORK_PSEUDONYM_KEY=QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=
export RUST_LOG=warn
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql "$DATABASE_URL" -X -q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
"$BIN" migrate >/dev/null
"$BIN" demo >/dev/null
GROUPWORK_BIND=127.0.0.1:$PORT "$BIN" serve >/dev/null 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
API="http://127.0.0.1:$PORT/api/v1"
TOKEN=$(curl -fs -X POST "$API/auth/login" -H 'content-type: application/json' \
  -d '{"email":"therapist@demo.groupwork.test","password":"demo-harbor-lantern-2026"}' |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')
AUTH="Authorization: Bearer $TOKEN"
GROUP=$(curl -fs -H "$AUTH" "$API/groups" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
print(max(items, key=lambda g: g.get("seats", {}).get("active", 0))["id"])')
CLIENT=$(curl -fs -H "$AUTH" "$API/groups/$GROUP/members" | python3 -c '
import json, sys; print(json.load(sys.stdin)["items"][0]["client_id"])')
count() { # label path
  for _ in 1 2 3; do curl -fs -o /dev/null -H "$AUTH" "$API$2"; done  # warm the connections
  psql "$DATABASE_URL" -X -q -tA -c "SELECT pg_stat_statements_reset()" >/dev/null
  for _ in $(seq "$N"); do curl -fs -o /dev/null -H "$AUTH" "$API$2"; done
  echo "== $1: statements per request (N=$N)"
  psql "$DATABASE_URL" -X -q -tA -F ' | ' -c "
    SELECT round(sum(calls)::numeric / $N, 2) FROM pg_stat_statements s
      JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()
        AND query NOT LIKE '%pg_stat_statements%'" | sed 's/^/total: /'
  psql "$DATABASE_URL" -X -q -tA -F ' | ' -c "
    SELECT round(calls::numeric / $N, 2), left(regexp_replace(query, '\s+', ' ', 'g'), 110)
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%'
     ORDER BY calls DESC, query"
}
count "GET /groups/{id}/members" "/groups/$GROUP/members"
count "GET /groups/{id}" "/groups/$GROUP"
count "GET /clients/{id}" "/clients/$CLIENT"
count "GET /me" "/me"
