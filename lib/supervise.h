/*
 * Supervision: run the replicator and the app as PID 1 or as a child
 * subreaper, forward signals, reap every zombie, stop the app first and
 * the replicator last, and return the app's exit status.
 *
 * Reaping: children are started with dbs_proc_spawn (fork/exec), never
 * uv_spawn, so libuv never calls waitpid. The SIGCHLD callback is the
 * only waiter in the process: it calls waitpid(-1, WNOHANG) until nothing
 * is left and dispatches each status by pid (app, replicator, or an
 * adopted orphan). No status can be stolen because nobody else waits.
 */
#ifndef DBS_SUPERVISE_H
#define DBS_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>

#include "privdrop.h"

struct dbs_supervise_opts {
  char** app_argv;       /* run with execvp, no shell */
  const char* replicate; /* /bin/sh -c string, or NULL */
  unsigned stop_timeout_ms;
  unsigned replicator_stop_timeout_ms;
  /* How long after its start the replicator has done its first sync (0:
   * 2 s): one stopped sooner first gets the rest of this time. */
  unsigned replicator_first_sync_ms;
  bool signal_child_only;
  const struct dbs_creds* creds; /* NULL: run as ourselves */
};

/*
 * Must be called first thing in main, before any other thread or signal
 * handler exists: records the signal mask and dispositions dbsetup was
 * started with (children get exactly these back, see dbs_proc_init), and
 * becomes a child subreaper when not PID 1. Returns 0 or -errno.
 */
int dbs_supervise_init(void);

/*
 * Runs the replicator (if any) and the app until the app has exited and
 * the replicator has been stopped, then stops every remaining descendant
 * (SIGTERM, a short grace, SIGKILL). Returns the status dbsetup should
 * exit with: the app's exit code, 128+N for a signal, 126/127 when it
 * could not be executed, 70 on an internal error. When a stop signal
 * already arrived during a setup command (dbs_proc_stop_signal), nothing
 * is started and 128+N is returned. Returns with every signal blocked,
 * so that none can end dbsetup before it exits with that status.
 */
int dbs_supervise_run(const struct dbs_supervise_opts* opts);

/*
 * The first stop signal (SIGTERM or SIGINT) that reached dbsetup, during
 * supervision or during a setup command (dbs_proc_stop_signal), or 0.
 */
int dbs_supervise_stop_signal(void);

/* Replicator restarts: 1 s doubling to 60 s, reset after 60 s of uptime. */
#define DBS_BACKOFF_MIN_MS 1000u
#define DBS_BACKOFF_MAX_MS 60000u
#define DBS_BACKOFF_RESET_MS 60000u

struct dbs_backoff {
  unsigned next_ms; /* the delay the next restart gets */
};

/* Starts a backoff at its minimum. */
void dbs_supervise_backoff_init(struct dbs_backoff* b);

/*
 * Returns the delay before restarting a child that exited after running
 * uptime_ms, and advances b.
 */
unsigned dbs_supervise_backoff_next(struct dbs_backoff* b, uint64_t uptime_ms);

/* The child lifecycle, as s6-supervise's actions[state][event]. */
enum dbs_child_state {
  DBS_CHILD_DOWN,     /* not started, or exited and not to be restarted */
  DBS_CHILD_UP,       /* running */
  DBS_CHILD_BACKOFF,  /* exited; restart timer armed */
  DBS_CHILD_STOPPING, /* stop signal sent; SIGKILL timer armed */
  DBS_CHILD_KILLED,   /* SIGKILL sent to its process group */
  DBS_CHILD_DRAINING, /* stopping, its leader has exited, the rest of its
                         process group has not (the replicator's shell
                         died, litestream behind it is still syncing) */
  DBS_CHILD_NSTATES
};

enum dbs_child_event {
  DBS_EV_START, /* supervision begins */
  DBS_EV_EXIT,  /* reaped */
  DBS_EV_STOP,  /* a stop was requested (again) */
  DBS_EV_TIMER, /* its timer fired */
  DBS_EV_EMPTY, /* its process group has no member left */
  DBS_EV_NEVENTS
};

enum dbs_child_action {
  DBS_ACT_NONE,
  DBS_ACT_SPAWN,   /* start it */
  DBS_ACT_EXITED,  /* record its exit status */
  DBS_ACT_RETRY,   /* record its exit status, arm the restart timer */
  DBS_ACT_SIGNAL,  /* send the stop signal, arm the SIGKILL timer */
  DBS_ACT_KILL,    /* SIGKILL its process group */
  DBS_ACT_CANCEL,  /* disarm the restart timer */
  DBS_ACT_DRAINED, /* its process group is gone: disarm the timer */
};

/*
 * The transition table. restart selects the row set of a child that is
 * restarted when it exits by itself (the replicator) rather than one
 * whose exit ends supervision (the app). Returns the next state and sets
 * *action to what must be done on the way.
 */
enum dbs_child_state dbs_supervise_transition(enum dbs_child_state state,
                                              enum dbs_child_event event,
                                              bool restart,
                                              enum dbs_child_action* action);

#endif
