# vidassets — the commands a newcomer needs.
#   make demo   install, start Dagster + the API on the embedded default, run a sample plan
#   make run    install and run the stack in the foreground (API :3000, Dagster UI :3001)
#   make test   install, lint (ruff), type-check (mypy --strict) and run the test suite
#               (needs PostgreSQL and Redis on 127.0.0.1)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run demo test test-fast lint bench chaos migrate clean

install: $(STAMP)

$(STAMP): pyproject.toml sdk/python/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet -e ./sdk/python
	@touch $(STAMP)

migrate: install
	$(PY) -m vidassets.cli migrate

run: install
	$(PY) -m vidassets.cli run

demo: install
	$(PY) -m vidassets.cli demo

lint: install
	$(PY) -m ruff check vidassets api tests bench sdk
	$(PY) -m mypy

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: lint
	$(PY) -m pytest -m "not e2e and not multihost" $(PYTEST_ARGS)

chaos: install
	$(PY) tests/chaos/soak.py --minutes $(or $(SOAK_MINUTES),10)

bench: install
	$(PY) bench/media.py --repeat 3
	$(PY) bench/api.py
	$(PY) bench/orchestration.py --repeat 3
	$(PY) bench/quality.py
	$(PY) bench/throughput.py $(BENCH_THROUGHPUT_ARGS)
	$(PY) bench/memory.py
	@if [ "$$(id -u)" = 0 ]; then $(PY) bench/scaling.py; else echo "bench/scaling.py skipped: needs root (network namespaces)"; fi
	$(PY) bench/partitions.py
	@echo "results: bench/results.md"

clean:
	rm -rf .vidassets .pytest_cache
