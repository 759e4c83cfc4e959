# Parley — the Makefile is the documented interface: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
REDIS_URL ?= $(or $(PARLEY_REDIS_URL),redis://127.0.0.1:6379/0)
export PARLEY_ENV ?= development
# Only `make run` aggregates metrics across processes (prometheus-client multiprocess mode);
# tests and tools use the plain in-process registry.
METRICS_DIR ?= $(CURDIR)/var/metrics
unexport PROMETHEUS_MULTIPROC_DIR

.PHONY: help install redis browser nginx wrk migrate run test test-fast lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@echo "==> setting up $(VENV) (Python venv, pinned dependencies)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create the virtualenv and install pinned dependencies

redis: ## Start a local Redis if none answers
	@scripts/ensure-redis "$(REDIS_URL)"

browser: ## Install Debian's Chromium for the browser tests if it is missing
	@scripts/ensure-browser

nginx: ## Install Debian's nginx for the proxy test if it is missing
	@scripts/ensure-nginx

migrate: install ## Create or upgrade the schema of both stores
	@mkdir -p var
	@$(BIN)/parley migrate

run: install redis migrate ## Serve the demo: api :8000, dashboard :8001, worker, beat (a crashed one restarts; Ctrl-C stops all)
	@echo "==> no proxy in front (local demo): see README 'Production: the proxy in front'"
	@$(BIN)/parley seed-demo
	@$(BIN)/parley ensure-demo-admin
	@rm -rf "$(METRICS_DIR)" && mkdir -p "$(METRICS_DIR)"
	@export PROMETHEUS_MULTIPROC_DIR="$(METRICS_DIR)"; \
	 export PARLEY_SECRET_KEY="$${PARLEY_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"; \
	 export PATH="$(CURDIR)/$(BIN):$$PATH"; \
	 echo "==> demo article: http://127.0.0.1:8000/   dashboard: http://127.0.0.1:8001/admin/"; \
	 exec $(BIN)/python scripts/supervise Procfile

test: install redis browser nginx wrk ## Run the whole suite: unit, integration (Redis, SQLite, PostgreSQL), e2e, browser
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install redis ## Unit and integration tests only (no processes, no browser)
	@$(BIN)/python -m pytest -m "not e2e and not browser" $(PYTEST_ARGS)

lint: install ## ruff check + format check, then the import contracts (lint-imports)
	@$(BIN)/ruff check shared services workers cli tests bench
	@$(BIN)/ruff format --check shared services workers cli tests bench
	@$(BIN)/lint-imports --no-cache --no-logo

format: install ## Apply ruff's formatting and safe fixes
	@$(BIN)/ruff check --fix shared services workers cli tests bench
	@$(BIN)/ruff format shared services workers cli tests bench

bench: install redis wrk ## Benchmarks: intake vs bare Flask, pipeline at 0 and 150 ms Akismet, the whole stack (BENCH_ARGS=--postgres: on PostgreSQL)
	@$(BIN)/python -m bench.intake $(BENCH_ARGS)
	@$(BIN)/python -m bench.pipeline $(BENCH_ARGS)
	@$(BIN)/python -m bench.stack $(BENCH_ARGS)

wrk: ## The HTTP load generator of the benchmarks and their tests (Debian package)
	@command -v wrk >/dev/null || { echo "==> installing wrk (Debian package)"; (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null; }

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var *.egg-info
