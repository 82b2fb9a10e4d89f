# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

# The suite runs against the production setup: PostgreSQL and Redis on 127.0.0.1.
# TEST_BROKER_DB / TEST_CACHE_DB / TEST_DATABASE_NAME let parallel runs on one machine stay apart.
TEST_BROKER_DB ?= 9
TEST_CACHE_DB ?= 10
TEST_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/wabadesk \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/$(TEST_BROKER_DB) REDIS_URL=redis://127.0.0.1:6379/$(TEST_CACHE_DB) \
	DEBUG=1 LOG_LEVEL=WARNING

.PHONY: run test install install-dev chromium services-check bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev]"
	touch $(STAMP) $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

services-check: $(DEV_STAMP)
	@$(TEST_ENV) $(PY) scripts/check_services.py

run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile.dev

test: $(DEV_STAMP) chromium services-check
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 .broker media
