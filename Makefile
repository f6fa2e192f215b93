# Gatehouse. `make demo` serves the seeded app; `make test` runs the suite. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_PASSWORD ?= gatehouse-demo
export DEMO_PASSWORD

# The demo runs with debug on and the embedded defaults (SQLite, Celery in-process).
DEMO_ENV := DJANGO_DEBUG=1

.PHONY: install demo test test-fast chromium check-deploy screenshot clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Gatehouse needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Gatehouse is starting on http://$(HOST):$(PORT)/  (sign in with a login above; Ctrl-C stops it)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Browser journeys need Debian's Chromium; scripts/ensure-chromium installs it when it can.
chromium:
	@bash scripts/ensure-chromium

test: install chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

check-deploy: install
	DJANGO_DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=gatehouse.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

screenshot: install chromium
	$(BIN)/python scripts/screenshot.py docs/screenshot.png

clean:
	rm -rf $(VENV) staticfiles .pytest_cache gatehouse.sqlite3
