/*
 * The static reader of prisma.config.ts (prisma_config.c): the input is the
 * file (and, after a NUL, a .env beside it). Checked: a read that succeeds
 * gives a consistent result (a readable value is a string or undefined, an
 * unreadable one carries no string, lines are 1-based), a failed one says
 * why; nothing loops (libFuzzer's -timeout catches that).
 */
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "prisma_config.h"

static char dir[256];

static void cleanup_at_exit(void) {
  unlink("prisma.config.ts");
  unlink(".env");
  fuzz_remove_scratch_dir();
}

static void setup(void) {
  snprintf(dir, sizeof(dir), "%s", fuzz_scratch_dir("prisma-config"));
  atexit(cleanup_at_exit);
}

FUZZ_INITIALIZE(setup)

static void check_value(const struct dbs_prisma_config_value* v) {
  if (!v->present) {
    FUZZ_CHECK(v->value == NULL && v->env == NULL);
    return;
  }
  FUZZ_CHECK(v->line >= 1);
  if (!v->readable)
    FUZZ_CHECK(v->value == NULL);
  if (v->env_required)
    FUZZ_CHECK(v->value == NULL && v->env != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct fuzz_parts parts;
  fuzz_split(data, size, &parts);
  const char* text = fuzz_part(&parts, 0);
  fuzz_write_file("prisma.config.ts", text, strlen(text));
  if (parts.n > 1) {
    const char* env = fuzz_part(&parts, 1);
    fuzz_write_file(".env", env, strlen(env));
  } else {
    unlink(".env");
  }
  char path[300];
  snprintf(path, sizeof(path), "%s/prisma.config.ts", dir);
  struct dbs_prisma_config c;
  char err[1024];
  err[0] = '\0';
  int rc = dbs_prisma_config_read(path, dir, &c, err, sizeof(err));
  if (rc == 0) {
    FUZZ_CHECK(strcmp(c.file, path) == 0 && strcmp(c.dir, dir) == 0);
    check_value(&c.schema);
    check_value(&c.migrations_path);
    check_value(&c.seed);
    check_value(&c.url);
    if (!c.found_export)
      FUZZ_CHECK(!c.schema.present && !c.url.present);
    dbs_prisma_config_free(&c);
  } else {
    FUZZ_CHECK(rc == -EINVAL && err[0] != '\0');
  }
  fuzz_parts_free(&parts);
  return 0;
}
