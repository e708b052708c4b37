/*
 * Discover: which database file the app opens, and what else the project
 * says about it (Prisma schema, migrations folder, seed command).
 */
#ifndef DBS_DISCOVER_H
#define DBS_DISCOVER_H

#include <stdbool.h>

#include "config.h"
#include "litestream_config.h"

enum dbs_db_source {
  DBS_DB_NONE = 0,      /* nothing found: dbsetup stays a plain init */
  DBS_DB_OPTION,        /* --db / DBSETUP_DB */
  DBS_DB_DATABASE_URL,  /* DATABASE_URL=file:... */
  DBS_DB_PRISMA,        /* the Prisma schema's sqlite datasource */
  DBS_DB_LITESTREAM,    /* litestream.yml's single dbs entry */
};

/* Everything owned by the struct; free with dbs_discover_free. */
struct dbs_discovery {
  enum dbs_db_source source;
  char *db_path;         /* absolute path the app opens, or NULL */
  char *schema_path;     /* absolute Prisma schema path, or NULL */
  char *provider;        /* datasource provider ("sqlite", "postgresql"...) */
  char *migrations_dir;  /* absolute <schema dir>/migrations if it exists */
  char *seed;            /* package.json prisma.seed, or NULL */
  /* url = env("X") with X unset: dbsetup sets X=file:<volume>/sqlite.db for
   * every child. Both NULL otherwise. */
  char *set_env_name;
  char *set_env_value;
};

/*
 * Runs discovery in the documented order (--db, DATABASE_URL, Prisma
 * schema, litestream.yml's single entry). ls may be NULL. Relative paths
 * resolve against the working directory (--db, DATABASE_URL) or the schema
 * file's directory (Prisma url). Returns 0 (also when nothing is found:
 * source DBS_DB_NONE), or -EINVAL after writing a message that names the
 * file, the problem and the fix into err (exit DBS_EXIT_CONFIG).
 */
int dbs_discover(const struct dbs_config *cfg,
                 const struct dbs_litestream_config *ls,
                 struct dbs_discovery *out, char *err, size_t errlen);

void dbs_discover_free(struct dbs_discovery *d);

#endif
