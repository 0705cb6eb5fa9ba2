#!/usr/bin/env bash
# SCIM conformance: Microsoft's reference collection (../shared/conformance/scim/run.sh,
# newman) against a fresh server on SQLite and on PostgreSQL, each on a loopback port with
# an admin created through the command line. On SQLite the collection uses the admin's
# token; on PostgreSQL a provisioning key (usersvc token create --scope scim), which must
# also be refused by REST. Fails on any failed assertion. Needs Node/npm (run.sh installs
# newman once) and PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
run="${SCIM_RUN:-$root/../shared/conformance/scim/run.sh}"
[ -x "$run" ] || { echo "scim: $run not found (shared/ must sit beside the checkout)" >&2; exit 1; }
pg="${SCIM_PG_URL:-postgres://postgres@127.0.0.1:5432}"

work=$(mktemp -d)
pid=""
dbname=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$dbname" ]; then psql "$pg/postgres?sslmode=disable" -qAtc "DROP DATABASE IF EXISTS $dbname" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/usersvc" ./cmd/usersvc

# conform URL SCOPE: migrate, create an admin and a token (of SCOPE: "" or scim), serve,
# run the collection, stop.
conform() {
  local url=$1 scope=$2 port id token
  port=$((20000 + RANDOM % 12000)) # below the ephemeral range: no outgoing connection holds it
  export USERSVC_DATABASE_URL=$url USERSVC_ADDR="127.0.0.1:$port"
  "$work/usersvc" migrate >/dev/null
  id=$("$work/usersvc" user create --name "SCIM Admin" --email scim-admin@example.com --country ES --time-zone UTC --role admin)
  token=$("$work/usersvc" token create --user "$id" --label "scim conformance" ${scope:+--scope "$scope"})
  "$work/usersvc" serve >"$work/stdout" 2>"$work/stderr" &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/stderr"; echo "scim: the server did not become ready" >&2; exit 1; }
  if [ -n "$scope" ]; then
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/users/$id" -H "Authorization: Bearer $token")
    [ "$status" = 403 ] || { echo "scim: REST answered $status to a provisioning key (want 403)" >&2; exit 1; }
  fi
  "$run" "http://127.0.0.1:$port/scim/v2" "$token"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

echo "== SCIM reference collection on SQLite (an admin's token)"
mkdir -p "$work/db"
conform "$work/db/usersvc.db" ""

echo "== SCIM reference collection on PostgreSQL (a provisioning key)"
dbname="scim_conformance_$$_$RANDOM"
psql "$pg/postgres?sslmode=disable" -qAtc "CREATE DATABASE $dbname" >/dev/null
conform "$pg/$dbname?sslmode=disable" scim
echo "SCIM conformance passed on SQLite and PostgreSQL"
