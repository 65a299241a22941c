#!/usr/bin/env bash
# Benchmark (not a test) of the staff's day (SPEC §7) against the database's own ceiling:
#   - a scratch database with the demo practice plus `demo --scale 10` (10 active groups of 12
#     seats with 100 held sessions each), the 10 scaled groups led by one bench therapist;
#   - the release build serving it (its schedule keeper generates the weeks ahead at start);
#   - `wrk -t2 -c32 -d8s` on, as that therapist,
#       GET /sessions?mine=true&from=…&to=…   (a week of held sessions: 10 groups × 12 attendances)
#       GET /me/dashboard                     (counts over 1,000 sessions and 120 seats)
#   - `pgbench -S -c32 -j2 -T8` (scale 10) on the same PostgreSQL server in the same run;
# and prints req/s and p99 of each beside pgbench's TPS, as ratios.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/staff_day.sh
#   or: ./dev bench
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to any database on the PostgreSQL server to use}"
BASE=${DATABASE_URL%/*}
DB=gw_bench_day_$$
PGB=gw_bench_pgbench_$$
PORT=${BENCH_PORT:-18283}
DURATION=${BENCH_SECONDS:-8}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
PSQLBIN=psql
command -v psql >/dev/null || PSQLBIN=$PGBIN/psql
PSQL=("$PSQLBIN" "$BASE/postgres" -X -q -v ON_ERROR_STOP=1)
PGBENCH=pgbench
command -v pgbench >/dev/null || PGBENCH=$PGBIN/pgbench

if ! command -v wrk >/dev/null; then
  echo "==> wrk is not installed: installing Debian's wrk" >&2
  [ "$(id -u)" = 0 ] || { echo "run as root, or install wrk" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

# GROUPWORK_BIN: an already built binary to measure (e.g. one kept from before a change)
if [ -n "${GROUPWORK_BIN:-}" ]; then
  BIN=$GROUPWORK_BIN
else
  cargo build -q --release --bin groupwork
  BIN=${CARGO_TARGET_DIR:-target}/release/groupwork
fi
"${PSQL[@]}" -c "CREATE DATABASE $DB" -c "CREATE DATABASE $PGB"
export DATABASE_URL="$BASE/$DB"
export GROUPWORK_JWT_SECRET=bench-secret-bench-secret-bench-secret-0
export GROUPWORK_NOTES_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
export GROUPWORK_AUDIT_KEY=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=
export GROUPWORK_PSEUDONYM_KEY=QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=
export GROUPWORK_BIND=127.0.0.1:$PORT RUST_LOG=warn
SERVER=
TMP=$(mktemp -d)
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $PGB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" migrate >/dev/null
"$BIN" demo >/dev/null
"$BIN" demo --scale 10 >/dev/null
echo "bench-harbor-lantern-2026" | "$BIN" create-user --email day@bench.test --name "Bench Therapist" --role therapist >/dev/null
# The ten scaled groups are led by the bench therapist.
"$PSQLBIN" "$BASE/$DB" -X -q -v ON_ERROR_STOP=1 -c "UPDATE groups SET lead_therapist_id = (SELECT id FROM users WHERE email = 'day@bench.test') WHERE name LIKE 'Scale group %'" >/dev/null
"$BIN" serve >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
API="http://127.0.0.1:$PORT/api/v1"
TOKEN=$(curl -fs -X POST "$API/auth/login" -H 'content-type: application/json' \
  -d '{"email":"day@bench.test","password":"bench-harbor-lantern-2026"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
# A week of held sessions: every scaled group met once between 20 and 14 days ago.
FROM=$(date -u -d '20 days ago' +%F)
TO=$(date -u -d '14 days ago' +%F)
SESSIONS="/sessions?mine=true&from=$FROM&to=$TO"
n=$(curl -fs -H "Authorization: Bearer $TOKEN" "$API$SESSIONS" | grep -o '"documentation"' | wc -l)
echo "GET $SESSIONS lists $n sessions (each with its documentation state)"
echo "GET /me/dashboard: $(curl -fs -H "Authorization: Bearer $TOKEN" "$API/me/dashboard")"

# wrk's Requests/sec and 99th percentile (in ms).
load() {
  wrk -t2 -c32 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$API$1" > "$TMP/wrk"
  grep -q 'Non-2xx' "$TMP/wrk" && { echo "non-2xx answers during the run of $1:" >&2; cat "$TMP/wrk" >&2; exit 1; }
  RPS=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk")
  P99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; printf "%.1f", v}' "$TMP/wrk")
}
load "$SESSIONS"; S_RPS=$RPS; S_P99=$P99
load "/me/dashboard"; D_RPS=$RPS; D_P99=$P99
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=

"$PGBENCH" -i -q -s 10 "$BASE/$PGB" >/dev/null 2>&1
TPS=$("$PGBENCH" -S -c32 -j2 -T"$DURATION" -n "$BASE/$PGB" 2>/dev/null | awk -F'= ' '/^tps/ {split($2, a, " "); print a[1]; exit}')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
printf '%-52s %10s %9s %8s\n' "wrk -t2 -c32 -d${DURATION}s, as a therapist leading 10 groups" "req/s" "p99 ms" "÷ TPS"
printf '%-52s %10.0f %9s %8s\n' "GET /sessions?mine=true&from=$FROM&to=$TO" "$S_RPS" "$S_P99" "$(ratio "$S_RPS" "$TPS")"
printf '%-52s %10.0f %9s %8s\n' "GET /me/dashboard" "$D_RPS" "$D_P99" "$(ratio "$D_RPS" "$TPS")"
printf '%-52s %10.0f\n' "pgbench -S -c32 -j2 -T$DURATION (scale 10), same server" "$TPS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
