/* Finds the app's database: --db, DATABASE_URL, Prisma schema, litestream.yml.
 * The policy lives here; the readers in discover_pkg.c (package.json) and
 * discover_schema.c (the Prisma schema), and prisma_config.c. */
#define _GNU_SOURCE /* asprintf */
#include "discover.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover_internal.h"
#include "log.h"
#include "path.h"
#include "prisma_config.h"

int dbs_discover_seterr(char* err, size_t errlen, const char* fmt, ...) {
  va_list ap;
  if (errlen == 0)
    return -EINVAL;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

/* ---- Files ----------------------------------------------------------- */

bool dbs_discover_is_file(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

bool dbs_discover_is_dir(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An option is given when set and not empty. */
static bool opt_given(const char* opt) {
  return opt != NULL && opt[0] != '\0';
}

/* ---- SQLite URLs ---------------------------------------------------- */

/*
 * Length of the scheme Prisma's sqlite connector accepts ("file:" or
 * "sqlite:"), or 0 when url has neither.
 */
static size_t sqlite_url_scheme(const char* url) {
  if (strncmp(url, "file:", 5) == 0)
    return 5;
  if (strncmp(url, "sqlite:", 7) == 0)
    return 7;
  return 0;
}

/*
 * The file a sqlite URL names: scheme stripped, query string cut, relative
 * paths resolved against base. "file:///x" and "file://x" are "/x" as for
 * Prisma (the rest after "file:" is taken as a path). Returns 0, -EINVAL
 * (no path) or -ENOMEM; *out is the caller's.
 */
static int url_path(const char* url, const char* base, char** out) {
  const char* p = url + sqlite_url_scheme(url);
  size_t len = strcspn(p, "?");
  if (len == 0)
    return -EINVAL;
  char* raw = strndup(p, len);
  if (raw == NULL)
    return -ENOMEM;
  *out = dbs_path_node_resolve(base, raw);
  free(raw);
  return *out != NULL ? 0 : -ENOMEM;
}

/*
 * Finds the schema as Prisma 6's CLI does: --schema, package.json
 * prisma.schema (against package.json's folder), ./schema.prisma,
 * ./prisma/schema.prisma. An explicit path that does not exist is an
 * error (Prisma refuses it too); the defaults are optional.
 */
static int schema_find(const struct dbs_discover_opts* o,
                       const struct dbs_discover_pkg* pkg,
                       const struct dbs_prisma_config* pc, const char* cwd,
                       const char* base, char** out, bool* folder, char* err,
                       size_t errlen) {
  const char* given = NULL;
  char* p = NULL;
  *out = NULL;
  *folder = false;
  if (opt_given(o->schema)) {
    given = "--schema";
    p = dbs_path_node_resolve(cwd, o->schema);
  } else if (pc != NULL && pc->schema.present) {
    if (!pc->schema.readable || pc->schema.value == NULL ||
        pc->schema.value[0] == '\0')
      return dbs_discover_seterr(
          err, errlen,
          "%s:%u: dbsetup cannot read the value of schema "
          "without running the file%s%s%s; pass --schema",
          pc->file, pc->schema.line, pc->schema.env ? " (it reads " : "",
          pc->schema.env ? pc->schema.env : "",
          pc->schema.env ? ", which is unset)" : "");
    given = "prisma.config";
    p = dbs_path_node_resolve(pc->dir, pc->schema.value);
  } else if (pkg->schema != NULL) {
    given = "package.json";
    p = dbs_path_node_resolve(pkg->dir, pkg->schema);
  }
  if (given != NULL) {
    if (p == NULL)
      return -ENOMEM;
    if (dbs_discover_is_dir(p)) {
      *folder = true;
    } else if (!dbs_discover_is_file(p)) {
      int rc;
      if (strcmp(given, "--schema") == 0)
        rc = dbs_discover_seterr(
            err, errlen,
            "--schema %s: no such file or folder (%s); fix the path", o->schema,
            p);
      else if (strcmp(given, "prisma.config") == 0)
        rc = dbs_discover_seterr(
            err, errlen,
            "%s:%u: schema \"%s\" names %s, which does not exist "
            "(Prisma resolves it against the config file's folder); "
            "fix the config or pass --schema",
            pc->file, pc->schema.line, pc->schema.value, p);
      else
        rc = dbs_discover_seterr(
            err, errlen,
            "%s:%u: prisma.schema \"%s\" names %s, which does not "
            "exist; fix package.json or pass --schema",
            pkg->path, pkg->schema_line, pkg->schema, p);
      free(p);
      return rc;
    }
    *out = p;
    return 0;
  }
  static const char* const defaults[] = {"schema.prisma",
                                         "prisma/schema.prisma"};
  for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
    p = dbs_path_node_resolve(base, defaults[i]);
    if (p == NULL)
      return -ENOMEM;
    if (dbs_discover_is_file(p)) {
      *out = p;
      return 0;
    }
    free(p);
  }
  return 0;
}

/* ---- Discovery ------------------------------------------------------- */

const char* dbs_discover_source_name(enum dbs_db_source source) {
  switch (source) {
  case DBS_DB_OPTION:
    return "--db";
  case DBS_DB_DATABASE_URL:
    return "DATABASE_URL";
  case DBS_DB_PRISMA:
    return "the Prisma schema";
  case DBS_DB_LITESTREAM:
    return "litestream.yml";
  case DBS_DB_PRISMA_CONFIG:
    return "the Prisma config";
  case DBS_DB_NONE:
    break;
  }
  return "none";
}

void dbs_discover_free(struct dbs_discovery* d) {
  if (d == NULL)
    return;
  free(d->db_path);
  free(d->schema_path);
  free(d->provider);
  free(d->datasource);
  free(d->url_env);
  free(d->migrations_dir);
  free(d->seed);
  free(d->prisma_config);
  free(d->set_env_name);
  free(d->set_env_value);
  memset(d, 0, sizeof(*d));
}

/* getenv, with "" read as unset (Prisma rejects an empty URL anyway). */
static const char* getenv_nonempty(const char* name) {
  const char* v = getenv(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * The file the schema's sqlite datasource names, when the schema alone
 * decides it (a literal url, or env("X") with X set). Returns 0 with *out
 * NULL when X is unset, or -EINVAL for a URL that is not file:/sqlite:.
 */
static int schema_db_path(const struct dbs_discover_datasource* ds, char** out,
                          char* err, size_t errlen) {
  const char* url = ds->url;
  *out = NULL;
  if (ds->url_env != NULL) {
    url = getenv_nonempty(ds->url_env);
    if (url == NULL)
      return 0;
    if (sqlite_url_scheme(url) == 0)
      return dbs_discover_seterr(
          err, errlen,
          "%s:%u: the sqlite datasource reads %s, which is set "
          "but does not start with file: (it must be like "
          "file:/data/app.db); fix %s or the schema's provider",
          ds->file, ds->url_line, ds->url_env, ds->url_env);
  } else if (sqlite_url_scheme(url) == 0) {
    return dbs_discover_seterr(
        err, errlen,
        "%s:%u: the sqlite datasource's url does not start with "
        "file:; write it like url = \"file:./dev.db\"",
        ds->file, ds->url_line);
  }
  int rc = url_path(url, ds->dir, out);
  if (rc == -EINVAL)
    return dbs_discover_seterr(
        err, errlen,
        "%s:%u: the sqlite datasource's url%s%s has no path after "
        "file:; name a file, like file:./dev.db",
        ds->file, ds->url_line, ds->url_env ? " from " : "",
        ds->url_env ? ds->url_env : "");
  return rc;
}

/* Config extensions Prisma 7 loads (others it refuses). */
static bool config_ext_ok(const char* p) {
  static const char* const ok[] = {".js",  ".ts",  ".mjs",
                                   ".cjs", ".mts", ".cts"};
  const char* dot = strrchr(p, '.');
  const char* slash = strrchr(p, '/');
  if (dot == NULL || (slash != NULL && dot < slash))
    return false;
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    if (strcmp(dot, ok[i]) == 0)
      return true;
  return false;
}

/*
 * Finds and reads the Prisma config: --prisma-config (against the cwd),
 * else the names Prisma 7 looks for in the cwd. *found is false when there
 * is none.
 */
static int config_load(const struct dbs_discover_opts* o, const char* cwd,
                       struct dbs_prisma_config* pc, bool* found, char* err,
                       size_t errlen) {
  char* path = NULL;
  char* unsupported = NULL;
  int rc;
  *found = false;
  if (opt_given(o->prisma_config)) {
    path = dbs_path_node_resolve(cwd, o->prisma_config);
    if (path == NULL)
      return -ENOMEM;
    if (!dbs_discover_is_file(path)) {
      rc = dbs_discover_seterr(
          err, errlen, "--prisma-config %s: no such file (%s); fix the path",
          o->prisma_config, path);
      free(path);
      return rc;
    }
    if (!config_ext_ok(path)) {
      rc = dbs_discover_seterr(
          err, errlen,
          "--prisma-config %s: Prisma loads only .ts, .mts, .cts, "
          ".js, .mjs and .cjs config files; rename it",
          o->prisma_config);
      free(path);
      return rc;
    }
  } else {
    rc = dbs_prisma_config_find(cwd, &path, &unsupported);
    if (rc < 0)
      return rc;
    if (unsupported != NULL) {
      rc = dbs_discover_seterr(
          err, errlen,
          "%s: Prisma finds this config file and refuses it "
          "(\"Unsupported Prisma config file extension\"); rename it "
          "to prisma.config.ts, or remove it",
          unsupported);
      free(unsupported);
      return rc;
    }
    if (path == NULL)
      return 0;
  }
  dbs_log_debug("reading the Prisma config %s", path);
  rc = dbs_prisma_config_read(path, cwd, pc, err, errlen);
  free(path);
  if (rc < 0)
    return rc;
  if (!pc->found_export) {
    /* Nothing exported that dbsetup can see: every key is unknown. */
    struct dbs_prisma_config_value* vs[] = {&pc->schema, &pc->migrations_path,
                                            &pc->seed, &pc->url};
    for (size_t i = 0; i < 4; i++) {
      vs[i]->present = true;
      vs[i]->readable = false;
      vs[i]->line = 1;
    }
  }
  *found = true;
  return 0;
}

/* "X: dbsetup cannot read KEY without running the file" + the fix. */
static int config_unreadable(const struct dbs_prisma_config* pc,
                             const struct dbs_prisma_config_value* v,
                             const char* key, const char* fix, char* err,
                             size_t errlen) {
  return dbs_discover_seterr(
      err, errlen,
      "%s:%u: dbsetup reads prisma.config without running it and "
      "cannot tell the value of %s%s (it reads string literals, "
      "env(\"X\"), process.env.X with || or ?? \"default\", and "
      "path.join of those); %s",
      pc->file, v->line, key,
      pc->found_export ? ""
                       : " (no `export default defineConfig({...})` "
                         "found)",
      fix);
}

/* ---- The discovery, step by step ---------------------------------- */

/* What the steps of dbs_discover_run share. */
struct disc {
  const struct dbs_discover_opts* o;
  const struct dbs_litestream_config* ls; /* may be NULL */
  char* err;
  size_t errlen;
  struct dbs_discovery d; /* the result, handed over on success */
  struct dbs_discover_pkg pkg;
  struct dbs_discover_schema schema;
  struct dbs_prisma_config pc;
  const struct dbs_discover_datasource* ds; /* the schema's only one */
  char cwd[PATH_MAX];
  const char* base; /* where the Prisma CLI resolves relative paths */
  char* schema_db;  /* the path Prisma opens, when the schema decides */
  char* config_db;  /* the path the app opens, from the config's url */
  char* cli_db;     /* the path `prisma migrate` opens, from it */
  bool folder;      /* the schema is a folder of .prisma files */
  bool sqlite;      /* ds says provider = "sqlite" */
  bool have_pc;     /* a Prisma config was read */
  bool prisma7;     /* ... and it has datasource.url */
  bool url_unset;   /* the config's url reads an unset variable */
  bool no_url;      /* an sqlite datasource with no url anywhere */
};

static void disc_release(struct disc* x) {
  free(x->schema_db);
  free(x->config_db);
  free(x->cli_db);
  dbs_discover_schema_free(&x->schema);
  dbs_discover_pkg_free(&x->pkg);
  dbs_prisma_config_free(&x->pc);
}

/* strdup into *dst; -ENOMEM when it fails. */
static int dup_into(char** dst, const char* src) {
  *dst = strdup(src);
  return *dst != NULL ? 0 : -ENOMEM;
}

/*
 * The Prisma config: Prisma 7 keeps the url there, Prisma 6.x may use it
 * for the schema, migrations and seed. The CLI runs from the cwd, or with
 * --config from the config's folder (its schema engine is started there
 * and opens a relative url from there).
 */
static int read_prisma_config(struct disc* x) {
  int rc = config_load(x->o, x->cwd, &x->pc, &x->have_pc, x->err, x->errlen);
  if (rc < 0 || !x->have_pc)
    return rc;
  if (opt_given(x->o->prisma_config))
    x->base = x->pc.dir;
  x->prisma7 = x->pc.url.present;
  return dup_into(&x->d.prisma_config, x->pc.file);
}

/* package.json is read only when it can tell us something; Prisma 7 reads
 * none of it. */
static int read_package_json(struct disc* x) {
  if (x->prisma7 || (opt_given(x->o->schema) && !x->o->want_seed))
    return 0;
  return dbs_discover_pkg_load(x->cwd, &x->pkg, x->err, x->errlen);
}

/* The seed: the config's migrations.seed, else package.json prisma.seed. */
static int choose_seed(struct disc* x) {
  if (!x->o->want_seed)
    return 0;
  if (x->have_pc && x->pc.seed.present) {
    if (!x->pc.seed.readable || x->pc.seed.value == NULL)
      return config_unreadable(&x->pc, &x->pc.seed, "migrations.seed",
                               "pass --seed (or --seed '' for none)", x->err,
                               x->errlen);
    x->d.seed_from = "the Prisma config's migrations.seed";
    return dup_into(&x->d.seed, x->pc.seed.value);
  }
  if (x->pkg.seed != NULL) {
    x->d.seed_from = "package.json prisma.seed";
    return dup_into(&x->d.seed, x->pkg.seed);
  }
  return 0;
}

/* Finds and parses the schema; notes its only datasource. */
static int read_schema(struct disc* x) {
  int rc =
      schema_find(x->o, &x->pkg, x->have_pc ? &x->pc : NULL, x->cwd, x->base,
                  &x->d.schema_path, &x->folder, x->err, x->errlen);
  if (rc < 0 || x->d.schema_path == NULL)
    return rc;
  dbs_log_debug("Prisma schema: %s", x->d.schema_path);
  rc = dbs_discover_schema_load(x->d.schema_path, x->folder, &x->schema, x->err,
                                x->errlen);
  if (rc == 0)
    rc = dbs_discover_schema_check(&x->schema, x->err, x->errlen);
  if (rc < 0 || x->schema.nds != 1)
    return rc;
  x->ds = &x->schema.ds[0];
  x->sqlite = strcmp(x->ds->provider, "sqlite") == 0;
  if (asprintf(&x->d.datasource, "%s:%u", x->ds->file, x->ds->line) < 0) {
    x->d.datasource = NULL;
    return -ENOMEM;
  }
  rc = dup_into(&x->d.provider, x->ds->provider);
  if (rc == 0 && x->ds->url_env != NULL)
    rc = dup_into(&x->d.url_env, x->ds->url_env);
  return rc;
}

/* The config's migrations.path, against the config's folder. */
static int migrations_from_config(struct disc* x) {
  const struct dbs_prisma_config* pc = &x->pc;
  if (!pc->migrations_path.readable || pc->migrations_path.value == NULL ||
      pc->migrations_path.value[0] == '\0')
    return config_unreadable(pc, &pc->migrations_path, "migrations.path",
                             "pass --prisma-migrations", x->err, x->errlen);
  char* m = dbs_path_node_resolve(pc->dir, pc->migrations_path.value);
  if (m == NULL)
    return -ENOMEM;
  if (dbs_discover_is_dir(m)) {
    x->d.migrations_dir = m;
    return 0;
  }
  /* Prisma deploys nothing from a missing folder, and so do we. */
  dbs_log_warnx("%s:%u: migrations.path names %s, which does not exist: "
                "no migrations to apply",
                pc->file, pc->migrations_path.line, m);
  free(m);
  return 0;
}

/* <schema dir>/migrations: the folder of a multi-file schema, else of the
 * schema file, else of its datasource file; when it exists. */
static int migrations_beside_schema(struct disc* x) {
  const char* dirs[2] = {NULL, x->ds != NULL ? x->ds->dir : NULL};
  char* sdir =
      x->folder ? strdup(x->d.schema_path) : dbs_path_dirname(x->d.schema_path);
  if (sdir == NULL)
    return -ENOMEM;
  dirs[0] = sdir;
  for (size_t i = 0; i < 2 && x->d.migrations_dir == NULL; i++) {
    if (dirs[i] == NULL)
      continue;
    char* m = dbs_path_node_resolve(dirs[i], "migrations");
    if (m == NULL) {
      free(sdir);
      return -ENOMEM;
    }
    if (dbs_discover_is_dir(m))
      x->d.migrations_dir = m;
    else
      free(m);
  }
  free(sdir);
  return 0;
}

/* Migrations: the option, else the config's migrations.path, else
 * <schema dir>/migrations. */
static int choose_migrations(struct disc* x) {
  if (opt_given(x->o->prisma_migrations)) {
    x->d.migrations_dir =
        dbs_path_node_resolve(x->cwd, x->o->prisma_migrations);
    return x->d.migrations_dir != NULL ? 0 : -ENOMEM;
  }
  if (x->have_pc && x->pc.migrations_path.present)
    return migrations_from_config(x);
  if (x->d.schema_path != NULL)
    return migrations_beside_schema(x);
  return 0;
}

/* The file the schema's sqlite datasource names, when it decides. */
static int read_schema_url(struct disc* x) {
  if (!x->sqlite || !x->ds->has_url)
    return 0;
  return schema_db_path(x->ds, &x->schema_db, x->err, x->errlen);
}

/* The config's file: URL, as the app and as the Prisma CLI open it. */
static int config_file_url(struct disc* x, const char* url) {
  const struct dbs_prisma_config* pc = &x->pc;
  int rc = url_path(url, x->cwd, &x->config_db);
  if (rc == 0)
    rc = url_path(url, x->base, &x->cli_db);
  if (rc == -EINVAL)
    return dbs_discover_seterr(x->err, x->errlen,
                               "%s:%u: datasource.url \"%s\" has no path "
                               "after file:; name a file, like file:./dev.db",
                               pc->file, pc->url.line, url);
  if (rc < 0)
    return rc;
  if (strchr(url, '?') != NULL)
    dbs_log_warnx("%s:%u: datasource.url has a query string: the "
                  "better-sqlite3 adapter keeps it in the file name "
                  "(the Prisma CLI and libsql cut it); remove it",
                  pc->file, pc->url.line);
  return 0;
}

/*
 * The config's datasource.url, for an sqlite schema (or none found). The
 * app's driver adapter (better-sqlite3, libsql) opens a relative path
 * against the app's working directory, which is ours; the Prisma CLI
 * against its base (see read_prisma_config).
 */
static int read_config_url(struct disc* x) {
  const struct dbs_prisma_config* pc = &x->pc;
  if (!x->prisma7 || !(x->ds == NULL || x->sqlite) || !pc->url.readable)
    return 0;
  const char* url = pc->url.value;
  if (url == NULL) {
    x->url_unset = true;
    return 0;
  }
  if (url[0] == '\0')
    return dbs_discover_seterr(
        x->err, x->errlen,
        "%s:%u: datasource.url is empty%s%s%s; set it like "
        "file:/data/app.db",
        pc->file, pc->url.line, pc->url.env ? " (" : "",
        pc->url.env ? pc->url.env : "", pc->url.env ? " is set to \"\")" : "");
  if (sqlite_url_scheme(url) != 0)
    return config_file_url(x, url);
  if (x->sqlite)
    return dbs_discover_seterr(
        x->err, x->errlen,
        "%s:%u: the sqlite datasource.url%s%s does not start with "
        "file: (it must be like file:./dev.db or "
        "file:/data/app.db); fix it",
        pc->file, pc->url.line, pc->url.env ? " from " : "",
        pc->url.env ? pc->url.env : "");
  dbs_log_info("%s: datasource.url is not a file: URL and no schema "
               "says sqlite: no database to set up",
               pc->file);
  return 0;
}

/* DATABASE_URL's file. Prisma 6 resolves an env URL against the schema's
 * folder, like a literal one; Prisma 7's adapters and anything else
 * reading DATABASE_URL get the cwd. */
static int db_from_database_url(struct disc* x, const char* dburl) {
  const char* dbase = x->cwd;
  if (x->sqlite && x->ds->url_env != NULL &&
      strcmp(x->ds->url_env, "DATABASE_URL") == 0)
    dbase = x->ds->dir;
  x->d.source = DBS_DB_DATABASE_URL;
  int rc = url_path(dburl, dbase, &x->d.db_path);
  if (rc == -EINVAL)
    return dbs_discover_seterr(x->err, x->errlen,
                               "DATABASE_URL=%s has no path after the scheme; "
                               "set it like DATABASE_URL=file:/data/app.db",
                               dburl);
  return rc;
}

/* The url's variable is unset: <volume>/sqlite.db (Fly's name), which
 * every child gets in that variable (see set_unset_env). */
static int db_on_volume(struct disc* x, enum dbs_db_source source) {
  const char* volume =
      x->o->volume != NULL ? x->o->volume : DBS_CONFIG_DEFAULT_VOLUME;
  x->d.source = source;
  char* vol = dbs_path_node_resolve(x->cwd, volume);
  if (vol == NULL)
    return -ENOMEM;
  x->d.db_path = dbs_path_node_resolve(vol, "sqlite.db");
  free(vol);
  return x->d.db_path != NULL ? 0 : -ENOMEM;
}

/* The config's url cannot be read statically: litestream.yml's single
 * database with a warning, else an error naming the flags. */
static int db_config_unreadable(struct disc* x) {
  if (x->ls != NULL && x->ls->ndbs == 1) {
    dbs_log_warnx("%s:%u: dbsetup cannot read datasource.url without "
                  "running the file: using litestream.yml's database; "
                  "pass --db to make sure it is the one the app opens",
                  x->pc.file, x->pc.url.line);
    return 0;
  }
  return config_unreadable(&x->pc, &x->pc.url, "datasource.url",
                           "pass --db (or DATABASE_URL=file:...) with the "
                           "file the app opens",
                           x->err, x->errlen);
}

/* The database, in the documented order (litestream.yml comes after, in
 * fall_back_to_litestream). */
static int choose_database(struct disc* x) {
  const char* dburl = getenv("DATABASE_URL");
  if (opt_given(x->o->db)) {
    x->d.source = DBS_DB_OPTION;
    x->d.db_path = dbs_path_node_resolve(x->cwd, x->o->db);
    return x->d.db_path != NULL ? 0 : -ENOMEM;
  }
  if (dburl != NULL && sqlite_url_scheme(dburl) != 0)
    return db_from_database_url(x, dburl);
  if (x->ds != NULL && !x->sqlite) {
    dbs_log_info("the Prisma schema's datasource (%s) uses provider \"%s\", "
                 "not sqlite: no database to set up",
                 x->d.datasource, x->ds->provider);
    return 0;
  }
  if (x->config_db != NULL) {
    x->d.source = DBS_DB_PRISMA_CONFIG;
    return dup_into(&x->d.db_path, x->config_db);
  }
  if (x->prisma7 && x->url_unset && x->pc.url.env != NULL)
    return db_on_volume(x, DBS_DB_PRISMA_CONFIG);
  if (x->prisma7 && !x->pc.url.readable && (x->ds == NULL || x->sqlite))
    return db_config_unreadable(x);
  if (x->sqlite && x->ds->has_url) {
    if (x->schema_db == NULL) /* url = env("X") with X unset */
      return db_on_volume(x, DBS_DB_PRISMA);
    x->d.source = DBS_DB_PRISMA;
    x->d.db_path = x->schema_db;
    x->schema_db = NULL;
    return 0;
  }
  if (x->sqlite)
    x->no_url = true; /* unless litestream.yml names it (below) */
  return 0;
}

/* Nothing else named the database: litestream.yml's single entry. */
static int fall_back_to_litestream(struct disc* x) {
  const struct dbs_litestream_config* ls = x->ls;
  if (x->d.source != DBS_DB_NONE || (x->ds != NULL && !x->sqlite) ||
      ls == NULL || ls->ndbs == 0)
    return 0;
  if (ls->ndbs > 1)
    return dbs_discover_seterr(
        x->err, x->errlen,
        "%s lists %zu databases and nothing else names the app's "
        "one; pass --db (or DATABASE_URL=file:...)",
        ls->file != NULL ? ls->file : "litestream.yml", ls->ndbs);
  x->d.source = DBS_DB_LITESTREAM;
  x->d.db_path = dbs_path_node_resolve(x->cwd, ls->dbs[0].path);
  return x->d.db_path != NULL ? 0 : -ENOMEM;
}

/* An sqlite datasource without a url, and nothing else names the file. */
static int require_url(struct disc* x) {
  if (!x->no_url || x->d.source != DBS_DB_NONE)
    return 0;
  if (x->have_pc)
    return dbs_discover_seterr(
        x->err, x->errlen,
        "%s: datasource %s has no url, and %s has no "
        "datasource.url; add datasource: { url: "
        "env(\"DATABASE_URL\") } to the config (Prisma 7), or pass "
        "--db or DATABASE_URL=file:...",
        x->d.datasource, x->ds->name, x->pc.file);
  return dbs_discover_seterr(
      x->err, x->errlen,
      "%s: datasource %s has no url and there is no "
      "prisma.config.ts in %s; add url = env(\"DATABASE_URL\") "
      "(Prisma 6), pass --prisma-config with the config file "
      "(Prisma 7), or pass --db or DATABASE_URL=file:...",
      x->d.datasource, x->ds->name, x->cwd);
}

/* The url's variable is unset: set it to the database chosen so that the
 * app (and prisma.config.ts) opens the same file. */
static int set_unset_env(struct disc* x) {
  const char* unset_env = NULL;
  if (x->prisma7 && x->url_unset && x->pc.url.env != NULL &&
      (x->ds == NULL || x->sqlite))
    unset_env = x->pc.url.env;
  else if (x->sqlite && x->ds->url_env != NULL &&
           getenv_nonempty(x->ds->url_env) == NULL)
    unset_env = x->ds->url_env;
  if (unset_env == NULL || x->d.db_path == NULL)
    return 0;
  if (dup_into(&x->d.set_env_name, unset_env) < 0)
    return -ENOMEM;
  if (asprintf(&x->d.set_env_value, "file:%s", x->d.db_path) < 0) {
    x->d.set_env_value = NULL;
    return -ENOMEM;
  }
  dbs_log_info("%s is not set (read by %s): setting %s=%s for every child",
               unset_env,
               unset_env == x->pc.url.env ? x->pc.file : x->d.datasource,
               x->d.set_env_name, x->d.set_env_value);
  return 0;
}

/* The app opens what the schema or config says, whatever --db claims. */
static void warn_disagreements(const struct disc* x) {
  const struct dbs_discovery* d = &x->d;
  const struct dbs_prisma_config* pc = &x->pc;
  if (x->schema_db != NULL && d->db_path != NULL &&
      strcmp(x->schema_db, d->db_path) != 0)
    dbs_log_warnx("%s names %s but the Prisma schema (%s) makes the app open "
                  "%s; make them agree",
                  dbs_discover_source_name(d->source), d->db_path,
                  d->datasource, x->schema_db);
  if (x->config_db != NULL && d->db_path != NULL &&
      strcmp(x->config_db, d->db_path) != 0)
    dbs_log_warnx("%s names %s but %s:%u (datasource.url) makes the app open "
                  "%s; make them agree",
                  dbs_discover_source_name(d->source), d->db_path, pc->file,
                  pc->url.line, x->config_db);
  if (x->config_db != NULL && x->cli_db != NULL &&
      strcmp(x->config_db, x->cli_db) != 0)
    dbs_log_warnx("%s:%u: datasource.url is relative: the app, started in "
                  "%s, opens %s, but `prisma migrate --config` resolves it "
                  "against %s and opens %s; write an absolute path (like "
                  "file:/data/app.db), or start from the config's folder",
                  pc->file, pc->url.line, x->cwd, x->config_db, pc->dir,
                  x->cli_db);
}

/* The steps, in order: each reads what the ones before it found. */
static int (*const steps[])(struct disc*) = {
    read_prisma_config,      /* prisma.config.ts: Prisma 7 or 6.x extras */
    read_package_json,       /* prisma.schema, prisma.seed (not Prisma 7) */
    choose_seed,             /* migrations.seed, else prisma.seed */
    read_schema,             /* the schema and its one datasource */
    choose_migrations,       /* option, migrations.path, <schema dir> */
    read_schema_url,         /* the file the schema's url names */
    read_config_url,         /* the file datasource.url names */
    choose_database,         /* --db, DATABASE_URL, config, schema */
    fall_back_to_litestream, /* litestream.yml's single database */
    require_url,             /* an sqlite datasource must name a file */
    set_unset_env,           /* give the children the url's variable */
};

int dbs_discover_run(const struct dbs_discover_opts* opts,
                     const struct dbs_litestream_config* ls,
                     struct dbs_discovery* out, char* err, size_t errlen) {
  struct disc x = {.o = opts, .ls = ls, .err = err, .errlen = errlen};
  int rc = 0;

  assert(opts != NULL && out != NULL);
  memset(out, 0, sizeof(*out));
  if (errlen > 0)
    err[0] = '\0';
  if (getcwd(x.cwd, sizeof(x.cwd)) == NULL)
    return dbs_discover_seterr(
        err, errlen, "cannot get the working directory: %s", strerror(errno));
  x.base = x.cwd;

  for (size_t i = 0; rc == 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
    rc = steps[i](&x);
  if (rc < 0) {
    disc_release(&x);
    dbs_discover_free(&x.d);
    return rc;
  }
  warn_disagreements(&x);
  if (x.d.db_path != NULL)
    dbs_log_debug("database: %s (from %s)", x.d.db_path,
                  dbs_discover_source_name(x.d.source));
  disc_release(&x);
  *out = x.d;
  return 0;
}

void dbs_discover_opts_from_config(struct dbs_discover_opts* opts,
                                   const struct dbs_config* cfg) {
  memset(opts, 0, sizeof(*opts));
  opts->db = cfg->db;
  opts->schema = cfg->schema;
  opts->prisma_config = cfg->prisma_config;
  opts->prisma_migrations = cfg->prisma_migrations;
  opts->volume = cfg->volume;
  opts->want_seed = cfg->seed == NULL;
}

int dbs_discover(const struct dbs_config* cfg,
                 const struct dbs_litestream_config* ls,
                 struct dbs_discovery* out, char* err, size_t errlen) {
  struct dbs_discover_opts opts;
  dbs_discover_opts_from_config(&opts, cfg);
  return dbs_discover_run(&opts, ls, out, err, errlen);
}
