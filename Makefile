# Kefu developer commands. `make` or `make help` lists them.
# Needs only Python 3.11+ and make: everything else is installed into .venv from the lock files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
PIP_COMPILE := $(BIN)/pip-compile --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck pytest lock messages clean bench bench-search

help: ## List the make targets
	@echo "Usage: make <target>"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Kefu needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# The stamp files make the install run again only when a lock file changed.
$(VENV)/.installed-base: requirements/base.lock | $(BIN)/python
	$(PIP) install --quiet -r requirements/base.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements/base.lock requirements/dev.lock | $(BIN)/python
	$(PIP) install --quiet -r requirements/base.lock -r requirements/dev.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed-base

# KEFU_HTTPS=0: the local server speaks plain HTTP, so login cookies must not be marked Secure.
run: export KEFU_HTTPS ?= 0
run: $(VENV)/.installed-base ## Install, migrate and start Kefu with demo data (KEFU_PORT, default 8000)
	$(BIN)/kefu migrate
	$(BIN)/kefu run --demo

test: lint typecheck pytest ## Install the dev tools, lint, type-check and run the whole test suite

lint: $(VENV)/.installed-dev ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev ## mypy (configured in pyproject.toml)
	$(BIN)/mypy kefu

# pytest exits 5 when it collected no test: that is a broken test run, not a pass.
pytest: $(VENV)/.installed-dev ## Run the tests only (PYTEST_ARGS="-k name" to select)
	@status=0; $(BIN)/pytest -n 2 $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: check the test paths" >&2; fi; \
	exit $$status

lock: | $(BIN)/python ## Recompile requirements/*.lock from the .in files (UPGRADE=1 to take new releases)
	$(PIP) install --quiet pip-tools
	cd requirements && ../$(PIP_COMPILE) --output-file=base.lock base.in
	cd requirements && ../$(PIP_COMPILE) --output-file=dev.lock dev.in

messages: $(VENV)/.installed-base ## Update the zh_Hans / zh_Hant catalogues and compile them
	$(BIN)/kefu manage makemessages -l zh_Hans -l zh_Hant --ignore=var --ignore=build --no-obsolete
	$(BIN)/kefu manage compilemessages -l zh_Hans -l zh_Hant --ignore=.venv --ignore=var

# Not part of `make test`. Seeds (cached in var/bench/, keyed by bench/data.py's SEED_VERSION),
# installs django-helpdesk into bench/peers/helpdesk/.venv and pgbench if missing, and rewrites
# the measured part of docs/benchmarks.md. Needs PostgreSQL (BENCH_PG) and CREATE DATABASE.
BENCH_SIZES ?= 10000,100000,1000000
BENCH_SQLITE_SIZES ?= 10000,100000
BENCH_PEER_SIZES ?= 10000,100000
bench: $(VENV)/.installed-base ## Kefu vs django-helpdesk vs raw SQL at 10k/100k/1M tickets (BENCH_SIZES, BENCH_ARGS=--quick)
	$(BIN)/python bench/run.py --sizes "$(BENCH_SIZES)" --sqlite-sizes "$(BENCH_SQLITE_SIZES)" \
		--peer-sizes "$(BENCH_PEER_SIZES)" $(BENCH_ARGS)

bench-search: $(VENV)/.installed-base ## Search benchmark on a scratch database (TICKETS=100000, PG=postgres://…)
	$(BIN)/python bench/search.py --tickets $(or $(TICKETS),100000) $(if $(PG),--postgres $(PG))

clean: ## Remove the virtualenv and caches (keeps ./var, your data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
