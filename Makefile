# Two commands for a fresh machine with Python 3.11+:
#   make run    the demo on http://127.0.0.1:8000 (SQLite, catalogue and demo accounts loaded),
#               with the worker that sends its email beside it
#   make test   the whole test suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# The local demo runs over plain HTTP on 127.0.0.1 without two-step sign-in; production keeps
# the safe defaults (HTTPS only, HSTS, TOTP required).
DEMO_ENV := DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_HSTS_SECONDS=0 DJANGO_REQUIRE_2FA=0

.PHONY: run test bench bench-engine faults properties security-scan install install-test

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The demo's own settings, written once and kept: a random secret key and demo password.
.env:
	@$(PYTHON) -c 'import secrets; print("DJANGO_SECRET_KEY=" + secrets.token_urlsafe(50)); print("DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost"); print("DEMO_PASSWORD=" + secrets.token_urlsafe(12))' > $@
	@echo "Wrote .env with a new secret key and demo password."

run: install .env
	$(DEMO_ENV) $(MANAGE) migrate --noinput
	$(DEMO_ENV) $(MANAGE) collectstatic --noinput --verbosity 0
	$(DEMO_ENV) $(MANAGE) load_catalogue
	$(DEMO_ENV) $(MANAGE) load_demo
	@# The mail worker runs beside the web server and stops with it (Ctrl-C stops both).
	$(DEMO_ENV) $(MANAGE) qcluster & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(MANAGE) runserver 127.0.0.1:8000

test: install-test
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-not-secret} $(BIN)/python -m pytest $(PYTEST_ARGS)

# The property-based tests with 500 generated inputs for every form and URL parameter
# (make test sends 25 to each).
properties: install-test
	PROPERTY_EXAMPLES=500 DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-not-secret} $(BIN)/python -m pytest tests/security/test_forms_properties.py $(PYTEST_ARGS)

# Engine speed on the shipped catalogue and on 1,000 to 5,000 generated treatments.
bench-engine: install-test
	$(BIN)/python -m tests.benchmarks.engine_benchmark

# Static security scan of the project's code: any high-severity finding fails.
security-scan: install-test
	$(BIN)/bandit --quiet --recursive clinic consultations treatments --exclude '*/migrations/*' --severity-level high

# Pages under load: gunicorn (2 workers) on PostgreSQL, measured with wrk (Debian's package).
# Uses its own database, clinic_bench, on BENCH_DATABASE_URL's server (127.0.0.1 by default).
bench: install-test
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python -m tests.benchmarks.http_benchmark

# Restart a private PostgreSQL twice while intakes are submitted; stop the mail server, then
# kill the mail worker mid-send, while patients ask questions: check nothing is lost or sent
# twice.
faults: install-test
	$(BIN)/python -m tests.benchmarks.faults
