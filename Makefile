# nnparity: every target sets itself up (a local virtual environment with pinned
# dependencies) on a machine that has only Python.
#
#   make report   the conformance run that writes the discrepancy report (main job)
#   make test     the test suite (what CI runs)
#   make gate     the CI conformance gate against the reviewed allowlist
#   make bench    timing comparisons (pytest-benchmark)
#   make soak     the whole suite under dev with SEEDS seeds (default 50), one summary

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= dev
OUT    ?= report
JOBS   ?= 2
PYTEST_ARGS ?=
SEEDS  ?= 50

.PHONY: venv test report gate bench soak clean

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

soak: $(STAMP)
	$(PY) -m nnparity.soak --seeds $(SEEDS) --jobs $(JOBS) --out build/soak

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .benchmarks
