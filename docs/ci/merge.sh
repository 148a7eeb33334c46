#!/usr/bin/env bash
# The final CI job: one report and one gate verdict over the records of every shard.
#
#   bash docs/ci/merge.sh OUT RECORDS_DIR...     (paths relative to the project root)
#
# Writes OUT/REPORT.md, OUT/index.html, OUT/results.json, OUT/gate-junit.xml and
# OUT/.test_durations (this run's per-test durations: hand it to the next run's shards so
# that they balance by recorded time). Exit status: the gate's. It fails on a discrepancy
# not in allowlist.toml, on a stale allowlist entry, and on an incomplete merge: a shard
# missing from the split (its directory absent: give every directory the artifacts
# produced, the split's size is read from the shards' meta.json), a shard that crashed,
# the same shard twice, or shards of different splits. Runs at different commits or torch
# versions are refused (exit 2).
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OUT RECORDS_DIR..." >&2; exit 2; }
cd "$(dirname "$0")/../.."
out=$1
shift
make venv >/dev/null || exit 1
.venv/bin/python -m nnparity report --records "$@" --out "$out" --allowlist allowlist.toml
report=$?
.venv/bin/python -m nnparity gate --records "$@" --out "$out" --junit "$out/gate-junit.xml"
gate=$?
.venv/bin/python -m nnparity durations --records "$@" --out "$out/.test_durations" --replace >/dev/null || true
echo "merge: report exit $report, gate exit $gate (decides)"
exit "$gate"
