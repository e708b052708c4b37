#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 120
# `dbsetup restore|generations DB_PATH -config FILE` picks the litestream.yml
# entry real litestream v0.3.13 picks, and restores to the file litestream
# restores to: litestream expands the argument as it expands dbs[].path
# (filepath.Abs, lexical: "link/../db" is "db" whatever link points at; "~"
# from the passwd database, not $HOME) and compares the strings.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

make_replica "$T/w" 1 4
mkdir -p "$T/real/sub" "$T/empty"
ln -s "$T/real/sub" "$T/link"
# Two entries: real/db.sqlite has no backup, db.sqlite has the replica.
cat >"$T/m.yml" <<YML
dbs:
  - path: $T/real/db.sqlite
    replicas:
      - type: file
        path: $T/empty
  - path: $T/db.sqlite
    replicas:
      - type: file
        path: $T/w/replica
YML
arg="$T/link/../db.sqlite" # db.sqlite for litestream, real/db.sqlite for the kernel

run "$LITESTREAM" restore -config "$T/m.yml" "$arg" >"$T/ls.out" 2>&1
assert_eq 0 "$rc" "litestream restore"
[ -f "$T/db.sqlite" ] && [ ! -e "$T/real/db.sqlite" ] ||
  fail "litestream restored somewhere else than db.sqlite"
want=$(dump "$T/db.sqlite")
rm -f "$T/db.sqlite"
run "$DBSETUP" restore -config "$T/m.yml" "$arg" >"$T/out" 2>&1
assert_eq 0 "$rc" "dbsetup restore"
[ ! -e "$T/real/db.sqlite" ] || fail "dbsetup restored onto real/db.sqlite"
[ -f "$T/db.sqlite" ] || fail "dbsetup did not restore db.sqlite"
assert_eq "$want" "$(dump "$T/db.sqlite")" "restored content"
ok "restore link/../db.sqlite: the entry and the output file litestream uses"

# With both databases on disk, realpath would name real/db.sqlite: the
# listing must still be db.sqlite's replica, as litestream's.
sqlite3 "$T/real/db.sqlite" "CREATE TABLE other(x)"
gen=$(ls "$T/w/replica/generations")
"$LITESTREAM" generations -config "$T/m.yml" "$arg" >"$T/ls.gens" 2>&1 ||
  fail "litestream generations: $(cat "$T/ls.gens")"
grep -q "$gen" "$T/ls.gens" || fail "litestream lists no $gen"
run "$DBSETUP" generations -config "$T/m.yml" "$arg" >"$T/gens" 2>&1
assert_eq 0 "$rc" "dbsetup generations"
grep -q "$gen" "$T/gens" || { cat "$T/gens" >&2; fail "dbsetup lists no $gen"; }
ok "generations link/../db.sqlite lists db.sqlite's replica, as litestream"

# "~" is the passwd home on both sides, whatever $HOME says.
name="dbs-test-match-$$.sqlite"
cat >"$T/h.yml" <<YML
dbs:
  - path: ~/$name
    replicas:
      - type: file
        path: $T/w/replica
YML
mkdir -p "$T/h"
homedir=$(getent passwd "$(id -u)" | cut -d: -f6)
# litestream finds the entry, then stats the (missing) file in the passwd
# home: proof enough of the match without writing there.
run env HOME="$T/h" "$LITESTREAM" generations -config "$T/h.yml" "~/$name" >"$T/ls.gens" 2>&1
assert_contains "$T/ls.gens" "$homedir/$name" "litestream: ~ is the passwd home"
assert_not_contains "$T/ls.gens" "not found in config" "litestream matches ~"
run env HOME="$T/h" "$DBSETUP" generations -config "$T/h.yml" "~/$name" >"$T/gens" 2>&1
assert_eq 0 "$rc" "dbsetup generations ~ ($(cat "$T/gens"))"
grep -q "$gen" "$T/gens" || { cat "$T/gens" >&2; fail "dbsetup lists no $gen for ~"; }
ok "generations ~/db: ~ from passwd on both sides, as litestream (HOME ignored)"
done_testing
