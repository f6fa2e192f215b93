# Gatehouse. `make demo` serves the seeded app; `make test` runs the suite, `make test-fast` its quick part.
# All install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_PASSWORD ?= gatehouse-demo
export DEMO_PASSWORD

# The demo runs with debug on and the embedded defaults: SQLite, and Celery on kombu's filesystem
# transport (no Redis; messages in var/celery/, or $CELERY_FILESYSTEM_DIR) with a worker and beat
# beside the web server. Seeding runs its tasks in-process (memory://): its ~100 notices stay quiet.
# The web server and the worker share a file cache (var/cache), through which resolve's cache is
# invalidated; links in emails and printed hints point at HOST:PORT.
DEMO_ENV := DJANGO_DEBUG=1 CELERY_BROKER_URL=filesystem:// CACHE_URL=file://$(CURDIR)/var/cache \
	GATEHOUSE_BASE_URL=http://$(HOST):$(PORT)
SEED_ENV := DJANGO_DEBUG=1 CELERY_BROKER_URL=memory:// CACHE_URL=file://$(CURDIR)/var/cache \
	GATEHOUSE_BASE_URL=http://$(HOST):$(PORT)

.PHONY: install wrk mlflow demo test test-fast lint format chromium oidc-provider check-deploy screenshot docs docs-screenshots clean bench-freshness bench-resolve bench-local-resolve bench-stream bench-invalidation bench-routing bench-scale

$(STAMP): pyproject.toml client/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Gatehouse needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	$(BIN)/python -m pip install --quiet --no-deps -e ./client  # the client library and `gatehouse` command
	@bash scripts/ensure-pdf-libs
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(SEED_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py setup_schedules
	$(DEMO_ENV) $(BIN)/python manage.py run_sweep
	@echo ""
	@echo "Gatehouse is starting on http://$(HOST):$(PORT)/  (sign in with a login above; Ctrl-C stops it)"
	@echo "A Celery worker with beat runs beside it: emails, reminders, the hourly evidence freshness sweep."
	$(DEMO_ENV) BIN=$(BIN) exec bash scripts/demo-serve $(HOST):$(PORT)

# Browser journeys need Debian's Chromium; scripts/ensure-chromium installs it when it can.
chromium:
	@bash scripts/ensure-chromium

# The single sign-on tests run a real OpenID provider (node-oidc-provider, tests/oidc_provider/) with Node.js;
# its npm packages come from the npm registry, pinned by package-lock.json. Without npm the tests skip locally
# and fail in CI (GATEHOUSE_REQUIRE_SERVICES).
oidc-provider:
	@if command -v npm >/dev/null; then \
	  test -d tests/oidc_provider/node_modules/oidc-provider || \
	  npm ci --prefix tests/oidc_provider --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the single sign-on tests will skip (.ci/run installs Node.js)"; fi

# The suite runs in parallel (pytest-xdist): one process per core, 8 at most (TEST_WORKERS=0: one process).
# Each has its own test database and Redis database (tests/workers.py). Tests are handed out one by one
# (--dist load): schemathesis gives its 101 operation tests one node id, which the grouping modes
# (loadscope, loadfile, loadgroup) would run only once. PYTEST_ARGS passes options, e.g. a path or -x.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --maxprocesses 8 --dist load

# `make test` runs everything; `make test-fast` leaves out the slow tests (fuzzing, the authorization
# matrix, real workers...) and the browser journeys: a first answer in well under half the time.
# The MLflow connector's tests run a real MLflow tracking server, from a virtualenv of its own (its many
# dependencies stay out of Gatehouse's): var/mlflow-venv, made once per version.
MLFLOW_VERSION := 3.17.2
MLFLOW_VENV := var/mlflow-venv
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed-$(MLFLOW_VERSION)

$(MLFLOW_STAMP):
	test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MLFLOW_VENV)/bin/python -m pip install --quiet "mlflow==$(MLFLOW_VERSION)"
	touch $@

mlflow: $(MLFLOW_STAMP)

test: install chromium oidc-provider mlflow
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: install oidc-provider
	$(BIN)/python -m pytest $(XDIST) -m "not slow and not browser" $(PYTEST_ARGS)

# Lint and format (ruff) and the layers of docs/architecture.md (import-linter). `make format` fixes what
# ruff can fix by itself.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-deploy: install
	DJANGO_DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=gatehouse.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

screenshot: install chromium
	$(BIN)/python scripts/screenshot.py docs/screenshot.png

# The documentation site, from docs/ into site/ (git-ignored). Strict: a broken link or page fails it.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The guides' screenshots: seeds a throwaway demo, serves it and signs in as each persona (docs/images/).
docs-screenshots: install chromium
	$(BIN)/python scripts/docs_screenshots.py --out docs/images

# Needs PostgreSQL (drops and recreates gatehouse_bench; see bench/README.md). BENCH_ARGS passes options.
bench-freshness: install
	$(BIN)/python bench/freshness_sweep.py $(BENCH_ARGS)

# Needs PostgreSQL and Redis (drops and recreates gatehouse_resolve_bench and mlflow_bench, flushes Redis
# database 5; MLflow gets its own venv in var/bench/). Installs Debian's wrk when missing and run as root.
bench-resolve: install wrk
	$(BIN)/python bench/resolve.py $(BENCH_ARGS)

wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  echo "Installing Debian's wrk for the benchmark..." && export DEBIAN_FRONTEND=noninteractive && \
	  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; } || true

# Needs PostgreSQL (drops and recreates gatehouse_local_bench): in-process resolve from the routing snapshot.
bench-local-resolve: install
	$(BIN)/python bench/local_resolve.py $(BENCH_ARGS)

# Needs PostgreSQL and Redis (drops and recreates gatehouse_local_bench unless --reuse; flushes Redis database 5):
# the change stream's propagation and what idle subscribers cost resolve.
bench-stream: install wrk
	$(BIN)/python bench/stream.py $(BENCH_ARGS)

# Needs PostgreSQL and Redis (drops and recreates gatehouse_invalidation_bench unless --reuse; flushes Redis
# database 5): a model suspended under 10% of the features, warmed again by a worker; the cold path's worst case.
bench-invalidation: install wrk
	$(BIN)/python bench/invalidation.py $(BENCH_ARGS)

# Every routing figure of one release, one after the other on a quiet machine (~30 minutes): resolve beside
# MLflow and the baselines with scale-out, in-process resolve, the stream with its outage run, a 10% suspension.
bench-routing: install wrk
	@status=0; \
	$(BIN)/python bench/resolve.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python bench/local_resolve.py || status=1; \
	$(BIN)/python bench/stream.py || status=1; \
	$(BIN)/python bench/invalidation.py || status=1; \
	exit $$status

# Needs PostgreSQL (drops and recreates gatehouse_scale_bench and gatehouse_scale_bench_small). BENCH_ARGS
# passes options, e.g. BENCH_ARGS="--scale 0.1" for a quicker run.
bench-scale: install
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache gatehouse.sqlite3 var media site
