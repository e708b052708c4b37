/* Unit tests for proc: spawning real children and running setup commands. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc.h"

static int wait_status(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    assert_int_equal(errno, EINTR);
  return st;
}

static void assert_no_children(void) {
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static void test_spawn_ok_and_pgroup(void** state) {
  char* argv[] = {"sh", "-c", "exit 7", NULL};
  struct dbs_proc_opts o = {
      .argv = argv, .stdout_fd = -1, .stderr_fd = -1, .new_pgroup = true};
  pid_t pid = 0;
  assert_int_equal(dbs_proc_spawn(&o, &pid), 0);
  assert_true(pid > 0);
  /* Set by the parent too, so it holds as soon as spawn returns (the child
   * may already be a zombie, which still has its group). */
  assert_int_equal(getpgid(pid), pid);
  assert_int_equal(dbs_proc_exit_code(wait_status(pid)), 7);
  assert_no_children();
}

static void test_spawn_failures_are_reaped(void** state) {
  char* missing[] = {"/nonexistent/dbs-missing", NULL};
  char* noexec[] = {"/etc/passwd", NULL};
  char* notinpath[] = {"dbs-no-such-command", NULL};
  struct dbs_proc_opts o = {.stdout_fd = -1, .stderr_fd = -1};
  pid_t pid = 0;
  o.argv = missing;
  assert_int_equal(dbs_proc_spawn(&o, &pid), -ENOENT);
  o.argv = notinpath;
  assert_int_equal(dbs_proc_spawn(&o, &pid), -ENOENT);
  o.argv = noexec;
  assert_int_equal(dbs_proc_spawn(&o, &pid), -EACCES);
  assert_int_equal(pid, 0);
  assert_no_children();
}

static void test_spawn_redirects_and_closes_fds(void** state) {
  int p[2], leak = open("/dev/null", O_RDONLY); /* not cloexec */
  char cmd[128], buf[256] = {0};
  assert_true(leak > 2);
  assert_int_equal(pipe(p), 0);
  snprintf(cmd, sizeof(cmd),
           "test -e /proc/self/fd/%d && echo leaked; "
           "read x && echo stdin-not-null; echo done",
           leak);
  char* argv[] = {"sh", "-c", cmd, NULL};
  struct dbs_proc_opts o = {
      .argv = argv, .stdin_null = true, .stdout_fd = p[1], .stderr_fd = -1};
  pid_t pid;
  assert_int_equal(dbs_proc_spawn(&o, &pid), 0);
  close(p[1]);
  ssize_t n, off = 0;
  while ((n = read(p[0], buf + off, sizeof(buf) - 1 - (size_t)off)) > 0)
    off += n;
  close(p[0]);
  close(leak);
  assert_string_equal(buf, "done\n");
  assert_int_equal(dbs_proc_exit_code(wait_status(pid)), 0);
}

/* Runs a helper from build/test/tools with creds; returns its output. The
 * helper is copied to a directory anyone may enter first: the build tree
 * may be below a private one (a mktemp -d checkout), which another user
 * cannot reach. */
static void run_tool(const char* tool, const struct dbs_creds* creds, char* out,
                     size_t n) {
  char exe[4096], src[4200], dir[] = "/tmp/dbs-tool-XXXXXX", path[64];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  assert_true(len > 0);
  exe[len] = '\0';
  *strrchr(exe, '/') = '\0';
  snprintf(src, sizeof(src), "%s/tools/%s", exe, tool);
  assert_non_null(mkdtemp(dir));
  assert_int_equal(chmod(dir, 0755), 0);
  snprintf(path, sizeof(path), "%s/%s", dir, tool);
  char cmd[8400];
  snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0755 '%s'", src, path,
           path);
  assert_int_equal(system(cmd), 0);
  char* argv[] = {path, NULL};
  int p[2];
  assert_int_equal(pipe(p), 0);
  struct dbs_proc_opts o = {
      .argv = argv, .stdout_fd = p[1], .stderr_fd = -1, .creds = creds};
  pid_t pid;
  assert_int_equal(dbs_proc_spawn(&o, &pid), 0);
  close(p[1]);
  ssize_t r, off = 0;
  while ((r = read(p[0], out + off, n - 1 - (size_t)off)) > 0)
    off += r;
  out[off] = '\0';
  close(p[0]);
  assert_int_equal(dbs_proc_exit_code(wait_status(pid)), 0);
  unlink(path);
  rmdir(dir);
}

static void test_spawn_pdeathsig_survives_creds(void** state) {
  char out[256];
  run_tool("pdeathsig", NULL, out, sizeof(out));
  assert_non_null(strstr(out, "pdeathsig=9 "));
  if (geteuid() != 0) {
    skip();
    return;
  }
  struct dbs_creds nobody = {.uid = 65534, .gid = 65534};
  run_tool("pdeathsig", &nobody, out, sizeof(out));
  /* Set after the switch, which would have cleared it. */
  assert_string_equal(out, "pdeathsig=9 uid=65534 euid=65534 gid=65534\n");
}

/* True when no live (non-zombie) process is in group pg; reaps ours. */
static bool group_gone(pid_t pg) {
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
  return kill(-pg, 0) != 0 && errno == ESRCH;
}

/*
 * A stand-in for dbsetup (a forked child with the guardian, two guarded
 * groups, each a shell that did not exec and its sleep) is SIGKILLed: both
 * groups are gone within a second, grandchildren included.
 */
static void test_guard_kills_groups_when_parent_dies(void** state) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); /* to reap them */
  pid_t m = fork();
  assert_true(m >= 0);
  if (m == 0) {
    char* argv[] = {"sh", "-c", "sleep 1000; :", NULL};
    struct dbs_proc_opts o = {.argv = argv,
                              .stdout_fd = -1,
                              .stderr_fd = -1,
                              .new_pgroup = true,
                              .guard = DBS_GUARD_APP};
    pid_t pids[2];
    if (dbs_proc_guard_start() != 0 || dbs_proc_spawn(&o, &pids[0]) != 0)
      _exit(1);
    o.guard = DBS_GUARD_REPLICATOR;
    if (dbs_proc_spawn(&o, &pids[1]) != 0)
      _exit(1);
    (void)!write(p[1], pids, sizeof(pids));
    for (;;)
      pause();
  }
  close(p[1]);
  pid_t pg[2];
  assert_int_equal(read(p[0], pg, sizeof(pg)), (ssize_t)sizeof(pg));
  close(p[0]);
  usleep(200000); /* the shells start their sleeps */
  assert_false(group_gone(pg[0]));
  assert_false(group_gone(pg[1]));
  kill(m, SIGKILL);
  assert_int_equal(WTERMSIG(wait_status(m)), SIGKILL);
  int ms = 0;
  while ((!group_gone(pg[0]) || !group_gone(pg[1])) && ms < 1000) {
    usleep(10000);
    ms += 10;
  }
  kill(-pg[0], SIGKILL); /* before failing: leave nothing behind */
  kill(-pg[1], SIGKILL);
  assert_true(ms < 1000);
  /* The guardian exits too. */
  for (ms = 0; waitpid(-1, NULL, WNOHANG) >= 0 && ms < 1000; ms += 10)
    usleep(10000);
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
  assert_no_children();
}

/* dbs_proc_guard_stop forgets the groups: they are not killed. */
static void test_guard_stop_leaves_groups_alone(void** state) {
  char* argv[] = {"sh", "-c", "sleep 1000; :", NULL};
  struct dbs_proc_opts o = {.argv = argv,
                            .stdout_fd = -1,
                            .stderr_fd = -1,
                            .new_pgroup = true,
                            .guard = DBS_GUARD_APP};
  pid_t pid;
  assert_int_equal(dbs_proc_guard_start(), 0);
  assert_int_equal(dbs_proc_spawn(&o, &pid), 0);
  dbs_proc_guard_stop(); /* reaps the guardian */
  usleep(100000);
  assert_int_equal(kill(-pid, 0), 0);
  assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
  kill(-pid, SIGKILL);
  wait_status(pid);
  assert_no_children();
}

static void test_signal_names(void** state) {
  char buf[16];
  assert_string_equal(dbs_proc_signal_name(SIGTERM, buf), "SIGTERM");
  assert_string_equal(dbs_proc_signal_name(SIGRTMIN + 3, buf), "SIGRTMIN+3");
}

static void test_run_shell_status_and_path(void** state) {
  char dir[] = "/tmp/dbs-proc-XXXXXX", tool[64];
  int st = -1;
  assert_non_null(mkdtemp(dir));
  snprintf(tool, sizeof(tool), "%s/dbs-only-here", dir);
  FILE* f = fopen(tool, "w");
  assert_non_null(f);
  fputs("#!/bin/sh\nexit 42\n", f);
  fclose(f);
  chmod(tool, 0755);

  assert_int_equal(dbs_proc_run_shell("exit 3", NULL, NULL, &st), 0);
  assert_int_equal(dbs_proc_exit_code(st), 3);
  assert_int_equal(dbs_proc_run_shell("dbs-only-here", NULL, NULL, &st), 0);
  assert_int_equal(dbs_proc_exit_code(st), 127);
  assert_int_equal(dbs_proc_run_shell("dbs-only-here", dir, NULL, &st), 0);
  assert_int_equal(dbs_proc_exit_code(st), 42);
  assert_int_equal(dbs_proc_stop_signal(), 0);
  unlink(tool);
  rmdir(dir);
  assert_no_children();
}

/* Last: the stop signal it records is sticky. */
static void test_run_shell_forwards_stop_signals(void** state) {
  int st = -1;
  /* The shell signals us; we must pass it on to its group (sleep too). */
  assert_int_equal(
      dbs_proc_run_shell("kill -TERM $PPID; sleep 5", NULL, NULL, &st), 0);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGTERM);
  assert_int_equal(dbs_proc_stop_signal(), SIGTERM);
  /* One that ignores TERM: the second stop signal is a SIGKILL. */
  assert_int_equal(dbs_proc_run_shell("trap '' TERM INT; kill -INT $PPID; "
                                      "sleep 0.3; kill -TERM $PPID; sleep 5",
                                      NULL, NULL, &st),
                   0);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  /* With a stop timeout, one stop signal is enough: SIGKILL after it. */
  struct timespec t0, t1;
  dbs_proc_set_stop_timeout(300);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(dbs_proc_run_shell("trap '' TERM INT; kill -TERM $PPID; "
                                      "sleep 5",
                                      NULL, NULL, &st),
                   0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  dbs_proc_set_stop_timeout(0);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  long ms =
      (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  assert_true(ms >= 250 && ms < 3000);
  assert_no_children();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spawn_ok_and_pgroup),
      cmocka_unit_test(test_spawn_failures_are_reaped),
      cmocka_unit_test(test_spawn_redirects_and_closes_fds),
      cmocka_unit_test(test_spawn_pdeathsig_survives_creds),
      cmocka_unit_test(test_guard_kills_groups_when_parent_dies),
      cmocka_unit_test(test_guard_stop_leaves_groups_alone),
      cmocka_unit_test(test_signal_names),
      cmocka_unit_test(test_run_shell_status_and_path),
      cmocka_unit_test(test_run_shell_forwards_stop_signals),
  };
  if (dbs_proc_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
