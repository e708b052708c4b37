/*
 * dbsetup: the ENTRYPOINT of a container running an SQLite app. It sets up
 * the database (discover, lock the volume, link onto it, restore from the
 * Litestream backup, migrate, seed once), then supervises the replicator
 * and the app. Wiring only: each phase lives in lib/ (lib/README.md).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "config.h"
#include "doctor.h"
#include "exitcode.h"
#include "litefs.h"
#include "log.h"
#include "migrate_cli.h"
#include "privdrop.h"
#include "restore_cli.h"
#include "supervise.h"

/* Subcommands for humans; anything else is an app command. */
static int run_subcommand(int argc, char** argv, int* status) {
  if (argc < 2)
    return 0;
  if (strcmp(argv[1], "restore") == 0)
    *status = dbs_restore_cli_main(argc - 1, argv + 1);
  else if (strcmp(argv[1], "generations") == 0)
    *status = dbs_restore_cli_generations(argc - 1, argv + 1);
  else if (strcmp(argv[1], "migrate") == 0)
    *status = dbs_migrate_cli_main(argc - 1, argv + 1);
  else if (strcmp(argv[1], "doctor") == 0)
    *status = dbs_doctor_main(argc - 1, argv + 1);
  else
    return 0;
  return 1;
}

int main(int argc, char** argv) {
  struct dbs_config cfg;
  struct dbs_boot boot;
  int status;

  /* Before anything is opened: a closed stderr must not become the
   * first file we open (a restore's output, the volume lock). */
  if (dbs_privdrop_open_std_fds() != 0)
    return DBS_EXIT_SOFTWARE; /* nowhere to say it */
  /* Installed setuid, every subcommand and option would run as the file's
   * owner for whoever calls it: refuse before looking at any of them. */
  if (dbs_privdrop_check_not_setuid() != 0) {
    dbs_privdrop_log_setuid();
    _exit(DBS_EXIT_NOPERM); /* not even the libraries' exit handlers */
  }
  if (run_subcommand(argc, argv, &status))
    return status;

  switch (dbs_config_parse(&cfg, argc, argv)) {
  case DBS_CONFIG_RUN:
    break;
  case DBS_CONFIG_HELP:
    dbs_config_usage(stdout);
    return 0;
  case DBS_CONFIG_VERSION:
    printf("dbsetup %s\n", DBSETUP_VERSION);
    return 0;
  default:
    return DBS_EXIT_USAGE;
  }

  /* ENTRYPOINT ["dbsetup", "--"] with fly.toml's "dbsetup npm run start":
   * the inner dbsetup is the one meant; become it (same pid, signal state
   * untouched) instead of fighting it for the volume lock. */
  const char* cmd = strrchr(cfg.argv[0], '/');
  if (strcmp(cmd != NULL ? cmd + 1 : cfg.argv[0], "dbsetup") == 0) {
    dbs_log_info("the command is dbsetup itself: running it in place of "
                 "this one (options given before it are ignored)");
    execvp(cfg.argv[0], cfg.argv);
    dbs_fatal(DBS_EXIT_NOTFOUND, "cannot run %s", cfg.argv[0]);
  }
  /* Before any child or handler exists: record the signal state children
   * get back, and become a subreaper when not PID 1. */
  if (dbs_supervise_init() != 0)
    dbs_fatal(DBS_EXIT_SOFTWARE, "cannot initialise supervision");
  /* LiteFS's exec command: litefs forwards a terminal's SIGINT itself, so
   * leave its process group (else the app would get a second SIGINT, an
   * escalation to SIGKILL), and end as its exit contract wants. */
  bool under_litefs = dbs_litefs_parent_is_litefs();
  if (under_litefs && setpgid(0, 0) != 0)
    dbs_log_warn("cannot leave litefs's process group");

  dbs_boot_init(&boot, &cfg);
  if ((status = dbs_boot_user(&boot)) != 0 ||
      (status = dbs_boot_discover(&boot)) != 0)
    goto out;
  if (dbs_boot_has_db(&boot) && ((status = dbs_boot_lock(&boot)) != 0 ||
                                 (status = dbs_boot_link(&boot)) != 0 ||
                                 (status = dbs_boot_restore(&boot)) != 0 ||
                                 (status = dbs_boot_migrate(&boot)) != 0 ||
                                 (status = dbs_boot_seed(&boot)) != 0))
    goto out;
  status = dbs_boot_supervise(&boot);
out:
  dbs_boot_free(&boot);
  if (under_litefs)
    dbs_litefs_exit_on_stop(dbs_supervise_stop_signal(), status);
  return status;
}
