# The README's commands are these targets. Only python3 (3.11+) and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test test-fast lint typecheck check bench bench-report bench-experiment lock clean

$(STAMP): requirements.lock pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)

## run: generate the demo logs, load them into data/insights.duckdb, build and check the warehouse, then write
## the weekly report of the last complete week (reports/weekly/<YYYY-Www>/report.html; rewritten, as the demo
## warehouse was just rebuilt)
run: setup
	$(BIN)/insights demo
	$(BIN)/insights experiment analyze exp-bot-prompt-v2 --force
	$(BIN)/insights report weekly --force
	$(BIN)/insights report plan --force

## test: the whole test suite, slow tests included
test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

bench: setup
	$(BIN)/python -m bench.ingest

## bench-report: the weekly report on ~1 M post snapshots and ~5 M chat events (target < 60 s)
bench-report: setup
	$(BIN)/python -m bench.weekly_report

## bench-experiment: a 3-arm readout of 5 metrics over 10 M units against a hand-written DuckDB query, tea-tasting,
## pandas and polars (targets: within 1.2x of the query in process, the fastest whole process, < 1.5 GB)
bench-experiment: setup
	$(BIN)/python -m bench.experiment

## bench-funnel: a 5-step ordered funnel with a 7-day window over 10 M chat events against a hand-written DuckDB
## window-function query, pandas and polars (targets: within 1.5x of the query, faster than pandas and polars, < 2 GB)
.PHONY: bench-funnel
bench-funnel: setup
	$(BIN)/python -m bench.funnel

## bench-engagement: the count model and the recommendations on 1 M posts against reading the features alone, and
## statsmodels' formula GLM on 100,000 posts (targets: < 60 s and < 3 GB at 1 M posts on 2 cores)
.PHONY: bench-engagement
bench-engagement: setup
	$(BIN)/python -m bench.engagement

## lock: re-resolve requirements.lock from pyproject.toml (needs the uv tool in the venv)
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra pandas --extra polars --extra models --extra reports --group dev --universal \
		--python-version 3.11 --generate-hashes --quiet -o requirements.lock

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
