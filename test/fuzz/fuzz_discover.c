/*
 * Discovery (discover.c) from what an app's image holds: package.json (read
 * with libyaml), the Prisma schema (its own lexer), DATABASE_URL, --db.
 *
 * Input: a flag byte, then NUL-separated sections: package.json, the
 * schema, DATABASE_URL, a second schema file, --db, litestream.yml (0x01
 * in a file stands for NUL). Flags: bit 0 writes
 * package.json; bits 1-2 place the schema (./schema.prisma,
 * ./prisma/schema.prisma, a folder ./prisma/schema/ with the second file
 * beside it, or none); bit 3 sets DATABASE_URL; bit 4 makes the migrations
 * folder; bit 5 passes --db; bit 6 passes --schema prisma (the folder);
 * bit 7 passes litestream.yml's databases.
 * The files are written into a scratch directory that is the working
 * directory. Checked: every path returned is absolute and clean, and an
 * error comes with a message.
 */
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "discover.h"
#include "fuzz.h"

static void clean(void) {
  unlink("package.json");
  unlink("schema.prisma");
  unlink("prisma/schema.prisma");
  unlink("prisma/schema/a.prisma");
  unlink("prisma/schema/b.prisma");
  rmdir("prisma/schema/migrations");
  rmdir("prisma/schema");
  rmdir("prisma/migrations");
  rmdir("prisma");
}

/* Absolute, no empty, "." or ".." segment, no trailing slash. */
static void check_path(const char* p) {
  if (p == NULL)
    return;
  FUZZ_CHECK(p[0] == '/');
  if (strcmp(p, "/") == 0)
    return;
  FUZZ_CHECK(p[strlen(p) - 1] != '/');
  FUZZ_CHECK(strstr(p, "//") == NULL);
  FUZZ_CHECK(strstr(p, "/./") == NULL);
  FUZZ_CHECK(strstr(p, "/../") == NULL);
  size_t n = strlen(p);
  FUZZ_CHECK(!(n >= 2 && strcmp(p + n - 2, "/.") == 0));
  FUZZ_CHECK(!(n >= 3 && strcmp(p + n - 3, "/..") == 0));
}

static void cleanup_at_exit(void) {
  clean();
  fuzz_remove_scratch_dir();
}

static void setup(void) {
  fuzz_scratch_dir("discover");
  atexit(cleanup_at_exit);
}

FUZZ_INITIALIZE(setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  unsigned flags = data[0];
  struct fuzz_parts parts;
  fuzz_split(data + 1, size - 1, &parts);

  clean();
  for (size_t i = 0; i < parts.n && i < 4; i++)
    if (i != 2)
      fuzz_soh_to_nul(parts.p[i], parts.len[i]);
  if (flags & 1)
    fuzz_write_file("package.json", fuzz_part(&parts, 0),
                    parts.n > 0 ? parts.len[0] : 0);
  const char* schema = fuzz_part(&parts, 1);
  size_t slen = parts.n > 1 ? parts.len[1] : 0;
  switch ((flags >> 1) & 3) {
  case 0:
    fuzz_write_file("schema.prisma", schema, slen);
    break;
  case 1:
    mkdir("prisma", 0700);
    fuzz_write_file("prisma/schema.prisma", schema, slen);
    break;
  case 2:
    mkdir("prisma", 0700);
    mkdir("prisma/schema", 0700);
    fuzz_write_file("prisma/schema/a.prisma", schema, slen);
    fuzz_write_file("prisma/schema/b.prisma", fuzz_part(&parts, 3),
                    parts.n > 3 ? parts.len[3] : 0);
    break;
  default:
    break;
  }
  if (flags & 16) {
    mkdir("prisma", 0700);
    mkdir("prisma/migrations", 0700);
    mkdir("prisma/schema/migrations", 0700);
  }
  if (flags & 8)
    setenv("DATABASE_URL", fuzz_part(&parts, 2), 1);
  else
    unsetenv("DATABASE_URL");

  struct dbs_config cfg = {.volume = "/data"};
  if (flags & 32)
    cfg.db = fuzz_part(&parts, 4);
  if (flags & 64)
    cfg.schema = "prisma/schema";
  struct dbs_litestream_config ls = {0};
  bool has_ls = false;
  if (flags & 128) {
    char lerr[512];
    has_ls = dbs_litestream_config_parse(fuzz_part(&parts, 5),
                                         parts.n > 5 ? parts.len[5] : 0, true,
                                         &ls, lerr, sizeof(lerr)) == 0;
  }
  struct dbs_discovery d;
  char err[1024] = "";
  int rc = dbs_discover(&cfg, has_ls ? &ls : NULL, &d, err, sizeof(err));
  FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
  if (rc != 0) {
    FUZZ_CHECK(err[0] != '\0');
    FUZZ_CHECK(d.db_path == NULL && d.schema_path == NULL);
  } else {
    check_path(d.db_path);
    check_path(d.schema_path);
    check_path(d.migrations_dir);
    FUZZ_CHECK((d.source == DBS_DB_NONE) == (d.db_path == NULL));
    FUZZ_CHECK((d.set_env_name == NULL) == (d.set_env_value == NULL));
    if (d.set_env_value != NULL)
      FUZZ_CHECK(d.db_path != NULL &&
                 strncmp(d.set_env_value, "file:", 5) == 0 &&
                 strcmp(d.set_env_value + 5, d.db_path) == 0);
    FUZZ_CHECK(strcmp(dbs_discover_source_name(d.source), "") != 0);
  }
  dbs_discover_free(&d);
  dbs_litestream_config_free(&ls);
  fuzz_parts_free(&parts);
  return 0;
}
