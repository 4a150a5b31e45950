# kong-slo: `make up` deploys the stack (default: local); `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= local
ARGS ?=

# Every Pulumi command runs through kong_slo/pulumi_cli.py (also `make pulumi ARGS='…'`): one backend (yours in
# PULUMI_BACKEND_URL, else .pulumi-state/ in the project), and an empty passphrase for the local stack only.
PULUMI_RUN = $(BIN)/python -m kong_slo.pulumi_cli --stack $(STACK) --
# Installs stay quiet: setuptools' build warnings go to the terminal even under --quiet.
PIP = PYTHONWARNINGS=ignore $(BIN)/python -m pip --quiet --disable-pip-version-check

.PHONY: sshd help setup runtime preflight up preview destroy pulumi teardown render validate test test-lowest test-live e2e tools golden lint bench

help:
	@echo "make help                  this list"
	@echo "make up [STACK=local]      deploy a stack (checks Docker and Pulumi first; installs a pinned Pulumi CLI if none)"
	@echo "make preview [STACK=…]     show what would change"
	@echo "make destroy [STACK=…]     remove everything the stack created"
	@echo "make pulumi ARGS='…' [STACK=…]  any pulumi command, on the same backend and secrets as the targets above"
	@echo "make validate [STACK=…]    check a stack file"
	@echo "make render [STACK=…]      write what the stack would deploy to out/STACK"
	@echo "make setup                 create .venv with everything, test tools included (make up installs less)"
	@echo "make test                  lint and run the whole test suite"
	@echo "make lint                  ruff, and zizmor on the GitHub workflows"
	@echo "make test-live             lifecycle tests against a real Kong / Dynatrace"
	@echo "make test-lowest           the suite on the lowest dependency versions pyproject.toml allows"
	@echo "make tools                 build the real collector and Pulumi CLI into .tools/bin (needs Go)"
	@echo "make e2e                   end-to-end tests on the real collector and Pulumi engine (runs make tools)"
	@echo "make teardown STACK=pr-N   destroy and remove a test stack (refuses: $(PROTECTED_STACKS))"
	@echo "make golden                regenerate the golden files after an intended change"
	@echo "make bench                 print the benchmark figures (throughput, queue growth, program, calls, up, alerts)"

# What running needs (the package and its runtime dependencies), then the test tools on top.
$(BIN)/.runtime: pyproject.toml requirements.txt
	@$(PYTHON) kong_slo/preflight.py --python-only --venv $(VENV)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing kong-slo and what it needs to run into $(VENV)..."
	@$(PIP) install --upgrade pip
	@$(PIP) install -e .
	@touch $@

$(BIN)/.installed: $(BIN)/.runtime
	@echo "Installing the test tools into $(VENV)..."
	@$(PIP) install -e '.[test]'
	@touch $@

runtime: $(BIN)/.runtime

setup: $(BIN)/.installed

# Before anything is installed: the .venv's Python, Docker for a local stack, and which Pulumi CLI will run (and
# whether it can run the policy pack ARGS names). Run as a file, so that any Python 3 reaches its version message.
preflight:
	@$(PYTHON) kong_slo/preflight.py --stack $(STACK) --venv $(VENV) $(if $(findstring --policy-pack,$(ARGS)),--policy-pack)

up: preflight runtime
	$(BIN)/kong-slo validate --stack $(STACK)
	$(PULUMI_RUN) stack select --create $(STACK)
	$(PULUMI_RUN) up --stack $(STACK) $(ARGS)

preview: preflight runtime
	$(BIN)/kong-slo validate --stack $(STACK)
	$(PULUMI_RUN) stack select --create $(STACK)
	$(PULUMI_RUN) preview --stack $(STACK) --diff $(ARGS)

destroy: runtime
	$(PULUMI_RUN) destroy --stack $(STACK) $(ARGS)

pulumi: runtime
	@$(PULUMI_RUN) $(ARGS)

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

teardown: runtime
	@[[ "$$STACK" =~ ^[A-Za-z0-9_.-]+$$ ]] || { echo "make teardown: '$$STACK' is not a stack name ([A-Za-z0-9_.-])" >&2; exit 2; }
	$(PULUMI_RUN) destroy --stack "$$STACK" --yes --remove $(ARGS)

validate: runtime
	$(BIN)/kong-slo validate --stack $(STACK)

render: runtime
	$(BIN)/kong-slo render --stack $(STACK) --out out/$(STACK)

# ruff on the Python; zizmor (offline: no GitHub API) on the workflows, with .github/zizmor.yml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/zizmor --offline --no-progress .github/workflows

# The live suite needs a real Kong / Dynatrace (see README: Live tests); `make test-live` runs it.
test: setup lint
	$(BIN)/python -m pytest --ignore=tests/live --ignore=tests/e2e

# The real engines, built from the Go module proxy at the versions in tools/versions.env; a second run is a no-op.
tools:
	bash tools/build.sh

e2e: setup tools sshd
	$(BIN)/python -m pytest tests/e2e -q -rs

# The kong.conf node tests run Debian's sshd on 127.0.0.1 (one per Kong node) and the real ssh client.
sshd:
	@test -x /usr/sbin/sshd && command -v ssh >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client; }

# The lowest version of every direct dependency that pyproject.toml allows (uv's lowest-direct resolution), in a
# virtualenv of its own: keeps the lower bounds honest.
test-lowest:
	@test -x .venv-lowest/bin/python || $(PYTHON) -m venv .venv-lowest
	.venv-lowest/bin/python -m pip install --quiet uv
	.venv-lowest/bin/uv pip install --quiet --python .venv-lowest/bin/python --resolution lowest-direct -e '.[test]'
	.venv-lowest/bin/python -m pytest tests/unit tests/program tests/providers -q

test-live: setup
	$(BIN)/python -m pytest tests/live -m live -rs

bench: setup tools
	$(BIN)/python benchmarks/collector_throughput.py
	$(BIN)/python benchmarks/program_eval.py
	$(BIN)/python benchmarks/api_calls.py
	$(BIN)/python benchmarks/doctor_calls.py
	$(BIN)/python benchmarks/pulumi_up.py
	$(BIN)/python benchmarks/alert_timing.py
	$(BIN)/python benchmarks/queue_growth.py

golden: setup
	KONG_SLO_UPDATE_GOLDEN=1 $(BIN)/python -m pytest tests/unit/test_golden.py -q
