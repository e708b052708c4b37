/* Unit tests for the read-ahead VFS that verifies restored databases: the
 * same answers as SQLite's own VFS, and damage is still found. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sqlite_readahead.h"

static char path[64];

/* A 12 MB database: a table of 500-byte rows and an index over it. */
static int setup(void** state) {
  (void)state;
  snprintf(path, sizeof(path), "/tmp/dbs-ra-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  sqlite3* db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db,
                   "PRAGMA page_size=4096;"
                   "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, b BLOB);"
                   "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 "
                   "FROM n WHERE i<20000) INSERT INTO t(k, b) SELECT "
                   "hex(randomblob(8)), randomblob(500) FROM n;"
                   "CREATE INDEX tk ON t(k);",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(dbs_sqlite_readahead_register(), 0);
  return 0;
}

static int teardown(void** state) {
  (void)state;
  unlink(path);
  return 0;
}

/* Runs sql's first column of the first row as text on path via vfs. */
static void one(const char* vfs, const char* pre, const char* sql, char* out,
                size_t n) {
  sqlite3* db;
  sqlite3_stmt* st;
  assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, vfs),
                   SQLITE_OK);
  if (pre != NULL)
    assert_int_equal(sqlite3_exec(db, pre, NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  out[0] = '\0';
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    snprintf(out, n, "%s", (const char*)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static const char* const queries[] = {
    "PRAGMA integrity_check",
    "PRAGMA quick_check",
    "SELECT count(*) || ' ' || sum(length(b)) || ' ' || hex(max(k)) FROM t",
    ("SELECT group_concat(id) FROM (SELECT id FROM t WHERE k > '8' "
     "ORDER BY k LIMIT 50)"),
};

static void test_same_answers(void** state) {
  (void)state;
  char want[4096], got[4096];
  for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
    one(NULL, NULL, queries[i], want, sizeof(want));
    one(DBS_SQLITE_READAHEAD_VFS, NULL, queries[i], got, sizeof(got));
    assert_string_equal(got, want);
    /* SQLite's own mmap must not bypass the window (the VFS declines). */
    one(DBS_SQLITE_READAHEAD_VFS, "PRAGMA mmap_size=1099511627776", queries[i],
        got, sizeof(got));
    assert_string_equal(got, want);
  }
}

/* A damaged page in the middle of the table is found on every path. */
static void test_damage_found(void** state) {
  (void)state;
  int fd = open(path, O_RDWR);
  assert_true(fd >= 0);
  uint8_t junk[200];
  memset(junk, 0xA5, sizeof(junk));
  assert_int_equal(pwrite(fd, junk, sizeof(junk), 1500 * 4096 + 8),
                   (ssize_t)sizeof(junk));
  close(fd);
  char res[4096];
  one(NULL, NULL, "PRAGMA quick_check", res, sizeof(res));
  assert_string_not_equal(res, "ok");
  one(DBS_SQLITE_READAHEAD_VFS, NULL, "PRAGMA quick_check", res, sizeof(res));
  assert_string_not_equal(res, "ok");
  one(DBS_SQLITE_READAHEAD_VFS, "PRAGMA mmap_size=1099511627776",
      "PRAGMA quick_check", res, sizeof(res));
  assert_string_not_equal(res, "ok");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_answers),
      cmocka_unit_test(test_damage_found),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
