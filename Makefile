# One entry for the README's commands. `make run` and `make test` set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.app

run: $(VENV)/.app
	$(BIN)/loadzone run

system-deps:
	@scripts/system-deps.sh

test: $(VENV)/.test system-deps
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(VENV)/.test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.test $(VENV)/.app

bench: $(VENV)/.bench
	@test -n "$$LOADZONE_BASELINE" -o -f ../shared/baseline/app.py || echo "No baseline at ../shared/baseline/app.py: \
	the side-by-side figures will be skipped (set LOADZONE_BASELINE to its folder)."
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv-baseline instance test-artifacts
