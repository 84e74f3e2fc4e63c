# DSR Hub — every command a developer or CI needs. `make run` and `make test` are the README's two.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs against real PostgreSQL and Redis (see README, "Testing").
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/dsr
TEST_BROKER_URL ?= redis://127.0.0.1:6379/13
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) DSR_VAR_DIR=$(CURDIR)/var/test

.PHONY: run test install install-browser lint format typecheck check bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## Debian's Chromium for the browser tests (Playwright cannot download browsers here).
install-browser:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

## Run the product on the embedded default: SQLite, a filesystem broker, a worker with beat, demo data.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	@trap 'kill 0' EXIT INT TERM; \
	  $(VENV)/bin/celery -A dsr worker --beat --loglevel=INFO --concurrency=2 \
	    --schedule=var/celerybeat-schedule & \
	  $(PY) manage.py runserver $(HOST):$(PORT)

## Run the full test suite against PostgreSQL and Redis.
test: install install-browser
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install
	$(VENV)/bin/mypy dsr connectors

check: lint typecheck test

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
