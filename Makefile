# usersvc. Two commands get you going: `make run` and `make test`.
GO ?= go
GOTESTFLAGS ?=

# make fuzz runs each target for a number of executions (about 20-30 s
# each on a two-core machine), not for a duration: at the end of a
# -fuzztime duration Go 1.26's fuzz coordinator can fail a target with
# "context deadline exceeded" having found nothing (go.dev/issue/75804,
# fixed in Go 1.27); a count has no deadline to race. FUZZTIME=10m (any
# -fuzztime value) runs every target for that instead.
FUZZTIME ?=
FUZZ_APPLYPATCH ?= 1000000x
FUZZ_PARSEPOINTER ?= 1500000x
FUZZ_PARSER ?= 500000x
FUZZ_DECODEINPUT ?= 60000x
FUZZ_PATCHENDPOINT ?= 30000x
FUZZ_JSONSTRING ?= 50000x
FUZZ_SCIM ?= 20000x
# FUZZMINIMIZE bounds how long a new interesting input is minimized (Go's
# default is 60 s, which would dwarf the runs above).
FUZZMINIMIZE ?= 5s

.PHONY: run build test generate migration vet fmt check-generated fuzz e2e playground bench cluster live trace failover

# ADDR: the listen address for make run (make run ADDR=:9090); empty means
# USERSVC_ADDR, else :8080.
ADDR ?=

## run: build bin/usersvc, then serve on ADDR (default :8080) with the embedded SQLite database (data/usersvc.db)
run:
	@echo "make run: compiling bin/usersvc (the first build compiles every dependency: minutes on 2 cores; later ones take seconds)..."
	$(GO) build -o bin/usersvc ./cmd/usersvc
	@echo "make run: starting bin/usersvc serve$(if $(ADDR), -addr $(ADDR)) (Ctrl-C stops it)"
	./bin/usersvc serve$(if $(ADDR), -addr $(ADDR))

## playground: rebuild the committed GraphiQL assets (npm ci + esbuild) that the binary embeds; needed only after changing playground/
playground:
	cd playground && npm ci --no-audit --no-fund --loglevel=error && npm run build

## build: build bin/usersvc, the server and the command line (usersvc user create, usersvc token create, ...)
build:
	$(GO) build -o bin/usersvc ./cmd/usersvc

## test: the whole suite on SQLite, and on PostgreSQL when it answers
test:
	@scripts/postgres-notice.sh
	$(GO) test $(GOTESTFLAGS) ./...

## generate: ent first, then gqlgen (which maps schema.graphql onto the domain types, not onto ent), then the zone list
generate:
	cd ent && $(GO) run -mod=mod entc.go
	$(GO) tool gqlgen generate
	$(GO) run zones_gen.go

## migration: write the next versioned migration from the ent schema (PostgreSQL and SQLite), e.g. make migration NAME=add_x
migration:
	@test -n "$(NAME)" || { echo "usage: make migration NAME=add_x (lower-case letters, digits and _)"; exit 2; }
	$(GO) run ./store/migrations/newmigration -name '$(NAME)'

## vet: go vet and gofmt
vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

## check-generated: regenerate and fail if anything changed
check-generated: generate
	git diff --exit-code -- ent graph

## fuzz: run every fuzz target (see FUZZTIME above; seed corpora run in make test too)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzApplyPatch$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_APPLYPATCH)) -fuzzminimizetime $(FUZZMINIMIZE) ./jsonpatch/
	$(GO) test -run '^$$' -fuzz '^FuzzParsePointer$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_PARSEPOINTER)) -fuzzminimizetime $(FUZZMINIMIZE) ./jsonpatch/
	$(GO) test -run '^$$' -fuzz '^FuzzParserMatchesDecoder$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_PARSER)) -fuzzminimizetime $(FUZZMINIMIZE) ./jsonpatch/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeInput$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_DECODEINPUT)) -fuzzminimizetime $(FUZZMINIMIZE) .
	$(GO) test -run '^$$' -fuzz '^FuzzPatchEndpoint$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_PATCHENDPOINT)) -fuzzminimizetime $(FUZZMINIMIZE) ./rest/
	$(GO) test -run '^$$' -fuzz '^FuzzJSONString$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_JSONSTRING)) -fuzzminimizetime $(FUZZMINIMIZE) ./rest/
	$(GO) test -run '^$$' -fuzz '^FuzzFilterAndPatch$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_SCIM)) -fuzzminimizetime $(FUZZMINIMIZE) ./scim/

## e2e: the GraphQL-over-HTTP audit and a graphql-request client against a started server (needs Node)
e2e:
	scripts/e2e.sh

## cluster: three replicas on one PostgreSQL database behind HAProxy at 127.0.0.1:18080 (needs haproxy; Ctrl-C stops it and drops its database)
cluster: build
	$(GO) run ./e2e/cluster -mode serve -bin bin/usersvc

## live: subscriptions across two processes (npm graphql-ws) and the rolling-restart test behind HAProxy (PostgreSQL, Node, haproxy)
live:
	scripts/live.sh

## failover: two replicas behind HAProxy on a pg_auto_failover formation (monitor + two nodes, Debian's postgresql-15-auto-failover, installed when missing; run as root), through a switchover and a kill -9 of the primary under load; prints the outages
failover:
	scripts/failover.sh

## trace: build Jaeger v2 from the Go module proxy (tools/jaeger, a module of its own), run usersvc exporting to it, and check 40 requests' traces through Jaeger's query API (names, spans, no secrets), then 500 requests with Jaeger stopped
trace: build
	cd tools/jaeger && $(GO) build -o ../../bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger
	$(GO) run ./e2e/trace -jaeger bin/jaeger -bin bin/usersvc

## bench: load harness on PostgreSQL (100,000 users, 1,000 tokens) with wrk (or a Go load generator when wrk is missing)
bench:
	$(GO) run ./bench/run $(BENCHFLAGS)
