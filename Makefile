# The README's two commands are `make demo` and `make test`; both set up a fresh machine first.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_BUNDLE ?= artifacts/demo_bundle

.PHONY: setup test demo bench bench-peers lint results clean browser dashboard-screenshot report experiments claims frontier-tables

setup: $(STAMP)

# torch is pinned and installed first: it takes the local CPU wheel (an unpinned torch pulls CUDA).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

test: setup browser
	$(BIN)/python -m pytest

# The dashboard's browser test drives Debian's chromium through chromium-driver (a test tool's own
# browser download does not work offline). Installed only when missing; apt-get update only when
# the plain install fails (a fresh image's package lists may be empty or stale).
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; else \
	  $(APT) install -y -q chromium chromium-driver || \
	  { $(APT) update -q && $(APT) install -y -q chromium chromium-driver; }; \
	fi

# Regenerates docs/img/dashboard.png: three buckets, simulated traffic, headless Chromium.
dashboard-screenshot: setup browser
	$(BIN)/python scripts/dashboard_screenshot.py --out docs/img/dashboard.png

# Head/tail bars and exposure curves of every results file, into docs/results/figures/.
report: setup
	$(BIN)/python -m training report --results $(filter-out docs/results/frontier_%,$(wildcard docs/results/*.json)) --out docs/results/figures
	$(BIN)/python -m training pareto --results docs/results/frontier_ml100k.json \
	  docs/results/frontier_ml1m.json

# PORT=8001 make demo (or make demo PORT=8001): the port is checked free before any training.
PORT ?= 8000
demo: setup
	$(BIN)/python -m training demo --port $(PORT)

results: setup
	$(BIN)/python -m training baselines --out docs/results/baselines

# The SSL and MIRec tables on real data (hours on 2 cores; resumable: finished runs are cached
# under runs/cache/, so rerunning only trains what is missing), then the claims pages.
# The (overall, tail) frontier tables (references, recipes, SSL / MIRec vs matched bases + β).
FRONTIERS := ml100k_tuning ml100k ml1m
# Frontier runs trained at a time, one single-threaded process each (training/frontier/parallel.py).
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
EXPERIMENTS := ssl_ml1m ssl_ml100k ssl_ml100k_sweeps ssl_ml100k_tuning ssl_ml100k_logq mirec_ml100k \
  mirec_ml100k_tuning mirec_ml1m
experiments: setup
	for e in $(EXPERIMENTS); do \
	  $(BIN)/python -m training experiment --config configs/experiments/$$e.toml \
	    --set train.progress=false || exit 1; \
	done
	for f in $(FRONTIERS); do \
	  $(BIN)/python -m training frontier --config configs/frontier/$$f.toml --jobs $(JOBS) \
	    --set train.progress=false || exit 1; \
	done
	$(MAKE) claims report

# The frontier tables from what is cached (trains nothing; partial tables are marked), their
# figures and the claims page: use while `make experiments` (or a worker) is still filling the cache.
# The committed documents' runs are restored into the cache first (a fresh machine has none).
frontier-tables: setup
	for f in $(FRONTIERS); do \
	  $(BIN)/python -m training frontier --config configs/frontier/$$f.toml --cached-only \
	    --restore-from docs/results/frontier_$$f.json || exit 1; \
	done
	$(BIN)/python -m training pareto --results $(FRONTIERS:%=docs/results/frontier_%.json)
	$(BIN)/python -m training tailclaims --results docs/results/frontier_ml100k.json \
	  docs/results/frontier_ml1m.json --out docs/results/claims/frontier

claims: setup
	$(BIN)/python -m training tailclaims --results docs/results/frontier_ml100k.json \
	  docs/results/frontier_ml1m.json --out docs/results/claims/frontier
	$(BIN)/python -m training claims ssl --results docs/results/ssl_ml1m.json \
	  --sweeps docs/results/ssl_ml100k_sweeps.json --tuning docs/results/ssl_ml100k_tuning.json \
	  --logq docs/results/ssl_ml100k_logq.json --out docs/results/claims/ssl_ml1m
	$(BIN)/python -m training claims ssl --results docs/results/ssl_ml100k.json \
	  --out docs/results/claims/ssl_ml100k
	$(BIN)/python -m training claims mirec --results docs/results/mirec_ml1m.json \
	  --records runs/cache/ml1m --tuning docs/results/mirec_ml100k_tuning.json \
	  --out docs/results/claims/mirec_ml1m
	$(BIN)/python -m training claims mirec --results docs/results/mirec_ml100k.json \
	  --records runs/cache/ml100k --out docs/results/claims/mirec_ml100k

# The serving benchmark drives load with Debian's wrk (installed when missing; an asyncio client
# is the fallback when it cannot be). The peers run in their own environments under .venv-peers/
# (bench/peers/setup.sh; a page marks a peer "not set up" when its install failed).
bench: setup bench-peers
	@command -v wrk >/dev/null || $(APT) install -y -q wrk || \
	  { $(APT) update -q && $(APT) install -y -q wrk; } || echo "wrk unavailable: asyncio client"
	$(BIN)/python bench/run_all.py

bench-peers:
	sh bench/peers/setup.sh || echo "a peer environment could not be set up: its rows say so"

# ruff, then mypy with the pydantic plugin over the paths in pyproject.toml's [tool.mypy].
lint: setup
	$(BIN)/ruff check common models training service tests bench scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) artifacts .pytest_cache
