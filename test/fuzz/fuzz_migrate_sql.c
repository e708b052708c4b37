/*
 * Native Prisma migrations over hostile migration folders
 * (prisma_migrate.c): migration_lock.toml, migration.sql read as Prisma
 * reads it (UTF-8 repair), the script cut into statements and run by
 * SQLite, the _prisma_migrations records, the status that reads them back,
 * and the order of migration names.
 *
 * Input: a flag byte, then NUL-separated sections: migration_lock.toml
 * (written when flag bit 0 is set), three migration.sql files (of
 * 20240101000000_a, _b and _c; a 0x01 byte in them is written as NUL), three
 * names for the order check. Every
 * SQLite connection the process opens is fenced in: no ATTACH (nor VACUUM
 * INTO), no writable schema, bounded work and memory per statement.
 * Checked: a deploy that succeeded leaves every migration applied and a
 * second deploy with nothing to do; one that failed a script leaves
 * exactly that failure on record, which the next deploy refuses (P3009).
 */
#include <ctype.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "prisma_migrate.h"

static unsigned ticks; /* progress callbacks since the statement began */

static int on_progress(void* arg) {
  (void)arg;
  return ++ticks > 2000; /* about 2 M VM steps */
}

static int on_trace(unsigned type, void* ctx, void* p, void* x) {
  (void)type;
  (void)ctx;
  (void)p;
  (void)x;
  ticks = 0;
  return 0;
}

static int on_auth(void* arg, int action, const char* a, const char* b,
                   const char* c, const char* d) {
  (void)arg;
  (void)a;
  (void)b;
  (void)c;
  (void)d;
  return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY
                                                            : SQLITE_OK;
}

static int fence(sqlite3* db, const char** err,
                 const struct sqlite3_api_routines* api) {
  (void)err;
  (void)api;
  /* No fsync: the files are scratch, and the fuzzer needs speed. */
  sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_set_authorizer(db, on_auth, NULL);
  sqlite3_progress_handler(db, 1000, on_progress, NULL);
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_trace, NULL);
  return SQLITE_OK;
}

static const char* const names[] = {"20240101000000_a", "20240102000000_b",
                                    "20240103000000_c"};

static void clean(void) {
  char p[256];
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof(p), "migrations/%s/migration.sql", names[i]);
    unlink(p);
    snprintf(p, sizeof(p), "migrations/%s", names[i]);
    rmdir(p);
  }
  unlink("migrations/migration_lock.toml");
  rmdir("migrations");
  unlink("db/app.db");
  unlink("db/app.db-journal");
  unlink("db/app.db-wal");
  unlink("db/app.db-shm");
  rmdir("db");
}

static void cleanup_at_exit(void) {
  clean();
  fuzz_remove_scratch_dir();
}

/* True if the scripts could change the records or the transaction state
 * themselves: then only memory safety is checked. */
static bool meddles(const char* s) {
  static const char* const words[] = {
      "prisma_migrations", "sqlite_", "pragma",  "begin",    "commit",
      "rollback",          "end",     "release", "savepoint"};
  char* low = strdup(s);
  FUZZ_CHECK(low != NULL);
  for (char* p = low; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  bool hit = false;
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]) && !hit; i++)
    hit = strstr(low, words[i]) != NULL;
  free(low);
  return hit;
}

static int sign(int v) {
  return (v > 0) - (v < 0);
}

static void setup(void) {
  fuzz_scratch_dir("migrate");
  atexit(cleanup_at_exit);
  sqlite3_hard_heap_limit64(256 << 20);
  sqlite3_auto_extension((void (*)(void))fence);
  unsetenv("PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK");
}

FUZZ_INITIALIZE(setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (256u << 10))
    return 0;
  unsigned flags = data[0];
  struct fuzz_parts parts;
  fuzz_split(data + 1, size - 1, &parts);

  /* The name order: a total order, whatever the bytes. */
  const char *a = fuzz_part(&parts, 4), *b = fuzz_part(&parts, 5),
             *c = fuzz_part(&parts, 6);
  FUZZ_CHECK(dbs_prisma_name_cmp(a, a) == 0);
  int ab = sign(dbs_prisma_name_cmp(a, b)),
      bc = sign(dbs_prisma_name_cmp(b, c)),
      ac = sign(dbs_prisma_name_cmp(a, c));
  FUZZ_CHECK(ab == -sign(dbs_prisma_name_cmp(b, a)));
  if (ab == bc)
    FUZZ_CHECK(ac == ab);

  clean();
  mkdir("migrations", 0700);
  if (flags & 1)
    fuzz_write_file("migrations/migration_lock.toml", fuzz_part(&parts, 0),
                    parts.n > 0 ? parts.len[0] : 0);
  bool clean_sql = true;
  for (size_t i = 0; i < 3; i++) {
    char p[256];
    snprintf(p, sizeof(p), "migrations/%s", names[i]);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "migrations/%s/migration.sql", names[i]);
    clean_sql &= !meddles(fuzz_part(&parts, 1 + i));
    if (parts.n > 1 + i)
      fuzz_soh_to_nul(parts.p[1 + i], parts.len[1 + i]);
    fuzz_write_file(p, fuzz_part(&parts, 1 + i),
                    parts.n > 1 + i ? parts.len[1 + i] : 0);
  }

  struct dbs_prisma_result res = {0};
  char err[4096] = "";
  int rc = dbs_prisma_migrate_deploy("db/app.db", "migrations", &res, err,
                                     sizeof(err));
  FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -EIO || rc == -ENOMEM);
  if (rc != 0)
    FUZZ_CHECK(err[0] != '\0');
  if (rc == -EPROTO)
    FUZZ_CHECK(res.code[0] == 'P');

  struct dbs_prisma_status st;
  char err2[4096] = "";
  int src = dbs_prisma_migrate_status("db/app.db", "migrations", &st, err2,
                                      sizeof(err2));
  FUZZ_CHECK(src == 0 || src == -EIO || src == -ENOMEM);
  if (src == 0) {
    FUZZ_CHECK(st.napplied + st.npending + st.nfailed <= st.n);
    for (size_t i = 0; i < st.n; i++)
      FUZZ_CHECK(st.entries[i].name != NULL);
    if (clean_sql && rc == 0) {
      FUZZ_CHECK(st.napplied == 3 && st.npending == 0 && st.nfailed == 0);
    }
    if (clean_sql && rc == -EPROTO && strcmp(res.code, "P3018") == 0) {
      FUZZ_CHECK(st.nfailed == 1);
    }
    dbs_prisma_status_free(&st);
  }

  if (clean_sql && (rc == 0 || strcmp(res.code, "P3018") == 0)) {
    struct dbs_prisma_result res2 = {0};
    int rc2 = dbs_prisma_migrate_deploy("db/app.db", "migrations", &res2, err,
                                        sizeof(err));
    if (rc == 0) {
      FUZZ_CHECK(rc2 == 0 && res2.applied == 0);
    } else {
      FUZZ_CHECK(rc2 == -EPROTO && strcmp(res2.code, "P3009") == 0);
    }
  }
  fuzz_parts_free(&parts);
  return 0;
}
