# Entry points. On a fresh clone, `make up` runs the system and `make test` runs every test;
# both create the virtual environment from the hashed lockfile first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-from-lock

.PHONY: help install up down test test-unit test-brokers bench bench-intake bench-replay bench-notify schemas asyncapi lock clean

help:
	@echo "make up       run broker + intake + casefile + notify in the foreground (Ctrl-C stops)"
	@echo "make down     stop a stack left running"
	@echo "make test     run the whole test suite (unit, integration, end-to-end)"
	@echo "make test-brokers  only the core flows run on both Kafka brokers (Tansu, SeaweedFS's gateway)"
	@echo "make bench    the three benchmarks below"
	@echo "make bench-intake  intake's commands/s and p50/p99 latency beside a no-work FastAPI baseline"
	@echo "make bench-replay  casefile's full rebuild of 200,000 events beside a bare Kafka consumer"
	@echo "make bench-notify  100,000 open inquiries falling due: alert latency, tick cost, memory"
	@echo "make schemas  regenerate contracts/schemas/*.json and contracts/asyncapi.json from the event models"
	@echo "make asyncapi regenerate only the AsyncAPI document of the topics"
	@echo "make lock     re-resolve requirements.lock from pyproject.toml (needs uv)"

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is required (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@touch $@

install: $(STAMP)

up: install
	$(PY) -m deploy.stack up

down: install
	$(PY) -m deploy.stack down

test: install
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

# Tests decorated with on_every_broker(): their ids end in -tansu or -seaweedfs.
test-brokers: install
	$(PY) -m pytest tests/integration -k "tansu or seaweedfs"

bench: bench-intake bench-replay bench-notify

bench-intake: install
	$(PY) -m bench.intake

bench-replay: install
	$(PY) -m bench.replay

bench-notify: install
	$(PY) -m bench.notify

schemas: install
	$(PY) -m contracts.schemas
	$(PY) -m contracts.asyncapi

asyncapi: install
	$(PY) -m contracts.asyncapi

lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
