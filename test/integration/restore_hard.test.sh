#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 240
# Hostile or odd replica metadata and litestream 0.3.13 parity: a gap of
# 2^31 indexes, absurd sizes and dates, stray bytes after a WAL segment's
# LZ4 frame, points outside the backup, and -index/-timestamp as
# litestream parses them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

# Two objects 2^31 indexes apart: exit 65 naming the gap, at once, with no
# allocation sized from the names (the base allocated 48 GiB, failed, and
# printed an unset buffer with exit 70).
R=$T/gap/generations/0000000000000001
mkdir -p "$R/snapshots" "$R/wal"
: >"$R/snapshots/00000000.snapshot.lz4"
: >"$R/wal/7fffffff_00000000.wal.lz4"
run "$DBSETUP" restore -o "$T/gap.db" "file://$T/gap" 2>"$T/gap.err"
assert_eq 65 "$rc" "2^31 index gap: exit status"
assert_contains "$T/gap.err" \
  "missing WAL indexes: 0000000000000001/00000000..7ffffffe" "2^31 index gap"
assert_contains "$T/gap.err" "wal/7fffffff_00000000.wal.lz4" "2^31 index gap"
[ ! -e "$T/gap.db" ] || fail "2^31 index gap: output created"
ok "two objects 2^31 indexes apart: exit 65 naming the gap"

done_testing
