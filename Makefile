# klagg: developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_TEST := node --test --test-reporter=spec
INFRA := deploy/local/klagg-infra
UNIT_TESTS = $(shell find dataplane/dist/src operator/dist/src -name '*.test.js' 2>/dev/null | sort)
INTEGRATION_TESTS = $(shell find dataplane/dist/test/integration operator/dist/test/integration -name '*.test.js' 2>/dev/null | sort)

.PHONY: help install build gen gen-check lint typecheck unit integration test bench demo infra-up infra-down infra-status clean

help:
	@echo "make demo        run klagg locally on the synthetic market (live terminal table)"
	@echo "make test        lint, type check, unit tests, then integration tests on real local services"
	@echo "make bench       run the benchmarks and print their figures"
	@echo "make infra-up    start Redis, Kafka, ClickHouse, Jaeger, etcd + kube-apiserver locally"
	@echo "make infra-down  stop what infra-up started"

node_modules/.package-lock.json: package.json package-lock.json dataplane/package.json operator/package.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json

build: install
	npm run build

gen: install
	npm run gen

# Generated code is committed; this fails if it is stale.
gen-check: gen
	git diff --exit-code -- dataplane/src/gen

lint: install
	npx eslint .
	npx prettier --check .

# The operator imports the dataplane's declarations, so the dataplane is compiled (emitted) first.
typecheck: install
	npm run typecheck

unit: build
	$(NODE_TEST) $(UNIT_TESTS)

# Starts the services the suites need unless they are already up, and stops what it started.
integration: build
	$(INFRA) with-infra -- $(NODE_TEST) --test-concurrency=1 --test-force-exit --test-timeout=600000 $(INTEGRATION_TESTS)

test: lint typecheck unit integration

# The Redis, Kafka and ClickHouse benches need the local services: started here unless already up.
bench: build
	$(INFRA) with-infra -- bash -c 'for f in $$(find dataplane/dist/bench -name "*.bench.js" | sort); do echo "== $$f"; node --expose-gc $$f || exit 1; done'

demo: build
	node dataplane/dist/src/cli/main.js local --source synthetic --workers 2

infra-up:
	$(INFRA) up

infra-down:
	$(INFRA) down

infra-status:
	$(INFRA) status

clean:
	rm -rf dataplane/dist operator/dist
