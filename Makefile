# `make run` and `make test` are the whole set-up on a fresh machine with Python 3.11+.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench messages clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/liandong run

# The database tests (tests/web) run twice: on SQLite, then on PostgreSQL. Without PostgreSQL, locally, that second
# run is skipped with a message; under CI=true it fails (scripts/ensure-postgres).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
# The suite runs on two processes (pytest-xdist; each gets its own test database); PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

# The browser tests (tests/browser, marked `browser`: Playwright driving Debian's Chromium, docs/browser-tests.md) run
# in the SQLite pass only. scripts/ensure-chromium installs chromium and fonts-noto-cjk when missing; without them,
# locally, the browser tests are skipped with a message; under CI=true that is a failure. SKIP_BROWSER=1 skips them
# locally (CI=true runs them all the same).
SKIP_BROWSER ?=

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	@skip=""; \
	if [ "$(SKIP_BROWSER)" = "1" ] && [ "$${CI:-}" != "true" ]; then \
	  echo "SKIPPED: the browser tests (SKIP_BROWSER=1)"; skip="--ignore=tests/browser"; \
	else \
	  scripts/ensure-chromium; status=$$?; \
	  if [ $$status -eq 3 ]; then \
	    echo "SKIPPED: the browser tests (Chromium not available here; CI=true makes this a failure)"; \
	    skip="--ignore=tests/browser"; \
	  elif [ $$status -ne 0 ]; then exit $$status; fi; \
	fi; \
	echo "$(PYTEST) $$skip $(PYTEST_ARGS)"; \
	$(PYTEST) $$skip $(PYTEST_ARGS)
	@scripts/ensure-postgres; status=$$?; \
	if [ $$status -eq 0 ]; then \
	  echo "database tests again, on PostgreSQL ($(PG_TEST_URL))"; \
	  DATABASE_URL=$(PG_TEST_URL) $(PYTEST) tests/web -m "not browser" $(PYTEST_ARGS) || exit 1; \
	elif [ $$status -eq 3 ]; then \
	  echo "SKIPPED: the database tests on PostgreSQL (not available here; CI=true makes this a failure)"; \
	else exit $$status; fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# The one catalogue of texts (docs/i18n.md): every text marked in the package (gettext_noop and gettext in Python,
# {% translate %} and {% blocktranslate %} in templates) into src/liandong/locale/<lang>/LC_MESSAGES/django.po, the
# Chinese translations kept; then compiled to django.mo. Both are committed. Needs GNU gettext (xgettext, msgfmt).
# `liandong manage` wants a database: a throwaway SQLite under ./var.
MESSAGES_ENV := LIANDONG_DEBUG=1 LIANDONG_HOME=$(CURDIR)/var DATABASE_URL=sqlite:///$(CURDIR)/var/messages.sqlite3
messages: $(STAMP)
	cd src/liandong && $(MESSAGES_ENV) $(CURDIR)/$(BIN)/liandong manage makemessages -l zh_Hans -l en \
	  --ignore=.venv --ignore='*/migrations/*' --add-location=file --no-wrap --no-obsolete
	cd src/liandong && $(MESSAGES_ENV) $(CURDIR)/$(BIN)/liandong manage compilemessages -l zh_Hans -l en

bench: $(STAMP)
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
