# sciencecities: `make demo` and `make test` set everything up from a bare Python 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: help demo test lint fmt bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed  ## set up, then ingest and rank the embedded real sample
	$(BIN)/sciencecities demo

test: $(VENV)/.installed-test  ## set up (Java 17+ for Spark, Chromium for the dashboard), then run the whole test suite
	tools/ensure_java.sh
	tools/ensure_chromium.sh
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(VENV)/.installed-test  ## ruff (installed on demand)
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check src tests

fmt: $(VENV)/.installed-test  ## format with ruff
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff format src tests

bench: $(VENV)/.installed-test  ## run the benchmarks (results: benchmarks/README.md; Spark rows need Java 17+)
	tools/ensure_java.sh
	$(BIN)/python benchmarks/locate.py
	$(BIN)/python benchmarks/intervals.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/build.py
	$(BIN)/python benchmarks/build.py --rows 10000000 --spark

clean:  ## remove the virtual environment and demo outputs
	rm -rf $(VENV) sciencecities-demo
