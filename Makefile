# nnparity: every target sets itself up (a local virtual environment with pinned
# dependencies) on a machine that has only Python.
#
#   make report   the conformance run that writes the discrepancy report (main job)
#   make test     the test suite (what CI runs)
#   make gate     the CI conformance gate against the reviewed allowlist
#   make bench    timing comparisons (pytest-benchmark)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= dev
OUT    ?= report
JOBS   ?= 2
PYTEST_ARGS ?=

.PHONY: venv test report gate bench clean

venv: $(STAMP)

# Re-install when pyproject.toml changes. torch is pinned (==2.13.0) in pyproject.toml:
# an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

test: $(STAMP)
	NNPARITY_PROFILE=$(PROFILE) $(PY) -m pytest -n $(JOBS) $(PYTEST_ARGS)

report: $(STAMP)
	NNPARITY_PROFILE=$(PROFILE) $(PY) -m nnparity report --out $(OUT) --jobs $(JOBS)

gate: $(STAMP)
	NNPARITY_PROFILE=$(PROFILE) $(PY) -m nnparity gate --out $(OUT) --jobs $(JOBS)

bench: $(STAMP)
	$(PY) -m nnparity bench --out $(OUT)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .benchmarks
