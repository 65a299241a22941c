#!/usr/bin/env bash
# Benchmark (not a test) of the reports on a large practice: `demo --scale N` (N groups × 12
# members × 100 held sessions = N × 1,200 attendance rows), then the full attendance CSV export
# (rows/s, and the server's resident memory sampled every 20 ms during it) and the retention
# report's time. Uses a scratch database on DATABASE_URL's server and the release build.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/reports.sh [N]   (default 1000)
#   or: ./dev bench
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1000}
: "${DATABASE_URL:?set DATABASE_URL to any database on the PostgreSQL server to use}"
BASE=${DATABASE_URL%/*}
DB=gw_bench_reports_$$
PORT=${BENCH_PORT:-18282}
PSQL=(psql "$BASE/postgres" -X -q -v ON_ERROR_STOP=1)
command -v psql >/dev/null || PSQL=("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/psql" "$BASE/postgres" -X -q -v ON_ERROR_STOP=1)

cargo build -q --release --bin groupwork
BIN=target/release/groupwork
"${PSQL[@]}" -c "CREATE DATABASE $DB"
export DATABASE_URL="$BASE/$DB"
export GROUPWORK_JWT_SECRET=bench-secret-bench-secret-bench-secret-0
export GROUPWORK_NOTES_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
export GROUPWORK_BIND=127.0.0.1:$PORT RUST_LOG=warn
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$BIN" migrate >/dev/null
"$BIN" demo --scale "$SCALE"
echo "bench-harbor-lantern-2026" | "$BIN" create-user --email bench@bench.test --name Bench --role admin >/dev/null
"$BIN" serve >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
API="http://127.0.0.1:$PORT/api/v1"
TOKEN=$(curl -fs -X POST "$API/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bench.test","password":"bench-harbor-lantern-2026"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" "$API/reports/retention" # warm-up
BEFORE=$(rss)
PEAKFILE=$(mktemp)
( peak=0; while kill -0 "$SERVER" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" > "$PEAKFILE"; sleep 0.02; done ) &
SAMPLER=$!
OUT=$(mktemp)
SECS=$(curl -fs -o "$OUT" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$API/reports/attendance?format=csv")
sleep 0.1
kill "$SAMPLER" 2>/dev/null || true
PEAK=$(cat "$PEAKFILE")
ROWS=$(($(wc -l < "$OUT") - 1))
BYTES=$(wc -c < "$OUT")
RET1=$(curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$API/reports/retention?group_by=group")
RET2=$(curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$API/reports/retention?group_by=therapist")
rm -f "$OUT" "$PEAKFILE"

echo "attendance CSV export: $ROWS rows, $((BYTES / 1048576)) MiB in ${SECS} s = $(awk -v r="$ROWS" -v s="$SECS" 'BEGIN {printf "%.0f", r / s}') rows/s (goal >= 300000)"
echo "server RSS: before ${BEFORE} KiB, peak during export ${PEAK} KiB, growth $(((PEAK - BEFORE) / 1024)) MiB (goal < 64 MiB)"
echo "retention report: group_by=group ${RET1} s, group_by=therapist ${RET2} s (goal < 2 s)"
