# The two commands: `make run` (set up + start the stub) and `make test` (set up + the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# `make test` runs the test files on two workers (2 cores: 9.4 -> 4.6 min); TEST_WORKERS=0 runs
# them in this process, one after the other.
TEST_WORKERS ?= 2

# Byte-compile the project's own modules (pip does it for installed packages, not for an editable
# install, and nothing is cached where PYTHONDONTWRITEBYTECODE is set): ~0.07 s of every cold start.
COMPILE = $(BIN)/python -m compileall -q mockserver contract_tests

.PHONY: install run test lint contract bench clean dist

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(COMPILE)
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@$(COMPILE)
	$(BIN)/waldur-mock serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .hypothesis .schemathesis reports build dist

# The wheel and the sdist in dist/ (docs/installing.md); no network: the .venv's setuptools builds.
dist: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation . -w dist/
	$(BIN)/python -c "from setuptools import build_meta as b; print('dist/' + b.build_sdist('dist'))" 2>/dev/null | tail -1

# Benchmarks (docs/performance.md): installs wrk (apt, needs root) and Prism (npm) into
# benchmarks/.tools, runs every benchmark on loopback, prints the tables and rewrites the
# results section of docs/performance.md. BENCH_ARGS="--only scale --duration 2" for a part.
bench: $(STAMP)
	@$(COMPILE)
	$(BIN)/python -m benchmarks --setup --write-docs $(BENCH_ARGS)

# Contract tests (docs/contract-tests.md) against the in-process stub; CONTRACT_ARGS="--quick",
# "--seed 1", "--junit-xml reports/contract.xml", or "--base-url URL --read-only" for a server.
contract: $(STAMP)
	$(BIN)/waldur-contract $(CONTRACT_ARGS)
