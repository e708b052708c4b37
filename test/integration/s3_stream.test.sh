#!/usr/bin/env bash
# ctest-labels: integration;s3
# ctest-timeout: 120
# GETs stream into the sink with bounded memory: a 96 MB object, also
# through a reset in the middle, never grows the process beyond a few MB
# over its baseline (peak RSS from /usr/bin/time).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
s3_start
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
echo small >"$T/small"
s3_put_file small "$T/small"
head -c $((96 * 1024 * 1024)) /dev/urandom >"$T/big"
want=$(sha256sum <"$T/big" | cut -d' ' -f1)
s3_put_file big "$T/big"
rm "$T/big"
rss() { # endpoint key: prints peak RSS in kB of one get into $T/out
  /usr/bin/time -f "%M" -o "$T/rss" "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" \
    --endpoint "$1" --timeout-ms 30000 get "$2" "$T/out" 2>"$T/err" ||
    { cat "$T/err" >&2; fail "get $2 failed"; }
  tail -1 "$T/rss"
}
base=$(rss "$S3_ENDPOINT" small)
big=$(rss "$S3_ENDPOINT" big)
assert_eq "$want" "$(sha256sum <"$T/out" | cut -d' ' -f1)" "96 MB content"
echo "# peak RSS: small object ${base} kB, 96 MB object ${big} kB"
[ "$big" -lt $((base + 8192)) ] || fail "96 MB get grew RSS from $base to $big kB"
ok "a 96 MB GET streams with peak RSS within 8 MB of a tiny GET's"
fp_start --fault reset:1:big --reset-after $((40 * 1024 * 1024))
big2=$(rss "$FP_ENDPOINT" big)
assert_eq "$want" "$(sha256sum <"$T/out" | cut -d' ' -f1)" "96 MB content after reset"
# Resumed where the data received ended: at 40 MB, or a little before when
# the reset (RST) dropped bytes still unread in the socket buffer (a fast
# server such as MinIO fills it).
at=$(sed -n 's/.*range=bytes=\([0-9]*\)- fault=none.*/\1/p' "$FP_LOG")
[ -n "$at" ] && [ "$at" -gt $((32 * 1024 * 1024)) ] && [ "$at" -le 41943040 ] ||
  { cat "$FP_LOG"; fail "no resume near 40 MB"; }
[ "$big2" -lt $((base + 8192)) ] || fail "resumed get grew RSS to $big2 kB"
ok "a 96 MB GET reset at 40 MB resumes at byte $at, intact, still bounded (${big2} kB)"
done_testing
