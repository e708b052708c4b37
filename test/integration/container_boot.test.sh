#!/usr/bin/env bash
# ctest-labels: container
# ctest-timeout: 900
# The example image in podman against s3rver: first boot on an empty volume
# and bucket (migrate, seed once, serve, podman stop → app first, litestream
# last, the write in the bucket); a new container on a NEW empty volume
# restores it without re-seeding; podman kill -s SIGINT stops it the same
# graceful way.
. "$(dirname "$0")/lib.sh"
. "$DBS_SRC/test/container/lib.sh"
ct_images
ct_s3_start
B1=${CT_PREFIX}boot1 B2=${CT_PREFIX}boot2

# The image's dbsetup: static where Debian ships archives, nothing missing.
podman run --rm --entrypoint ldd "$CT_IMAGE" /usr/local/bin/dbsetup >"$T/ldd.txt" 2>&1 ||
  { cat "$T/ldd.txt" >&2; fail "ldd dbsetup in the image"; }
assert_not_contains "$T/ldd.txt" "not found" "runtime packages: a library is missing"
for lib in libuv libyaml libsqlite3 liblz4 libexpat; do
  assert_not_contains "$T/ldd.txt" "$lib" "static link: $lib is dynamic"
done
ok "dbsetup in the image: $(grep -c '=>' "$T/ldd.txt") shared libraries, none missing"

# 1. First boot.
ct_run "$B1" "$T/vol1" "$CT_IMAGE"
ct_wait_http "$B1"
ct_wait_synced "$B1"
curl -sf "http://127.0.0.1:$CT_PORT/" >"$T/get1.json"
assert_eq '[{"id":1,"title":"hello from the seed"}]' "$(cat "$T/get1.json")" "first boot: seeded once"
assert_eq 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$CT_PORT/posts?title=write-1")" \
  "first boot: write accepted"
[ -f "$T/vol1/dev.db" ] || fail "first boot: no dev.db on the volume"
assert_eq 1 "$(ct_sql "$T/vol1/dev.db" 'SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL')" \
  "first boot: the init migration is recorded"
ok "first boot: migrated, seeded once, serves and writes"

podman stop -t 10 "$B1" >/dev/null
code=$(ct_wait_exit "$B1")
log=$(ct_logs "$B1")
case $code in 0 | 143) ;; *) cat "$log" >&2; fail "podman stop: exit status $code, expected 0 or 143" ;; esac
assert_contains "$log" "app: received SIGTERM; litestream running: yes" "podman stop: app signalled first"
app_line=$(ct_line_of "$log" "app: received SIGTERM")
ls_line=$(ct_line_of "$log" "litestream shut down")
[ "$ls_line" -gt "$app_line" ] || { cat "$log" >&2; fail "litestream did not stop after the app"; }
ok "podman stop: app got SIGTERM first, litestream stopped last, exit $code"

ct_restore_elsewhere stop1
assert_eq "1|hello from the seed
2|write-1" "$(ct_sql "$T/stop1.db" 'SELECT id, title FROM "Post" ORDER BY id')" "bucket holds the write"
ok "the write is in the bucket (restored with litestream elsewhere)"

# 2. New container, new empty volume: restored, not re-seeded.
ct_run "$B2" "$T/vol2" "$CT_IMAGE"
ct_wait_http "$B2"
ct_wait_synced "$B2"
assert_eq '[{"id":1,"title":"hello from the seed"},{"id":2,"title":"write-1"}]' \
  "$(curl -sf "http://127.0.0.1:$CT_PORT/")" "new volume: restored rows"
log=$(ct_logs "$B2")
assert_not_contains "$log" "seed: inserted" "new volume: not re-seeded"
grep -qi "restor" "$log" || { cat "$log" >&2; fail "new volume: the log does not mention the restore"; }
ok "new empty volume: restored from the bucket, not re-seeded"

# 3. Fly's kill signal.
assert_eq 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$CT_PORT/posts?title=write-2")" \
  "second write accepted"
podman kill -s SIGINT "$B2" >/dev/null
code=$(ct_wait_exit "$B2" 20)
log=$(ct_logs "$B2")
assert_eq 130 "$code" "SIGINT: exit status"
assert_contains "$log" "app: received SIGINT; litestream running: yes" "SIGINT: app signalled first"
app_line=$(ct_line_of "$log" "app: received SIGINT")
ls_line=$(ct_line_of "$log" "litestream shut down")
[ "$ls_line" -gt "$app_line" ] || { cat "$log" >&2; fail "SIGINT: litestream did not stop after the app"; }
ct_restore_elsewhere int2
assert_eq "write-2" "$(ct_sql "$T/int2.db" 'SELECT title FROM "Post" WHERE id = 3')" "SIGINT: final sync"
ok "podman kill -s SIGINT: same graceful order, exit 130, write in the bucket"

done_testing
