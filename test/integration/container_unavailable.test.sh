#!/usr/bin/env bash
# ctest-labels: container
# ctest-timeout: 900
# Bucket server down and an empty volume: the container exits 69 quickly,
# leaves no database on the volume and never starts the app (never a fresh
# DB over an unreachable backup). Server back: the next start restores.
. "$(dirname "$0")/lib.sh"
. "$DBS_SRC/test/container/lib.sh"
ct_images
ct_s3_start

# A backup to restore later: one boot that writes and stops.
ct_run seed "$T/vol-a" "$CT_IMAGE"
ct_wait_http seed
ct_wait_synced seed
curl -sf -X POST "http://127.0.0.1:$CT_PORT/posts?title=before-outage" >/dev/null
podman stop -t 10 seed >/dev/null
code=$(ct_wait_exit seed)
case $code in 0 | 143) ;; *) cat "$(ct_logs seed)" >&2; fail "seed boot: exit $code" ;; esac
ok "a backup exists"

ct_s3_stop
start=$(date +%s%N)
ct_run down "$T/vol-b" -e DBSETUP_RESTORE_TIMEOUT=3 "$CT_IMAGE"
code=$(ct_wait_exit down 60)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
log=$(ct_logs down)
assert_eq 69 "$code" "storage unreachable: exit status"
[ "$ms" -lt 30000 ] || fail "storage unreachable: took ${ms} ms to exit"
assert_not_contains "$log" "app: listening" "storage unreachable: app never started"
assert_not_contains "$log" "seed: inserted" "storage unreachable: never seeded"
left=$(find "$T/vol-b" -name 'dev.db*' | head -1)
assert_eq "" "$left" "storage unreachable: no database file on the volume"
grep -qiE "unreachable|connect|refused" "$log" || { cat "$log" >&2; fail "storage unreachable: the log does not say why"; }
ok "bucket server down: exit 69 after ${ms} ms, no DB, app never started"

ct_s3_start
ct_run back "$T/vol-b" "$CT_IMAGE"
ct_wait_http back
assert_eq '[{"id":1,"title":"hello from the seed"},{"id":2,"title":"before-outage"}]' \
  "$(curl -sf "http://127.0.0.1:$CT_PORT/")" "server back: restored rows"
assert_not_contains "$(ct_logs back)" "seed: inserted" "server back: not re-seeded"
ok "server back: the next start restores"

done_testing
