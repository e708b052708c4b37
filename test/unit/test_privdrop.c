/* Unit tests for lib/privdrop.c: real passwd/group lookups, real setuid in
 * forked children (we run as root). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privdrop.h"

static char logpath[] = "/tmp/dbs-privdrop-test.XXXXXX";
static int logfd = -1;
static int saved_stderr = -1;

/* Redirects stderr (where dbs_log writes) into a temporary file. */
static void capture_start(void) {
  fflush(stderr);
  saved_stderr = dup(STDERR_FILENO);
  assert_int_equal(ftruncate(logfd, 0), 0);
  assert_int_equal(lseek(logfd, 0, SEEK_SET), 0);
  dup2(logfd, STDERR_FILENO);
}

/* Restores stderr and returns what was logged (static), echoing it. */
static const char* capture_end(void) {
  static char buf[8192];
  fflush(stderr);
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  ssize_t n = pread(logfd, buf, sizeof(buf) - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  fputs(buf, stderr);
  return buf;
}

#define CHILD_CHECK(cond)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "child check failed at line %d: %s\n", __LINE__, #cond); \
      _exit(1);                                                                \
    }                                                                          \
  } while (0)

static int wait_child(pid_t pid) {
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

/* The groups getgrouplist reports for name with primary gid. */
static int expected_groups(const char* name, gid_t gid, gid_t* g, int n) {
  int got = n;
  assert_true(getgrouplist(name, gid, g, &got) >= 0);
  return got;
}

/* A uid with no passwd entry, for the gid = uid rule. */
static uid_t unused_uid(void) {
  for (uid_t u = 12345; u < 13000; u++)
    if (getpwuid(u) == NULL && getgrgid(u) == NULL)
      return u;
  fail_msg("no unused uid found");
  return 0;
}

/* ---- resolve ---- */

static void test_resolve_names(void** state) {
  (void)state;
  struct dbs_creds c;
  assert_int_equal(dbs_privdrop_resolve("root", &c), 0);
  assert_int_equal(c.uid, 0);
  assert_int_equal(c.gid, 0);
  assert_string_equal(c.name, "root");
  assert_string_equal(c.home, getpwnam("root")->pw_dir);
  gid_t g[256];
  int n = expected_groups("root", 0, g, 256);
  assert_int_equal(c.ngroups, (size_t)n);
  assert_memory_equal(c.groups, g, (size_t)n * sizeof(gid_t));
  dbs_privdrop_free(&c);
  assert_null(c.groups);
  assert_null(c.home);

  struct passwd* pw = getpwnam("nobody");
  assert_non_null(pw);
  uid_t nuid = pw->pw_uid;
  gid_t ngid = pw->pw_gid;
  char home[PATH_MAX];
  snprintf(home, sizeof(home), "%s", pw->pw_dir);
  assert_int_equal(dbs_privdrop_resolve("nobody", &c), 0);
  assert_int_equal(c.uid, nuid);
  assert_int_equal(c.gid, ngid);
  assert_string_equal(c.home, home);
  n = expected_groups("nobody", ngid, g, 256);
  assert_int_equal(c.ngroups, (size_t)n);
  assert_memory_equal(c.groups, g, (size_t)n * sizeof(gid_t));
  dbs_privdrop_free(&c);

  /* A number with a passwd entry gets that entry's group and home. */
  char spec[64];
  snprintf(spec, sizeof(spec), "%ld", (long)nuid);
  assert_int_equal(dbs_privdrop_resolve(spec, &c), 0);
  assert_int_equal(c.uid, nuid);
  assert_int_equal(c.gid, ngid);
  assert_string_equal(c.name, "nobody");
  assert_string_equal(c.home, home);
  dbs_privdrop_free(&c);
}

static void test_resolve_unknown_uid_gets_own_gid(void** state) {
  (void)state;
  struct dbs_creds c;
  uid_t u = unused_uid();
  char spec[64];
  snprintf(spec, sizeof(spec), "%ld", (long)u);
  assert_int_equal(dbs_privdrop_resolve(spec, &c), 0);
  assert_int_equal(c.uid, u);
  assert_int_equal(c.gid, u); /* never 0 */
  assert_int_equal(c.ngroups, 0);
  assert_string_equal(c.home, "/");
  assert_string_equal(c.name, spec);
  dbs_privdrop_free(&c);
}

static void test_resolve_with_group(void** state) {
  (void)state;
  struct dbs_creds c;
  uid_t u = unused_uid();
  char spec[64];
  snprintf(spec, sizeof(spec), "%ld:100", (long)u);
  assert_int_equal(dbs_privdrop_resolve(spec, &c), 0);
  assert_int_equal(c.uid, u);
  assert_int_equal(c.gid, 100);
  assert_int_equal(c.ngroups, 0);
  dbs_privdrop_free(&c);

  struct group* gr = getgrgid(100);
  if (gr != NULL) {
    char gspec[300];
    snprintf(gspec, sizeof(gspec), "nobody:%s", gr->gr_name);
    assert_int_equal(dbs_privdrop_resolve(gspec, &c), 0);
    assert_int_equal(c.uid, getpwnam("nobody")->pw_uid);
    assert_int_equal(c.gid, 100);
    /* An explicit group means exactly that group. */
    assert_int_equal(c.ngroups, 0);
    dbs_privdrop_free(&c);
  }
  /* Group 0 when asked for explicitly. */
  assert_int_equal(dbs_privdrop_resolve("nobody:0", &c), 0);
  assert_int_equal(c.gid, 0);
  dbs_privdrop_free(&c);
}

static void test_resolve_unknown_names(void** state) {
  (void)state;
  struct dbs_creds c;
  capture_start();
  int rc = dbs_privdrop_resolve("no-such-user-dbs", &c);
  const char* log = capture_end();
  assert_int_equal(rc, -ENOENT);
  assert_non_null(strstr(log, "no user named 'no-such-user-dbs'"));
  assert_null(c.name);

  capture_start();
  rc = dbs_privdrop_resolve("nobody:no-such-group-dbs", &c);
  log = capture_end();
  assert_int_equal(rc, -ENOENT);
  assert_non_null(strstr(log, "no group named 'no-such-group-dbs'"));
  assert_null(c.name);
  assert_null(c.home);
}

static void test_resolve_malformed(void** state) {
  (void)state;
  static const char* const bad[] = {
      "",
      ":",
      "a:",
      ":g",
      "nobody:0:0",
      "1000:",
      ":1000",
      "4294967295",
      "1000:4294967295",
      "99999999999999999999",
  };
  struct dbs_creds c;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    capture_start();
    int rc = dbs_privdrop_resolve(bad[i], &c);
    const char* log = capture_end();
    if (rc != -EINVAL)
      fail_msg("'%s' gave %d, expected -EINVAL", bad[i], rc);
    assert_non_null(strstr(log, "expected USER[:GROUP]"));
  }
  assert_int_equal(dbs_privdrop_resolve(NULL, &c), -EINVAL);
  char longspec[400];
  memset(longspec, 'a', sizeof(longspec) - 1);
  longspec[sizeof(longspec) - 1] = '\0';
  capture_start();
  assert_int_equal(dbs_privdrop_resolve(longspec, &c), -EINVAL);
  capture_end();
}

/* ---- apply ---- */

static void test_apply_unknown_uid(void** state) {
  (void)state;
  uid_t u = unused_uid();
  char spec[64];
  snprintf(spec, sizeof(spec), "%ld", (long)u);
  struct dbs_creds c;
  assert_int_equal(dbs_privdrop_resolve(spec, &c), 0);
  /* A root-only file the child must not be able to read afterwards. */
  char secret[] = "/tmp/dbs-privdrop-secret.XXXXXX";
  int fd = mkstemp(secret);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(chmod(secret, 0600), 0);

  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHILD_CHECK(dbs_privdrop_apply(&c) == 0);
    CHILD_CHECK(getuid() == u && geteuid() == u);
    CHILD_CHECK(getgid() == u && getegid() == u);
    gid_t g[8];
    int n = getgroups(8, g);
    CHILD_CHECK(n == 1 && g[0] == u);
    CHILD_CHECK(setuid(0) != 0 && errno == EPERM);
    CHILD_CHECK(setgid(0) != 0 && errno == EPERM);
    CHILD_CHECK(open(secret, O_RDONLY) < 0 && errno == EACCES);
    /* Applying again as that user is a no-op, not an EPERM. */
    CHILD_CHECK(dbs_privdrop_apply(&c) == 0);
    CHILD_CHECK(dbs_privdrop_check(&c) == 0);
    _exit(0);
  }
  int rc = wait_child(pid);
  unlink(secret);
  dbs_privdrop_free(&c);
  assert_int_equal(rc, 0);
}

static void test_apply_supplementary_groups(void** state) {
  (void)state;
  gid_t groups[] = {12345, 100, 4242};
  struct dbs_creds c = {
      .uid = 12345, .gid = 12345, .ngroups = 3, .groups = groups};
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHILD_CHECK(dbs_privdrop_apply(&c) == 0);
    gid_t g[8];
    int n = getgroups(8, g);
    /* The kernel keeps the list sorted. */
    CHILD_CHECK(n == 3);
    CHILD_CHECK(g[0] == 100 && g[1] == 4242 && g[2] == 12345);
    CHILD_CHECK(getgid() == 12345 && getuid() == 12345);
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
}

static void test_apply_resolved_user_groups(void** state) {
  (void)state;
  struct dbs_creds c;
  assert_int_equal(dbs_privdrop_resolve("nobody", &c), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHILD_CHECK(dbs_privdrop_apply(&c) == 0);
    gid_t g[256];
    int n = getgroups(256, g);
    CHILD_CHECK(n == (int)c.ngroups);
    for (size_t i = 0; i < c.ngroups; i++) {
      int found = 0;
      for (int j = 0; j < n; j++)
        found |= g[j] == c.groups[i];
      CHILD_CHECK(found);
    }
    CHILD_CHECK(getuid() == c.uid && getgid() == c.gid);
    _exit(0);
  }
  int rc = wait_child(pid);
  dbs_privdrop_free(&c);
  assert_int_equal(rc, 0);
}

static void test_check_not_root(void** state) {
  (void)state;
  struct dbs_creds nobody, other;
  assert_int_equal(dbs_privdrop_resolve("nobody", &nobody), 0);
  assert_int_equal(dbs_privdrop_resolve("12346:12346", &other), 0);
  assert_int_equal(dbs_privdrop_check(&other), 0); /* root may switch */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHILD_CHECK(dbs_privdrop_apply(&nobody) == 0);
    CHILD_CHECK(dbs_privdrop_check(&nobody) == 0);
    capture_start();
    int rc = dbs_privdrop_check(&other);
    const char* log = capture_end();
    CHILD_CHECK(rc == -EPERM);
    CHILD_CHECK(strstr(log, "needs root") != NULL);
    CHILD_CHECK(dbs_privdrop_apply(&other) == -EPERM);
    _exit(0);
  }
  int rc = wait_child(pid);
  dbs_privdrop_free(&nobody);
  dbs_privdrop_free(&other);
  assert_int_equal(rc, 0);
}

static void test_check_not_setuid(void** state) {
  (void)state;
  assert_int_equal(dbs_privdrop_check_not_setuid(), 0);
  /* As if installed setuid: real uid and effective uid differ. */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHILD_CHECK(setresuid(12345, 0, 0) == 0);
    CHILD_CHECK(dbs_privdrop_check_not_setuid() == -EPERM);
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHILD_CHECK(setresgid(12345, 0, 0) == 0);
    CHILD_CHECK(dbs_privdrop_check_not_setuid() == -EPERM);
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
}

/* True when fd is open on path (per /proc/self/fd). */
static bool fd_is(int fd, const char* path) {
  char link[64], buf[PATH_MAX];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, sizeof(buf) - 1);
  if (n < 0)
    return false;
  buf[n] = '\0';
  return strcmp(buf, path) == 0;
}

/* Closed 0-2 get /dev/null, in place, so the next open() lands at 3; an
 * open one is left alone. In children: the test's own stdio stays. */
static void test_open_std_fds(void** state) {
  (void)state;
  static const int closes[][3] = {{1, 1, 1}, {0, 0, 1}, {1, 0, 0}, {0, 1, 0}};
  for (size_t i = 0; i < sizeof(closes) / sizeof(closes[0]); i++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      int keep = dup(1); /* a pipe or tty of the test's, for comparison */
      char was[PATH_MAX], link[64];
      snprintf(link, sizeof(link), "/proc/self/fd/%d", keep);
      ssize_t n = readlink(link, was, sizeof(was) - 1);
      CHILD_CHECK(n > 0);
      was[n] = '\0';
      for (int fd = 0; fd <= 2; fd++)
        if (closes[i][fd])
          close(fd);
      CHILD_CHECK(dbs_privdrop_open_std_fds() == 0);
      for (int fd = 0; fd <= 2; fd++) {
        CHILD_CHECK(fcntl(fd, F_GETFD) >= 0);
        if (closes[i][fd])
          CHILD_CHECK(fd_is(fd, "/dev/null"));
      }
      CHILD_CHECK(write(2, "x", 1) == 1 || !closes[i][2]);
      int f = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
      CHILD_CHECK(f > 2);
      close(f);
      _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
  }
}

/* Root running a setuid copy: equal ids, no AT_SECURE, but the file's mode
 * gives it away. A copy of this test binary with u+s (or g+s with g+x)
 * exec'd by root says -EPERM; g+s without g+x (a mandatory-locking mark,
 * not setgid) does not. Needs a filesystem without nosuid. */
static void test_check_not_setuid_exe_mode(void** state) {
  (void)state;
  if (geteuid() != 0)
    skip();
  static const struct {
    mode_t mode;
    int want;
  } cases[] = {{04755, 77}, {02755, 77}, {02745, 0}, {0755, 0}};
  char dir[] = "/tmp/dbs-privdrop-test.XXXXXX", copy[64];
  assert_non_null(mkdtemp(dir));
  snprintf(copy, sizeof(copy), "%s/copy", dir);
  int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int out = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  assert_true(in >= 0 && out >= 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof(buf))) > 0)
    assert_int_equal(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(chmod(copy, cases[i].mode), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      setenv("DBS_PRIVDROP_PROBE", "1", 1);
      execl(copy, copy, (char*)NULL);
      _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != cases[i].want)
      fail_msg("mode %04o: exit %d, expected %d", (unsigned)cases[i].mode,
               WEXITSTATUS(st), cases[i].want);
  }
  unlink(copy);
  rmdir(dir);
}

int main(void) {
  /* test_check_not_setuid_exe_mode runs a copy of this binary as a probe. */
  if (getenv("DBS_PRIVDROP_PROBE") != NULL)
    return dbs_privdrop_check_not_setuid() == 0 ? 0 : 77;
  logfd = mkstemp(logpath);
  if (logfd < 0)
    return 1;
  unlink(logpath);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resolve_names),
      cmocka_unit_test(test_resolve_unknown_uid_gets_own_gid),
      cmocka_unit_test(test_resolve_with_group),
      cmocka_unit_test(test_resolve_unknown_names),
      cmocka_unit_test(test_resolve_malformed),
      cmocka_unit_test(test_apply_unknown_uid),
      cmocka_unit_test(test_apply_supplementary_groups),
      cmocka_unit_test(test_apply_resolved_user_groups),
      cmocka_unit_test(test_check_not_root),
      cmocka_unit_test(test_check_not_setuid),
      cmocka_unit_test(test_check_not_setuid_exe_mode),
      cmocka_unit_test(test_open_std_fds),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  close(logfd);
  return rc;
}
