/*
 * Supervision: run the replicator and the app as PID 1 or as a child
 * subreaper, forward signals, reap every zombie, stop the app first and
 * the replicator last, and return the app's exit status.
 */
#ifndef DBS_SUPERVISE_H
#define DBS_SUPERVISE_H

#include <stdbool.h>

#include "privdrop.h"

struct dbs_supervise_opts {
  char **app_argv;                    /* run with execvp, no shell */
  const char *replicate;              /* /bin/sh -c string, or NULL */
  unsigned stop_timeout_ms;
  unsigned replicator_stop_timeout_ms;
  bool signal_child_only;
  const struct dbs_creds *creds;      /* NULL: run as ourselves */
};

/*
 * Must be called first thing in main, before any other thread or signal
 * handler exists: records the signal mask and dispositions dbsetup was
 * started with (children get exactly these back), and becomes a child
 * subreaper when not PID 1. Returns 0 or -errno.
 */
int dbs_supervise_init(void);

/*
 * Runs the replicator (if any) and the app until the app has exited and
 * the replicator has been stopped. Returns the status dbsetup should exit
 * with: the app's exit code, 128+N for a signal, 126/127 when it could not
 * be executed, 70 on an internal error.
 */
int dbs_supervise_run(const struct dbs_supervise_opts *opts);

#endif
