#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the whole test
# suite twice: a -Werror build, then an ASan+UBSan build; then the fuzz targets.
# Environment: DBS_TEST_EXCLUDE (ctest -LE regex), DBS_SKIP_ASAN=1,
# DBS_SKIP_FUZZ=1, DBS_FUZZ_SECONDS (per fuzz target, default 12).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: run it as root (sudo bash scripts/test.sh): the tests use PID" \
    "namespaces, --user switches, chown and podman" >&2
  exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh
export DBS_PEERS=${DBS_PEERS:-$root/.peers}
bash scripts/peers.sh
# podman and the local images the container tests start from (about 4.5 min
# on a fresh machine, seconds when cached); the tests would wait for it too.
bash scripts/container-setup.sh --example >/dev/null
# Say which engine the container tests use (they fail, never skip, without it).
echo "== container tests run in real containers: $(podman --version 2>&1 | head -1 || true)"
jobs=$(nproc)
run_suite() { # build-dir, label-exclude regex, extra cmake args...
  local dir=$1 exclude=$2; shift 2
  cmake -S . -B "$dir" -DDBSETUP_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
  local args=(--test-dir "$dir" --output-on-failure -j "$jobs")
  [ -n "$exclude" ] && args+=(-LE "$exclude")
  ctest "${args[@]}"
}
start=$(date +%s)
echo "== clang-format check"
clang-format --dry-run -Werror lib/*.[ch] entrypoint/*.c test/unit/*.c test/tools/*.c
user_exclude=${DBS_TEST_EXCLUDE:-}
echo "== build (-Werror) and test"
run_suite build/ci "${user_exclude:-bench}"
if [ "${DBS_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan+UBSan) and test"
  # Container tests build their own image from source; they are not rerun.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build/asan "container|bench${user_exclude:+|$user_exclude}" \
    -DDBSETUP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
fi
if [ "${DBS_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz (libFuzzer, ASan+UBSan): corpus replay, then ${DBS_FUZZ_SECONDS:-12} s per target"
  bash test/fuzz/run.sh "${DBS_FUZZ_SECONDS:-12}"
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
