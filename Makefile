# Entry points. On a fresh clone, `make up` runs the system and `make test` runs every test;
# both create the virtual environment from the hashed lockfile first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-from-lock
# The browser tests drive Debian's Chromium (Playwright cannot download a browser here).
CHROMIUM ?= /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install browser messages up down test test-unit test-brokers bench bench-intake bench-replay bench-notify bench-backup schemas asyncapi config-reference lock clean

help:
	@echo "make up       run broker + intake + casefile + notify + the web app in the foreground (Ctrl-C stops)"
	@echo "make down     stop a stack left running"
	@echo "make test     run the whole test suite (unit, integration, browser, end-to-end)"
	@echo "make test-brokers  only the core flows run on both Kafka brokers (Tansu, SeaweedFS's gateway)"
	@echo "make bench    the four benchmarks below"
	@echo "make bench-intake  intake's commands/s and p50/p99 latency beside a no-work FastAPI baseline"
	@echo "make bench-replay  casefile's full rebuild of 200,000 events beside a bare Kafka consumer"
	@echo "make bench-notify  100,000 open inquiries falling due: alert latency, tick cost, memory"
	@echo "make bench-backup  a 150,000-message log exported to an encrypted archive and restored"
	@echo "make messages regenerate the web app's message catalogue (services/web/translations)"
	@echo "make schemas  regenerate contracts/schemas/*.json and contracts/asyncapi.json from the event models"
	@echo "make asyncapi regenerate only the AsyncAPI document of the topics"
	@echo "make config-reference  regenerate deploy/CONFIGURATION.md and deploy/kafka/acls.sh from the code"
	@echo "make lock     re-resolve requirements.lock and requirements-runtime.lock from pyproject.toml (needs uv)"

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is required (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@touch $@

install: $(STAMP)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "The browser tests need Chromium at $(CHROMIUM):" \
		"install it, or run make with CHROMIUM=/path/to/chromium"; exit 1; }
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium

browser: $(CHROMIUM)

up: install
	$(PY) -m deploy.stack up

down: install
	$(PY) -m deploy.stack down

test: install browser
	CHROMIUM_PATH=$(CHROMIUM) $(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

# Tests decorated with on_every_broker(): their ids end in -tansu or -seaweedfs.
test-brokers: install
	$(PY) -m pytest tests/integration -k "tansu or seaweedfs"

bench: bench-intake bench-replay bench-notify bench-backup

bench-intake: install
	$(PY) -m bench.intake

bench-replay: install
	$(PY) -m bench.replay

bench-notify: install
	$(PY) -m bench.notify

bench-backup: install
	$(PY) -m bench.backup

messages: install
	$(PY) -m services.web.messages

schemas: install
	$(PY) -m contracts.schemas
	$(PY) -m contracts.asyncapi

asyncapi: install
	$(PY) -m contracts.asyncapi

config-reference: install
	$(PY) -m deploy.configuration
	$(PY) -m deploy.provision acl-script --output deploy/kafka/acls.sh

# requirements.lock: everything, tests and tools included (what `make install` puts in .venv).
# requirements-runtime.lock: what the services need to run, no more (what the container image
# installs), constrained to the same versions and hashes.
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -c requirements.lock \
		-o requirements-runtime.lock

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
