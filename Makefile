# The two commands of the README's Quick start are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk
# The first of the Redis databases the suite uses: xdist worker N takes this number + N.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/8
# pytest-xdist workers (`auto`: one per core; 0 runs in-process) and how tests are
# shared out among them. worksteal hands each worker half the suite in order and
# lets an idle one take tests from the other: the browser tests (collected first)
# mostly stay together, so the demo is seeded by one worker, and a long test at
# the end does not hold up a whole file. It measured as fast as loadfile.
TEST_WORKERS ?= auto
TEST_DIST ?= worksteal
# Run the suite with the clock moved, e.g. TEST_FAKETIME=+365d (libfaketime's
# syntax; every process the suite starts sees the same clock): no test may
# depend on what day it is.
TEST_FAKETIME ?=
PYTEST_ARGS ?=

.PHONY: run test lint typecheck check install install-dev migrate seed bench-clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Where `make run` serves: `make run RUN_ADDR=127.0.0.1:8001` when 8000 is taken.
RUN_ADDR ?= 127.0.0.1:8000

## Serve the seeded demo on http://127.0.0.1:8000 or RUN_ADDR (SQLite, no Redis, periodic tasks in-process).
# The seed skips the system checks: migrate has just run them.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --skip-checks
	$(PY) manage.py runembedded $(RUN_ADDR)

## The whole suite on PostgreSQL, with Redis and Chromium; installs and starts what is missing.
test: $(VENV)/.installed-dev
	TEST_FAKETIME="$(TEST_FAKETIME)" bash scripts/test-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(if $(TEST_FAKETIME),faketime -f "$(TEST_FAKETIME)") \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy .

check: lint typecheck test
