# OneCard: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help run install frontend migrate seed test lint check-deploy pytest bench up clean

help:
	@echo "make run    - install into .venv, migrate, seed demo data, serve http://$(HOST):$(PORT)"
	@echo "make test   - ruff, lint-imports, makemigrations --check, check --deploy, pytest"
	@echo "make bench  - benchmarks on PostgreSQL and Redis, results in bench/results.json"
	@echo "make frontend - build GOV.UK Frontend into static/vendor/ with npm (run, test and up do it)"
	@echo "make up     - the production-shaped stack (gunicorn, celery worker and beat, two witnesses, a mirror) on PostgreSQL and Redis; Ctrl-C stops it"

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

# GOV.UK Frontend, built into static/vendor/govuk-frontend/ (git-ignored) from the versions pinned in
# package-lock.json: frontend/govuk-frontend.scss compiled with OneCard's settings (system and
# Chinese fonts, no GOV.UK font or images), and GOV.UK Frontend's compiled JavaScript module.
# npm runs no package scripts. Rebuilt when the lock file or the Sass changes.
GOVUK_FRONTEND := static/vendor/govuk-frontend
GOVUK_DIST := node_modules/govuk-frontend/dist/govuk
FRONTEND_STAMP := $(GOVUK_FRONTEND)/.built

$(FRONTEND_STAMP): package.json package-lock.json $(wildcard frontend/*.scss)
	@command -v npm >/dev/null 2>&1 || { echo "make: npm is missing. OneCard builds its GOV.UK Frontend styles and scripts with it: install Node.js 20 or later (with npm) and run make again." >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(GOVUK_FRONTEND) && mkdir -p $(GOVUK_FRONTEND)
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules \
	    frontend/govuk-frontend.scss $(GOVUK_FRONTEND)/govuk-frontend.min.css
	cp $(GOVUK_DIST)/govuk-frontend.min.js $(GOVUK_DIST)/govuk-frontend.min.js.map $(GOVUK_FRONTEND)/
	@touch $@

frontend: $(FRONTEND_STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --json-file var/demo.json

run: seed frontend
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
	    EMAIL_URL=$${EMAIL_URL:-smtp://127.0.0.1:25} \
	    ONECARD_CREDENTIAL_ISSUER_URL=https://onecard.example \
	    $(PY) manage.py check --deploy --fail-level WARNING

pytest: $(STAMP) $(FRONTEND_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint check-deploy pytest

# Benchmarks run on PostgreSQL and Redis; each makes and drops its own databases.
# wrk loads the HTTP benchmarks; django-easy-audit is their comparison baseline only (not a dependency).
bench: $(STAMP) $(FRONTEND_STAMP)
	@command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	@$(PY) -c 'import easyaudit' 2>/dev/null || $(PY) -m pip install --quiet django-easy-audit==1.3.9
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/onecard} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	    $(PY) -m bench $(BENCH_ARGS)

# A production-shaped stack on this machine: PostgreSQL, Redis, gunicorn, a Celery worker,
# the sequencer's own worker, beat, two witness processes and a mirror, with DJANGO_DEBUG=0.
# $(UP_ENV) (git-ignored) keeps the stack's keys, made once, and takes UP_DATABASE_URL,
# UP_REDIS_URL and UP_EMAIL_URL afresh on every run. Three database roles: postgres owns the
# tables and runs migrations; onecard_up_web serves and works; onecard_up_sequencer alone
# writes the log. Each witness has its own key and state under var/up-witness/; checkpoints
# are published once both cosigned. The mirror keeps its own checked copy of the log under
# var/up-mirror/<log key id>/ and serves it on :7390, where the portal's Verify can read it.
UP_ENV ?= var/up.env
UP_DATABASE ?= onecard_up
UP_OWNER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(UP_DATABASE)
UP_DATABASE_URL ?= postgres://onecard_up_web@127.0.0.1:5432/$(UP_DATABASE)
UP_SEQUENCER_DATABASE_URL ?= postgres://onecard_up_sequencer@127.0.0.1:5432/$(UP_DATABASE)
UP_REDIS_URL ?= redis://127.0.0.1:6379/5
UP_EMAIL_URL ?= filemail://$(CURDIR)/var/up/mail
.PHONY: $(UP_ENV)
$(UP_ENV): | $(STAMP)
	@env -u DJANGO_DEBUG $(PY) manage.py up_prepare env $(UP_ENV) \
	    --database-url '$(UP_DATABASE_URL)' --redis-url '$(UP_REDIS_URL)' --email-url '$(UP_EMAIL_URL)' \
	    --issuer-url 'http://$(HOST):$(PORT)'

var/up-witness/policy: | $(STAMP)
	@mkdir -p var/up-witness && chmod 700 var/up-witness && \
	for n in 1 2; do test -f var/up-witness/witness$$n.key || \
	    $(PY) ledger/tools/onecard_witness.py generate-key --name witness$$n.up.onecard/w --key-file var/up-witness/witness$$n.key >/dev/null; done && \
	{ echo "# The witnesses of make up: two processes with their own keys and state; both must cosign."; \
	  for n in 1 2; do echo "witness w$$n $$($(PY) ledger/tools/onecard_witness.py show-key --name witness$$n.up.onecard/w --key-file var/up-witness/witness$$n.key) http://127.0.0.1:738$$n"; done; \
	  echo "group both all w1 w2"; echo "quorum both"; } > $@

up: $(UP_ENV) var/up-witness/policy $(FRONTEND_STAMP)
	set -a && . $(abspath $(UP_ENV)) && set +a && \
	    export ONECARD_LEDGER_WITNESS_POLICY_FILE=$(CURDIR)/var/up-witness/policy && \
	    export UP_SEQUENCER_DATABASE_URL=$(UP_SEQUENCER_DATABASE_URL) && \
	    DATABASE_URL=$(UP_OWNER_DATABASE_URL) $(PY) manage.py up_prepare services && \
	    for role in onecard_up_web onecard_up_sequencer; do \
	        psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$$role'" | grep -q 1 || \
	        psql -h 127.0.0.1 -U postgres -qc "CREATE ROLE $$role LOGIN"; done && \
	    DATABASE_URL=$(UP_OWNER_DATABASE_URL) $(PY) manage.py migrate --noinput && \
	    psql -h 127.0.0.1 -U postgres -d $(UP_DATABASE) -qc "GRANT ALL ON ALL TABLES IN SCHEMA public TO onecard_up_web; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO onecard_up_web" && \
	    $(PY) manage.py ledger grants-sql --web-role onecard_up_web --sequencer-role onecard_up_sequencer | psql -h 127.0.0.1 -U postgres -d $(UP_DATABASE) -q && \
	    $(PY) manage.py collectstatic --noinput -v 0 && \
	    export UP_LOG_KEY="$$($(PY) manage.py ledger key)" && \
	    export UP_LOG_URL=http://$(HOST):$(PORT)/log && \
	    export UP_MIRROR_DIR=var/up-mirror/$$(echo "$$UP_LOG_KEY" | cut -d+ -f2) && \
	    export ONECARD_LEDGER_MIRROR_URLS=http://$(HOST):7390 && \
	    DATABASE_SEQUENCER_URL=$$UP_SEQUENCER_DATABASE_URL $(PY) manage.py seed_demo --force && \
	    PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec $(VENV)/bin/honcho start --procfile Procfile --port $(PORT)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var/witness var/tiles node_modules $(GOVUK_FRONTEND)
