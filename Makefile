# Two commands on a fresh machine with Python 3.11+ and make:
#   make run   — install, migrate, seed the demo, serve web + worker + beat
#   make test  — install, lint, run the whole test suite
# Without DATABASE_URL / REDIS_URL both use an embedded PostgreSQL and Redis under .data/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8000

.PHONY: help install run migrate seed test lint format bench fuzz messages stop-services clean

help:
	@echo "make run            install, migrate, seed demo data, serve web + worker + beat on :$(PORT)"
	@echo "make test           install, lint (ruff) and run the whole pytest suite"
	@echo "make bench          run the benchmarks in bench/ (results in bench/results/)"
	@echo "make fuzz           fuzz every API operation from the OpenAPI schema (schemathesis; FUZZ_EXAMPLES=50)"
	@echo "make messages       update and compile the Simplified Chinese catalog (locale/)"
	@echo "make stop-services  stop the embedded PostgreSQL and Redis (data stays in .data/)"

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (found %s). Install it, or run: make PYTHON=/path/to/python3.11" % sys.version.split()[0])'
	@test -x $(BIN)/python || { echo "[install] creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "[install] installing requirements into $(VENV) (first time takes a minute) …"
	@$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

migrate: install
	@$(BIN)/python manage.py migrate_platform

seed: migrate
	@SITE_PORT=$${SITE_PORT:-$(PORT)} $(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "  Public host + platform admin:  http://localhost:$(PORT)/admin/"
	@echo "  Organisations:                 http://acme.localhost:$(PORT)/   http://globex.localhost:$(PORT)/"
	@echo "  (curl anywhere: curl -H 'Host: acme.localhost' http://127.0.0.1:$(PORT)/login/)"
	@echo "  Ctrl-C stops web, worker and beat together."
	@echo ""
	@PORT=$(PORT) SITE_PORT=$${SITE_PORT:-$(PORT)} $(BIN)/honcho -f Procfile.dev start

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: install
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

test: lint
	@DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m pytest

BENCH_STAMP := $(VENV)/.bench-$(shell cat requirements-bench.txt | cksum | cut -d' ' -f1)

$(BENCH_STAMP): $(STAMP)
	@echo "[install] installing the benchmark tools (locust, pyinstrument) into $(VENV) …"
	@$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -q -r requirements-bench.txt
	@rm -f $(VENV)/.bench-*
	@touch $@

bench: $(BENCH_STAMP)
	@$(BIN)/python bench/run.py

fuzz: install
	@DJANGO_SETTINGS_MODULE=config.settings.test FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-50} $(BIN)/python -m pytest tests/api/test_fuzz.py -q -s -p no:logging

messages: install
	@$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles
	@$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

stop-services: install
	@$(BIN)/python -m config.embedded stop

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
