# The two commands of the README: `make demo` and `make test`. Each makes the virtual
# environment from pyproject.toml on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.credo-installed
# The dashboard's browser tests drive Debian's Chromium (Playwright's own download is not used).
CHROMIUM := /usr/bin/chromium
# The Spark tests run pyspark (the spark extra) in local mode on Debian's headless Java runtime.
JAVA := /usr/bin/java
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# pytest-xdist workers for `make test` (docs/decisions/0010): every core by default, each
# package with costly shared fixtures on one worker (tests/conftest.py); `make test WORKERS=0`
# runs the tests in one process.
WORKERS ?= auto

.PHONY: demo test lint check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium \
	  || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

$(JAVA):
	$(SUDO) apt-get install -y --no-install-recommends default-jre-headless \
	  || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends default-jre-headless)

demo: $(STAMP)
	$(BIN)/credo demo

test: $(STAMP) $(CHROMIUM) $(JAVA)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: test lint

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
