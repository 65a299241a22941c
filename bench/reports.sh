#!/usr/bin/env bash
# Benchmark (not a test) of the reports on a large practice: `demo --scale N` (N groups × 12
# seats × 100 held sessions = N × 1,200 attendance rows), then
#   - the full attendance CSV export: wall time, rows/s, the server's CPU time, and its memory
#     (VmRSS before, sampled every 20 ms during, after; VmHWM = the kernel's exact peak, reset
#     just before the export);
#   - the retention report (JSON, each group_by) and the attendance report's first JSON page.
# Uses a scratch database on DATABASE_URL's server (dropped at the end) and the release build.
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
BIN=${CARGO_TARGET_DIR:-target}/release/groupwork
"${PSQL[@]}" -c "CREATE DATABASE $DB"
export DATABASE_URL="$BASE/$DB"
export GROUPWORK_JWT_SECRET=bench-secret-bench-secret-bench-secret-0
export GROUPWORK_NOTES_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
export GROUPWORK_AUDIT_KEY=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=
export GROUPWORK_PSEUDONYM_KEY=QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=
export GROUPWORK_BIND=127.0.0.1:$PORT RUST_LOG=warn
SERVER=
SAMPLER=
TMP=$(mktemp -d)
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" migrate >/dev/null
START=$(date +%s.%N)
"$BIN" demo --scale "$SCALE"
echo "demo --scale $SCALE: $(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s"
echo "bench-harbor-lantern-2026" | "$BIN" create-user --email bench@bench.test --name Bench --role admin >/dev/null
"$BIN" serve >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
API="http://127.0.0.1:$PORT/api/v1"
TOKEN=$(curl -fs -X POST "$API/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bench.test","password":"bench-harbor-lantern-2026"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
get() { curl -fs -o "${2:-/dev/null}" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$API$1"; }
status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER/status"; }
cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$SERVER/stat"; } # utime + stime, 100 ticks/s

get /reports/retention >/dev/null # warm-up: connections, caches
get "/reports/attendance?limit=1" >/dev/null
RSS_BEFORE=$(status VmRSS)
echo 5 > "/proc/$SERVER/clear_refs" 2>/dev/null || true # reset VmHWM to the current RSS
( peak=0; while kill -0 "$SERVER" 2>/dev/null; do r=$(status VmRSS); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" > "$TMP/peak"; sleep 0.02; done ) &
SAMPLER=$!
CPU0=$(cpu_ms)
SECS=$(get "/reports/attendance?format=csv" "$TMP/out.csv")
CPU1=$(cpu_ms)
sleep 0.1
kill "$SAMPLER" 2>/dev/null || true
SAMPLER=
PEAK=$(cat "$TMP/peak")
HWM=$(status VmHWM)
sleep 1
RSS_AFTER=$(status VmRSS)
ROWS=$(($(wc -l < "$TMP/out.csv") - 1))
BYTES=$(wc -c < "$TMP/out.csv")
rm -f "$TMP/out.csv"
RET_GROUP=$(get "/reports/retention?group_by=group")
RET_THER=$(get "/reports/retention?group_by=therapist")
RET_REF=$(get "/reports/retention?group_by=referral_source")
RET_MAN=$(get "/reports/retention?group_by=mandated")
PAGE1=$(get "/reports/attendance")

echo "attendance CSV export: $ROWS rows, $((BYTES / 1048576)) MiB in ${SECS} s = $(awk -v r="$ROWS" -v s="$SECS" 'BEGIN {printf "%.0f", r / s}') rows/s (goal >= 300000); server CPU $((CPU1 - CPU0)) ms"
echo "server memory (KiB): VmRSS before ${RSS_BEFORE}, sampled peak during ${PEAK}, VmHWM (exact peak) ${HWM}, after ${RSS_AFTER}; growth $(((HWM > PEAK ? HWM : PEAK) - RSS_BEFORE)) KiB (goal < 65536)"
echo "retention report: group ${RET_GROUP} s, therapist ${RET_THER} s, referral_source ${RET_REF} s, mandated ${RET_MAN} s (goal < 2 s)"
echo "attendance JSON, first page (50 rows + the summary of every member): ${PAGE1} s"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
