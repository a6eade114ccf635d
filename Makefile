# Agora — developer tasks (GNU make).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Only lint/format directories that exist (bench/ is optional).
CODE_DIRS := $(wildcard src tests bench)
# Extra arguments for pytest, e.g. make test-sqlite PYTEST_ARGS='-k orders -x'
PYTEST_ARGS ?=
# Test processes (pytest-xdist); each gets its own test database. 0 runs in one process.
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help venv install install-dev lock lock-check run lint test test-sqlite test-postgres bench fmt clean

help:
	@echo "targets: install install-dev lock run lint test test-sqlite test-postgres bench fmt clean"

# --- virtualenv ---------------------------------------------------------------
# A .venv made by another Python than the one asked for (python3 -> 3.11) is rebuilt,
# not reused by every later make.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV_VERSION := $(shell test -x $(BIN)/python && $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifneq ($(VENV_VERSION),)
ifneq ($(VENV_VERSION),$(PYTHON_VERSION))
$(shell rm -rf $(VENV))
endif
endif

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Installs come from the lock files: every package at its locked version, checked against
# its hash (--require-hashes), so two machines never drift. `make lock` rewrites them after
# a change to pyproject.toml; `make lint` fails when they are out of date.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

# The dev lock is a superset of the runtime one, so it refreshes both stamps.
$(VENV)/.installed-dev: pyproject.toml $(DEV_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --no-deps -e .
	touch $(VENV)/.installed $@

lock: install-dev
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)

# Recompiling keeps every pin already in a lock file, so a difference means pyproject.toml
# changed without `make lock`.
lock-check: install-dev
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp $(LOCK) "$$tmp/runtime.lock"; cp $(DEV_LOCK) "$$tmp/dev.lock"; \
	$(UV_COMPILE) -o "$$tmp/runtime.lock"; $(UV_COMPILE) --extra dev -o "$$tmp/dev.lock"; \
	if ! diff -q -I '^#' $(LOCK) "$$tmp/runtime.lock" >/dev/null \
	   || ! diff -q -I '^#' $(DEV_LOCK) "$$tmp/dev.lock" >/dev/null; then \
		echo "lock files are out of date with pyproject.toml: run make lock"; exit 1; fi

venv: $(VENV)/.installed
install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# --- run ------------------------------------------------------------------------
run: install
	mkdir -p var
	$(BIN)/agora migrate --noinput
	$(BIN)/agora collectstatic --noinput
	$(BIN)/agora demo
	$(BIN)/agora serve --with-worker --host $(HOST) --port $(PORT)

# --- quality ------------------------------------------------------------------------
lint: install-dev lock-check
	$(BIN)/ruff check $(CODE_DIRS)
	$(BIN)/ruff format --check $(CODE_DIRS)
	$(BIN)/mypy src
	$(BIN)/agora makemigrations --check --dry-run

fmt: install-dev
	$(BIN)/ruff format $(CODE_DIRS)
	$(BIN)/ruff check --fix $(CODE_DIRS)

# --- tests ------------------------------------------------------------------------
# Sequential on purpose (also under make -j): lint, then SQLite, then PostgreSQL.
test: lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# pytest's exit status (including 5 = "no tests collected") is the recipe's status.
test-sqlite: install-dev
	env -u DATABASE_URL AGORA_EXPECT_DB=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-postgres: install-dev
	AGORA_EXPECT_DB=postgresql scripts/with-postgres $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# --- benchmarks ------------------------------------------------------------------------
bench: install-dev
	@shopt -s nullglob; files=(bench/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "bench: no bench/*.py, nothing to run"; exit 0; fi; \
	for f in "$${files[@]}"; do \
		case "$$f" in bench/common.py) continue;; esac; \
		if [ "$$f" = bench/faults.py ]; then \
			echo "== $$f (its own PostgreSQL)"; $(BIN)/python "$$f"; continue; fi; \
		echo "== $$f (sqlite)"; \
		env -u DATABASE_URL $(BIN)/python "$$f"; \
		echo "== $$f (postgresql)"; \
		scripts/with-postgres $(BIN)/python "$$f"; \
	done

# --- housekeeping ------------------------------------------------------------------------
clean:
	rm -rf var $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune -exec rm -rf {} +
