# Tỉnh Số: two commands for a newcomer (`make run`, `make test`); see README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
THREADS ?= 4
export TINHSO_DATA_DIR ?= $(CURDIR)/var
# Tests and checks need a key but no real secret; `make run` keeps its own in var/secret_key.
TEST_ENV := SECRET_KEY=test-only-not-a-secret DEBUG=0

.PHONY: run test lint typecheck check-migrations pytest bench crash fuzz install install-dev messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(TINHSO_DATA_DIR)/secret_key:
	mkdir -p $(TINHSO_DATA_DIR)
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

## run: install, migrate, seed the demo province if the database is empty, serve with gunicorn
## and run the background-task worker (notifications leave through it) beside it, under a
## supervisor that starts it again whenever it exits
run: install $(TINHSO_DATA_DIR)/secret_key
	@export SECRET_KEY_FILE=$(TINHSO_DATA_DIR)/secret_key; \
	ALLOWED_HOSTS="$${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],$(HOST)}"; export ALLOWED_HOSTS; \
	TINHSO_PUBLIC_URL="$${TINHSO_PUBLIC_URL:-http://$(HOST):$(PORT)}"; export TINHSO_PUBLIC_URL; \
	TINHSO_DEMO="$${TINHSO_DEMO:-1}"; export TINHSO_DEMO; \
	$(BIN)/tinhso migrate --noinput && \
	$(BIN)/tinhso seed_demo --if-empty && \
	$(BIN)/tinhso collectstatic --noinput --verbosity 0 && \
	$(BIN)/tinhso deadline_warnings --schedule && \
	$(BIN)/tinhso expire_payments --schedule && \
	$(BIN)/tinhso opendata_refresh --schedule && \
	$(BIN)/tinhso audit_checkpoint --schedule && \
	$(BIN)/tinhso files_orphans --schedule && \
	$(BIN)/tinhso feedback_escalate --schedule && \
	$(BIN)/tinhso products_hourly --schedule && \
	echo "Tỉnh Số: http://$(HOST):$(PORT)/" && \
	{ $(BIN)/python -m tinhso.core.supervisor -- \
	    $(BIN)/tinhso worker --queue-name '*' --no-startup-delay & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn tinhso.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
	    --threads $(THREADS) --worker-class gthread --access-logfile - --forwarded-allow-ips 127.0.0.1; }

## test: lint, type-check, migrations check and the whole pytest suite (DATABASE_URL picks the db)
test: lint typecheck check-migrations pytest

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: install-dev
	$(TEST_ENV) $(BIN)/mypy

check-migrations: install-dev
	$(TEST_ENV) $(BIN)/tinhso makemigrations --check --dry-run --verbosity 1

## The suite runs in one process per core, up to four (pytest-xdist; each has its own test
## database and file folders). PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= auto
pytest: install-dev
	$(TEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses 4 $(PYTEST_ARGS)

## messages: refresh the translation catalogues (needs GNU gettext) and compile them
messages: install-dev
	cd src/tinhso && $(TEST_ENV) ../../$(BIN)/tinhso makemessages -l vi -l en --no-obsolete --add-location file \
	  --ignore 'static/*' && $(TEST_ENV) ../../$(BIN)/tinhso compilemessages

## bench: on a throw-away PostgreSQL database (tinhso_bench) when the local server answers
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tinhso_bench
# The database the URL names (what follows its last slash, without a query string).
BENCH_DATABASE = $(firstword $(subst ?, ,$(notdir $(BENCH_DATABASE_URL))))
bench: install-dev
	@if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then \
	  psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE "$(BENCH_DATABASE)"' >/dev/null 2>&1 || true; \
	  $(TEST_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench; \
	else $(TEST_ENV) $(BIN)/python -m bench; fi

## crash: the crash test (tests/test_crash.py): 8 clients submit for 60 s while gunicorn
## workers and the task worker are killed with SIGKILL; PostgreSQL (a throw-away test_tinhso_crash)
CRASH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tinhso_crash
crash: install-dev
	$(TEST_ENV) DATABASE_URL=$${DATABASE_URL:-$(CRASH_DATABASE_URL)} $(BIN)/pytest -m crash \
	  tests/test_crash.py --create-db $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache

## fuzz: Schemathesis against /api/v1/openapi.json of a server it starts itself (a throw-away
## SQLite, or the PostgreSQL of DATABASE_URL), with the demo seeded, as a citizen, an official
## and nobody: no server error, every status documented (FUZZ_EXAMPLES per operation, FUZZ_SEED)
fuzz: install-dev
	$(BIN)/python tests/fuzz_api.py
