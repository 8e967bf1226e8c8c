# journeychain: the single entry for set-up, demo, tests, lint, benchmarks and fuzzing.
# Every target installs what it needs first (Python packages into .venv, npm packages
# from package-lock.json, the pinned solc) and starts the local chain itself.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
BROWNIE := $(BIN)/brownie
# the brownie network of `make test-ganache`: ganache 7.9.2 funding the development accounts
# that `dev:N` names (anvil's mnemonic, the public "test ... junk" one: no secret)
GANACHE_NETWORK ?= ganache-local
GANACHE_PORT ?= 8546
DEV_MNEMONIC := test test test test test test test test test test test junk
FUZZ_STEPS ?= 10000
# empty: a new seed each run, printed; FUZZ_SEED=N replays the run that printed N
FUZZ_SEED ?=
# the throwaway chain of `make demo`: anvil, or ganache
CHAIN ?= anvil
# the brownie network the suite runs on (anvil, started on demand)
NETWORK ?= development
SOLC := $(or $(SOLCX_BINARY_PATH),$(HOME)/.solcx)/solc-v0.8.28

.PHONY: help setup setup-postgres browser demo test test-anvil test-ganache lint bench fuzz wheel clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The contracts are built once, into journeychain/_build/artifacts.json: the SDK's cache (keyed
# by the sources' hash) and what a wheel ships; brownie compiles its own build/ when it runs.
# PostgreSQL's server (Debian's package) for the index tests, which start their own server from
# it; a no-op when it is installed. Installing needs root (CI runs as root); otherwise it says how.
setup-postgres: ## PostgreSQL's server binaries for the index tests (a no-op when present)
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing PostgreSQL (Debian's postgresql package) for the index tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "the index tests need PostgreSQL's server: sudo apt-get install -y postgresql" >&2; \
		fi

setup: $(VENV)/.installed node_modules/.installed setup-postgres ## install everything (idempotent)
	@$(BIN)/python -m journeychain.toolchain
	@$(BROWNIE) networks list 2>/dev/null | grep -qF -- '$(GANACHE_NETWORK): ' || \
		$(BROWNIE) networks add Development $(GANACHE_NETWORK) cmd=ganache host=http://127.0.0.1 \
			port=$(GANACHE_PORT) accounts=10 evm_version=shanghai gas_limit=30000000 \
			'mnemonic=$(DEV_MNEMONIC)' >/dev/null
	@$(BROWNIE) networks modify $(GANACHE_NETWORK) 'mnemonic=$(DEV_MNEMONIC)' >/dev/null
	@$(BIN)/python -m journeychain.artifacts
	@$(BIN)/python -m journeychain.web.assets

demo: setup ## run five customer journeys on a throwaway local chain (CHAIN=anvil|ganache); writes reports/demo.json
	$(BIN)/journey demo --chain $(CHAIN)

test: setup lint test-anvil test-ganache ## lint, then the whole suite on anvil and a smoke run on ganache

# Debian's Chromium, which the web pages' tests drive (never a downloaded browser)
browser:
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 && export DEBIAN_FRONTEND=noninteractive && \
		{ apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && \
		apt-get install -y -q chromium >/dev/null; }; } ; } || \
		echo "the web pages' tests need Debian's chromium: apt-get install chromium"

test-anvil: setup browser
	$(BROWNIE) test tests/ --network $(NETWORK)

test-ganache: setup
	$(BROWNIE) test tests/ -m smoke --network $(GANACHE_NETWORK)

lint: setup ## ruff and mypy on the Python, slither on the contracts
	$(BIN)/ruff check journeychain scripts tests
	$(BIN)/ruff format --check journeychain scripts tests
	$(BIN)/mypy
	$(BIN)/slither contracts/ --solc-standard-json --solc $(SOLC) \
		--solc-remaps "@openzeppelin=node_modules/@openzeppelin" --solc-args "--evm-version shanghai" \
		--filter-paths node_modules --exclude-informational --exclude-low --fail-medium

bench: setup ## gas per operation (reports/gas.json), steps per second through the service (reports/service.json), the index's read times (reports/index.json), throughput of the sending paths and the keeper (reports/throughput.json)
	$(BROWNIE) run scripts/bench.py --network $(NETWORK)
	$(BIN)/python scripts/bench_service.py
	$(BIN)/python scripts/bench_index.py
	$(BIN)/python scripts/throughput.py

fuzz: setup ## the deep property-based run of the invariants; prints its seed (FUZZ_SEED=N replays it)
	JOURNEY_FUZZ_STEPS=$(FUZZ_STEPS) JOURNEY_FUZZ_SEED=$(FUZZ_SEED) \
		$(BROWNIE) test tests/test_invariants.py --network $(NETWORK)

wheel: setup ## dist/journeychain-*.whl: the SDK and `journey` with the built contracts inside (no Node or solc needed)
	@$(BIN)/python -m journeychain.artifacts --check
	rm -rf build/lib build/bdist.* dist/journeychain-*.whl
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	@ls dist/journeychain-*.whl

clean: ## remove build output (keeps .venv and node_modules)
	rm -rf build dist journeychain/_build reports/gas.json .pytest_cache
