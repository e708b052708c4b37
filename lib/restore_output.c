/*
 * The output of a restore, the same for both formats: checks and
 * preparation before the first byte is written, then the integrity
 * check, fsync and rename that make <output>.tmp the output, and the
 * cleanup when anything fails.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "path.h"
#include "restore_internal.h"
#include "sqlite_readahead.h"

/* Writes all of p at off, or at the file offset when off is -1. */
static int write_full(int fd, const uint8_t* p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = off < 0 ? write(fd, p, n) : pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
    if (off >= 0)
      off += w;
  }
  return 0;
}

int dbs_restore_write_all(int fd, const uint8_t* p, size_t n) {
  return write_full(fd, p, n, -1);
}

int dbs_restore_write_at(int fd, const uint8_t* p, size_t n, off_t off) {
  assert(off >= 0);
  return write_full(fd, p, n, off);
}

int dbs_restore_sql_row(sqlite3* db, const char* sql, int* cols, int ncols,
                        char* text, size_t textlen) {
  sqlite3_stmt* st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    for (int i = 0; i < ncols && i < sqlite3_column_count(st); i++)
      cols[i] = sqlite3_column_int(st, i);
    if (text != NULL) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      snprintf(text, textlen, "%s", t ? (const char*)t : "");
    }
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

int dbs_restore_open_db(const char* path, const char* vfs, sqlite3** db) {
  int rc = sqlite3_open_v2(path, db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(*db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
  return rc;
}

char* dbs_restore_suffixed(const char* p, const char* suffix) {
  char* s = NULL;
  if (asprintf(&s, "%s%s", p, suffix) < 0)
    return NULL;
  return s;
}

/* Runs the integrity check v on the database at path; what names the
 * source in the message. */
static int verify_db(const char* path, enum dbs_verify v, const char* what,
                     struct dbs_restore_error* e) {
  if (v == DBS_VERIFY_NONE)
    return 0;
  sqlite3* db = NULL;
  char res[512] = "";
  int row[1];
  const char* sql =
      v == DBS_VERIFY_FULL ? "PRAGMA integrity_check" : "PRAGMA quick_check";
  /* Page-at-a-time reads cost a system call each; the read-ahead VFS
   * halves the check's time on a 1 GB database (restore-results.txt). */
  const char* vfs =
      dbs_sqlite_readahead_register() == 0 ? DBS_SQLITE_READAHEAD_VFS : NULL;
  int rc = dbs_restore_open_db(path, vfs, &db);
  if (rc == SQLITE_OK)
    rc = dbs_restore_sql_row(db, sql, row, 0, res, sizeof(res));
  if (rc != SQLITE_OK) {
    dbs_restore_set_err(e,
                        rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB
                            ? DBS_RESTORE_ECORRUPT
                            : DBS_RESTORE_EINTERNAL,
                        "%s of the restored database failed: %s", sql + 7,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return -1;
  }
  sqlite3_close(db);
  if (strcmp(res, "ok") != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                        "the restored database fails %s: %s (%s)", sql + 7, res,
                        what);
    return -1;
  }
  return 0;
}

static int fsync_path(const char* path, bool dir) {
  int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fsync(fd) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}

/* mkdir -p dir (0700), for a dir relative to the working directory too. */
static int mkdir_p(const char* dir) {
  char* abs = dbs_path_absolute(dir);
  if (abs == NULL)
    return -errno;
  int rc = dbs_path_mkdir_p(abs, 0700);
  free(abs);
  return rc;
}

int dbs_restore_remove_leftovers(const char* output) {
  static const char* const sfx[] = {".tmp", ".tmp-wal", ".tmp-shm",
                                    ".tmp-journal"};
  static const char* const stale[] = {"-wal", "-shm", "-journal"};
  int rc = 0;
  struct stat st;
  bool missing = lstat(output, &st) != 0 && errno == ENOENT;
  for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]) + 3; i++) {
    if (i >= sizeof(sfx) / sizeof(sfx[0]) && !missing)
      break;
    const char* s = i < 4 ? sfx[i] : stale[i - 4];
    char* p = dbs_restore_suffixed(output, s);
    if (p == NULL)
      return -ENOMEM;
    if (unlink(p) == 0)
      dbs_log_info("removed %s left by an earlier interrupted restore", p);
    else if (errno != ENOENT)
      rc = -errno;
    free(p);
  }
  /* Staged WAL and LTX files: <base>.tmp-XXXXXXXX-wal and -ltx. */
  char* dir = dbs_path_dirname(output);
  if (dir == NULL)
    return -ENOMEM;
  const char* base = dbs_path_basename(output);
  size_t bl = strlen(base);
  DIR* d = opendir(dir);
  if (d != NULL) {
    struct dirent* de;
    while ((de = readdir(d)) != NULL) {
      const char* n = de->d_name;
      size_t nl = strlen(n);
      if (nl != bl + 17 || strncmp(n, base, bl) != 0 ||
          strncmp(n + bl, ".tmp-", 5) != 0 ||
          (strcmp(n + bl + 13, "-wal") != 0 &&
           strcmp(n + bl + 13, "-ltx") != 0))
        continue;
      bool hex = true;
      for (size_t i = bl + 5; i < bl + 13; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
          hex = false;
      if (!hex)
        continue;
      if (unlinkat(dirfd(d), n, 0) == 0)
        dbs_log_info("removed %s/%s left by an earlier interrupted restore",
                     dir, n);
      else if (errno != ENOENT)
        rc = -errno;
    }
    closedir(d);
  }
  free(dir);
  return rc;
}

static const char* const sidecars[] = {"-wal", "-shm", "-journal"};

/*
 * May output be restored to? Missing: yes. An existing regular file: with
 * force, or when empty and empty_ok (litestream 0.5 removes an empty
 * output; 0.3.13 refuses any), replaced at the rename; SQLite sidecars
 * beside it only with force.
 */
static int check_output(const char* output, const struct dbs_restore_opts* o,
                        bool empty_ok, struct dbs_restore_error* e) {
  struct stat sb;
  if (lstat(output, &sb) != 0)
    return 0;
  if (!S_ISREG(sb.st_mode)) {
    dbs_restore_set_err(
        e, DBS_RESTORE_ETARGET,
        "cannot restore, output path exists and is not a regular file: "
        "%s",
        output);
    return -1;
  }
  if ((sb.st_size > 0 || !empty_ok) && !o->force) {
    dbs_restore_set_err(
        e, DBS_RESTORE_ETARGET,
        "cannot restore, output path already exists: %s (-force replaces "
        "it once the restore is complete)",
        output);
    return -1;
  }
  for (size_t i = 0; i < 3 && !o->force; i++) {
    char* p = dbs_restore_suffixed(output, sidecars[i]);
    bool there = p != NULL && lstat(p, &sb) == 0;
    if (there)
      dbs_restore_set_err(
          e, DBS_RESTORE_ETARGET,
          "cannot restore, SQLite sidecar path already exists: %s (-force "
          "removes it)",
          p);
    free(p);
    if (there)
      return -1;
  }
  return 0;
}

/* Renames tmp onto output; an output replaced loses its sidecars first,
 * or SQLite would replay the old WAL into the new database. */
static int replace_output(const char* tmp, const char* output) {
  struct stat sb;
  if (lstat(output, &sb) == 0) {
    for (size_t i = 0; i < 3; i++) {
      char* p = dbs_restore_suffixed(output, sidecars[i]);
      if (p == NULL)
        return -1;
      int rc = unlink(p) != 0 && errno != ENOENT ? -1 : 0;
      free(p);
      if (rc != 0)
        return -1;
    }
  }
  return rename(tmp, output);
}

int dbs_restore_out_prepare(struct dbs_restore_out* out, const char* output,
                            const struct dbs_restore_opts* o, bool empty_ok,
                            uint64_t total_bytes, size_t total_objects,
                            struct dbs_restore_error* e) {
  assert(out->tmp == NULL && out->dir == NULL);
  out->output = output;
  out->prog.enabled = o->progress;
  out->prog.tty = isatty(STDERR_FILENO);
  out->prog.start_ns = dbs_restore_now_ns();
  out->prog.total_bytes = total_bytes;
  out->prog.total_objects = total_objects;
  out->tmp = dbs_restore_suffixed(output, ".tmp");
  out->dir = dbs_path_dirname(output);
  if (out->tmp == NULL || out->dir == NULL) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  if (check_output(output, o, empty_ok, e) != 0)
    return -1;
  int rc = mkdir_p(out->dir);
  if (rc != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET,
                        "cannot create directory %s: %s", out->dir,
                        strerror(-rc));
    return -1;
  }
  if (dbs_restore_remove_leftovers(output) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET,
                        "cannot remove the leftovers of an earlier restore "
                        "beside %s: %s",
                        output, strerror(errno));
    return -1;
  }
  out->created = true;
  return 0;
}

int dbs_restore_out_finish(struct dbs_restore_out* out, enum dbs_verify v,
                           const char* what, struct dbs_restore_error* e) {
  assert(out->created);
  if (verify_db(out->tmp, v, what, e) != 0)
    return -1;
  /* No -wal or -shm may survive: SQLite removed them on the last close. */
  char *w = dbs_restore_suffixed(out->tmp, "-wal"),
       *s = dbs_restore_suffixed(out->tmp, "-shm");
  if (w != NULL)
    unlink(w);
  if (s != NULL)
    unlink(s);
  free(w);
  free(s);
  int rc = fsync_path(out->tmp, false);
  if (rc != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot fsync %s: %s", out->tmp,
                        strerror(-rc));
    return -1;
  }
  if (replace_output(out->tmp, out->output) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot rename %s to %s: %s",
                        out->tmp, out->output, strerror(errno));
    return -1;
  }
  if ((rc = fsync_path(out->dir, true)) != 0)
    dbs_log_warnx("cannot fsync directory %s: %s", out->dir, strerror(-rc));
  return 0;
}

void dbs_restore_out_end(struct dbs_restore_out* out, bool ok,
                         const char* point) {
  static const char* const sfx[] = {"", "-wal", "-shm", "-journal"};
  dbs_restore_progress_tick(&out->prog, false);
  dbs_restore_progress_end(&out->prog);
  if (!ok && out->created) {
    for (size_t i = 0; i < 4; i++) {
      char* p = dbs_restore_suffixed(out->tmp, sfx[i]);
      if (p != NULL)
        unlink(p);
      free(p);
    }
  }
  if (ok && out->prog.enabled) {
    double secs = (double)(dbs_restore_now_ns() - out->prog.start_ns) / 1e9;
    struct stat st;
    double size = stat(out->output, &st) == 0 ? (double)st.st_size : 0;
    char sz[32], speed[32];
    dbs_log_info(
        "restored %s: %s, %s, %.2f s, %s/s", out->output,
        dbs_restore_fmt_size(size, sz, sizeof(sz)), point, secs,
        dbs_restore_fmt_size(secs > 0 ? size / secs : 0, speed, sizeof(speed)));
  }
  free(out->tmp);
  free(out->dir);
  out->tmp = NULL;
  out->dir = NULL;
  out->created = false;
}
