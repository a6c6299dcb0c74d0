# The README's two commands are `make demo` and `make test`; both set up a fresh machine first.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_BUNDLE ?= artifacts/demo_bundle

.PHONY: setup test demo bench lint results clean

setup: $(STAMP)

# torch is pinned and installed first: it takes the local CPU wheel (an unpinned torch pulls CUDA).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest

demo: setup
	$(BIN)/python -m training demo

results: setup
	$(BIN)/python -m training baselines --out docs/results/baselines

bench: setup
	$(BIN)/python bench/run_all.py

lint: setup
	$(BIN)/ruff check models training service tests bench

clean:
	rm -rf $(VENV) artifacts .pytest_cache
