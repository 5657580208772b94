# The two commands a planning office needs: `make run` and `make test`.
# Both create the virtual environment from requirements.lock when it is missing.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: run test ui lint lock clean master template bench

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# This machine's pip settings name local index folders that may not exist;
	@# their "Location ... is ignored" warnings are filtered, every other line is kept.
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock 2>&1 \
		| { grep -v "^WARNING: Location 'file:" || true; }
	touch $(STAMP)

# Python writes no bytecode cache where PYTHONDONTWRITEBYTECODE is set (as on some shared servers), and then
# compiles every module of the project again in each process: about 0.15 s per start of the code location.
# The caches are written here once, and again only for changed sources (__pycache__ is git-ignored).
BYTECODE := $(VENV)/.bytecode-compiled
$(BYTECODE): $(STAMP) $(shell find pipelines assets evaluation bench -name '*.py' 2>/dev/null)
	$(BIN)/python -m compileall -q pipelines assets evaluation bench > /dev/null
	touch $(BYTECODE)

$(DAGSTER_HOME)/dagster.yaml: pipelines/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp pipelines/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## run: refresh every asset on data/raw and print the per-project summary
run: $(STAMP) $(BYTECODE) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pipelines.cli run $(ARGS)

## test: run the whole test suite
test: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pytest

## master: write a KPI master from a strategy folder's published table (FROM=data/raw/otaru)
master: $(STAMP)
	@test -n "$(FROM)" || { echo "FROM を指定してください (例: make master FROM=data/raw/otaru) / set FROM, e.g. make master FROM=data/raw/otaru"; exit 2; }
	$(BIN)/python -m pipelines.cli master --from $(FROM)

## template: write each department's submission template for a fiscal year (FY=2020)
## into data/templates/ (or KPI_TEMPLATES_DIR)
template: $(STAMP)
	@test -n "$(FY)" || { echo "FY を指定してください (例: make template FY=2020) / set FY, e.g. make template FY=2020"; exit 2; }
	$(BIN)/python -m pipelines.cli template --fiscal-year $(FY)

## bench: time the refresh on synthetic strategies of SIZES KPI-years (default 10^4 and 1.74 x 10^6;
## add 17410000 for the largest, which takes long) and write the table to docs/performance.md
SIZES ?= 10000 1741000
bench: $(STAMP) $(BYTECODE) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m bench.run --sizes $(SIZES)

## ui: start the Dagster UI on http://127.0.0.1:3000
ui: $(STAMP) $(BYTECODE) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev --host 127.0.0.1 --port 3000 -w workspace.yaml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint sql

## lock: re-pin requirements.lock from pyproject.toml (needs network access to PyPI)
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra dev --generate-hashes \
		pyproject.toml -o requirements.lock

clean:
	rm -rf data/warehouse data/reports .dagster_home
