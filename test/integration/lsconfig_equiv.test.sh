# ctest-labels: integration
# ctest-timeout: 120
# Equivalence of dbsetup's litestream.yml parser with the real litestream
# 0.3.13: the same files go to `litestream databases` (db paths and replica
# names) and to lsconfig-dump, which prints our parse in the same shape;
# file replica directories are checked with `litestream generations`, which
# lists a generation only if it looks where we say the replica is.
. "$(dirname "$0")/lib.sh"
DUMP=$DBS_TOOLS/lsconfig-dump
[ -x "$LITESTREAM" ] || fail "no litestream at $LITESTREAM (set DBS_PEERS=/work/peers)"
W=$T/work
mkdir -p "$W/sub" && cd "$W"
unset LITESTREAM_CONFIG AWS_REGION AWS_ENDPOINT_URL_S3 || true
HOMEDIR=$(getent passwd "$(id -u)" | cut -d: -f6)

# same NAME FILE: both accept it with identical output, or both refuse it.
same() {
  local name=$1 f=$2 trc orc
  # env fixes $_, which bash sets to each command's own path.
  run env _=lsconfig-test "$LITESTREAM" databases -config "$f" >"$T/theirs.out" 2>"$T/theirs.err"
  trc=$rc
  run env _=lsconfig-test "$DUMP" "$f" >"$T/ours.out" 2>"$T/ours.err"
  orc=$rc
  if [ "$trc" -eq 0 ]; then
    [ "$orc" -eq 0 ] || { cat "$T/ours.err" >&2; fail "$name: litestream accepts, we refuse"; }
    diff -u "$T/theirs.out" "$T/ours.out" >&2 || fail "$name: outputs differ"
  else
    [ "$orc" -ne 0 ] || { cat "$T/theirs.out" "$T/theirs.err" >&2; fail "$name: litestream refuses, we accept"; }
  fi
  ok "$name (litestream rc=$trc)"
}

# refuse NAME FILE NEEDLE: we refuse with a message containing NEEDLE.
refuse() {
  run "$DUMP" "$2" >"$T/ours.out" 2>"$T/ours.err"
  [ "$rc" -ne 0 ] || fail "$1: accepted"
  assert_contains "$T/ours.err" "$3" "$1"
}

y() { cat >"$W/$1"; }

# --- environment expansion, every Go os.ExpandEnv rule ------------------
y expand.yml <<'EOF'
dbs:
  - path: /x/$FOO/${FOO}/${FOO:-d}/$$/$1/$*/${}/a$/b$%/c${/z}/${1}/$-/$?q/$ab_c9.d/${A}B/${A
    replicas:
      - url: file:///tmp/r/$FOO
  - path: /y/${UNSET_VAR}z/$UNSET_VAR/w$
  - path: "/q/${SPACE VAR}/${É}/$É/${A}${A}$A$A"
EOF
FOO=foo ab_c9=Z A=aa same "expansion rules" expand.yml
FOO='a b' A='x/../y' same "expansion with spaces and .. in values" expand.yml
same "expansion, nothing set" expand.yml

y nl.yml <<'EOF'
dbs:
  - path: $P1
    replicas: $R1
EOF
P1=/n/db R1='
      - url: file:///tmp/r1
        name: one
      - type: file
        path: /tmp/r2' same "values that carry YAML (newlines)" nl.yml

# Random strings over the characters that matter to the expansion, 100
# paths per file, three fixed seeds: the same output or the same refusal.
for seed in 1 2 3; do
  awk -v seed="$seed" 'BEGIN {
    srand(seed); n = split("$ $ $ { } a B _ 1 * - / . x : # @", ch, " ")
    print "dbs:"
    for (i = 0; i < 100; i++) {
      s = "/p" i "/"; len = 1 + int(rand() * 12)
      for (k = 0; k < len; k++) s = s ch[1 + int(rand() * n)]
      printf "  - path: \"%s\"\n", s
    }
  }' >"$W/random$seed.yml"
  a=aval a_=underscored B=bval x1=xone same "random expansions, seed $seed" "random$seed.yml"
done

# Unquoted random scalars with YAML's own special characters: libyaml and
# yaml.v2 must agree on what parses and what it means (60 single files).
agree=0 refused=0
for seed in $(seq 1 60); do
  awk -v seed="$seed" 'BEGIN {
    srand(seed); n = split("$ $ { } a B 1 * - / . : # @ & ! [ ] , | > % ~", ch, " ")
    ch[++n] = " "; ch[++n] = "\x27"; ch[++n] = "\""
    s = ""; len = 1 + int(rand() * 6)
    for (k = 0; k < len; k++) s = s ch[1 + int(rand() * n)]
    printf "dbs:\n  - path: %s\n", s
  }' >"$W/plain.yml"
  run env _=t a=aval B=bval "$LITESTREAM" databases -config "$W/plain.yml" >"$T/theirs.out" 2>&1
  trc=$rc
  run env _=t a=aval B=bval "$DUMP" "$W/plain.yml" >"$T/ours.out" 2>&1
  if [ "$trc" -eq 0 ] && [ "$rc" -eq 0 ]; then
    cmp -s "$T/theirs.out" "$T/ours.out" || { cat "$W/plain.yml"; diff "$T/theirs.out" "$T/ours.out"; fail "plain scalar seed $seed differs"; } >&2
    agree=$((agree + 1))
  elif [ "$trc" -ne 0 ] && [ "$rc" -ne 0 ]; then
    refused=$((refused + 1))
  else
    { cat "$W/plain.yml" "$T/theirs.out" "$T/ours.out"; fail "plain scalar seed $seed: litestream rc=$trc, ours rc=$rc"; } >&2
  fi
done
[ "$agree" -gt 10 ] && [ "$refused" -gt 10 ] || fail "random cases too one-sided ($agree/$refused)"
ok "random plain scalars: $agree read alike, $refused refused by both"

# --- db paths: ~, relative, cleaned, null ---------------------------------
y paths.yml <<'EOF'
dbs:
  - path: ~/app.db
  - path: ~
  - path: rel/app.db
  - path: ./a/../b//c/./app.db
  - path: ../up.db
  - path: ""
  - path: ~root/x.db
  - path: "~/quoted.db"
  - path: /abs//dir/../app.db
  - path:
  - meta-path: /m
EOF
same "db paths from the working directory" paths.yml
cd sub; HOME=/nonexistent same "db paths from a subdirectory, HOME ignored for ~" ../paths.yml; cd "$W"
grep -q "^$HOMEDIR/app.db " "$T/ours.out" || fail "~ not from passwd"

# --- replicas, names, URL forms -------------------------------------------
y replicas.yml <<'EOF'
access-key-id: TOPKEYID
secret-access-key: TOPSECRET
dbs:
  - path: /data/app.db
    replicas:
      - url: s3://bucket/path/to/db
      - url: file:///var/backup
      - name: second
        type: file
        path: ~/backups/x
      - name: gcs1
        url: gcs://gb/p
      - name: abs1
        url: abs://acct@container/p
      - name: sftp1
        url: sftp://user:pw@host:22/p
      - name: b2
        url: s3://bkt.s3.us-west-002.backblazeb2.com/db
      - name: do
        url: s3://bkt.nyc3.digitaloceanspaces.com/db
      - name: scw
        url: s3://bkt.s3.fr-par.scw.cloud/db
      - name: linode
        url: s3://bkt.us-east-1.linodeobjects.com/db
      - name: filebase
        url: s3://bkt.s3.filebase.com/db
      - name: local
        url: s3://bkt.localhost:9000/db
      - name: minio
        url: s3://minio:9000/bkt/db
      - name: upper
        url: S3://Bkt/Db
      - name: fields
        type: s3
        bucket: b
        path: /lead/slash
        endpoint: minio:9000
        region: auto
        force-path-style: no
        skip-verify: yes
        retention: 72h
        sync-interval: 10
        snapshot-interval: 1h30m
  - path: relative.db
    replicas:
      - path: relative-replica
      - url: file:relative-opaque
        name: opaque
  - path: /anchors.db
    replicas:
      - &base
        type: s3
        bucket: anch
        region: eu-west-1
        name: base
      - <<: *base
        name: merged
      - <<: [{name: listmerged}, *base]
      - <<: [*base, {name: first-wins}]
        name: last
EOF
same "replica names, url forms, providers, anchors and merges" replicas.yml

y dupkeys.yml <<'EOF'
dbs:
  - path: /first.db
    path: /second.db
    replicas:
      - url: file:///a
    replicas:
      - url: file:///b
        name: later
dbs:
  - path: /third.db
EOF
same "duplicate keys: the later one wins" dupkeys.yml

y empty.yml </dev/null
same "empty file" empty.yml
printf 'dbs:\n' >"$W/nulldbs.yml"
same "dbs: null" nulldbs.yml
printf -- '---\ndbs:\n - path: /one.db\n---\ndbs:\n - path: /two.db\n' >"$W/twodocs.yml"
same "only the first YAML document counts" twodocs.yml
printf 'addr: ":9090"\nexec: sleep 1\nlogging:\n  level: debug\n  type: json\n  stderr: true\ndbs:\n - path: /l.db\n   monitor-interval: 1s\n   checkpoint-interval: 0\n   min-checkpoint-page-count: 0x10\n   max-checkpoint-page-count: 1_000\n   unknown-key: {a: b}\n' >"$W/other.yml"
same "other top-level and db keys" other.yml

# Random replica URLs from pieces that exercise Go's net/url (escapes in
# host, userinfo, fragment; ports; brackets; schemes): the same replica
# types or the same refusal (60 files).
agree=0 refused=0
for seed in $(seq 1 60); do
  awk -v seed="$seed" 'BEGIN {
    srand(seed)
    n = split("s3:// s3:// file:// file: gcs:// sftp:// abs:// S3:// / / b b.localhost :9 :x @ %20 %z %C3%A9 %25 ? # [::1] .. . u:p@ x ^ {", ch, " ")
    s = ""; len = 1 + int(rand() * 6)
    for (k = 0; k < len; k++) s = s ch[1 + int(rand() * n)]
    printf "dbs:\n  - path: /a.db\n    replicas:\n      - url: \"%s\"\n", s
  }' >"$W/url.yml"
  run env _=t "$LITESTREAM" databases -config "$W/url.yml" >"$T/theirs.out" 2>&1
  trc=$rc
  run env _=t "$DUMP" "$W/url.yml" >"$T/ours.out" 2>&1
  if [ "$trc" -eq 0 ] && [ "$rc" -eq 0 ]; then
    cmp -s "$T/theirs.out" "$T/ours.out" || { cat "$W/url.yml"; diff "$T/theirs.out" "$T/ours.out"; fail "url seed $seed differs"; } >&2
    agree=$((agree + 1))
  elif [ "$trc" -ne 0 ] && [ "$rc" -ne 0 ]; then
    refused=$((refused + 1))
  else
    { cat "$W/url.yml" "$T/theirs.out" "$T/ours.out"; fail "url seed $seed: litestream rc=$trc, ours rc=$rc"; } >&2
  fi
done
[ "$agree" -gt 5 ] && [ "$refused" -gt 5 ] || fail "random urls too one-sided ($agree/$refused)"
ok "random replica urls: $agree read alike, $refused refused by both"

# Random replica entries from real key/value lines: which combinations
# litestream accepts (and with which names) and which it refuses. Duplicate
# names are the one planned difference (see below).
agree=0 refused=0 dups=0
for seed in $(seq 1 60); do
  awk -v seed="$seed" 'BEGIN {
    srand(seed)
    n = split("url: s3://b/p|url: s3://$X/p|url: file:///tmp/lsc-r|url: gcs://g/p|" \
      "url: s3://b.localhost:9/x|url: ${X}|type: s3|type: file|type: sftp|type: abs|" \
      "type: gcs|bucket: $X|bucket: b|path: /x|path: ~/x|path: s3://no|path: rel|" \
      "name: n1|name: n2|endpoint: e:1|region: ${X}|force-path-style: yes|" \
      "force-path-style: \"no\"|skip-verify: on|access-key-id: ${X}x|retention: 1h|" \
      "retention: 1d|host: h|user: u|<<: {bucket: m}|url: sftp://u@h/p|" \
      "url: abs://a@c/p|url: s3://|url: file:|sync-interval: 10", kv, "|")
    printf "dbs:\n  - path: /a.db\n    replicas:\n"
    nrep = 1 + int(rand() * 3)
    for (r = 0; r < nrep; r++) {
      nkv = 1 + int(rand() * 4)
      for (k = 0; k < nkv; k++)
        printf "      %s%s\n", (k == 0 ? "- " : "  "), kv[1 + int(rand() * n)]
    }
  }' >"$W/rep.yml"
  run env _=t X=val "$LITESTREAM" databases -config "$W/rep.yml" >"$T/theirs.out" 2>&1
  trc=$rc
  run env _=t X=val "$DUMP" "$W/rep.yml" >"$T/ours.out" 2>&1
  if [ "$trc" -eq 0 ] && [ "$rc" -eq 0 ]; then
    cmp -s "$T/theirs.out" "$T/ours.out" || { cat "$W/rep.yml"; diff "$T/theirs.out" "$T/ours.out"; fail "replica seed $seed differs"; } >&2
    agree=$((agree + 1))
  elif [ "$trc" -ne 0 ] && [ "$rc" -ne 0 ]; then
    refused=$((refused + 1))
  elif [ "$trc" -eq 0 ] && grep -q "duplicate replica name" "$T/ours.out"; then
    dups=$((dups + 1))
  else
    { cat "$W/rep.yml" "$T/theirs.out" "$T/ours.out"; fail "replica seed $seed: litestream rc=$trc, ours rc=$rc"; } >&2
  fi
done
[ "$agree" -gt 3 ] && [ "$refused" -gt 10 ] || fail "random replicas too one-sided ($agree/$refused)"
ok "random replica entries: $agree read alike, $refused refused by both, $dups duplicate names"

# --- errors both raise ------------------------------------------------------
err_case() { # name needle yaml
  printf '%s\n' "$3" >"$W/err.yml"
  same "$1" err.yml
  assert_contains "$T/ours.err" "$2" "$1: our message"
}
err_case "path is a url" "replica path cannot be a url" \
  'dbs: [{path: /a.db, replicas: [{path: "s3://b/p"}]}]'
err_case "s3 url and path" "cannot specify url & path for s3 replica" \
  'dbs: [{path: /a.db, replicas: [{url: "s3://b/p", path: x}]}]'
err_case "s3 url and bucket" "cannot specify url & bucket for s3 replica" \
  'dbs: [{path: /a.db, replicas: [{url: "s3://b/p", bucket: x}]}]'
err_case "s3 without bucket" "bucket required for s3 replica" \
  'dbs: [{path: /a.db, replicas: [{type: s3, path: x}]}]'
err_case "file url and path" "cannot specify url & path for file replica" \
  'dbs: [{path: /a.db, replicas: [{url: "file:///x", path: /y}]}]'
err_case "file without path" "file replica path required" \
  'dbs: [{path: /a.db, replicas: [{name: x}]}]'
err_case "unknown replica type" "unknown replica type" \
  'dbs: [{path: /a.db, replicas: [{type: ftp, path: /x}]}]'
err_case "url without scheme" "scheme required" \
  'dbs: [{path: /a.db, replicas: [{url: "/just/a/path"}]}]'
err_case "malformed yaml" "err.yml:3:4: did not find expected" $'dbs:\n  - path: /a.db\n   replicas: x'
err_case "quoted bool" "force-path-style" \
  'dbs: [{path: /a.db, replicas: [{type: s3, bucket: b, force-path-style: "true"}]}]'
err_case "bad duration" "retention" \
  'dbs: [{path: /a.db, replicas: [{path: /x, retention: 5x}]}]'
err_case "quoted int" "min-checkpoint-page-count" \
  'dbs: [{path: /a.db, min-checkpoint-page-count: "5"}]'
err_case "dbs not a list" "dbs must be a list" 'dbs: {path: /a.db}'
err_case "path is a mapping" "dbs[0].path" 'dbs: [{path: {a: b}}]'
err_case "top level is a list" "must be a mapping" '- a'
err_case "bad port" "invalid port" \
  'dbs: [{path: /a.db, replicas: [{url: "s3://b:x9/p"}]}]'
err_case "bad escape" "invalid URL escape" \
  'dbs: [{path: /a.db, replicas: [{url: "s3://b/p%zz"}]}]'

# --- where we are stricter, on purpose ------------------------------------
# Duplicate names: litestream checks them only when it opens the databases
# (replicate), not in `databases`; we refuse them when parsing.
touch "$W/dup.db"
printf 'dbs:\n  - path: %s\n    replicas:\n      - path: %s\n      - path: %s\n' \
  "$W/dup.db" "$W/r1" "$W/r2" >"$W/dup.yml"
run timeout 10 "$LITESTREAM" replicate -config "$W/dup.yml" >"$T/theirs.out" 2>&1
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "litestream replicate accepts duplicate names (rc=$rc)"
assert_contains "$T/theirs.out" "duplicate replica name" "litestream replicate"
refuse "duplicate replica name" "$W/dup.yml" 'duplicate replica name: "file"'
ok "duplicate replica names refused, as litestream replicate does"

printf 'dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n' >"$W/v05.yml"
run "$LITESTREAM" databases -config "$W/v05.yml" >"$T/theirs.out" 2>&1
assert_eq 0 "$rc" "litestream 0.3 accepts a singular replica:"
grep -q '^/a.db *$' "$T/theirs.out" || fail "litestream 0.3 was expected to drop replica: silently"
refuse "singular replica: (v0.5 syntax)" "$W/v05.yml" "v05.yml:3:"
assert_contains "$T/ours.err" "replicas:" "names the fix"
ok "singular replica: is an error naming replicas:"

printf 'dbs:\n  - path: /a.db\n    replicas:\n      - type: s3\n        bucket: $BUCKET_NAME\n        path: db\n      - url: s3://${BUCKET_NAME}/db\n        name: viaurl\n' >"$W/nobucket.yml"
run "$LITESTREAM" databases -config "$W/nobucket.yml" >"$T/theirs.out" 2>&1
[ "$rc" -ne 0 ] || fail "litestream accepts an empty bucket?"
"$DUMP" -v "$W/nobucket.yml" >"$T/ours.out"
assert_contains "$T/ours.out" "db[0].replica[0].bucket_empty=1" "bucket: \$BUCKET_NAME unset"
assert_contains "$T/ours.out" "db[0].replica[1].bucket_empty=1" "url: s3://\${BUCKET_NAME}"
BUCKET_NAME=real "$DUMP" -v "$W/nobucket.yml" >"$T/ours.out"
assert_contains "$T/ours.out" "db[0].replica[0].bucket=real" "bucket set"
assert_contains "$T/ours.out" "db[0].replica[0].bucket_empty=0" "bucket set"
ok "bucket expanding to empty is flagged, not fatal"

# --- file replica directories, checked through litestream generations -----
mkdir -p "$W/data" && touch "$W/data/app.db"
cat >"$W/gen.yml" <<'EOF'
dbs:
  - path: data/app.db
    replicas:
      - url: file://$REPDIR/a
        name: viaurl
      - path: rel/b
        name: relative
      - path: ./rel/../rel//c/
        name: cleaned
      - url: file:rel/d
        name: opaque
      - url: file://$REPDIR/sp%41ce/e
        name: escaped
      - url: file://$REPDIR/with space/f
        name: space
      - path: ${REPDIR}/g
EOF
export REPDIR=$W/reps
"$DUMP" -v gen.yml >"$T/gen.out"
n=0
while IFS='=' read -r key dir; do
  case $key in *.replica*.path) ;; *) continue ;; esac
  n=$((n + 1))
  gen=$(printf '%016x' "$n")
  mkdir -p "$dir/generations/$gen/snapshots"
  touch "$dir/generations/$gen/snapshots/00000000.snapshot.lz4"
done <"$T/gen.out"
assert_eq 7 "$n" "replica paths printed"
"$LITESTREAM" generations -config gen.yml data/app.db >"$T/theirs.gen"
for k in $(seq 1 7); do
  name=$(sed -n "s/^db\[0\]\.replica\[$((k - 1))\]\.name=//p" "$T/gen.out")
  gen=$(printf '%016x' "$k")
  grep -Eq "^$name +$gen " "$T/theirs.gen" ||
    { cat "$T/gen.out" "$T/theirs.gen" >&2; fail "litestream does not see replica $name where we put it"; }
done
[ -d "$W/reps/sp%41ce/e" ] || fail "file URL escapes are kept as written"
[ -d "$W/reps/with%20space/f" ] || fail "file URL spaces become %20, as Go's URL.String does"
ok "file replica directories: litestream finds every generation where we say"

done_testing
