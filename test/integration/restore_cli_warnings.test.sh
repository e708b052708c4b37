#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 60
# `dbsetup restore` and `dbsetup generations` print litestream.yml's
# warnings as the boot does (same words, once): here an s3 replica URL whose
# query holds a ';' pair, which litestream 0.5 and dbsetup drop.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

make_replica "$T/w" 1 2
# Two entries: the s3 one only carries the warning; db.sqlite is restored
# from its file replica.
cat >"$T/c.yml" <<YML
dbs:
  - path: $T/other.sqlite
    replicas:
      - url: s3://bucket/other?region=us-east-1;force-path-style=true
  - path: $T/db.sqlite
    replicas:
      - type: file
        path: $T/w/replica
YML
warn="replicas\[0\].url: litestream 0.5 ignores every query option holding ';'"
run "$DBSETUP" restore -config "$T/c.yml" "$T/db.sqlite" >"$T/out" 2>&1
assert_eq 0 "$rc" "dbsetup restore"
[ -f "$T/db.sqlite" ] || fail "dbsetup did not restore db.sqlite"
n=$(grep -c "warn.*$warn" "$T/out" || true)
[ "$n" = 1 ] || { cat "$T/out" >&2; fail "restore printed the warning $n times, not once"; }
grep -q "c.yml:4:[0-9]*: dbs\[0\].replicas\[0\].url" "$T/out" ||
  { cat "$T/out" >&2; fail "the warning names no FILE:LINE"; }
ok "restore prints the config's warning once"

run "$DBSETUP" generations -config "$T/c.yml" "$T/db.sqlite" >"$T/gens" 2>"$T/gens.err"
assert_eq 0 "$rc" "dbsetup generations"
n=$(grep -c "warn.*$warn" "$T/gens.err" || true)
[ "$n" = 1 ] || { cat "$T/gens.err" >&2; fail "generations printed the warning $n times, not once"; }
assert_not_contains "$T/gens" "ignores every query option" "the warning stays off stdout"
ok "generations prints the config's warning once, on stderr"
done_testing
