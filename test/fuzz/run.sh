#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and, for each one in
# turn: replays every input of its corpus, then fuzzes it for SECONDS.
# New inputs go to the build directory, never into the source tree.
# Usage: test/fuzz/run.sh SECONDS [TARGET...]   (TARGET: replica, sigv4...)
# Environment: DBS_FUZZ_BUILD (build directory, default build/fuzz).
# Exit 1 when a target crashes, leaks, times out or breaks an invariant;
# the input that did it is printed, with what to do with it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/test/fuzz
seconds=${1:?usage: test/fuzz/run.sh SECONDS [TARGET...]}
shift
build=${DBS_FUZZ_BUILD:-$root/build/fuzz}
case $build in /*) ;; *) build=$root/$build ;; esac

command -v clang >/dev/null || {
  echo "fuzz: clang is missing: run scripts/deps.sh (installs clang and libFuzzer)" >&2
  exit 1
}
start=$(date +%s)
CC=clang cmake -S "$root" -B "$build" -DDBSETUP_FUZZ=ON -DDBSETUP_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
built=$(date +%s)

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for src in "$here"/fuzz_*.c; do
    t=$(basename "$src" .c)
    targets+=("${t#fuzz_}")
  done
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
for t in "${targets[@]}"; do
  bin=$build/test/fuzz/fuzz_$t
  work=$build/fuzz-work/$t
  mkdir -p "$work/corpus"
  flags=(-timeout=10 -rss_limit_mb=2048 "-artifact_prefix=$work/")
  [ -f "$here/dict/$t.dict" ] && flags+=("-dict=$here/dict/$t.dict")
  if [ -f "$here/options/$t.txt" ]; then
    read -r -a extra <"$here/options/$t.txt" || true
    flags+=("${extra[@]}")
  fi
  rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* \
    "$work"/slow-unit-*
  inputs=("$here/corpus/$t"/*)
  t0=$(date +%s)
  if ! "$bin" "${flags[@]}" "${inputs[@]}" >"$work/replay.log" 2>&1; then
    echo "fuzz: $t: a corpus input fails (log: $work/replay.log)" >&2
    grep -m1 -E '^Running: ' "$work/replay.log" >&2 || true
    tail -40 "$work/replay.log" >&2
    failed=1
    continue
  fi
  t1=$(date +%s)
  if ! "$bin" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    "$work/corpus" "$here/corpus/$t" >"$work/fuzz.log" 2>&1; then
    art=$(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* \
      2>/dev/null | head -1 || true)
    echo "fuzz: $t: FAILED (log: $work/fuzz.log)" >&2
    grep -E 'ERROR|invariant broken|SUMMARY|^    #[0-9]+ .* in (dbs_|LLVMFuzzer)' \
      "$work/fuzz.log" | head -30 >&2 || true
    echo "fuzz: $t: input: ${art:-none saved}; once fixed, keep it as" \
      "test/fuzz/corpus/$t/crash-<what>; while the fix is pending elsewhere," \
      "as test/fuzz/crashes-pending/$t/" >&2
    failed=1
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/fuzz.log")
  cov=$(grep -oE 'cov: [0-9]+' "$work/fuzz.log" | tail -1 || true)
  printf 'fuzz: %-18s %3d inputs replayed in %2d s; %8s runs in %s s (%s/s), %s\n' \
    "$t" "${#inputs[@]}" "$((t1 - t0))" "${runs:-?}" "${secs:-?}" \
    "$(( ${runs:-0} / (${secs:-1} > 0 ? ${secs:-1} : 1) ))" "${cov:-cov: ?}"
done
echo "fuzz: build $((built - start)) s, all targets $(($(date +%s) - built)) s"
exit "$failed"
