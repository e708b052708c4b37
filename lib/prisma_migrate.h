/*
 * Native Prisma migrations: `prisma migrate deploy` on SQLite, in C, leaving
 * the database exactly as Prisma's schema engine would (see
 * shared/docs/prisma-migrate.md), so Prisma's own CLI agrees with it later.
 */
#ifndef DBS_PRISMA_MIGRATE_H
#define DBS_PRISMA_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a deploy did. Owns nothing. */
struct dbs_prisma_result {
  unsigned applied;    /* migrations applied by this run */
  bool created_db;     /* this run created the database file (a caller
                          may remove it again when the run failed) */
  uint64_t elapsed_ms; /* whole run, from start to summary */
  /* "P3005", "P3009", "P3015", "P3018" or "P3019" when Prisma would fail
   * with that code; "" otherwise. */
  char code[8];
};

enum dbs_prisma_state {
  DBS_PRISMA_APPLIED,     /* finished_at set */
  DBS_PRISMA_PENDING,     /* a directory without a live row */
  DBS_PRISMA_FAILED,      /* finished_at and rolled_back_at both NULL */
  DBS_PRISMA_ROLLED_BACK, /* only rows with rolled_back_at set */
};

/* One migration as `dbsetup migrate --status` shows it. */
struct dbs_prisma_entry {
  char* name; /* directory or migration_name; owned */
  enum dbs_prisma_state state;
  bool has_dir;           /* a directory of this name exists */
  bool modified;          /* applied, but migration.sql's checksum differs
                             (CRLF/LF differences tolerated, as Prisma) */
  int64_t started_at_ms;  /* from the newest row, 0 for pending */
  int64_t finished_at_ms; /* 0 when NULL */
};

/* Everything owned; free with dbs_prisma_status_free. */
struct dbs_prisma_status {
  bool db_exists;                   /* the database file exists */
  bool initialized;                 /* _prisma_migrations exists */
  struct dbs_prisma_entry* entries; /* directory order, then DB-only rows */
  size_t n;
  unsigned napplied, npending, nfailed;
};

/*
 * Applies the pending migrations of migrations_dir to the SQLite database at
 * db_path as `prisma migrate deploy` does: checks migration_lock.toml
 * (P3019), creates the database file and its parent directories if missing,
 * takes PRAGMA main.locking_mode=EXCLUSIVE (unless env
 * PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK is set to other than "" or "0"), sets
 * foreign keys ON and a 5 s busy timeout, creates _prisma_migrations in an
 * empty database (else P3005), refuses to go on past a failed row (P3009),
 * then for each pending directory in Prisma 6/7 order records the row, runs
 * migration.sql statement by statement in autocommit and records the outcome
 * (P3015 missing file, P3018 failed script). migration.sql is read as
 * Prisma reads it (Node's readFile "utf-8"): a BOM is kept, ill-formed UTF-8
 * sequences become U+FFFD (with a warning); the SHA-256 checksum and the
 * executed text are of those bytes, i.e. of the raw file when it is valid
 * UTF-8. Logs one info line per applied migration with its duration and a
 * summary line ("2 migrations applied in 14 ms" / "no pending migrations").
 *
 * A stop (dbs_prisma_migrate_request_stop) lets the running migration
 * script finish, up to the stop timeout, and starts no further one.
 *
 * Returns 0, or a negative errno with a message naming the problem and the
 * fix in err (several lines for P3009, one per failed migration):
 *   -EPROTO   a Prisma error; res->code holds its code (exit DBS_EXIT_MIGRATE)
 *   -EINTR    a stop came: every migration started has finished, the rest
 *             stay pending
 *   -ETIMEDOUT  a stop came and a script still ran at the stop timeout: it
 *             was interrupted and recorded as failed (res->code "P3018"; the
 *             message says how to resolve it)
 *   -ENOENT / -ENOTDIR  migrations_dir missing or not a directory (config)
 *   -EACCES / -EROFS    the database cannot be created or written
 *   -EIO      any other SQLite or I/O failure (exit DBS_EXIT_MIGRATE)
 * res may be NULL.
 */
int dbs_prisma_migrate_deploy(const char* db_path, const char* migrations_dir,
                              struct dbs_prisma_result* res, char* err,
                              size_t errlen);

/*
 * The checks a deploy makes of migrations_dir before it touches the
 * database, without opening it: the folder exists, is a directory and can
 * be listed, and migration_lock.toml names sqlite. Returns 0, -ENOENT /
 * -ENOTDIR / -EACCES (folder; configuration), -EPROTO (P3019), -ENOMEM,
 * with the message in err.
 */
int dbs_prisma_migrate_check(const char* migrations_dir, char* err,
                             size_t errlen);

/*
 * Asks a running deploy to stop (async-signal-safe: call it from a SIGTERM
 * or SIGINT handler): the script running now may finish, for up to the
 * stop timeout after this first call; no further migration starts. A
 * second call interrupts the running script at once.
 */
void dbs_prisma_migrate_request_stop(int sig);

/* Whether deploy takes locking_mode=EXCLUSIVE (default true); off under
 * LiteFS, which refuses WAL writes in that mode (litefs_boot.c). */
void dbs_prisma_migrate_set_exclusive(bool on);

/* The time a running script gets after a stop request (7 s by default):
 * --stop-timeout. */
void dbs_prisma_migrate_set_stop_timeout(unsigned ms);

/*
 * The migrations recorded in db_path as started and not finished (and not
 * rolled back), which make the next deploy fail with P3009: their names,
 * comma-separated, into names. Opens the database read-only, never through
 * a symlink, and never loads libcrypto. Returns how many, or a negative errno.
 */
int dbs_prisma_migrate_unfinished(const char* db_path, char* names, size_t n);

/*
 * Reads what deploy would see, without creating or changing anything: the
 * database is opened read-only (a missing file means every directory is
 * pending). Returns 0, or -ENOENT/-ENOTDIR (migrations_dir), -EIO (SQLite),
 * -ENOMEM, with a message in err. On success the caller owns *st.
 */
int dbs_prisma_migrate_status(const char* db_path, const char* migrations_dir,
                              struct dbs_prisma_status* st, char* err,
                              size_t errlen);

void dbs_prisma_status_free(struct dbs_prisma_status* st);

/*
 * Orders two migration names as Prisma 6/7 do (JavaScript localeCompare
 * under ICU's root collation, non-ignorable punctuation): returns <0, 0, >0.
 * Exact for printable ASCII: primary order is space, then
 *   _ - , ; : ! ? . ' " ( ) [ ] { } @ * / \ & # % ` ^ + < = > | ~ $
 * then digits, then letters without case; ties are broken by case, lower
 * before upper, at the first differing letter. ASCII control characters are
 * ignored. Bytes >= 0x80 sort after 'z'/'Z' in byte order (ICU would place
 * accented letters with their base letter; Prisma's generated names never
 * contain them).
 */
int dbs_prisma_name_cmp(const char* a, const char* b);

/* SHA-256 of n bytes as 64 lowercase hex digits into out[65]. Returns 0,
 * -ELIBACC (libcrypto.so.3 missing; logged) or -EIO. */
int dbs_prisma_checksum(const void* data, size_t n, char out[65]);

/* A random (getrandom) RFC 4122 version 4 UUID, lowercase, into out[37].
 * Returns 0 or a negative errno. */
int dbs_prisma_uuid_v4(char out[37]);

#endif
