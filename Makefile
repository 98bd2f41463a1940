# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test web openapi check-openapi services build fmt lint bench-routing loadgen writer-instructions pg-ceiling reliability fuzz scale-out

## Build the dashboard and the server, then serve both on SQLite at http://127.0.0.1:8080.
run: web build
	$(CARGO) run --bin callbroker

build:
	$(CARGO) build --bin callbroker

## The dashboard (Leptos, wasm32) into web/dist; skipped when nothing changed.
web:
	scripts/build-web.sh

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
	$(CARGO) bench -p callbroker-api --bench routing

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
