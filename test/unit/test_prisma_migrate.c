/* Unit tests for lib/prisma_migrate: ordering, checksums, UUIDs and the
 * deploy/status state machine on real SQLite files in a scratch folder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "log.h"
#include "prisma_migrate.h"

static char scratch[256];
static char mdir[300];
static char dbpath[300];

static int setup(void** state) {
  (void)state;
  snprintf(scratch, sizeof(scratch), "%s/dbs-prisma-unit.XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (mkdtemp(scratch) == NULL)
    return -1;
  snprintf(mdir, sizeof(mdir), "%s/migrations", scratch);
  snprintf(dbpath, sizeof(dbpath), "%s/db/app.db", scratch);
  unsetenv("PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK");
  return mkdir(mdir, 0755);
}

static int teardown(void** state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
  return system(cmd);
}

static void put(const char* rel, const char* content, size_t len) {
  char path[600], dir[600];
  snprintf(path, sizeof(path), "%s/%s", mdir, rel);
  snprintf(dir, sizeof(dir), "%s", path);
  char* slash = strrchr(dir, '/');
  *slash = '\0';
  mkdir(dir, 0755);
  FILE* f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(content, 1, len, f), len);
  fclose(f);
}

static void put_str(const char* rel, const char* s) {
  put(rel, s, strlen(s));
}

static void put_migration(const char* name, const char* sql) {
  char rel[300];
  snprintf(rel, sizeof(rel), "%s/migration.sql", name);
  put(rel, sql, strlen(sql));
}

/* Runs one SQL query returning a single text value ("" for NULL). */
static char* query1(const char* sql) {
  sqlite3* db;
  sqlite3_stmt* st;
  static char out[4096];
  assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  out[0] = '\0';
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

static void exec_sql(const char* sql) {
  sqlite3* db;
  char* e = NULL;
  assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
  int rc = sqlite3_exec(db, sql, NULL, NULL, &e);
  if (rc != SQLITE_OK)
    fail_msg("%s: %s", sql, e);
  sqlite3_close(db);
}

static int deploy(struct dbs_prisma_result* res, char* err, size_t n) {
  return dbs_prisma_migrate_deploy(dbpath, mdir, res, err, n);
}

/* ---- ordering --------------------------------------------------------- */

static void test_name_order_matches_locale_compare(void** state) {
  (void)state;
  /* The order Node 20's `a.localeCompare(b)` (ICU 78, en-US = root) gives
   * for these names, measured on this machine. */
  static const char* const sorted[] = {"_a",
                                       "-a",
                                       "1_x",
                                       "1-x",
                                       "1.x",
                                       "10_x",
                                       "1x",
                                       "2_x",
                                       "20240101_a",
                                       "20240101_init",
                                       "20240101_Init",
                                       "2024010100000_x",
                                       "20240101000000_x",
                                       "a_b",
                                       "a_c",
                                       "a-b",
                                       "a1",
                                       "A1",
                                       "ab",
                                       "aB",
                                       "Ab",
                                       "ab_c"};
  size_t n = sizeof(sorted) / sizeof(sorted[0]);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(dbs_prisma_name_cmp(sorted[i], sorted[i]), 0);
    for (size_t j = i + 1; j < n; j++) {
      if (dbs_prisma_name_cmp(sorted[i], sorted[j]) >= 0)
        fail_msg("%s should sort before %s", sorted[i], sorted[j]);
      if (dbs_prisma_name_cmp(sorted[j], sorted[i]) <= 0)
        fail_msg("%s should sort after %s", sorted[j], sorted[i]);
    }
  }
  /* The whole printable ASCII order, as localeCompare sorts single chars. */
  static const char ascii[] =
      " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlL"
      "mMnNoOpPqQrRsStTuUvVwWxXyYzZ";
  for (size_t i = 0; i + 1 < sizeof(ascii) - 1; i++) {
    char a[2] = {ascii[i], 0}, b[2] = {ascii[i + 1], 0};
    if (dbs_prisma_name_cmp(a, b) >= 0)
      fail_msg("'%s' should sort before '%s'", a, b);
  }
  /* Byte order would put these the other way round. */
  assert_true(strcmp("10_x", "1_init") < 0);
  assert_true(dbs_prisma_name_cmp("1_init", "10_x") < 0);
  assert_true(strcmp("B_second", "a_first") < 0);
  assert_true(dbs_prisma_name_cmp("a_first", "B_second") < 0);
}

/* ---- checksums and ids ------------------------------------------------ */

static void test_checksum(void** state) {
  (void)state;
  char sum[65];
  assert_int_equal(dbs_prisma_checksum("hello", 5, sum), 0);
  /* The value in prisma-engines' own checksum test. */
  assert_string_equal(
      sum, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  assert_int_equal(dbs_prisma_checksum("", 0, sum), 0);
  assert_string_equal(
      sum, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_uuid_v4(void** state) {
  (void)state;
  char prev[37] = "";
  for (int i = 0; i < 200; i++) {
    char id[37];
    assert_int_equal(dbs_prisma_uuid_v4(id), 0);
    assert_int_equal(strlen(id), 36);
    for (int k = 0; k < 36; k++) {
      if (k == 8 || k == 13 || k == 18 || k == 23)
        assert_int_equal(id[k], '-');
      else
        assert_non_null(strchr("0123456789abcdef", id[k]));
    }
    assert_int_equal(id[14], '4');
    assert_non_null(strchr("89ab", id[19]));
    assert_string_not_equal(id, prev);
    memcpy(prev, id, sizeof(id));
  }
}

/* ---- deploy ----------------------------------------------------------- */

static const char init_sql[] =
    "-- CreateTable\n"
    "CREATE TABLE \"User\" (\n"
    "    \"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n"
    "    \"email\" TEXT NOT NULL\n"
    ");\n\n"
    "-- CreateIndex\n"
    "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n";

static void test_fresh_deploy_and_rows(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  put_str("migration_lock.toml",
          "# Please do not edit this file manually\n"
          "# It should be added in your version-control system (e.g., Git)\n"
          "provider = \"sqlite\"\n");
  put_migration("20240101000000_init", init_sql);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long t0 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  clock_gettime(CLOCK_REALTIME, &ts);
  long long t1 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  assert_int_equal(res.applied, 1);
  assert_true(res.created_db);
  assert_string_equal(res.code, "");
  char sum[65];
  dbs_prisma_checksum(init_sql, strlen(init_sql), sum);
  assert_string_equal(query1("SELECT checksum FROM _prisma_migrations"), sum);
  assert_string_equal(query1("SELECT typeof(started_at) || typeof(finished_at)"
                             " || typeof(logs) || typeof(rolled_back_at) || "
                             "applied_steps_count FROM _prisma_migrations"),
                      "integerintegernullnull1");
  long long s = atoll(query1("SELECT started_at FROM _prisma_migrations"));
  long long f = atoll(query1("SELECT finished_at FROM _prisma_migrations"));
  assert_true(t0 <= s && s <= f && f <= t1);
  assert_string_equal(query1("SELECT count(*) FROM sqlite_master WHERE "
                             "name = 'User_email_key'"),
                      "1");
  /* Idempotent. */
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  assert_int_equal(res.applied, 0);
  assert_false(res.created_db);
  assert_string_equal(query1("SELECT count(*) FROM _prisma_migrations"), "1");
}

static void test_lock_file_provider(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  put_migration("20240101000000_init", init_sql);
  /* CRLF lock file still says sqlite. */
  put_str("migration_lock.toml", "# x\r\nprovider = \"sqlite\"\r\n");
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  put_str("migration_lock.toml", "provider = \"postgresql\"\n");
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3019");
  assert_non_null(strstr(err, "`postgresql`"));
  put_str("migration_lock.toml", "# no provider line\n");
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_non_null(strstr(err, "<PROVIDER NOT FOUND>"));
}

static void test_p3005_non_empty(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  put_migration("20240101000000_init", init_sql);
  mkdir(strcat(strcpy(err, scratch), "/db"), 0755);
  exec_sql("CREATE TABLE legacy (x)");
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3005");
  assert_non_null(strstr(err, "The database schema is not empty"));
  assert_non_null(strstr(err, "legacy"));
  assert_string_equal(query1("SELECT count(*) FROM sqlite_master WHERE "
                             "name = '_prisma_migrations'"),
                      "0");
}

static void test_view_only_db_is_empty(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  put_migration("20240101000000_init", init_sql);
  mkdir(strcat(strcpy(err, scratch), "/db"), 0755);
  exec_sql("CREATE VIEW v AS SELECT 1 AS one");
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  assert_int_equal(res.applied, 1);
}

static void test_p3018_then_p3009_then_resolve(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[8192];
  put_migration("20240101000000_init", init_sql);
  put_migration("20240102000000_bad",
                "CREATE TABLE \"Half\" (\"id\" INTEGER);\n"
                "INSERT INTO \"Nope\" VALUES (1);\n"
                "CREATE TABLE \"Never\" (\"id\" INTEGER);\n");
  put_migration("20240103000000_after", "CREATE TABLE \"After\" (x);\n");
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3018");
  assert_int_equal(res.applied, 1);
  assert_non_null(strstr(err, "Migration name: 20240102000000_bad"));
  assert_non_null(strstr(err, "no such table: Nope"));
  /* Autocommit: the statement before the failure stays applied. */
  assert_string_equal(
      query1("SELECT group_concat(name) FROM (SELECT name FROM sqlite_master "
             "WHERE name IN ('Half','Never','After') ORDER BY name)"),
      "Half");
  assert_string_equal(
      query1("SELECT typeof(finished_at) || ',' || applied_steps_count || ','"
             " || typeof(rolled_back_at) FROM _prisma_migrations WHERE "
             "migration_name = '20240102000000_bad'"),
      "null,0,null");
  assert_non_null(strstr(query1("SELECT logs FROM _prisma_migrations WHERE "
                                "migration_name = '20240102000000_bad'"),
                         "Database error code: 1"));
  /* Next run: P3009, nothing applied. */
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3009");
  assert_int_equal(res.applied, 0);
  assert_non_null(
      strstr(err, "The `20240102000000_bad` migration started at "));
  assert_non_null(
      strstr(err, "migrate resolve --rolled-back 20240102000000_bad`"));
  assert_non_null(strstr(err, "migrate resolve --applied 20240102000000_bad`"));
  /* What `prisma migrate resolve --rolled-back` does: set rolled_back_at. */
  exec_sql("DROP TABLE \"Half\"; UPDATE _prisma_migrations SET "
           "rolled_back_at = 1 WHERE finished_at IS NULL");
  put_migration("20240102000000_bad", "CREATE TABLE \"Half\" (\"id\");\n");
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  assert_int_equal(res.applied, 2);
  assert_string_equal(query1("SELECT count(*) FROM _prisma_migrations"), "4");
  struct dbs_prisma_status st;
  assert_int_equal(
      dbs_prisma_migrate_status(dbpath, mdir, &st, err, sizeof(err)), 0);
  assert_int_equal(st.napplied, 3);
  assert_int_equal(st.npending, 0);
  assert_int_equal(st.nfailed, 0);
  dbs_prisma_status_free(&st);
}

static void test_failure_inside_script_transaction(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  put_migration("20240101000000_tx", "BEGIN;\nCREATE TABLE \"InTx\" (x);\n"
                                     "INSERT INTO \"Nope\" VALUES (1);\n"
                                     "COMMIT;\n");
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3018");
  /* The open transaction is rolled back (as closing Prisma's connection
   * does), the failed row stays, and its logs survive. */
  assert_string_equal(query1("SELECT count(*) FROM sqlite_master WHERE "
                             "name = 'InTx'"),
                      "0");
  assert_non_null(strstr(query1("SELECT logs FROM _prisma_migrations"),
                         "no such table: Nope"));
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3009");
}

static void test_failed_row_without_directory_blocks(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  put_migration("20240101000000_init", init_sql);
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  exec_sql("INSERT INTO _prisma_migrations (id, checksum, started_at, "
           "migration_name) VALUES ('x', 'y', 1704067200123, 'gone')");
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3009");
  /* chrono's rendering of the start time. */
  assert_non_null(strstr(
      err, "The `gone` migration started at 2024-01-01 00:00:00.123 UTC"));
}

static void test_p3015_missing_script(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  put_migration("20240101000000_init", init_sql);
  char path[400];
  snprintf(path, sizeof(path), "%s/20240102000000_empty_dir", mdir);
  mkdir(path, 0755);
  put_migration("20240103000000_later", "CREATE TABLE l (x);\n");
  assert_int_equal(deploy(&res, err, sizeof(err)), -EPROTO);
  assert_string_equal(res.code, "P3015");
  assert_int_equal(res.applied, 1); /* earlier ones are applied first */
  assert_non_null(strstr(err, "20240102000000_empty_dir/migration.sql"));
  assert_string_equal(query1("SELECT count(*) FROM _prisma_migrations"), "1");
}

static void test_bom_crlf_comments_only(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  static const char bom[] = "\xEF\xBB\xBF-- CreateTable\r\nCREATE TABLE "
                            "\"A\" (\"id\" INTEGER NOT NULL);\r\n\r\n";
  put("20240101000000_bom/migration.sql", bom, sizeof(bom) - 1);
  put_migration("20240102000000_comments", "-- This is an empty migration.");
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  assert_int_equal(res.applied, 2);
  char sum[65];
  dbs_prisma_checksum(bom, sizeof(bom) - 1, sum); /* BOM included */
  char q[200];
  snprintf(q, sizeof(q),
           "SELECT count(*) FROM _prisma_migrations WHERE checksum = '%s' "
           "AND applied_steps_count = 1",
           sum);
  assert_string_equal(query1(q), "1");
  assert_string_equal(
      query1("SELECT applied_steps_count FROM _prisma_migrations WHERE "
             "migration_name = '20240102000000_comments'"),
      "1");
  /* Status tolerates LF<->CRLF rewrites of applied scripts (git autocrlf). */
  static const char lf[] = "\xEF\xBB\xBF-- CreateTable\nCREATE TABLE "
                           "\"A\" (\"id\" INTEGER NOT NULL);\n\n";
  put("20240101000000_bom/migration.sql", lf, sizeof(lf) - 1);
  struct dbs_prisma_status st;
  assert_int_equal(
      dbs_prisma_migrate_status(dbpath, mdir, &st, err, sizeof(err)), 0);
  assert_int_equal(st.n, 2);
  assert_false(st.entries[0].modified);
  dbs_prisma_status_free(&st);
  put("20240101000000_bom/migration.sql", "CREATE TABLE x(y);", 18);
  assert_int_equal(
      dbs_prisma_migrate_status(dbpath, mdir, &st, err, sizeof(err)), 0);
  assert_true(st.entries[0].modified);
  dbs_prisma_status_free(&st);
}

static void test_symlinks_and_files_skipped(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096], target[400], link[400];
  put_migration("20240101000000_init", init_sql);
  snprintf(target, sizeof(target), "%s/elsewhere", scratch);
  mkdir(target, 0755);
  snprintf(link, sizeof(link), "%s/elsewhere/migration.sql", scratch);
  FILE* f = fopen(link, "w");
  fputs("CREATE TABLE linked (x);", f);
  fclose(f);
  snprintf(link, sizeof(link), "%s/20240102000000_linked", mdir);
  assert_int_equal(symlink(target, link), 0);
  put("README.md", "not a migration", 15);
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  assert_int_equal(res.applied, 1);
  assert_string_equal(query1("SELECT count(*) FROM sqlite_master WHERE "
                             "name = 'linked'"),
                      "0");
}

static void test_locale_order_applied(void** state) {
  (void)state;
  struct dbs_prisma_result res;
  char err[4096];
  /* Byte order: 10_b, 1_a, B_d, a_c. Prisma 6/7: 1_a, 10_b, a_c, B_d. */
  put_migration("10_b", "CREATE TABLE t2 (x);");
  put_migration("1_a", "CREATE TABLE t1 (x);");
  put_migration("B_d", "CREATE TABLE t4 (x);");
  put_migration("a_c", "CREATE TABLE t3 (x);");
  assert_int_equal(deploy(&res, err, sizeof(err)), 0);
  assert_string_equal(
      query1("SELECT group_concat(migration_name) FROM (SELECT "
             "migration_name FROM _prisma_migrations ORDER BY rowid)"),
      "1_a,10_b,a_c,B_d");
}

static void test_missing_folder(void** state) {
  (void)state;
  char err[4096];
  char nodir[400];
  snprintf(nodir, sizeof(nodir), "%s/nope", scratch);
  assert_int_equal(
      dbs_prisma_migrate_deploy(dbpath, nodir, NULL, err, sizeof(err)),
      -ENOENT);
  assert_non_null(strstr(err, "--prisma-migrations"));
  assert_int_equal(access(dbpath, F_OK), -1); /* nothing created */
}

static void test_status_fresh(void** state) {
  (void)state;
  char err[4096];
  struct dbs_prisma_status st;
  put_migration("20240101000000_init", init_sql);
  assert_int_equal(
      dbs_prisma_migrate_status(dbpath, mdir, &st, err, sizeof(err)), 0);
  assert_false(st.db_exists);
  assert_int_equal(st.npending, 1);
  assert_int_equal(st.entries[0].state, DBS_PRISMA_PENDING);
  dbs_prisma_status_free(&st);
  assert_int_equal(access(dbpath, F_OK), -1); /* status creates nothing */
}

/* The database's folder is a regular file: named as such (mkdir -p checks
 * each component, as the boot's volume code does), nothing created. */
static void test_parent_is_a_file(void** state) {
  (void)state;
  char err[1024] = "";
  struct dbs_prisma_result res;
  put_migration("20240101000000_init", "CREATE TABLE a (id INTEGER);");
  snprintf(dbpath, sizeof(dbpath), "%s/file", scratch);
  FILE* f = fopen(dbpath, "w");
  assert_non_null(f);
  fclose(f);
  snprintf(dbpath, sizeof(dbpath), "%s/file/app.db", scratch);
  assert_int_equal(deploy(&res, err, sizeof(err)), -EACCES);
  assert_non_null(strstr(err, "cannot create the directory of the database"));
  assert_non_null(strstr(err, "file/app.db: Not a directory"));
  assert_false(res.created_db);
}

int main(void) {
  dbs_log_set_level(DBS_LOG_WARN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name_order_matches_locale_compare),
      cmocka_unit_test(test_checksum),
      cmocka_unit_test(test_uuid_v4),
      cmocka_unit_test_setup_teardown(test_fresh_deploy_and_rows, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_lock_file_provider, setup, teardown),
      cmocka_unit_test_setup_teardown(test_p3005_non_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_view_only_db_is_empty, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_p3018_then_p3009_then_resolve, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_failure_inside_script_transaction,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_failed_row_without_directory_blocks,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_p3015_missing_script, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bom_crlf_comments_only, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_symlinks_and_files_skipped, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_locale_order_applied, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_missing_folder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_status_fresh, setup, teardown),
      cmocka_unit_test_setup_teardown(test_parent_is_a_file, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
