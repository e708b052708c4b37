/*
 * discover-probe: runs dbsetup's discovery with dbsetup's own options and
 * prints what it found, one "key=value" line each. For debugging:
 *   discover-probe [--db P] [--schema P] [--volume D] [--seed C] [...]
 * Exits 0, or 78 with the error message when discovery refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "discover.h"
#include "exitcode.h"

static void line(const char* key, const char* val) {
  printf("%s=%s\n", key, val != NULL ? val : "");
}

int main(int argc, char** argv) {
  struct dbs_config cfg;
  struct dbs_discovery d;
  char err[1024];
  /* dbs_config_parse wants an app command: append "true". */
  char** args = calloc((size_t)argc + 2, sizeof(*args));
  if (args == NULL)
    return DBS_EXIT_SOFTWARE;
  for (int i = 0; i < argc; i++)
    args[i] = argv[i];
  args[argc] = (char*)"true";
  if (dbs_config_parse(&cfg, argc + 1, args) != DBS_CONFIG_RUN) {
    free(args);
    return DBS_EXIT_USAGE;
  }
  int rc = dbs_discover(&cfg, NULL, &d, err, sizeof(err));
  free(args);
  if (rc < 0) {
    fprintf(stderr, "discover-probe: error: %s\n", err);
    return DBS_EXIT_CONFIG;
  }
  line("source", dbs_discover_source_name(d.source));
  line("db_path", d.db_path);
  line("schema_path", d.schema_path);
  line("provider", d.provider);
  line("datasource", d.datasource);
  line("url_env", d.url_env);
  line("migrations_dir", d.migrations_dir);
  line("seed", d.seed);
  line("prisma_config", d.prisma_config);
  line("set_env_name", d.set_env_name);
  line("set_env_value", d.set_env_value);
  dbs_discover_free(&d);
  return 0;
}
