/* The main command line and its environment variables, as one struct. */
#ifndef DBS_CONFIG_H
#define DBS_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "restore_verify.h"

enum dbs_migrate_failure {
  DBS_MIGRATE_FAILURE_EXIT,
  DBS_MIGRATE_FAILURE_CONTINUE
};

/* The volume when neither --volume nor DBSETUP_VOLUME names one. */
#define DBS_CONFIG_DEFAULT_VOLUME "/data"

/* --parallelism: 1 to this many downloads at once (each holds up to one
 * 4 MiB LZ4 block, so 64 bounds a restore near 330 MB). */
#define DBS_CONFIG_PARALLELISM_MAX 64

/* A timeout left to dbsetup to choose (see the field). */
#define DBS_CONFIG_TIMEOUT_AUTO 0xffffffffu

/*
 * Every string points into argv or environ, or at a static default; the
 * struct owns nothing.
 */
struct dbs_config {
  /* Supervision. */
  char** argv;                         /* the app command, NULL-terminated */
  const char* replicate;               /* --replicate: shell string, or NULL */
  unsigned stop_timeout_ms;            /* --stop-timeout (7 s) */
  unsigned replicator_stop_timeout_ms; /* --replicator-stop-timeout, or
                                        * DBS_CONFIG_TIMEOUT_AUTO: litestream
                                        * 0.3 5 s, 0.5 its
                                        * shutdown-sync-timeout + 2 s,
                                        * --replicate 2 s */
  bool signal_child_only;              /* --signal-child-only */
  /* Database setup. */
  const char* db;                /* --db */
  const char* volume;            /* --volume (/data) */
  const char* schema;            /* --schema */
  const char* litestream_config; /* --litestream-config / LITESTREAM_CONFIG */
  bool no_expand_env;            /* --no-expand-env */
  const char* litestream;        /* --litestream */
  const char* migrate;           /* --migrate: shell string */
  enum dbs_migrate_failure migrate_failure; /* --migrate-failure */
  const char* seed;                         /* --seed: shell string */
  bool no_restore;                          /* --no-restore */
  bool no_replicate;                        /* --no-replicate */
  const char* user;                         /* --user USER[:GROUP] */
  /* Native restore. */
  const char* replica;         /* --replica NAME */
  unsigned parallelism;        /* --parallelism (8) */
  unsigned restore_timeout_ms; /* --restore-timeout (120 s) */
  enum dbs_verify verify;      /* --verify (quick) */
  /* Native Prisma migrations. */
  const char* prisma_migrations; /* --prisma-migrations DIR */
  const char* prisma_config;     /* --prisma-config PATH */
  /* LiteFS. */
  unsigned litefs_replica_wait_ms; /* --litefs-replica-wait (300 s) */
};

/* What dbs_config_parse asks the caller to do. */
enum dbs_config_action {
  DBS_CONFIG_RUN = 0, /* run the command in cfg->argv */
  DBS_CONFIG_HELP,    /* print dbs_config_usage() to stdout, exit 0 */
  DBS_CONFIG_VERSION, /* print the version, exit 0 */
};

/*
 * Fills cfg from the environment, then from argv (the flag wins). Option
 * parsing stops at "--" or at the first non-option; the rest is the app
 * command. Returns an enum dbs_config_action, or -EINVAL after logging a
 * usage error that names the option and the fix (exit DBS_EXIT_USAGE).
 * Also sets the log level from -v/-q/DBSETUP_LOG_LEVEL.
 */
int dbs_config_parse(struct dbs_config* cfg, int argc, char** argv);

/* Prints the options with their variables and the exit-status table. */
void dbs_config_usage(FILE* out);

/*
 * Parses a duration in seconds ("7", "0.5") into milliseconds. Accepts
 * 0 to 86400. Returns 0 or -EINVAL.
 */
int dbs_config_parse_seconds(const char* s, unsigned* ms);

/*
 * True if tok ("--name", "--name=value", or with one dash for
 * getopt_long_only) spells the long option name in full. getopt accepts
 * any unique prefix ("--stop" for --stop-timeout); dbsetup does not, so
 * that a prefix cannot silently become another option in a later version.
 */
bool dbs_config_long_in_full(const char* tok, const char* name);

/* Parses "1", "true", "yes", "on" (true) and "0", "false", "no", "off", "".
 * Returns 0 or -EINVAL. */
int dbs_config_parse_bool(const char* s, bool* out);

/* --parallelism: decimal digits only, 1 to DBS_CONFIG_PARALLELISM_MAX.
 * Returns 0 or -EINVAL (*out unchanged). */
int dbs_config_parse_parallelism(const char* s, unsigned* out);

/* --verify / --integrity-check: "full", "quick" or "none". Returns 0 or
 * -EINVAL (*out unchanged). */
int dbs_config_parse_verify(const char* s, enum dbs_verify* out);

/*
 * Sets the log level from a DBSETUP_LOG_LEVEL or --log-level value: debug,
 * info, warn (or warning), error. NULL or "" leaves the level as it is
 * (an empty variable is an unset one). Returns 0 or -EINVAL (level
 * unchanged; the caller names the variable and the fix).
 */
int dbs_config_set_log_level(const char* s);

#endif
