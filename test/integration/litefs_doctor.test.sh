# ctest-labels: integration;litefs
# ctest-timeout: 180
# The LiteFS role in `dbsetup doctor`, and --litefs-replica-wait, on a real
# two-node cluster (LiteFS v0.5.14, static lease):
# - --litefs-replica-wait 2 on a replica whose primary never makes the
#   database: 75 after ~2 s (the flag wins over DBSETUP_LITEFS_REPLICA_WAIT);
# - a bad --litefs-replica-wait or DBSETUP_LITEFS_REPLICA_WAIT: 64 naming
#   the value and the fix, nothing made;
# - doctor on A says primary, on B replica of node-a with its wait, in text
#   and JSON; the app opening the mount itself is "in the LiteFS mount";
# - doctor when LiteFS's API does not answer: role unknown, verdict 69.
# Before (3deb488) doctor named no role and the option did not exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require
lfs_db_app

# A runs LiteFS alone (no database ever); B's dbsetup waits 2 s by the
# flag, though the variable says 600.
lfs_config a
lfs_config b "$(lfs_db_exec b --litefs-replica-wait 2)"
lfs_start a
lfs_wait_ready a 30
t0=$(date +%s%N)
DBSETUP_LITEFS_REPLICA_WAIT=600 lfs_start b
lfs_wait_exit b 30
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq 75 "$rc" "litefs b's status (log: $(cat "$T/b.log"))"
assert_contains "$T/b.log" "LiteFS replica: waiting up to 2 s for the primary (node-a)" "B's log"
assert_contains "$T/b.log" "did not arrive within 2 s (no database yet): exiting 75" "B's log"
[ "$ms" -lt 10000 ] || fail "litefs b ended after $ms ms (a 2 s wait)"
[ ! -e "$T/events" ] || fail "B's app started"
ok "--litefs-replica-wait 2 (DBSETUP_LITEFS_REPLICA_WAIT=600): 75 after 2 s (litefs b ended after $ms ms)"
lfs_teardown
rm -rf "$T/a" "$T/b"

# A migrates and seeds; B runs LiteFS alone and receives A's database.
lfs_config a "$(lfs_db_exec a)"
lfs_config b
lfs_start a
lfs_wait_ready a 30
lfs_start b
lfs_wait_ready b 30
_served() { [ "$(cat "$T/served-$1" 2>/dev/null)" = "$2" ]; }
wait_for 30 _served a seeded || { cat "$T/a.log" >&2; fail "A does not serve its seeded database"; }
_has_post() { [ "$(sqlite3 -cmd '.timeout 2000' "$T/b/mnt/app.db" 'SELECT title FROM "Post"' 2>/dev/null)" = seeded ]; }
wait_for 30 _has_post || fail "B did not receive A's database"

# Bad values: 64, the value and the fix named, nothing made.
for how in flag var; do
  if [ $how = flag ]; then
    run env -C "$T/b" "$DBSETUP" --litefs-replica-wait 2s --volume "$T/bad/vol" --db "$T/bad/app/app.db" -- true 2>"$T/err"
    what="--litefs-replica-wait"
  else
    run env -C "$T/b" DBSETUP_LITEFS_REPLICA_WAIT=2s "$DBSETUP" --volume "$T/bad/vol" --db "$T/bad/app/app.db" -- true 2>"$T/err"
    what="DBSETUP_LITEFS_REPLICA_WAIT"
  fi
  assert_eq 64 "$rc" "$how 2s (stderr: $(cat "$T/err"))"
  assert_contains "$T/err" "invalid value '2s' for $what (expected SECS: a number of seconds from 0 to 86400" "$how 2s"
  [ ! -e "$T/bad" ] || fail "$how 2s made $(find "$T/bad")"
done
ok "a bad --litefs-replica-wait or DBSETUP_LITEFS_REPLICA_WAIT: 64, naming it and the range; nothing made"

# doctor from a shell on each node (its litefs.yml in the cwd; the app
# opens the database in the mount).
doctor() { # NODE [options...]: runs doctor on NODE, output in $T/doc
  local n=$1
  shift
  run env -C "$T/$n" "$DBSETUP" doctor --ignore-lock --volume "$T/$n/vol" --db "$T/$n/mnt/app.db" \
    --prisma-migrations "$T/migrations" --seed "$T/seed.sh" "$@" -- "$T/dbapp.sh" >"$T/doc" 2>"$T/doc.err"
}
for n in a b; do cp "$T/$n.yml" "$T/$n/litefs.yml"; done
doctor a
assert_eq 0 "$rc" "doctor on a (output: $(cat "$T/doc" "$T/doc.err"))"
cp "$T/doc" "$T/doc-a"
assert_contains "$T/doc" "  litefs: this node is the primary (static lease); it restores, migrates, seeds (no replicator configured)" "doctor on a"
assert_contains "$T/doc" "  link: none needed: the app opens the database in the LiteFS mount $T/a/mnt, replicated by LiteFS" "doctor on a"
assert_not_contains "$T/doc" "on the volume" "doctor on a"
doctor b
assert_eq 0 "$rc" "doctor on b (output: $(cat "$T/doc" "$T/doc.err"))"
cp "$T/doc" "$T/doc-b"
assert_contains "$T/doc" "  litefs: this node is a replica of node-a: it waits for the primary's database and migrations (up to 300 s), never writes" "doctor on b"
assert_contains "$T/doc" "  link: none needed: the app opens the database in the LiteFS mount $T/b/mnt, replicated by LiteFS" "doctor on b"
doctor b --litefs-replica-wait 2.5
assert_contains "$T/doc" "(up to 2.5 s), never writes" "doctor on b with --litefs-replica-wait 2.5"
ok "doctor in text: A is the primary (static lease), B a replica of node-a (its wait from the option); the link in the LiteFS mount"

_json() { # FILE KEY-PATH: prints a value of doctor's JSON
  node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));let v=j;for(const k of process.argv[2].split("."))v=v[k];console.log(v)' "$1" "$2"
}
doctor a --json
assert_eq 0 "$rc" "doctor --json on a"
assert_eq "this node is the primary (static lease); it restores, migrates, seeds (no replicator configured)" "$(_json "$T/doc" database.litefs)" "JSON on a"
doctor b --json
assert_eq 0 "$rc" "doctor --json on b"
assert_eq "this node is a replica of node-a: it waits for the primary's database and migrations (up to 300 s), never writes" "$(_json "$T/doc" database.litefs)" "JSON on b"
ok "doctor --json: database.litefs says primary on A, replica of node-a on B"

# LiteFS's API unreachable (litefs.yml names a port nothing listens on):
# the role is unknown, the verdict 69.
dead=$(_lfs_free_port)
sed -i "s|^http: { addr: \"127.0.0.1:[0-9]*\" }|http: { addr: \"127.0.0.1:$dead\" }|" "$T/b/litefs.yml"
grep -q "127.0.0.1:$dead" "$T/b/litefs.yml" || fail "the dead port is not in $T/b/litefs.yml"
doctor b
assert_eq 69 "$rc" "doctor on b, API unreachable (output: $(cat "$T/doc" "$T/doc.err"))"
assert_contains "$T/doc" "  litefs: role unknown: LiteFS's API (http://127.0.0.1:$dead/info) does not answer, so the boot would set nothing up (see the verdict)" "doctor on b"
assert_contains "$T/doc" "verdict: the boot would exit 69 at the checks and lock phase: " "doctor on b"
doctor b --json
assert_eq 69 "$rc" "doctor --json on b, API unreachable"
assert_eq 69 "$(_json "$T/doc" exit)" "JSON exit"
assert_contains "$T/doc" "\"litefs\":\"role unknown: LiteFS's API" "JSON on b"
ok "doctor when LiteFS's API does not answer: role unknown, verdict 69 (text and JSON)"
for n in a b; do sed "s|$T|\$T|g" "$T/doc-$n"; done
done_testing
