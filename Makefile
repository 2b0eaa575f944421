# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv when missing, installs mmgraph with torch pinned to the CPU wheel, and runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mmgraph-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test lint install clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -e '.[dev,offline]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mmgraph demo

lint: $(STAMP)
	$(BIN)/ruff check mmgraph tests benchmarks
	$(BIN)/ruff format --check mmgraph tests benchmarks
	$(BIN)/mypy mmgraph

# the tests run in one process per CPU (at most 4), a file's tests in the same process: most
# tests use one thread, so one process left the CI machine's second core idle (560 s, 366 s so)
test: lint
	$(BIN)/python -m pytest -n logical --maxprocesses 4 --dist loadfile

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
