#!/usr/bin/env bash
# ctest-labels: container
# ctest-timeout: 900
# dbsetup --user with a non-root user: the app runs as that uid, and the
# database files on the volume belong to it.
. "$(dirname "$0")/lib.sh"
. "$DBS_SRC/test/container/lib.sh"
ct_images
ct_s3_start

ct_run user "$T/vol" --entrypoint '["dbsetup", "--user", "1000:1000", "--"]' "$CT_IMAGE" \
  npm run start
ct_wait_http user
assert_eq '{"uid":1000,"gid":1000}' "$(curl -sf "http://127.0.0.1:$CT_PORT/whoami" |
  sed 's/,"pid":[0-9]*//')" "--user: the app's ids"
curl -sf -X POST "http://127.0.0.1:$CT_PORT/posts?title=as-1000" >/dev/null
assert_eq "1000:1000" "$(stat -c %u:%g "$T/vol/dev.db")" "--user: dev.db owner"
for f in "$T"/vol/dev.db-wal "$T"/vol/dev.db-shm; do
  [ -e "$f" ] && assert_eq "1000:1000" "$(stat -c %u:%g "$f")" "--user: $(basename "$f") owner"
done
top=$(podman top user huser user args 2>/dev/null | grep -E 'node server.js' | awk '{print $2}' | head -1)
assert_eq 1000 "$top" "--user: the node process's user"
ok "--user 1000:1000: app uid 1000, volume files owned by it"

podman stop -t 10 user >/dev/null
code=$(ct_wait_exit user)
case $code in 0 | 143) ;; *) cat "$(ct_logs user)" >&2; fail "--user: exit $code" ;; esac
ok "--user: stops cleanly (exit $code)"

done_testing
