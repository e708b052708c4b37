/* Placeholder until the supervisor lands: runs the app and waits. */
#include "supervise.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"

int dbs_supervise_init(void) { return 0; }

int dbs_supervise_run(const struct dbs_supervise_opts *opts) {
  pid_t pid = fork();
  if (pid < 0)
    return DBS_EXIT_SOFTWARE;
  if (pid == 0) {
    execvp(opts->app_argv[0], opts->app_argv);
    _exit(errno == ENOENT ? DBS_EXIT_NOTFOUND : DBS_EXIT_NOEXEC);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
