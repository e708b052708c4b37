/*
 * The boot under LiteFS (litefs_boot.h): dbsetup as LiteFS's exec command.
 * ../shared/docs/litefs.md has the facts (LiteFS v0.5.14) this follows.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "exitcode.h"
#include "litefs.h"
#include "litefs_boot.h"
#include "log.h"
#include "prisma_migrate.h"
#include "proc.h"
#include "restore.h"
#include "strbuf.h"

#define API_WAIT_MS 10000u     /* GET /info retried this long */
#define IMPORT_IDLE_MS 120000u /* each step of POST /import */
#define REPLICA_POLL_MS 250
#define REPLICA_LOG_MS 10000

/* What the lock phase found; one boot per process. */
static struct {
  bool on, primary;
  char api[300];
  char* mount;    /* the serving mount (fuse.dir) */
  char* target;   /* <mount>/<name> */
  char* name;     /* the database's name in LiteFS */
  char* data_dir; /* litefs.yml's data.dir, or NULL */
  char* cfg_path; /* litefs.yml read, or NULL */
  char* lease;    /* lease.type ("" unknown) */
  char* volume;   /* absolute */
  char primary_host[256];
} lfs;

/* The LiteFS API that did not answer the last check_setup ("": it did, or
 * none was asked); kept when lfs is cleared, for doctor. */
static char unanswered[300];

bool dbs_litefs_on(void) {
  return lfs.on;
}

bool dbs_litefs_replica(void) {
  return lfs.on && !lfs.primary;
}

const char* dbs_litefs_target(void) {
  return lfs.on ? lfs.target : NULL;
}

const char* dbs_litefs_mount_dir(void) {
  return lfs.on ? lfs.mount : NULL;
}

const char* dbs_litefs_primary_host(void) {
  return lfs.on ? lfs.primary_host : NULL;
}

const char* dbs_litefs_lease(void) {
  return lfs.on ? lfs.lease : NULL;
}

const char* dbs_litefs_unanswered(void) {
  return unanswered[0] != '\0' ? unanswered : NULL;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* GET /info, retried until total_ms have passed. */
static int query_info(struct dbs_litefs_info* info, unsigned total_ms,
                      char* err, size_t errlen) {
  int64_t end = mono_ms() + total_ms;
  for (;;) {
    int rc = dbs_litefs_get_info(lfs.api, 2000, info, err, errlen);
    if (rc == 0 || rc == -EINVAL || mono_ms() + 200 >= end)
      return rc;
    sleep_ms(200);
  }
}

static void state_free(void) {
  free(lfs.mount);
  free(lfs.target);
  free(lfs.name);
  free(lfs.data_dir);
  free(lfs.cfg_path);
  free(lfs.lease);
  free(lfs.volume);
  memset(&lfs, 0, sizeof(lfs));
}

/* The paths of lfs. Returns 0 or -ENOMEM. */
static int state_paths(const char* dir, const char* name, const char* vol,
                       const struct dbs_litefs_config* cfg) {
  lfs.mount = strdup(dir);
  lfs.name = strdup(name);
  lfs.volume = strdup(vol);
  lfs.lease = strdup(cfg != NULL ? cfg->lease_type : "");
  lfs.data_dir = cfg != NULL ? strdup(cfg->data_dir) : NULL;
  lfs.cfg_path = cfg != NULL ? strdup(cfg->path) : NULL;
  if (asprintf(&lfs.target, "%s/%s", dir, name) < 0)
    lfs.target = NULL;
  bool oom = lfs.mount == NULL || lfs.name == NULL || lfs.volume == NULL ||
             lfs.lease == NULL || lfs.target == NULL;
  return oom || (cfg != NULL && (lfs.data_dir == NULL || lfs.cfg_path == NULL))
             ? -ENOMEM
             : 0;
}

/* Sets lfs up for the serving mount dir; logs the role. */
static int take_role(const char* db_path, const char* vol, const char* dir,
                     bool allow_other, bool user,
                     const struct dbs_litefs_config* cfg) {
  char err[1024];
  const char* name = strrchr(db_path, '/');
  name = name != NULL ? name + 1 : db_path;
  if (user && !allow_other) {
    dbs_log_errorx("--user runs the app as another user, but the LiteFS "
                   "mount %s lacks allow_other, so only LiteFS's own user "
                   "can open the database: set `fuse: { allow-other: true }` "
                   "in %s (nothing was changed)",
                   dir, cfg != NULL ? cfg->path : "litefs.yml");
    return DBS_EXIT_CONFIG;
  }
  const char* http = cfg != NULL ? cfg->http_addr : ":20202";
  if (dbs_litefs_api_addr(http, lfs.api, sizeof(lfs.api)) != 0) {
    dbs_log_errorx("LiteFS's http.addr %s (%s) is not an address dbsetup "
                   "can reach (use a numeric one, e.g. \":20202\"; nothing "
                   "was changed)",
                   http, cfg != NULL ? cfg->path : "LiteFS's default");
    return DBS_EXIT_CONFIG;
  }
  if (state_paths(dir, name, vol, cfg) != 0)
    return DBS_EXIT_SOFTWARE;
  struct dbs_litefs_info info;
  int64_t t0 = mono_ms();
  int rc = query_info(&info, API_WAIT_MS, err, sizeof(err));
  if (rc != 0) {
    if (rc != -EINVAL)
      snprintf(unanswered, sizeof(unanswered), "%s", lfs.api);
    dbs_log_errorx("%s (tried for %.1f s): LiteFS's API does not answer, so "
                   "dbsetup cannot tell whether this node is the primary and "
                   "sets nothing up (check http.addr in %s; nothing was "
                   "changed)",
                   err, (mono_ms() - t0) / 1000.0,
                   cfg != NULL ? cfg->path : "litefs.yml");
    return rc == -EINVAL ? DBS_EXIT_CONFIG : DBS_EXIT_UNAVAILABLE;
  }
  lfs.on = true;
  lfs.primary = info.is_primary;
  snprintf(lfs.primary_host, sizeof(lfs.primary_host), "%s",
           info.primary_hostname);
  if (lfs.primary)
    dbs_log_info("LiteFS: this node is the primary (%s); the database is "
                 "%s",
                 lfs.api, lfs.target);
  else
    dbs_log_info("LiteFS: this node is a replica of %s (%s); the database "
                 "is %s",
                 info.primary_hostname[0] ? info.primary_hostname
                                          : "a primary not connected yet",
                 lfs.api, lfs.target);
  /* LiteFS refuses WAL writes under locking_mode=EXCLUSIVE; the volume
   * lock and the single primary keep other writers out. */
  dbs_prisma_migrate_set_exclusive(false);
  return 0;
}

/* True when path is a symlink whose target lies in one of the mounts. */
static bool linked_into(const char* path, const struct dbs_litefs_mount* m,
                        size_t n) {
  char link[4096], full[8200];
  ssize_t len = readlink(path, link, sizeof(link) - 1);
  if (len <= 0)
    return false;
  link[len] = '\0';
  const char* slash = strrchr(path, '/');
  if (link[0] != '/' && slash != NULL)
    snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - path), path, link);
  else
    snprintf(full, sizeof(full), "%s", link);
  bool yes = false;
  for (size_t i = 0; i < n && !yes; i++)
    yes = dbs_litefs_under(full, m[i].dir);
  return yes;
}

int dbs_litefs_check_setup(const char* db_path, const char* volume,
                           bool litefs_in_charge, bool user) {
  struct dbs_litefs_mount* mounts = NULL;
  struct dbs_litefs_config cfg;
  size_t n = 0;
  char buf[4096], err[2048], vol[8200];
  bool have_cfg;
  int rc;

  state_free();
  unanswered[0] = '\0';
  if ((rc = dbs_litefs_mounts(NULL, &mounts, &n)) != 0) {
    dbs_log_warnx("cannot read /proc/self/mountinfo (%s): LiteFS mounts "
                  "not checked",
                  strerror(-rc));
    n = 0;
  }
  const char* explicit_path =
      litefs_in_charge ? dbs_litefs_parent_config(buf, sizeof(buf)) : NULL;
  rc = dbs_litefs_config_load(explicit_path, &cfg, err, sizeof(err));
  have_cfg = rc == 0;
  if (rc != 0 && rc != -ENOENT)
    dbs_log_warnx("%s: not used to check the LiteFS setup", err);
  if (volume[0] != '/' && getcwd(buf, sizeof(buf)) != NULL)
    snprintf(vol, sizeof(vol), "%s/%s", buf, volume);
  else
    snprintf(vol, sizeof(vol), "%s", volume);
  const struct dbs_litefs_config* c = have_cfg ? &cfg : NULL;
  /* An app path already linked into a mount is served too (doctor from a
   * shell on a node whose PID 1 is not litefs, a second boot). */
  litefs_in_charge = litefs_in_charge || linked_into(db_path, mounts, n);
  rc = dbs_litefs_refuse_setup(db_path, vol, litefs_in_charge, mounts, n, c,
                               err, sizeof(err));
  if (rc != 0) {
    dbs_log_errorx("%s (nothing was changed)", err);
  } else {
    const char* dir =
        dbs_litefs_serving(db_path, litefs_in_charge, mounts, n, c);
    bool ao = false;
    for (size_t i = 0; dir != NULL && i < n; i++)
      if (mounts[i].dir == dir)
        ao = mounts[i].allow_other;
    if (dir != NULL)
      rc = take_role(db_path, vol, dir, ao, user, c);
    if (rc != 0)
      state_free();
  }
  if (have_cfg)
    dbs_litefs_config_free(&cfg);
  dbs_litefs_mounts_free(mounts, n);
  return rc;
}

bool dbs_litefs_skip(const char* what) {
  if (!dbs_litefs_replica())
    return false;
  dbs_log_info("LiteFS replica: no %s here (the primary runs it, and its "
               "changes arrive through LiteFS)",
               what);
  return true;
}

int dbs_litefs_check_litestream(const struct dbs_boot* b) {
  const struct dbs_db_config* db = b->ls_db;
  const char* file = b->ls.file;
  /* Only when `litestream replicate` will run (not a --replicate CMD). */
  if (!lfs.on || b->cfg->replicate != NULL || !dbs_boot_replicates(b))
    return 0;
  assert(db != NULL);
  if (strcmp(lfs.lease, "static") != 0) {
    dbs_log_errorx("%s replicates %s, but LiteFS's lease is %s%s%s: "
                   "Litestream on LiteFS works only with a static lease (a "
                   "moving primary leaves litestream writing on a replica, "
                   "or two of them writing one backup; "
                   "fly.io/docs/litefs/backup). Use `lease: { type: static "
                   "}`, or pass --no-replicate and back up with `litefs "
                   "export` (nothing was changed)",
                   file, lfs.target, lfs.lease[0] ? "\"" : "",
                   lfs.lease[0] ? lfs.lease : "not known (no litefs.yml read)",
                   lfs.lease[0] ? "\"" : "");
    return DBS_EXIT_CONFIG;
  }
  if (strcmp(db->path, lfs.target) != 0) {
    dbs_log_errorx("%s replicates %s, but LiteFS serves the database as %s: "
                   "litestream must replicate the file in the mount; set "
                   "`path: %s` (nothing was changed)",
                   file, db->path, lfs.target, lfs.target);
    return DBS_EXIT_CONFIG;
  }
  char* meta = NULL;
  char cwd[4096];
  if (db->meta_path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
    if (asprintf(&meta, "%s/%s", cwd, db->meta_path) < 0)
      return DBS_EXIT_SOFTWARE;
  } else if ((meta = strdup(db->meta_path)) == NULL) {
    return DBS_EXIT_SOFTWARE;
  }
  char* dbs = NULL;
  if (lfs.data_dir != NULL && asprintf(&dbs, "%s/dbs", lfs.data_dir) < 0) {
    free(meta);
    return DBS_EXIT_SOFTWARE;
  }
  bool in_mount = dbs_litefs_under(meta, lfs.mount);
  bool in_dbs = dbs != NULL && dbs_litefs_under(meta, dbs);
  free(dbs);
  if (in_mount || in_dbs) {
    dbs_log_errorx("%s: litestream's meta-path for %s is %s, inside %s: %s. "
                   "Set `meta-path: %s/%s-litestream` (on the volume; "
                   "nothing was changed)",
                   file, lfs.target, meta,
                   in_mount ? "the LiteFS mount" : "LiteFS's data.dir/dbs",
                   in_mount ? "LiteFS has no directories there (litestream "
                              "fails with \"operation not permitted\"), and "
                              "every file there becomes a database"
                            : "LiteFS takes every entry there for a "
                              "database",
                   lfs.volume, lfs.name);
    free(meta);
    return DBS_EXIT_CONFIG;
  }
  free(meta);
  return 0;
}

/* ---- the database in the mount ---------------------------------------- */

enum { LFS_MISSING, LFS_EXISTS };

/*
 * What is at path in the mount, read through LiteFS without creating
 * anything: no file, or a file without pages (LiteFS has the name but no
 * data), is missing; the SQLite header exists; anything else is -EILSEQ.
 */
static int fuse_state(const char* path, char* err, size_t errlen) {
  static const char hdr[16] = "SQLite format 3";
  char head[16];
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT)
      return LFS_MISSING;
    int e = errno;
    snprintf(err, errlen, "cannot read the database %s: %s", path, strerror(e));
    return -e;
  }
  int rc = LFS_MISSING;
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    snprintf(err, errlen, "cannot stat the database %s: %s", path,
             strerror(-rc));
  } else if (st.st_size > 0) {
    ssize_t n = pread(fd, head, sizeof(head), 0);
    if (n == (ssize_t)sizeof(head) && memcmp(head, hdr, sizeof(hdr)) == 0) {
      rc = LFS_EXISTS;
    } else {
      rc = n < 0 ? -errno : -EILSEQ;
      snprintf(err, errlen,
               "%s in the LiteFS mount is not an SQLite database (%lld "
               "bytes): dbsetup will not touch it",
               path, (long long)st.st_size);
    }
  }
  close(fd);
  return rc;
}

/* ---- replica: wait for the primary ------------------------------------ */

/* True when the database is there with every local migration finished;
 * what is missing goes into why. */
static bool replica_ready(const struct dbs_boot* b, char* why, size_t n) {
  char err[1024] = "";
  int st = fuse_state(lfs.target, err, sizeof(err));
  if (st != LFS_EXISTS) {
    snprintf(why, n, "%s", st < 0 ? err : "no database yet");
    return false;
  }
  if (b->cfg->migrate != NULL || b->disc.migrations_dir == NULL)
    return true;
  struct dbs_prisma_status s;
  if (dbs_prisma_migrate_status(lfs.target, b->disc.migrations_dir, &s, err,
                                sizeof(err)) != 0) {
    snprintf(why, n, "cannot read its migrations: %s", err);
    return false;
  }
  bool ok = s.npending == 0 && s.nfailed == 0;
  snprintf(why, n, "%u of %u migrations applied%s", s.napplied,
           s.napplied + s.npending + s.nfailed,
           s.nfailed > 0 ? " (some recorded as failed)" : "");
  dbs_prisma_status_free(&s);
  return ok;
}

static int replica_wait(struct dbs_boot* b) {
  char why[1200] = "";
  double wait_s = b->cfg->litefs_replica_wait_ms / 1000.0;
  b->fresh = false;
  if (b->plan != NULL) {
    bool ok = replica_ready(b, why, sizeof(why));
    b->plan->db_state = ok ? DBS_DB_EXISTS : DBS_DB_MISSING;
    if (!ok)
      dbs_log_warnx("LiteFS replica: the boot would wait up to %g s for the "
                    "primary's database %s (now: %s)",
                    wait_s, lfs.target, why);
    return 0;
  }
  int64_t t0 = mono_ms(), next_log = t0 + REPLICA_LOG_MS;
  int64_t end = t0 + (int64_t)b->cfg->litefs_replica_wait_ms;
  bool logged = false;
  for (;;) {
    if (replica_ready(b, why, sizeof(why))) {
      dbs_log_info("LiteFS replica: the primary's database %s is here (%s) "
                   "after %.1f s",
                   lfs.target, why, (mono_ms() - t0) / 1000.0);
      return 0;
    }
    int64_t now = mono_ms();
    if (!logged) {
      dbs_log_info("LiteFS replica: waiting up to %g s for the primary "
                   "(%s) to make the database %s: %s",
                   wait_s, lfs.primary_host[0] ? lfs.primary_host : "?",
                   lfs.target, why);
      logged = true;
    } else if (now >= next_log) {
      dbs_log_info("LiteFS replica: still waiting for %s (%.0f s of %g): "
                   "%s",
                   lfs.target, (now - t0) / 1000.0, wait_s, why);
      next_log += REPLICA_LOG_MS;
    }
    if (now >= end) {
      dbs_log_errorx("LiteFS replica: the primary's database %s did not "
                     "arrive within %g s (%s): exiting 75 so that the node "
                     "is restarted; check the primary's log (or raise "
                     "--litefs-replica-wait / DBSETUP_LITEFS_REPLICA_WAIT)",
                     lfs.target, wait_s, why);
      return DBS_EXIT_TEMPFAIL;
    }
    sleep_ms(REPLICA_POLL_MS);
  }
}

/* ---- primary: restore onto the volume, then import -------------------- */

static void remove_restore_file(const char* path) {
  static const char* const sc[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
    char* p = NULL;
    if (asprintf(&p, "%s%s", path, sc[i]) < 0)
      return;
    if (unlink(p) != 0 && errno != ENOENT)
      dbs_log_error("cannot remove %s", p);
    free(p);
  }
  (void)dbs_restore_remove_leftovers(path);
}

/* The restored file before it replaces the cluster's database: an SQLite
 * header whose page count matches the size, and PRAGMA quick_check on it
 * opened immutable (no -wal or -shm made). 0 or -EILSEQ, logged. */
static int check_restored(const char* path, int fd) {
  unsigned char h[100];
  struct stat st;
  if (fstat(fd, &st) != 0 || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
      memcmp(h, "SQLite format 3", 16) != 0) {
    dbs_log_errorx("the restored %s is not an SQLite database", path);
    return -EILSEQ;
  }
  unsigned psz = ((unsigned)h[16] << 8) | h[17];
  if (psz == 1)
    psz = 65536;
  unsigned long long pages = ((unsigned long long)h[28] << 24) |
                             ((unsigned long long)h[29] << 16) |
                             ((unsigned long long)h[30] << 8) | h[31];
  if (pages == 0 || pages * psz != (unsigned long long)st.st_size) {
    dbs_log_errorx("the restored %s holds %lld bytes, but its header counts "
                   "%llu pages of %u bytes: LiteFS imports the header's "
                   "count, so it is not imported",
                   path, (long long)st.st_size, pages, psz);
    return -EILSEQ;
  }
  char* uri = sqlite3_mprintf("file:%s?immutable=1", path);
  sqlite3* db = NULL;
  sqlite3_stmt* q = NULL;
  char res[256] = "";
  int src = uri == NULL
                ? SQLITE_NOMEM
                : sqlite3_open_v2(uri, &db,
                                  SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
  if (src == SQLITE_OK)
    src = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL);
  if (src == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    snprintf(res, sizeof(res), "%s", (const char*)sqlite3_column_text(q, 0));
  else if (src == SQLITE_OK)
    src = sqlite3_errcode(db);
  if (src != SQLITE_OK || strcmp(res, "ok") != 0) {
    dbs_log_errorx("the restored %s fails PRAGMA quick_check: %s", path,
                   src != SQLITE_OK ? sqlite3_errstr(src) : res);
    src = SQLITE_CORRUPT;
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  sqlite3_free(uri);
  return src == SQLITE_OK ? 0 : -EILSEQ;
}

/* Checks and imports the restored file. Returns 0 or an exit status. */
static int import_restored(const char* path) {
  char err[1024];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    dbs_log_error("cannot open the restored %s", path);
    return DBS_EXIT_CANTCREAT;
  }
  if (check_restored(path, fd) != 0) {
    close(fd);
    return DBS_EXIT_DATAERR;
  }
  struct stat st;
  fstat(fd, &st);
  int64_t t0 = mono_ms();
  dbs_log_info("LiteFS: importing the restored database (%lld bytes) as %s "
               "(POST http://%s/import): LiteFS replaces the database with "
               "it and replicas receive it as a snapshot (a replica holding "
               "newer data is reset to it)",
               (long long)st.st_size, lfs.name, lfs.api);
  int rc = dbs_litefs_import(lfs.api, lfs.name, fd, IMPORT_IDLE_MS, err,
                             sizeof(err));
  close(fd);
  if (rc == 0) {
    dbs_log_info("LiteFS: imported %s in %.2f s", lfs.target,
                 (mono_ms() - t0) / 1000.0);
    return 0;
  }
  if (rc == -EAGAIN || dbs_litefs_lost_primary("the import")) {
    if (rc == -EAGAIN)
      dbs_log_errorx("%s: this node is not the primary any more; exiting "
                     "75 (the backup is restored again on the next start)",
                     err);
    return DBS_EXIT_TEMPFAIL;
  }
  dbs_log_errorx("%s: the restored database was not imported", err);
  return DBS_EXIT_UNAVAILABLE;
}

/* The boot restores the database when it is missing, a backup is
 * configured and restores are not off (as dbs_boot_restore decides). */
static bool restore_configured(const struct dbs_boot* b) {
  return !b->cfg->no_restore && b->ls_db != NULL && !b->replication_off &&
         b->ls_db->nreplicas > 0;
}

int dbs_litefs_boot_restore(struct dbs_boot* b,
                            int (*restore)(struct dbs_boot*)) {
  char err[1024] = "";
  if (!lfs.primary)
    return replica_wait(b);
  int state = fuse_state(lfs.target, err, sizeof(err));
  if (b->plan != NULL)
    b->plan->db_state = state == LFS_EXISTS ? DBS_DB_EXISTS : DBS_DB_MISSING;
  if (state < 0) {
    dbs_log_errorx("%s", err);
    return state == -EILSEQ ? DBS_EXIT_DATAERR : DBS_EXIT_CANTCREAT;
  }
  if (state == LFS_EXISTS) {
    dbs_log_info("database %s exists (LiteFS primary)", lfs.target);
    return 0;
  }
  b->fresh = true;
  if (!restore_configured(b)) {
    dbs_log_info("database %s is new (LiteFS primary%s)", lfs.target,
                 b->cfg->no_restore ? ", --no-restore" : "");
    return 0;
  }
  /* Restored onto the volume (never into the mount: every name there
   * becomes a database), then imported. */
  char* tmp = NULL;
  if (asprintf(&tmp, "%s/.dbsetup-restore-%s", lfs.volume, lfs.name) < 0)
    return DBS_EXIT_SOFTWARE;
  if (b->plan == NULL)
    remove_restore_file(tmp);
  char* keep = b->target;
  b->target = tmp;
  int rc = restore(b);
  b->target = keep;
  if (rc == 0 && b->plan == NULL && b->restored)
    rc = import_restored(tmp);
  if (b->plan == NULL)
    remove_restore_file(tmp);
  free(tmp);
  if (rc != 0)
    return rc;
  if (b->restored && b->plan == NULL)
    b->fresh = false;
  return 0;
}

bool dbs_litefs_lost_primary(const char* what) {
  struct dbs_litefs_info info;
  char err[1024];
  if (!lfs.on || !lfs.primary)
    return false;
  int rc = query_info(&info, 3000, err, sizeof(err));
  if (rc != 0) {
    dbs_log_errorx("%s failed and LiteFS no longer answers (%s): the "
                   "database %s is kept as it is; exiting 75 so that the "
                   "node is restarted",
                   what, err, lfs.target);
    return true;
  }
  if (info.is_primary)
    return false;
  dbs_log_errorx("%s failed because this node lost LiteFS's primary lease "
                 "(the primary is now %s): the database %s is kept as it "
                 "is; exiting 75 so that the node is restarted",
                 what, info.primary_hostname[0] ? info.primary_hostname : "?",
                 lfs.target);
  return true;
}
