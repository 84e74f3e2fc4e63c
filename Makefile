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

.PHONY: fuzz run test install install-browser install-gettext messages lint format typecheck check bench security soak clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

## axe-core (npm) for the portal's accessibility checks in the browser tests.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed node_modules/.package-lock.json messages

## GNU gettext's msgfmt compiles the portal's translations (locale/*/LC_MESSAGES/django.po).
## Only when msgfmt is missing; --no-upgrade leaves every installed package as it is.
install-gettext:
	@command -v msgfmt >/dev/null || { \
	  echo "Installing gettext to compile the translations (apt-get install --no-upgrade gettext)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade gettext; }

## Compile the committed .po files into .mo files (generated, not committed).
messages: $(VENV)/.installed install-gettext
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity=0

## Debian's Chromium for the browser tests (Playwright cannot download browsers here).
## Installs only the packages that are missing, with --no-upgrade: nothing already installed (systemd,
## udev, ...) is upgraded as a side effect.
BROWSER_PACKAGES := chromium fonts-dejavu-core
install-browser:
	@missing=$$(for p in $(BROWSER_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing for the browser tests: $$missing (apt-get install --no-upgrade)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade $$missing; \
	fi

## Run the product on the embedded default: SQLite, a filesystem broker, a worker with beat, demo data,
## and local fakes of HubSpot, Mailchimp and Klaviyo as systems (dsr/demo/run.py). Ctrl-C stops it all.
run: install
	$(PY) -m dsr.demo.run --host $(HOST) --port $(PORT)

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

## bandit (findings reviewed in docs/security-findings.md, accepted in .bandit-baseline.json: any
## new one fails) and pip-audit (fails on a known vulnerability; see .ci/audit-deps).
security: install
	$(VENV)/bin/bandit -r dsr connectors -c pyproject.toml -b .bandit-baseline.json -q
	$(PY) .ci/audit-deps

## The large schemathesis run: 200 examples per operation, every check, anonymous and staff, stateful.
FUZZ_EXAMPLES ?= 200
fuzz: install
	$(TEST_ENV) DSR_SCHEMATHESIS_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -p no:cacheprovider \
	  tests/api/test_schemathesis.py $(PYTEST_ARGS)

## Soak: erasure requests through real workers while vendors fail and workers are killed (bench/soak.py).
## The full run: make soak SOAK_ARGS="--requests 2000 --kill-every 5 --fault-rate 0.2"
SOAK_ARGS ?= --requests 50 --kill-every 5 --fault-rate 0.2 --drain-timeout 600
soak: install
	$(PY) bench/soak.py $(SOAK_ARGS)

## Benchmarks, each printing ratios against a baseline measured in the same run (docs/benchmarks.md):
## - export one subject with BENCH_ROWS warehouse rows into an access package (rows/s, peak RSS);
## - erase BENCH_SUBJECTS of BENCH_CUSTOMERS customers with the SQL connector against raw SQL.
## CI runs them small: make bench BENCH_ROWS=20000 BENCH_CUSTOMERS=2000 BENCH_SUBJECTS=20
BENCH_ROWS ?= 1000000
BENCH_CUSTOMERS ?= 100000
BENCH_SUBJECTS ?= 100
bench: install
	$(PY) -m bench.export_access --rows $(BENCH_ROWS)
	$(PY) -m bench.erase_sql --customers $(BENCH_CUSTOMERS) --subjects $(BENCH_SUBJECTS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
