/*
 * Starting children: fork/exec with the signal mask and dispositions
 * dbsetup was started with, no inherited fds beyond 0-2, optional new
 * process group, credentials and parent-death signal, and exec failures
 * reported through a close-on-exec pipe. dbsetup never uses uv_spawn, so
 * it is the only reaper in the process.
 */
#ifndef DBS_PROC_H
#define DBS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "privdrop.h"

struct dbs_proc_opts {
  char *const *argv;          /* argv[0] looked up in PATH (execvp) */
  char *const *envp;          /* NULL: inherit environ */
  bool stdin_null;            /* /dev/null on fd 0 */
  int stdout_fd;              /* -1: inherit; else dup'd onto 1 */
  int stderr_fd;              /* -1: inherit; else dup'd onto 2 */
  bool new_pgroup;            /* setpgid(0, 0) */
  bool foreground;            /* with new_pgroup: tcsetpgrp when fd 0 is a TTY */
  const struct dbs_creds *creds; /* NULL: keep ours */
};

/*
 * Starts a child. Returns 0 with *pid set once the exec succeeded, or
 * -errno of the failed exec/setup (the child is already reaped), e.g.
 * -ENOENT (exit 127) or -EACCES (exit 126).
 */
int dbs_proc_spawn(const struct dbs_proc_opts *opts, pid_t *pid);

/*
 * Runs "/bin/sh -c cmd" to completion in the foreground (setup phases:
 * migrate, seed), with dir_prepend_path (e.g. ./node_modules/.bin,
 * absolute) prepended to PATH when not NULL, and creds. Signals that
 * arrive meanwhile (TERM/INT) are forwarded to it. Returns the wait
 * status through *status and 0, or -errno when it could not start.
 */
int dbs_proc_run_shell(const char *cmd, const char *dir_prepend_path,
                       const struct dbs_creds *creds, int *status);

/* Maps a wait status to an exit code: the code, or 128+signal. */
int dbs_proc_exit_code(int status);

#endif
