# journeychain: the single entry for set-up, demo, tests, lint, benchmarks and fuzzing.
# Every target installs what it needs first (Python packages into .venv, npm packages
# from package-lock.json, the pinned solc) and starts the local chain itself.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
BROWNIE := $(BIN)/brownie
GANACHE_NETWORK := ganache-local
FUZZ_STEPS ?= 10000
# the brownie network the suite runs on (anvil, started on demand)
NETWORK ?= development
SOLC := $(or $(SOLCX_BINARY_PATH),$(HOME)/.solcx)/solc-v0.8.28

.PHONY: help setup demo test test-anvil test-ganache lint bench fuzz clean

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

setup: $(VENV)/.installed node_modules/.installed ## install everything (idempotent)
	@$(BIN)/python -m journeychain.toolchain
	@$(BROWNIE) networks list 2>/dev/null | grep -q '$(GANACHE_NETWORK)' || \
		$(BROWNIE) networks add Development $(GANACHE_NETWORK) cmd=ganache host=http://127.0.0.1 \
			port=8546 accounts=10 evm_version=shanghai gas_limit=30000000 >/dev/null
	@$(BROWNIE) compile >/dev/null && echo "contracts compiled"

demo: setup ## run five customer journeys on a throwaway local chain; writes reports/demo.json
	$(BIN)/journey demo

test: setup lint test-anvil test-ganache ## lint, then the whole suite on anvil and a smoke run on ganache

test-anvil: setup
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

bench: setup ## gas per operation: prints a table and writes reports/gas.json
	$(BROWNIE) run scripts/bench.py --network $(NETWORK)

fuzz: setup ## the deep property-based run of the escrow and deadline invariants
	JOURNEY_FUZZ_STEPS=$(FUZZ_STEPS) $(BROWNIE) test tests/test_invariants.py --network $(NETWORK)

clean: ## remove build output (keeps .venv and node_modules)
	rm -rf build reports/gas.json .pytest_cache
