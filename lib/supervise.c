/* The supervisor: one libuv loop, two children, every signal forwarded. */
#define _GNU_SOURCE
#include "supervise.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "exitcode.h"
#include "log.h"
#include "proc.h"
#include "strbuf.h"

/* Time remaining descendants get between SIGTERM and SIGKILL at exit. */
#define CLEANUP_GRACE_MS 1000u
/*
 * litestream (0.3 and 0.5 alike) opens the database on its first monitor
 * tick (monitor-interval, 1 s) and uploads nothing, not even on shutdown,
 * when it is stopped before that: every write of an app that exits in its
 * first second would never reach the backup. A replicator younger than
 * this (or opts->replicator_first_sync_ms) gets the rest of it before its
 * stop signal.
 */
#define REPLICATOR_FIRST_SYNC_MS 2000u
/* A replicator line longer than this is relayed in pieces. */
#define RELAY_LINE_MAX 8192
/* How often output held back by a stalled stderr reader is retried. */
#define OUT_RETRY_MS 20u

/* ---- Backoff ---------------------------------------------------------- */

void dbs_supervise_backoff_init(struct dbs_backoff* b) {
  b->next_ms = DBS_BACKOFF_MIN_MS;
}

unsigned dbs_supervise_backoff_next(struct dbs_backoff* b, uint64_t uptime_ms) {
  if (uptime_ms >= DBS_BACKOFF_RESET_MS)
    b->next_ms = DBS_BACKOFF_MIN_MS;
  unsigned delay = b->next_ms;
  b->next_ms = delay >= DBS_BACKOFF_MAX_MS / 2 ? DBS_BACKOFF_MAX_MS : delay * 2;
  return delay;
}

/* ---- The state machine ------------------------------------------------ */

struct transition {
  enum dbs_child_state next;
  enum dbs_child_action action;
};

/* clang-format off */
#define T(s, a) {DBS_CHILD_##s, DBS_ACT_##a}
#define IDLE(s) T(s, NONE), T(s, NONE), T(s, NONE), T(s, NONE), T(s, NONE)
/* [restart][state][event]; events: START, EXIT, STOP, TIMER, EMPTY. */
static const struct transition actions[2][DBS_CHILD_NSTATES][DBS_EV_NEVENTS] = {
    {
        /* The app: its exit ends supervision. */
        [DBS_CHILD_DOWN] = {T(UP, SPAWN), T(DOWN, NONE), T(DOWN, NONE),
                            T(DOWN, NONE), T(DOWN, NONE)},
        [DBS_CHILD_UP] = {T(UP, NONE), T(DOWN, EXITED), T(STOPPING, SIGNAL),
                          T(UP, NONE), T(UP, NONE)},
        /* Never entered by the app; a stop still ends it. */
        [DBS_CHILD_BACKOFF] = {T(BACKOFF, NONE), T(BACKOFF, NONE),
                               T(DOWN, CANCEL), T(BACKOFF, NONE),
                               T(BACKOFF, NONE)},
        [DBS_CHILD_STOPPING] = {T(STOPPING, NONE), T(DOWN, EXITED),
                                T(KILLED, KILL), T(KILLED, KILL),
                                T(STOPPING, NONE)},
        [DBS_CHILD_KILLED] = {T(KILLED, NONE), T(DOWN, EXITED), T(KILLED, NONE),
                              T(KILLED, NONE), T(KILLED, NONE)},
        [DBS_CHILD_DRAINING] = {IDLE(DRAINING)},
    },
    {
        /* The replicator: restarted with backoff while the app runs, and
         * stopped as a whole process group. */
        [DBS_CHILD_DOWN] = {T(UP, SPAWN), T(DOWN, NONE), T(DOWN, NONE),
                            T(DOWN, NONE), T(DOWN, NONE)},
        [DBS_CHILD_UP] = {T(UP, NONE), T(BACKOFF, RETRY), T(STOPPING, SIGNAL),
                          T(UP, NONE), T(UP, NONE)},
        [DBS_CHILD_BACKOFF] = {T(BACKOFF, NONE), T(BACKOFF, NONE),
                               T(DOWN, CANCEL), T(UP, SPAWN),
                               T(BACKOFF, NONE)},
        [DBS_CHILD_STOPPING] = {T(STOPPING, NONE), T(DRAINING, EXITED),
                                T(KILLED, KILL), T(KILLED, KILL),
                                T(STOPPING, NONE)},
        [DBS_CHILD_KILLED] = {T(KILLED, NONE), T(DRAINING, EXITED),
                              T(KILLED, NONE), T(KILLED, NONE),
                              T(KILLED, NONE)},
        [DBS_CHILD_DRAINING] = {T(DRAINING, NONE), T(DRAINING, NONE),
                                T(DRAINING, KILL), T(DRAINING, KILL),
                                T(DOWN, DRAINED)},
    },
};
#undef IDLE
#undef T
/* clang-format on */

enum dbs_child_state dbs_supervise_transition(enum dbs_child_state state,
                                              enum dbs_child_event event,
                                              bool restart,
                                              enum dbs_child_action* action) {
  assert(state >= 0 && state < DBS_CHILD_NSTATES);
  assert(event >= 0 && event < DBS_EV_NEVENTS);
  const struct transition* t = &actions[restart ? 1 : 0][state][event];
  *action = t->action;
  return t->next;
}

/* ---- Supervisor state ------------------------------------------------- */

enum phase {
  PH_RUN,          /* the app runs */
  PH_STOP_REPL,    /* the app is gone; the replicator is being stopped */
  PH_CLEANUP_TERM, /* remaining descendants got SIGTERM */
  PH_CLEANUP_KILL, /* ... and then SIGKILL */
  PH_DONE,         /* everything is gone: close the handles */
  PH_CLOSED,
};

struct sup;

struct child {
  const char* name; /* "app" or "replicator" */
  bool restart;
  enum dbs_child_state state;
  pid_t pid;    /* 0 when its leader is not running */
  pid_t pgid;   /* its process group, kept until the group is empty */
  int status;   /* wait status of its last exit */
  int stop_sig; /* what DBS_ACT_SIGNAL sends */
  unsigned stop_timeout_ms;
  uint64_t started_ns, stop_ns;
  int nkill; /* SIGKILLs sent while draining its group */
  struct dbs_backoff backoff;
  uv_timer_t timer;
  struct sup* sup;
};

/* One replicator instance's output: read until EOF, then freed. */
struct relay {
  uv_pipe_t pipe;
  size_t len;
  char line[RELAY_LINE_MAX];
  struct relay* next;
  struct sup* sup;
};

struct sup {
  uv_loop_t loop;
  const struct dbs_supervise_opts* opts;
  uv_signal_t sigs[_NSIG];
  bool sig_on[_NSIG];
  struct child app, repl;
  uv_timer_t cleanup_timer;
  enum phase phase;
  int nstop;        /* stop signals received */
  int exit_code;    /* -1 until the app's fate is known */
  bool no_children; /* the last reap found none left */
  bool repl_warmup; /* waiting for the replicator's first sync */
  uint64_t phase_ns;
  struct relay* relays; /* open replicator pipes */
  uv_check_t out_check; /* after every loop turn: is output pending? */
  uv_timer_t out_timer; /* retries pending output while there is some */
};

/* The first stop signal (TERM or INT) supervision received, or 0. */
static int first_stop_sig;

int dbs_supervise_stop_signal(void) {
  return first_stop_sig != 0 ? first_stop_sig : dbs_proc_stop_signal();
}

static double secs_since(uint64_t ns) {
  return (double)(uv_hrtime() - ns) / 1e9;
}

/* Describes a wait status for logs: "status 3" or "signal SIGTERM". */
static const char* describe_status(int st, char* buf, size_t n) {
  char name[16];
  if (WIFSIGNALED(st))
    snprintf(buf, n, "signal %s (exit code %d)",
             dbs_proc_signal_name(WTERMSIG(st), name), 128 + WTERMSIG(st));
  else
    snprintf(buf, n, "status %d", dbs_proc_exit_code(st));
  return buf;
}

static void advance(struct sup* s);
static void child_event(struct child* c, enum dbs_child_event ev);

/* ---- Replicator output relay ------------------------------------------ */

/*
 * Writes the buffered line out. A line is redacted whole; one longer than
 * the buffer goes out in pieces, each cut where no registered secret can
 * straddle the cut (the tail that could start one is kept for the next
 * piece), so no secret ever prints in two halves.
 */
static void relay_emit(struct relay* r, bool whole) {
  static const char prefix[] = "[replicator] ";
  if (whole) {
    dbs_log_line(prefix, r->line, r->len);
    r->len = 0;
    return;
  }
  struct dbs_strbuf b = {0};
  size_t used = dbs_log_redact_part(r->line, r->len, true, &b);
  if (used == 0 || b.oom) { /* a secret as long as the buffer */
    char note[96];
    int n = snprintf(note, sizeof(note),
                     "[%zu bytes withheld: they may hold a secret]", r->len);
    dbs_log_line(prefix, note, (size_t)n);
    used = r->len;
  } else {
    dbs_log_line(prefix, b.p, b.len);
  }
  free(b.p);
  memmove(r->line, r->line + used, r->len - used);
  r->len -= used;
}

static void relay_closed(uv_handle_t* h) {
  struct relay* r = h->data;
  struct relay** pp = &r->sup->relays;
  while (*pp != r)
    pp = &(*pp)->next;
  *pp = r->next;
  free(r);
}

static void relay_close(struct relay* r) {
  if (r->len > 0)
    relay_emit(r, true);
  if (!uv_is_closing((uv_handle_t*)&r->pipe))
    uv_close((uv_handle_t*)&r->pipe, relay_closed);
}

static void relay_alloc(uv_handle_t* h, size_t hint, uv_buf_t* buf) {
  static char chunk[65536];
  buf->base = chunk;
  buf->len = sizeof(chunk);
}

static void relay_read(uv_stream_t* st, ssize_t n, const uv_buf_t* buf) {
  struct relay* r = st->data;
  if (n < 0) {
    if (n != UV_EOF)
      dbs_log_warnx("reading the replicator's output: %s", uv_strerror((int)n));
    relay_close(r);
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    char ch = buf->base[i];
    if (ch == '\n') {
      relay_emit(r, true);
      continue;
    }
    r->line[r->len++] = ch;
    if (r->len == RELAY_LINE_MAX)
      relay_emit(r, false);
  }
}

/* Takes ownership of fd. Returns 0 or a libuv error. */
static int relay_open(struct sup* s, int fd) {
  struct relay* r = calloc(1, sizeof(*r));
  if (r == NULL) {
    close(fd);
    return UV_ENOMEM;
  }
  r->sup = s;
  uv_pipe_init(&s->loop, &r->pipe, 0);
  r->pipe.data = r;
  r->next = s->relays;
  s->relays = r;
  int rc = uv_pipe_open(&r->pipe, fd);
  if (rc == 0)
    rc = uv_read_start((uv_stream_t*)&r->pipe, relay_alloc, relay_read);
  if (rc != 0) {
    dbs_log_warnx("relaying the replicator's output: %s", uv_strerror(rc));
    relay_close(r); /* closes fd with the handle */
  }
  return rc;
}

/* ---- Our own output ---------------------------------------------------- */

/*
 * Log lines never block the loop (see log.h): when stderr's reader is
 * behind they are held back, and retried here until they are out.
 */
static void out_timer_cb(uv_timer_t* t) {
  if (dbs_log_flush())
    uv_timer_stop(t);
}

static void out_check_cb(uv_check_t* c) {
  struct sup* s = c->data;
  if (!dbs_log_flush() && !uv_is_active((uv_handle_t*)&s->out_timer))
    uv_timer_start(&s->out_timer, out_timer_cb, OUT_RETRY_MS, OUT_RETRY_MS);
}

/* ---- Children --------------------------------------------------------- */

/* Starts c; on failure leaves c->status describing it. Returns 0 or -errno. */
static int child_spawn(struct child* c) {
  struct sup* s = c->sup;
  char* sh_argv[] = {"/bin/sh", "-c", (char*)s->opts->replicate, NULL};
  struct dbs_proc_opts po = {
      .argv = c->restart ? sh_argv : s->opts->app_argv,
      .envp = NULL,
      .stdin_null = c->restart,
      .stdout_fd = -1,
      .stderr_fd = -1,
      .new_pgroup = true,
      .foreground = !c->restart,
      .creds = s->opts->creds,
      .guard = c->restart ? DBS_GUARD_REPLICATOR : DBS_GUARD_APP,
  };
  int out[2] = {-1, -1};
  if (c->restart && pipe2(out, O_CLOEXEC) == 0)
    po.stdout_fd = po.stderr_fd = out[1];

  int rc = dbs_proc_spawn(&po, &c->pid);
  if (out[1] >= 0)
    close(out[1]);
  if (rc != 0) {
    if (out[0] >= 0)
      close(out[0]);
    dbs_proc_guard_set(po.guard, 0);
    c->pid = 0;
    c->status = dbs_proc_spawn_exit_code(rc) << 8;
    return rc;
  }
  c->pgid = c->pid;
  c->stop_ns = 0;
  c->nkill = 0;
  c->started_ns = uv_hrtime();
  if (out[0] >= 0)
    relay_open(s, out[0]);
  if (c->restart)
    dbs_log_info("replicator started (pid %d): %s", (int)c->pid,
                 s->opts->replicate);
  else
    dbs_log_info("app started (pid %d): %s", (int)c->pid, po.argv[0]);
  return 0;
}

static void child_timer_cb(uv_timer_t* t) {
  child_event(t->data, DBS_EV_TIMER);
  advance(((struct child*)t->data)->sup);
}

static void child_kill_group(struct child* c) {
  double after = c->stop_ns ? secs_since(c->stop_ns) : 0.0;
  if (c->pid != 0)
    dbs_log_info("%s (pid %d) still running %.2f s after the stop signal: "
                 "sending SIGKILL to its process group",
                 c->name, (int)c->pid, after);
  else
    dbs_log_info("%s's process group %d still has processes %.2f s after the "
                 "stop signal: sending SIGKILL",
                 c->name, (int)c->pgid, after);
  if (kill(-c->pgid, SIGKILL) != 0 && errno == ESRCH && c->pid != 0)
    kill(c->pid, SIGKILL);
}

/* Gives the terminal back to dbsetup's group after a foreground child. */
static void take_terminal(pid_t pgid) {
  if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == pgid)
    (void)tcsetpgrp(STDIN_FILENO, getpgrp()); /* SIGTTOU is ignored */
}

/* True when no process is left in the group (ours are reaped at once). */
static bool group_empty(pid_t pgid) {
  return pgid <= 0 || (kill(-pgid, 0) != 0 && errno == ESRCH);
}

/*
 * The actions, one function each, as s6-supervise's: what the transition
 * table says must be done on the way to the next state (already set in
 * c->state when the action runs).
 */

static void act_none(struct child* c) {
  (void)c;
}

/*
 * The replicator exited (exited is true) or could not be started: restart
 * it after its backoff while the app runs, else let it go.
 */
static void restart_later(struct child* c, bool exited) {
  struct sup* s = c->sup;
  char desc[64];
  assert(c->restart);
  uint64_t up_ms = (uv_hrtime() - c->started_ns) / 1000000u;
  if (s->phase != PH_RUN) {
    /* The app is gone and the replicator was being given its first-sync
     * wait: nothing is left to replicate for, so it is not restarted. */
    dbs_log_warnx("replicator (pid %d) exited with %s after %.2f s; the "
                  "app is gone: not restarting it",
                  (int)c->pid, describe_status(c->status, desc, sizeof(desc)),
                  (double)up_ms / 1000.0);
    c->state = DBS_CHILD_DOWN;
    c->pid = 0;
    if (!group_empty(c->pgid))
      kill(-c->pgid, SIGTERM); /* the cleanup phase escalates */
    c->pgid = 0;
    if (s->repl_warmup) {
      s->repl_warmup = false;
      uv_timer_stop(&s->cleanup_timer);
    }
    return;
  }
  unsigned delay = dbs_supervise_backoff_next(&c->backoff, up_ms);
  if (exited)
    dbs_log_warnx("replicator (pid %d) exited with %s after %.2f s while the "
                  "app runs; restarting in %u s",
                  (int)c->pid, describe_status(c->status, desc, sizeof(desc)),
                  (double)up_ms / 1000.0, delay / 1000);
  else
    dbs_log_warnx("replicator could not be started; retrying in %u s",
                  delay / 1000);
  c->pid = 0;
  if (!group_empty(c->pgid)) {
    dbs_log_warnx("replicator's process group %d outlived it: sending "
                  "SIGTERM",
                  (int)c->pgid);
    kill(-c->pgid, SIGTERM);
  }
  uv_timer_start(&c->timer, child_timer_cb, delay, 0);
}

static void act_spawn(struct child* c) {
  assert(c->pid == 0);
  if (child_spawn(c) == 0)
    return;
  if (!c->restart) { /* the app could not be run: supervision ends */
    c->state = DBS_CHILD_DOWN;
    c->sup->exit_code = dbs_proc_exit_code(c->status);
    return;
  }
  /* The replicator failed to start: as if it exited at once. */
  c->state = DBS_CHILD_BACKOFF;
  c->started_ns = uv_hrtime();
  restart_later(c, false);
}

static void act_retry(struct child* c) {
  assert(c->pid > 0);
  restart_later(c, true);
}

static void act_exited(struct child* c) {
  struct sup* s = c->sup;
  char desc[64];
  assert(c->pid > 0);
  if (c->state == DBS_CHILD_DOWN)
    uv_timer_stop(&c->timer);
  if (c->stop_ns != 0)
    dbs_log_info("%s (pid %d) exited with %s, %.2f s after the stop signal",
                 c->name, (int)c->pid,
                 describe_status(c->status, desc, sizeof(desc)),
                 secs_since(c->stop_ns));
  else
    dbs_log_info("%s (pid %d) exited with %s after %.2f s", c->name,
                 (int)c->pid, describe_status(c->status, desc, sizeof(desc)),
                 secs_since(c->started_ns));
  if (!c->restart) {
    take_terminal(c->pid);
    s->exit_code = dbs_proc_exit_code(c->status);
    if (group_empty(c->pgid))
      dbs_proc_guard_set(DBS_GUARD_APP, 0);
  }
  c->pid = 0;
  if (c->state == DBS_CHILD_DRAINING) {
    if (group_empty(c->pgid))
      child_event(c, DBS_EV_EMPTY);
    else
      dbs_log_info("waiting for the rest of %s's process group %d", c->name,
                   (int)c->pgid);
  }
}

static void act_drained(struct child* c) {
  assert(c->pid == 0);
  uv_timer_stop(&c->timer);
  dbs_proc_guard_set(DBS_GUARD_REPLICATOR, 0);
  if (c->stop_ns != 0)
    dbs_log_info("%s's process group %d is gone, %.2f s after the stop "
                 "signal",
                 c->name, (int)c->pgid, secs_since(c->stop_ns));
  c->pgid = 0;
}

static void act_signal(struct child* c) {
  char name[16];
  /* kill(-0) would signal dbsetup's own process group. */
  assert(c->pid > 0 && c->pgid > 0);
  bool group = c->restart || !c->sup->opts->signal_child_only;
  c->stop_ns = uv_hrtime();
  dbs_log_info("sending %s to %s (%s %d); SIGKILL in %.1f s",
               dbs_proc_signal_name(c->stop_sig, name), c->name,
               group ? "process group" : "pid", (int)c->pid,
               (double)c->stop_timeout_ms / 1000.0);
  /* A stopped process (Ctrl-Z, SIGSTOP) would hold the stop signal until
   * SIGKILL: continue it so that it can act on it. SIGCONT goes first: it
   * discards stop signals still pending, and one sent after the stop
   * signal could discard the SIGSTOP of a ptrace attach the process's
   * exit path makes (LeakSanitizer's does), which then waits forever. */
  kill(group ? -c->pgid : c->pid, SIGCONT);
  kill(group ? -c->pgid : c->pid, c->stop_sig);
  uv_timer_start(&c->timer, child_timer_cb, c->stop_timeout_ms, 0);
}

static void act_kill(struct child* c) {
  assert(c->pgid > 0);
  uv_timer_stop(&c->timer);
  if (c->state == DBS_CHILD_DRAINING && c->nkill > 0) {
    /* Only processes that are not ours to reap can keep it alive. */
    dbs_log_warnx("%s's process group %d is still there after SIGKILL; "
                  "going on",
                  c->name, (int)c->pgid);
    child_event(c, DBS_EV_EMPTY);
    return;
  }
  child_kill_group(c);
  if (c->state == DBS_CHILD_DRAINING) { /* no exit event will come */
    c->nkill++;
    uv_timer_start(&c->timer, child_timer_cb, CLEANUP_GRACE_MS, 0);
  }
}

static void act_cancel(struct child* c) {
  assert(c->pid == 0);
  uv_timer_stop(&c->timer);
  dbs_log_info("%s restart cancelled", c->name);
}

static void (*const perform[])(struct child*) = {
    [DBS_ACT_NONE] = act_none,     [DBS_ACT_SPAWN] = act_spawn,
    [DBS_ACT_EXITED] = act_exited, [DBS_ACT_RETRY] = act_retry,
    [DBS_ACT_SIGNAL] = act_signal, [DBS_ACT_KILL] = act_kill,
    [DBS_ACT_CANCEL] = act_cancel, [DBS_ACT_DRAINED] = act_drained,
};

/* Runs the state machine for one event and performs its action. */
static void child_event(struct child* c, enum dbs_child_event ev) {
  enum dbs_child_action act;
  c->state = dbs_supervise_transition(c->state, ev, c->restart, &act);
  assert((size_t)act < sizeof(perform) / sizeof(perform[0]));
  perform[act](c);
}

/* ---- Reaping and cleanup ---------------------------------------------- */

/*
 * The app stopped (WUNTRACED). Ctrl-Z in a terminal sends SIGTSTP to the
 * foreground group, the app's; the shell sees only dbsetup, its job, which
 * would go on running with the terminal held by a stopped group. So
 * dbsetup takes the terminal back and stops itself: the shell reports the
 * job stopped. `fg` continues dbsetup in the foreground, and it gives the
 * terminal back to the app and continues it; `bg` continues both in the
 * background. As PID 1 (docker run -it) nothing above dbsetup does job
 * control and nothing could ever continue the app: a Ctrl-Z (SIGTSTP) is
 * undone at once. When the app did not hold the terminal, or was stopped
 * otherwise (SIGSTOP), nothing is done: whoever stopped it continues it.
 */
static void app_stopped(struct sup* s, int sig) {
  char name[16];
  pid_t pg = s->app.pgid;
  dbs_proc_signal_name(sig, name);
  bool holds_tty = pg > 0 && isatty(STDIN_FILENO) &&
                   tcgetpgrp(STDIN_FILENO) == pg &&
                   s->app.state == DBS_CHILD_UP;
  if (getpid() == 1 && holds_tty && sig == SIGTSTP) {
    dbs_log_warnx("Ctrl-Z stopped the app, but as PID 1 nothing could "
                  "continue it: continuing it now");
    kill(-pg, SIGCONT);
    return;
  }
  if (getpid() == 1 || !holds_tty) {
    dbs_log_info("the app was stopped (%s)", name);
    return;
  }
  dbs_log_info("the app was stopped (%s, Ctrl-Z): stopping dbsetup too; "
               "'fg' continues both",
               name);
  (void)tcsetpgrp(STDIN_FILENO, getpgrp()); /* SIGTTOU is ignored */
  raise(SIGSTOP);
  /* Continued (fg or bg). */
  bool fg = tcgetpgrp(STDIN_FILENO) == getpgrp();
  if (fg)
    (void)tcsetpgrp(STDIN_FILENO, pg);
  dbs_log_info("continued: continuing the app in the %s",
               fg ? "foreground" : "background");
  kill(-pg, SIGCONT);
}

/*
 * The only waiter in the process (see supervise.h): reaps everything that
 * has exited and routes each status by pid. Stopped children are reported
 * too (WUNTRACED), for the app's Ctrl-Z.
 */
static void reap(struct sup* s) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG | WUNTRACED)) > 0) {
    if (WIFSTOPPED(st)) {
      if (pid == s->app.pid)
        app_stopped(s, WSTOPSIG(st));
      continue;
    }
    if (dbs_proc_guard_reaped(pid))
      continue;
    struct child* c = NULL;
    if (pid == s->app.pid)
      c = &s->app;
    else if (pid == s->repl.pid)
      c = &s->repl;
    if (c != NULL) {
      assert(pid == c->pid);
      c->status = st;
      child_event(c, DBS_EV_EXIT);
    } else {
      char desc[64];
      dbs_log_debug("reaped orphan %d (%s)", (int)pid,
                    describe_status(st, desc, sizeof(desc)));
    }
  }
  s->no_children = pid < 0 && errno == ECHILD;
  if (s->repl.state == DBS_CHILD_DRAINING && group_empty(s->repl.pgid))
    child_event(&s->repl, DBS_EV_EMPTY);
}

/* True when /proc belongs to our PID namespace (its pids are ours). */
static bool proc_is_ours(void) {
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  return atoi(buf) == (int)getpid();
}

/* A process of /proc: its parent, and whether it descends from dbsetup. */
struct proc_ent {
  pid_t pid, ppid;
  bool mine;
};

/* The parent of the process /proc/<name>; false when it is gone. */
static bool read_ppid(const char* name, int* ppid) {
  char path[300], buf[512];
  snprintf(path, sizeof(path), "/proc/%s/stat", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t len = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (len <= 0)
    return false;
  buf[len] = '\0';
  char* p = strrchr(buf, ')'); /* the name may hold spaces and ')' */
  char state;
  return p != NULL && sscanf(p + 1, " %c %d", &state, ppid) == 2;
}

/* Every process in /proc with its parent, into *out (malloc'd, the
 * caller frees it; as many as memory allowed) and *n. Returns 0, or -1
 * (logged) when /proc cannot be listed. */
static int list_processes(struct proc_ent** out, size_t* n) {
  size_t cap = 256;
  struct proc_ent* v = malloc(cap * sizeof(*v));
  DIR* d = NULL;
  struct dirent* de;
  *n = 0;
  *out = v;
  if (v == NULL || (d = opendir("/proc")) == NULL) {
    dbs_log_warn("listing processes in /proc");
    return -1;
  }
  while ((de = readdir(d)) != NULL) {
    int ppid;
    if (!isdigit((unsigned char)de->d_name[0]) || !read_ppid(de->d_name, &ppid))
      continue;
    if (*n == cap) {
      struct proc_ent* nv = realloc(v, 2 * cap * sizeof(*v));
      if (nv == NULL)
        break;
      *out = v = nv;
      cap *= 2;
    }
    v[*n] = (struct proc_ent){atoi(de->d_name), ppid, false};
    (*n)++;
  }
  closedir(d);
  return 0;
}

/* Marks the descendants of self in v until nothing changes. */
static void mark_descendants(struct proc_ent* v, size_t n, pid_t self) {
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < n; i++) {
      if (v[i].mine || v[i].pid == self)
        continue;
      bool parent_mine = v[i].ppid == self;
      for (size_t j = 0; j < n && !parent_mine; j++)
        parent_mine = v[j].mine && v[j].pid == v[i].ppid;
      if (parent_mine)
        v[i].mine = changed = true;
    }
  }
}

/*
 * Sends sig to every descendant of dbsetup, found through /proc (as PID 1
 * that is everything else in the namespace; as a subreaper, orphans are
 * our children). Returns how many were signalled, or -1 when PID 1 had to
 * signal everything blindly because /proc is another namespace's (then
 * reading it would mistake the host's processes for ours).
 */
static int signal_descendants(int sig) {
  struct proc_ent* v;
  size_t n;
  int count = 0;

  if (!proc_is_ours()) {
    if (getpid() == 1) { /* kill(-1) stays inside our PID namespace */
      kill(-1, sig);
      return -1;
    }
    dbs_log_warnx("/proc is not this PID namespace's: cannot find leftover "
                  "processes");
    return 0;
  }
  if (list_processes(&v, &n) == 0) {
    mark_descendants(v, n, getpid());
    for (size_t i = 0; i < n; i++)
      if (v[i].mine && kill(v[i].pid, sig) == 0)
        count++;
  }
  free(v);
  return count;
}

static void cleanup_timer_cb(uv_timer_t* t) {
  struct sup* s = t->data;
  reap(s);
  if (s->no_children) {
    advance(s);
    return;
  }
  if (s->phase == PH_CLEANUP_TERM) {
    int n = signal_descendants(SIGKILL);
    if (n >= 0)
      dbs_log_info("%d process(es) still running %.2f s after SIGTERM: sent "
                   "SIGKILL",
                   n, secs_since(s->phase_ns));
    else
      dbs_log_info("processes still running %.2f s after SIGTERM: sent "
                   "SIGKILL to all",
                   secs_since(s->phase_ns));
    s->phase = PH_CLEANUP_KILL;
    s->phase_ns = uv_hrtime();
    uv_timer_start(&s->cleanup_timer, cleanup_timer_cb, CLEANUP_GRACE_MS, 0);
  } else {
    dbs_log_warnx("processes remain after SIGKILL; exiting anyway");
    s->phase = PH_DONE;
    advance(s);
  }
}

static void close_cb(uv_handle_t* h) {}

static void close_all(struct sup* s) {
  for (int sig = 1; sig < _NSIG; sig++)
    if (s->sig_on[sig])
      uv_close((uv_handle_t*)&s->sigs[sig], close_cb);
  uv_close((uv_handle_t*)&s->app.timer, close_cb);
  uv_close((uv_handle_t*)&s->repl.timer, close_cb);
  uv_close((uv_handle_t*)&s->cleanup_timer, close_cb);
  uv_close((uv_handle_t*)&s->out_check, close_cb);
  uv_close((uv_handle_t*)&s->out_timer, close_cb);
  for (struct relay* r = s->relays; r != NULL; r = r->next)
    relay_close(r);
}

static void repl_warmup_cb(uv_timer_t* t) {
  struct sup* s = t->data;
  s->repl_warmup = false;
  if (s->repl.state != DBS_CHILD_DOWN) {
    dbs_log_info("stopping the replicator");
    child_event(&s->repl, DBS_EV_STOP);
  }
  advance(s);
}

/* Moves the shutdown sequence on: app, then replicator, then the rest. */
static void advance(struct sup* s) {
  if (s->phase == PH_RUN && s->app.state == DBS_CHILD_DOWN) {
    s->phase = PH_STOP_REPL;
    s->phase_ns = uv_hrtime();
    uint64_t up_ms = (uv_hrtime() - s->repl.started_ns) / 1000000u;
    unsigned first = s->opts->replicator_first_sync_ms
                         ? s->opts->replicator_first_sync_ms
                         : REPLICATOR_FIRST_SYNC_MS;
    if (s->repl.state == DBS_CHILD_UP && up_ms < first) {
      dbs_log_info("app is gone; the replicator started %.2f s ago: giving "
                   "it until %.1f s for its first sync before stopping it",
                   up_ms / 1000.0, first / 1000.0);
      s->repl_warmup = true;
      uv_timer_start(&s->cleanup_timer, repl_warmup_cb, first - up_ms, 0);
    } else if (s->repl.state != DBS_CHILD_DOWN) {
      dbs_log_info("app is gone: stopping the replicator");
      child_event(&s->repl, DBS_EV_STOP);
    }
  }
  if (s->repl_warmup)
    return;
  if (s->phase == PH_STOP_REPL && s->repl.state == DBS_CHILD_DOWN) {
    if (s->opts->replicate != NULL)
      dbs_log_info("replicator stopped after %.2f s", secs_since(s->phase_ns));
    s->phase = PH_CLEANUP_TERM;
    s->phase_ns = uv_hrtime();
    /* The app and the replicator are gone: what is left is cleaned up
     * below, and the guardian must not count as left. */
    dbs_proc_guard_stop();
    reap(s);
    if (!s->no_children) {
      int n = signal_descendants(SIGTERM);
      if (n >= 0)
        dbs_log_info("sent SIGTERM to %d remaining process(es); SIGKILL in "
                     "%.1f s",
                     n, CLEANUP_GRACE_MS / 1000.0);
      else
        dbs_log_info("sent SIGTERM to all remaining processes; SIGKILL in "
                     "%.1f s",
                     CLEANUP_GRACE_MS / 1000.0);
      uv_timer_start(&s->cleanup_timer, cleanup_timer_cb, CLEANUP_GRACE_MS, 0);
    }
  }
  if ((s->phase == PH_CLEANUP_TERM || s->phase == PH_CLEANUP_KILL) &&
      s->no_children) {
    if (uv_is_active((uv_handle_t*)&s->cleanup_timer))
      dbs_log_info("remaining processes gone after %.2f s",
                   secs_since(s->phase_ns));
    uv_timer_stop(&s->cleanup_timer);
    s->phase = PH_DONE;
  }
  if (s->phase == PH_DONE) {
    /* From here on a signal must not kill us before we return. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    s->phase = PH_CLOSED;
    close_all(s);
  }
}

/* ---- Signals ---------------------------------------------------------- */

static void on_signal(uv_signal_t* h, int sig) {
  struct sup* s = h->data;
  char name[16];

  if (sig == SIGCHLD) {
    reap(s);
    advance(s);
    return;
  }
  dbs_proc_signal_name(sig, name);
  if (sig == SIGTERM || sig == SIGINT) {
    s->nstop++;
    if (first_stop_sig == 0)
      first_stop_sig = sig;
    if (s->app.state == DBS_CHILD_UP) {
      s->app.stop_sig = sig;
      dbs_log_info("received %s: stopping the app", name);
      child_event(&s->app, DBS_EV_STOP);
    } else if (s->app.state == DBS_CHILD_STOPPING) {
      dbs_log_info("received %s again: killing the app now", name);
      child_event(&s->app, DBS_EV_STOP);
    } else if (s->nstop >= 2 && s->repl.state == DBS_CHILD_STOPPING) {
      dbs_log_info("received %s again: killing the replicator now", name);
      child_event(&s->repl, DBS_EV_STOP);
    } else {
      dbs_log_info("received %s while shutting down: ignored", name);
    }
    advance(s);
    return;
  }
  if (s->app.state == DBS_CHILD_DOWN || s->app.pid == 0) {
    dbs_log_info("received %s with no app running: ignored", name);
    return;
  }
  bool group = !s->opts->signal_child_only;
  dbs_log_info("forwarding %s to the app (%s %d)", name,
               group ? "process group" : "pid", (int)s->app.pid);
  kill(group ? -s->app.pid : s->app.pid, sig);
}

/* Signals dbsetup must not catch: faults, and those it keeps ignored. */
static bool sig_handled(int sig) {
  switch (sig) {
  case SIGKILL:
  case SIGSTOP:
  case SIGSEGV:
  case SIGBUS:
  case SIGFPE:
  case SIGILL:
  case SIGTRAP:
  case SIGSYS:
  case SIGABRT:
  case SIGPIPE: /* our own writes to a closed stderr; stays ignored */
  case SIGTTIN:
  case SIGTTOU: /* our own terminal I/O; stay ignored */
    return false;
  default:
    return sig < 32 || (sig >= SIGRTMIN && sig <= SIGRTMAX);
  }
}

/* ---- Entry points ----------------------------------------------------- */

int dbs_supervise_init(void) {
  int rc = dbs_proc_init();
  if (rc != 0)
    return rc;
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    return -errno;
  return 0;
}

static void child_init(struct sup* s, struct child* c, const char* name,
                       bool restart, unsigned stop_timeout_ms) {
  memset(c, 0, sizeof(*c));
  c->name = name;
  c->restart = restart;
  c->state = DBS_CHILD_DOWN;
  c->stop_sig = SIGTERM;
  c->stop_timeout_ms = stop_timeout_ms;
  c->sup = s;
  dbs_supervise_backoff_init(&c->backoff);
  uv_timer_init(&s->loop, &c->timer);
  c->timer.data = c;
}

int dbs_supervise_run(const struct dbs_supervise_opts* opts) {
  struct sup* s;
  int rc, early = dbs_proc_stop_signal();

  if (early != 0) {
    char name[16];
    dbs_log_info("%s arrived during setup: not starting the app",
                 dbs_proc_signal_name(early, name));
    return DBS_EXIT_SIGNAL_BASE + early;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return DBS_EXIT_SOFTWARE;
  s->opts = opts;
  s->exit_code = -1;
  if ((rc = uv_loop_init(&s->loop)) != 0) {
    dbs_log_errorx("cannot start the event loop: %s", uv_strerror(rc));
    free(s);
    return DBS_EXIT_SOFTWARE;
  }
  child_init(s, &s->app, "app", false, opts->stop_timeout_ms);
  child_init(s, &s->repl, "replicator", true, opts->replicator_stop_timeout_ms);
  uv_timer_init(&s->loop, &s->cleanup_timer);
  s->cleanup_timer.data = s;
  uv_timer_init(&s->loop, &s->out_timer);
  uv_check_init(&s->loop, &s->out_check);
  s->out_check.data = s;
  uv_check_start(&s->out_check, out_check_cb);

  for (int sig = 1; sig < _NSIG; sig++) {
    if (!sig_handled(sig))
      continue;
    uv_signal_init(&s->loop, &s->sigs[sig]);
    s->sigs[sig].data = s;
    s->sig_on[sig] = true;
    if ((rc = uv_signal_start(&s->sigs[sig], on_signal, sig)) != 0)
      dbs_log_warnx("cannot handle signal %d: %s", sig, uv_strerror(rc));
  }

  if ((rc = dbs_proc_guard_start()) != 0)
    dbs_log_warnx("cannot start the guardian: %s; the children's process "
                  "groups would outlive a SIGKILL of dbsetup",
                  strerror(-rc));
  uint64_t t0 = uv_hrtime();
  if (opts->replicate != NULL)
    child_event(&s->repl, DBS_EV_START);
  child_event(&s->app, DBS_EV_START);
  reap(s); /* anything that exited before the loop runs */
  advance(s);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  dbs_proc_guard_stop(); /* done on the way already; this is a no-op */

  if ((rc = uv_loop_close(&s->loop)) != 0)
    dbs_log_warnx("event loop still busy at exit: %s", uv_strerror(rc));
  int code = s->exit_code >= 0 ? s->exit_code : DBS_EXIT_SOFTWARE;
  char why[128] = "", name[16];
  if (s->nstop > 0 && code > DBS_EXIT_SIGNAL_BASE && code < 128 + NSIG)
    snprintf(why, sizeof(why),
             " = 128+%s: the app ended on the stop, as "
             "expected",
             dbs_proc_signal_name(code - DBS_EXIT_SIGNAL_BASE, name));
  dbs_log_info("exiting with status %d%s (supervised for %.2f s)", code, why,
               secs_since(t0));
  free(s);
  return code;
}
