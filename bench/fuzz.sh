#!/usr/bin/env bash
# Fuzzes every target (or the ones named) for longer than CI does, one
# after the other, with the same build and checks as the CI step
# (test/fuzz/run.sh). With MERGE=1, inputs that reach new code are then
# folded into the committed seed corpora (libFuzzer -merge=1), for review
# and commit.
# Usage: bench/fuzz.sh [SECONDS per target, default 600] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
[ $# -gt 0 ] && shift
build=${DBS_FUZZ_BUILD:-$root/build/fuzz}
status=0
bash "$root/test/fuzz/run.sh" "$seconds" "$@" || status=$?
if [ "${MERGE:-0}" = 1 ]; then
  for work in "$build"/fuzz-work/*/; do
    t=$(basename "$work")
    [ $# -eq 0 ] || [[ " $* " == *" $t "* ]] || continue
    before=$(ls "$root/test/fuzz/corpus/$t" | wc -l)
    "$build/test/fuzz/fuzz_$t" -merge=1 "$root/test/fuzz/corpus/$t" \
      "$work/corpus" >"$work/merge.log" 2>&1
    echo "fuzz: $t: corpus $before -> $(ls "$root/test/fuzz/corpus/$t" | wc -l) inputs"
  done
fi
exit "$status"
