/*
 * Unit tests for dbs_litestream_config_find_db: which litestream.yml entry
 * is the app's database. litestream itself matches filepath.Abs strings
 * (cmd/litestream Config.DBConfig after expand()); dbsetup must match at
 * least those, may also match paths that reach the same file through
 * symlinks, and must never match a different file. Real directories and
 * symlinks in a temporary directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "litestream_config.h"

static char tmp[PATH_MAX]; /* realpath'd scratch directory */

static int rm_entry(const char* p, const struct stat* st, int flag,
                    struct FTW* ftw) {
  (void)st;
  (void)ftw;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void** state) {
  (void)state;
  char t[] = "/tmp/dbs-find-db-test.XXXXXX";
  if (mkdtemp(t) == NULL || realpath(t, tmp) == NULL)
    return -1;
  return 0;
}

static int teardown(void** state) {
  (void)state;
  nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

/* tmp + "/" + rel, malloc'd. */
static char* at(const char* rel) {
  char* p;
  assert_true(asprintf(&p, "%s/%s", tmp, rel) > 0);
  return p;
}

static void touch(const char* rel) {
  char* p = at(rel);
  int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
  free(p);
}

static void mkdir_at(const char* rel) {
  char* p = at(rel);
  assert_int_equal(mkdir(p, 0755), 0);
  free(p);
}

static void symlink_at(const char* target_rel, const char* rel) {
  char *t = at(target_rel), *l = at(rel);
  assert_int_equal(symlink(t, l), 0);
  free(t);
  free(l);
}

/* A config with the dbs[].path entries given (relative to tmp, or
 * absolute when starting with '/'), as the loader leaves them. */
static void cfg_make(struct dbs_litestream_config* cfg, const char** paths,
                     size_t n) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->dbs = calloc(n, sizeof(*cfg->dbs));
  assert_non_null(cfg->dbs);
  cfg->ndbs = n;
  for (size_t i = 0; i < n; i++)
    cfg->dbs[i].path = paths[i][0] == '/' ? strdup(paths[i]) : at(paths[i]);
}

static void cfg_done(struct dbs_litestream_config* cfg) {
  for (size_t i = 0; i < cfg->ndbs; i++)
    free(cfg->dbs[i].path);
  free(cfg->dbs);
}

/* Index of the entry find_db picks for db_path (relative to tmp), or -1. */
static int pick(const struct dbs_litestream_config* cfg, const char* rel) {
  char* p = at(rel);
  const struct dbs_db_config* d = dbs_litestream_config_find_db(cfg, p);
  free(p);
  return d == NULL ? -1 : (int)(d - cfg->dbs);
}

/*
 * "link/../db" is "db" for litestream (filepath.Abs cleans lexically) but
 * "real/db" for realpath when link points at real/sub. With both files on
 * disk and both in the config, dbsetup must pick the entry litestream
 * picks, not the other database. (On 807b48e find_db returned real/db.)
 */
static void test_dotdot_through_symlink_is_lexical(void** state) {
  (void)state;
  mkdir_at("real");
  mkdir_at("real/sub");
  symlink_at("real/sub", "link");
  touch("db");
  touch("real/db");
  const char* paths[] = {"real/db", "db"};
  struct dbs_litestream_config cfg;
  cfg_make(&cfg, paths, 2);
  assert_int_equal(pick(&cfg, "link/../db"), 1);
  assert_int_equal(pick(&cfg, "db"), 1);
  assert_int_equal(pick(&cfg, "real/db"), 0);
  assert_int_equal(pick(&cfg, "link/../real/db"), 0);
  cfg_done(&cfg);
}

/* A path litestream would match as a string always matches, whatever is
 * on disk (here: a directory in the way that makes realpath fail). */
static void test_same_string_always_matches(void** state) {
  (void)state;
  touch("file");
  const char* paths[] = {"file/db", "x/./y/../db"};
  struct dbs_litestream_config cfg;
  cfg_make(&cfg, paths, 2);
  assert_int_equal(pick(&cfg, "file/db"), 0); /* ENOTDIR under file */
  assert_int_equal(pick(&cfg, "x/db"), 1);
  cfg_done(&cfg);
}

/* Through a symlinked directory, with more than the file missing (a fresh
 * volume before the first boot creates sub/): the same file. */
static void test_missing_tail_below_symlink(void** state) {
  (void)state;
  mkdir_at("vol");
  symlink_at("vol", "data");
  const char* paths[] = {"data/sub/deeper/db"};
  struct dbs_litestream_config cfg;
  cfg_make(&cfg, paths, 1);
  assert_int_equal(pick(&cfg, "vol/sub/deeper/db"), 0);
  assert_int_equal(pick(&cfg, "data/sub/deeper/db"), 0);
  assert_int_equal(pick(&cfg, "vol/sub/deeper/other"), -1);
  assert_int_equal(pick(&cfg, "vol/sub/db"), -1);
  cfg_done(&cfg);
}

/* Symlinked files and directories resolve; different files never match. */
static void test_symlinks_and_different_files(void** state) {
  (void)state;
  mkdir_at("a");
  mkdir_at("b");
  touch("a/db");
  touch("b/db");
  symlink_at("a/db", "app.db");
  symlink_at("vol/db", "dangling.db");
  const char* paths[] = {"a/db", "dangling.db"};
  struct dbs_litestream_config cfg;
  cfg_make(&cfg, paths, 2);
  assert_int_equal(pick(&cfg, "app.db"), 0);
  assert_int_equal(pick(&cfg, "b/db"), -1);
  assert_int_equal(pick(&cfg, "dangling.db"), 1);
  assert_int_equal(pick(&cfg, "vol/db"), -1);
  cfg_done(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_dotdot_through_symlink_is_lexical,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_same_string_always_matches, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_missing_tail_below_symlink, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_symlinks_and_different_files, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
