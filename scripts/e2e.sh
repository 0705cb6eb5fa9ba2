#!/usr/bin/env bash
# End-to-end checks against a real server process: the OpenAPI lint, the
# GraphQL schema lint, the committed GraphiQL assets rebuilt byte for byte,
# GraphQL Code Generator and openapi-typescript types compiled with
# tsc --strict into typed clients that run against the server, the
# GraphQL-over-HTTP audit (../shared/conformance/graphql-http-audit.mjs), the
# served schema against schema.graphql, a real GraphQL client
# (e2e/client.mjs, graphql-request), and the offline GraphiQL playground in
# headless Chromium (e2e/browser.mjs, playwright-core; screenshot in
# e2e/out/), and the shell examples of README.md and docs/api.md run as
# written against a fresh server (e2e/docs). Needs Node 18+, npm and /usr/bin/chromium (Debian package
# chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
audit="${AUDIT_JS:-$root/../shared/conformance/graphql-http-audit.mjs}"
[ -f "$audit" ] || { echo "e2e: $audit not found (shared/ must sit beside the checkout)" >&2; exit 1; }

(cd e2e && npm ci --no-audit --no-fund --loglevel=error)

echo "== OpenAPI lint (redocly): no errors, no warnings"
lint=$(cd e2e && npx --no-install redocly lint ../api/openapi.json --format=stylish 2>&1) || { echo "$lint"; exit 1; }
echo "$lint" | grep -v -i deprecat | grep -E "valid|warning|error" || true
if echo "$lint" | grep -v -i "deprecation\|node.js" | grep -q -E "^ +[0-9]+:[0-9]+ +(warning|error)"; then
  echo "e2e: the OpenAPI lint has findings" >&2; exit 1
fi

echo "== GraphQL schema lint (graphql-schema-linter, rules in e2e/package.json): no findings"
(cd e2e && npx --no-install graphql-schema-linter ../schema.graphql)

echo "== GraphQL Code Generator over schema.graphql and e2e/operations"
rm -rf e2e/out/js e2e/out/*.ts
(cd e2e && npx --no-install graphql-codegen --config codegen.yml --silent)

echo "== the committed GraphiQL assets are what \`make playground\` builds"
make playground
if ! git diff --exit-code --stat -- playground/dist || [ -n "$(git status --porcelain -- playground/dist)" ]; then
  git status --porcelain -- playground/dist
  echo "e2e: make playground changed playground/dist: commit the rebuilt assets" >&2; exit 1
fi

work=$(mktemp -d)
port=$((20000 + RANDOM % 12000)) # below the kernel's ephemeral range (32768-): no outgoing connection holds it
go build -o "$work/usersvc" ./cmd/usersvc
mkdir -p "$work/db"
USERSVC_DATABASE_URL="$work/db/usersvc.db" USERSVC_ADDR="127.0.0.1:$port" \
  "$work/usersvc" serve >"$work/stdout" 2>"$work/stderr" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/stderr"; echo "e2e: server did not become ready" >&2; exit 1; }
token=$(tail -n 1 "$work/stdout")
case "$token" in usv_*) ;; *) echo "e2e: no bootstrap token printed" >&2; cat "$work/stdout"; exit 1 ;; esac

echo "== typed clients compiled with tsc --strict: GraphQL (generated above) and REST (openapi-typescript from the served /api/openapi.json, openapi-fetch)"
(cd e2e && npx --no-install openapi-typescript "http://127.0.0.1:$port/api/openapi.json" -o out/api.d.ts \
  && npx --no-install tsc -p tsconfig.json --strict)

echo "== GraphQL-over-HTTP audit"
(cd e2e && node "$audit" "http://127.0.0.1:$port/graphql" -H "Authorization: Bearer $token")
echo "== the served schema is schema.graphql (introspection printed by graphql-js)"
(cd e2e && node schema-diff.mjs "http://127.0.0.1:$port/graphql" "$token" ../schema.graphql)
echo "== GraphQL client (graphql-request)"
(cd e2e && node client.mjs "http://127.0.0.1:$port/graphql" "$token")
echo "== typed GraphQL client (generated types, tsc --strict) against the server"
(cd e2e && node out/js/typed-client.js "http://127.0.0.1:$port/graphql" "$token")
echo "== typed REST client (openapi-fetch) against the server"
(cd e2e && node out/js/rest-client.js "http://127.0.0.1:$port" "$token")

echo "== GraphiQL in headless Chromium"
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium_bin" ] || { echo "e2e: $chromium_bin not found (apt-get install chromium)" >&2; exit 1; }
mkdir -p e2e/out
(cd e2e && CHROMIUM="$chromium_bin" node browser.mjs "http://127.0.0.1:$port" "$token" admin@example.com out/playground.png)

kill -TERM "$pid"
wait "$pid"
echo "e2e: server stopped cleanly"

echo "== the shell examples of README.md and docs/api.md, in order, against a fresh server (e2e/docs)"
go run ./e2e/docs -bin "$work/usersvc"
