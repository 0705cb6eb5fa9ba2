#!/usr/bin/env bash
# Riding a PostgreSQL failover, end to end (loopback only, bounded, about
# 2-4 minutes): a pg_auto_failover formation from Debian's packages (a
# monitor and two data nodes, run as the postgres user under a temporary
# directory), two usersvc replicas on its multi-host URI behind HAProxy,
# and e2e/failover's load through a switchover and a kill -9 of the
# primary's postmaster. Everything it starts is stopped and removed at the
# end, failed or not.
# Needs root (to run as postgres), Go, haproxy; installs
# postgresql-15-auto-failover when pg_autoctl is missing.
# FAILOVER_PORT (default 5501): the monitor's port; the nodes use the next
# two. FAILOVER_HTTP_PORT (default 18180): HAProxy's; the replicas the next
# two.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pg_autoctl >/dev/null; then
  echo "installing Debian's postgresql-15-auto-failover for the failover test"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-auto-failover >/dev/null
fi
haproxy_bin="${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}"
[ -x "$haproxy_bin" ] || { echo "failover: haproxy not found (apt-get install haproxy)" >&2; exit 1; }
pgbin=/usr/lib/postgresql/15/bin
[ -x "$pgbin/pg_ctl" ] || { echo "failover: $pgbin/pg_ctl not found (PostgreSQL 15)" >&2; exit 1; }
mport="${FAILOVER_PORT:-5501}"
hport="${FAILOVER_HTTP_PORT:-18180}"

work=$(mktemp -d /tmp/usersvc-failover.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/pg"
chown postgres: "$work/pg"
# pg_autoctl as postgres, its configuration and state under $work/pg.
cat >"$work/autoctl" <<WRAP
#!/bin/sh
cd "$work/pg" && exec runuser -u postgres -- env PATH="$pgbin:/usr/bin:/bin" XDG_CONFIG_HOME="$work/pg/config" XDG_DATA_HOME="$work/pg/data" XDG_RUNTIME_DIR="$work/pg/run" pg_autoctl "\$@"
WRAP
chmod 755 "$work/autoctl"

pgroups=()
cleanup() {
  # pg_autoctl run stops its Postgres on SIGTERM; anything left is stopped
  # immediately, then killed.
  for g in "${pgroups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for g in "${pgroups[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for d in monitor node1 node2; do
    [ -f "$work/pg/$d/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/$d" stop -m immediate >/dev/null 2>&1 || true
  done
  for g in "${pgroups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME: pg_autoctl run for $work/pg/NAME in a process group of its own.
start() {
  setsid "$work/autoctl" run --pgdata "$work/pg/$1" >"$work/$1.log" 2>&1 &
  pgroups+=($!)
}
monitor="postgres://autoctl_node@127.0.0.1:$mport/pg_auto_failover?sslmode=disable"
settled() { # settled N: the monitor shows N nodes, one primary and the rest secondary (one alone: single)
  "$work/autoctl" show state --json --monitor "$monitor" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
ok = len(s) == int(sys.argv[1]) and all(n["current_group_state"] == n["assigned_group_state"] for n in s) \
  and sorted(n["current_group_state"] for n in s) == (["single"] if len(s) == 1 else ["primary"] + ["secondary"] * (len(s) - 1))
sys.exit(0 if ok else 1)' "$1"
}
wait_settled() {
  for _ in $(seq 1 120); do settled "$1" && return 0; sleep 0.5; done
  "$work/autoctl" show state --monitor "$monitor" || true
  echo "failover: the formation did not settle with $1 node(s)" >&2
  return 1
}

echo "== pg_auto_failover: monitor on $mport, data nodes on $((mport + 1)) and $((mport + 2))"
"$work/autoctl" create monitor --pgdata "$work/pg/monitor" --pgport "$mport" --hostname 127.0.0.1 --no-ssl --auth trust >"$work/monitor-create.log" 2>&1 \
  || { cat "$work/monitor-create.log"; exit 1; }
start monitor
for _ in $(seq 1 100); do "$work/autoctl" show state --monitor "$monitor" >/dev/null 2>&1 && break; sleep 0.2; done
for i in 1 2; do
  "$work/autoctl" create postgres --pgdata "$work/pg/node$i" --pgport "$((mport + i))" --hostname 127.0.0.1 --name "node$i" \
    --dbname app --monitor "$monitor" --no-ssl --auth trust >"$work/node$i-create.log" 2>&1 \
    || { cat "$work/node$i-create.log"; exit 1; }
  start "node$i"
  wait_settled "$i"
done
"$work/autoctl" show settings --monitor "$monitor" 2>/dev/null | grep -E 'number_sync_standbys|synchronous_standby_names' || true
# pg_autoctl prints sslmode=prefer, which the service refuses (docs/deploy.md),
# and no user (the nodes trust postgres on loopback).
uri=$("$work/autoctl" show uri --formation default --pgdata "$work/pg/monitor" | sed 's/sslmode=prefer/sslmode=disable/; s|^postgres://|postgres://postgres@|')
echo "formation URI: $uri"

go build -o "$work/usersvc" ./cmd/usersvc
go run ./e2e/failover -bin "$work/usersvc" -haproxy "$haproxy_bin" -uri "$uri" -monitor "$monitor" -autoctl "$work/autoctl" \
  -node "$((mport + 1))=$work/pg/node1" -node "$((mport + 2))=$work/pg/node2" -port "$hport" ${FAILOVER_KEEP_LOGS:+-keep-logs "$FAILOVER_KEEP_LOGS"}
