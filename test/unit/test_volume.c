/* Unit tests for lib/volume.c: real files in temporary directories. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "volume.h"

static char tmp[256];     /* the test's scratch directory */
static char logpath[300]; /* captured stderr */
static int logfd = -1;
static int saved_stderr = -1;
static char err[1024];

/* ---- helpers ---- */

static int rm_entry(const char* p, const struct stat* st, int flag,
                    struct FTW* ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    return rmdir(p);
  return unlink(p);
}

static int setup(void** state) {
  (void)state;
  snprintf(tmp, sizeof(tmp), "/tmp/dbs-volume-test.XXXXXX");
  if (mkdtemp(tmp) == NULL)
    return -1;
  snprintf(logpath, sizeof(logpath), "%s.log", tmp);
  logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  err[0] = '\0';
  return logfd >= 0 ? 0 : -1;
}

static int teardown(void** state) {
  (void)state;
  dbs_volume_unlock();
  /* A test may leave a read-only directory behind. */
  chmod(tmp, 0755);
  nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  unlink(logpath);
  close(logfd);
  logfd = -1;
  return 0;
}

/* Returns a static path tmp/rel (two rotating buffers). */
static const char* P(const char* rel) {
  static char bufs[4][PATH_MAX];
  static int i;
  char* b = bufs[i++ % 4];
  snprintf(b, PATH_MAX, "%s/%s", tmp, rel);
  return b;
}

/*
 * Redirects stderr (where dbs_log writes) into logfd, opened by setup so
 * that it works after a chroot too. No cmocka asserts: forked children use
 * these.
 */
static void capture_start(void) {
  fflush(stderr);
  saved_stderr = dup(STDERR_FILENO);
  if (ftruncate(logfd, 0) != 0 || lseek(logfd, 0, SEEK_SET) != 0)
    perror("capture_start");
  dup2(logfd, STDERR_FILENO);
}

/* Restores stderr and returns what was logged (static buffer), echoing
 * it so a failing test shows it. */
static const char* capture_end(void) {
  static char buf[16384];
  fflush(stderr);
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  ssize_t n = pread(logfd, buf, sizeof(buf) - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  fputs(buf, stderr);
  return buf;
}

static void write_file(const char* path, const void* data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);
}

/* Reads a whole small file into a static buffer; NULL if missing. */
static const char* read_file(const char* path) {
  static char buf[65536];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

static int exists(const char* path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static void make_dir(const char* path) {
  assert_int_equal(mkdir(path, 0755), 0);
}

/* Creates a real SQLite database with one row. */
static void make_db(const char* path) {
  sqlite3* db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TABLE t(a); INSERT INTO t "
                                "VALUES('hello');",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
}

static void assert_link(const char* path, const char* want) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path, buf, sizeof(buf) - 1);
  assert_true(n > 0);
  buf[n] = '\0';
  assert_string_equal(buf, want);
}

/* Checks in a forked child end with _exit(1) and a line on stderr. */
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

/* In a child: a private mount namespace with a tmpfs on dir. */
static void child_mount_tmpfs(const char* dir, unsigned long flags) {
  CHILD_CHECK(unshare(CLONE_NEWNS) == 0);
  CHILD_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
  CHILD_CHECK(mount("tmpfs", dir, "tmpfs", flags, "mode=0755") == 0);
}

/* ---- prepare ---- */

static void test_prepare_creates_missing_volume(void** state) {
  (void)state;
  capture_start();
  char* t =
      dbs_volume_prepare(P("data"), "/app/prisma/dev.db", err, sizeof(err));
  const char* log = capture_end();
  assert_non_null(t);
  assert_string_equal(t, P("data/dev.db"));
  struct stat st;
  assert_int_equal(stat(P("data"), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0755);
  assert_non_null(strstr(log, "did not exist: created it"));
  assert_non_null(strstr(log, "will not outlive this container"));
  /* One warning only: "not a mount point" would repeat it. */
  assert_null(strstr(log, "not a mount point"));
  free(t);
}

/* prepare's warnings for vol, as "warn" or "" (child side). */
static int child_prepare_warns(const char* vol) {
  capture_start();
  char* t = dbs_volume_prepare(vol, "/app/dev.db", err, sizeof(err));
  const char* log = capture_end();
  CHILD_CHECK(t != NULL);
  free(t);
  return strstr(log, "is not a mount point") != NULL;
}

static void test_prepare_warns_not_mount_point(void** state) {
  (void)state;
  /* A directory on the root filesystem, made certain with a chroot into a
   * fresh tmpfs (the host's /tmp may itself be a mount). */
  make_dir(P("root"));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    child_mount_tmpfs(P("root"), 0);
    CHILD_CHECK(chroot(P("root")) == 0 && chdir("/") == 0);
    CHILD_CHECK(mkdir("/data", 0755) == 0);
    /* No /proc: the device comparison decides. */
    CHILD_CHECK(child_prepare_warns("/data"));
    /* With /proc/self/mountinfo. */
    CHILD_CHECK(mkdir("/proc", 0555) == 0);
    CHILD_CHECK(mount("proc", "/proc", "proc", 0, NULL) == 0);
    CHILD_CHECK(child_prepare_warns("/data"));
    /* A bind mount of the same filesystem is a volume all the same. */
    CHILD_CHECK(mkdir("/src", 0755) == 0);
    CHILD_CHECK(mount("/src", "/data", NULL, MS_BIND, NULL) == 0);
    CHILD_CHECK(!child_prepare_warns("/data"));
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
}

static void test_prepare_mount_point_no_warning(void** state) {
  (void)state;
  make_dir(P("data"));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    child_mount_tmpfs(P("data"), 0);
    capture_start();
    char* t = dbs_volume_prepare(P("data"), "/app/dev.db", err, sizeof(err));
    const char* log = capture_end();
    CHILD_CHECK(t != NULL);
    CHILD_CHECK(strcmp(t, P("data/dev.db")) == 0);
    CHILD_CHECK(strstr(log, "warn") == NULL);
    free(t);
    /* A directory below the mount point is on the volume too. */
    CHILD_CHECK(mkdir(P("data/app"), 0755) == 0);
    CHILD_CHECK(!child_prepare_warns(P("data/app")));
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
}

static void test_prepare_inside_volume(void** state) {
  (void)state;
  make_dir(P("data"));
  char* t = dbs_volume_prepare(P("data"), P("data/dev.db"), err, sizeof(err));
  assert_non_null(t);
  assert_string_equal(t, P("data/dev.db"));
  free(t);
  /* A subdirectory inside the volume is created. */
  t = dbs_volume_prepare(P("data"), P("data/sub/dir/app.db"), err, sizeof(err));
  assert_non_null(t);
  assert_string_equal(t, P("data/sub/dir/app.db"));
  struct stat st;
  assert_int_equal(stat(P("data/sub/dir"), &st), 0);
  free(t);
  /* Through a symlinked directory that resolves into the volume. */
  assert_int_equal(symlink(P("data"), P("applink")), 0);
  t = dbs_volume_prepare(P("data"), P("applink/dev.db"), err, sizeof(err));
  assert_non_null(t);
  assert_string_equal(t, P("data/dev.db"));
  free(t);
  /* With "." and ".." in the path. */
  t = dbs_volume_prepare(P("data"), P("x/../data/./dev.db"), err, sizeof(err));
  assert_non_null(t);
  assert_string_equal(t, P("data/dev.db"));
  free(t);
}

static void test_prepare_sibling_prefix_is_outside(void** state) {
  (void)state;
  make_dir(P("data"));
  make_dir(P("data2"));
  char* t = dbs_volume_prepare(P("data"), P("data2/x.db"), err, sizeof(err));
  assert_non_null(t);
  assert_string_equal(t, P("data/x.db"));
  free(t);
}

static void test_prepare_relative_paths_and_symlinked_volume(void** state) {
  (void)state;
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  make_dir(P("real"));
  assert_int_equal(symlink("real", P("data")), 0);
  assert_int_equal(chdir(tmp), 0);
  char* t = dbs_volume_prepare("data/", "prisma/dev.db", err, sizeof(err));
  assert_int_equal(chdir(cwd), 0);
  assert_non_null(t);
  /* The target uses the volume's realpath. */
  assert_string_equal(t, P("real/dev.db"));
  free(t);
}

static void test_prepare_bad_inputs(void** state) {
  (void)state;
  write_file(P("file"), "x", 1);
  char* t = dbs_volume_prepare(P("file"), "/app/dev.db", err, sizeof(err));
  assert_null(t);
  assert_int_equal(errno, ENOTDIR);
  assert_non_null(strstr(err, "is not a directory"));

  make_dir(P("data"));
  t = dbs_volume_prepare(P("data"), "/app/", err, sizeof(err));
  assert_null(t);
  assert_int_equal(errno, EINVAL);
  assert_non_null(strstr(err, "must name a file"));
  t = dbs_volume_prepare(P("data"), "/app/..", err, sizeof(err));
  assert_null(t);
  assert_int_equal(errno, EINVAL);
  t = dbs_volume_prepare(P("data"), "", err, sizeof(err));
  assert_null(t);
  assert_int_equal(errno, EINVAL);
  /* The volume cannot be created below a file. */
  t = dbs_volume_prepare(P("file/data"), "/app/dev.db", err, sizeof(err));
  assert_null(t);
  assert_int_equal(errno, ENOTDIR);
  assert_non_null(strstr(err, "cannot be used"));
}

static void test_prepare_read_only_volume(void** state) {
  (void)state;
  make_dir(P("data"));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    child_mount_tmpfs(P("data"), MS_RDONLY);
    capture_start();
    char* t = dbs_volume_prepare(P("data"), "/app/dev.db", err, sizeof(err));
    int e = errno;
    capture_end();
    CHILD_CHECK(t == NULL);
    CHILD_CHECK(e == EROFS);
    CHILD_CHECK(strstr(err, "is not writable") != NULL);
    CHILD_CHECK(strstr(err, "mount it read-write") != NULL);
    /* The lock cannot be created either. */
    pid_t holder;
    CHILD_CHECK(dbs_volume_lock(P("data"), &holder, err, sizeof(err)) ==
                -EROFS);
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
}

static void test_prepare_unwritable_as_nobody(void** state) {
  (void)state;
  make_dir(P("data"));
  assert_int_equal(chmod(P("data"), 0555), 0);
  assert_int_equal(chmod(tmp, 0755), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHILD_CHECK(setgid(65534) == 0 && setuid(65534) == 0);
    char* t = dbs_volume_prepare(P("data"), "/app/dev.db", err, sizeof(err));
    int e = errno;
    CHILD_CHECK(t == NULL);
    CHILD_CHECK(e == EACCES);
    CHILD_CHECK(strstr(err, "not writable by uid 65534") != NULL);
    /* A missing volume below an unwritable directory. */
    t = dbs_volume_prepare(P("data/vol"), "/app/dev.db", err, sizeof(err));
    e = errno;
    CHILD_CHECK(t == NULL);
    CHILD_CHECK(e == EACCES);
    CHILD_CHECK(strstr(err, "cannot be created") != NULL);
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
}

/* ---- link ---- */

static void test_link_missing_creates_parents(void** state) {
  (void)state;
  make_dir(P("data"));
  capture_start();
  int rc = dbs_volume_link(P("app/prisma/dev.db"), P("data/dev.db"), err,
                           sizeof(err));
  const char* log = capture_end();
  assert_int_equal(rc, 0);
  assert_link(P("app/prisma/dev.db"), P("data/dev.db"));
  assert_non_null(strstr(log, "linked"));
}

static void test_link_right_link_kept(void** state) {
  (void)state;
  make_dir(P("data"));
  make_dir(P("app"));
  assert_int_equal(symlink(P("data/dev.db"), P("app/dev.db")), 0);
  struct stat before, after;
  assert_int_equal(lstat(P("app/dev.db"), &before), 0);
  capture_start();
  assert_int_equal(
      dbs_volume_link(P("app/dev.db"), P("data/dev.db"), err, sizeof(err)), 0);
  const char* log = capture_end();
  assert_int_equal(lstat(P("app/dev.db"), &after), 0);
  assert_int_equal(before.st_ino, after.st_ino);
  assert_string_equal(log, "");
  /* A relative link to the same place (dangling: no DB yet) is right too. */
  assert_int_equal(symlink("../data/dev.db", P("app/rel.db")), 0);
  assert_int_equal(lstat(P("app/rel.db"), &before), 0);
  assert_int_equal(
      dbs_volume_link(P("app/rel.db"), P("data/dev.db"), err, sizeof(err)), 0);
  assert_int_equal(lstat(P("app/rel.db"), &after), 0);
  assert_int_equal(before.st_ino, after.st_ino);
  assert_link(P("app/rel.db"), "../data/dev.db");
}

static void test_link_dangling_and_wrong_replaced(void** state) {
  (void)state;
  make_dir(P("data"));
  make_dir(P("app"));
  assert_int_equal(symlink(P("gone/dev.db"), P("app/dev.db")), 0);
  capture_start();
  int rc = dbs_volume_link(P("app/dev.db"), P("data/dev.db"), err, sizeof(err));
  const char* log = capture_end();
  assert_int_equal(rc, 0);
  assert_link(P("app/dev.db"), P("data/dev.db"));
  assert_non_null(strstr(log, "dangling symlink"));

  /* Wrong link to an existing file: replaced, that file untouched. */
  write_file(P("other.db"), "keep me", 7);
  assert_int_equal(unlink(P("app/dev.db")), 0);
  assert_int_equal(symlink(P("other.db"), P("app/dev.db")), 0);
  capture_start();
  rc = dbs_volume_link(P("app/dev.db"), P("data/dev.db"), err, sizeof(err));
  log = capture_end();
  assert_int_equal(rc, 0);
  assert_link(P("app/dev.db"), P("data/dev.db"));
  assert_non_null(strstr(log, "wrong symlink"));
  assert_string_equal(read_file(P("other.db")), "keep me");
  /* No temporary link left behind. */
  assert_false(exists(P("app/.dev.db.dbsetup-tmp")));
  char name[64];
  snprintf(name, sizeof(name), "app/.dev.db.dbsetup-%ld", (long)getpid());
  assert_false(exists(P(name)));
}

static void test_link_moves_baked_db_aside(void** state) {
  (void)state;
  make_dir(P("data"));
  make_dir(P("app"));
  make_db(P("app/dev.db"));
  write_file(P("app/dev.db-wal"), "wal", 3);
  write_file(P("app/dev.db-shm"), "shm", 3);
  struct stat st;
  assert_int_equal(stat(P("app/dev.db"), &st), 0);
  char size[64];
  snprintf(size, sizeof(size), "(%lld bytes)", (long long)st.st_size);

  capture_start();
  int rc = dbs_volume_link(P("app/dev.db"), P("data/dev.db"), err, sizeof(err));
  const char* log = capture_end();
  assert_int_equal(rc, 0);
  assert_link(P("app/dev.db"), P("data/dev.db"));
  assert_int_equal(
      dbs_volume_db_state(P("app/dev.db.in-image"), err, sizeof(err)),
      DBS_DB_EXISTS);
  assert_string_equal(read_file(P("app/dev.db.in-image-wal")), "wal");
  assert_string_equal(read_file(P("app/dev.db.in-image-shm")), "shm");
  assert_false(exists(P("app/dev.db-wal")));
  assert_false(exists(P("app/dev.db-shm")));
  assert_non_null(strstr(log, "baked into the image"));
  assert_non_null(strstr(log, size));
  assert_non_null(strstr(log, ".dockerignore"));
  assert_non_null(strstr(log, P("app/dev.db.in-image")));
  /* Nothing was put on the volume. */
  assert_false(exists(P("data/dev.db")));
}

static void test_link_never_overwrites_in_image(void** state) {
  (void)state;
  make_dir(P("data"));
  make_dir(P("app"));
  write_file(P("app/dev.db.in-image"), "first", 5);
  write_file(P("app/dev.db.in-image.1-wal"), "wal1", 4);
  make_db(P("app/dev.db"));
  write_file(P("app/dev.db-journal"), "jrnl", 4);
  capture_start();
  int rc = dbs_volume_link(P("app/dev.db"), P("data/dev.db"), err, sizeof(err));
  capture_end();
  assert_int_equal(rc, 0);
  assert_string_equal(read_file(P("app/dev.db.in-image")), "first");
  assert_string_equal(read_file(P("app/dev.db.in-image.1-wal")), "wal1");
  /* .in-image.1 is taken by a sidecar, so .in-image.2 is used. */
  assert_false(exists(P("app/dev.db.in-image.1")));
  assert_int_equal(
      dbs_volume_db_state(P("app/dev.db.in-image.2"), err, sizeof(err)),
      DBS_DB_EXISTS);
  assert_string_equal(read_file(P("app/dev.db.in-image.2-journal")), "jrnl");
  assert_link(P("app/dev.db"), P("data/dev.db"));
}

/* Only a database (SQLite header) or an empty file is "baked into the
 * image": a config file at the app's path (a wrong DATABASE_URL) is left
 * exactly as it is, and nothing is linked. */
static void test_link_not_sqlite_untouched(void** state) {
  (void)state;
  const char conf[] = "{\"port\": 3000, \"secret\": \"s3cr3t\"}\n";
  make_dir(P("data"));
  make_dir(P("app"));
  write_file(P("app/config.json"), conf, sizeof(conf) - 1);
  write_file(P("app/config.json-wal"), "w", 1);
  struct stat before, after;
  assert_int_equal(stat(P("app/config.json"), &before), 0);
  capture_start();
  int rc = dbs_volume_link(P("app/config.json"), P("data/config.json"), err,
                           sizeof(err));
  const char* log = capture_end();
  assert_int_equal(rc, -EILSEQ);
  assert_non_null(strstr(err, P("app/config.json")));
  assert_non_null(strstr(err, "not an SQLite database (first bytes do not"));
  assert_non_null(strstr(err, "DATABASE_URL"));
  assert_null(strstr(err, "s3cr3t"));
  assert_null(strstr(log, "moved it aside"));
  assert_int_equal(lstat(P("app/config.json"), &after), 0);
  assert_true(S_ISREG(after.st_mode));
  assert_int_equal(before.st_ino, after.st_ino);
  assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  assert_string_equal(read_file(P("app/config.json")), conf);
  assert_string_equal(read_file(P("app/config.json-wal")), "w");
  assert_false(exists(P("app/config.json.in-image")));
  assert_false(exists(P("data/config.json")));
  /* Shorter than the header, or the header's text without its NUL. */
  write_file(P("app/short.db"), "SQLite", 6);
  assert_int_equal(
      dbs_volume_link(P("app/short.db"), P("data/short.db"), err, sizeof(err)),
      -EILSEQ);
  write_file(P("app/nonul.db"), "SQLite format 3!xxxx", 20);
  assert_int_equal(
      dbs_volume_link(P("app/nonul.db"), P("data/nonul.db"), err, sizeof(err)),
      -EILSEQ);

  /* An empty file is moved aside (nothing in it to lose). */
  write_file(P("app/empty.db"), "", 0);
  capture_start();
  rc = dbs_volume_link(P("app/empty.db"), P("data/empty.db"), err, sizeof(err));
  capture_end();
  assert_int_equal(rc, 0);
  assert_link(P("app/empty.db"), P("data/empty.db"));
  assert_true(exists(P("app/empty.db.in-image")));
}

static void test_link_directory_and_fifo_refused(void** state) {
  (void)state;
  make_dir(P("data"));
  make_dir(P("app"));
  make_dir(P("app/dev.db"));
  int rc = dbs_volume_link(P("app/dev.db"), P("data/dev.db"), err, sizeof(err));
  assert_int_equal(rc, -EISDIR);
  assert_non_null(strstr(err, "is a directory"));
  assert_non_null(strstr(err, "--db"));
  struct stat st;
  assert_int_equal(lstat(P("app/dev.db"), &st), 0);
  assert_true(S_ISDIR(st.st_mode));

  assert_int_equal(mkfifo(P("app/fifo.db"), 0644), 0);
  rc = dbs_volume_link(P("app/fifo.db"), P("data/fifo.db"), err, sizeof(err));
  assert_int_equal(rc, -EINVAL);
  assert_non_null(strstr(err, "not a regular file"));
}

static void test_link_noop_inside_volume(void** state) {
  (void)state;
  make_dir(P("data"));
  int rc =
      dbs_volume_link(P("data/dev.db"), P("data/dev.db"), err, sizeof(err));
  assert_int_equal(rc, 0);
  assert_false(exists(P("data/dev.db")));
  /* A real DB at the target inside the volume is left alone. */
  make_db(P("data/dev.db"));
  rc = dbs_volume_link(P("data/dev.db"), P("data/dev.db"), err, sizeof(err));
  assert_int_equal(rc, 0);
  assert_false(exists(P("data/dev.db.in-image")));
}

static void test_link_read_only_parent(void** state) {
  (void)state;
  make_dir(P("data"));
  make_dir(P("app"));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    child_mount_tmpfs(P("app"), MS_RDONLY);
    int rc =
        dbs_volume_link(P("app/dev.db"), P("data/dev.db"), err, sizeof(err));
    CHILD_CHECK(rc == -EROFS);
    CHILD_CHECK(strstr(err, "inside the volume") != NULL);
    _exit(0);
  }
  assert_int_equal(wait_child(pid), 0);
}

/* ---- lock ---- */

static void test_lock_second_holder_named(void** state) {
  (void)state;
  make_dir(P("data"));
  int ready[2], done[2];
  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(done), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    pid_t h;
    char c = 0;
    CHILD_CHECK(dbs_volume_lock(P("data"), &h, err, sizeof(err)) == 0);
    CHILD_CHECK(write(ready[1], "x", 1) == 1);
    CHILD_CHECK(read(done[0], &c, 1) >= 0);
    _exit(0);
  }
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  pid_t holder = -1;
  int rc = dbs_volume_lock(P("data"), &holder, err, sizeof(err));
  assert_int_equal(rc, -EWOULDBLOCK);
  assert_int_equal(holder, pid);
  char host[65] = "", want[160];
  assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
  snprintf(want, sizeof(want), "another dbsetup (pid %ld on host %s)",
           (long)pid, host);
  assert_non_null(strstr(err, want));
  assert_non_null(strstr(err, ".dbsetup.lock"));
  /* The holder's line is still in the file: we did not clobber it. */
  snprintf(want, sizeof(want), "%ld %s\n", (long)pid, host);
  assert_string_equal(read_file(P("data/.dbsetup.lock")), want);

  assert_int_equal(write(done[1], "x", 1), 1);
  assert_int_equal(wait_child(pid), 0);
  /* The holder is gone: the lock is ours, with our pid. */
  assert_int_equal(dbs_volume_lock(P("data"), &holder, err, sizeof(err)), 0);
  snprintf(want, sizeof(want), "%ld %s\n", (long)getpid(), host);
  assert_string_equal(read_file(P("data/.dbsetup.lock")), want);
  assert_int_equal(dbs_volume_lock(P("data"), &holder, err, sizeof(err)),
                   -EALREADY);
  close(ready[0]);
  close(ready[1]);
  close(done[0]);
  close(done[1]);
}

/* The lock is never truncated or written through another name of a file
 * (a hard link to root's file), nor through a symlink, nor when it is not
 * a regular file: refused before flock, ftruncate and pwrite. */
static void test_lock_links_refused(void** state) {
  (void)state;
  const char precious[] = "root:x:0:0:root:/root:/bin/bash\n";
  make_dir(P("data"));
  write_file(P("victim"), precious, sizeof(precious) - 1);
  assert_int_equal(link(P("victim"), P("data/.dbsetup.lock")), 0);
  pid_t holder;
  int rc = dbs_volume_lock(P("data"), &holder, err, sizeof(err));
  assert_int_equal(rc, -EMLINK);
  assert_non_null(strstr(err, P("data/.dbsetup.lock")));
  assert_non_null(strstr(err, "has 2 hard links"));
  assert_non_null(strstr(err, "Remove it"));
  assert_string_equal(read_file(P("victim")), precious);
  /* Not locked either: another process may take it once it is fixed. */
  int fd = open(P("victim"), O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
  close(fd);

  assert_int_equal(unlink(P("data/.dbsetup.lock")), 0);
  assert_int_equal(symlink(P("victim"), P("data/.dbsetup.lock")), 0);
  rc = dbs_volume_lock(P("data"), &holder, err, sizeof(err));
  assert_int_equal(rc, -ELOOP);
  assert_non_null(strstr(err, "is a symbolic link"));
  assert_string_equal(read_file(P("victim")), precious);

  assert_int_equal(unlink(P("data/.dbsetup.lock")), 0);
  assert_int_equal(mkfifo(P("data/.dbsetup.lock"), 0644), 0);
  rc = dbs_volume_lock(P("data"), &holder, err, sizeof(err));
  assert_int_equal(rc, -EINVAL);
  assert_non_null(strstr(err, "not a regular file"));

  /* Its own file: locked. */
  assert_int_equal(unlink(P("data/.dbsetup.lock")), 0);
  assert_int_equal(dbs_volume_lock(P("data"), &holder, err, sizeof(err)), 0);
}

static void test_lock_not_inherited_across_exec(void** state) {
  (void)state;
  make_dir(P("data"));
  pid_t holder;
  assert_int_equal(dbs_volume_lock(P("data"), &holder, err, sizeof(err)), 0);
  /* A child that execs keeps running after we drop the lock. Its end of
   * the pipe closes at exec, which tells us exec has happened. */
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    execl("/bin/sleep", "sleep", "5", (char*)NULL);
    _exit(127);
  }
  close(p[1]);
  char c;
  assert_int_equal(read(p[0], &c, 1), 0);
  close(p[0]);
  dbs_volume_unlock();
  /* Had the child inherited the fd, its open file would still hold it. */
  int fd = open(P("data/.dbsetup.lock"), O_RDWR | O_CLOEXEC);
  assert_true(fd >= 0);
  int rc = flock(fd, LOCK_EX | LOCK_NB);
  close(fd);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  assert_int_equal(rc, 0);
}

/* ---- db state ---- */

static void test_db_state(void** state) {
  (void)state;
  make_dir(P("data"));
  assert_int_equal(dbs_volume_db_state(P("data/dev.db"), err, sizeof(err)),
                   DBS_DB_MISSING);
  make_db(P("data/dev.db"));
  assert_int_equal(dbs_volume_db_state(P("data/dev.db"), err, sizeof(err)),
                   DBS_DB_EXISTS);
}

/* A symlink where the database belongs is refused, never followed: with
 * --user the app's user owns the volume and could point it at any file
 * root can read (or at root's own database, which would then be chowned
 * and served). Dangling or not, nothing is read, logged or touched. */
static void test_db_state_symlink_refused(void** state) {
  (void)state;
  const char secret[] = "root:$6$TOPSECRET-HASH:19000:0:99999:7:::\n";
  make_dir(P("data"));
  write_file(P("shadow"), secret, sizeof(secret) - 1);
  assert_int_equal(chmod(P("shadow"), 0600), 0);
  assert_int_equal(symlink(P("shadow"), P("data/dev.db")), 0);
  struct stat before, after;
  assert_int_equal(stat(P("shadow"), &before), 0);
  capture_start();
  int rc = dbs_volume_db_state(P("data/dev.db"), err, sizeof(err));
  const char* log = capture_end();
  assert_int_equal(rc, -ELOOP);
  assert_non_null(strstr(err, "is a symbolic link to"));
  assert_non_null(strstr(err, P("shadow")));
  assert_non_null(strstr(err, "Remove the link"));
  assert_null(strstr(err, "root:"));
  assert_null(strstr(err, "TOPSECRET"));
  assert_null(strstr(log, "TOPSECRET"));
  assert_int_equal(stat(P("shadow"), &after), 0);
  assert_int_equal(before.st_atim.tv_nsec, after.st_atim.tv_nsec);
  assert_string_equal(read_file(P("shadow")), secret);

  /* To a real database: refused too (it would be chowned and served). */
  make_db(P("rootdb"));
  assert_int_equal(unlink(P("data/dev.db")), 0);
  assert_int_equal(symlink(P("rootdb"), P("data/dev.db")), 0);
  assert_int_equal(dbs_volume_db_state(P("data/dev.db"), err, sizeof(err)),
                   -ELOOP);
  /* Dangling: refused, not "missing" (a restore would rename over it). */
  assert_int_equal(unlink(P("data/dev.db")), 0);
  assert_int_equal(symlink(P("nowhere"), P("data/dev.db")), 0);
  assert_int_equal(dbs_volume_db_state(P("data/dev.db"), err, sizeof(err)),
                   -ELOOP);
  assert_true(exists(P("data/dev.db")));
}

/* A database file with other names is refused before a byte is read. */
static void test_db_state_hardlink_refused(void** state) {
  (void)state;
  make_dir(P("data"));
  make_db(P("rootdb"));
  assert_int_equal(link(P("rootdb"), P("data/dev.db")), 0);
  struct stat before, after;
  assert_int_equal(stat(P("rootdb"), &before), 0);
  int rc = dbs_volume_db_state(P("data/dev.db"), err, sizeof(err));
  assert_int_equal(rc, -EMLINK);
  assert_non_null(strstr(err, P("data/dev.db")));
  assert_non_null(strstr(err, "has 2 hard links"));
  assert_non_null(strstr(err, "-samefile"));
  assert_int_equal(stat(P("rootdb"), &after), 0);
  assert_int_equal(before.st_atim.tv_nsec, after.st_atim.tv_nsec);
  /* One name again: the database. */
  assert_int_equal(unlink(P("rootdb")), 0);
  assert_int_equal(dbs_volume_db_state(P("data/dev.db"), err, sizeof(err)),
                   DBS_DB_EXISTS);
}

static void test_db_state_empty_file(void** state) {
  (void)state;
  write_file(P("dev.db"), "", 0);
  capture_start();
  int rc = dbs_volume_db_state(P("dev.db"), err, sizeof(err));
  const char* log = capture_end();
  assert_int_equal(rc, DBS_DB_MISSING);
  assert_false(exists(P("dev.db")));
  assert_non_null(strstr(log, "was empty (0 bytes)"));

  /* Empty, but a WAL with data beside it: touch nothing. */
  write_file(P("dev.db"), "", 0);
  write_file(P("dev.db-wal"), "frames", 6);
  rc = dbs_volume_db_state(P("dev.db"), err, sizeof(err));
  assert_int_equal(rc, -EILSEQ);
  assert_true(exists(P("dev.db")));
  assert_string_equal(read_file(P("dev.db-wal")), "frames");
  assert_non_null(strstr(err, "-wal beside it"));
}

static void test_db_state_not_sqlite(void** state) {
  (void)state;
  const char text[] = "hello, world\n this is not a database";
  write_file(P("dev.db"), text, sizeof(text) - 1);
  struct stat before, after;
  assert_int_equal(stat(P("dev.db"), &before), 0);
  int rc = dbs_volume_db_state(P("dev.db"), err, sizeof(err));
  assert_int_equal(rc, -EILSEQ);
  assert_int_equal(stat(P("dev.db"), &after), 0);
  assert_string_equal(read_file(P("dev.db")), text);
  assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  assert_non_null(strstr(err, "is not an SQLite database (first bytes do "
                              "not match"));
  assert_null(strstr(err, "hello")); /* its bytes are never shown */
  assert_non_null(strstr(err, "will not touch it"));

  /* Shorter than the header. */
  write_file(P("short.db"), "SQLite", 6);
  assert_int_equal(dbs_volume_db_state(P("short.db"), err, sizeof(err)),
                   -EILSEQ);
  /* The header without its NUL. */
  write_file(P("nonul.db"), "SQLite format 3!xxxx", 20);
  assert_int_equal(dbs_volume_db_state(P("nonul.db"), err, sizeof(err)),
                   -EILSEQ);
}

static void test_db_state_directory(void** state) {
  (void)state;
  make_dir(P("dev.db"));
  assert_int_equal(dbs_volume_db_state(P("dev.db"), err, sizeof(err)), -EISDIR);
  assert_non_null(strstr(err, "is a directory"));
  assert_true(exists(P("dev.db")));
}

/* ---- stale files, remove, chown ---- */

static void test_remove_stale(void** state) {
  (void)state;
  write_file(P("dev.db-wal"), "w", 1);
  write_file(P("dev.db-shm"), "s", 1);
  write_file(P("dev.db-journal"), "j", 1);
  write_file(P("other.db-wal"), "o", 1);
  capture_start();
  int rc = dbs_volume_remove_stale(P("dev.db"));
  const char* log = capture_end();
  assert_int_equal(rc, 0);
  assert_false(exists(P("dev.db-wal")));
  assert_false(exists(P("dev.db-shm")));
  assert_false(exists(P("dev.db-journal")));
  assert_true(exists(P("other.db-wal")));
  assert_non_null(strstr(log, "dev.db-wal (1 bytes) left beside a missing"));
  /* Nothing to remove is fine. */
  assert_int_equal(dbs_volume_remove_stale(P("dev.db")), 0);

  /* An existing database keeps its WAL. */
  make_db(P("dev.db"));
  write_file(P("dev.db-wal"), "w", 1);
  assert_int_equal(dbs_volume_remove_stale(P("dev.db")), -EEXIST);
  assert_true(exists(P("dev.db-wal")));
}

static void test_remove_db(void** state) {
  (void)state;
  make_db(P("dev.db"));
  write_file(P("dev.db-wal"), "w", 1);
  write_file(P("dev.db-shm"), "s", 1);
  write_file(P("dev.db2"), "x", 1);
  capture_start();
  int rc = dbs_volume_remove_db(P("dev.db"));
  capture_end();
  assert_int_equal(rc, 0);
  assert_false(exists(P("dev.db")));
  assert_false(exists(P("dev.db-wal")));
  assert_false(exists(P("dev.db-shm")));
  assert_true(exists(P("dev.db2")));
  assert_int_equal(dbs_volume_remove_db(P("dev.db")), 0);
}

static void assert_owner(const char* path, uid_t uid, gid_t gid) {
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  if (st.st_uid != uid || st.st_gid != gid)
    fail_msg("%s is owned by %ld:%ld, expected %ld:%ld", path, (long)st.st_uid,
             (long)st.st_gid, (long)uid, (long)gid);
}

static void test_chown(void** state) {
  (void)state;
  make_dir(P("real"));
  assert_int_equal(symlink("real", P("data")), 0);
  make_dir(P("real/sub"));
  make_db(P("real/sub/dev.db"));
  write_file(P("real/sub/dev.db-shm"), "s", 1);
  write_file(P("outside"), "o", 1);
  /* A symlink planted as the WAL must not redirect the chown. */
  assert_int_equal(symlink(P("outside"), P("real/sub/dev.db-wal")), 0);
  make_dir(P("real/sub/.dev.db-litestream"));
  make_dir(P("real/sub/.dev.db-litestream/generations"));
  write_file(P("real/sub/.dev.db-litestream/generation"), "g", 1);
  write_file(P("real/unrelated"), "u", 1);

  int rc = dbs_volume_chown(P("data"), P("real/sub/dev.db"), 12345, 12346, err,
                            sizeof(err));
  assert_int_equal(rc, 0);
  assert_owner(P("real"), 12345, 12346);
  assert_owner(P("data"), 0, 0); /* the symlink itself */
  assert_owner(P("real/sub"), 12345, 12346);
  assert_owner(P("real/sub/dev.db"), 12345, 12346);
  assert_owner(P("real/sub/dev.db-shm"), 12345, 12346);
  assert_owner(P("real/sub/dev.db-wal"), 12345, 12346);
  assert_owner(P("outside"), 0, 0);
  assert_owner(P("real/sub/.dev.db-litestream"), 12345, 12346);
  assert_owner(P("real/sub/.dev.db-litestream/generations"), 12345, 12346);
  assert_owner(P("real/sub/.dev.db-litestream/generation"), 12345, 12346);
  assert_owner(P("real/unrelated"), 0, 0);

  /* A DB not created yet is fine. */
  rc = dbs_volume_chown(P("data"), P("real/none.db"), 1, 1, err, sizeof(err));
  assert_int_equal(rc, 0);
  assert_owner(P("real"), 1, 1);
  /* A missing volume is an error naming it. */
  rc = dbs_volume_chown(P("nope"), P("nope/dev.db"), 1, 1, err, sizeof(err));
  assert_int_equal(rc, -ENOENT);
  assert_non_null(strstr(err, P("nope")));
}

/* A hard link among the files to chown: refused before any chown, so
 * neither root's file nor anything else changes owner. */
static void test_chown_hardlink_refused(void** state) {
  (void)state;
  const char* const names[] = {"data/dev.db", "data/dev.db-wal",
                               "data/dev.db-journal",
                               "data/.dev.db-litestream/generation"};
  make_dir(P("data"));
  make_dir(P("data/.dev.db-litestream"));
  write_file(P("victim"), "v", 1);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (i > 0)
      make_db(P("data/dev.db"));
    assert_int_equal(link(P("victim"), P(names[i])), 0);
    int rc = dbs_volume_chown(P("data"), P("data/dev.db"), 12345, 12346, err,
                              sizeof(err));
    assert_int_equal(rc, -EMLINK);
    assert_non_null(strstr(err, P(names[i])));
    assert_non_null(strstr(err, "has 2 hard links"));
    assert_owner(P("victim"), 0, 0);
    assert_owner(P("data"), 0, 0);
    if (i > 0)
      assert_owner(P("data/dev.db"), 0, 0);
    assert_int_equal(unlink(P(names[i])), 0);
    unlink(P("data/dev.db"));
  }
  /* Its own files: chowned. */
  make_db(P("data/dev.db"));
  assert_int_equal(dbs_volume_chown(P("data"), P("data/dev.db"), 12345, 12346,
                                    err, sizeof(err)),
                   0);
  assert_owner(P("data/dev.db"), 12345, 12346);
  assert_owner(P("victim"), 0, 0);
}

/* End to end as dbsetup will call it, then the DB is usable via the link. */
static void test_prepare_link_use(void** state) {
  (void)state;
  capture_start();
  char* t =
      dbs_volume_prepare(P("data"), P("app/prisma/dev.db"), err, sizeof(err));
  capture_end();
  assert_non_null(t);
  assert_int_equal(dbs_volume_link(P("app/prisma/dev.db"), t, err, sizeof(err)),
                   0);
  assert_int_equal(dbs_volume_db_state(t, err, sizeof(err)), DBS_DB_MISSING);
  make_db(P("app/prisma/dev.db")); /* the app writes through the link */
  assert_int_equal(dbs_volume_db_state(t, err, sizeof(err)), DBS_DB_EXISTS);
  struct stat st;
  assert_int_equal(lstat(t, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  free(t);
}

/* ---- the dry-run checks (dbsetup doctor) ---- */

static char tree_buf[65536];
static int tree_entry(const char* p, const struct stat* st, int flag,
                      struct FTW* ftw) {
  (void)flag;
  (void)ftw;
  size_t o = strlen(tree_buf);
  snprintf(tree_buf + o, sizeof(tree_buf) - o, "%s %o %lld %lld.%09ld\n", p,
           (unsigned)st->st_mode, (long long)st->st_size,
           (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  return 0;
}

/* A listing of everything under tmp (malloc'd): paths, modes, sizes,
 * mtimes. */
static char* tree(void) {
  tree_buf[0] = '\0';
  nftw(tmp, tree_entry, 16, FTW_PHYS);
  return strdup(tree_buf);
}

static void test_checks_change_nothing_and_decide_as_the_actions(void** state) {
  (void)state;
  struct dbs_volume_info info;
  struct dbs_link_plan plan;
  make_dir(P("app"));
  char* before = tree();
  char* t = dbs_volume_prepare_check(P("vol"), P("app/dev.db"), &info, err,
                                     sizeof(err));
  assert_non_null(t);
  assert_false(info.exists);
  assert_false(exists(P("vol")));
  char* t2 = dbs_volume_prepare(P("vol"), P("app/dev.db"), err, sizeof(err));
  assert_string_equal(t, t2);
  free(t2);
  free(before);

  /* Missing: create. */
  before = tree();
  assert_int_equal(
      dbs_volume_link_check(P("app/dev.db"), t, &plan, err, sizeof(err)), 0);
  assert_int_equal(plan.action, DBS_LINK_CREATE);
  char* after = tree();
  assert_string_equal(before, after);
  free(before);
  free(after);
  dbs_volume_link_plan_free(&plan);
  assert_int_equal(dbs_volume_link(P("app/dev.db"), t, err, sizeof(err)), 0);
  /* Right link: keep. */
  assert_int_equal(
      dbs_volume_link_check(P("app/dev.db"), t, &plan, err, sizeof(err)), 0);
  assert_int_equal(plan.action, DBS_LINK_KEEP);
  dbs_volume_link_plan_free(&plan);
  /* Wrong link: replace, naming the old text. */
  assert_int_equal(unlink(P("app/dev.db")), 0);
  assert_int_equal(symlink("/elsewhere/x.db", P("app/dev.db")), 0);
  before = tree();
  assert_int_equal(
      dbs_volume_link_check(P("app/dev.db"), t, &plan, err, sizeof(err)), 0);
  assert_int_equal(plan.action, DBS_LINK_REPLACE);
  assert_true(plan.dangling);
  assert_string_equal(plan.old, "/elsewhere/x.db");
  after = tree();
  assert_string_equal(before, after);
  free(before);
  free(after);
  dbs_volume_link_plan_free(&plan);
  /* Baked-in database: moved aside to the name the action uses. */
  assert_int_equal(unlink(P("app/dev.db")), 0);
  make_db(P("app/dev.db"));
  write_file(P("app/dev.db.in-image"), "x", 1);
  before = tree();
  assert_int_equal(
      dbs_volume_link_check(P("app/dev.db"), t, &plan, err, sizeof(err)), 0);
  assert_int_equal(plan.action, DBS_LINK_MOVE_ASIDE);
  char want[PATH_MAX];
  snprintf(want, sizeof(want), "%s", P("app/dev.db.in-image.1"));
  assert_string_equal(plan.aside, want);
  after = tree();
  assert_string_equal(before, after);
  free(before);
  free(after);
  dbs_volume_link_plan_free(&plan);
  capture_start();
  int rc = dbs_volume_link(P("app/dev.db"), t, err, sizeof(err));
  capture_end();
  assert_int_equal(rc, 0);
  assert_true(exists(want));
  /* Not SQLite: refused by both, untouched. */
  assert_int_equal(unlink(P("app/dev.db")), 0);
  write_file(P("app/dev.db"), "config = true\n", 14);
  assert_int_equal(
      dbs_volume_link_check(P("app/dev.db"), t, &plan, err, sizeof(err)),
      -EILSEQ);
  dbs_volume_link_plan_free(&plan);
  assert_int_equal(dbs_volume_link(P("app/dev.db"), t, err, sizeof(err)),
                   -EILSEQ);

  /* An empty database is reported, not removed. */
  write_file(t, "", 0);
  assert_int_equal(dbs_volume_db_check(t, err, sizeof(err)), DBS_DB_EMPTY);
  assert_true(exists(t));
  free(t);
}

static void test_lock_check_reports_holder_without_locking(void** state) {
  (void)state;
  pid_t holder = -1;
  make_dir(P("vol"));
  /* No lock file: free, and none is created. */
  assert_int_equal(dbs_volume_lock_check(P("vol"), &holder, err, sizeof(err)),
                   0);
  assert_int_equal(holder, 0);
  assert_false(exists(P("vol/.dbsetup.lock")));
  /* Held by another process: named, as dbs_volume_lock names it. */
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    pid_t h;
    char e[512];
    close(ready[0]);
    int rc = dbs_volume_lock(P("vol"), &h, e, sizeof(e));
    if (write(ready[1], &rc, sizeof(rc)) != sizeof(rc))
      _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  int crc = -1;
  assert_int_equal(read(ready[0], &crc, sizeof(crc)), (ssize_t)sizeof(crc));
  close(ready[0]);
  assert_int_equal(crc, 0);
  char* before = tree();
  assert_int_equal(dbs_volume_lock_check(P("vol"), &holder, err, sizeof(err)),
                   -EWOULDBLOCK);
  assert_int_equal(holder, child);
  assert_non_null(strstr(err, "another dbsetup"));
  char* after = tree();
  assert_string_equal(before, after);
  free(before);
  free(after);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  /* Released: free again; this process can still take it. */
  assert_int_equal(dbs_volume_lock_check(P("vol"), &holder, err, sizeof(err)),
                   0);
  assert_int_equal(dbs_volume_lock(P("vol"), &holder, err, sizeof(err)), 0);
  dbs_volume_unlock();
  /* A symlink: refused as the lock refuses it. */
  assert_int_equal(unlink(P("vol/.dbsetup.lock")), 0);
  assert_int_equal(symlink("/etc/passwd", P("vol/.dbsetup.lock")), 0);
  assert_int_equal(dbs_volume_lock_check(P("vol"), &holder, err, sizeof(err)),
                   -ELOOP);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_prepare_creates_missing_volume),
      T(test_prepare_warns_not_mount_point),
      T(test_prepare_mount_point_no_warning),
      T(test_prepare_inside_volume),
      T(test_prepare_sibling_prefix_is_outside),
      T(test_prepare_relative_paths_and_symlinked_volume),
      T(test_prepare_bad_inputs),
      T(test_prepare_read_only_volume),
      T(test_prepare_unwritable_as_nobody),
      T(test_link_missing_creates_parents),
      T(test_link_right_link_kept),
      T(test_link_dangling_and_wrong_replaced),
      T(test_link_moves_baked_db_aside),
      T(test_link_never_overwrites_in_image),
      T(test_link_not_sqlite_untouched),
      T(test_link_directory_and_fifo_refused),
      T(test_link_noop_inside_volume),
      T(test_link_read_only_parent),
      T(test_lock_second_holder_named),
      T(test_lock_links_refused),
      T(test_lock_not_inherited_across_exec),
      T(test_db_state),
      T(test_db_state_symlink_refused),
      T(test_db_state_hardlink_refused),
      T(test_db_state_empty_file),
      T(test_db_state_not_sqlite),
      T(test_db_state_directory),
      T(test_remove_stale),
      T(test_remove_db),
      T(test_chown),
      T(test_chown_hardlink_refused),
      T(test_prepare_link_use),
      T(test_checks_change_nothing_and_decide_as_the_actions),
      T(test_lock_check_reports_holder_without_locking),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
