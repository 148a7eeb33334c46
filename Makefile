# nnparity: every target sets itself up (a local virtual environment with pinned
# dependencies) on a machine that has only Python.
#
#   make report   the conformance run that writes the discrepancy report (main job)
#   make test     the test suite (what CI runs)
#   make gate     the CI conformance gate against the reviewed allowlist
#   make bench    timing comparisons (pytest-benchmark)
#   make soak     the whole suite under dev with SEEDS seeds (default 50), one summary
#   make gpu-check  every device check (ci profile) and the benchmarks with their CUDA side, on a GPU
#                   (NNPARITY_STANDIN_CUDA=1 runs the same paths on a CPU stand-in)
#   make shard SHARD=I/N  one shard of the conformance run (records in $(OUT)/shard-I); merge with
#                   python -m nnparity report --records DIR1 DIR2 ...

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= dev
OUT    ?= report
JOBS   ?= 2
PYTEST_ARGS ?=
SEEDS  ?= 50

.PHONY: venv test report gate bench soak gpu-check shard redis-server clean

venv: $(STAMP)

# Re-install when pyproject.toml changes. torch is pinned (==2.13.0) in pyproject.toml:
# an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

test: $(STAMP) redis-server
	NNPARITY_PROFILE=$(PROFILE) $(PY) -m pytest -n $(JOBS) $(PYTEST_ARGS)

# The shared example database's tests start a real redis-server (Debian's package). It is
# installed where apt-get is available and the binary is missing (CI machines run as root);
# anywhere else those tests skip and say why. This target never fails.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing redis-server (apt-get) for the example-database tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 || \
	      echo "make: apt-get could not install redis-server: the Redis tests will skip"; \
	  else echo "make: no redis-server and no apt-get: the Redis tests will skip"; fi; }

report: $(STAMP)
	NNPARITY_PROFILE=$(PROFILE) $(PY) -m nnparity report --out $(OUT) --jobs $(JOBS)

gate: $(STAMP)
	NNPARITY_PROFILE=$(PROFILE) $(PY) -m nnparity gate --out $(OUT) --jobs $(JOBS)

bench: $(STAMP)
	$(PY) -m nnparity bench --out $(OUT)

soak: $(STAMP)
	$(PY) -m nnparity.soak --seeds $(SEEDS) --jobs $(JOBS) --out build/soak
# On one GPU in well under 10 minutes: only the device checks ('cuda' in the test id: the twin
# against torch on CUDA, torch CUDA against torch CPU) under the ci profile, then the benchmarks
# (twin, torch-CPU and torch-CUDA side by side) with short measurements; one report.
gpu-check: $(STAMP)
	$(PY) -m nnparity report --profile ci --device cuda --jobs $(JOBS) --bench --bench-max-time 0.2 --out $(OUT)/gpu-check

SHARD ?= 1/1
shard: $(STAMP)
	NNPARITY_PROFILE=$(PROFILE) $(PY) -m nnparity report --shard $(SHARD) --out $(OUT)/shard-$(firstword $(subst /, ,$(SHARD))) --jobs $(JOBS)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .benchmarks
