#!/usr/bin/env bash
# Benchmark (not a test) of the read paths as a client sees them (issue 18): the release build
# over the demo practice, an out-of-process load generator (wrk -t2 -c32 -d8s), and beside every
# figure `pgbench -S -c32` TPS from the same run as a ratio, because the machine is shared.
#   - req/s and p99 of GET /groups/{id}/members, /me, /groups/{id}, /clients/{id} (audited),
#     /healthz, as the demo therapist;
#   - GET /me p99 idle, then during a login storm of 8 accounts (8 concurrent clients in a
#     separate process, logging in as fast as they can), and the ratio;
#   - two `groupwork serve` instances over one database behind nginx (round robin): roster
#     req/s against one instance's.
# Uses scratch databases on DATABASE_URL's server (dropped at the end).
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/read_paths.sh
#   or: ./dev bench
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to any database on the PostgreSQL server to use}"
DURATION=${BENCH_SECONDS:-8}
BASE=${DATABASE_URL%/*}
DB=gw_bench_reads_$$
PGB=gw_bench_pgbench_$$
PORT=${BENCH_PORT:-18383}
PORT2=$((PORT + 1))
LB=$((PORT + 2))
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
PSQL=("$PGBIN/psql" "$BASE/postgres" -X -q -v ON_ERROR_STOP=1)

need() { # command, Debian package
  command -v "$1" >/dev/null && return 0
  [ "$(id -u)" = 0 ] || { echo "$1 is missing: install $2" >&2; exit 1; }
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  # a fresh machine may have no package lists yet
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
  rm -f /usr/sbin/policy-rc.d
}
need wrk wrk
need nginx nginx-light

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
export RUST_LOG=warn
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $PGB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

serve() { # port
  GROUPWORK_BIND=127.0.0.1:$1 "$BIN" serve >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "server on $1 did not start" >&2; exit 1
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" migrate >/dev/null
"$BIN" demo >/dev/null
PASSWORD=demo-harbor-lantern-2026
for i in $(seq 1 8); do
  echo "$PASSWORD-storm" | "$BIN" create-user --email "storm$i@bench.test" --name "Storm $i" --role admin >/dev/null
done
"$PGBIN/pgbench" -q -i -s 10 "$BASE/$PGB" >/dev/null 2>&1
serve "$PORT"
API="http://127.0.0.1:$PORT/api/v1"
login() { curl -fs -X POST "$1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$2\",\"password\":\"$3\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'; }
TOKEN=$(login "$API" therapist@demo.groupwork.test "$PASSWORD")
AUTH="Authorization: Bearer $TOKEN"
# the therapist's largest group, and one of its members' clients
GROUP=$(curl -fs -H "$AUTH" "$API/groups" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
print(max(items, key=lambda g: g.get("seats", {}).get("active", 0))["id"])')
CLIENT=$(curl -fs -H "$AUTH" "$API/groups/$GROUP/members" | python3 -c '
import json, sys; print(json.load(sys.stdin)["items"][0]["client_id"])')
MEMBERS=$(curl -fs -H "$AUTH" "$API/groups/$GROUP/members" | python3 -c '
import json, sys; print(len(json.load(sys.stdin)["items"]))')

pgbench_tps() {
  "$PGBIN/pgbench" -S -c32 -j2 -T"$DURATION" -n "$BASE/$PGB" 2>/dev/null |
    awk '/^tps/ {printf "%.0f", $3; exit}'
}
# wrk URL [header]: prints "req/s p99_ms"
run_wrk() {
  wrk -t2 -c32 -d"${DURATION}s" --latency ${2:+-H "$2"} "$1" 2>/dev/null | awk '
    /Requests\/sec/ {rps = $2}
    $1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; p99 = v}
    END {printf "%.0f %.1f\n", rps, p99}'
}

# Where the CPU goes during a run: clock ticks of the server process(es) and of the database
# server (its postmaster and every backend), read from /proc before and after.
PGDATA_DIR=$("${PSQL[@]}" -Atc "SHOW data_directory" 2>/dev/null || true)
POSTMASTER=$(head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true)
ticks() { # pids...: utime + stime of each, summed
  local sum=0 p t
  for p in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    sum=$((sum + t))
  done
  echo "$sum"
}
db_pids() { [ -n "$POSTMASTER" ] && echo "$POSTMASTER" $(pgrep -P "$POSTMASTER"); }
HZ=$(getconf CLK_TCK)

PG=$(pgbench_tps)
echo "pgbench -S -c32 (scale 10): $PG TPS"
printf '\n%-40s %10s %9s %12s %16s\n' "endpoint (32 connections, ${DURATION}s)" "req/s" "p99 ms" "x pgbench -S" "CPU server/db"
row() { # label url [header]
  local s0 d0 s1 d1
  s0=$(ticks "${PIDS[@]}"); d0=$(ticks $(db_pids))
  read -r rps p99 < <(run_wrk "$2" "${3:-}")
  s1=$(ticks "${PIDS[@]}"); d1=$(ticks $(db_pids))
  # percent of one core, over the run (2 cores = 200 %); the load generator takes the rest
  printf '%-40s %10s %9s %12s %16s\n' "$1" "$rps" "$p99" "$(awk -v a="$rps" -v b="$PG" 'BEGIN {printf "%.2f", a / b}')" \
    "$(awk -v s=$((s1 - s0)) -v d=$((d1 - d0)) -v hz="$HZ" -v t="$DURATION" 'BEGIN {printf "%d%% / %d%%", 100 * s / hz / t, 100 * d / hz / t}')"
  echo "$rps" > "$TMP/last_rps"
}
row "GET /groups/{id}/members ($MEMBERS members)" "$API/groups/$GROUP/members" "$AUTH"
ONE=$(cat "$TMP/last_rps")
row "GET /me" "$API/me" "$AUTH"
row "GET /groups/{id}" "$API/groups/$GROUP" "$AUTH"
row "GET /clients/{id} (audited)" "$API/clients/$CLIENT" "$AUTH"
row "GET /healthz" "http://127.0.0.1:$PORT/healthz"
echo "pgbench -S again (after): $(pgbench_tps) TPS"

# The login storm: 8 accounts, 8 concurrent clients in another process.
read -r _ IDLE < <(run_wrk "$API/me" "$AUTH")
cat > "$TMP/storm.sh" <<EOF
#!/usr/bin/env bash
for i in \$(seq 1 8); do
  ( while true; do curl -fs -o /dev/null -X POST "$API/auth/login" -H 'content-type: application/json' \
      -d "{\"email\":\"storm\$i@bench.test\",\"password\":\"$PASSWORD-storm\"}" && echo ok; done ) &
done
wait
EOF
chmod +x "$TMP/storm.sh"
setsid "$TMP/storm.sh" > "$TMP/storm.out" 2>&1 &
STORM=$!
sleep 1
read -r _ STORMY < <(run_wrk "$API/me" "$AUTH")
kill -- -"$STORM" 2>/dev/null || true
LOGINS=$(grep -c ok "$TMP/storm.out" || true)
echo
echo "GET /me p99: idle $IDLE ms; during a login storm of 8 accounts ($LOGINS logins) $STORMY ms: $(awk -v a="$STORMY" -v b="$IDLE" 'BEGIN {printf "%.1f", a / b}')x"

# Two instances behind nginx (round robin) over one database.
serve "$PORT2"
cat > "$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  upstream gw { server 127.0.0.1:$PORT; server 127.0.0.1:$PORT2; keepalive 64; }
  server {
    listen 127.0.0.1:$LB;
    location / { proxy_pass http://gw; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
nginx -c "$TMP/nginx.conf" -p "$TMP"
sleep 0.5
cpu_during() { # url: "req/s p99 server% db% nginx%" (percent of one core over the run)
  local s0 d0 n0 s1 d1 n1 rps p99 ngx
  ngx=$(pgrep -x nginx | tr '\n' ' ')
  s0=$(ticks "${PIDS[@]}"); d0=$(ticks $(db_pids)); n0=$(ticks $ngx)
  read -r rps p99 < <(run_wrk "$1" "$AUTH")
  s1=$(ticks "${PIDS[@]}"); d1=$(ticks $(db_pids)); n1=$(ticks $ngx)
  awk -v r="$rps" -v p="$p99" -v s=$((s1 - s0)) -v d=$((d1 - d0)) -v n=$((n1 - n0)) -v hz="$HZ" -v t="$DURATION" \
    'BEGIN {printf "%s %s %d %d %d\n", r, p, 100 * s / hz / t, 100 * d / hz / t, 100 * n / hz / t}'
}
read -r TWO P99TWO S2 D2 N2 < <(cpu_during "http://127.0.0.1:$LB/api/v1/groups/$GROUP/members")
cat > "$TMP/nginx1.conf" <<EOF
worker_processes 1;
pid $TMP/nginx1.pid;
error_log $TMP/nginx1.err;
events { worker_connections 1024; }
http {
  access_log off;
  upstream gw { server 127.0.0.1:$PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$((LB + 1));
    location / { proxy_pass http://gw; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
nginx -c "$TMP/nginx1.conf" -p "$TMP"
sleep 0.5
read -r ONE_LB P99ONE S1 D1 N1 < <(cpu_during "http://127.0.0.1:$((LB + 1))/api/v1/groups/$GROUP/members")
kill "$(cat "$TMP/nginx1.pid")" 2>/dev/null || true
echo
echo "roster reads through nginx: one instance $ONE_LB req/s (p99 $P99ONE ms), two instances $TWO req/s (p99 $P99TWO ms): $(awk -v a="$TWO" -v b="$ONE_LB" 'BEGIN {printf "%.2f", a / b}')x (direct to one instance: $ONE req/s)"
echo "CPU (% of one core; 2 cores = 200 %): one instance: servers $S1, database $D1, nginx $N1; two instances: servers $S2, database $D2, nginx $N2"
echo "pgbench -S at the end: $(pgbench_tps) TPS"
