# The after-sales platform. Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LIBS := libs/contracts libs/messaging libs/kit
SERVICES := $(wildcard services/*/pyproject.toml)
PROJECTS := $(LIBS) $(patsubst %/pyproject.toml,%,$(SERVICES))
STAMP := $(VENV)/.installed
PYTEST := $(BIN)/pytest

.PHONY: install run test test-unit test-integration lint format docs bench infra system-packages clean

$(STAMP): requirements-dev.txt $(foreach p,$(PROJECTS),$(p)/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv
	@$(BIN)/uv pip install -q --python $(BIN)/python $(foreach p,$(PROJECTS),-e $(p)) -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) system-packages

system-packages:
	@scripts/install-system-packages.sh

infra:
	@scripts/ensure-infra.sh

## run: every service in one process on http://127.0.0.1:8000 (SQLite files under var/, in-process transport)
run: install
	$(BIN)/aftersales run

## test: unit, contract, deploy, integration and end-to-end tests on real PostgreSQL and RabbitMQ
test: install infra
	$(PYTEST) tests -m "not fault" -q -p no:cacheprovider
	$(PYTEST) tests -m fault -q -p no:cacheprovider

test-unit: install
	$(PYTEST) tests/unit tests/contracts -q

lint: install
	$(BIN)/ruff check libs services tests bench deploy
	$(BIN)/ruff format --check libs services
	$(BIN)/mypy libs/contracts/contracts libs/messaging/messaging libs/kit/kit $(foreach s,$(SERVICES),$(dir $(s))$(notdir $(patsubst %/,%,$(dir $(s)))))

format: install
	$(BIN)/ruff format libs services tests bench
	$(BIN)/ruff check --fix libs services tests bench

## docs: regenerate event schemas, AsyncAPI, OpenAPI and deployment files
docs: install
	$(BIN)/python -m contracts.schemas snapshot
	$(BIN)/python -m contracts.asyncapi
	$(BIN)/aftersales export
	@if [ -f deploy/generate.py ]; then $(BIN)/python deploy/generate.py; fi

## bench: throughput and latency against bare baselines measured in the same run
bench: install infra
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
