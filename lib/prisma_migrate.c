/* Native `prisma migrate deploy` / `migrate status` for SQLite databases. */
#include "prisma_migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dynlib.h"
#include "log.h"
#include "path.h"
#include "prisma_migrate_internal.h"

#define MIGRATIONS_TABLE "_prisma_migrations"
#define BUSY_TIMEOUT_MS 5000
/* The table exactly as Prisma's SQLite connector creates it: Prisma decodes
 * rows by declared type, so the spelling matters. */
static const char create_table_sql[] =
    "CREATE TABLE \"_prisma_migrations\" (\n"
    "    \"id\"                    TEXT PRIMARY KEY NOT NULL,\n"
    "    \"checksum\"              TEXT NOT NULL,\n"
    "    \"finished_at\"           DATETIME,\n"
    "    \"migration_name\"        TEXT NOT NULL,\n"
    "    \"logs\"                  TEXT,\n"
    "    \"rolled_back_at\"        DATETIME,\n"
    "    \"started_at\"            DATETIME NOT NULL DEFAULT "
    "current_timestamp,\n"
    "    \"applied_steps_count\"   INTEGER UNSIGNED NOT NULL DEFAULT 0\n"
    ");\n";

/* ---- small helpers ---------------------------------------------------- */

/* A stop asked for by a signal handler (dbs_prisma_migrate_request_stop):
 * the first signal, when it came (CLOCK_MONOTONIC ms), and whether a second
 * one asked to stop at once. Written only by the handler, in this thread. */
static volatile sig_atomic_t stop_sig, stop_now;
static volatile uint64_t stop_at_ms;
static unsigned stop_timeout_ms = 7000;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void dbs_prisma_migrate_request_stop(int sig) {
  if (stop_sig != 0) {
    stop_now = 1;
    return;
  }
  struct timespec ts; /* clock_gettime is async-signal-safe */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  stop_at_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
  stop_sig = sig;
}

void dbs_prisma_migrate_set_stop_timeout(unsigned ms) {
  stop_timeout_ms = ms;
}

/* SQLite's progress handler while a script runs: non-zero interrupts it,
 * once the stop timeout ran out after a stop request. */
static int stop_progress(void* arg) {
  (void)arg;
  if (stop_sig == 0)
    return 0;
  return stop_now || mono_ms() - stop_at_ms >= stop_timeout_ms;
}

int dbs_prisma_migrate_stop_signal(void) {
  return stop_sig;
}

const char* dbs_prisma_migrate_stop_name(void) {
  return stop_sig == SIGINT ? "SIGINT" : "SIGTERM";
}

static void set_err(char* err, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char* err, size_t errlen, const char* fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Appends to a NUL-terminated message already in err. */
static void add_err(char* err, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_err(char* err, size_t errlen, const char* fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0)
    return;
  size_t len = strnlen(err, errlen);
  if (len + 1 >= errlen)
    return;
  va_start(ap, fmt);
  vsnprintf(err + len, errlen - len, fmt, ap);
  va_end(ap);
}

void dbs_prisma_format_ms(int64_t ms, char* out, size_t n) {
  time_t secs = (time_t)(ms / 1000);
  int frac = (int)(ms % 1000);
  struct tm tm;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  gmtime_r(&secs, &tm);
  char base[40];
  strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
  if (frac != 0)
    snprintf(out, n, "%s.%03d UTC", base, frac);
  else
    snprintf(out, n, "%s UTC", base);
}

/* Reads a whole file. On success *out (NUL-terminated, owned by the caller)
 * and *len. Returns 0 or -errno. */
static int read_all(const char* path, char** out, size_t* len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t cap = 4096, n = 0;
  char* buf = malloc(cap);
  int rc = 0;
  if (buf == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  for (;;) {
    if (n + 1 >= cap) {
      char* nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        rc = -ENOMEM;
        goto fail;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno;
      goto fail;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
fail:
  close(fd);
  free(buf);
  return rc;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when the bytes there
 * are not one; *sub gets the length of its longest valid prefix (the
 * "maximal subpart" that decoders replace with one U+FFFD). */
static size_t utf8_seq(const unsigned char* p, size_t left, size_t* sub) {
  unsigned char c = p[0];
  size_t need;
  unsigned char lo = 0x80, hi = 0xbf;
  *sub = 1;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    need = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
  } else
    return 0;
  for (size_t i = 1; i <= need; i++) {
    if (i >= left || p[i] < lo || p[i] > hi)
      return 0;
    *sub = i + 1;
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

/*
 * Reads migration.sql as Prisma 6/7 do: Node's readFile(path, "utf-8")
 * keeps a BOM but replaces each ill-formed UTF-8 subsequence with U+FFFD
 * (EF BF BD); the checksum and the executed text are of that string. Valid
 * UTF-8 (the normal case) passes unchanged. Owns *out. Returns 0 or -errno.
 */
static int read_script(const char* path, char** out, size_t* len) {
  char* raw = NULL;
  size_t n = 0, sub;
  int rc = read_all(path, &raw, &n);
  if (rc != 0)
    return rc;
  const unsigned char* p = (const unsigned char*)raw;
  size_t bad = 0;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_seq(p + i, n - i, &sub);
    if (l == 0) {
      bad++;
      i += sub;
    } else
      i += l;
  }
  if (bad == 0) {
    *out = raw;
    *len = n;
    return 0;
  }
  char* fixed = malloc(n + 2 * bad + 1);
  if (fixed == NULL) {
    free(raw);
    return -ENOMEM;
  }
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_seq(p + i, n - i, &sub);
    if (l == 0) {
      memcpy(fixed + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i += sub;
    } else {
      memcpy(fixed + o, p + i, l);
      o += l;
      i += l;
    }
  }
  fixed[o] = '\0';
  dbs_log_warnx("%s is not valid UTF-8: %zu byte sequence%s replaced by "
                "U+FFFD, as Prisma reads it",
                path, bad, bad == 1 ? "" : "s");
  free(raw);
  *out = fixed;
  *len = o;
  return 0;
}

/* mkdir -p of the directory part of path (relative to the working
 * directory when relative). Returns 0 or -errno. */
static int make_parents(const char* path) {
  char* abs = dbs_path_absolute(path);
  if (abs == NULL)
    return -errno;
  char* dir = dbs_path_dirname(abs);
  free(abs);
  if (dir == NULL)
    return -ENOMEM;
  int rc = dbs_path_mkdir_p(dir, 0755);
  free(dir);
  return rc;
}

/* ---- public small functions ------------------------------------------ */

/* SHA-256 with libcrypto, loaded on the first checksum. Returns 0, -ELIBACC
 * (not installed; logged) or -EIO. */
static int sha256(const void* data, size_t n, unsigned char* md,
                  unsigned int* mdlen) {
  const struct dbs_dynlib_crypto* c;
  int rc = dbs_dynlib_crypto(&c);
  if (rc != 0)
    return rc;
  if (c->evp_digest(data, n, md, mdlen, c->evp_sha256(), NULL) != 1 ||
      *mdlen != 32)
    return -EIO;
  return 0;
}

int dbs_prisma_checksum(const void* data, size_t n, char out[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  static const char hex[] = "0123456789abcdef";
  int rc = sha256(data, n, md, &mdlen);
  if (rc != 0)
    return rc;
  for (unsigned i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[64] = '\0';
  return 0;
}

/* The zero-padding-less hex an old schema engine wrote (prisma-engines
 * issue 1887); Prisma's status still accepts it. */
static int checksum_old_format(const void* data, size_t n, char out[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  int rc = sha256(data, n, md, &mdlen);
  if (rc != 0)
    return rc;
  size_t o = 0;
  for (unsigned i = 0; i < 32; i++)
    o += (size_t)snprintf(out + o, 65 - o, "%x", md[i]);
  return 0;
}

int dbs_prisma_uuid_v4(char out[37]) {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    got += (size_t)r;
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
  return 0;
}

/* ICU root collation, primary weights for ASCII (0 = ignorable). */
static int primary_weight(unsigned char c) {
  static const char punct[] = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
  if (c >= 0x80)
    return 1000 + c;
  if (c >= 0x09 && c <= 0x0d)
    return 1 + (c - 0x09); /* whitespace, before the space */
  if (c < 0x20 || c == 0x7f)
    return 0; /* completely ignorable controls */
  if (c >= '0' && c <= '9')
    return 200 + (c - '0');
  if (c >= 'a' && c <= 'z')
    return 300 + (c - 'a');
  if (c >= 'A' && c <= 'Z')
    return 300 + (c - 'A');
  const char* p = strchr(punct, c);
  return p != NULL ? 10 + (int)(p - punct) : 500 + c;
}

int dbs_prisma_name_cmp(const char* a, const char* b) {
  const unsigned char* p = (const unsigned char*)a;
  const unsigned char* q = (const unsigned char*)b;
  /* Level 1: base characters. */
  for (;;) {
    int wp = 0, wq = 0;
    while (*p != '\0' && (wp = primary_weight(*p)) == 0)
      p++;
    while (*q != '\0' && (wq = primary_weight(*q)) == 0)
      q++;
    if (*p == '\0' || *q == '\0') {
      if (*p != '\0')
        return 1;
      if (*q != '\0')
        return -1;
      break;
    }
    if (wp != wq)
      return wp < wq ? -1 : 1;
    p++;
    q++;
  }
  /* Level 3: case, lower before upper, at the first difference. */
  p = (const unsigned char*)a;
  q = (const unsigned char*)b;
  for (;;) {
    while (*p != '\0' && primary_weight(*p) == 0)
      p++;
    while (*q != '\0' && primary_weight(*q) == 0)
      q++;
    if (*p == '\0' || *q == '\0')
      break;
    int tp = (*p >= 'A' && *p <= 'Z'), tq = (*q >= 'A' && *q <= 'Z');
    if (tp != tq)
      return tp - tq;
    p++;
    q++;
  }
  /* Equal for ICU (only ignorables differ): keep a total order. */
  return strcmp(a, b);
}

/* ---- the migrations folder ------------------------------------------- */

struct mig_dir {
  char* name;
};

static int cmp_dirs(const void* x, const void* y) {
  const struct mig_dir *a = x, *b = y;
  return dbs_prisma_name_cmp(a->name, b->name);
}

static void free_dirs(struct mig_dir* d, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(d[i].name);
  free(d);
}

/* Lists the real directories (not symlinks) in dir, in Prisma's order.
 * Owns *out (free_dirs). Returns 0 or -errno with a message. */
static int list_dirs(const char* dir, struct mig_dir** out, size_t* nout,
                     char* err, size_t errlen) {
  DIR* d = opendir(dir);
  struct mig_dir* v = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  if (d == NULL) {
    rc = -errno;
    set_err(err, errlen,
            "cannot read the Prisma migrations folder %s: %s (set "
            "--prisma-migrations to the folder holding the timestamped "
            "migration directories)",
            dir, strerror(-rc));
    return rc;
  }
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        is_dir = S_ISDIR(st.st_mode);
    }
    if (!is_dir)
      continue; /* files, and symlinks even to directories, as Node's
                   Dirent.isDirectory() */
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 32;
      struct mig_dir* nv = realloc(v, ncap * sizeof(*v));
      if (nv == NULL) {
        rc = -ENOMEM;
        goto fail;
      }
      v = nv;
      cap = ncap;
    }
    v[n].name = strdup(e->d_name);
    if (v[n].name == NULL) {
      rc = -ENOMEM;
      goto fail;
    }
    n++;
  }
  closedir(d);
  if (n > 1)
    qsort(v, n, sizeof(*v), cmp_dirs);
  *out = v;
  *nout = n;
  return 0;
fail:
  set_err(err, errlen, "out of memory listing %s", dir);
  closedir(d);
  free_dirs(v, n);
  return rc;
}

/* migration_lock.toml: the first line starting with "provider", with every
 * leading "provider = " and surrounding quotes removed, must be "sqlite".
 * A missing file is fine. Returns 0, or -EPROTO (P3019) / -errno. */
static int check_lock_file(const char* dir, struct dbs_prisma_result* res,
                           char* err, size_t errlen) {
  char* path = dbs_path_join(dir, "migration_lock.toml");
  char* text = NULL;
  size_t len = 0;
  int rc;
  if (path == NULL)
    return -ENOMEM;
  rc = read_all(path, &text, &len);
  if (rc == -ENOENT) {
    rc = 0;
    goto out;
  }
  if (rc != 0) {
    /* Prisma reads it with a catch-all: unreadable counts as absent. */
    dbs_log_warnx("cannot read %s: %s; ignoring it as Prisma does", path,
                  strerror(-rc));
    rc = 0;
    goto out;
  }
  char found[256] = "<PROVIDER NOT FOUND>";
  for (char* line = text; line != NULL && *line != '\0';) {
    char* nl = strchr(line, '\n');
    size_t ll = nl ? (size_t)(nl - line) : strlen(line);
    if (ll > 0 && line[ll - 1] == '\r')
      ll--; /* Rust's str::lines() drops a CR before the LF */
    if (ll >= 8 && strncmp(line, "provider", 8) == 0) {
      const char *s = line, *end = line + ll;
      while ((size_t)(end - s) >= 11 && strncmp(s, "provider = ", 11) == 0)
        s += 11;
      while (s < end && *s == '"')
        s++;
      while (end > s && end[-1] == '"')
        end--;
      snprintf(found, sizeof(found), "%.*s", (int)(end - s), s);
      break;
    }
    line = nl ? nl + 1 : NULL;
  }
  if (strcmp(found, "sqlite") != 0) {
    if (res != NULL)
      snprintf(res->code, sizeof(res->code), "P3019");
    set_err(err, errlen,
            "P3019: The datasource provider `sqlite` specified in your schema "
            "does not match the one specified in the migration_lock.toml, "
            "`%s`. Please remove your current migration directory and start "
            "a new migration history with prisma migrate dev. Read more: "
            "https://pris.ly/d/migrate-provider-switch (file: %s)",
            found, path);
    rc = -EPROTO;
  }
out:
  free(text);
  free(path);
  return rc;
}

/* ---- SQLite ----------------------------------------------------------- */

static int sqlite_to_errno(sqlite3* db, int rc) {
  switch (rc & 0xff) {
  case SQLITE_CANTOPEN: /* missing, unreadable or on a read-only volume */
  case SQLITE_READONLY:
  case SQLITE_PERM:
    return -EACCES;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    return -EBADMSG;
  case SQLITE_NOMEM:
    return -ENOMEM;
  default:
    return -EIO;
  }
}

/* Runs one statement to completion. Returns the SQLite result code. */
static int exec1(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    return rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    ;
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int db_error(sqlite3* db, int rc, const char* what, const char* path,
                    char* err, size_t errlen) {
  set_err(err, errlen, "%s %s: %s", what, path,
          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return sqlite_to_errno(db, rc);
}

/* 1 if the table exists, 0 if not, or a negative SQLite-mapped error. */
static int table_exists(sqlite3* db, const char* name, int* sqlrc) {
  sqlite3_stmt* st = NULL;
  int rc = sqlite3_prepare_v2(
      db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
      &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  *sqlrc = rc;
  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  return -1;
}

/* One row of _prisma_migrations. */
struct mig_row {
  char* name;
  char* checksum;
  bool finished, rolled_back;
  int64_t started_ms, finished_ms;
  char* started_text; /* started_at when not an integer */
};

static void free_rows(struct mig_row* r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(r[i].name);
    free(r[i].checksum);
    free(r[i].started_text);
  }
  free(r);
}

static char* col_text(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return strdup(t ? (const char*)t : "");
}

/* Loads every row ordered by started_at, as Prisma lists them. Owns *out.
 * Returns an SQLite result code. */
static int load_rows(sqlite3* db, struct mig_row** out, size_t* nout) {
  sqlite3_stmt* st = NULL;
  struct mig_row* v = NULL;
  size_t n = 0, cap = 0;
  int rc = sqlite3_prepare_v2(
      db,
      "SELECT \"migration_name\", \"checksum\", \"finished_at\", "
      "\"rolled_back_at\", \"started_at\" FROM \"_prisma_migrations\" "
      "ORDER BY \"started_at\" ASC",
      -1, &st, NULL);
  if (rc != SQLITE_OK)
    goto fail;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 32;
      struct mig_row* nv = realloc(v, ncap * sizeof(*v));
      if (nv == NULL) {
        rc = SQLITE_NOMEM;
        goto fail;
      }
      v = nv;
      cap = ncap;
    }
    struct mig_row* r = &v[n];
    memset(r, 0, sizeof(*r));
    n++;
    r->name = col_text(st, 0);
    r->checksum = col_text(st, 1);
    r->finished = sqlite3_column_type(st, 2) != SQLITE_NULL;
    r->finished_ms = r->finished && sqlite3_column_type(st, 2) == SQLITE_INTEGER
                         ? sqlite3_column_int64(st, 2)
                         : 0;
    r->rolled_back = sqlite3_column_type(st, 3) != SQLITE_NULL;
    if (sqlite3_column_type(st, 4) == SQLITE_INTEGER)
      r->started_ms = sqlite3_column_int64(st, 4);
    else
      r->started_text = col_text(st, 4);
    if (r->name == NULL || r->checksum == NULL) {
      rc = SQLITE_NOMEM;
      goto fail;
    }
  }
  if (rc != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(st);
  *out = v;
  *nout = n;
  return SQLITE_OK;
fail:
  sqlite3_finalize(st);
  free_rows(v, n);
  return rc;
}

static void row_started(const struct mig_row* r, char* buf, size_t n) {
  if (r->started_text != NULL)
    snprintf(buf, n, "%s", r->started_text);
  else
    dbs_prisma_format_ms(r->started_ms, buf, n);
}

/*
 * Runs a migration script the way rusqlite's execute_batch does: prepare
 * the next statement from the remaining text, step it once, go on with the
 * tail. Comments and whitespace (and a UTF-8 BOM, which SQLite's tokenizer
 * skips as a space) prepare to no statement. Autocommit: statements already
 * run stay applied when a later one fails. On failure returns the SQLite
 * extended code with the message in msg.
 */
static int run_script(sqlite3* db, const char* sql, size_t len, char* msg,
                      size_t msglen) {
  const char *p = sql, *end = sql + len;
  while (p < end) {
    sqlite3_stmt* st = NULL;
    const char* tail = NULL;
    int rc = sqlite3_prepare_v2(db, p, (int)(end - p), &st, &tail);
    if (rc != SQLITE_OK) {
      snprintf(msg, msglen, "%s", sqlite3_errmsg(db));
      return sqlite3_extended_errcode(db);
    }
    if (st != NULL) {
      rc = sqlite3_step(st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(msg, msglen, "%s", sqlite3_errmsg(db));
        int ext = sqlite3_extended_errcode(db);
        sqlite3_finalize(st);
        return ext;
      }
      sqlite3_finalize(st);
    }
    if (tail == NULL || tail <= p)
      break; /* a NUL byte inside the text ends it, as in SQLite */
    p = tail;
  }
  return SQLITE_OK;
}

static int bind_exec(sqlite3* db, const char* sql, const char* t1,
                     const char* t2, int64_t i3, const char* t4) {
  sqlite3_stmt* st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    return rc;
  if (t1)
    sqlite3_bind_text(st, 1, t1, -1, SQLITE_STATIC);
  if (t2)
    sqlite3_bind_text(st, 2, t2, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, i3);
  if (t4)
    sqlite3_bind_text(st, 4, t4, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static bool no_exclusive; /* dbs_prisma_migrate_set_exclusive(false) */

void dbs_prisma_migrate_set_exclusive(bool on) {
  no_exclusive = !on;
}

static bool advisory_lock_disabled(void) {
  const char* v = getenv("PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK");
  return no_exclusive || (v != NULL && v[0] != '\0' && strcmp(v, "0") != 0);
}

/* ---- deploy ----------------------------------------------------------- */

/* A migration being applied: its script and its row. */
struct mig_run {
  const char* name;
  char* file;   /* <dir>/<name>/migration.sql; owned */
  char* script; /* its text as Prisma reads it; owned */
  size_t len;
  char checksum[65];
  char id[37];
};

/* Reads the script (P3015 when it is missing), checksums it and records
 * the row of a started migration. */
static int record_start(sqlite3* db, struct mig_run* m,
                        struct dbs_prisma_result* res, char* err,
                        size_t errlen) {
  int rc = read_script(m->file, &m->script, &m->len);
  if (rc != 0) {
    snprintf(res->code, sizeof(res->code), "P3015");
    set_err(err, errlen,
            "P3015: Could not find the migration file at %s. Please delete "
            "the directory or restore the migration file. (%s)",
            m->file, strerror(-rc));
    return -EPROTO;
  }
  if ((rc = dbs_prisma_checksum(m->script, m->len, m->checksum)) != 0 ||
      (rc = dbs_prisma_uuid_v4(m->id)) != 0) {
    set_err(err, errlen, "cannot checksum %s or make a UUID: %s", m->file,
            strerror(-rc));
    return rc;
  }
  int src = bind_exec(db,
                      "INSERT INTO \"_prisma_migrations\" (\"id\", "
                      "\"checksum\", \"started_at\", \"migration_name\") "
                      "VALUES (?1, ?2, ?3, ?4)",
                      m->id, m->checksum, now_ms(), m->name);
  if (src != SQLITE_OK)
    return db_error(db, src, "cannot record migration", m->name, err, errlen);
  return 0;
}

/* Runs the script; a stop lets it finish, up to the stop timeout. Returns
 * SQLite's code, the error in dberr; *cut when the stop interrupted it. */
static int run_migration(sqlite3* db, const struct mig_run* m, char* dberr,
                         size_t n, bool* cut) {
  dbs_log_info("applying migration %s", m->name);
  sqlite3_progress_handler(db, 1000, stop_progress, NULL);
  int code = run_script(db, m->script, m->len, dberr, n);
  sqlite3_progress_handler(db, 0, NULL, NULL);
  *cut = code == SQLITE_INTERRUPT && stop_sig != 0;
  if (*cut)
    snprintf(dberr, n,
             "interrupted: still running %.1f s after %s (the stop timeout)",
             stop_timeout_ms / 1000.0, dbs_prisma_migrate_stop_name());
  return code;
}

/* Records a failed script as Prisma does (P3018, logs on the row) and
 * returns -EPROTO, or -ETIMEDOUT when a stop interrupted it. */
static int record_failure(sqlite3* db, const struct mig_run* m, int code,
                          const char* dberr, bool cut,
                          struct dbs_prisma_result* res, char* err,
                          size_t errlen) {
  const char* name = m->name;
  /* A script that opened a transaction and failed inside it would keep
   * it open; Prisma's connection rolls it back when it closes. Roll back
   * now so the logs update below is not lost with it. */
  if (!sqlite3_get_autocommit(db))
    exec1(db, "ROLLBACK");
  snprintf(res->code, sizeof(res->code), "P3018");
  char logs[2048];
  snprintf(logs, sizeof(logs),
           "A migration failed to apply. New migrations cannot be applied "
           "before the error is recovered from. Read more about how to "
           "resolve migration issues in a production database: "
           "https://pris.ly/d/migrate-resolve\n\nMigration name: %s\n\n"
           "Database error code: %d\n\nDatabase error:\n%s\n",
           name, code, dberr);
  int src = bind_exec(db,
                      "UPDATE \"_prisma_migrations\" SET \"logs\" = ?1 "
                      "WHERE \"id\" = ?2",
                      logs, m->id, 0, NULL);
  if (src != SQLITE_OK)
    dbs_log_warnx("cannot record the failure of %s: %s", name,
                  sqlite3_errmsg(db));
  if (cut) {
    set_err(err, errlen,
            "migration %s was still running %.1f s after %s (the stop "
            "timeout, --stop-timeout): interrupted it. The statements it "
            "ran before stay applied (SQLite runs Prisma migrations "
            "without a transaction) and it is recorded as failed, so the "
            "next deploy stops with P3009 until it is resolved: "
            "undo its partial changes, then `npx prisma migrate resolve "
            "--rolled-back %s` (the next boot runs it again), or complete "
            "them and `npx prisma migrate resolve --applied %s`; give "
            "long migrations a longer --stop-timeout (and the platform's "
            "kill timeout above it)",
            name, stop_timeout_ms / 1000.0, dbs_prisma_migrate_stop_name(),
            name, name);
    return -ETIMEDOUT;
  }
  set_err(err, errlen,
          "P3018: A migration failed to apply. New migrations cannot be "
          "applied before the error is recovered from. Read more about how "
          "to resolve migration issues in a production database: "
          "https://pris.ly/d/migrate-resolve\n"
          "Migration name: %s\n"
          "Database error code: %d\n"
          "Database error: %s\n"
          "Statements before the failing one stay applied (SQLite runs "
          "Prisma migrations without a transaction); " DBS_PRISMA_RESOLVE_HINT,
          name, code, dberr, name, name);
  return -EPROTO;
}

/* Prisma records the step, then finished_at, in two UPDATEs; one
 * statement leaves the same row and cannot stop half-way. */
static int record_finish(sqlite3* db, const struct mig_run* m, char* err,
                         size_t errlen) {
  int src = bind_exec(db,
                      "UPDATE \"_prisma_migrations\" SET "
                      "\"applied_steps_count\" = \"applied_steps_count\" + 1, "
                      "\"finished_at\" = ?3 WHERE \"id\" = ?1",
                      m->id, NULL, now_ms(), NULL);
  if (src != SQLITE_OK)
    return db_error(db, src, "cannot record the end of migration", m->name, err,
                    errlen);
  return 0;
}

/* Applies one pending migration. Returns 0, or -EPROTO (P3015/P3018) or
 * another negative errno, with the message in err. */
static int apply_one(sqlite3* db, const char* dir, const char* name,
                     struct dbs_prisma_result* res, char* err, size_t errlen) {
  struct mig_run m = {.name = name};
  char* mdir = dbs_path_join(dir, name);
  char dberr[1024];
  bool cut;
  int rc;
  uint64_t t0 = mono_ms();

  m.file = mdir ? dbs_path_join(mdir, "migration.sql") : NULL;
  free(mdir);
  if (m.file == NULL)
    return -ENOMEM;
  rc = record_start(db, &m, res, err, errlen);
  if (rc == 0) {
    int code = run_migration(db, &m, dberr, sizeof(dberr), &cut);
    if (code != SQLITE_OK)
      rc = record_failure(db, &m, code, dberr, cut, res, err, errlen);
  }
  if (rc == 0)
    rc = record_finish(db, &m, err, errlen);
  if (rc == 0) {
    res->applied++;
    dbs_log_info("applied migration %s in %" PRIu64 " ms", name,
                 mono_ms() - t0);
  }
  free(m.script);
  free(m.file);
  return rc;
}

/* The checks of the folder a deploy makes before it opens the database.
 * Returns 0 or a negative errno with a message in err. */
static int check_folder(const char* migrations_dir,
                        struct dbs_prisma_result* res, char* err,
                        size_t errlen) {
  struct stat st;
  if (stat(migrations_dir, &st) != 0) {
    int rc = -errno;
    set_err(err, errlen,
            "the Prisma migrations folder %s is missing: %s (create it with "
            "`npx prisma migrate dev`, or set --prisma-migrations)",
            migrations_dir, strerror(errno));
    return rc;
  }
  if (!S_ISDIR(st.st_mode)) {
    set_err(err, errlen,
            "the Prisma migrations folder %s is not a directory (set "
            "--prisma-migrations to the folder holding the migrations)",
            migrations_dir);
    return -ENOTDIR;
  }
  return check_lock_file(migrations_dir, res, err, errlen);
}

int dbs_prisma_migrate_check(const char* migrations_dir, char* err,
                             size_t errlen) {
  struct dbs_prisma_result res;
  struct mig_dir* dirs = NULL;
  size_t ndirs = 0;
  memset(&res, 0, sizeof(res));
  int rc = check_folder(migrations_dir, &res, err, errlen);
  if (rc == 0 &&
      (rc = list_dirs(migrations_dir, &dirs, &ndirs, err, errlen)) == 0)
    free_dirs(dirs, ndirs);
  return rc;
}

/*
 * Creates the database's directories, opens it (creating it) and sets the
 * connection up as Prisma's schema engine does. On error *db may hold a
 * handle for the caller to close.
 */
static int open_for_deploy(const char* db_path, sqlite3** db,
                           struct dbs_prisma_result* res, char* err,
                           size_t errlen) {
  int rc, src;
  if ((rc = make_parents(db_path)) != 0) {
    set_err(err, errlen,
            "cannot create the directory of the database %s: %s (check the "
            "volume is mounted and writable, or fix --db)",
            db_path, strerror(-rc));
    return rc == -ENOMEM ? rc : -EACCES;
  }
  bool existed = access(db_path, F_OK) == 0;
  src = sqlite3_open_v2(db_path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL);
  if (src != SQLITE_OK) {
    rc = db_error(*db, src, "cannot open the database", db_path, err, errlen);
    add_err(err, errlen,
            " (check the volume is mounted and writable by this user, or "
            "fix --db)");
    return rc;
  }
  res->created_db = !existed;
  sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(*db, 1);
  /* Prisma's bundled SQLite is built with foreign keys on by default. */
  if ((src = exec1(*db, "PRAGMA foreign_keys = ON")) != SQLITE_OK ||
      (!advisory_lock_disabled() &&
       (src = exec1(*db, "PRAGMA main.locking_mode=EXCLUSIVE")) != SQLITE_OK))
    return db_error(*db, src, "cannot set up the connection to", db_path, err,
                    errlen);
  return 0;
}

/* Creates _prisma_migrations in an empty database; a database with tables
 * but without it needs a baseline first (P3005). */
static int ensure_table(sqlite3* db, const char* db_path,
                        struct dbs_prisma_result* res, char* err,
                        size_t errlen) {
  int src;
  int have = table_exists(db, MIGRATIONS_TABLE, &src);
  if (have < 0)
    return db_error(db, src, "cannot read the schema of", db_path, err, errlen);
  if (have == 1)
    return 0;
  sqlite3_stmt* q = NULL;
  src = sqlite3_prepare_v2(
      db, "SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 1", -1, &q,
      NULL);
  if (src == SQLITE_OK)
    src = sqlite3_step(q);
  if (src == SQLITE_ROW) {
    snprintf(res->code, sizeof(res->code), "P3005");
    set_err(err, errlen,
            "P3005: The database schema is not empty. Read more about how "
            "to baseline an existing production database: "
            "https://pris.ly/d/migrate-baseline (%s has table `%s` but no "
            "_prisma_migrations table: baseline it by marking the "
            "migrations it already contains with `npx prisma migrate "
            "resolve --applied NAME`, or point --db at the right file)",
            db_path, (const char*)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return -EPROTO;
  }
  sqlite3_finalize(q);
  if (src != SQLITE_DONE)
    return db_error(db, src, "cannot read the schema of", db_path, err, errlen);
  if ((src = exec1(db, create_table_sql)) != SQLITE_OK)
    return db_error(db, src, "cannot create _prisma_migrations in", db_path,
                    err, errlen);
  return 0;
}

/* Refuses to go on past rows started and neither finished nor rolled back
 * (P3009), naming each. */
static int refuse_failed(const struct mig_row* rows, size_t nrows,
                         struct dbs_prisma_result* res, char* err,
                         size_t errlen) {
  bool any_failed = false;
  const char* last_failed = NULL;
  for (size_t i = 0; i < nrows; i++) {
    if (rows[i].finished || rows[i].rolled_back)
      continue;
    if (!any_failed) {
      snprintf(res->code, sizeof(res->code), "P3009");
      set_err(err, errlen,
              "P3009: migrate found failed migrations in the target database, "
              "new migrations will not be applied. Read more about how to "
              "resolve migration issues in a production database: "
              "https://pris.ly/d/migrate-resolve");
      any_failed = true;
    }
    char when[64];
    row_started(&rows[i], when, sizeof(when));
    add_err(err, errlen, "\nThe `%s` migration started at %s failed",
            rows[i].name, when);
    last_failed = rows[i].name;
  }
  if (!any_failed)
    return 0;
  add_err(err, errlen, "\nTo go on, " DBS_PRISMA_RESOLVE_HINT, last_failed,
          last_failed);
  return -EPROTO;
}

/* Applies, in order, each directory without a live row; none after a
 * stop request. */
static int apply_pending(sqlite3* db, const char* migrations_dir,
                         const struct mig_dir* dirs, size_t ndirs,
                         const struct mig_row* rows, size_t nrows,
                         struct dbs_prisma_result* res, char* err,
                         size_t errlen) {
  for (size_t i = 0; i < ndirs; i++) {
    bool done = false;
    for (size_t j = 0; j < nrows && !done; j++)
      done = !rows[j].rolled_back && strcmp(rows[j].name, dirs[i].name) == 0;
    if (done)
      continue;
    if (stop_sig != 0) {
      set_err(err, errlen,
              "%s arrived: stopped before migration %s, after %u applied by "
              "this run (the next boot applies the rest)",
              dbs_prisma_migrate_stop_name(), dirs[i].name, res->applied);
      return -EINTR;
    }
    int rc = apply_one(db, migrations_dir, dirs[i].name, res, err, errlen);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int dbs_prisma_migrate_deploy(const char* db_path, const char* migrations_dir,
                              struct dbs_prisma_result* res, char* err,
                              size_t errlen) {
  struct dbs_prisma_result local;
  struct mig_dir* dirs = NULL;
  struct mig_row* rows = NULL;
  size_t ndirs = 0, nrows = 0;
  sqlite3* db = NULL;
  int rc, src;
  uint64_t t0 = mono_ms();

  if (res == NULL)
    res = &local;
  memset(res, 0, sizeof(*res));
  if (err != NULL && errlen > 0)
    err[0] = '\0';

  if ((rc = check_folder(migrations_dir, res, err, errlen)) != 0)
    return rc;
  if ((rc = list_dirs(migrations_dir, &dirs, &ndirs, err, errlen)) != 0)
    return rc;
  rc = open_for_deploy(db_path, &db, res, err, errlen);
  if (rc == 0)
    rc = ensure_table(db, db_path, res, err, errlen);
  if (rc == 0 && (src = load_rows(db, &rows, &nrows)) != SQLITE_OK)
    rc = db_error(db, src, "cannot read _prisma_migrations in", db_path, err,
                  errlen);
  if (rc == 0)
    rc = refuse_failed(rows, nrows, res, err, errlen);
  if (rc == 0)
    rc = apply_pending(db, migrations_dir, dirs, ndirs, rows, nrows, res, err,
                       errlen);
  res->elapsed_ms = mono_ms() - t0;
  if (rc == 0 && res->applied == 0)
    dbs_log_info("no pending migrations");
  else if (rc == 0)
    dbs_log_info("%u migration%s applied in %" PRIu64 " ms", res->applied,
                 res->applied == 1 ? "" : "s", res->elapsed_ms);
  if (db != NULL && sqlite3_close(db) != SQLITE_OK) {
    /* An unfinalized statement would be a bug here; never leak the handle. */
    sqlite3_close_v2(db);
  }
  free_rows(rows, nrows);
  free_dirs(dirs, ndirs);
  if (rc != 0)
    res->elapsed_ms = mono_ms() - t0;
  return rc;
}

int dbs_prisma_migrate_unfinished(const char* db_path, char* names, size_t n) {
  sqlite3* db = NULL;
  sqlite3_stmt* st = NULL;
  int count = 0;
  if (n > 0)
    names[0] = '\0';
  /* dbsetup (root) reads what a --user child wrote: no symlink. */
  int src = sqlite3_open_v2(db_path, &db,
                            SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL);
  if (src == SQLITE_OK)
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
  if (src == SQLITE_OK)
    src = sqlite3_prepare_v2(
        db,
        "SELECT \"migration_name\" FROM \"_prisma_migrations\" WHERE "
        "\"finished_at\" IS NULL AND \"rolled_back_at\" IS NULL ORDER BY "
        "\"started_at\"",
        -1, &st, NULL);
  while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
    const char* name = (const char*)sqlite3_column_text(st, 0);
    add_err(names, n, "%s%s", count > 0 ? ", " : "", name ? name : "");
    count++;
    src = SQLITE_OK;
  }
  int rc = src == SQLITE_DONE || src == SQLITE_OK ? count : -EIO;
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  return rc;
}

/* ---- status ----------------------------------------------------------- */

static bool script_matches(const char* script, size_t len,
                           const char* checksum) {
  char sum[65];
  bool old = checksum[0] != '\0' && strlen(checksum) != 64;
  int (*fn)(const void*, size_t, char*) =
      old ? checksum_old_format : dbs_prisma_checksum;
  if (fn(script, len, sum) == 0 && strcmp(sum, checksum) == 0)
    return true;
  /* Prisma tolerates CRLF/LF differences: try both conversions. */
  char* buf = malloc(len * 2 + 1);
  if (buf == NULL)
    return false;
  bool match = false;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (script[i] == '\r' && i + 1 < len && script[i + 1] == '\n')
      continue;
    buf[o++] = script[i];
  }
  if (fn(buf, o, sum) == 0 && strcmp(sum, checksum) == 0)
    match = true;
  o = 0;
  for (size_t i = 0; i < len && !match; i++) {
    if (script[i] == '\n')
      buf[o++] = '\r';
    buf[o++] = script[i];
  }
  if (!match && fn(buf, o, sum) == 0 && strcmp(sum, checksum) == 0)
    match = true;
  free(buf);
  return match;
}

static int add_entry(struct dbs_prisma_status* st, size_t* cap,
                     const char* name) {
  if (st->n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 32;
    struct dbs_prisma_entry* nv =
        realloc(st->entries, ncap * sizeof(*st->entries));
    if (nv == NULL)
      return -ENOMEM;
    st->entries = nv;
    *cap = ncap;
  }
  struct dbs_prisma_entry* e = &st->entries[st->n];
  memset(e, 0, sizeof(*e));
  e->name = strdup(name);
  if (e->name == NULL)
    return -ENOMEM;
  st->n++;
  return 0;
}

/* The rows of db_path's _prisma_migrations, read-only; none when the
 * database or the table does not exist (st says which). */
static int status_read_rows(const char* db_path, struct dbs_prisma_status* st,
                            struct mig_row** rows, size_t* nrows, char* err,
                            size_t errlen) {
  struct stat sb;
  sqlite3* db = NULL;
  int rc = 0, src;
  st->db_exists = stat(db_path, &sb) == 0;
  if (!st->db_exists)
    return 0;
  src = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
  if (src != SQLITE_OK) {
    rc = db_error(db, src, "cannot open the database", db_path, err, errlen);
    goto out;
  }
  sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
  int have = table_exists(db, MIGRATIONS_TABLE, &src);
  if (have < 0) {
    rc = db_error(db, src, "cannot read the schema of", db_path, err, errlen);
    goto out;
  }
  st->initialized = have == 1;
  if (have == 1 && (src = load_rows(db, rows, nrows)) != SQLITE_OK)
    rc = db_error(db, src, "cannot read _prisma_migrations in", db_path, err,
                  errlen);
out:
  if (db != NULL)
    sqlite3_close_v2(db);
  return rc;
}

/* Whether an applied migration's migration.sql changed since. */
static bool status_modified(const char* migrations_dir, const char* name,
                            const char* checksum) {
  char* path = dbs_path_join(migrations_dir, name);
  char* file = path ? dbs_path_join(path, "migration.sql") : NULL;
  char* script = NULL;
  size_t len = 0;
  bool modified = false;
  if (file != NULL && read_script(file, &script, &len) == 0)
    modified = !script_matches(script, len, checksum);
  free(script);
  free(file);
  free(path);
  return modified;
}

/* One entry per directory, with the state of its newest live row; marks
 * in seen the rows that belong to a directory. */
static int status_dirs(struct dbs_prisma_status* st, size_t* cap,
                       const char* migrations_dir, const struct mig_dir* dirs,
                       size_t ndirs, const struct mig_row* rows, size_t nrows,
                       bool* seen) {
  for (size_t i = 0; i < ndirs; i++) {
    int rc = add_entry(st, cap, dirs[i].name);
    if (rc != 0)
      return rc;
    struct dbs_prisma_entry* e = &st->entries[st->n - 1];
    const struct mig_row* live = NULL;
    for (size_t j = 0; j < nrows; j++) {
      if (strcmp(rows[j].name, dirs[i].name) != 0)
        continue;
      seen[j] = true;
      if (!rows[j].rolled_back)
        live = &rows[j]; /* the newest live row wins (ordered by start) */
    }
    e->has_dir = true;
    if (live == NULL) {
      e->state = DBS_PRISMA_PENDING;
      continue;
    }
    e->started_at_ms = live->started_ms;
    e->finished_at_ms = live->finished_ms;
    e->state = live->finished ? DBS_PRISMA_APPLIED : DBS_PRISMA_FAILED;
    if (live->finished)
      e->modified =
          status_modified(migrations_dir, dirs[i].name, live->checksum);
  }
  return 0;
}

/* Rows without a directory: failed ones still block deploy. A later row
 * of a name already listed overrides the earlier ones. */
static int status_orphans(struct dbs_prisma_status* st, size_t* cap,
                          const struct mig_row* rows, size_t nrows,
                          const bool* seen) {
  for (size_t j = 0; j < nrows; j++) {
    if (seen[j])
      continue;
    bool dup = false;
    for (size_t k = 0; k < st->n && !dup; k++)
      dup = !st->entries[k].has_dir &&
            strcmp(st->entries[k].name, rows[j].name) == 0;
    if (dup) {
      for (size_t k = 0; k < st->n; k++) {
        struct dbs_prisma_entry* e = &st->entries[k];
        if (!e->has_dir && strcmp(e->name, rows[j].name) == 0 &&
            !rows[j].rolled_back) {
          e->state = rows[j].finished ? DBS_PRISMA_APPLIED : DBS_PRISMA_FAILED;
          e->started_at_ms = rows[j].started_ms;
          e->finished_at_ms = rows[j].finished_ms;
        }
      }
      continue;
    }
    int rc = add_entry(st, cap, rows[j].name);
    if (rc != 0)
      return rc;
    struct dbs_prisma_entry* e = &st->entries[st->n - 1];
    e->state = rows[j].rolled_back ? DBS_PRISMA_ROLLED_BACK
               : rows[j].finished  ? DBS_PRISMA_APPLIED
                                   : DBS_PRISMA_FAILED;
    e->started_at_ms = rows[j].started_ms;
    e->finished_at_ms = rows[j].finished_ms;
  }
  return 0;
}

static void status_count(struct dbs_prisma_status* st) {
  for (size_t k = 0; k < st->n; k++) {
    switch (st->entries[k].state) {
    case DBS_PRISMA_APPLIED:
      st->napplied++;
      break;
    case DBS_PRISMA_PENDING:
      st->npending++;
      break;
    case DBS_PRISMA_FAILED:
      st->nfailed++;
      break;
    case DBS_PRISMA_ROLLED_BACK:
      break;
    }
  }
}

int dbs_prisma_migrate_status(const char* db_path, const char* migrations_dir,
                              struct dbs_prisma_status* st, char* err,
                              size_t errlen) {
  struct mig_dir* dirs = NULL;
  struct mig_row* rows = NULL;
  size_t ndirs = 0, nrows = 0, cap = 0;
  bool* seen = NULL;
  int rc;

  memset(st, 0, sizeof(*st));
  /* Without libcrypto every checksum would look modified: say why instead. */
  const struct dbs_dynlib_crypto* crypto;
  if ((rc = dbs_dynlib_crypto(&crypto)) != 0) {
    set_err(err, errlen,
            "cannot check migration checksums: %s is not installed "
            "(install %s)",
            DBS_DYNLIB_CRYPTO_SONAME, DBS_DYNLIB_CRYPTO_PACKAGE);
    return rc;
  }
  if ((rc = list_dirs(migrations_dir, &dirs, &ndirs, err, errlen)) != 0)
    return rc;
  rc = status_read_rows(db_path, st, &rows, &nrows, err, errlen);
  if (rc == 0) {
    seen = calloc(nrows + 1, sizeof(bool));
    if (seen == NULL)
      rc = -ENOMEM;
  }
  if (rc == 0)
    rc = status_dirs(st, &cap, migrations_dir, dirs, ndirs, rows, nrows, seen);
  if (rc == 0)
    rc = status_orphans(st, &cap, rows, nrows, seen);
  if (rc == 0)
    status_count(st);
  free(seen);
  free_rows(rows, nrows);
  free_dirs(dirs, ndirs);
  if (rc != 0)
    dbs_prisma_status_free(st);
  return rc;
}

void dbs_prisma_status_free(struct dbs_prisma_status* st) {
  if (st == NULL)
    return;
  for (size_t i = 0; i < st->n; i++)
    free(st->entries[i].name);
  free(st->entries);
  memset(st, 0, sizeof(*st));
}
