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
	witnesses="$$(mktemp -d)" && trap 'rm -rf "$$witnesses"' EXIT && \
	{ for n in 1 2; do echo "witness w$$n $$($(PY) ledger/tools/onecard_witness.py generate-key --name w$$n.example/w --key-file $$witnesses/w$$n.key) https://w$$n.example"; done; \
	  echo "group both all w1 w2"; echo "quorum both"; } > $$witnesses/policy && \
	env $$keys DJANGO_DEBUG=0 ONECARD_LEDGER_WITNESS_POLICY_FILE=$$witnesses/policy \
	    DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	    DJANGO_ALLOWED_HOSTS=onecard.example \
	    DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/onecard} \
	    REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
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

# A production-shaped stack on this machine: PostgreSQL, Redis, gunicorn, a Celery worker,
# the sequencer's own worker, beat and two witness processes, with DJANGO_DEBUG=0 and keys
# kept in var/up.env (git-ignored). Three database roles: postgres owns the tables and runs
# migrations; onecard_up_web serves and works; onecard_up_sequencer alone writes the log.
# Each witness has its own key and state under var/up-witness/; checkpoints are published
# once both cosigned.
UP_DATABASE ?= onecard_up
UP_OWNER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(UP_DATABASE)
UP_DATABASE_URL ?= postgres://onecard_up_web@127.0.0.1:5432/$(UP_DATABASE)
UP_SEQUENCER_DATABASE_URL ?= postgres://onecard_up_sequencer@127.0.0.1:5432/$(UP_DATABASE)
UP_REDIS_URL ?= redis://127.0.0.1:6379/5
var/up.env: | $(STAMP)
	@mkdir -p var && umask 077 && { \
	    env -u DJANGO_DEBUG $(PY) manage.py keys_generate; \
	    echo "DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	    echo "DJANGO_DEBUG=0"; \
	    echo "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost"; \
	    echo "DJANGO_SECURE_SSL_REDIRECT=0"; \
	    echo "DATABASE_URL=$(UP_DATABASE_URL)"; \
	    echo "UP_SEQUENCER_DATABASE_URL=$(UP_SEQUENCER_DATABASE_URL)"; \
	    echo "REDIS_URL=$(UP_REDIS_URL)"; \
	    echo "ONECARD_LEDGER_WITNESS_POLICY_FILE=var/up-witness/policy"; \
	} > var/up.env && echo "wrote var/up.env (keys for the local production-shaped stack)"

var/up-witness/policy: var/up.env
	@mkdir -p var/up-witness && chmod 700 var/up-witness && \
	for n in 1 2; do test -f var/up-witness/witness$$n.key || \
	    $(PY) ledger/tools/onecard_witness.py generate-key --name witness$$n.up.onecard/w --key-file var/up-witness/witness$$n.key >/dev/null; done && \
	{ echo "# The witnesses of make up: two processes with their own keys and state; both must cosign."; \
	  for n in 1 2; do echo "witness w$$n $$($(PY) ledger/tools/onecard_witness.py show-key --name witness$$n.up.onecard/w --key-file var/up-witness/witness$$n.key) http://127.0.0.1:738$$n"; done; \
	  echo "group both all w1 w2"; echo "quorum both"; } > $@

up: var/up.env var/up-witness/policy
	@pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not running on 127.0.0.1:5432" >&2; exit 1; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis is not running on 127.0.0.1:6379" >&2; exit 1; }
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(UP_DATABASE)'" | grep -q 1 || createdb -h 127.0.0.1 -U postgres $(UP_DATABASE)
	@for role in onecard_up_web onecard_up_sequencer; do \
	    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$$role'" | grep -q 1 || \
	    psql -h 127.0.0.1 -U postgres -qc "CREATE ROLE $$role LOGIN"; done
	set -a && . ./var/up.env && set +a && \
	    DATABASE_URL=$(UP_OWNER_DATABASE_URL) $(PY) manage.py migrate --noinput && \
	    psql -h 127.0.0.1 -U postgres -d $(UP_DATABASE) -qc "GRANT ALL ON ALL TABLES IN SCHEMA public TO onecard_up_web; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO onecard_up_web" && \
	    $(PY) manage.py ledger grants-sql --web-role onecard_up_web --sequencer-role onecard_up_sequencer | psql -h 127.0.0.1 -U postgres -d $(UP_DATABASE) -q && \
	    $(PY) manage.py collectstatic --noinput -v 0 && \
	    export UP_LOG_KEY="$$($(PY) manage.py ledger key)" && \
	    DATABASE_SEQUENCER_URL=$$UP_SEQUENCER_DATABASE_URL $(PY) manage.py seed_demo --force && \
	    PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec $(VENV)/bin/honcho start --procfile Procfile --port $(PORT)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var/witness
