#!/usr/bin/env bash
# ctest-labels: container
# ctest-timeout: 900
# The app crashes (exit 3): the container exits 3, and litestream's final
# sync has run. litestream.yml is replaced by one with a one-minute sync
# interval, so a write that reaches the bucket can only come from that
# final sync.
. "$(dirname "$0")/lib.sh"
. "$DBS_SRC/test/container/lib.sh"
ct_images
ct_s3_start

sed 's/^\(        force-path-style: true\)$/\1\n        sync-interval: 1m/' \
  "$DBS_SRC/docker/example/litestream.yml" >"$T/litestream.yml"
assert_contains "$T/litestream.yml" "sync-interval: 1m" "test config"

ct_run crash "$T/vol" -v "$T/litestream.yml:/app/litestream.yml:ro" "$CT_IMAGE"
ct_wait_http crash
ct_wait_synced crash
curl -sf -X POST "http://127.0.0.1:$CT_PORT/posts?title=just-before-crash" >/dev/null
curl -s -X POST "http://127.0.0.1:$CT_PORT/crash" >/dev/null || true
code=$(ct_wait_exit crash 30)
log=$(ct_logs crash)
assert_eq 3 "$code" "crash: exit status"
assert_contains "$log" "app: crashing with exit code 3" "crash: the app crashed"
assert_contains "$log" "litestream shut down" "crash: litestream stopped cleanly"
ok "app exits 3 → container exits 3"

ct_restore_elsewhere crash
assert_eq "just-before-crash" "$(ct_sql "$T/crash.db" 'SELECT title FROM "Post" WHERE id = 2')" \
  "crash: the last write is in the bucket"
ok "litestream's final sync after the crash uploaded the last write"

done_testing
