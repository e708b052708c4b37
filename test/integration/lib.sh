# Shared helpers for integration tests; source it first:
#   . "$(dirname "$0")/lib.sh"
# Environment from CTest: DBSETUP (the binary), DBS_TOOLS (helper programs),
# DBS_SRC, DBS_FIXTURES, DBS_PEERS (litestream, s3rver), DBS_BUILD.
set -euo pipefail
: "${DBSETUP:?run through ctest}" "${DBS_TOOLS:?}" "${DBS_SRC:?}" "${DBS_PEERS:?}"
LITESTREAM=$DBS_PEERS/litestream
# Scratch: under the ctest run's directory (test/scratch.sh), named after
# the test, else in TMPDIR; removed when the test passes.
if [ -n "${DBS_SCRATCH:-}" ] && [ -d "$DBS_SCRATCH/" ]; then
  T=$(mktemp -d "$(cd "$DBS_SCRATCH/" && pwd -P)/$(basename "$0" .test.sh)${DBS_S3_SERVER:+.$DBS_S3_SERVER}.XXXXXX")
else
  T=$(mktemp -d "${TMPDIR:-/tmp}/dbs-test.XXXXXX")
fi
_cleanups=()
on_exit() { # runs registered cleanups, newest first, then removes $T
  local rc=$?
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" || true; done
  if [ $rc -ne 0 ]; then echo "FAILED (scratch kept in $T)" >&2; else rm -rf "$T"; fi
  exit $rc
}
trap on_exit EXIT
cleanup() { _cleanups+=("$*"); }
ntests=0 nfail=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { ntests=$((ntests + 1)); echo "ok $ntests - $*"; }
assert_eq() { # expected actual message
  [ "$1" == "$2" ] || fail "$3: expected [$1], got [$2]"
}
assert_contains() { # haystack-file needle message
  grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$3: '$2' not found"; }
}
assert_not_contains() {
  ! grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$3: '$2' found"; }
}
wait_for() { # seconds command...: polls every 50 ms until command succeeds
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
# file_replica_yml FILE DB REPLICA: writes FILE, a litestream.yml that
# replicates DB to the file replica REPLICA, checking every 100 ms.
file_replica_yml() {
  cat >"$1" <<YML
dbs:
  - path: $2
    monitor-interval: 100ms
    replicas:
      - type: file
        path: $3
        sync-interval: 100ms
YML
}
# Runs a command, storing its exit status in $rc without tripping set -e.
run() { set +e; "$@"; rc=$?; set -e; }
done_testing() { echo "$ntests passed, 0 failed"; }
