# OneCard: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help run install migrate seed test lint check-deploy pytest bench up clean messages

help:
	@echo "make run    - install into .venv, migrate, seed demo data, serve http://$(HOST):$(PORT)"
	@echo "make test   - ruff, lint-imports, makemigrations --check, check --deploy, pytest"
	@echo "make bench  - benchmarks on PostgreSQL and Redis, results in bench/results.json"
	@echo "make up     - the production-shaped stack (gunicorn, celery worker and beat) on PostgreSQL and Redis"

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@echo "OneCard is starting on http://$(HOST):$(PORT)/  (staff admin: http://$(HOST):$(PORT)/admin/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

# Production-like environment with throwaway secrets: proves the deploy checks pass.
check-deploy: $(STAMP)
	@keys="$$(env -u DJANGO_DEBUG $(PY) manage.py keys_generate)" && \
	env $$keys DJANGO_DEBUG=0 \
	    DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	    DJANGO_ALLOWED_HOSTS=onecard.example \
	    DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/onecard} \
	    REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	    $(PY) manage.py check --deploy --fail-level WARNING

pytest: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint check-deploy pytest

# Benchmarks run on PostgreSQL and Redis; each makes and drops its own databases.
bench: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/onecard} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	    $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
