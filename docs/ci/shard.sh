#!/usr/bin/env bash
# One shard of the conformance run, as a CI matrix job runs it:
#
#   bash docs/ci/shard.sh I N [OUT]      (OUT defaults to shard-I, relative to the project root)
#
# Writes OUT/records (the records, catalog.json, meta.json with "shard": "I/N") and OUT's
# report. Its exit status is not the verdict: a shard with discrepancies, or one that
# crashed half-way, still hands its records to the merge job, which decides (a missing or
# crashed shard fails the merged gate). It exits non-zero only when the run could not
# start at all (then there are no records, and the merge reports the shard missing).
#
# Environment: PROFILE (default ci), JOBS (pytest-xdist workers, default 2),
# NNPARITY_DURATIONS (durations file balancing the split; default .test_durations when it
# exists; every shard of one split must read the same file), NNPARITY_ARGS (extra
# arguments, e.g. "-k Linear,ReLU"), NNPARITY_EXAMPLE_DB (a shared example database).
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 I N [OUT]" >&2; exit 2; }
i=$1 n=$2
cd "$(dirname "$0")/../.."
out=${3:-shard-$i}
make venv >/dev/null || exit 1
args=(--profile "${PROFILE:-ci}" --shard "$i/$n" --out "$out" --jobs "${JOBS:-2}" --quiet)
durations=${NNPARITY_DURATIONS:-.test_durations}
[ -s "$durations" ] && args+=(--shard-durations "$durations")
# shellcheck disable=SC2086  # NNPARITY_ARGS is a list of arguments
.venv/bin/python -m nnparity report "${args[@]}" ${NNPARITY_ARGS:-}
status=$?
echo "shard $i/$n: nnparity report exit $status (the merge job's gate decides)"
[ -f "$out/records/meta.json" ] || { echo "shard $i/$n: no records written" >&2; exit 1; }
exit 0
