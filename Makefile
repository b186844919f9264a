# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python 3.12+: take the first interpreter that is new enough.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 /root/.pyenv/versions/3.1[23]*/bin/python3 python3; do \
	if $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in e-mails and the PDFs' QR code (settings.SITE_URL): the address `make run`
# serves, unless the environment, the command line or .env names another.
ifeq ($(origin SITE_URL),undefined)
ifeq ($(shell grep -s '^SITE_URL=' .env),)
SITE_URL = http://$(HOST):$(PORT)
export SITE_URL
endif
endif

.PHONY: help run test lint messages install install-test bench bench-quick clean

help:
	@echo "make run    - install, migrate, seed the demo and serve http://$(HOST):$(PORT)"
	@echo "make test   - install test tools and run the whole suite"
	@echo "make lint   - ruff"
	@echo "make messages - refresh and compile the English catalogue (needs gettext)"
	@echo "make bench / make bench-quick - the performance benchmark (PostgreSQL + Redis)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (python3.12/python3.13 not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) compilemessages -v0 2>/dev/null || true
	$(MANAGE) seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
		echo "Starting a Celery worker with the beat scheduler (Redis: $$REDIS_URL)"; \
		$(BIN)/celery -A treasury_portal worker -B -Q default,payments,notifications,documents --loglevel=INFO --concurrency=2 & \
		trap "kill $$! 2>/dev/null" EXIT; \
	else \
		echo "No REDIS_URL: tasks run in-process; the database cache backs the rate limits; run_schedule runs the beat's schedule."; \
		$(MANAGE) run_schedule & \
		trap "kill $$! 2>/dev/null" EXIT; \
	fi; \
	echo "Portal: http://$(HOST):$(PORT)/  (demo users above; password: $${DEMO_PASSWORD:-demo-Password-2026}; links in e-mails and PDFs: $(or $(SITE_URL),SITE_URL of .env))"; \
	$(MANAGE) runserver $(HOST):$(PORT)

test: $(VENV)/.installed-test
	@bash tests/run.sh

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# Vietnamese is the source language; locale/en holds the English catalogue.
# Both django.po and django.mo are committed, so CI and `make run` need no gettext.
# Test code, the benchmark and the virtualenv never feed the catalogue.
messages: $(VENV)/.installed
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=tests --ignore=bench --ignore=var --ignore=conftest.py --no-obsolete
	$(MANAGE) compilemessages -l en --ignore=.venv

# The benchmark needs the app and its own tools only (bench/README.md).
$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	@touch $@ $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run --full

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) var db.sqlite3
