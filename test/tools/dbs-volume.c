/*
 * Drives lib/volume.c from scripts, with the exit statuses dbsetup uses:
 *   dbs-volume setup VOLUME APP_PATH [--hold]
 *     prepare, link, lock, look at the DB (removing stale -wal/-shm/-journal
 *     when it is missing); prints "target=T state=missing|exists"; --hold
 *     then prints "holding" and waits for a signal with the lock held.
 *   dbs-volume chown VOLUME TARGET UID GID
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "volume.h"

static int setup(const char* volume, const char* app, int hold) {
  char err[1024];
  pid_t holder;
  char* target = dbs_volume_prepare(volume, app, err, sizeof(err));
  if (target == NULL) {
    int e = errno;
    dbs_log_errorx("%s", err);
    return e == EINVAL   ? DBS_EXIT_USAGE
           : e == ENOMEM ? DBS_EXIT_SOFTWARE
                         : DBS_EXIT_CANTCREAT;
  }
  int rc = dbs_volume_link(app, target, err, sizeof(err));
  if (rc < 0) {
    dbs_log_errorx("%s", err);
    free(target);
    return rc == -ENOMEM ? DBS_EXIT_SOFTWARE : DBS_EXIT_CANTCREAT;
  }
  rc = dbs_volume_lock(volume, &holder, err, sizeof(err));
  if (rc < 0) {
    dbs_log_errorx("%s", err);
    free(target);
    return rc == -EWOULDBLOCK ? DBS_EXIT_TEMPFAIL : DBS_EXIT_CANTCREAT;
  }
  int state = dbs_volume_db_state(target, err, sizeof(err));
  if (state < 0) {
    dbs_log_errorx("%s", err);
    free(target);
    return (state == -EILSEQ || state == -EISDIR || state == -EINVAL)
               ? DBS_EXIT_DATAERR
               : DBS_EXIT_CANTCREAT;
  }
  if (state == DBS_DB_MISSING && (rc = dbs_volume_remove_stale(target)) < 0) {
    free(target);
    return DBS_EXIT_CANTCREAT;
  }
  printf("target=%s state=%s\n", target,
         state == DBS_DB_EXISTS ? "exists" : "missing");
  free(target);
  if (hold) {
    printf("holding\n");
    fflush(stdout);
    for (;;)
      pause();
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "setup") == 0)
    return setup(argv[2], argv[3], argc > 4 && strcmp(argv[4], "--hold") == 0);
  if (argc == 6 && strcmp(argv[1], "chown") == 0) {
    char err[1024];
    int rc = dbs_volume_chown(argv[2], argv[3], (uid_t)atol(argv[4]),
                              (gid_t)atol(argv[5]), err, sizeof(err));
    if (rc < 0) {
      dbs_log_errorx("%s", err);
      return DBS_EXIT_CANTCREAT;
    }
    return 0;
  }
  fprintf(stderr, "usage: dbs-volume setup VOLUME APP_PATH [--hold]\n"
                  "       dbs-volume chown VOLUME TARGET UID GID\n");
  return DBS_EXIT_USAGE;
}
