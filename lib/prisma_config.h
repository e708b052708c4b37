/*
 * prisma_config: a static reader of Prisma's config file (prisma.config.ts
 * and its siblings), which holds the schema path, the migrations folder,
 * the seed command and, from Prisma 7 on, the datasource url. The file is
 * TypeScript or JavaScript; it is tokenized, never run. What is read:
 *
 *   export default defineConfig({ ... })   (or export default { ... },
 *   module.exports = ..., export default NAME with const NAME = ...)
 *     schema: "..."
 *     migrations: { path: "...", seed: "..." }
 *     datasource: { url: ... }
 *
 * Each value may be a string literal (quotes, or a template without ${}),
 * env("X"), process.env.X, process.env["X"], path.join(...)/resolve(...)
 * of those with __dirname, import.meta.dirname and process.cwd(), and
 * "||", "??" and "+" between them. Variables are read from the
 * environment; when the file imports dotenv ("dotenv/config" or
 * dotenv.config()), a variable missing there is read from ./.env, as
 * dotenv would. Anything else makes that one key unreadable.
 */
#ifndef DBS_PRISMA_CONFIG_H
#define DBS_PRISMA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* One key of the config. */
struct dbs_prisma_config_value {
  bool present;  /* the key is written in the file */
  bool readable; /* its value could be read without running the file */
  char* value;   /* the string; NULL when it is undefined (variable unset) */
  char* env;     /* the first environment variable it reads, or NULL */
  bool env_required; /* env("X") with X unset: Prisma's loader throws */
  unsigned line;     /* 1-based line of the key */
};

struct dbs_prisma_config {
  char* file;  /* absolute path of the config file */
  char* dir;   /* its folder: relative schema/migrations paths resolve here */
  bool dotenv; /* the file loads .env through dotenv */
  bool found_export; /* the exported object was found */
  struct dbs_prisma_config_value schema;
  struct dbs_prisma_config_value migrations_path;
  struct dbs_prisma_config_value seed;
  struct dbs_prisma_config_value url;
};

/*
 * The config file Prisma 7 loads from dir (absolute): prisma7.config.*,
 * .config/prisma7.*, then prisma.config.*, prisma.config/index.*,
 * .config/prisma.*, .config/prisma/index.*, .config/prisma.config.*,
 * .config/prisma.config/index.*, each with .js .ts .mjs .cjs .mts .cts in
 * that order (checked against Prisma 7.10.1's loader). Sets *out (caller
 * frees) or NULL; -ENOMEM. *unsupported is set to a file with an extension
 * Prisma finds but refuses (.json, .yaml...), when that is what it finds.
 */
int dbs_prisma_config_find(const char* dir, char** out, char** unsupported);

/*
 * Reads path (absolute). cwd is where process.cwd() and ./.env point.
 * Returns 0, -ENOMEM, or -EINVAL with a message naming the file, the
 * problem and the flags that make the file unnecessary (an unreadable
 * file: bad UTF-8 in a string, unclosed comment, larger than 1 MiB).
 * Keys that are merely unreadable are not errors: see .readable.
 */
int dbs_prisma_config_read(const char* path, const char* cwd,
                           struct dbs_prisma_config* out, char* err,
                           size_t errlen);

void dbs_prisma_config_free(struct dbs_prisma_config* c);

#endif
