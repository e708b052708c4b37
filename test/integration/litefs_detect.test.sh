# ctest-labels: integration;litefs
# ctest-timeout: 120
# lib/litefs.c against the real LiteFS: the mount as mountinfo shows it,
# litefs.yml as LiteFS reads it (same file, same $VAR expansion), and the
# role from GET /info on the primary and on the replica. Then the same
# probe once the cluster is gone: no mount, /info refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require
PROBE=$DBS_TOOLS/litefs-probe

lfs_config a
lfs_config b
# The replica's config goes through LiteFS's expansion: the port and the
# candidate flag come from the environment, as on Fly.
sed -i "s/127.0.0.1:$LFS_PORT_b\"/127.0.0.1:\${LFS_TEST_PORT}\"/; s/candidate: false/candidate: \${LFS_TEST_REGION == LFS_TEST_PRIMARY}/" "$T/b.yml"
export LFS_TEST_PORT=$LFS_PORT_b LFS_TEST_REGION=ord LFS_TEST_PRIMARY=iad
lfs_start a
lfs_wait_ready a
lfs_start b
lfs_wait_ready b

"$PROBE" "$T/a.yml" >"$T/pa" || { cat "$T/pa"; fail "probe on A"; }
assert_contains "$T/pa" "mount $T/a/mnt allow_other=0" "A's mount"
assert_contains "$T/pa" "mount $T/b/mnt allow_other=0" "B's mount"
assert_contains "$T/pa" "config $T/a.yml fuse=$T/a/mnt data=$T/a/vol/litefs http=127.0.0.1:$LFS_PORT_a lease=static candidate=1" "A's config"
assert_contains "$T/pa" "info isPrimary=1 candidate=1 primary=node-a" "A's role"
ok "A: mount, litefs.yml and /info say primary"

(cd "$T" && cp b.yml litefs.yml && "$PROBE") >"$T/pb" || { cat "$T/pb"; fail "probe on B"; }
assert_contains "$T/pb" "config $T/litefs.yml fuse=$T/b/mnt data=$T/b/vol/litefs http=127.0.0.1:$LFS_PORT_b lease=static candidate=0" "B's config (./litefs.yml, expanded)"
assert_contains "$T/pb" "info isPrimary=0 candidate=0 primary=node-a" "B's role"
ok "B: ./litefs.yml found and expanded like LiteFS; /info says replica of node-a"

lfs_teardown
run "$PROBE" "$T/a.yml" >"$T/pc"
assert_eq 1 "$rc" "probe without LiteFS"
assert_not_contains "$T/pc" "mount $T/" "no LiteFS mount of this test left (others may run in parallel)"
assert_contains "$T/pc" "error: GET http://127.0.0.1:$LFS_PORT_a/info: Connection refused" "API gone"
ok "after teardown: no LiteFS mount, /info refused (named)"
done_testing
