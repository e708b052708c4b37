/*
 * Discover's internals shared by its files: discover.c (the policy),
 * discover_pkg.c (package.json) and discover_schema.c (the Prisma schema).
 * Not for other modules.
 */
#ifndef DBS_DISCOVER_INTERNAL_H
#define DBS_DISCOVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Writes a message into err (when errlen > 0) and returns -EINVAL, for
 * `return dbs_discover_seterr(...)`. */
int dbs_discover_seterr(char* err, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* stat(2) says a regular file / a directory (symlinks followed). */
bool dbs_discover_is_file(const char* p);
bool dbs_discover_is_dir(const char* p);

/* ---- package.json (discover_pkg.c) ---------------------------------- */

/* What the nearest package.json says; every string owned. */
struct dbs_discover_pkg {
  char* path; /* absolute path of the nearest package.json, or NULL */
  char* dir;
  char* schema; /* prisma.schema as written */
  unsigned schema_line;
  char* seed; /* prisma.seed */
};

/*
 * Finds the nearest package.json, from the absolute directory cwd upward,
 * and reads prisma.schema and prisma.seed from it. None found is not an
 * error (pkg->path stays NULL). Returns 0, -ENOMEM, or -EINVAL with a
 * message naming the file, the line and the fix in err. The caller frees
 * *pkg with dbs_discover_pkg_free, also after an error.
 */
int dbs_discover_pkg_load(const char* cwd, struct dbs_discover_pkg* pkg,
                          char* err, size_t errlen);

/* Frees every string of pkg and zeroes it. */
void dbs_discover_pkg_free(struct dbs_discover_pkg* pkg);

/* ---- Prisma schema (discover_schema.c) ------------------------------ */

/* One datasource block; every string owned. */
struct dbs_discover_datasource {
  char* name;
  char* file; /* absolute path of the .prisma file */
  char* dir;  /* its directory: where relative URLs resolve */
  unsigned line;
  char* provider;
  unsigned provider_line;
  char* url;     /* url = "..." */
  char* url_env; /* url = env("X") */
  unsigned url_line;
  bool has_url;
};

/* The datasource blocks of a schema (file or folder). */
struct dbs_discover_schema {
  struct dbs_discover_datasource* ds; /* every datasource block found */
  size_t nds;
};

/*
 * Parses the schema file at the absolute path, or every *.prisma file
 * below it when folder is true (sorted; node_modules and hidden folders
 * skipped), appending their datasource blocks to s. Returns 0, -ENOMEM, or
 * -EINVAL with a message naming the file, the line and the fix in err. The
 * caller frees *s with dbs_discover_schema_free, also after an error.
 */
int dbs_discover_schema_load(const char* path, bool folder,
                             struct dbs_discover_schema* s, char* err,
                             size_t errlen);

/* Checks the datasources: at most one, each with a provider. Returns 0 or
 * -EINVAL with the message in err. */
int dbs_discover_schema_check(const struct dbs_discover_schema* s, char* err,
                              size_t errlen);

/* Frees every datasource of s and zeroes it. */
void dbs_discover_schema_free(struct dbs_discover_schema* s);

#endif
