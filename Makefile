# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test web server openapi check-openapi services build fmt lint bench-routing bench-bidding loadgen writer-instructions pg-ceiling reliability fuzz scale-out

# Job slots shared by the builds of `make run`: one per core.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

## Build the dashboard and the server, then serve both on SQLite at http://127.0.0.1:8080.
## The two builds run side by side on $(JOBS) job slots in all: cargo and rustc take theirs from
## make's jobserver (hence the `+`), so the single-threaded phases of one (the wasm's fat-LTO link,
## the tool install's last crates) run while the other compiles. Both at the same niceness: the
## dashboard's usual nice 10 would leave it the critical path whenever anything else runs.
## Steps: docs/first-run.md.
run:
	@echo "==> make run: the dashboard (steps 1-2) and the server (step 3) side by side; a first run takes tens of minutes on 2 cores (docs/first-run.md), later runs seconds"
	@+CALLBROKER_RUN_STEPS=1 BUILD_WEB_NICE=0 $(MAKE) --no-print-directory -j$(JOBS) server web
	$(CARGO) run --bin callbroker

build:
	$(CARGO) build --bin callbroker

## The server's debug build as `make run` does it (output in target/build-server.log).
server:
	+scripts/build-server.sh

## The dashboard (Leptos, wasm32) into web/dist; skipped when nothing changed.
web:
	+scripts/build-web.sh

## Every test: unit, integration on SQLite and PostgreSQL, OpenAPI drift.
test: services
	scripts/test.sh

## Start the local services the tests need (PostgreSQL) when they are down.
services:
	scripts/services.sh

## Regenerate openapi.yaml from the code.
openapi:
	$(CARGO) run -q --bin callbroker -- openapi > openapi.yaml

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --all-targets -- -D warnings

## Load generator: signed Twilio webhooks at 64 in flight on SQLite and PostgreSQL (release build).
loadgen:
	$(CARGO) build --release --bin callbroker -p callbroker-api
	$(CARGO) run --release -p callbroker-tests --bin loadgen -- --calls 20000 --concurrency 64

## Instructions the SQLite writer spends per call, counted by callgrind (needs valgrind).
writer-instructions:
	$(CARGO) build --release --bin callbroker -p callbroker-api
	$(CARGO) build --release -p callbroker-tests --bin loadgen
	scripts/writer-instructions.sh

## What PostgreSQL on this machine can do at best (pgbench, four transaction shapes): the bound
## the PostgreSQL call-flow figures sit under (docs/performance.md).
pg-ceiling: services
	scripts/pg-ceiling.sh

## Criterion benchmark of the routing engine (10, 1,000, 10,000 candidates).
bench-routing:
	$(CARGO) bench -p callbroker-bench --bench routing

## Real-time bidding: the voice webhook's latency with eleven bidders, and the ping API's
## throughput, on both backends (docs/bidding.md).
bench-bidding:
	$(CARGO) run --release -p callbroker-tests --bin bench-bidding -- --calls 2000 --concurrency 64

## The reliability tests alone (schemathesis, kill -9, database restart, scale-out, secrets), then
## their summary table.
reliability: services
	scripts/fuzz-setup.sh
	rm -f target/reliability/results.jsonl
	$(CARGO) test -p callbroker-tests --test it -- fuzz:: crash:: dbfault:: scale:: secrets::
	$(CARGO) run -q -p callbroker-tests --bin reliability-summary

## Long API fuzzing: schemathesis with 200 cases per operation on SQLite and PostgreSQL.
fuzz: services
	scripts/fuzz-setup.sh
	CALLBROKER_FUZZ_EXAMPLES=200 $(CARGO) test -p callbroker-tests --test it -- --nocapture fuzz::

## Scale-out at full size: 10,000 calls at 128 in flight over two instances on one PostgreSQL.
scale-out: services
	CALLBROKER_SCALE_CALLS=10000 CALLBROKER_SCALE_CONCURRENCY=128 $(CARGO) test -p callbroker-tests --test it -- --nocapture scale::
