#!/usr/bin/env bash
# ctest-labels: integration;doctor
# ctest-timeout: 240
# dbsetup doctor, differential: for each boot scenario, `dbsetup doctor`
# with the boot's options predicts the exit status the boot then returns,
# and changes nothing: the app directory, the volume and the replica
# (paths, sizes, modes, mtimes, link targets and sha256 of every file) are
# the same before and after doctor. Its output names no secret, --json is
# one JSON object, and the last line names the reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh" # free_port; starts nothing

make_replica "$T/src" 1 3 # a real litestream 0.3.13 backup
app=$T/app vol=$T/data rep=$T/src/replica
NOLS=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
! PATH=$NOLS command -v litestream >/dev/null || fail "litestream is on $NOLS"
export AWS_ACCESS_KEY_ID=AKIADOCTORTEST AWS_SECRET_ACCESS_KEY=doctor-secret-Zq81x

snap() {
  local d
  for d in "$app" "$vol" "$T/src" "$T/empty"; do
    [ -e "$d" ] || { echo "absent $d"; continue; }
    find "$d" -printf '%p %y %s %m %T@ %l\n'
    find "$d" -type f -exec sha256sum {} +
  done | sort
}

# reset: an empty app directory and no volume.
reset() {
  rm -rf "$app" "$vol" "$T/empty"
  mkdir -p "$app" "$T/empty"
  cd "$app"
}
ls_yml() { # REPLICA-DIR
  cat >"$app/litestream.yml" <<YML
dbs:
  - path: $vol/dev.db
    replicas:
      - type: file
        path: $1
YML
}
migrations() {
  mkdir -p "$app/prisma/migrations"
  cp -r "$DBS_FIXTURES/prisma/blog/migrations/." "$app/prisma/migrations/"
}

# agrees WHAT WANT NEEDLE ARGS...: doctor with ARGS (the boot's options and
# command, run with PATH=$PATH_FOR) changes nothing, exits WANT, its last
# line contains NEEDLE; then the boot with the same ARGS exits WANT too.
PATH_FOR=$PATH
agrees() {
  local what=$1 want=$2 needle=$3 before drc
  shift 3
  mkdir -p "$vol" # the boot's volume (a test of a missing one creates none)
  before=$(snap)
  run env PATH="$PATH_FOR" "$DBSETUP" doctor "$@" >"$T/doc.out" 2>"$T/doc.err"
  drc=$rc
  [ "$before" = "$(snap)" ] || {
    diff <(echo "$before") <(snap) >&2 || true
    fail "$what: doctor changed the app directory, the volume or the replica"
  }
  tail -n 1 "$T/doc.out" >"$T/doc.last"
  assert_contains "$T/doc.last" "$needle" "$what: doctor's last line"
  assert_not_contains "$T/doc.out" "$AWS_SECRET_ACCESS_KEY" "$what: secret in stdout"
  assert_not_contains "$T/doc.err" "$AWS_SECRET_ACCESS_KEY" "$what: secret in stderr"
  run env PATH="$PATH_FOR" "$DBSETUP" doctor --json "$@" >"$T/doc.json" 2>/dev/null
  assert_eq "$drc" "$rc" "$what: --json exit status"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["exit"]==int(sys.argv[2]), d' \
    "$T/doc.json" "$drc" || fail "$what: --json is not one object with exit $drc"
  [ "$before" = "$(snap)" ] || fail "$what: doctor --json changed something"
  run env PATH="$PATH_FOR" "$DBSETUP" --restore-timeout 2 "$@" >"$T/boot.out" 2>&1
  assert_eq "$want" "$rc" "$what: the boot's exit status"
  assert_eq "$rc" "$drc" "$what: doctor predicted $drc, the boot exited $rc"
  ok "$what: doctor predicts exit $rc and changes nothing"
}
base=(--volume "$vol" --db dev.db --litestream-config litestream.yml)

reset
agrees "fresh database, no backup configured" 0 "would start the app" \
  --volume "$vol" --db dev.db -- true
assert_contains "$T/doc.out" "state: missing" "fresh: state"
assert_contains "$T/doc.out" "link: $app/dev.db -> $vol/dev.db: would be created" "fresh: link"

reset
mkdir -p "$vol" && sqlite3 "$vol/dev.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
agrees "existing database" 0 "would start the app" --volume "$vol" --db dev.db -- true
assert_contains "$T/doc.out" "SQLite database, " "existing: state"

reset
ls_yml "$rep"
agrees "restore from a litestream 0.3.13 file replica" 0 "would start the app" \
  "${base[@]}" --litestream "$LITESTREAM" -- true
assert_contains "$T/doc.out" "would restore from replica file" "restore: plan"
assert_contains "$T/doc.out" "point: generation $(ls "$rep/generations")" "restore: generation"
[ "$(integrity "$vol/dev.db")" = ok ] || fail "restore: the boot did not restore"

reset
ls_yml "$T/empty"
agrees "no backup: empty replica" 0 "would start the app" \
  "${base[@]}" --litestream "$LITESTREAM" -- true
assert_contains "$T/doc.out" "no backup exists" "no backup: plan"

reset
cat >litestream.yml <<YML
dbs:
  - path: $vol/dev.db
    replicas:
      - type: s3
        bucket: dbs
        path: prod/dev.db
        endpoint: http://127.0.0.1:$(free_port)
        region: us-east-1
        force-path-style: true
YML
agrees "unreachable S3 (closed port)" 69 "would exit 69" \
  "${base[@]}" --litestream "$LITESTREAM" --restore-timeout 2 -- true

reset
mkdir -p "$T/corrupt/generations/0123456789abcdef/wal"
printf 'x' >"$T/corrupt/generations/0123456789abcdef/wal/00000000_00000000.wal.lz4"
ls_yml "$T/corrupt"
agrees "corrupt replica (a generation without a snapshot)" 65 "would exit 65" \
  "${base[@]}" --litestream "$LITESTREAM" -- true
rm -rf "$T/corrupt"

reset
mkdir -p "$vol" && echo "not a database" >"$vol/dev.db"
agrees "target is not SQLite" 65 "not an SQLite database" --volume "$vol" --db dev.db -- true

reset
mkdir -p "$vol" && echo "4242 otherhost" >"$vol/.dbsetup.lock"
flock "$vol/.dbsetup.lock" sleep 60 &
lockpid=$!
cleanup "kill $lockpid 2>/dev/null || true"
wait_for 5 grep -q FLOCK /proc/locks || fail "no flock"
sleep 0.2
agrees "volume lock held" 75 "pid 4242 on host otherhost" --volume "$vol" --db dev.db -- true
before=$(snap)
run "$DBSETUP" doctor --ignore-lock --volume "$vol" --db dev.db -- true >"$T/doc.out" 2>&1
assert_eq 0 "$rc" "--ignore-lock: the rest would pass"
assert_contains "$T/doc.out" "lock: held by pid 4242 (the rest is checked" "--ignore-lock: holder named"
[ "$before" = "$(snap)" ] || fail "--ignore-lock: something changed"
ok "--ignore-lock: the holder named, the rest checked"
kill "$lockpid"
wait "$lockpid" 2>/dev/null || true

reset
printf 'dbs:\n  - path: [unclosed\n' >litestream.yml
agrees "bad litestream.yml" 78 "would exit 78" "${base[@]}" -- true

reset
ls_yml "$rep"
PATH_FOR=$NOLS
agrees "litestream.yml without a litestream binary" 78 "no litestream binary was found" \
  "${base[@]}" -- true
PATH_FOR=$PATH

reset
migrations
agrees "pending native migrations on a new database" 0 "would start the app" \
  --volume "$vol" --db dev.db --prisma-migrations prisma/migrations -- true
assert_contains "$T/doc.out" "pending: 3" "pending: counted"
# The boot applied them: now none pending.
agrees "applied native migrations" 0 "would start the app" \
  --volume "$vol" --db dev.db --prisma-migrations prisma/migrations -- true
assert_contains "$T/doc.out" "applied: 3" "applied: counted"
sqlite3 "$vol/dev.db" "UPDATE _prisma_migrations SET finished_at = NULL, \
  rolled_back_at = NULL WHERE migration_name = '20240103000000_audit_trigger'"
agrees "failed native migration (P3009)" 80 "20240103000000_audit_trigger" \
  --volume "$vol" --db dev.db --prisma-migrations prisma/migrations -- true
agrees "failed native migration, --migrate-failure=continue" 0 "would start the app" \
  --volume "$vol" --db dev.db --prisma-migrations prisma/migrations \
  --migrate-failure continue -- true

reset
agrees "unknown --user" 64 "would exit 64" \
  --volume "$vol" --db dev.db --user no-such-user-dbs -- true

reset
mkdir -p "$vol/.dev.db-litestream" && sqlite3 "$vol/dev.db" "CREATE TABLE t(x)"
echo data >"$T/rootfile" && ln "$T/rootfile" "$vol/.dev.db-litestream/linked"
agrees "--user: a hard link in litestream's metadata (chown refused)" 65 "hard links" \
  --volume "$vol" --db dev.db --user nobody -- true
rm -f "$vol/.dev.db-litestream/linked" "$T/rootfile"
agrees "--user nobody, existing database" 0 "would start the app" \
  --volume "$vol" --db dev.db --user nobody -- true

reset
printf '#!/bin/sh\n' >"$app/app.sh" && chmod 644 "$app/app.sh"
agrees "app command not executable" 126 "would exit 126" \
  --volume "$vol" --db dev.db -- ./app.sh

reset
ls_yml "$T/empty"
agrees "litestream 0.5, a new database with --no-restore (would overwrite a backup)" 78 \
  "would upload it over any backup" \
  "${base[@]}" --litestream "$DBS_PEERS/litestream05" --no-restore -- true

reset
agrees "app command not found" 127 "would exit 127" \
  --volume "$vol" --db dev.db -- no-such-command-dbs

reset
sqlite3 "$app/dev.db" "CREATE TABLE baked(x); INSERT INTO baked VALUES (1);"
agrees "database baked into the image" 0 "would start the app" \
  --volume "$vol" --db dev.db -- true
assert_contains "$T/doc.out" "would be moved aside to $app/dev.db.in-image" "baked: plan"
[ -f "$app/dev.db.in-image" ] || fail "baked: the boot did not move it aside"
# Now linked: doctor says so.
agrees "database linked by an earlier boot" 0 "would start the app" \
  --volume "$vol" --db dev.db -- true
assert_contains "$T/doc.out" "in place (kept)" "linked: plan"

reset
agrees "nested: -- dbsetup OPTIONS -- COMMAND (the inner one counts)" 127 "would exit 127" \
  --volume "$T/ignored" -- "$DBSETUP" --volume "$vol" --db dev.db -- no-such-command-dbs
[ ! -e "$T/ignored" ] || fail "nested: the outer --volume was used"

# --quick-check: PRAGMA quick_check, read-only.
reset
mkdir -p "$vol" && sqlite3 "$vol/dev.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
before=$(snap)
run "$DBSETUP" doctor --quick-check --volume "$vol" --db dev.db -- true >"$T/doc.out" 2>&1
assert_eq 0 "$rc" "quick-check: exit status"
assert_contains "$T/doc.out" "quick_check: ok" "quick-check: result"
[ "$before" = "$(snap)" ] || fail "quick-check: something changed"
ok "--quick-check: ok, nothing changed"

# fly.toml: kill_timeout against --stop-timeout + the final sync.
reset
printf 'app = "a"\nkill_signal = "SIGINT"\nkill_timeout = 5\n[env]\nkill_timeout = 99\n' >fly.toml
run "$DBSETUP" doctor --volume "$vol" --db dev.db -- true >"$T/doc.out" 2>&1
assert_contains "$T/doc.out" "kill_timeout: 5 s: TOO SHORT" "fly: 5 s < 7 s + 2 s + 1 s"
assert_contains "$T/doc.out" "set kill_timeout = 10 in fly.toml" "fly: the fix"
run "$DBSETUP" doctor --volume "$vol" --db dev.db --stop-timeout 2 -- true >"$T/doc.out" 2>&1
assert_contains "$T/doc.out" "kill_timeout: 5 s: enough" "fly: 5 s >= 2 s + 2 s + 1 s"
printf 'kill_signal = "SIGUSR1"\nkill_timeout = "30s"\n' >fly.toml
run "$DBSETUP" doctor --json --volume "$vol" --db dev.db -- true >"$T/doc.out" 2>&1
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f=d["fly"]
assert f["kill_signal"].startswith("SIGUSR1: NOT"), f
assert f["kill_timeout"].startswith("30s: enough"), f' "$T/doc.out" || fail "fly: json"
ok "fly.toml: kill_timeout and kill_signal checked"

# No command: the rest is checked, the app is not.
reset
mkdir -p "$vol"
before=$(snap)
run "$DBSETUP" doctor --volume "$vol" --db dev.db >"$T/doc.out" 2>&1
assert_eq 0 "$rc" "no command: exit status"
assert_contains "$T/doc.out" "once a command is given" "no command: verdict"
[ "$before" = "$(snap)" ] || fail "no command: something changed"
ok "no command: the rest is checked"

# A missing volume is reported, not created.
reset
run "$DBSETUP" doctor --volume "$vol" --db dev.db -- true >"$T/doc.out" 2>&1
assert_eq 0 "$rc" "missing volume: exit status"
[ ! -e "$vol" ] || fail "doctor created the volume"
assert_contains "$T/doc.out" "missing: would be created" "missing volume: said"
ok "missing volume: reported, not created"

# A local-only check: time per run (reported, not asserted).
reset
mkdir -p "$vol" && sqlite3 "$vol/dev.db" "CREATE TABLE t(x)"
t0=$(date +%s%N)
for i in $(seq 1 50); do "$DBSETUP" doctor --volume "$vol" --db dev.db -- true >/dev/null 2>&1; done
t1=$(date +%s%N)
echo "# doctor, local-only check: $(((t1 - t0) / 50000)) us per run (50 runs)"
done_testing
