/* dbsetup: set up an app's SQLite database, then supervise the app. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "restore_cli.h"
#include "supervise.h"

int main(int argc, char **argv) {
  struct dbs_config cfg;

  /* Subcommands (the lead reconciles this dispatch). */
  if (argc > 1 && strcmp(argv[1], "restore") == 0)
    return dbs_restore_cli_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "generations") == 0)
    return dbs_restore_cli_generations(argc - 1, argv + 1);

  if (dbs_supervise_init() != 0)
    dbs_fatal(DBS_EXIT_SOFTWARE, "cannot initialise supervision");

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

  /* Database setup phases (discover, link, lock, restore, migrate, seed)
   * come here. */

  struct dbs_supervise_opts sup = {
      .app_argv = cfg.argv,
      .replicate = cfg.replicate,
      .stop_timeout_ms = cfg.stop_timeout_ms,
      .replicator_stop_timeout_ms = cfg.replicator_stop_timeout_ms,
      .signal_child_only = cfg.signal_child_only,
      .creds = NULL,
  };
  return dbs_supervise_run(&sup);
}
