/*
 * Discover: which database file the app opens, and what else the project
 * says about it (Prisma schema, migrations folder, seed command).
 */
#ifndef DBS_DISCOVER_H
#define DBS_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "litestream_config.h"

enum dbs_db_source {
  DBS_DB_NONE = 0,      /* nothing found: dbsetup stays a plain init */
  DBS_DB_OPTION,        /* --db / DBSETUP_DB */
  DBS_DB_DATABASE_URL,  /* DATABASE_URL=file:... (or sqlite:...) */
  DBS_DB_PRISMA,        /* the Prisma schema's sqlite datasource */
  DBS_DB_LITESTREAM,    /* litestream.yml's single dbs entry */
  DBS_DB_PRISMA_CONFIG, /* prisma.config.ts datasource.url (Prisma 7) */
};

/* Everything owned by the struct; free with dbs_discover_free. */
struct dbs_discovery {
  enum dbs_db_source source;
  char* db_path;         /* absolute path the app opens, or NULL */
  char* schema_path;     /* absolute Prisma schema path (file or folder) */
  char* provider;        /* datasource provider ("sqlite", "postgresql"...) */
  char* datasource;      /* "<schema file>:<line>" of the datasource block */
  char* url_env;         /* X when the datasource says url = env("X") */
  char* migrations_dir;  /* absolute: --prisma-migrations, or
                            <schema dir>/migrations if that exists */
  char* seed;            /* prisma.config.ts migrations.seed, else
                            package.json prisma.seed (opts->want_seed) */
  const char* seed_from; /* where seed came from ("package.json
                            prisma.seed", "<config> migrations.seed"),
                            static; NULL without seed */
  char* prisma_config;   /* absolute path of the Prisma config file read */
  /* The schema reads url = env("X") and X is unset or empty: every child
   * must get X=set_env_value (the caller does the setenv). The value is
   * file:<db_path> when --db/litestream.yml named the DB, else
   * file:<volume>/sqlite.db (Fly's name). Both NULL otherwise. */
  char* set_env_name;
  char* set_env_value;
};

/* What discovery takes from the command line. Strings are the caller's; an
 * option NULL or "" is not given. */
struct dbs_discover_opts {
  const char* db;                /* --db: against the working directory */
  const char* schema;            /* --schema: a file or a folder */
  const char* prisma_config;     /* --prisma-config */
  const char* prisma_migrations; /* --prisma-migrations */
  const char* volume;            /* --volume; NULL: DBS_CONFIG_DEFAULT_VOLUME */
  bool want_seed; /* find the project's seed command (no --seed given) */
};

/* The options of a boot's configuration: want_seed when cfg->seed is NULL.
 * opts borrows cfg's strings. */
void dbs_discover_opts_from_config(struct dbs_discover_opts* opts,
                                   const struct dbs_config* cfg);

/*
 * Runs discovery in the documented order (--db, DATABASE_URL, the Prisma
 * schema's sqlite datasource, litestream.yml's single entry); the schema,
 * its migrations folder and (opts->want_seed) the seed command are read
 * whatever names the DB. ls may be NULL.
 *
 * Paths: --db against the working directory; a relative DATABASE_URL
 * against the directory of the schema file whose datasource reads
 * env("DATABASE_URL") (Prisma resolves env URLs like literal ones), else
 * the working directory; a schema url (literal or env) against the
 * directory of the schema file holding the datasource. "file:" or
 * "sqlite:" is stripped and the query string cut. Paths are made
 * absolute and cleaned lexically; symlinks are not resolved.
 *
 * A non-sqlite provider means no database (source DBS_DB_NONE unless
 * --db or DATABASE_URL named one; logged at info level).
 *
 * Returns 0 (also when nothing is found: source DBS_DB_NONE), -ENOMEM, or
 * -EINVAL after writing a message that names the file (and line), the
 * problem and the fix into err (exit DBS_EXIT_CONFIG). On error *out holds
 * nothing. The caller frees *out with dbs_discover_free.
 */
int dbs_discover_run(const struct dbs_discover_opts* opts,
                     const struct dbs_litestream_config* ls,
                     struct dbs_discovery* out, char* err, size_t errlen);

/* dbs_discover_run with the options of cfg (dbs_discover_opts_from_config). */
int dbs_discover(const struct dbs_config* cfg,
                 const struct dbs_litestream_config* ls,
                 struct dbs_discovery* out, char* err, size_t errlen);

/* Frees every string of d and zeroes it. d may be NULL. */
void dbs_discover_free(struct dbs_discovery* d);

/* "--db", "DATABASE_URL", "the Prisma schema", "litestream.yml", "none". */
const char* dbs_discover_source_name(enum dbs_db_source source);

#endif
