/* Starting children exactly as dbsetup was started, and running setup commands.
 */
#define _GNU_SOURCE /* pipe2, execvpe, sigabbrev_np */
#include "proc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char** environ;

/* What dbsetup was started with; children get exactly this back. */
static bool proc_inited;
static sigset_t start_mask;
static bool start_ignored[_NSIG];

/* The first stop signal dbs_proc_run_shell received. */
static int shell_stop_sig;

/* How long a foreground child may run on after the first stop signal
 * before it gets SIGKILL (0: no limit). */
static unsigned stop_kill_ms;

/* The guardian, as dbsetup sees it (see proc.h). */
static struct {
  pid_t pid;                     /* 0: not running */
  int fd;                        /* the pipe's write end, O_NONBLOCK */
  pid_t pgids[DBS_GUARD_NSLOTS]; /* what it was told */
  bool stopping, warned;
} guard = {.fd = -1};

struct guard_msg {
  int slot;
  pid_t pgid;
};

/* Where a child failed before or at exec, sent through the error pipe. */
enum child_step {
  STEP_PGROUP = 1,
  STEP_STDIO,
  STEP_FDS,
  STEP_CREDS,
  STEP_PDEATHSIG,
  STEP_EXEC,
};

struct child_err {
  int step;
  int err;
};

static const char* step_name(int step) {
  switch (step) {
  case STEP_PGROUP:
    return "creating its process group";
  case STEP_STDIO:
    return "setting up its stdin/stdout/stderr";
  case STEP_FDS:
    return "closing inherited file descriptors";
  case STEP_CREDS:
    return "switching to the --user credentials";
  case STEP_PDEATHSIG:
    return "setting its parent-death signal";
  default:
    return "executing it";
  }
}

int dbs_proc_init(void) {
  struct sigaction sa;
  sigset_t none;

  if (proc_inited)
    return 0;
  if (sigprocmask(SIG_SETMASK, NULL, &start_mask) != 0)
    return -errno;
  for (int sig = 1; sig < _NSIG; sig++)
    if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
      start_ignored[sig] = true;

  /*
   * A closed 0-2 would let the next open() take its place and, for
   * example, make the error pipe a child's stdout.
   */
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
      continue;
    int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (n < 0)
      return -errno;
    if (n != fd) {
      dup2(n, fd);
      close(n);
    }
  }

  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = SIG_DFL;
  if (sigaction(SIGCHLD, &sa, NULL) != 0) /* SIG_IGN would auto-reap */
    return -errno;
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  sigaction(SIGTSTP, &sa, NULL);
  sigaction(SIGTTIN, &sa, NULL);
  sigaction(SIGTTOU, &sa, NULL);
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
    return -errno;
  proc_inited = true;
  return 0;
}

int dbs_proc_exit_code(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return DBS_EXIT_SIGNAL_BASE + WTERMSIG(status);
  return DBS_EXIT_SOFTWARE;
}

int dbs_proc_spawn_exit_code(int err) {
  return err == -ENOENT ? DBS_EXIT_NOTFOUND : DBS_EXIT_NOEXEC;
}

int dbs_proc_stop_signal(void) {
  return shell_stop_sig;
}

char* dbs_proc_signal_name(int sig, char* buf) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev != NULL)
    snprintf(buf, 16, "SIG%s", abbrev);
  else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, 16, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, 16, "signal %d", sig);
  return buf;
}

/* In the child: reports the failed step to the parent and exits. */
static void __attribute__((noreturn)) child_fail(int fd, int step, int err) {
  struct child_err ce = {step, err};
  ssize_t n;
  do
    n = write(fd, &ce, sizeof(ce));
  while (n < 0 && errno == EINTR);
  _exit(dbs_proc_spawn_exit_code(-err));
}

/*
 * In the child, between fork and exec: only async-signal-safe calls. All
 * signals are blocked on entry (so neither libuv's handlers nor a
 * SIGTTOU from tcsetpgrp can run) until the start-up mask is restored
 * right before exec.
 */
/* The child's stdin, stdout and stderr as o asks. */
static void child_stdio(const struct dbs_proc_opts* o, int errfd) {
  if (o->stdin_null) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
      child_fail(errfd, STEP_STDIO, errno);
    if (fd != STDIN_FILENO)
      close(fd);
  }
  if (o->stdout_fd >= 0 && o->stdout_fd != STDOUT_FILENO &&
      dup2(o->stdout_fd, STDOUT_FILENO) < 0)
    child_fail(errfd, STEP_STDIO, errno);
  if (o->stderr_fd >= 0 && o->stderr_fd != STDERR_FILENO &&
      dup2(o->stderr_fd, STDERR_FILENO) < 0)
    child_fail(errfd, STEP_STDIO, errno);
  for (int fd = 0; fd <= 2; fd++) /* dup2 sources may have been cloexec */
    (void)fcntl(fd, F_SETFD, 0);
}

/* One past the highest fd to visit when close_range is not available:
 * the soft RLIMIT_NOFILE, at most 65536. Async-signal-safe. */
static int fd_limit(void) {
  struct rlimit rl;
  int max = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < (rlim_t)max)
    max = (int)rl.rlim_cur;
  return max;
}

/* Everything but fds 0-2 closes at exec, the error pipe included. */
static void child_cloexec_rest(void) {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  for (int fd = 3, max = fd_limit(); fd < max; fd++)
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The dispositions and mask dbsetup itself started with. */
static void child_start_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < _NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP)
      continue;
    sa.sa_handler = start_ignored[sig] ? SIG_IGN : SIG_DFL;
    (void)sigaction(sig, &sa, NULL); /* fails harmlessly for libc's own */
  }
  sigprocmask(SIG_SETMASK, &start_mask, NULL);
}

static void __attribute__((noreturn))
child_exec(const struct dbs_proc_opts* o, int errfd, bool fg, pid_t parent) {
  if (o->new_pgroup && setpgid(0, 0) != 0)
    child_fail(errfd, STEP_PGROUP, errno);
  if (fg)
    (void)tcsetpgrp(STDIN_FILENO, getpid()); /* best effort */
  child_stdio(o, errfd);
  child_cloexec_rest();
  if (o->creds != NULL) {
    int rc = dbs_privdrop_apply(o->creds);
    if (rc != 0)
      child_fail(errfd, STEP_CREDS, -rc);
  }
  /*
   * After the credentials change, which clears it. If dbsetup died before
   * this point the signal will never come: check for that ourselves.
   */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    child_fail(errfd, STEP_PDEATHSIG, errno);
  if (getppid() != parent)
    _exit(DBS_EXIT_SOFTWARE);
  child_start_signals();

  if (o->file != NULL)
    execve(o->file, o->argv, o->envp != NULL ? o->envp : environ);
  else if (o->envp != NULL)
    execvpe(o->argv[0], o->argv, o->envp);
  else
    execvp(o->argv[0], o->argv);
  child_fail(errfd, STEP_EXEC, errno);
}

/* ---- The guardian ------------------------------------------------------ */

/* Closes every fd from lo up (close_range, else one by one). */
static void close_from(int lo) {
  if (syscall(SYS_close_range, (unsigned)lo, ~0U, 0U) == 0)
    return;
  for (int fd = lo, max = fd_limit(); fd < max; fd++)
    (void)close(fd);
}

/*
 * The guardian process: every signal it can block is blocked (a Ctrl-C or a
 * stray TERM must not end it early), nothing open but the pipe. Reads
 * process groups until EOF, then kills them.
 */
static void __attribute__((noreturn)) guard_main(int rfd) {
  pid_t pg[DBS_GUARD_NSLOTS] = {0};
  struct guard_msg m;
  (void)setpgid(0, 0);
  (void)prctl(PR_SET_NAME, "dbsetup-guard");
  if (rfd != 3) {
    dup2(rfd, 3);
    rfd = 3;
  }
  close_from(4);
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd <= 2 && null >= 0; fd++)
    if (fd != null)
      dup2(null, fd);
  if (null > 2)
    close(null);
  for (;;) {
    ssize_t n = read(rfd, &m, sizeof(m));
    if (n == (ssize_t)sizeof(m)) {
      if (m.slot > DBS_GUARD_NONE && m.slot < DBS_GUARD_NSLOTS)
        pg[m.slot] = m.pgid;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    break; /* EOF: dbsetup is gone, or done with us */
  }
  for (int i = 0; i < DBS_GUARD_NSLOTS; i++)
    if (pg[i] > 0)
      kill(-pg[i], SIGKILL);
  _exit(0);
}

static void guard_send(int slot, pid_t pgid) {
  struct guard_msg m = {slot, pgid};
  if (guard.fd < 0)
    return;
  ssize_t n;
  do
    n = write(guard.fd, &m, sizeof(m)); /* atomic: < PIPE_BUF */
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof(m) && !guard.warned) {
    guard.warned = true;
    dbs_log_warn("telling the guardian (pid %d) about process group %d",
                 (int)guard.pid, (int)pgid);
  }
}

int dbs_proc_guard_start(void) {
  int p[2];
  sigset_t all, old;
  if (guard.pid > 0)
    return 0;
  if (pipe2(p, O_CLOEXEC) != 0)
    return -errno;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[1]);      /* its only writer must be dbsetup */
    guard_main(p[0]); /* keeps every signal blocked */
  }
  int err = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(p[0]);
  if (pid < 0) {
    close(p[1]);
    return -err;
  }
  (void)setpgid(pid, pid);
  (void)fcntl(p[1], F_SETFL, O_NONBLOCK); /* never block dbsetup */
  assert(guard.fd < 0);
  guard.pid = pid;
  guard.fd = p[1];
  guard.stopping = false;
  for (int i = 0; i < DBS_GUARD_NSLOTS; i++)
    if (guard.pgids[i] > 0)
      guard_send(i, guard.pgids[i]);
  dbs_log_debug("guardian started (pid %d)", (int)pid);
  return 0;
}

void dbs_proc_guard_set(enum dbs_proc_guard_slot slot, pid_t pgid) {
  assert(slot >= DBS_GUARD_NONE && slot < DBS_GUARD_NSLOTS && pgid >= 0);
  if (slot == DBS_GUARD_NONE)
    return;
  guard.pgids[slot] = pgid;
  guard_send(slot, pgid);
}

bool dbs_proc_guard_reaped(pid_t pid) {
  if (pid <= 0 || pid != guard.pid)
    return false;
  guard.pid = 0;
  close(guard.fd);
  guard.fd = -1;
  if (!guard.stopping) {
    dbs_log_warnx("the guardian (pid %d) died: starting it again", (int)pid);
    int rc = dbs_proc_guard_start();
    if (rc != 0)
      dbs_log_warnx("cannot start the guardian again: %s; the children's "
                    "process groups outlive a SIGKILL of dbsetup",
                    strerror(-rc));
  }
  return true;
}

void dbs_proc_guard_stop(void) {
  for (int i = 0; i < DBS_GUARD_NSLOTS; i++)
    guard.pgids[i] = 0;
  if (guard.pid <= 0)
    return;
  for (int i = 1; i < DBS_GUARD_NSLOTS; i++)
    guard_send(i, 0); /* forget them: it reads these before the EOF */
  guard.stopping = true;
  close(guard.fd);
  guard.fd = -1;
  pid_t pid = guard.pid;
  for (int i = 0; i < 200; i++) {
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      break; /* reaped here, or already by the caller's reaper */
    if (i == 199) {
      dbs_log_warnx("the guardian (pid %d) did not exit: killing it", (int)pid);
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
      break;
    }
    usleep(5000);
  }
  guard.pid = 0;
}

static void log_spawn_failure(const char* cmd, int step, int err) {
  if (step == STEP_EXEC && err == ENOENT)
    dbs_log_errorx("cannot run '%s': command not found (check its name and "
                   "PATH)",
                   cmd);
  else if (step == STEP_EXEC && (err == EACCES || err == EPERM))
    dbs_log_errorx("cannot run '%s': %s (make it executable: chmod +x)", cmd,
                   strerror(err));
  else if (step == STEP_EXEC && err == ENOEXEC)
    dbs_log_errorx("cannot run '%s': not an executable format (add a #! line "
                   "or use the right architecture)",
                   cmd);
  else
    dbs_log_errorx("cannot run '%s': %s failed: %s", cmd, step_name(step),
                   strerror(err));
}

int dbs_proc_spawn(const struct dbs_proc_opts* o, pid_t* pidp) {
  int ep[2];
  sigset_t all, old;
  struct child_err ce;
  ssize_t n;

  assert(o->argv != NULL && o->argv[0] != NULL);
  if (!proc_inited) {
    int rc = dbs_proc_init();
    if (rc != 0)
      return rc;
  }
  if (pipe2(ep, O_CLOEXEC) != 0) {
    int err = errno;
    dbs_log_warn("cannot run '%s': pipe", o->argv[0]);
    return -err;
  }
  bool fg = o->new_pgroup && o->foreground && isatty(STDIN_FILENO) &&
            tcgetpgrp(STDIN_FILENO) == getpgrp();
  pid_t parent = getpid();

  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    close(ep[0]);
    child_exec(o, ep[1], fg, parent);
  }
  int fork_err = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(ep[1]);
  if (pid < 0) {
    close(ep[0]);
    errno = fork_err;
    dbs_log_warn("cannot run '%s': fork", o->argv[0]);
    return -fork_err;
  }
  /* Both sides set the group, so signals to it work from now on. */
  if (o->new_pgroup)
    (void)setpgid(pid, pid);
  /* Before the exec, so the guardian knows the group before a shell can
   * start anything in it. */
  if (o->new_pgroup && o->guard != DBS_GUARD_NONE)
    dbs_proc_guard_set(o->guard, pid);

  do
    n = read(ep[0], &ce, sizeof(ce));
  while (n < 0 && errno == EINTR);
  close(ep[0]);
  if (n != (ssize_t)sizeof(ce)) {
    *pidp = pid; /* EOF: the exec closed the pipe */
    return 0;
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  /* It may have taken the terminal before failing: take it back. */
  if (fg && tcgetpgrp(STDIN_FILENO) == pid)
    (void)tcsetpgrp(STDIN_FILENO, getpgrp()); /* SIGTTOU is ignored */
  log_spawn_failure(o->argv[0], ce.step, ce.err);
  return ce.err > 0 ? -ce.err : -EIO;
}

/* A copy of environ with dir prepended to PATH. Owner: the caller (free
 * the array only; the strings other than the new PATH are environ's). */
static char** env_with_path(const char* dir, char** newpath) {
  size_t n = 0;
  while (environ[n] != NULL)
    n++;
  char** env = calloc(n + 2, sizeof(*env));
  if (env == NULL)
    return NULL;
  const char* old = getenv("PATH");
  if (old == NULL || *old == '\0')
    old = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t len = strlen("PATH=") + strlen(dir) + 1 + strlen(old) + 1;
  *newpath = malloc(len);
  if (*newpath == NULL) {
    free(env);
    return NULL;
  }
  snprintf(*newpath, len, "PATH=%s:%s", dir, old);
  size_t k = 0;
  env[k++] = *newpath;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "PATH=", 5) != 0)
      env[k++] = environ[i];
  env[k] = NULL;
  return env;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The signals a foreground wait takes over: stop signals, HUP, QUIT and
 * SIGCHLD. */
static void held_set(sigset_t* set) {
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGQUIT);
  sigaddset(set, SIGCHLD);
}

void dbs_proc_hold_signals(sigset_t* old) {
  sigset_t set;
  held_set(&set);
  sigprocmask(SIG_BLOCK, &set, old);
}

static void note_stop(int sig) {
  if ((sig == SIGTERM || sig == SIGINT) && shell_stop_sig == 0)
    shell_stop_sig = sig;
}

void dbs_proc_release_signals(const sigset_t* old) {
  /* Consume what arrived after the end, so unblocking cannot kill us. */
  sigset_t set;
  held_set(&set);
  struct timespec zero = {0, 0};
  int sig;
  while ((sig = sigtimedwait(&set, NULL, &zero)) > 0)
    note_stop(sig);
  sigprocmask(SIG_SETMASK, old, NULL);
}

void dbs_proc_set_stop_timeout(unsigned ms) {
  stop_kill_ms = ms;
}

int dbs_proc_wait_forwarding(pid_t pid, bool group, const char* what,
                             int* status) {
  sigset_t set;
  assert(pid > 0); /* -0 would be dbsetup's own group */
  held_set(&set);
  pid_t to = group ? -pid : pid;
  int nstop = 0, killed = 0;
  double kill_at = 0; /* after the first stop signal, with a limit */
  for (;;) {
    int st;
    pid_t r;
    while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
      if (r == pid) {
        *status = st;
        return killed;
      }
      dbs_log_debug("reaped orphan %d (status %d)", (int)r,
                    dbs_proc_exit_code(st));
    }
    if (r < 0 && errno == ECHILD) { /* cannot happen: we are the waiter */
      dbs_log_errorx("%s (pid %d) was reaped by someone else", what, (int)pid);
      *status = DBS_EXIT_SOFTWARE << 8;
      return killed;
    }
    struct timespec ts = {1, 0};
    if (kill_at > 0 && !killed) {
      double left = kill_at - now_s();
      if (left <= 0) {
        dbs_log_warnx("%s still runs %.1f s after the stop signal "
                      "(--stop-timeout): sending SIGKILL",
                      what, stop_kill_ms / 1000.0);
        kill(to, SIGKILL);
        killed = 1;
        continue;
      }
      if (left < 1) {
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(left * 1e9) + 1;
      }
    }
    siginfo_t si;
    int sig = sigtimedwait(&set, &si, &ts);
    if (sig <= 0 || sig == SIGCHLD)
      continue;
    if (sig == SIGTERM || sig == SIGINT) {
      note_stop(sig);
      if (++nstop >= 2) {
        dbs_log_info("second stop signal: sending SIGKILL to %s", what);
        kill(to, SIGKILL);
        killed = 1;
        continue;
      }
      if (stop_kill_ms > 0)
        kill_at = now_s() + stop_kill_ms / 1000.0;
    }
    char name[16];
    dbs_log_info("forwarding %s to %s (pid %d)",
                 dbs_proc_signal_name(sig, name), what, (int)pid);
    kill(to, sig);
  }
}

/* The file execvp would run for word with dir first on PATH, or NULL
 * (not found: execve of word then fails as execvp would). */
static char* path_lookup(const char* word, const char* dir) {
  if (strchr(word, '/') != NULL || *word == '\0')
    return strdup(word);
  const char* path = getenv("PATH");
  char* list = NULL;
  if (asprintf(&list, "%s:%s", dir ? dir : "",
               path && *path ? path
                             : "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                               "/usr/bin:/sbin:/bin") < 0)
    return NULL;
  char* found = NULL;
  for (char *save = NULL, *d = strtok_r(list, ":", &save); d && !found;
       d = strtok_r(NULL, ":", &save)) {
    char* p = NULL;
    struct stat st;
    if (*d == '\0' || asprintf(&p, "%s/%s", d, word) < 0)
      continue;
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
      found = p;
    else
      free(p);
  }
  free(list);
  return found;
}

/* dbs_proc_run_shell and dbs_proc_run_argv: argv in the foreground. */
static int run_foreground(char* const argv[], const char* file, const char* cmd,
                          const char* dir_prepend_path,
                          const struct dbs_creds* creds, int* status) {
  char **env = NULL, *newpath = NULL;
  sigset_t old;
  pid_t pid;
  int rc;

  if (dir_prepend_path != NULL) {
    env = env_with_path(dir_prepend_path, &newpath);
    if (env == NULL)
      return -ENOMEM;
  }
  struct dbs_proc_opts o = {
      .argv = argv,
      .file = file,
      .envp = env,
      .stdin_null = false,
      .stdout_fd = -1,
      .stderr_fd = -1,
      .new_pgroup = true,
      .foreground = true,
      .creds = creds,
  };
  dbs_proc_hold_signals(&old);
  double t0 = now_s();
  rc = dbs_proc_spawn(&o, &pid);
  if (rc != 0)
    goto out;
  dbs_log_info("started '%s' (pid %d)", cmd, (int)pid);
  char* what = NULL;
  if (asprintf(&what, "'%s'", cmd) < 0)
    what = NULL;
  dbs_proc_wait_forwarding(pid, true, what ? what : "the command", status);
  free(what);
  dbs_log_info("'%s' exited with status %d after %.2f s", cmd,
               dbs_proc_exit_code(*status), now_s() - t0);

out:
  /* Take the terminal back (SIGTTOU is ignored since dbs_proc_init). */
  if (isatty(STDIN_FILENO) && rc == 0 && tcgetpgrp(STDIN_FILENO) == pid)
    (void)tcsetpgrp(STDIN_FILENO, getpgrp());
  dbs_proc_release_signals(&old);
  free(env);
  free(newpath);
  return rc;
}

int dbs_proc_run_shell(const char* cmd, const char* dir_prepend_path,
                       const struct dbs_creds* creds, int* status) {
  char* argv[] = {"/bin/sh", "-c", (char*)cmd, NULL};
  return run_foreground(argv, NULL, cmd, dir_prepend_path, creds, status);
}

int dbs_proc_run_argv(char* const argv[], const char* cmd,
                      const char* dir_prepend_path,
                      const struct dbs_creds* creds, int* status) {
  char* file = path_lookup(argv[0], dir_prepend_path);
  if (file == NULL) {
    dbs_log_errorx("cannot run '%s': command not found (looked in %s%sPATH)",
                   argv[0], dir_prepend_path ? dir_prepend_path : "",
                   dir_prepend_path ? " and " : "");
    *status = 127 << 8;
    return 0;
  }
  int rc = run_foreground(argv, file, cmd, dir_prepend_path, creds, status);
  free(file);
  /* As a shell reports a command it cannot start (the reason is logged). */
  if (rc == -ENOENT || rc == -EACCES || rc == -EPERM || rc == -ENOEXEC ||
      rc == -ENOTDIR || rc == -EISDIR || rc == -ELOOP) {
    *status = (rc == -ENOENT || rc == -ENOTDIR ? 127 : 126) << 8;
    return 0;
  }
  return rc;
}
