# Two entry points for a new user: `make run` and `make test`. Each does all set-up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LDES_CLIENT := tests/ldes-client

.PHONY: run test check browser node virtuoso clean

$(BIN)/policykg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## run: set up, then serve the knowledge graph (embedded store in var/store, seed loaded on first start).
run: $(BIN)/policykg
	$(BIN)/policykg serve

## browser: Debian's Chromium for the browser tests, installed with apt-get (as root, else with sudo) when missing.
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  sudo=; if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi; \
	  log=$$(mktemp); \
	  if $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >$$log 2>&1 && \
	     $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >>$$log 2>&1; \
	  then rm -f $$log; else cat $$log; rm -f $$log; echo "could not install chromium" >&2; exit 1; fi; }

## node: Node.js and npm for the LDES client test, Debian's nodejs and npm installed with apt-get (as root, else with sudo) when missing.
node:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "installing Debian's nodejs and npm for the LDES client test"; \
	  sudo=; if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi; \
	  log=$$(mktemp); \
	  if $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >$$log 2>&1 && \
	     $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >>$$log 2>&1; \
	  then rm -f $$log; else cat $$log; rm -f $$log; echo "could not install nodejs and npm" >&2; exit 1; fi; }

## virtuoso: OpenLink Virtuoso for the remote-store tests, Debian's virtuoso-opensource installed with apt-get (as root, else with sudo) when missing.
virtuoso:
	@command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null || { \
	  echo "installing Debian's virtuoso-opensource for the remote-store tests"; \
	  sudo=; if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi; \
	  log=$$(mktemp); \
	  if $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >$$log 2>&1 && \
	     $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends virtuoso-opensource >>$$log 2>&1; \
	  then rm -f $$log; else cat $$log; rm -f $$log; echo "could not install virtuoso-opensource" >&2; exit 1; fi; }

# The npm LDES client (ldes-client, pinned in tests/ldes-client/package-lock.json), installed again when the lock changes.
$(LDES_CLIENT)/node_modules/.make-stamp: $(LDES_CLIENT)/package-lock.json | node
	npm ci --prefix $(LDES_CLIENT) --no-audit --no-fund
	touch $@

## test: set up, then run the whole test suite.
test: $(BIN)/policykg browser virtuoso $(LDES_CLIENT)/node_modules/.make-stamp
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

## check: set up (Python only), then the import layers, format, lint and types, and the quick tests: no server, browser, Virtuoso, Node, or slow one.
check: $(BIN)/policykg
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not service and not browser and not virtuoso and not node and not slow"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build dist $(LDES_CLIENT)/node_modules
