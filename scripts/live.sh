#!/usr/bin/env bash
# Live updates and replicas, end to end, on PostgreSQL (loopback only,
# bounded): the npm graphql-ws client against two usersvc processes on one
# database (e2e/live/live.mjs), then the rolling-restart test: three
# replicas behind HAProxy restarted in turn under load (e2e/cluster).
# Then two replicas through pgbouncer in transaction mode under load.
# Needs PostgreSQL (USERSVC_TEST_POSTGRES_URL or 127.0.0.1:5432), Node,
# haproxy and pgbouncer (Debian packages haproxy, pgbouncer).
set -euo pipefail
cd "$(dirname "$0")/.."
pg="${USERSVC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
haproxy_bin="${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}"
[ -x "$haproxy_bin" ] || { echo "live: haproxy not found (apt-get install haproxy)" >&2; exit 1; }
pgbouncer_bin="${PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}"
[ -x "$pgbouncer_bin" ] || { echo "live: pgbouncer not found (apt-get install pgbouncer)" >&2; exit 1; }

work=$(mktemp -d)
db="usersvc_live_$RANDOM$RANDOM"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  psql "$pg" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/usersvc" ./cmd/usersvc
psql "$pg" -qAtc "CREATE DATABASE $db" >/dev/null
dburl=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$pg" "$db")
export USERSVC_DATABASE_URL="$dburl"
"$work/usersvc" migrate
admin=$("$work/usersvc" user create --name Admin --email admin@live.test --country ES --time-zone UTC --role admin)
token=$("$work/usersvc" token create --user "$admin" --label live --ttl 0)

base=$((20000 + RANDOM % 12000)) # below the kernel's ephemeral range (32768-): no outgoing connection holds it
for i in 1 2; do
  USERSVC_ADDR="127.0.0.1:$((base + i))" "$work/usersvc" serve >"$work/p$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2; do
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$((base + i))/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://127.0.0.1:$((base + i))/readyz" >/dev/null || { cat "$work/p$i.log"; echo "live: process $i not ready" >&2; exit 1; }
done

echo "== graphql-ws client: a change through process 1 reaches a subscriber on process 2"
(cd e2e/live && npm ci --no-audit --no-fund --loglevel=error && node live.mjs "http://127.0.0.1:$((base + 1))" "http://127.0.0.1:$((base + 2))" "$token")

for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p"; done
pids=()
echo "live: both processes stopped cleanly"

echo "== rolling restart of three replicas behind HAProxy (no retries), under load"
go run ./e2e/cluster -mode test -bin "$work/usersvc" -haproxy "$haproxy_bin" -postgres "$pg"

echo "== two replicas through pgbouncer in transaction mode, under load"
go run ./e2e/cluster -mode pooler -bin "$work/usersvc" -haproxy "$haproxy_bin" -pgbouncer "$pgbouncer_bin" -postgres "$pg"
