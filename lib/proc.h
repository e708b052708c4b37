/*
 * Starting children: fork/exec with the signal mask and dispositions
 * dbsetup was started with, no inherited fds beyond 0-2, optional new
 * process group, credentials and parent-death signal, and exec failures
 * reported through a close-on-exec pipe. dbsetup never uses uv_spawn, so
 * it is the only reaper in the process: nothing else may call wait*()
 * for children started here (a blind waitpid(-1) elsewhere would steal
 * their exit statuses).
 */
#ifndef DBS_PROC_H
#define DBS_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "privdrop.h"

/* Which process group the guardian holds for a child (see below). */
enum dbs_proc_guard_slot {
  DBS_GUARD_NONE = 0,
  DBS_GUARD_APP,
  DBS_GUARD_REPLICATOR,
  DBS_GUARD_NSLOTS
};

struct dbs_proc_opts {
  char* const* argv;              /* argv[0] looked up in PATH (execvp) */
  const char* file;               /* not NULL: exec this file instead of
                                     looking argv[0] up */
  char* const* envp;              /* NULL: inherit environ */
  bool stdin_null;                /* /dev/null on fd 0 */
  int stdout_fd;                  /* -1: inherit; else dup'd onto 1 */
  int stderr_fd;                  /* -1: inherit; else dup'd onto 2 */
  bool new_pgroup;                /* setpgid(0, 0) */
  bool foreground;                /* with new_pgroup: tcsetpgrp when fd 0 is a
                                     TTY whose foreground group is ours */
  const struct dbs_creds* creds;  /* NULL: keep ours */
  enum dbs_proc_guard_slot guard; /* with new_pgroup and a running
                                     guardian: its group is killed if
                                     dbsetup dies (the slot's previous
                                     group is forgotten) */
};

/*
 * Records the signal mask and dispositions the process was started with
 * (children get exactly these back), then makes dbsetup itself able to
 * supervise: every signal unblocked, SIGCHLD at its default (so children
 * can be waited for), SIGPIPE, SIGTTIN and SIGTTOU ignored (dbsetup is
 * never stopped by terminal I/O or killed by a closed stderr), and fds
 * 0-2 opened on /dev/null when they were closed. Must run before any
 * other thread or signal handler exists. Calling it again is a no-op.
 * Returns 0 or -errno.
 */
int dbs_proc_init(void);

/*
 * Starts a child. Returns 0 with *pid set once the exec succeeded, or
 * -errno of the failed exec or of a step before it (the child is already
 * reaped, and the failure is logged naming the command and the step),
 * e.g. -ENOENT (exit 127) or -EACCES (exit 126). The child gets SIGKILL
 * when dbsetup dies (PR_SET_PDEATHSIG, set after the credentials change
 * and checked against a parent that already died).
 */
int dbs_proc_spawn(const struct dbs_proc_opts* opts, pid_t* pid);

/*
 * The guardian. PR_SET_PDEATHSIG reaches only dbsetup's direct children:
 * when dbsetup is SIGKILLed (the OOM killer, a runtime's kill) as a
 * subreaper, not PID 1, what the app and the replicator started (a shell's
 * children, node's workers) is reparented and lives on, holding the
 * database and the volume. The children cannot know that dbsetup died; the
 * kernel kills everything only when PID 1 of a namespace dies. So
 * dbs_proc_guard_start forks a tiny process, in a process group of its own
 * (a kill of dbsetup's job does not take it along), that holds the read end
 * of a pipe whose only writer is dbsetup, and knows the children's process
 * groups (one per slot, sent through the pipe). When the pipe reads EOF
 * dbsetup is gone: it SIGKILLs those groups and exits. Starting it again
 * is a no-op; returns 0 or -errno.
 *
 * dbs_proc_guard_set records pgid for slot (0 forgets it).
 * dbs_proc_guard_reaped tells whether pid was the guardian (for a reaper):
 * when it died unexpectedly it is started again, with the same groups.
 * dbs_proc_guard_stop makes it forget every group and exit, and reaps it
 * (within a second; else it is killed).
 */
int dbs_proc_guard_start(void);
void dbs_proc_guard_set(enum dbs_proc_guard_slot slot, pid_t pgid);
bool dbs_proc_guard_reaped(pid_t pid);
void dbs_proc_guard_stop(void);

/*
 * Runs "/bin/sh -c cmd" to completion in the foreground (setup phases:
 * migrate, seed), in its own process group (the terminal's foreground
 * group while it runs when stdin is a TTY), with dir_prepend_path (e.g.
 * ./node_modules/.bin, absolute) prepended to PATH when not NULL, and
 * creds. TERM, INT, HUP and QUIT that arrive meanwhile are forwarded to
 * its process group; a second TERM or INT sends SIGKILL, and so does the
 * stop timeout (dbs_proc_set_stop_timeout) running out after the first.
 * Orphans that exit meanwhile are reaped. Returns the wait status through
 * *status and 0, or -errno when it could not start (logged). A stop signal
 * received is remembered: see dbs_proc_stop_signal(). It waits with
 * waitpid(-1): the caller must have no other child of its own running.
 */
int dbs_proc_run_shell(const char* cmd, const char* dir_prepend_path,
                       const struct dbs_creds* creds, int* status);

/*
 * As dbs_proc_run_shell, for a command that is not a shell string: argv
 * (argv[0] looked up in dir_prepend_path, then PATH; the child's PATH has
 * dir_prepend_path first) run with execve. cmd names it in the log. A
 * command that cannot start (not found, not executable) returns 0 with the
 * status a shell gives it: exit 127 or 126 (logged).
 */
int dbs_proc_run_argv(char* const argv[], const char* cmd,
                      const char* dir_prepend_path,
                      const struct dbs_creds* creds, int* status);

/*
 * A foreground wait for a child of dbsetup's own (how dbs_proc_run_shell
 * waits; boot's forked restore and migration children too):
 * dbs_proc_hold_signals blocks TERM, INT, HUP, QUIT and CHLD (call it
 * before the child starts; *old is the mask to give back), then
 * dbs_proc_wait_forwarding waits for pid, forwarding those signals to it
 * (to its process group if group), a second TERM or INT sending SIGKILL,
 * and reaping orphans meanwhile; the child's wait status goes to *status.
 * A stop signal is remembered (dbs_proc_stop_signal); when the child still
 * runs the stop timeout (dbs_proc_set_stop_timeout) after the first one, it
 * gets SIGKILL. what names the child in the log. Returns 1 when the wait
 * sent SIGKILL (deadline or second stop signal), else 0.
 * dbs_proc_release_signals consumes what arrived since and restores *old.
 */
void dbs_proc_hold_signals(sigset_t* old);
int dbs_proc_wait_forwarding(pid_t pid, bool group, const char* what,
                             int* status);
void dbs_proc_release_signals(const sigset_t* old);

/*
 * Sets how long a foreground child (dbs_proc_run_shell, and the waits of
 * dbs_proc_wait_forwarding) may go on after the first stop signal before
 * it gets SIGKILL: --stop-timeout. 0 (the default) waits for it to end.
 */
void dbs_proc_set_stop_timeout(unsigned ms);

/*
 * Returns the first stop signal (SIGTERM or SIGINT) a foreground wait
 * received, or 0. dbs_supervise_run does not start the app after one.
 */
int dbs_proc_stop_signal(void);

/*
 * Writes a signal's name ("SIGTERM", "SIGRTMIN+3") into buf (size >= 16)
 * and returns buf.
 */
char* dbs_proc_signal_name(int sig, char* buf);

/* Maps a wait status to an exit code: the code, or 128+signal. */
int dbs_proc_exit_code(int status);

/*
 * Maps a dbs_proc_spawn failure (-errno) to dbsetup's exit status: 127
 * when the command was not found (ENOENT), 126 otherwise.
 */
int dbs_proc_spawn_exit_code(int err);

#endif
