/* Unit tests for litestream_bin: finding the real binary and the config. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include "litestream_bin.h"

static char dir[] = "/tmp/lsbin-unit.XXXXXX";
static char oldcwd[PATH_MAX];
static char* oldpath;
static char err[1024];

static void write_file(const char* rel, const char* text, mode_t mode) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/%s", dir, rel);
  /* Create the parent directories. */
  for (char* s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = '\0';
    mkdir(p, 0755);
    *s = '/';
  }
  FILE* f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(p, mode), 0);
}

static const char* arch(void) {
  static struct utsname u;
  uname(&u);
  return strcmp(u.machine, "x86_64") == 0 ? "x64" : "arm64";
}

static int setup(void** state) {
  (void)state;
  assert_non_null(mkdtemp(dir));
  assert_non_null(getcwd(oldcwd, sizeof(oldcwd)));
  assert_int_equal(chdir(dir), 0);
  oldpath = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
  write_file("real/litestream", "#!/bin/sh\nexit 0\n", 0755);
  write_file("wrap/litestream",
             "#!/usr/bin/env node\nrequire('child_process')\n", 0755);
  write_file("noexec/litestream", "#!/bin/sh\n", 0644);
  write_file("node_modules/.bin/litestream", "#!/usr/bin/env node\n", 0755);
  char rel[256];
  snprintf(rel, sizeof(rel),
           "node_modules/@flydotio/litestream-linux-%s/litestream", arch());
  write_file(rel,
             "\x7f"
             "ELF fake binary",
             0755);
  return 0;
}

static int teardown(void** state) {
  (void)state;
  assert_int_equal(chdir(oldcwd), 0);
  if (oldpath)
    setenv("PATH", oldpath, 1);
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
  free(oldpath);
  return 0;
}

static void set_path(const char* dirs) {
  char p[PATH_MAX * 2] = "";
  size_t n = 0;
  /* dirs is colon-separated, relative to the scratch directory. */
  const char* s = dirs;
  while (*s) {
    size_t len = strcspn(s, ":");
    n += (size_t)snprintf(p + n, sizeof(p) - n, "%s%s/%.*s", n ? ":" : "", dir,
                          (int)len, s);
    s += len + (s[len] == ':');
  }
  setenv("PATH", p, 1);
}

static void expect_found(const char* explicit_path, const char* rel) {
  char *out = NULL, want[PATH_MAX];
  assert_int_equal(
      dbs_litestream_bin_find(explicit_path, &out, err, sizeof(err)), 0);
  snprintf(want, sizeof(want), "%s/%s", dir, rel);
  assert_string_equal(out, want);
  free(out);
}

static void test_is_wrapper(void** state) {
  (void)state;
  assert_true(dbs_litestream_bin_is_wrapper("wrap/litestream"));
  assert_true(dbs_litestream_bin_is_wrapper("node_modules/.bin/litestream"));
  assert_false(dbs_litestream_bin_is_wrapper("real/litestream"));
  assert_false(dbs_litestream_bin_is_wrapper("missing"));
}

static void test_explicit(void** state) {
  (void)state;
  set_path("empty");
  expect_found("real/litestream", "real/litestream");
  expect_found("./real/litestream", "real/litestream");
  char abs[PATH_MAX];
  snprintf(abs, sizeof(abs), "%s/real/litestream", dir);
  expect_found(abs, "real/litestream");

  char* out = NULL;
  assert_int_equal(
      dbs_litestream_bin_find("wrap/litestream", &out, err, sizeof(err)),
      -ENOEXEC);
  assert_null(out);
  assert_non_null(strstr(err, "npm litestream wrapper"));
  assert_int_equal(dbs_litestream_bin_find("node_modules/.bin/litestream", &out,
                                           err, sizeof(err)),
                   -ENOEXEC);
  assert_int_equal(
      dbs_litestream_bin_find("noexec/litestream", &out, err, sizeof(err)),
      -ENOEXEC);
  assert_non_null(strstr(err, "not an executable"));
  assert_int_equal(
      dbs_litestream_bin_find("nope/litestream", &out, err, sizeof(err)),
      -ENOENT);
  assert_non_null(strstr(err, "nope/litestream"));
  /* A bare name is looked up in PATH. */
  set_path("real");
  expect_found("litestream", "real/litestream");
  set_path("wrap");
  assert_int_equal(
      dbs_litestream_bin_find("litestream", &out, err, sizeof(err)), -ENOENT);
}

static void test_path_then_node_modules(void** state) {
  (void)state;
  /* The wrapper earlier in PATH is skipped, the real one found. */
  set_path("wrap:noexec:real");
  expect_found(NULL, "real/litestream");
  expect_found("", "real/litestream");
  /* Not in PATH (only the wrapper): the npm platform package. */
  set_path("wrap:node_modules/.bin");
  char rel[256];
  snprintf(rel, sizeof(rel),
           "node_modules/@flydotio/litestream-linux-%s/litestream", arch());
  expect_found(NULL, rel);
  /* Nothing anywhere. */
  char* out = NULL;
  assert_int_equal(chdir("real"), 0);
  assert_int_equal(dbs_litestream_bin_find(NULL, &out, err, sizeof(err)),
                   -ENOENT);
  assert_null(out);
  assert_non_null(strstr(err, "no litestream binary"));
  assert_int_equal(chdir(dir), 0);
}

static void test_find_config(void** state) {
  (void)state;
  char *out = NULL, want[PATH_MAX];
  assert_int_equal(chdir("real"), 0);
  int rc = dbs_litestream_bin_find_config(NULL, &out, err, sizeof(err));
  if (access("/etc/litestream.yml", F_OK) != 0) {
    assert_int_equal(rc, -ENOENT);
    assert_null(out);
  } else {
    assert_string_equal(out, "/etc/litestream.yml");
    free(out);
  }
  assert_int_equal(chdir(dir), 0);
  write_file("litestream.yml", "dbs: []\n", 0644);
  write_file("conf/other.yml", "dbs: []\n", 0644);
  assert_int_equal(dbs_litestream_bin_find_config(NULL, &out, err, sizeof(err)),
                   0);
  snprintf(want, sizeof(want), "%s/litestream.yml", dir);
  assert_string_equal(out, want);
  free(out);
  assert_int_equal(
      dbs_litestream_bin_find_config("conf/other.yml", &out, err, sizeof(err)),
      0);
  snprintf(want, sizeof(want), "%s/conf/other.yml", dir);
  assert_string_equal(out, want);
  free(out);
  /* An explicit file that is missing is an error, never a fallback. */
  assert_int_equal(dbs_litestream_bin_find_config("conf/missing.yml", &out, err,
                                                  sizeof(err)),
                   -ENOENT);
  assert_null(out);
  assert_non_null(strstr(err, "conf/missing.yml"));
}

static void test_parse_version(void** state) {
  (void)state;
  struct dbs_litestream_version v;
  assert_int_equal(dbs_litestream_bin_parse_version("v0.3.13\n", &v), 0);
  assert_int_equal(v.rules, DBS_LS_RULES_V03);
  assert_string_equal(v.text, "v0.3.13");
  assert_int_equal(dbs_litestream_bin_parse_version("v0.5.18\n", &v), 0);
  assert_int_equal(v.rules, DBS_LS_RULES_V05);
  assert_int_equal(v.patch, 18);
  assert_int_equal(dbs_litestream_bin_parse_version("0.5.2-rc1", &v), 0);
  assert_int_equal(v.rules, DBS_LS_RULES_V05);
  assert_int_equal(dbs_litestream_bin_parse_version("v1.0.0", &v), 0);
  assert_int_equal(v.rules, DBS_LS_RULES_V05);
  assert_int_equal(
      dbs_litestream_bin_parse_version("(development build)\n", &v), 1);
  assert_int_equal(dbs_litestream_bin_parse_version(
                       "(development build 0123456789ab-dirty)", &v),
                   1);
  assert_int_equal(dbs_litestream_bin_parse_version("v0.4.0", &v), -ENOTSUP);
  assert_int_equal(dbs_litestream_bin_parse_version("v0.2.9", &v), -ENOTSUP);
  assert_int_equal(dbs_litestream_bin_parse_version("", &v), -EIO);
  assert_int_equal(dbs_litestream_bin_parse_version("version", &v), -EIO);
  assert_int_equal(dbs_litestream_bin_parse_version("v0.5", &v), -EIO);
  assert_int_equal(dbs_litestream_bin_parse_version("v0.5.1x", &v), -EIO);
}

/* The version call on real programs that are not litestream. */
static void test_version_failures(void** state) {
  (void)state;
  struct dbs_litestream_version v;
  assert_int_equal(
      dbs_litestream_bin_version("/bin/false", &v, err, sizeof(err)), -EIO);
  assert_string_equal(err, "/bin/false version exited with status 1");
  assert_int_equal(
      dbs_litestream_bin_version("/bin/echo", &v, err, sizeof(err)), -EIO);
  assert_non_null(strstr(err, "printed \"version\", not a litestream"));
  assert_int_equal(dbs_litestream_bin_version("/nonexistent/litestream", &v,
                                              err, sizeof(err)),
                   -EIO);
  assert_non_null(strstr(err, "cannot run /nonexistent/litestream version"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_is_wrapper),
      cmocka_unit_test(test_explicit),
      cmocka_unit_test(test_path_then_node_modules),
      cmocka_unit_test(test_find_config),
      cmocka_unit_test(test_parse_version),
      cmocka_unit_test(test_version_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
