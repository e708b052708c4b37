/* `dbsetup migrate [--status]`: finds the database and the migrations as a
 * boot does, then deploys them natively or lists their state. */
#include "migrate_cli.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "discover.h"
#include "exitcode.h"
#include "litestream_bin.h"
#include "litestream_config.h"
#include "log.h"
#include "prisma_migrate.h"
#include "prisma_migrate_internal.h"

/* Go on: the steps below return this, or an exit status. */
#define GO_ON (-1)

/* What the command line and the environment ask for. */
struct migrate_args {
  const char* db;            /* --db, DBSETUP_DB */
  const char* dir;           /* --prisma-migrations */
  const char* schema;        /* --schema */
  const char* prisma_config; /* --prisma-config */
  const char* lsconfig;      /* --litestream-config */
  bool status;               /* --status */
};

static void cli_usage(FILE* out) {
  fprintf(out,
          "usage: dbsetup migrate [--status] [--db PATH] "
          "[--prisma-migrations DIR] [--schema FILE]\n"
          "                       [--prisma-config F] [--litestream-config "
          "F]\n"
          "Applies pending Prisma migrations natively, as `prisma migrate "
          "deploy` does on SQLite.\n"
          "  --status                 list applied, pending and failed "
          "migrations; exit 0 only when up to date\n"
          "  --db PATH                the SQLite database (DBSETUP_DB)\n"
          "  --prisma-migrations DIR  the migrations folder "
          "(DBSETUP_PRISMA_MIGRATIONS; default <schema dir>/migrations)\n"
          "  --schema FILE            the Prisma schema (DBSETUP_SCHEMA)\n"
          "  --prisma-config F        the Prisma config file, as prisma "
          "--config (DBSETUP_PRISMA_CONFIG;\n"
          "                           default ./prisma.config.ts and the "
          "other names Prisma looks for)\n"
          "  --litestream-config F    litestream.yml, whose database is used "
          "when nothing\n"
          "                           else names one "
          "(DBSETUP_LITESTREAM_CONFIG, LITESTREAM_CONFIG,\n"
          "                           default ./litestream.yml, "
          "/etc/litestream.yml)\n"
          "  -q / -v                  warnings only / debug "
          "(DBSETUP_LOG_LEVEL)\n"
          "Exit: 0 ok, 64 usage, 65 not an SQLite database, 73 database not "
          "writable, 78 configuration, 80 migration failed / not up to "
          "date.\n");
}

/* Logs a possibly multi-line message, one error line each. */
static void log_lines(const char* msg) {
  const char* p = msg;
  while (*p != '\0') {
    const char* nl = strchr(p, '\n');
    int len = nl ? (int)(nl - p) : (int)strlen(p);
    dbs_log_errorx("%.*s", len, p);
    if (nl == NULL)
      break;
    p = nl + 1;
  }
}

static int exit_for(int rc) {
  switch (rc) {
  case -ENOENT:
  case -ENOTDIR:
    return DBS_EXIT_CONFIG;
  case -EACCES:
  case -EROFS:
    return DBS_EXIT_CANTCREAT;
  case -EBADMSG:
    return DBS_EXIT_DATAERR;
  default:
    return DBS_EXIT_MIGRATE;
  }
}

static const char* state_name(enum dbs_prisma_state s) {
  switch (s) {
  case DBS_PRISMA_APPLIED:
    return "applied";
  case DBS_PRISMA_PENDING:
    return "pending";
  case DBS_PRISMA_FAILED:
    return "failed";
  case DBS_PRISMA_ROLLED_BACK:
    return "rolled-back";
  }
  return "?";
}

/* One line per migration: state, name, when, and what is odd about it. */
static void print_entry(const struct dbs_prisma_entry* e) {
  char when[64] = "";
  if (e->state == DBS_PRISMA_APPLIED && e->finished_at_ms != 0)
    dbs_prisma_format_ms(e->finished_at_ms, when, sizeof(when));
  else if (e->state == DBS_PRISMA_FAILED && e->started_at_ms != 0)
    dbs_prisma_format_ms(e->started_at_ms, when, sizeof(when));
  printf("%-11s %s%s%s%s%s\n", state_name(e->state), e->name,
         when[0] ? "  " : "", when, e->has_dir ? "" : "  (no directory)",
         e->modified ? "  (migration.sql changed since it was applied)" : "");
}

static int print_status(const char* db, const char* dir) {
  struct dbs_prisma_status st;
  char err[4096];
  int rc = dbs_prisma_migrate_status(db, dir, &st, err, sizeof(err));
  if (rc != 0) {
    log_lines(err);
    return exit_for(rc);
  }
  printf("database: %s%s\n", db,
         !st.db_exists     ? " (does not exist yet)"
         : !st.initialized ? " (no _prisma_migrations table)"
                           : "");
  printf("migrations: %s\n", dir);
  for (size_t i = 0; i < st.n; i++)
    print_entry(&st.entries[i]);
  printf("%u applied, %u pending, %u failed\n", st.napplied, st.npending,
         st.nfailed);
  if (st.nfailed > 0)
    for (size_t i = 0; i < st.n; i++)
      if (st.entries[i].state == DBS_PRISMA_FAILED)
        printf("failed migration blocks deploy: " DBS_PRISMA_RESOLVE_HINT "\n",
               st.entries[i].name, st.entries[i].name);
  rc = st.nfailed > 0 || st.npending > 0 ? DBS_EXIT_MIGRATE : 0;
  dbs_prisma_status_free(&st);
  return rc;
}

static const char* env_or_null(const char* name) {
  const char* v = getenv(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* DBSETUP_LOG_LEVEL, before the options (-q/-v) override it. */
static int level_from_env(void) {
  const char* env = getenv("DBSETUP_LOG_LEVEL");
  if (dbs_config_set_log_level(env) != 0) {
    dbs_log_errorx("DBSETUP_LOG_LEVEL=%s: use debug, info, warn or error", env);
    return DBS_EXIT_USAGE;
  }
  return GO_ON;
}

/* The options with a value (--name V or --name=V), their slots in a. */
static const char* const value_options[] = {"--db", "--prisma-migrations",
                                            "--schema", "--litestream-config",
                                            "--prisma-config"};
enum { NVALUE_OPTIONS = sizeof(value_options) / sizeof(value_options[0]) };

static const char** value_slot(struct migrate_args* a, size_t k) {
  const char** slots[NVALUE_OPTIONS] = {&a->db, &a->dir, &a->schema,
                                        &a->lsconfig, &a->prisma_config};
  return slots[k];
}

/* Takes the option with a value at argv[*i]. */
static int value_option(struct migrate_args* a, int argc, char** argv, int* i) {
  const char* arg = argv[*i];
  for (size_t k = 0; k < NVALUE_OPTIONS; k++) {
    const char* name = value_options[k];
    size_t l = strlen(name);
    if (strncmp(arg, name, l) != 0 || (arg[l] != '\0' && arg[l] != '='))
      continue;
    const char** slot = value_slot(a, k);
    if (arg[l] == '=') {
      *slot = arg + l + 1;
    } else if (*i + 1 < argc) {
      *slot = argv[++*i];
    } else {
      dbs_log_errorx("option '%s' needs a value (see dbsetup migrate "
                     "--help)",
                     name);
      return DBS_EXIT_USAGE;
    }
    if (**slot == '\0') {
      dbs_log_errorx("dbsetup migrate: %s needs a non-empty value", name);
      return DBS_EXIT_USAGE;
    }
    return GO_ON;
  }
  dbs_log_errorx("unknown option '%s' (see dbsetup migrate --help)", arg);
  return DBS_EXIT_USAGE;
}

/* The environment, then the options over it. */
static int parse_args(struct migrate_args* a, int argc, char** argv) {
  memset(a, 0, sizeof(*a));
  a->db = env_or_null("DBSETUP_DB");
  a->dir = env_or_null("DBSETUP_PRISMA_MIGRATIONS");
  a->schema = env_or_null("DBSETUP_SCHEMA");
  a->prisma_config = env_or_null("DBSETUP_PRISMA_CONFIG");
  /* litestream.yml as at boot: DBSETUP_ wins over litestream's own. */
  a->lsconfig = env_or_null("DBSETUP_LITESTREAM_CONFIG")
                    ? env_or_null("DBSETUP_LITESTREAM_CONFIG")
                    : env_or_null("LITESTREAM_CONFIG");
  int st = level_from_env();
  for (int i = 1; i < argc && st == GO_ON; i++) {
    const char* arg = argv[i];
    if (strcmp(arg, "--status") == 0) {
      a->status = true;
    } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "-v") == 0) {
      dbs_log_set_level(arg[1] == 'q' ? DBS_LOG_WARN : DBS_LOG_DEBUG);
    } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      cli_usage(stdout);
      st = 0;
    } else {
      st = value_option(a, argc, argv, &i);
    }
  }
  return st;
}

/* litestream.yml, when there is one, for its database: *have says so. */
static int load_litestream(const struct migrate_args* a,
                           struct dbs_litestream_config* ls, bool* have) {
  char err[8192];
  const char* noexp = getenv("DBSETUP_NO_EXPAND_ENV");
  bool no_expand = false;
  *have = false;
  if (noexp != NULL && dbs_config_parse_bool(noexp, &no_expand) != 0) {
    dbs_log_errorx("invalid value '%s' for DBSETUP_NO_EXPAND_ENV (expected "
                   "1/true/yes/on or 0/false/no/off)",
                   noexp);
    return DBS_EXIT_USAGE;
  }
  char* lspath = NULL;
  int rc =
      dbs_litestream_bin_find_config(a->lsconfig, &lspath, err, sizeof(err));
  if (rc == -ENOENT && a->lsconfig != NULL) {
    log_lines(err);
    return DBS_EXIT_CONFIG;
  }
  if (rc == -ENOMEM)
    return DBS_EXIT_SOFTWARE;
  if (rc != 0)
    return GO_ON;
  rc = dbs_litestream_config_load(lspath, !no_expand, ls, err, sizeof(err));
  free(lspath);
  if (rc != 0) {
    log_lines(err);
    return rc == -ENOMEM ? DBS_EXIT_SOFTWARE : DBS_EXIT_CONFIG;
  }
  *have = true;
  return GO_ON;
}

/*
 * The same discovery as a boot: --db, DATABASE_URL, the Prisma schema's
 * sqlite datasource, litestream.yml's database; the folder from
 * --prisma-migrations, the Prisma config, or <schema dir>/migrations.
 * migrate never seeds: the project's seed command is not read. On
 * GO_ON the caller frees *found.
 */
static int find_target(const struct migrate_args* a,
                       const struct dbs_litestream_config* ls,
                       struct dbs_discovery* found) {
  char err[8192];
  struct dbs_discover_opts opts = {
      .db = a->db,
      .schema = a->schema,
      .prisma_config = a->prisma_config,
      .prisma_migrations = a->dir,
      .volume = env_or_null("DBSETUP_VOLUME") ? env_or_null("DBSETUP_VOLUME")
                                              : DBS_CONFIG_DEFAULT_VOLUME,
      .want_seed = false,
  };
  int rc = dbs_discover_run(&opts, ls, found, err, sizeof(err));
  if (rc != 0) {
    log_lines(err);
    return rc == -ENOMEM ? DBS_EXIT_SOFTWARE : DBS_EXIT_CONFIG;
  }
  if (found->provider != NULL && strcmp(found->provider, "sqlite") != 0 &&
      a->db == NULL) {
    dbs_log_errorx("dbsetup migrate: the Prisma datasource%s%s uses provider "
                   "\"%s\"; native migrations handle sqlite only (use "
                   "`npx prisma migrate deploy`, or pass --db for an SQLite "
                   "file)",
                   found->datasource ? " at " : "",
                   found->datasource ? found->datasource : "", found->provider);
    dbs_discover_free(found);
    return DBS_EXIT_CONFIG;
  }
  if (found->db_path == NULL || found->migrations_dir == NULL) {
    dbs_log_errorx(
        "dbsetup migrate: %s (pass %s)",
        found->db_path == NULL
            ? "no database found: no --db, no DATABASE_URL=file:..., no "
              "Prisma schema with an sqlite datasource"
            : "no Prisma migrations folder found next to the schema",
        found->db_path == NULL ? "--db PATH, or --schema FILE"
                               : "--prisma-migrations DIR, or --schema FILE");
    dbs_discover_free(found);
    return DBS_EXIT_CONFIG;
  }
  return GO_ON;
}

/* TERM or INT (Ctrl-C) lets the running migration finish, as at boot; a
 * second one interrupts it. */
static void catch_stop_signals(void) {
  unsigned ms;
  const char* st = env_or_null("DBSETUP_STOP_TIMEOUT");
  if (st != NULL && dbs_config_parse_seconds(st, &ms) == 0)
    dbs_prisma_migrate_set_stop_timeout(ms);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = dbs_prisma_migrate_request_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

/* Applies the pending migrations; the exit status. */
static int deploy(const struct dbs_discovery* found) {
  struct dbs_prisma_result res;
  char err[8192];
  catch_stop_signals();
  dbs_log_info("migrating %s with %s", found->db_path, found->migrations_dir);
  int rc = dbs_prisma_migrate_deploy(found->db_path, found->migrations_dir,
                                     &res, err, sizeof(err));
  int sig = dbs_prisma_migrate_stop_signal();
  if (rc == 0 && sig == 0)
    return 0;
  if (rc != 0)
    log_lines(err);
  if (sig != 0) { /* stopped: 128+N, as a killed command would */
    const char* name = dbs_prisma_migrate_stop_name();
    dbs_log_warnx("stopped by %s: exit status %d is 128+%s", name,
                  DBS_EXIT_SIGNAL_BASE + sig, name);
    return DBS_EXIT_SIGNAL_BASE + sig;
  }
  return exit_for(rc);
}

int dbs_migrate_cli_main(int argc, char** argv) {
  struct migrate_args a;
  struct dbs_litestream_config ls;
  struct dbs_discovery found;
  bool have_ls;
  int st = parse_args(&a, argc, argv);
  if (st != GO_ON)
    return st;
  st = load_litestream(&a, &ls, &have_ls);
  if (st != GO_ON)
    return st;
  st = find_target(&a, have_ls ? &ls : NULL, &found);
  if (have_ls)
    dbs_litestream_config_free(&ls);
  if (st != GO_ON)
    return st;
  if (a.status)
    st = print_status(found.db_path, found.migrations_dir);
  else
    st = deploy(&found);
  dbs_discover_free(&found);
  return st;
}
