/* Unit tests for discover: real files in a temporary directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "discover.h"
#include "log.h"

static char tmp[PATH_MAX]; /* the test's directory (also its cwd) */
static char oldcwd[PATH_MAX];
static char err[1024];
static struct dbs_config cfg;
static struct dbs_discovery d;
static int saved_stderr = -1;
static char logpath[PATH_MAX + 16];

static const char* const env_used[] = {"DATABASE_URL", "MY_DB_URL", "X_URL",
                                       NULL};

static int rm_cb(const char* p, const struct stat* st, int flag,
                 struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static int setup(void** state) {
  (void)state;
  assert_non_null(getcwd(oldcwd, sizeof(oldcwd)));
  snprintf(tmp, sizeof(tmp), "/tmp/dbs-discover-XXXXXX");
  assert_non_null(mkdtemp(tmp));
  /* Work in a subfolder so that "nearest package.json upward" never
   * reaches a stray /tmp/package.json. */
  char* sub;
  assert_true(asprintf(&sub, "%s/app", tmp) > 0);
  assert_int_equal(mkdir(sub, 0755), 0);
  assert_int_equal(chdir(sub), 0);
  strcpy(tmp, sub);
  free(sub);
  for (size_t i = 0; env_used[i] != NULL; i++)
    unsetenv(env_used[i]);
  memset(&cfg, 0, sizeof(cfg));
  cfg.volume = "/data";
  memset(&d, 0, sizeof(d));
  err[0] = '\0';
  return 0;
}

static int teardown(void** state) {
  (void)state;
  dbs_discover_free(&d);
  assert_int_equal(chdir(oldcwd), 0);
  char* top = strdup(tmp);
  *strrchr(top, '/') = '\0'; /* remove the parent made by mkdtemp */
  nftw(top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free(top);
  for (size_t i = 0; env_used[i] != NULL; i++)
    unsetenv(env_used[i]);
  return 0;
}

/* Writes rel (relative to the cwd), creating its folders. */
static void put(const char* rel, const char* text) {
  char* p = strdup(rel);
  for (char* s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
    *s = '\0';
    mkdir(p, 0755);
    *s = '/';
  }
  FILE* f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
  free(p);
}

/* <tmp>/rel, in a static buffer. */
static const char* at(const char* rel) {
  static char buf[4][PATH_MAX + 64];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmp, rel);
  return buf[i];
}

static void capture_start(void) {
  snprintf(logpath, sizeof(logpath), "%s/../log.txt", tmp);
  int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  saved_stderr = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
}

/* Stops capturing and returns what was logged (static buffer). */
static const char* capture_stop(void) {
  static char buf[8192];
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  FILE* f = fopen(logpath, "rb");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  fputs(buf, stderr); /* keep it visible in the test output */
  return buf;
}

static int run(const struct dbs_litestream_config* ls) {
  dbs_discover_free(&d);
  err[0] = '\0';
  int rc = dbs_discover(&cfg, ls, &d, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "  (error: %s)\n", err);
  return rc;
}

static void expect_db(enum dbs_db_source source, const char* path) {
  assert_int_equal(run(NULL), 0);
  assert_int_equal(d.source, source);
  assert_non_null(d.db_path);
  assert_string_equal(d.db_path, path);
}

/* The error happened, and its message contains each of the strings. */
static void expect_einval(const struct dbs_litestream_config* ls, ...) {
  va_list ap;
  assert_int_equal(run(ls), -EINVAL);
  assert_null(d.db_path);
  va_start(ap, ls);
  for (const char* s = va_arg(ap, const char*); s != NULL;
       s = va_arg(ap, const char*)) {
    if (strstr(err, s) == NULL)
      fail_msg("message \"%s\" lacks \"%s\"", err, s);
  }
  va_end(ap);
}

static const char* schema_with(const char* url_line) {
  static char buf[1024];
  snprintf(buf, sizeof(buf),
           "generator client {\n  provider = \"prisma-client-js\"\n}\n\n"
           "datasource db {\n  provider = \"sqlite\"\n  %s\n}\n\n"
           "model User {\n  id Int @id @default(autoincrement())\n"
           "  name String @default(\"{ not a block }\")\n}\n",
           url_line);
  return buf;
}

/* ---- the order ---- */

static void test_nothing_found(void** state) {
  (void)state;
  assert_int_equal(run(NULL), 0);
  assert_int_equal(d.source, DBS_DB_NONE);
  assert_null(d.db_path);
  assert_null(d.schema_path);
  assert_null(d.seed);
  assert_null(d.set_env_name);
  assert_string_equal(dbs_discover_source_name(d.source), "none");
}

static void test_db_option_relative(void** state) {
  (void)state;
  cfg.db = "sub/../prisma/./dev.db";
  expect_db(DBS_DB_OPTION, at("prisma/dev.db"));
  cfg.db = "/abs//x.db";
  expect_db(DBS_DB_OPTION, "/abs/x.db");
}

static void test_option_beats_database_url_beats_schema(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with("url = \"file:./dev.db\""));
  setenv("DATABASE_URL", "file:/env/x.db", 1);
  cfg.db = "opt.db";
  expect_db(DBS_DB_OPTION, at("opt.db"));
  cfg.db = NULL;
  expect_db(DBS_DB_DATABASE_URL, "/env/x.db");
  unsetenv("DATABASE_URL");
  expect_db(DBS_DB_PRISMA, at("prisma/dev.db"));
  assert_string_equal(d.schema_path, at("prisma/schema.prisma"));
  assert_string_equal(d.provider, "sqlite");
}

static void test_database_url_forms(void** state) {
  (void)state;
  static const struct {
    const char* url;
    const char* rel; /* expected, relative to tmp; NULL: take abs */
    const char* abs;
  } cases[] = {
      {"file:./x.db?connection_limit=1", "x.db", NULL},
      {"file:x.db", "x.db", NULL},
      {"file:../up.db", NULL, NULL}, /* computed below */
      {"file:/data/app.db?socket_timeout=10&connection_limit=1", NULL,
       "/data/app.db"},
      {"file:///data/app.db", NULL, "/data/app.db"},
      {"sqlite:/data/s.db", NULL, "/data/s.db"},
      {"sqlite:rel.db", "rel.db", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    setenv("DATABASE_URL", cases[i].url, 1);
    char want[PATH_MAX + 64];
    if (cases[i].rel != NULL)
      snprintf(want, sizeof(want), "%s", at(cases[i].rel));
    else if (cases[i].abs != NULL)
      snprintf(want, sizeof(want), "%s", cases[i].abs);
    else {
      snprintf(want, sizeof(want), "%s", tmp);
      *strrchr(want, '/') = '\0';
      strcat(want, "/up.db");
    }
    expect_db(DBS_DB_DATABASE_URL, want);
  }
  /* Not a file URL: not ours, nothing else found. */
  setenv("DATABASE_URL", "postgresql://u:hunter22@db/app", 1);
  assert_int_equal(run(NULL), 0);
  assert_int_equal(d.source, DBS_DB_NONE);
  /* A file URL without a path. */
  setenv("DATABASE_URL", "file:?mode=memory", 1);
  expect_einval(NULL, "DATABASE_URL", "file:/data/app.db", NULL);
}

/* A relative DATABASE_URL read by the schema's env() resolves against
 * the schema's folder, as Prisma does; the cwd otherwise. */
static void test_database_url_relative_to_schema(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with("url = env(\"DATABASE_URL\")"));
  setenv("DATABASE_URL", "file:./dev.db", 1);
  expect_db(DBS_DB_DATABASE_URL, at("prisma/dev.db"));
  assert_null(d.set_env_name);
  put("prisma/schema.prisma", schema_with("url = env(\"MY_DB_URL\")"));
  expect_db(DBS_DB_DATABASE_URL, at("dev.db"));
  /* The schema's own variable is unset: it gets the same database. */
  assert_string_equal(d.set_env_name, "MY_DB_URL");
  char want[PATH_MAX + 80];
  snprintf(want, sizeof(want), "file:%s", at("dev.db"));
  assert_string_equal(d.set_env_value, want);
}

/* ---- Prisma url forms ---- */

static void test_schema_url_forms(void** state) {
  (void)state;
  static const struct {
    const char* line;
    const char* rel;
    const char* abs;
  } cases[] = {
      {"url = \"file:./dev.db\"", "prisma/dev.db", NULL},
      {"url = \"file:dev.db\"", "prisma/dev.db", NULL},
      {"url=\"file:../data/dev.db\"", "data/dev.db", NULL},
      {"url = \"file:./sub/dir/dev.db?connection_limit=1\"",
       "prisma/sub/dir/dev.db", NULL},
      {"url = \"file:/var/lib/app.db\"", NULL, "/var/lib/app.db"},
      {"url = \"file:///var/lib/app.db?mode=rwc\"", NULL, "/var/lib/app.db"},
      {"url = \"sqlite:./s.db\"", "prisma/s.db", NULL},
      {"url = \"file:./caf\\u00e9 \\\"q\\\".db\"",
       "prisma/caf\xc3\xa9 \"q\".db", NULL},
      {"url = \"file:./a\\\\b.db\"", "prisma/a\\b.db", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    put("prisma/schema.prisma", schema_with(cases[i].line));
    expect_db(DBS_DB_PRISMA, cases[i].abs ? cases[i].abs : at(cases[i].rel));
    assert_null(d.set_env_name);
    assert_null(d.url_env);
  }
  /* ./schema.prisma comes before ./prisma/schema.prisma. */
  put("schema.prisma", schema_with("url = \"file:./top.db\""));
  expect_db(DBS_DB_PRISMA, at("top.db"));
  assert_string_equal(d.schema_path, at("schema.prisma"));
}

static void test_schema_comments(void** state) {
  (void)state;
  put("prisma/schema.prisma",
      "\xef\xbb\xbf// url = \"file:./top-comment.db\"\n"
      "/* datasource old {\n  provider = \"sqlite\"\n  url = "
      "\"file:./old.db\"\n} */\n"
      "generator client {\n  provider = \"prisma-client-js\" // \"x\"\n}\n"
      "/// The database.\n"
      "datasource db { // url = \"file:./brace-comment.db\"\n"
      "  provider = \"sqlite\" // provider = \"postgresql\"\n"
      "  /// url = \"file:./doc-comment.db\"\n"
      "  // url      = \"file:./commented.db\"\n"
      "  /* url = \"file:./block.db\" */\n"
      "  url      = \"file:./right.db\" // url = \"file:./after.db\"\n"
      "  relationMode = \"prisma\"\n"
      "  extensions = [pg_trgm, postgis(version: \"2.1\")]\n"
      "}\n"
      "model Post {\n"
      "  id    Int    @id @default(autoincrement())\n"
      "  title String @default(\"datasource x { url = \\\"file:./no.db\\\" "
      "}\")\n"
      "  body  String @default(\"// not a comment\")\n"
      "  @@index([title, body])\n"
      "}\n"
      "enum Role {\n  USER\n  ADMIN\n}\n");
  expect_db(DBS_DB_PRISMA, at("prisma/right.db"));
  char want[PATH_MAX + 64];
  snprintf(want, sizeof(want), "%s:10", at("prisma/schema.prisma"));
  assert_string_equal(d.datasource, want);
}

static void test_schema_env_set(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with("url = env( \"X_URL\" )"));
  setenv("X_URL", "file:./from-env.db?connection_limit=1", 1);
  expect_db(DBS_DB_PRISMA, at("prisma/from-env.db"));
  assert_string_equal(d.url_env, "X_URL");
  assert_null(d.set_env_name);
  assert_null(d.set_env_value);
  setenv("X_URL", "file:/abs/e.db", 1);
  expect_db(DBS_DB_PRISMA, "/abs/e.db");
}

static void test_schema_env_unset(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with("url = env(\"DATABASE_URL\")"));
  capture_start();
  int rc = run(NULL);
  const char* log = capture_stop();
  assert_int_equal(rc, 0);
  assert_int_equal(d.source, DBS_DB_PRISMA);
  assert_string_equal(d.db_path, "/data/sqlite.db");
  assert_string_equal(d.set_env_name, "DATABASE_URL");
  assert_string_equal(d.set_env_value, "file:/data/sqlite.db");
  assert_non_null(strstr(log, "info: DATABASE_URL is not set"));
  assert_non_null(strstr(log, "DATABASE_URL=file:/data/sqlite.db"));
  /* Set but empty counts as unset (Prisma rejects an empty URL). */
  setenv("DATABASE_URL", "", 1);
  cfg.volume = "vol";
  expect_db(DBS_DB_PRISMA, at("vol/sqlite.db"));
  assert_string_equal(d.set_env_name, "DATABASE_URL");
  char want[PATH_MAX + 80];
  snprintf(want, sizeof(want), "file:%s", at("vol/sqlite.db"));
  assert_string_equal(d.set_env_value, want);
  /* --db names the DB: the variable gets that path. */
  cfg.db = "/srv/app.db";
  expect_db(DBS_DB_OPTION, "/srv/app.db");
  assert_string_equal(d.set_env_value, "file:/srv/app.db");
}

static void test_schema_env_not_file(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with("url = env(\"X_URL\")"));
  setenv("X_URL", "postgresql://user:s3cretpw@db:5432/app", 1);
  expect_einval(NULL, "schema.prisma:7", "X_URL", "file:", NULL);
  assert_null(strstr(err, "s3cretpw"));
  put("prisma/schema.prisma", schema_with("url = \"mysql://u:s3cretpw@h/db\""));
  expect_einval(NULL, "schema.prisma:7", "file:./dev.db", NULL);
  assert_null(strstr(err, "s3cretpw"));
  put("prisma/schema.prisma", schema_with("url = \"file:\""));
  expect_einval(NULL, "schema.prisma:7", "no path", NULL);
}

static void test_postgres_provider(void** state) {
  (void)state;
  put("prisma/schema.prisma",
      "datasource db {\n  provider = \"postgresql\"\n  url = "
      "env(\"DATABASE_URL\")\n  directUrl = env(\"DIRECT_URL\")\n}\n");
  mkdir("prisma/migrations", 0755);
  setenv("DATABASE_URL", "postgresql://u:pw12345@h/db", 1);
  struct dbs_db_config dbs[1] = {{.path = (char*)"/data/x.db"}};
  struct dbs_litestream_config ls = {
      .file = (char*)"/app/litestream.yml", .dbs = dbs, .ndbs = 1};
  capture_start();
  int rc = run(&ls);
  const char* log = capture_stop();
  assert_int_equal(rc, 0);
  assert_int_equal(d.source, DBS_DB_NONE);
  assert_null(d.db_path);
  assert_string_equal(d.provider, "postgresql");
  assert_null(d.set_env_name);
  assert_string_equal(d.migrations_dir, at("prisma/migrations"));
  assert_non_null(strstr(log, "info: "));
  assert_non_null(strstr(log, "\"postgresql\""));
  assert_null(strstr(log, "pw12345"));
  /* An explicit --db still wins. */
  cfg.db = "x.db";
  expect_db(DBS_DB_OPTION, at("x.db"));
}

static void test_two_datasources(void** state) {
  (void)state;
  put("prisma/schema.prisma",
      "datasource a {\n  provider = \"sqlite\"\n  url = \"file:./a.db\"\n}\n"
      "\n"
      "datasource b {\n  provider = \"sqlite\"\n  url = \"file:./b.db\"\n}\n");
  expect_einval(NULL, "schema.prisma:1", "schema.prisma:6", "--db", NULL);
  /* Even with --db the schema is broken for Prisma: still an error. */
  cfg.db = "x.db";
  expect_einval(NULL, "datasource", NULL);
}

static void test_unparseable_schemas(void** state) {
  (void)state;
  static const struct {
    const char* text;
    const char* want;
  } cases[] = {
      {"datasource db {\n  provider = \"sqlite\n  url = \"file:./x.db\"\n}\n",
       "schema.prisma:2: a string is not closed"},
      {"datasource db {\n  provider = \"sqlite\"\n  url = \"file:./x.db\"\n",
       "schema.prisma:1: datasource db is never closed"},
      {"model A {\n  id Int @id\n\ndatasource db {\n}\n",
       "schema.prisma:1: this '{' is never closed"},
      {"datasource db {\n  provider \"sqlite\"\n}\n",
       "schema.prisma:2: expected '='"},
      {"datasource db {\n  provider = \"sqlite\"\n  url = file\n}\n",
       "schema.prisma:3: url must be a string"},
      {"datasource db {\n  provider = env(\"P\")\n  url = \"file:x\"\n}\n",
       "schema.prisma:2: provider must be a string"},
      {"datasource db {\n  provider = \"sqlite\"\n  url = env(X)\n}\n",
       "schema.prisma:3: env() needs a variable name"},
      {"datasource db {\n  provider = \"sqlite\"\n  url = \"file:a\"\n  url = "
       "\"file:b\"\n}\n",
       "schema.prisma:4: url is set twice"},
      {"datasource db {\n  url = \"file:./x.db\"\n}\n",
       "schema.prisma:1: datasource db has no provider"},
      {"datasource db {\n  provider = \"sqlite\"\n}\n",
       "datasource db has no url"},
      {"\n\n  } model A {}\n", "schema.prisma:3: expected a block"},
      {"model A {\n id Int # x\n}\n", "schema.prisma:2: unexpected '#'"},
      {"/* never closed\ndatasource db {}\n", "schema.prisma:1: a /* comment"},
      {"model A {\n  id Int @default(now(]\n}\n", "schema.prisma:2: ']' where"},
      {"model A {\n  a String @default(\"x\ty\")\n}\n",
       "schema.prisma:2: a string holds control character 0x09"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    put("prisma/schema.prisma", cases[i].text);
    expect_einval(NULL, cases[i].want, NULL);
  }
}

/* Prisma 7: no url in the schema, and none in prisma.config.ts either:
 * Prisma itself cannot run, so neither does dbsetup unless --db,
 * DATABASE_URL or litestream.yml names the file. */
static void test_prisma7_without_url(void** state) {
  (void)state;
  put("prisma/schema.prisma", "datasource db {\n  provider = \"sqlite\"\n}\n");
  put("prisma.config.ts", "export default {}\n");
  expect_einval(NULL, "has no datasource.url", "prisma.config.ts", "--db",
                NULL);
  setenv("DATABASE_URL", "file:./dev.db", 1);
  expect_db(DBS_DB_DATABASE_URL, at("dev.db"));
  unsetenv("DATABASE_URL");
  struct dbs_db_config dbs[1] = {{.path = (char*)"/data/ls.db"}};
  struct dbs_litestream_config ls = {.dbs = dbs, .ndbs = 1};
  assert_int_equal(run(&ls), 0);
  assert_int_equal(d.source, DBS_DB_LITESTREAM);
  assert_string_equal(d.db_path, "/data/ls.db");
  /* No config at all: the message says where it was looked for. */
  unlink("prisma.config.ts");
  expect_einval(NULL, "no prisma.config.ts in", "--prisma-config", NULL);
}

/* What `prisma init` sets up in Prisma 7: the config at the root, the
 * schema in prisma/, a relative url. The adapter opens it against the
 * app's working directory (the root), not the schema's folder. */
static void test_prisma7_layout(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with(""));
  mkdir("prisma/migrations", 0755);
  mkdir("db", 0755);
  mkdir("db/migrations", 0755);
  put("package.json", "{\"prisma\": {\"seed\": \"node old-seed.js\"}}\n");
  put("prisma.config.ts",
      "import 'dotenv/config'\n"
      "import { defineConfig, env } from 'prisma/config'\n"
      "export default defineConfig({\n"
      "  schema: 'prisma/schema.prisma',\n"
      "  migrations: { path: 'db/migrations', seed: 'tsx prisma/seed.ts' },\n"
      "  datasource: { url: process.env.DATABASE_URL ?? 'file:./dev.db' },\n"
      "})\n");
  expect_db(DBS_DB_PRISMA_CONFIG, at("dev.db"));
  assert_string_equal(dbs_discover_source_name(d.source), "the Prisma config");
  assert_string_equal(d.prisma_config, at("prisma.config.ts"));
  assert_string_equal(d.schema_path, at("prisma/schema.prisma"));
  assert_string_equal(d.migrations_dir, at("db/migrations"));
  /* migrations.seed; package.json is not read by Prisma 7. */
  assert_string_equal(d.seed, "tsx prisma/seed.ts");
  assert_null(d.set_env_name);
  /* DATABASE_URL set: the adapter and the CLI both get it, against the
   * working directory. */
  setenv("DATABASE_URL", "file:./other.db", 1);
  expect_db(DBS_DB_DATABASE_URL, at("other.db"));
  unsetenv("DATABASE_URL");
  /* Run from elsewhere without --prisma-config: Prisma finds no config
   * there, and neither does dbsetup. */
  assert_int_equal(chdir("db"), 0);
  assert_int_equal(run(NULL), 0);
  assert_int_equal(d.source, DBS_DB_NONE);
  assert_null(d.prisma_config);
  /* With --prisma-config (as prisma --config): the CLI resolves the url
   * against the config's folder, the app against its own cwd. */
  cfg.prisma_config = "../prisma.config.ts";
  capture_start();
  int rc = run(NULL);
  const char* log = capture_stop();
  assert_int_equal(rc, 0);
  assert_int_equal(d.source, DBS_DB_PRISMA_CONFIG);
  assert_string_equal(d.db_path, at("db/dev.db"));
  assert_string_equal(d.schema_path, at("prisma/schema.prisma"));
  assert_string_equal(d.migrations_dir, at("db/migrations"));
  assert_non_null(strstr(log, "prisma migrate --config"));
  assert_non_null(strstr(log, at("dev.db")));
  assert_non_null(strstr(log, at("db/dev.db")));
  cfg.prisma_config = "../missing.ts";
  expect_einval(NULL, "--prisma-config ../missing.ts", "no such file", NULL);
  assert_int_equal(chdir(".."), 0);
  cfg.prisma_config = NULL;
  /* An absolute url: no difference to warn about. */
  put("prisma.config.ts", "export default { schema: 'prisma/schema.prisma', "
                          "datasource: { url: 'file:/data/app.db' } }\n");
  expect_db(DBS_DB_PRISMA_CONFIG, "/data/app.db");
  /* --db wins, with a warning when it is not the file the app opens. */
  cfg.db = "/data/other.db";
  capture_start();
  rc = run(NULL);
  log = capture_stop();
  assert_int_equal(rc, 0);
  assert_string_equal(d.db_path, "/data/other.db");
  assert_non_null(strstr(log, "datasource.url"));
  assert_non_null(strstr(log, "/data/app.db"));
}

/* env("DATABASE_URL") unset: every child gets it, on the volume. */
static void test_prisma7_env_unset(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with(""));
  put("prisma.config.ts",
      "import { defineConfig, env } from 'prisma/config'\n"
      "export default defineConfig({ schema: 'prisma/schema.prisma',\n"
      "  datasource: { url: env('DATABASE_URL') } })\n");
  put(".env", "DATABASE_URL=file:./from-dotenv.db\n");
  expect_db(DBS_DB_PRISMA_CONFIG, "/data/sqlite.db");
  assert_string_equal(d.set_env_name, "DATABASE_URL");
  assert_string_equal(d.set_env_value, "file:/data/sqlite.db");
  /* With dotenv imported, Prisma sees .env, and so does dbsetup. */
  put("prisma.config.ts",
      "import 'dotenv/config'\n"
      "import { defineConfig, env } from 'prisma/config'\n"
      "export default defineConfig({ schema: 'prisma/schema.prisma',\n"
      "  datasource: { url: env('DATABASE_URL') } })\n");
  expect_db(DBS_DB_PRISMA_CONFIG, at("from-dotenv.db"));
  assert_null(d.set_env_name);
}

/* What dbsetup cannot read statically is an error naming the flag. */
static void test_prisma7_unreadable(void** state) {
  (void)state;
  put("prisma/schema.prisma", schema_with(""));
  put("prisma.config.ts",
      "import { defineConfig } from 'prisma/config'\n"
      "export default defineConfig({\n"
      "  schema: 'prisma/schema.prisma',\n"
      "  datasource: { url: `file:${process.env.DIR}/dev.db` },\n"
      "})\n");
  expect_einval(NULL, "prisma.config.ts:4", "datasource.url", "--db", NULL);
  cfg.db = "/data/x.db";
  expect_db(DBS_DB_OPTION, "/data/x.db");
  cfg.db = NULL;
  struct dbs_db_config dbs[1] = {{.path = (char*)"/data/ls.db"}};
  struct dbs_litestream_config ls = {.dbs = dbs, .ndbs = 1};
  assert_int_equal(run(&ls), 0);
  assert_int_equal(d.source, DBS_DB_LITESTREAM);
  put("prisma.config.ts", "export default { schema: getSchema(), "
                          "datasource: { url: 'file:./a.db' } }\n");
  expect_einval(NULL, "prisma.config.ts:1", "schema", "--schema", NULL);
  cfg.schema = "prisma/schema.prisma";
  expect_db(DBS_DB_PRISMA_CONFIG, at("a.db"));
  put("prisma.config.ts", "export default { migrations: { seed: cmd }, "
                          "datasource: { url: 'file:./a.db' } }\n");
  expect_einval(NULL, "migrations.seed", "--seed", NULL);
  cfg.seed = "";
  expect_db(DBS_DB_PRISMA_CONFIG, at("a.db"));
  put("prisma.config.ts", "export default { migrations: { path: p }, "
                          "datasource: { url: 'file:./a.db' } }\n");
  expect_einval(NULL, "migrations.path", "--prisma-migrations", NULL);
  put("prisma.config.json", "{}");
  unlink("prisma.config.ts");
  expect_einval(NULL, "prisma.config.json", "Unsupported", NULL);
}

/* Prisma 7 with a multi-file schema folder named by the config. */
static void test_prisma7_schema_folder(void** state) {
  (void)state;
  put("prisma/schema/models/user.prisma", "model User {\n  id Int @id\n}\n");
  put("prisma/schema/base.prisma",
      "datasource db {\n  provider = \"sqlite\"\n}\n");
  mkdir("prisma/schema/migrations", 0755);
  put("prisma.config.ts", "export default { schema: 'prisma/schema', "
                          "datasource: { url: 'file:./f.db' } }\n");
  expect_db(DBS_DB_PRISMA_CONFIG, at("f.db"));
  assert_string_equal(d.schema_path, at("prisma/schema"));
  assert_string_equal(d.migrations_dir, at("prisma/schema/migrations"));
  assert_string_equal(d.provider, "sqlite");
  /* A postgres schema: the config's url is not a file. */
  put("prisma/schema/base.prisma",
      "datasource db {\n  provider = \"postgresql\"\n}\n");
  put("prisma.config.ts", "export default { schema: 'prisma/schema', "
                          "datasource: { url: 'postgres://x/y' } }\n");
  assert_int_equal(run(NULL), 0);
  assert_int_equal(d.source, DBS_DB_NONE);
  /* An sqlite schema with a URL that is not file: is refused. */
  put("prisma/schema/base.prisma",
      "datasource db {\n  provider = \"sqlite\"\n}\n");
  expect_einval(NULL, "does not start with file:", NULL);
}

/* A schema in the shape real apps write (test/fixtures/discover). */
static void test_realistic_schema(void** state) {
  (void)state;
  char src[PATH_MAX];
  const char* fx = getenv("DBS_FIXTURES");
  if (fx != NULL)
    snprintf(src, sizeof(src), "%s/discover/realistic.prisma", fx);
  else {
    snprintf(src, sizeof(src), "%s", __FILE__);
    *strrchr(src, '/') = '\0';
    strcat(src, "/../fixtures/discover/realistic.prisma");
  }
  FILE* f = fopen(src, "rb");
  assert_non_null(f);
  static char text[16384];
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  fclose(f);
  text[n] = '\0';
  put("prisma/schema.prisma", text);
  mkdir("prisma/migrations", 0755);
  assert_int_equal(run(NULL), 0);
  assert_int_equal(d.source, DBS_DB_PRISMA);
  assert_string_equal(d.db_path, "/data/sqlite.db");
  assert_string_equal(d.url_env, "DATABASE_URL");
  assert_string_equal(d.set_env_name, "DATABASE_URL");
  assert_string_equal(d.migrations_dir, at("prisma/migrations"));
  char want[PATH_MAX + 64];
  snprintf(want, sizeof(want), "%s:18", at("prisma/schema.prisma"));
  assert_string_equal(d.datasource, want);
  setenv("DATABASE_URL", "file:./dev.db?connection_limit=1", 1);
  expect_db(DBS_DB_DATABASE_URL, at("prisma/dev.db"));
  assert_null(d.set_env_name);
}

/* ---- package.json ---- */

static void test_package_json_schema_and_seed(void** state) {
  (void)state;
  put("package.json",
      "{\n\t\"name\": \"app\",\n\t\"scripts\": {\"start\": \"node x\"},\n"
      "\t\"prisma\":{\"schema\":\"db/custom.prisma\",\n"
      "\t\t\"seed\": \"node \\\"prisma/seed.js\\\" caf\\u00e9\\/x\"}\n}\n");
  put("db/custom.prisma", schema_with("url = \"file:./c.db\""));
  put("prisma/schema.prisma", schema_with("url = \"file:./wrong.db\""));
  mkdir("db/migrations", 0755);
  expect_db(DBS_DB_PRISMA, at("db/c.db"));
  assert_string_equal(d.schema_path, at("db/custom.prisma"));
  assert_string_equal(d.seed, "node \"prisma/seed.js\" caf\xc3\xa9/x");
  assert_string_equal(d.migrations_dir, at("db/migrations"));
  /* --seed given: the discovery leaves seed alone. */
  cfg.seed = "echo given";
  expect_db(DBS_DB_PRISMA, at("db/c.db"));
  assert_null(d.seed);
  /* --schema beats package.json. */
  cfg.schema = "prisma/schema.prisma";
  expect_db(DBS_DB_PRISMA, at("prisma/wrong.db"));
  assert_null(d.migrations_dir);
  /* --prisma-migrations overrides the folder. */
  cfg.prisma_migrations = "elsewhere/m";
  expect_db(DBS_DB_PRISMA, at("prisma/wrong.db"));
  assert_string_equal(d.migrations_dir, at("elsewhere/m"));
}

/* The nearest package.json upward; prisma.schema is relative to it. */
static void test_package_json_upward(void** state) {
  (void)state;
  put("package.json", "{\"prisma\": {\"schema\": \"s/schema.prisma\", "
                      "\"seed\": \"tsx seed.ts\"}}");
  put("s/schema.prisma", schema_with("url = \"file:./up.db\""));
  mkdir("deep", 0755);
  mkdir("deep/er", 0755);
  assert_int_equal(chdir("deep/er"), 0);
  assert_int_equal(run(NULL), 0);
  assert_int_equal(chdir(tmp), 0);
  assert_int_equal(d.source, DBS_DB_PRISMA);
  assert_string_equal(d.db_path, at("s/up.db"));
  assert_string_equal(d.seed, "tsx seed.ts");
}

static void test_package_json_errors(void** state) {
  (void)state;
  put("package.json", "{\n  \"name\": \"app\",\n  \"prisma\": {\"schema\": "
                      "\"nope/schema.prisma\"}\n}\n");
  expect_einval(NULL, "package.json:3", "nope/schema.prisma", "--schema", NULL);
  put("package.json", "{\n  \"name\": \"app\"\n  \"version\": \"1\"\n}\n");
  expect_einval(NULL, "package.json:3:", "--schema and --seed", NULL);
  put("package.json", "{\"prisma\": {\"seed\": [\"node\", \"s.js\"]}}");
  expect_einval(NULL, "must be a string", "--seed", NULL);
  put("package.json", "{\"prisma\": {\"seed\": null}}");
  expect_einval(NULL, "must be a string", NULL);
  put("package.json", "[1, 2]");
  expect_einval(NULL, "not a JSON object", NULL);
  put("package.json", "");
  expect_einval(NULL, "empty", NULL);
  put("package.json", "{\"e\": \"\\ud83d\\ude00\"}");
  expect_einval(NULL, "package.json:1:", "surrogate", NULL);
  /* "prisma" that is not an object is ignored, as Prisma does; a
   * "prisma" key deeper down is not ours. */
  put("package.json", "{\"prisma\": \"^6.0.0\", \"devDependencies\": "
                      "{\"prisma\": {\"seed\": \"no\"}}}");
  assert_int_equal(run(NULL), 0);
  assert_null(d.seed);
  /* With --schema and --seed given, package.json is not read at all. */
  cfg.schema = "none.prisma";
  put("none.prisma", "");
  cfg.seed = "true";
  assert_int_equal(run(NULL), 0);
  assert_int_equal(d.source, DBS_DB_NONE);
  /* --schema that does not exist. */
  cfg.schema = "missing.prisma";
  expect_einval(NULL, "--schema missing.prisma", NULL);
}

/* A real app's package.json can be large: streamed, not loaded as a tree. */
static void test_package_json_large(void** state) {
  (void)state;
  FILE* f = fopen("package.json", "wb");
  assert_non_null(f);
  fputs("{\"name\": \"big\", \"dependencies\": {", f);
  for (int i = 0; i < 100000; i++)
    fprintf(f,
            "%s\"pkg-%d\": {\"version\": \"^1.%d.0\", \"list\": [1, 2, "
            "{\"a\": \"\\u00e9\"}]}",
            i ? ", " : "", i, i);
  fputs("},\n\"prisma\": {\"seed\": \"node seed.js\"}}\n", f);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(run(NULL), 0);
  assert_string_equal(d.seed, "node seed.js");
}

/* A multi-file schema: a folder; URLs resolve against the file holding
 * the datasource. */
static void test_schema_folder(void** state) {
  (void)state;
  put("prisma/schema/models/user.prisma", "model User {\n  id Int @id\n}\n");
  put("prisma/schema/db/ds.prisma",
      "datasource db {\n  provider = \"sqlite\"\n  url = \"file:./f.db\"\n}\n");
  put("prisma/schema/notes.txt", "datasource x { provider = \"sqlite\" }");
  mkdir("prisma/schema/migrations", 0755);
  cfg.schema = "prisma/schema";
  expect_db(DBS_DB_PRISMA, at("prisma/schema/db/f.db"));
  assert_string_equal(d.schema_path, at("prisma/schema"));
  assert_string_equal(d.migrations_dir, at("prisma/schema/migrations"));
  /* Two datasources across files are caught too. */
  put("prisma/schema/other.prisma",
      "datasource b {\n  provider = \"sqlite\"\n  url = \"file:b.db\"\n}\n");
  expect_einval(NULL, "ds.prisma:1", "other.prisma:1", NULL);
}

/* ---- litestream.yml ---- */

static void test_litestream_last_resort(void** state) {
  (void)state;
  struct dbs_db_config dbs[2] = {{.path = (char*)"/data/a.db"},
                                 {.path = (char*)"/data/b.db"}};
  struct dbs_litestream_config ls = {
      .file = (char*)"/app/litestream.yml", .dbs = dbs, .ndbs = 1};
  assert_int_equal(run(&ls), 0);
  assert_int_equal(d.source, DBS_DB_LITESTREAM);
  assert_string_equal(d.db_path, "/data/a.db");
  assert_string_equal(dbs_discover_source_name(d.source), "litestream.yml");
  ls.ndbs = 2;
  expect_einval(&ls, "/app/litestream.yml", "2 databases", "--db", NULL);
  cfg.db = "/data/b.db";
  assert_int_equal(run(&ls), 0);
  assert_int_equal(d.source, DBS_DB_OPTION);
  /* The schema comes before litestream.yml. */
  cfg.db = NULL;
  put("schema.prisma", schema_with("url = \"file:./s.db\""));
  assert_int_equal(run(&ls), 0);
  assert_int_equal(d.source, DBS_DB_PRISMA);
  assert_string_equal(d.db_path, at("s.db"));
  ls.ndbs = 0;
  assert_int_equal(run(&ls), 0);
  assert_int_equal(d.source, DBS_DB_PRISMA);
}

int main(void) {
  dbs_log_set_level(DBS_LOG_DEBUG);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_nothing_found, setup, teardown),
      cmocka_unit_test_setup_teardown(test_db_option_relative, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_option_beats_database_url_beats_schema, setup, teardown),
      cmocka_unit_test_setup_teardown(test_database_url_forms, setup, teardown),
      cmocka_unit_test_setup_teardown(test_database_url_relative_to_schema,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_url_forms, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_comments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_env_set, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_env_unset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_env_not_file, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_postgres_provider, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_datasources, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unparseable_schemas, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_prisma7_without_url, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_prisma7_layout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prisma7_env_unset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prisma7_unreadable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prisma7_schema_folder, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_realistic_schema, setup, teardown),
      cmocka_unit_test_setup_teardown(test_package_json_schema_and_seed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_package_json_upward, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_package_json_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_package_json_large, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_folder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_litestream_last_resort, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
