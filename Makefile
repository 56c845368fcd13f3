# Two entry points for a new user: `make run` and `make test`. Each does all set-up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test clean

$(BIN)/policykg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## run: set up, then serve the knowledge graph (embedded store in var/store, seed loaded on first start).
run: $(BIN)/policykg
	$(BIN)/policykg serve

## test: set up, then run the whole test suite.
test: $(BIN)/policykg
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache build dist
