# Herald: `make run` serves the API locally, `make test` runs the whole suite.
# Both install what they need into .venv first (Python 3.11+, network to PyPI only).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8000
# The test suite's worker processes (pytest-xdist): one more than the cores, since the tests
# spend part of their time waiting on the servers and processes they start (on 2 cores: 2
# workers 6 min 12 s, 3 workers 5 min 10 s, 4 workers 5 min 5 s; docs/figures.md, Tests).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
STAGE ?= dev
# checkov pins versions that conflict with requirements-dev.txt, so it has its own venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.txt | cksum | cut -d' ' -f1)
# The run-time requirements as wheels for every Lambda architecture: packaging (and so
# `make test`) installs from here with the network off.
WHEELHOUSE := $(VENV)/wheelhouse
WHEELHOUSE_STAMP := $(WHEELHOUSE)/.downloaded-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
# dynalite, a second DynamoDB for the tests, and axe-core, the inbox's accessibility check,
# pinned in package.json and package-lock.json.
HAVE_NODE := $(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo yes)
NODE_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium

.PHONY: install run test lint format clean package checkov wheelhouse dynalite chromium bench bench-local bench-cost

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	PORT=$(PORT) $(BIN)/python -m devtools.run

# What the tests need is installed side by side (pip's two venvs, npm, apt-get), then the suite.
test:
	@$(MAKE) --no-print-directory -j 5 install checkov wheelhouse dynalite chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# Printed figures, not a test: DynamoDB calls per request, list cost and requests/s.
bench: install dynalite
	$(BIN)/python -m bench.run

# Printed figures, not a test: make run as its users meet it (bench/local.py; ~15 minutes).
bench-local: install
	$(BIN)/python -m bench.local

# Printed figures: what a message costs on AWS, every call the handlers make counted and
# priced (bench/cost.py; docs/figures.md).
bench-cost: install
	$(BIN)/python -m bench.cost

# Without Node.js the dynalite tests are skipped, with the reason (CI=true fails them).
ifeq ($(HAVE_NODE),yes)
dynalite: $(NODE_STAMP)
else
dynalite:
	@echo "make: no node/npm here: the dynalite tests will be skipped (CI fails them)"
endif

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium for the inbox's browser tests (tests/inbox): Playwright drives it, since
# Playwright's own browser download cannot reach its servers. Installed only when it is
# missing (root, apt-get; the package lists are refreshed only when the install needs it).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing Debian's chromium for the browser tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq chromium >/dev/null 2>&1 \
	      || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	  else \
	    echo "make: no $(CHROMIUM) and no root apt-get: the browser tests will be skipped (CI fails them)"; \
	  fi; \
	fi

# build/cloudformation and build/terraform for STAGE (dev, prod); no AWS credentials needed.
# The functions run on the newest Python 3.12-3.14 found on PATH (Lambda deprecates 3.11 on
# 2027-06-30), which also compiles the bundle's bytecode; LAMBDA_PYTHON=python3.x chooses,
# and without one the venv's Python (3.11) is the runtime (docs/deploy.md, Python runtime).
LAMBDA_PYTHON ?= $(shell for v in 3.14 3.13 3.12; do python$$v -c '' >/dev/null 2>&1 && { echo python$$v; break; }; done)
# FRONT_DOOR=http-api puts an API Gateway HTTP API in front of the API instead of the REST
# API (docs/deploy.md, "Front door").
FRONT_DOOR ?= rest-api
package: install wheelhouse
	$(BIN)/python -m deploy.package --stage $(STAGE) --out build --wheelhouse $(WHEELHOUSE) \
	  $(if $(LAMBDA_PYTHON),--python $(LAMBDA_PYTHON)) --front-door $(FRONT_DOOR)

checkov: $(CHECKOV_STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-*
	@touch $@

wheelhouse: $(WHEELHOUSE_STAMP)

$(WHEELHOUSE_STAMP): requirements.txt | $(STAMP)
	@rm -rf $(WHEELHOUSE)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check -r requirements.txt \
	  --dest $(WHEELHOUSE) --only-binary=:all: --implementation cp \
	  --python-version $$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
	  --platform manylinux2014_x86_64 --platform manylinux2014_aarch64
	@touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .ruff_cache .hypothesis node_modules
