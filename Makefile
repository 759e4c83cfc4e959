# Parley — the Makefile is the documented interface: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
REDIS_URL ?= $(or $(PARLEY_REDIS_URL),redis://127.0.0.1:6379/0)
export PARLEY_ENV ?= development
export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/var/metrics

.PHONY: help install redis migrate run test test-fast lint format bench browser clean

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

migrate: install ## Create or upgrade the schema of both stores
	@mkdir -p var
	@$(BIN)/parley migrate

run: install redis migrate ## Serve the demo: api :8000, dashboard :8001, worker, beat (Ctrl-C stops all)
	@$(BIN)/parley seed-demo
	@rm -rf "$(PROMETHEUS_MULTIPROC_DIR)" && mkdir -p "$(PROMETHEUS_MULTIPROC_DIR)"
	@export PARLEY_SECRET_KEY="$${PARLEY_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"; \
	 export PATH="$(CURDIR)/$(BIN):$$PATH"; \
	 echo "==> demo article: http://127.0.0.1:8000/   dashboard: http://127.0.0.1:8001/admin/"; \
	 exec $(BIN)/honcho -f Procfile start

test: install redis ## Run the whole test suite against real Redis, SQLite and PostgreSQL
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install ## ruff check + format check
	@$(BIN)/ruff check shared services workers tests
	@$(BIN)/ruff format --check shared services workers tests

format: install ## Apply ruff's formatting and safe fixes
	@$(BIN)/ruff check --fix shared services workers tests
	@$(BIN)/ruff format shared services workers tests

bench: install redis ## Benchmarks: intake vs bare Flask, pipeline at 0 and 150 ms Akismet
	@command -v wrk >/dev/null || { echo "==> installing wrk (Debian package)"; (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null; }
	@$(BIN)/python -m bench.intake
	@$(BIN)/python -m bench.pipeline

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var *.egg-info
