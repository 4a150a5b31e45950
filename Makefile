# kong-slo: `make up` deploys the stack (default: local); `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= local
ARGS ?=

# The local file backend keeps state inside the project (git-ignored). Point PULUMI_BACKEND_URL at a
# durable backend (s3://…, Pulumi Cloud) for shared stacks, and set your own PULUMI_CONFIG_PASSPHRASE.
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
export PULUMI_CONFIG_PASSPHRASE ?=
export PULUMI_SKIP_UPDATE_CHECK := true

.PHONY: help setup up preview destroy teardown render validate test test-live e2e tools golden lint bench

help:
	@echo "make up [STACK=local]      deploy a stack (needs the Pulumi CLI)"
	@echo "make preview [STACK=…]     show what would change"
	@echo "make destroy [STACK=…]     remove everything the stack created"
	@echo "make render [STACK=…]      write what the stack would deploy to out/STACK"
	@echo "make test                  lint and run the whole test suite"
	@echo "make test-live             lifecycle tests against a real Kong / Dynatrace"
	@echo "make tools                 build the real collector and Pulumi CLI into .tools/bin (needs Go)"
	@echo "make e2e                   end-to-end tests on the real collector and Pulumi engine (runs make tools)"
	@echo "make teardown STACK=pr-N   destroy and remove a test stack (refuses: $(PROTECTED_STACKS))"
	@echo "make golden                regenerate the golden files after an intended change"
	@echo "make bench                 print the benchmark figures (collector throughput, program evaluation, API calls)"

$(BIN)/.installed: pyproject.toml requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

setup: $(BIN)/.installed

define need_pulumi
	@command -v pulumi >/dev/null || { echo "The Pulumi CLI is needed: curl -fsSL https://get.pulumi.com | sh (see https://www.pulumi.com/docs/install/)"; exit 2; }
endef

up: setup
	$(need_pulumi)
	$(BIN)/kong-slo validate --stack $(STACK)
	@mkdir -p .pulumi-state
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK) $(ARGS)

preview: setup
	$(need_pulumi)
	$(BIN)/kong-slo validate --stack $(STACK)
	@mkdir -p .pulumi-state
	pulumi stack select --create $(STACK)
	pulumi preview --stack $(STACK) --diff $(ARGS)

destroy: setup
	$(need_pulumi)
	pulumi destroy --stack $(STACK) $(ARGS)

# `make teardown STACK=pr-12` destroys a test stack and removes it from the backend. It needs the stack named
# explicitly and refuses the long-lived stacks below (use `make destroy` for those, which asks first).
PROTECTED_STACKS := dev prod

ifneq ($(filter teardown,$(MAKECMDGOALS)),)
  ifeq ($(filter command line environment,$(origin STACK)),)
    $(error make teardown: name the stack to tear down, e.g. make teardown STACK=pr-12)
  endif
  ifneq ($(words $(STACK)),1)
    $(error make teardown: STACK must name exactly one stack, got "$(STACK)")
  endif
  ifneq ($(filter $(STACK),$(PROTECTED_STACKS)),)
    $(error make teardown: $(STACK) is protected (PROTECTED_STACKS in the Makefile); use make destroy STACK=$(STACK))
  endif
endif

teardown: setup
	$(need_pulumi)
	@[[ "$$STACK" =~ ^[A-Za-z0-9_.-]+$$ ]] || { echo "make teardown: '$$STACK' is not a stack name ([A-Za-z0-9_.-])" >&2; exit 2; }
	pulumi destroy --stack "$$STACK" --yes --remove $(ARGS)

validate: setup
	$(BIN)/kong-slo validate --stack $(STACK)

render: setup
	$(BIN)/kong-slo render --stack $(STACK) --out out/$(STACK)

lint: setup
	$(BIN)/ruff check .

# The live suite needs a real Kong / Dynatrace (see README: Live tests); `make test-live` runs it.
test: setup lint
	$(BIN)/python -m pytest --ignore=tests/live --ignore=tests/e2e

# The real engines, built from the Go module proxy at the versions in tools/versions.env; a second run is a no-op.
tools:
	bash tools/build.sh

e2e: setup tools
	$(BIN)/python -m pytest tests/e2e -q -rs

test-live: setup
	$(BIN)/python -m pytest tests/live -m live -rs

bench: setup tools
	$(BIN)/python benchmarks/collector_throughput.py
	$(BIN)/python benchmarks/program_eval.py
	$(BIN)/python benchmarks/api_calls.py
	$(BIN)/python benchmarks/doctor_calls.py

golden: setup
	KONG_SLO_UPDATE_GOLDEN=1 $(BIN)/python -m pytest tests/unit/test_golden.py -q
