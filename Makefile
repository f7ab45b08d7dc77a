# Tapeline: `make demo` runs the whole system locally; `make test` runs the whole test suite.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	RAY_AUTH_MODE=$${RAY_AUTH_MODE:-disabled} $(BIN)/tapeline demo

test: setup
	scripts/test.sh

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python benchmarks/store.py

clean:
	rm -rf var .tapeline
