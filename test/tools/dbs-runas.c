/*
 * Runs a command as --user would, with dbsetup's exit statuses:
 *   dbs-runas USER[:GROUP] CMD [ARG...]
 * refuses setuid (77), resolves (64), checks we may switch (77), drops
 * privileges, sets HOME, USER and LOGNAME, and execs CMD (126/127).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "privdrop.h"

int main(int argc, char** argv) {
  struct dbs_creds c;
  if (argc < 3) {
    fprintf(stderr, "usage: dbs-runas USER[:GROUP] CMD [ARG...]\n");
    return DBS_EXIT_USAGE;
  }
  if (dbs_privdrop_check_not_setuid() < 0) {
    dbs_log_errorx("refusing to run setuid or setgid");
    return DBS_EXIT_NOPERM;
  }
  int rc = dbs_privdrop_resolve(argv[1], &c);
  if (rc < 0)
    return rc == -ENOMEM ? DBS_EXIT_SOFTWARE : DBS_EXIT_USAGE;
  if (dbs_privdrop_check(&c) < 0) {
    dbs_privdrop_free(&c);
    return DBS_EXIT_NOPERM;
  }
  if ((rc = dbs_privdrop_apply(&c)) < 0) {
    dbs_log_errorx("cannot switch to %s: %s", c.name, strerror(-rc));
    dbs_privdrop_free(&c);
    return DBS_EXIT_NOPERM;
  }
  setenv("HOME", c.home, 1);
  setenv("USER", c.name, 1);
  setenv("LOGNAME", c.name, 1);
  dbs_privdrop_free(&c);
  execvp(argv[2], argv + 2);
  rc = errno;
  dbs_log_errorx("cannot run %s: %s", argv[2], strerror(rc));
  return rc == ENOENT ? DBS_EXIT_NOTFOUND : DBS_EXIT_NOEXEC;
}
