# OneCard: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help run install migrate seed test lint check-deploy pytest bench up clean

help:
	@echo "make run    - install into .venv, migrate, seed demo data, serve http://$(HOST):$(PORT)"
	@echo "make test   - ruff, lint-imports, makemigrations --check, check --deploy, pytest"
	@echo "make bench  - benchmarks on PostgreSQL and Redis, results in bench/results.json"
	@echo "make up     - the production-shaped stack (gunicorn, celery worker and beat) on PostgreSQL and Redis; Ctrl-C stops it"

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --json-file var/demo.json

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
	    EMAIL_URL=$${EMAIL_URL:-smtp://127.0.0.1:25} \
	    $(PY) manage.py check --deploy --fail-level WARNING

pytest: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint check-deploy pytest

# Benchmarks run on PostgreSQL and Redis; each makes and drops its own databases.
# wrk loads the HTTP benchmarks; django-easy-audit is their comparison baseline only (not a dependency).
bench: $(STAMP)
	@command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	@$(PY) -c 'import easyaudit' 2>/dev/null || $(PY) -m pip install --quiet django-easy-audit==1.3.9
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/onecard} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	    $(PY) -m bench $(BENCH_ARGS)

# A production-shaped stack on this machine: PostgreSQL, Redis, gunicorn, a Celery
# worker and beat, with DJANGO_DEBUG=0. $(UP_ENV) (git-ignored) keeps the stack's keys,
# made once, and takes UP_DATABASE_URL, UP_REDIS_URL and UP_EMAIL_URL afresh on every run.
UP_ENV ?= var/up.env
UP_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/onecard_up
UP_REDIS_URL ?= redis://127.0.0.1:6379/5
UP_EMAIL_URL ?= filemail://$(CURDIR)/var/up/mail
.PHONY: $(UP_ENV)
$(UP_ENV): | $(STAMP)
	@env -u DJANGO_DEBUG $(PY) manage.py up_prepare env $(UP_ENV) \
	    --database-url '$(UP_DATABASE_URL)' --redis-url '$(UP_REDIS_URL)' --email-url '$(UP_EMAIL_URL)'

up: $(UP_ENV)
	set -a && . $(abspath $(UP_ENV)) && set +a && \
	    $(PY) manage.py up_prepare services && \
	    $(PY) manage.py migrate --noinput && \
	    $(PY) manage.py collectstatic --noinput -v 0 && \
	    $(PY) manage.py seed_demo --force && \
	    PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec $(VENV)/bin/honcho start --procfile Procfile --port $(PORT)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
