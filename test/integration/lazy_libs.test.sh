#!/usr/bin/env bash
# ctest-labels: integration;setup
# ctest-timeout: 60
# libcurl and libcrypto are loaded on first use (lib/dynlib.c), so the
# supervisor of an app that needs no S3 maps neither them nor their ~30
# dependencies: the binary does not link them, an idle supervisor (as a
# child and as PID 1) and one that ran Prisma migrations map none of them;
# an image without libcurl boots an S3 restore into exit 69 with a message
# naming the package, no database and no app.
. "$(dirname "$0")/lib.sh"

heavy='libcurl|libcrypto|libssl|gnutls|krb5|ldap|nghttp|libssh|p11-kit|nettle'
heavy_mapped() { # pid: prints the heavy libraries it maps
  grep -oE "[^/ ]*($heavy)[^/ ]*\$" "/proc/$1/maps" | sort -u || true
}
has_child() { pgrep -P "$1" >/dev/null; }

# 1. Not linked.
ldd "$DBSETUP" >"$T/ldd"
assert_not_contains "$T/ldd" libcurl "ldd"
assert_not_contains "$T/ldd" libcrypto "ldd"
ok "the binary links neither libcurl nor libcrypto"

mkdir -p "$T/empty"
cd "$T/empty"

# The check below can fail: a supervisor that has libcurl mapped is seen.
# (A sanitizer build wants its runtime first in the preload list.)
asan=$(awk '/libasan/ {print $3}' "$T/ldd")
LD_PRELOAD="${asan:+$asan }libcurl.so.4" "$DBSETUP" -q -- sleep 30 &
pid=$!
wait_for 5 has_child "$pid" || fail "control: app not started"
seen=$(heavy_mapped "$pid")
kill -TERM "$pid"; wait "$pid" || true
case $seen in *libcurl*) ;; *) fail "control: preloaded libcurl not seen in maps" ;; esac
ok "control: a preloaded libcurl is seen in the supervisor's maps"

# 2. Idle supervisor, no database set-up: as a child (subreaper)...
"$DBSETUP" -q -- sleep 30 &
pid=$!
wait_for 5 has_child "$pid" || fail "app not started"
seen=$(heavy_mapped "$pid")
kill -TERM "$pid"; wait "$pid" || true
assert_eq "" "$seen" "idle supervisor maps"
ok "idle supervisor (subreaper) maps no libcurl/libcrypto/gnutls/..."

# ... and as PID 1 of a PID namespace.
unshare --pid --fork --mount-proc "$DBSETUP" -q -- sleep 30 &
upid=$!
wait_for 5 has_child "$upid" || fail "PID 1: dbsetup not started"
pid=$(pgrep -P "$upid")
wait_for 5 has_child "$pid" || fail "PID 1: app not started"
seen=$(heavy_mapped "$pid")
kill -TERM "$pid"; wait "$upid" || true
assert_eq "" "$seen" "PID 1 supervisor maps"
ok "idle supervisor as PID 1 maps none of them"

# 3. A Prisma app: native migrations ran in this process, SHA-256
# checksums included, and still nothing heavy is mapped.
app=$T/app vol=$T/data
mkdir -p "$app/prisma"
cd "$app"
cp -r "$DBS_FIXTURES/prisma/blog/migrations" prisma/
printf 'datasource db {\n  provider = "sqlite"\n  url      = "file:./dev.db"\n}\n' \
  >prisma/schema.prisma
echo '{"name": "blog"}' >package.json
DBSETUP_VOLUME=$vol "$DBSETUP" -- sleep 30 2>"$T/prisma.err" &
pid=$!
# Migrations run in a child of their own: wait for the app, not any child.
wait_for 10 grep -q "app started" "$T/prisma.err" || { cat "$T/prisma.err" >&2; fail "prisma: app not started"; }
seen=$(heavy_mapped "$pid")
kill -TERM "$pid"; wait "$pid" || true
assert_contains "$T/prisma.err" "3 migrations applied" "prisma: migrations ran"
assert_eq 3 "$(sqlite3 "$vol/dev.db" "select count(*) from _prisma_migrations where length(checksum) = 64")" \
  "prisma: checksums recorded"
assert_eq "" "$seen" "supervisor maps after migrations"
ok "after native Prisma migrations the supervisor maps none of them"

# 4. An image without libcurl: the S3 restore stops the boot with 69 and
# names the package; no database, the app never starts. /dev/null bound
# over the library in a private mount namespace makes dlopen fail.
libcurl=$(readlink -f "$(ldconfig -p | awk '$1 == "libcurl.so.4" {print $NF; exit}')")
[ -f "$libcurl" ] || fail "libcurl.so.4 not found by ldconfig"
cat >"$T/litestream.yml" <<YML
dbs:
  - path: $vol/dev.db
    replicas:
      - type: s3
        bucket: b
        path: prod/dev.db
        endpoint: http://127.0.0.1:9
        region: us-east-1
        force-path-style: true
YML
rm -rf "$vol"
run env LITESTREAM_ACCESS_KEY_ID=AKIDEXAMPLE \
  LITESTREAM_SECRET_ACCESS_KEY=s3cr3t-not-logged \
  unshare --mount sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh \
  "$libcurl" "$DBSETUP" --volume "$vol" --litestream "$LITESTREAM" \
  --litestream-config "$T/litestream.yml" --restore-timeout 2 \
  -- touch "$T/app-ran" >"$T/nocurl.out" 2>&1
assert_eq 69 "$rc" "no libcurl: exit status"
assert_contains "$T/nocurl.out" "S3 replicas need libcurl" "no libcurl: what needs it"
assert_contains "$T/nocurl.out" "install libcurl4 (Debian)" "no libcurl: the package"
assert_not_contains "$T/nocurl.out" "s3cr3t-not-logged" "no libcurl: secret"
assert_not_contains "$T/nocurl.out" "no backup of" "no libcurl: not mistaken for no backup"
[ ! -e "$vol/dev.db" ] || fail "no libcurl: a database was left on the volume"
[ ! -e "$T/app-ran" ] || fail "no libcurl: the app started"
ok "no libcurl in the image: S3 restore exits 69 naming libcurl4, no database, no app"
done_testing
