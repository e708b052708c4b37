# ctest-labels: integration;prisma
# ctest-timeout: 120
# `dbsetup migrate`: native Prisma migrations checked against the spec with
# the real sqlite3 CLI, sha256sum and (for the ordering) Node's localeCompare.
. "$(dirname "$0")/lib.sh"

FIX=$DBS_FIXTURES/prisma/blog/migrations
ms() { date +%s%3N; }
q() { sqlite3 -cmd ".timeout 5000" "$@"; }
mig() { # db dir [more args]: runs dbsetup migrate, output in $T/out, $T/err
  local db=$1 dir=$2; shift 2
  run "$DBSETUP" migrate --db "$db" --prisma-migrations "$dir" "$@" >"$T/out" 2>"$T/err"
}

# --- fresh database: the first migration alone --------------------------------
M=$T/app/prisma/migrations
mkdir -p "$M"
cp "$FIX/migration_lock.toml" "$M/"
cp -r "$FIX/20240101000000_init" "$M/"
DB=$T/data/sub/app.db
t0=$(ms)
mig "$DB" "$M"
t1=$(ms)
assert_eq 0 "$rc" "fresh deploy exit status"
assert_contains "$T/err" "applied migration 20240101000000_init in " "per-migration line"
assert_contains "$T/err" "1 migration applied in " "summary line"
ok "fresh database created (with parent directories) and migrated"

# The table exactly as Prisma creates it: names, declared types, NOT NULL,
# defaults and primary key.
assert_eq "0|id|TEXT|1||1
1|checksum|TEXT|1||0
2|finished_at|DATETIME|0||0
3|migration_name|TEXT|1||0
4|logs|TEXT|0||0
5|rolled_back_at|DATETIME|0||0
6|started_at|DATETIME|1|current_timestamp|0
7|applied_steps_count|INTEGER UNSIGNED|1|0|0" \
  "$(q "$DB" 'PRAGMA table_info(_prisma_migrations)')" "_prisma_migrations columns"
ok "_prisma_migrations declared types match Prisma's"

check_row() { # name file start end
  local name=$1 file=$2 lo=$3 hi=$4 row id sum typ started finished steps logs rb
  row=$(q -separator '|' "$DB" "SELECT id, checksum, typeof(started_at)||typeof(finished_at),
    started_at, finished_at, applied_steps_count, quote(logs), quote(rolled_back_at)
    FROM _prisma_migrations WHERE migration_name = '$name'")
  IFS='|' read -r id sum typ started finished steps logs rb <<<"$row"
  [[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] ||
    fail "$name: id '$id' is not a lowercase v4 UUID"
  assert_eq "$(sha256sum "$file" | cut -d' ' -f1)" "$sum" "$name checksum"
  assert_eq integerinteger "$typ" "$name date storage classes"
  [ "$started" -ge "$lo" ] && [ "$started" -le "$finished" ] && [ "$finished" -le "$hi" ] ||
    fail "$name: started_at $started / finished_at $finished outside [$lo, $hi]"
  assert_eq 1 "$steps" "$name applied_steps_count"
  assert_eq NULL "$logs" "$name logs"
  assert_eq NULL "$rb" "$name rolled_back_at"
}
check_row 20240101000000_init "$M/20240101000000_init/migration.sql" "$t0" "$t1"
ok "row: v4 id, sha256sum checksum, INTEGER ms dates in range, 1 step, NULL logs"

# --- idempotence ---------------------------------------------------------------
mig "$DB" "$M"
assert_eq 0 "$rc" "second run exit status"
assert_contains "$T/err" "no pending migrations" "second run summary"
assert_eq 1 "$(q "$DB" 'SELECT count(*) FROM _prisma_migrations')" "rows after second run"
ok "second run applies nothing"

# --- data, then new migrations (table redefine with foreign keys) --------------
q "$DB" "INSERT INTO User (email, name) VALUES ('a@x', 'A');
         INSERT INTO Post (title, authorId) VALUES ('hello', 1);"
cp -r "$FIX/20240102000000_add_published" "$FIX/20240103000000_audit_trigger" "$M/"
run "$DBSETUP" migrate --status --db "$DB" --prisma-migrations "$M" >"$T/out" 2>"$T/err"
assert_eq 80 "$rc" "--status with pending migrations"
assert_contains "$T/out" "pending     20240102000000_add_published" "status lists pending"
assert_contains "$T/out" "1 applied, 2 pending, 0 failed" "status summary"
t0=$(ms)
mig "$DB" "$M"
t1=$(ms)
assert_eq 0 "$rc" "later deploy exit status"
assert_contains "$T/err" "2 migrations applied in " "later summary"
check_row 20240102000000_add_published "$M/20240102000000_add_published/migration.sql" "$t0" "$t1"
check_row 20240103000000_audit_trigger "$M/20240103000000_audit_trigger/migration.sql" "$t0" "$t1"
assert_eq "1|hello|0|1" "$(q "$DB" 'SELECT id, title, published, authorId FROM Post')" "post kept by redefine"
assert_eq "" "$(q "$DB" 'PRAGMA foreign_key_check')" "foreign keys consistent"
run q "$DB" "PRAGMA foreign_keys=ON; INSERT INTO Post (title, authorId) VALUES ('x', 99)" 2>"$T/fk"
[ "$rc" -ne 0 ] || fail "foreign key not enforced after redefine"
assert_contains "$T/fk" "FOREIGN KEY constraint failed" "foreign key still enforced after redefine"
q "$DB" "INSERT INTO Post (title, authorId) VALUES ('second', 1)"
assert_eq "post 2;created!" "$(q "$DB" 'SELECT message FROM AuditLog')" "trigger body ran whole"
ok "new migrations applied later: redefine keeps data and FKs, trigger intact"

run "$DBSETUP" migrate --status --db "$DB" --prisma-migrations "$M" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "--status up to date"
assert_contains "$T/out" "3 applied, 0 pending, 0 failed" "status summary up to date"
ok "--status up to date exits 0"

# --- a failing migration: P3018, Prisma's row, then P3009 ---------------------
mkdir "$M/20240104000000_bad"
cat >"$M/20240104000000_bad/migration.sql" <<'EOF'
-- AlterTable
ALTER TABLE "User" ADD COLUMN "age" INTEGER;
-- CreateIndex
CREATE UNIQUE INDEX "User_name_key" ON "User"("name");
EOF
q "$DB" "INSERT INTO User (email, name) VALUES ('b@x', 'A')" # a duplicate name
mig "$DB" "$M"
assert_eq 80 "$rc" "failed migration exit status"
assert_contains "$T/err" "P3018" "P3018 code"
assert_contains "$T/err" "Migration name: 20240104000000_bad" "P3018 names the migration"
assert_contains "$T/err" "Database error code: 2067" "P3018 extended SQLite code"
assert_contains "$T/err" "UNIQUE constraint failed: User.name" "P3018 database error"
assert_contains "$T/err" "npx prisma migrate resolve --rolled-back 20240104000000_bad" "remedy names the migration"
assert_eq "NULL|0|NULL" "$(q "$DB" "SELECT quote(finished_at), applied_steps_count, quote(rolled_back_at)
  FROM _prisma_migrations WHERE migration_name = '20240104000000_bad'")" "failed row"
q "$DB" "SELECT logs FROM _prisma_migrations WHERE migration_name = '20240104000000_bad'" >"$T/logs"
assert_contains "$T/logs" "UNIQUE constraint failed: User.name" "failed row logs"
assert_eq 1 "$(q "$DB" "SELECT count(*) FROM pragma_table_info('User') WHERE name = 'age'")" \
  "statement before the failure stays applied (autocommit)"
ok "failing script: exit 80, P3018, row with NULL finished_at and logs"

mkdir "$M/20240105000000_next"
echo 'CREATE TABLE "Next" ("id" INTEGER NOT NULL PRIMARY KEY);' >"$M/20240105000000_next/migration.sql"
mig "$DB" "$M"
assert_eq 80 "$rc" "P3009 exit status"
assert_contains "$T/err" "P3009: migrate found failed migrations in the target database" "P3009 message"
assert_contains "$T/err" "The \`20240104000000_bad\` migration started at " "P3009 lists the row"
assert_eq 0 "$(q "$DB" "SELECT count(*) FROM sqlite_master WHERE name = 'Next'")" "nothing applied past P3009"
run "$DBSETUP" migrate --status --db "$DB" --prisma-migrations "$M" >"$T/out" 2>"$T/err"
assert_eq 80 "$rc" "--status with failed"
assert_contains "$T/out" "failed      20240104000000_bad" "status lists failed"
assert_contains "$T/out" "resolve --applied 20240104000000_bad" "status gives the remedy"
ok "next boot blocked with P3009; --status shows it"

# Repair as Prisma documents: fix by hand, `migrate resolve --rolled-back`.
q "$DB" "ALTER TABLE User DROP COLUMN age; UPDATE User SET name = 'B' WHERE email = 'b@x';
  UPDATE _prisma_migrations SET rolled_back_at = CAST(strftime('%s','now') AS INTEGER) * 1000
  WHERE migration_name = '20240104000000_bad'"
mig "$DB" "$M"
assert_eq 0 "$rc" "deploy after resolve"
assert_contains "$T/err" "2 migrations applied" "both applied after resolve"
assert_eq 2 "$(q "$DB" "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20240104000000_bad'")" \
  "rolled-back row kept, new row added"
ok "after migrate resolve --rolled-back the fixed migration is re-applied"

# --- P3005, P3015, P3019 ---------------------------------------------------------
DB2=$T/data/unmanaged.db
q "$DB2" 'CREATE TABLE legacy (id INTEGER PRIMARY KEY)'
mig "$DB2" "$M"
assert_eq 80 "$rc" "P3005 exit status"
assert_contains "$T/err" "P3005: The database schema is not empty" "P3005 message"
assert_contains "$T/err" "https://pris.ly/d/migrate-baseline" "P3005 baseline link"
assert_eq 0 "$(q "$DB2" "SELECT count(*) FROM sqlite_master WHERE name = '_prisma_migrations'")" "P3005 creates nothing"
ok "non-empty unmanaged database: P3005"

M3=$T/m3
mkdir -p "$M3/20240101000000_init" "$M3/20240102000000_lost"
cp "$FIX/20240101000000_init/migration.sql" "$M3/20240101000000_init/"
mig "$T/data/p3015.db" "$M3"
assert_eq 80 "$rc" "P3015 exit status"
assert_contains "$T/err" "P3015: Could not find the migration file at $M3/20240102000000_lost/migration.sql" "P3015 message"
assert_eq 1 "$(q "$T/data/p3015.db" 'SELECT count(*) FROM _prisma_migrations')" "P3015 records nothing"
ok "missing migration.sql: P3015"

printf '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n' >"$M3/migration_lock.toml"
mig "$T/data/p3019.db" "$M3"
assert_eq 80 "$rc" "P3019 exit status"
assert_contains "$T/err" 'P3019: The datasource provider `sqlite` specified in your schema does not match the one specified in the migration_lock.toml, `postgresql`' "P3019 message"
[ ! -e "$T/data/p3019.db" ] || fail "P3019 must not create the database"
ok "lock file provider mismatch: P3019"

# --- CRLF and a BOM --------------------------------------------------------------
M4=$T/m4
mkdir -p "$M4/20240101000000_crlf" "$M4/20240102000000_bom"
printf -- '-- CreateTable\r\nCREATE TABLE "Crlf" (\r\n    "id" INTEGER NOT NULL PRIMARY KEY\r\n);\r\n' \
  >"$M4/20240101000000_crlf/migration.sql"
printf '\xef\xbb\xbf-- CreateTable\nCREATE TABLE "Bom" ("id" INTEGER NOT NULL PRIMARY KEY);\n' \
  >"$M4/20240102000000_bom/migration.sql"
printf 'provider = "sqlite"\r\n' >"$M4/migration_lock.toml"
DB4=$T/data/m4.db
t0=$(ms)
mig "$DB4" "$M4"
t1=$(ms)
assert_eq 0 "$rc" "CRLF/BOM deploy"
DB=$DB4 check_row 20240101000000_crlf "$M4/20240101000000_crlf/migration.sql" "$t0" "$t1"
DB=$DB4 check_row 20240102000000_bom "$M4/20240102000000_bom/migration.sql" "$t0" "$t1"
assert_eq "Bom,Crlf" "$(q "$DB4" "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE name IN ('Bom','Crlf') ORDER BY name)")" "tables created"
ok "CRLF files and a UTF-8 BOM: applied, checksums over the raw bytes"

# --- ill-formed UTF-8: read as Node's readFile(f, "utf-8") reads it ---------------
M9=$T/m9
mkdir -p "$M9/20240101000000_latin1"
printf -- '-- caf\xe9 \xc0\xaf \xed\xa0\x80 \xf0\x9f\x98 \xf4\x90\x80\x80 ok\nCREATE TABLE "L" ("v" TEXT);\nINSERT INTO "L" VALUES (\x27\xe9t\xe9 \xe2\x82\xac\x27);\n-- \xe2\x82' \
  >"$M9/20240101000000_latin1/migration.sql"
mig "$T/data/m9.db" "$M9"
assert_eq 0 "$rc" "ill-formed UTF-8 deploy"
assert_contains "$T/err" "is not valid UTF-8" "warning about the encoding"
if command -v node >/dev/null; then
  want=$(node -e 'const fs=require("fs"),c=require("crypto");const s=fs.readFileSync(process.argv[1],"utf-8");process.stdout.write(c.createHash("sha256").update(s).digest("hex")+" "+Buffer.from(s.match(/\x27(.*)\x27/)[1]).toString("hex"))' \
    "$M9/20240101000000_latin1/migration.sql")
else # what Node 20 prints for this file
  want="(node missing)"
fi
got="$(q "$T/data/m9.db" 'SELECT checksum FROM _prisma_migrations') $(q "$T/data/m9.db" 'SELECT hex(v) FROM L' | tr A-F a-f)"
assert_eq "$want" "$got" "checksum and stored text of the decoded script"
ok "ill-formed UTF-8 replaced by U+FFFD exactly as Node decodes it (checksum and data)"

# --- ordering: Prisma 6/7 sort with localeCompare ------------------------------
M5=$T/m5
names=(20240101000000_init 1_first 10_second 2_third a_lower B_upper b_lower A_upper
  20240101000000-dash 20240101000000_Init 20240101000000a)
for n in "${names[@]}"; do
  mkdir -p "$M5/$n"
  echo "INSERT INTO \"ord\" (\"name\") VALUES ('$n');" >"$M5/$n/migration.sql"
done
# The one that sorts first creates the table.
if command -v node >/dev/null; then
  expected=$(node -e 'console.log(process.argv.slice(1).sort((a,b)=>a.localeCompare(b)).join(","))' "${names[@]}")
else
  expected="1_first,10_second,2_third,20240101000000_init,20240101000000_Init,20240101000000-dash,20240101000000a,a_lower,A_upper,b_lower,B_upper"
fi
first=${expected%%,*}
echo "CREATE TABLE \"ord\" (\"seq\" INTEGER PRIMARY KEY AUTOINCREMENT, \"name\" TEXT); INSERT INTO \"ord\" (\"name\") VALUES ('$first');" \
  >"$M5/$first/migration.sql"
bytes=$(printf '%s\n' "${names[@]}" | LC_ALL=C sort | paste -sd,)
[ "$bytes" != "$expected" ] || fail "test names must sort differently in byte order"
mig "$T/data/m5.db" "$M5"
assert_eq 0 "$rc" "ordering deploy"
assert_eq "$expected" "$(q "$T/data/m5.db" 'SELECT group_concat(name) FROM (SELECT name FROM ord ORDER BY seq)')" \
  "applied in localeCompare order"
ok "applied in Prisma 6/7 (localeCompare) order, not byte order: $expected"

# --- symlinked directories are skipped ---------------------------------------------
M6=$T/m6
mkdir -p "$M6/20240101000000_init" "$T/elsewhere"
cp "$FIX/20240101000000_init/migration.sql" "$M6/20240101000000_init/"
echo 'CREATE TABLE "Linked" (x);' >"$T/elsewhere/migration.sql"
ln -s "$T/elsewhere" "$M6/20240102000000_linked"
mig "$T/data/m6.db" "$M6"
assert_eq 0 "$rc" "symlink deploy"
assert_eq 0 "$(q "$T/data/m6.db" "SELECT count(*) FROM _prisma_migrations WHERE migration_name LIKE '%linked'")" "symlink skipped"
ok "symlinked migration directories are skipped"

# --- EXCLUSIVE locking while migrating, unless the advisory lock is disabled -----
slow_dir() { # dir
  mkdir -p "$1/20240101000000_slow"
  cat >"$1/20240101000000_slow/migration.sql" <<'EOF'
CREATE TABLE "Slow" ("id" INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) SELECT sum(x) FROM c;
EOF
}
# While dbsetup runs the slow statement (after CREATE TABLE "Slow" has
# committed), a reader without a busy timeout polls: under EXCLUSIVE locking
# it is locked out until dbsetup closes the database; without it, it sees
# the mid-migration state (the table, but no finished row).
probe() { # db pid: polls until pid exits; sets saw_locked / saw_table
  saw_locked=0 saw_table=0
  while kill -0 "$2" 2>/dev/null; do
    out=$(sqlite3 "$1" "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'Slow')
      || (SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL)" 2>&1) || true
    case $out in
    *"database is locked"*) saw_locked=1 ;;
    10) saw_table=1 ;; # mid-migration: table there, row not finished
    esac
    sleep 0.05
  done
}
slow_dir "$T/m7"
"$DBSETUP" migrate --db "$T/data/m7.db" --prisma-migrations "$T/m7" 2>"$T/err7" &
pid=$!
probe "$T/data/m7.db" $pid
wait $pid
assert_eq "1 0" "$saw_locked $saw_table" "exclusive: locked out, never saw the table mid-run"
slow_dir "$T/m8"
PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK=1 "$DBSETUP" migrate --db "$T/data/m8.db" --prisma-migrations "$T/m8" 2>"$T/err8" &
pid=$!
probe "$T/data/m8.db" $pid
wait $pid
assert_eq 1 "$saw_table" "advisory lock disabled: the table is visible mid-run"
ok "PRAGMA main.locking_mode=EXCLUSIVE while migrating; PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK=1 skips it"

# --- usage and configuration errors ------------------------------------------------
run env -C "$T" "$DBSETUP" migrate --prisma-migrations "$M" >"$T/out" 2>"$T/err"
assert_eq 78 "$rc" "no database anywhere"
assert_contains "$T/err" "no database found" "no database message"
assert_contains "$T/err" "pass --db PATH" "no database message names the fix"
run "$DBSETUP" migrate --db "$DB" --bogus >"$T/out" 2>"$T/err"
assert_eq 64 "$rc" "unknown argument"
run "$DBSETUP" migrate --db >"$T/out" 2>"$T/err"
assert_eq 64 "$rc" "option without its value"
mig "$T/data/x.db" "$T/does-not-exist"
assert_eq 78 "$rc" "missing migrations folder"
assert_contains "$T/err" "--prisma-migrations" "missing folder message names the fix"
printf 'this is not a database, just text that is long enough to have a header\n%.0s' {1..20} >"$T/data/text.db"
mig "$T/data/text.db" "$M"
assert_eq 65 "$rc" "not an SQLite file"
assert_contains "$T/err" "file is not a database" "not-a-database message"
mkdir -p "$T/ro"
run unshare --mount bash -c "mount -t tmpfs -o ro tmpfs '$T/ro' &&
  '$DBSETUP' migrate --db '$T/ro/app.db' --prisma-migrations '$M'" >"$T/out" 2>"$T/err"
assert_eq 73 "$rc" "read-only filesystem"
run unshare --mount bash -c "mount -t tmpfs -o ro tmpfs '$T/ro' &&
  '$DBSETUP' migrate --db '$T/ro/sub/app.db' --prisma-migrations '$M'" >"$T/out" 2>"$T/err"
assert_eq 73 "$rc" "read-only filesystem, missing directory"
assert_contains "$T/err" "cannot create the directory of the database" "directory message"
ok "usage errors exit 64, configuration errors 78, not a database 65, read-only 73"

# --- discovery: the Prisma schema names the database and the folder ------------------
S=$T/proj
mkdir -p "$S/prisma/migrations"
cp -r "$FIX"/. "$S/prisma/migrations/"
cat >"$S/prisma/schema.prisma" <<'EOF'
generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "sqlite"
  url      = "file:./dev.db"
}
EOF
run env -C "$S" "$DBSETUP" migrate >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "migrate with the schema found in ./prisma"
assert_contains "$T/err" "3 migrations applied" "schema-discovered deploy"
assert_eq 3 "$(q "$S/prisma/dev.db" 'SELECT count(*) FROM _prisma_migrations')" \
  "file:./dev.db resolved against the schema's directory"
run "$DBSETUP" migrate --status --schema "$S/prisma/schema.prisma" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "--status --schema"
assert_contains "$T/out" "database: $S/prisma/dev.db" "--status shows the discovered database"
run env DATABASE_URL="file:$T/data/from-env.db" "$DBSETUP" migrate --prisma-migrations "$M" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "DATABASE_URL names the database"
[ -s "$T/data/from-env.db" ] || fail "DATABASE_URL database not migrated"
sed -i 's/"sqlite"/"postgresql"/' "$S/prisma/schema.prisma"
run env -C "$S" "$DBSETUP" migrate >"$T/out" 2>"$T/err"
assert_eq 78 "$rc" "postgresql datasource"
ok "discovery: schema url, --schema, DATABASE_URL; a postgresql datasource is refused"

done_testing
