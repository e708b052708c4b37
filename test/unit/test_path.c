/* Unit tests for lib/path.c: lexical rules on strings, the rest on real
 * directories and symlinks in a temporary directory. */
#define _GNU_SOURCE
#include <errno.h>
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

#include "path.h"

static char tmp[PATH_MAX]; /* the test's scratch directory, realpath'd */

static int rm_entry(const char* p, const struct stat* st, int flag,
                    struct FTW* ftw) {
  (void)st;
  (void)ftw;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void** state) {
  (void)state;
  char t[] = "/tmp/dbs-path-test.XXXXXX";
  if (mkdtemp(t) == NULL || realpath(t, tmp) == NULL)
    return -1;
  return 0;
}

static int teardown(void** state) {
  (void)state;
  chmod(tmp, 0755);
  nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

/* tmp + "/" + rel in a static buffer (two alternating slots). */
static const char* at(const char* rel) {
  static char buf[2][PATH_MAX + 64];
  static int slot;
  slot ^= 1;
  snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", tmp, rel);
  return buf[slot];
}

static void assert_result(char* got, const char* want) {
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

static void touch(const char* p) {
  int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
}

static void test_join(void** state) {
  (void)state;
  assert_result(dbs_path_join("/a", "b"), "/a/b");
  assert_result(dbs_path_join("/a/", "b"), "/a/b");
  assert_result(dbs_path_join("/", "b"), "/b");
  assert_result(dbs_path_join("a", "../b"), "a/../b"); /* no cleaning */
  assert_result(dbs_path_join("", "b"), "/b");
  assert_result(dbs_path_join("/a", ""), "/a");
}

static void test_dirname_basename(void** state) {
  (void)state;
  assert_result(dbs_path_dirname("/a/b/c"), "/a/b");
  assert_result(dbs_path_dirname("/a"), "/");
  assert_result(dbs_path_dirname("/"), "/");
  assert_result(dbs_path_dirname("a"), ".");
  assert_result(dbs_path_dirname("a/b"), "a");
  assert_string_equal(dbs_path_basename("/a/b/c.db"), "c.db");
  assert_string_equal(dbs_path_basename("/c.db"), "c.db");
  assert_string_equal(dbs_path_basename("c.db"), "c.db");
}

static void test_absolute(void** state) {
  (void)state;
  assert_result(dbs_path_absolute("//a///b//"), "/a/b");
  assert_result(dbs_path_absolute("/a/./../b"), "/a/./../b"); /* kernel's */
  assert_result(dbs_path_absolute("/"), "/");
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(tmp), 0);
  assert_result(dbs_path_absolute("x//y/"), at("x/y"));
  assert_int_equal(chdir(cwd), 0);
}

static void test_go_clean(void** state) {
  (void)state;
  /* Cases from Go's path.Clean documentation and tests. */
  assert_result(dbs_path_go_clean(""), ".");
  assert_result(dbs_path_go_clean("/"), "/");
  assert_result(dbs_path_go_clean("abc/"), "abc");
  assert_result(dbs_path_go_clean("a//b"), "a/b");
  assert_result(dbs_path_go_clean("a/./b/."), "a/b");
  assert_result(dbs_path_go_clean("a/b/../c"), "a/c");
  assert_result(dbs_path_go_clean("/../a"), "/a");
  assert_result(dbs_path_go_clean("../../a/.."), "../..");
  assert_result(dbs_path_go_clean("a/../.."), "..");
  assert_result(dbs_path_go_clean("./"), ".");
}

static void test_go_abs(void** state) {
  (void)state;
  assert_result(dbs_path_go_abs("/a/b/../c/"), "/a/c");
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(tmp), 0);
  assert_result(dbs_path_go_abs("x/./y/../z"), at("x/z"));
  assert_result(dbs_path_go_abs(""), tmp); /* filepath.Abs("") is the cwd */
  assert_int_equal(chdir(cwd), 0);
}

/* litestream 0.5's expand(): the sqlite connection-string prefixes go
 * first, then ~ and filepath.Abs as in 0.3. */
static void expect05(const char* in, const char* want, bool want_stripped) {
  char* out = NULL;
  char err[256] = "";
  bool stripped = !want_stripped;
  assert_int_equal(
      dbs_path_litestream05_expand(in, &out, &stripped, err, sizeof(err)), 0);
  assert_string_equal(out, want);
  assert_true(stripped == want_stripped);
  free(out);
}

static void test_litestream05_expand(void** state) {
  (void)state;
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(tmp), 0);
  expect05("sqlite:///data/app.db", "/data/app.db", true);
  expect05("sqlite3:///data//app.db", "/data/app.db", true);
  expect05("sqlite://app.db", at("app.db"), true);
  expect05("sqlite3://", tmp, true); /* "" is the cwd */
  expect05("/data/app.db", "/data/app.db", false);
  /* Only at the start, only these two spellings, case as written. */
  expect05("SQLITE:///data/app.db", at("SQLITE:/data/app.db"), false);
  expect05("sqlite:/data/app.db", at("sqlite:/data/app.db"), false);
  expect05("file:///data/app.db", at("file:/data/app.db"), false);
  expect05("x/sqlite:///a", at("x/sqlite:/a"), false);
  /* Stripped once: the rest is a path, whatever it holds. */
  expect05("sqlite://sqlite:///a", at("sqlite:/a"), true);
  /* 0.3.13's expand() keeps the prefix: a relative path. */
  char* out = NULL;
  char err[256] = "";
  assert_int_equal(dbs_path_litestream_expand("sqlite:///data/app.db", &out,
                                              err, sizeof(err)),
                   0);
  assert_string_equal(out, at("sqlite:/data/app.db"));
  free(out);
  assert_int_equal(chdir(cwd), 0);
}

static void test_node_resolve(void** state) {
  (void)state;
  /* path.resolve('/app', rel) as Node computes it. */
  assert_result(dbs_path_node_resolve("/app", "prisma/dev.db"),
                "/app/prisma/dev.db");
  assert_result(dbs_path_node_resolve("/app/prisma", "../data/./x.db"),
                "/app/data/x.db");
  assert_result(dbs_path_node_resolve("/app", "/data//x.db/"), "/data/x.db");
  assert_result(dbs_path_node_resolve("/app", "../../../x"), "/x");
  assert_result(dbs_path_node_resolve("/app/", ""), "/app");
  assert_result(dbs_path_node_resolve("/", ".."), "/");
}

static void test_canonical(void** state) {
  (void)state;
  assert_int_equal(mkdir(at("real"), 0755), 0);
  assert_int_equal(mkdir(at("real/sub"), 0755), 0);
  assert_int_equal(symlink(at("real"), at("link")), 0);
  touch(at("real/sub/db"));
  /* Existing file through a symlinked directory. */
  assert_result(dbs_path_canonical(at("link/sub/db")), at("real/sub/db"));
  /* ".." in the existing part follows the kernel: link/.. is tmp. */
  assert_result(dbs_path_canonical(at("link/sub/../sub/db")),
                at("real/sub/db"));
  /* Missing tail of any depth below a symlink: the existing prefix is
   * resolved, the rest appended as mkdir -p would create it. */
  assert_result(dbs_path_canonical(at("link/new/deeper/db")),
                at("real/new/deeper/db"));
  assert_result(dbs_path_canonical(at("link/new/./x/../db")),
                at("real/new/db"));
  /* A dangling symlink stays itself. */
  assert_int_equal(symlink(at("nowhere/db"), at("real/dangling")), 0);
  assert_result(dbs_path_canonical(at("link/dangling")), at("real/dangling"));
  /* Relative paths start at the working directory. */
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(at("link")), 0);
  assert_result(dbs_path_canonical("sub//db"), at("real/sub/db"));
  assert_int_equal(chdir(cwd), 0);
  /* A file in the way is an error, not a guess. */
  errno = 0;
  assert_null(dbs_path_canonical(at("real/sub/db/x")));
  assert_int_equal(errno, ENOTDIR);
  assert_result(dbs_path_canonical("/"), "/");
}

static void test_is_within(void** state) {
  (void)state;
  assert_true(dbs_path_is_within("/data/x", "/data"));
  assert_true(dbs_path_is_within("/data", "/data"));
  assert_false(dbs_path_is_within("/database", "/data"));
  assert_true(dbs_path_is_within("/anything", "/"));
}

static void test_mkdir_p(void** state) {
  (void)state;
  mode_t old = umask(022);
  assert_int_equal(dbs_path_mkdir_p_check(at("a/b/c")), 0);
  assert_int_equal(dbs_path_mkdir_p(at("a/b/c"), 0750), 0);
  struct stat st;
  assert_int_equal(stat(at("a/b/c"), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0750);
  assert_int_equal(dbs_path_mkdir_p(at("a/b/c"), 0750), 0); /* exists */
  touch(at("a/file"));
  assert_int_equal(dbs_path_mkdir_p_check(at("a/file/x")), -ENOTDIR);
  assert_int_equal(dbs_path_mkdir_p(at("a/file/x"), 0755), -ENOTDIR);
  if (geteuid() != 0) {
    assert_int_equal(chmod(at("a/b"), 0555), 0);
    assert_int_equal(dbs_path_mkdir_p_check(at("a/b/new/x")), -EACCES);
    assert_int_equal(dbs_path_mkdir_p(at("a/b/new/x"), 0755), -EACCES);
    assert_int_equal(chmod(at("a/b"), 0755), 0);
  }
  umask(old);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_join),
      cmocka_unit_test(test_dirname_basename),
      cmocka_unit_test_setup_teardown(test_absolute, setup, teardown),
      cmocka_unit_test(test_go_clean),
      cmocka_unit_test_setup_teardown(test_go_abs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_litestream05_expand, setup,
                                      teardown),
      cmocka_unit_test(test_node_resolve),
      cmocka_unit_test_setup_teardown(test_canonical, setup, teardown),
      cmocka_unit_test(test_is_within),
      cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
