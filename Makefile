# servegraph — every target sets up .venv itself, so one command works on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := dev,redis,kafka,postgres,dask,otel
ONLINE ?=
STREAM ?=
UI ?=

.PHONY: venv demo test check lint typecheck bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py $(if $(ONLINE),--online $(ONLINE)) $(if $(STREAM),--stream $(STREAM)) $(if $(UI),--ui)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check servegraph tests bench examples
	$(BIN)/ruff format --check servegraph tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .servegraph .pytest_cache .mypy_cache .ruff_cache
