# privacyIDEA administration core in Rust — developer entry points.
# `make help` lists the targets.

CARGO ?= cargo
CONFIG ?= pi.cfg
LISTEN ?= 127.0.0.1:5000

.PHONY: help run build test test-e2e-mysql test-faults lint fmt doc bench bench-engine bench-http bench-metrics openapi fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build the server and pi-manage (debug)
	$(CARGO) build -p pi-server -p pi-manage

run: ## first start: write pi.cfg + key + SQLite DB + admin (password printed once); then serve on 127.0.0.1:5000
	$(CARGO) build --release -p pi-server -p pi-manage
	./target/release/pi-manage --config $(CONFIG) setup
	./target/release/pi-server --config $(CONFIG) --listen $(LISTEN)

test: ## the whole suite (unit, property, end-to-end); PostgreSQL when PI_TEST_POSTGRES_URL is set, MariaDB/MySQL when PI_TEST_MYSQL_URL is set (store suite + end-to-end suite again on it); LDAP against PI_TEST_LDAP_URI, else a throw-away slapd if installed
	$(CARGO) build -p pi-server -p pi-manage
	$(CARGO) test --workspace --doc
	$(CARGO) nextest run --workspace --no-fail-fast
	@if [ -n "$$PI_TEST_MYSQL_URL" ]; then $(MAKE) --no-print-directory test-e2e-mysql; fi

test-e2e-mysql: ## the end-to-end suite with every test server on a fresh MariaDB/MySQL database (needs PI_TEST_MYSQL_URL)
	@test -n "$$PI_TEST_MYSQL_URL" || { echo "PI_TEST_MYSQL_URL is not set" >&2; exit 2; }
	PI_TEST_E2E_DB=mysql $(CARGO) nextest run -p pi-tests --no-fail-fast

test-faults: ## fault suite on a throw-away MariaDB: restart under load, full pool, slowloris, oversized bodies, SIGKILL mid-import (answers 200/503 within the checkout timeout, service resumes); needs mariadb-server
	$(CARGO) build -p pi-server -p pi-manage
	bash tests/faults/run.sh

lint: ## rustfmt check, clippy with -D warnings, rustdoc with -D warnings
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check
	$(CARGO) metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml > /dev/null
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

fmt: ## format the code
	$(CARGO) fmt --all
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml

doc: ## API documentation (target/doc)
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

bench: bench-engine bench-http ## all benchmarks (criterion engine + HTTP load)

bench-engine: ## criterion benchmarks of the policy engine
	$(CARGO) bench -p pi-policy

bench-http: ## HTTP load benchmark (wrk) against a release build on SQLite
	bash scripts/bench-http.sh

bench-metrics: ## GET /policy/check throughput with PI_METRICS on vs off (wrk, release build)
	bash scripts/bench-metrics.sh

openapi: ## validate the OpenAPI document (openapi-spec-validator in a venv under ~/.cache)
	bash scripts/openapi-validate.sh

fuzz: ## build the fuzz targets with coverage and run each (SECONDS_PER_TARGET, default 60)
	bash fuzz/run.sh

clean: ## remove build output
	$(CARGO) clean
