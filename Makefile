# SyncBucket developer entry points. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Integration tests talk to real services; these are the ones this machine runs.
export SYNCBUCKET_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export SYNCBUCKET_TEST_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/
export SYNCBUCKET_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: help venv lint typecheck test test-fast test-integration test-browser screenshots vendor-check demo stack bench clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)  ## create .venv and install SyncBucket with its dev tools

lint: $(STAMP)  ## ruff (lint + format check) on everything
	$(BIN)/ruff check shared services tests migrations
	$(BIN)/ruff format --check shared services tests migrations

typecheck: $(STAMP)  ## mypy strict on the library and the services
	$(BIN)/mypy shared/syncbucket services

$(AXE): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $(AXE)

test: lint typecheck $(AXE)  ## everything CI runs: lint, types, unit, integration, e2e, browser
	$(BIN)/pytest tests -q --ignore=tests/perf

test-fast: $(STAMP)  ## unit tests only (no services needed), for the edit loop
	$(BIN)/pytest tests/unit -q -m "not slow"

test-integration: $(STAMP)  ## integration tier only (real PostgreSQL, RabbitMQ, Redis)
	$(BIN)/pytest tests/integration -q

test-browser: $(STAMP) $(AXE)  ## browser tests only: real Chromium against the real processes
	$(BIN)/pytest tests/browser -q

screenshots: $(STAMP) $(AXE)  ## redo the README's screenshots (docs/screenshots/*.png) with the browser tests
	SYNCBUCKET_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/browser -q

vendor-check: $(STAMP)  ## re-fetch the vendored htmx / Pico files from npm and compare checksums
	$(BIN)/python tools/vendor_frontend.py

demo: $(STAMP)  ## the whole thing embedded: SQLite, in-process simulator, demo clients
	$(BIN)/syncbucket demo

# `make stack` runs against these unless the environment names others.
stack: export SYNCBUCKET_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/syncbucket
stack: export SYNCBUCKET_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672/
stack: export SYNCBUCKET_REDIS_URL ?= redis://127.0.0.1:6379/0
stack: $(STAMP)  ## every process on local PostgreSQL/RabbitMQ/Redis, in the foreground (Ctrl-C stops all)
	$(BIN)/python -m syncbucket_stack

bench: $(STAMP)  ## benchmarks (tests/perf), machine-readable figures on stdout
	$(BIN)/pytest tests/perf -q -s

clean:  ## remove the virtualenv and local state
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache tests/browser/node_modules
