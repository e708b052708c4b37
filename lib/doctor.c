/*
 * dbsetup doctor: the boot's phases as a dry run (struct dbs_boot_plan),
 * then a report of what they found and decided. Nothing is written
 * anywhere: no directory, link, lock, restore, migration or seed; the
 * replicas are listed, never downloaded.
 */
#define _GNU_SOURCE
#include "doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "config.h"
#include "exitcode.h"
#include "litefs_boot.h"
#include "log.h"
#include "seedcmd.h"
#include "strbuf.h"

#define NO_APP "\001dbsetup-doctor-no-command"

/* The report, built as text and as JSON at once. */
struct report {
  struct dbs_strbuf text, json;
  int nsec, nkeys;
  int nwarn; /* facts that need a fix though the boot goes on */
};

static void json_str(struct dbs_strbuf* o, const char* s) {
  dbs_strbuf_adds(o, "\"");
  for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      dbs_strbuf_add(o, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof(esc), "\\u%04x", *p);
      dbs_strbuf_adds(o, esc);
    } else {
      dbs_strbuf_add(o, (const char*)p, 1);
    }
  }
  dbs_strbuf_adds(o, "\"");
}

static void sec(struct report* r, const char* name) {
  if (r->nsec > 0)
    dbs_strbuf_adds(&r->json, "},");
  json_str(&r->json, name);
  dbs_strbuf_adds(&r->json, ":{");
  dbs_strbuf_adds(&r->text, name);
  dbs_strbuf_adds(&r->text, "\n");
  r->nsec++;
  r->nkeys = 0;
}

/* One fact: key and a printf'd value, redacted (no secret reaches the
 * output). */
__attribute__((format(printf, 3, 4))) static void
kv(struct report* r, const char* key, const char* fmt, ...) {
  char raw[4096], val[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof(raw), fmt, ap);
  va_end(ap);
  dbs_log_redact(raw, val, sizeof(val));
  if (r->nkeys++ > 0)
    dbs_strbuf_adds(&r->json, ",");
  json_str(&r->json, key);
  dbs_strbuf_adds(&r->json, ":");
  json_str(&r->json, val);
  dbs_strbuf_adds(&r->text, "  ");
  dbs_strbuf_adds(&r->text, key);
  dbs_strbuf_adds(&r->text, ": ");
  dbs_strbuf_adds(&r->text, val);
  dbs_strbuf_adds(&r->text, "\n");
}

/* A number in JSON, in text as is. */
static void kv_num(struct report* r, const char* key, long long v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%lld", v);
  if (r->nkeys++ > 0)
    dbs_strbuf_adds(&r->json, ",");
  json_str(&r->json, key);
  dbs_strbuf_adds(&r->json, ":");
  dbs_strbuf_adds(&r->json, buf);
  dbs_strbuf_adds(&r->text, "  ");
  dbs_strbuf_adds(&r->text, key);
  dbs_strbuf_adds(&r->text, ": ");
  dbs_strbuf_adds(&r->text, buf);
  dbs_strbuf_adds(&r->text, "\n");
}

static void fmt_time(int64_t ns, char* out, size_t n) {
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  if (ns <= 0 || gmtime_r(&t, &tm) == NULL ||
      strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(out, n, "unknown");
}

/* A path as an SQLite URI path: %, ? and # escaped. */
static char* uri_path(const char* p) {
  struct dbs_strbuf o = {0};
  dbs_strbuf_adds(&o, "file:");
  for (; *p; p++) {
    char e[4];
    if (*p == '%' || *p == '?' || *p == '#') {
      snprintf(e, sizeof(e), "%%%02X", (unsigned char)*p);
      dbs_strbuf_adds(&o, e);
    } else {
      dbs_strbuf_add(&o, p, 1);
    }
  }
  dbs_strbuf_adds(&o, "?immutable=1");
  return dbs_strbuf_take(&o);
}

static bool sidecar_exists(const char* target) {
  static const char* const sc[] = {"-wal", "-shm", "-journal"};
  for (size_t i = 0; i < 3; i++) {
    char* p = NULL;
    struct stat st;
    if (asprintf(&p, "%s%s", target, sc[i]) < 0)
      return true;
    bool there = lstat(p, &st) == 0;
    free(p);
    if (there)
      return true;
  }
  return false;
}

/* The database file: size, page size and journal mode from its header;
 * PRAGMA quick_check on request, opened immutable (nothing written) and
 * only when no -wal/-shm/-journal is beside it. */
static void report_db_file(struct report* r, const char* target, bool quick) {
  unsigned char h[100];
  struct stat st;
  int fd = open(target, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0 || fstat(fd, &st) != 0 || pread(fd, h, sizeof(h), 0) < 100) {
    if (fd >= 0)
      close(fd);
    kv(r, "state", "SQLite (header unreadable)");
    return;
  }
  close(fd);
  unsigned page = (unsigned)h[16] << 8 | h[17];
  if (page == 1)
    page = 65536;
  kv(r, "state", "SQLite database, %lld bytes, page size %u, %s",
     (long long)st.st_size, page,
     h[18] == 2 || h[19] == 2 ? "WAL mode" : "rollback journal");
  if (!quick)
    return;
  if (sidecar_exists(target)) {
    kv(r, "quick_check",
       "not run: a -wal, -shm or -journal is beside it "
       "(in use): reading it could change it");
    return;
  }
  char* uri = uri_path(target);
  sqlite3* db = NULL;
  char result[256] = "";
  if (uri != NULL &&
      sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) ==
          SQLITE_OK) {
    sqlite3_stmt* s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) ==
        SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        const char* t = (const char*)sqlite3_column_text(s, 0);
        if (t != NULL && strlen(result) + strlen(t) + 3 < sizeof(result))
          snprintf(result + strlen(result), sizeof(result) - strlen(result),
                   "%s%s", result[0] ? "; " : "", t);
      }
    }
    if (result[0] == '\0')
      snprintf(result, sizeof(result), "failed: %s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
  } else {
    snprintf(result, sizeof(result), "cannot open: %s",
             db ? sqlite3_errmsg(db) : "out of memory");
  }
  sqlite3_close(db);
  free(uri);
  kv(r, "quick_check", "%s", result);
}

/* Where execvp would find word, or NULL. */
static char* which(const char* word) {
  if (strchr(word, '/') != NULL)
    return access(word, X_OK) == 0 ? strdup(word) : NULL;
  const char* path = getenv("PATH");
  char* list = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  char* found = NULL;
  for (char *save = NULL, *d = list ? strtok_r(list, ":", &save) : NULL;
       d != NULL && found == NULL; d = strtok_r(NULL, ":", &save)) {
    char* p = NULL;
    struct stat st;
    if (asprintf(&p, "%s/%s", d, word) < 0)
      break;
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
      found = p;
    else
      free(p);
  }
  free(list);
  return found;
}

static const char* link_text(const struct dbs_link_plan* l) {
  switch (l->action) {
  case DBS_LINK_SAME:
    return "none needed: the app opens the database on the volume";
  case DBS_LINK_KEEP:
    return "in place (kept)";
  case DBS_LINK_CREATE:
    return "would be created";
  case DBS_LINK_REPLACE:
    return "would replace the wrong link";
  case DBS_LINK_MOVE_ASIDE:
    return "a database baked into the image would be moved aside, then "
           "linked";
  }
  return "?";
}

/* The node's LiteFS role, as GET /info told the lock phase. */
static void report_litefs(struct report* r, const struct dbs_boot* b) {
  if (dbs_litefs_unanswered() != NULL) {
    kv(r, "litefs",
       "role unknown: LiteFS's API (http://%s/info) does not answer, so "
       "the boot would set nothing up (see the verdict)",
       dbs_litefs_unanswered());
    return;
  }
  if (!dbs_litefs_on())
    return;
  if (!dbs_litefs_replica()) {
    const char* lease = dbs_litefs_lease();
    bool repl = dbs_boot_replicates(b);
    if (lease != NULL && strcmp(lease, "static") == 0)
      kv(r, "litefs",
         "this node is the primary (static lease); it restores, migrates, "
         "seeds%s",
         repl ? " and replicates" : " (no replicator configured)");
    else
      kv(r, "litefs",
         "this node is the primary (%s%s); it restores, migrates and seeds "
         "(litestream runs only under a static lease)",
         lease != NULL && lease[0] ? lease
                                   : "lease type unknown: no "
                                     "litefs.yml read",
         lease != NULL && lease[0] ? " lease" : "");
    return;
  }
  const char* host = dbs_litefs_primary_host();
  kv(r, "litefs",
     "this node is a replica of %s: it waits for the primary's database "
     "and migrations (up to %g s), never writes",
     host != NULL && host[0] ? host : "a primary not connected yet",
     b->cfg->litefs_replica_wait_ms / 1000.0);
}

static void report_database(struct report* r, struct dbs_boot* b,
                            struct dbs_boot_plan* pl, bool quick) {
  const struct dbs_config* cfg = b->cfg;
  sec(r, "database");
  if (!dbs_boot_has_db(b)) {
    kv(r, "source", "none: %s",
       b->disc.provider ? "the Prisma datasource is not sqlite"
                        : "no --db, DATABASE_URL, Prisma schema or "
                          "litestream.yml entry");
    kv(r, "plan", "no database setup: dbsetup runs as a plain init");
    return;
  }
  if (b->disc.datasource != NULL)
    kv(r, "source", "%s (datasource at %s)",
       dbs_discover_source_name(b->disc.source), b->disc.datasource);
  else
    kv(r, "source", "%s", dbs_discover_source_name(b->disc.source));
  kv(r, "app_path", "%s", b->disc.db_path);
  report_litefs(r, b);
  if (b->disc.set_env_name != NULL)
    kv(r, "env", "%s=%s would be set for every child", b->disc.set_env_name,
       b->disc.set_env_value);
  if (b->target == NULL)
    return;
  kv(r, "target", "%s", b->target);
  kv(r, "volume", "%s (%s)", cfg->volume,
     !pl->volume.exists   ? "missing: would be created, and the database "
                            "there would not outlive the container"
     : pl->volume.mounted ? "a mount point"
                          : "NOT a mount point: the database there is lost "
                            "with the container");
  if (pl->volume.target_dir_missing)
    kv(r, "target_dir", "would be created on the volume");
  if (!pl->lock_checked)
    return;
  if (pl->lock_holder > 0 && pl->ignore_lock)
    kv(r, "lock",
       "held by pid %ld (the rest is checked as if it were free: "
       "--ignore-lock)",
       (long)pl->lock_holder);
  else if (pl->lock_holder > 0)
    kv(r, "lock", "held by pid %ld", (long)pl->lock_holder);
  else
    kv(r, "lock", "free");
  if (pl->link.action == DBS_LINK_REPLACE)
    kv(r, "link", "%s -> %s (%s link now: -> %s)", b->disc.db_path, b->target,
       pl->link.dangling ? "dangling" : "wrong", pl->link.old);
  else if (pl->link.action == DBS_LINK_MOVE_ASIDE)
    kv(r, "link", "%s (%lld bytes) would be moved aside to %s, then %s -> %s",
       b->disc.db_path, pl->link.size, pl->link.aside, b->disc.db_path,
       b->target);
  else if (pl->link.action == DBS_LINK_SAME && dbs_litefs_on())
    kv(r, "link",
       "none needed: the app opens the database in the LiteFS mount %s, "
       "replicated by LiteFS",
       dbs_litefs_mount_dir());
  else
    kv(r, "link", "%s -> %s: %s", b->disc.db_path, b->target,
       link_text(&pl->link));
  switch (pl->db_state) {
  case -1:
    break;
  case DBS_DB_MISSING:
    kv(r, "state", "missing%s",
       pl->stale ? " (a stale -wal/-shm/-journal beside it would be removed)"
                 : "");
    break;
  case DBS_DB_EMPTY:
    kv(r, "state",
       "empty (0 bytes): would be removed and treated as "
       "missing");
    break;
  case DBS_DB_EXISTS:
    report_db_file(r, b->target, quick);
    break;
  default:
    kv(r, "state", "refused (see the verdict)");
  }
}

static void report_replica(struct report* r, const struct dbs_replica_config* c,
                           size_t i) {
  char key[32];
  snprintf(key, sizeof(key), "replica_%zu", i + 1);
  if (c->kind == DBS_REPLICA_FILE)
    kv(r, key, "%s (file %s)", c->name ? c->name : "?",
       c->path ? c->path : "?");
  else if (c->kind == DBS_REPLICA_S3)
    kv(r, key, "%s (s3 bucket %s, path %s, endpoint %s)",
       c->name ? c->name : "?", c->bucket ? c->bucket : "(empty)",
       c->path ? c->path : "/", c->endpoint ? c->endpoint : "AWS");
  else
    kv(r, key, "%s (%s: restored by the litestream binary)",
       c->name ? c->name : "?", c->type ? c->type : "?");
}

/* The note of a section whose phase the boot does not reach. */
static void not_reached(struct report* r, const char* phase) {
  kv(r, "reached",
     "no: the boot stops at the %s phase before this one; "
     "what is configured:",
     phase);
}

static void report_backup(struct report* r, struct dbs_boot* b,
                          struct dbs_boot_plan* pl, bool reached,
                          const char* phase) {
  const struct dbs_config* cfg = b->cfg;
  sec(r, "backup");
  if (!reached)
    not_reached(r, phase);
  kv(r, "litestream_yml", "%s", b->have_ls ? b->ls.file : "none found");
  if (b->litestream_bin != NULL && b->have_ls_ver)
    kv(r, "litestream", "%s (litestream %s)", b->litestream_bin,
       b->ls_ver.text);
  else if (b->litestream_bin != NULL)
    kv(r, "litestream", "%s", b->litestream_bin);
  else if (pl->lock_checked)
    kv(r, "litestream", "not found");
  if (b->ls_db != NULL)
    for (size_t i = 0; i < b->ls_db->nreplicas; i++)
      report_replica(r, &b->ls_db->replicas[i], i);
  if (pl->db_state == DBS_DB_EXISTS) {
    kv(r, "restore", "not needed: the database exists");
    return;
  }
  if (pl->db_state != DBS_DB_MISSING && pl->db_state != DBS_DB_EMPTY)
    return;
  if (cfg->no_restore)
    kv(r, "restore", "off (--no-restore): would start a new database");
  else if (b->ls_db == NULL || b->ls_db->nreplicas == 0)
    kv(r, "restore", "no replica configured: would start a new database");
  else if (b->replication_off)
    kv(r, "restore",
       "off (the replica bucket is empty after expanding the "
       "environment): would start a new database");
  else if (pl->restore_external)
    kv(r, "restore",
       "would run `litestream restore` (replica type it "
       "restores itself: its outcome is not predicted)");
  else if (pl->restore_tried && pl->restore == DBS_RESTORE_RESTORED) {
    char t[32];
    const struct dbs_restore_summary* s = &pl->restore_point;
    fmt_time(s->updated_ns, t, sizeof(t));
    kv(r, "restore", "would restore from replica %s", s->replica);
    kv(r, "layout", "%s", s->format);
    kv(r, "point", "%s", s->point);
    kv(r, "point_time", "%s", t);
    kv_num(r, "download_bytes", (long long)s->bytes);
    kv_num(r, "download_objects", (long long)s->objects);
  } else if (pl->restore_tried && pl->restore == DBS_RESTORE_NO_BACKUP)
    kv(r, "restore",
       "no backup exists (every listing is empty): would "
       "start a new database");
  else if (pl->restore_tried)
    kv(r, "restore", "would fail (see the verdict)");
}

/* How the boot runs the seed: --seed with /bin/sh -c; the Prisma config's
 * or package.json's without a shell, as prisma db seed (seedcmd.h), with
 * the boot's warning when a word would have been shell syntax. */
static void report_seed_run(struct report* r, const struct dbs_boot* b) {
  const struct dbs_config* cfg = b->cfg;
  if (cfg->seed != NULL) {
    kv(r, "runs", "with /bin/sh -c (--seed)");
    return;
  }
  char** argv = NULL;
  size_t argc = 0;
  if (dbs_seedcmd_split(b->disc.seed, &argv, &argc) != 0)
    return;
  if (argc == 0) {
    kv(r, "runs", "nothing: %s is empty (no seed)", b->disc.seed_from);
    free(argv);
    return;
  }
  struct dbs_strbuf words = {0};
  for (size_t i = 0; i < argc; i++) {
    if (i > 0)
      dbs_strbuf_adds(&words, ", ");
    json_str(&words, argv[i]);
  }
  kv(r, "runs",
     "as prisma db seed runs it, without a shell: argv [%s] (from %s)",
     words.p ? words.p : "", b->disc.seed_from);
  free(words.p);
  char msg[2048];
  if (dbs_seedcmd_shell_warning(b->disc.seed_from, b->disc.seed, argv, msg,
                                sizeof(msg)))
    kv(r, "warning", "%s", msg);
  free(argv);
}

static void report_migrations(struct report* r, struct dbs_boot* b,
                              struct dbs_boot_plan* pl, bool reached,
                              bool seed_reached, const char* phase) {
  const struct dbs_config* cfg = b->cfg;
  const char* seed = cfg->seed ? cfg->seed : b->disc.seed;
  sec(r, "migrations");
  if (!reached)
    not_reached(r, phase);
  if (cfg->migrate != NULL) {
    kv(r, "plan", "would run the migrate command: %s", cfg->migrate);
  } else if (b->disc.migrations_dir == NULL) {
    kv(r, "plan", "none (no --migrate, no Prisma migrations folder)");
  } else {
    kv(r, "folder", "%s (native Prisma migrations)", b->disc.migrations_dir);
    if (pl->migrate_after_restore)
      kv(r, "plan",
         "would apply what the restored database lacks (its "
         "state is known only after the restore)");
    else if (pl->migrate_note[0] != '\0')
      kv(r, "plan", "%s", pl->migrate_note);
    else if (pl->migrate_read) {
      kv_num(r, "applied", pl->napplied);
      kv_num(r, "pending", pl->npending);
      kv_num(r, "failed", pl->nfailed);
      if (pl->nfailed > 0)
        kv(r, "plan", "%s",
           pl->migrate_continue
               ? "would fail (P3009), then start the app anyway "
                 "(--migrate-failure=continue)"
               : "would fail (P3009): exit 80");
      else if (pl->npending > 0)
        kv(r, "plan", "would apply %u pending migration(s)", pl->npending);
      else
        kv(r, "plan", "nothing to apply");
    }
  }
  sec(r, "seed");
  if (!seed_reached)
    not_reached(r, phase);
  if (seed == NULL)
    kv(r, "plan", "none");
  else if (pl->seed_runs)
    kv(r, "plan", "would run (new database): %s", seed);
  else if (pl->db_state == DBS_DB_EXISTS || b->restored)
    kv(r, "plan", "skipped (a seed runs only for a new database): %s", seed);
  else
    kv(r, "plan", "%s", seed);
  if (seed != NULL)
    report_seed_run(r, b);
}

static void report_supervision(struct report* r, struct dbs_boot* b,
                               struct dbs_boot_plan* pl, bool reached,
                               const char* phase) {
  const struct dbs_config* cfg = b->cfg;
  sec(r, "supervision");
  if (!reached)
    not_reached(r, phase);
  if (cfg->replicate != NULL && !cfg->no_replicate)
    kv(r, "replicator", "%s", cfg->replicate);
  else if (b->replicate != NULL)
    kv(r, "replicator", "%s", b->replicate);
  else
    kv(r, "replicator", "none%s", cfg->no_replicate ? " (--no-replicate)" : "");
  if (pl->no_app) {
    kv(r, "app",
       "not given (the boot runs the command after the options: "
       "the image's CMD); not checked");
  } else {
    struct dbs_strbuf a = {0};
    for (char** w = cfg->argv; *w != NULL; w++) {
      if (w != cfg->argv)
        dbs_strbuf_adds(&a, " ");
      dbs_strbuf_adds(&a, *w);
    }
    char* found = which(cfg->argv[0]);
    kv(r, "app", "%s (%s)", a.p ? a.p : "", found ? found : "not found");
    free(found);
    free(a.p);
  }
  if (b->have_creds)
    kv(r, "user", "%s (uid %ld, gid %ld)", b->creds.name, (long)b->creds.uid,
       (long)b->creds.gid);
  else
    kv(r, "user", "as started (uid %ld)", (long)getuid());
  if (pl->stop_timeout_ms == 0 && pl->replicator_stop_timeout_ms == 0)
    return; /* not reached */
  kv(r, "stop_timeout",
     "%.1f s for the app, then %.1f s for the "
     "replicator's final sync",
     pl->stop_timeout_ms / 1000.0, pl->replicator_stop_timeout_ms / 1000.0);
  if (pl->replicator_first_sync_ms > 0)
    kv(r, "replicator_first_sync",
       "the replicator runs at least %.1f s "
       "before it is stopped (its first sync)",
       pl->replicator_first_sync_ms / 1000.0);
}

/* A TOML value: a quoted string's content, or the bare word. */
static void toml_value(const char* v, char* out, size_t n) {
  v += strspn(v, " \t");
  size_t len;
  if (*v == '"' || *v == '\'') {
    const char* e = strchr(v + 1, *v);
    len = e ? (size_t)(e - v - 1) : strlen(v + 1);
    v++;
  } else {
    len = strcspn(v, " \t#\r\n");
  }
  if (len >= n)
    len = n - 1;
  memcpy(out, v, len);
  out[len] = '\0';
}

/* Fly's kill_timeout: a number of seconds or a duration ("30s", "1m"). -1
 * when unreadable. */
static long long fly_duration_ms(const char* v) {
  char* end;
  double x = strtod(v, &end);
  if (end == v || x < 0)
    return -1;
  if (*end == '\0' || strcmp(end, "s") == 0)
    return (long long)(x * 1000);
  if (strcmp(end, "ms") == 0)
    return (long long)x;
  if (strcmp(end, "m") == 0)
    return (long long)(x * 60000);
  return -1;
}

/*
 * fly.toml's kill_signal and kill_timeout (top level, before any table):
 * Fly sends kill_signal, waits kill_timeout (5 s by default), then kills
 * the machine. dbsetup needs --stop-timeout for the app plus the
 * replicator's final sync within it, and stops on TERM, INT, HUP or QUIT.
 */
static void report_fly(struct report* r, const char* path, bool explicit,
                       const struct dbs_boot_plan* pl) {
  FILE* f = fopen(path, "re");
  if (f == NULL) {
    if (explicit) {
      sec(r, "fly");
      kv(r, "fly_toml", "%s: cannot read: %s", path, strerror(errno));
    }
    return;
  }
  char line[1024], sig[64] = "SIGINT", tmo[64] = "5";
  bool have_sig = false, have_tmo = false;
  while (fgets(line, sizeof(line), f) != NULL) {
    const char* l = line + strspn(line, " \t");
    if (*l == '[')
      break; /* a table: the top-level keys are done */
    if (strncmp(l, "kill_signal", 11) == 0 && strchr(l, '=') != NULL) {
      toml_value(strchr(l, '=') + 1, sig, sizeof(sig));
      have_sig = true;
    } else if (strncmp(l, "kill_timeout", 12) == 0 && strchr(l, '=') != NULL) {
      toml_value(strchr(l, '=') + 1, tmo, sizeof(tmo));
      have_tmo = true;
    }
  }
  fclose(f);
  sec(r, "fly");
  kv(r, "fly_toml", "%s", path);
  static const char* const stops[] = {"SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"};
  bool stops_us = false;
  for (size_t i = 0; i < 4; i++)
    stops_us = stops_us || strcmp(sig, stops[i]) == 0 ||
               strcmp(sig, stops[i] + 3) == 0;
  kv(r, "kill_signal", "%s%s: %s", sig, have_sig ? "" : " (Fly's default)",
     stops_us ? "dbsetup stops the app, then the replicator"
              : "NOT a signal dbsetup stops on (SIGINT, SIGTERM, SIGHUP, "
                "SIGQUIT): set kill_signal = \"SIGTERM\" or \"SIGINT\"");
  long long ms = fly_duration_ms(tmo);
  /* As README "Use it on Fly.io": plus 1 s for the stop's own steps. */
  unsigned long long need = (unsigned long long)pl->stop_timeout_ms +
                            pl->replicator_stop_timeout_ms + 1000;
  char shown[96];
  snprintf(shown, sizeof(shown), "%s%s%s", tmo,
           strspn(tmo, "0123456789.") == strlen(tmo) ? " s" : "",
           have_tmo ? "" : " (Fly's default)");
  if (!stops_us)
    r->nwarn++;
  if (ms < 0)
    kv(r, "kill_timeout", "%s: not a duration Fly reads", tmo);
  else if (pl->stop_timeout_ms == 0 && pl->replicator_stop_timeout_ms == 0)
    kv(r, "kill_timeout", "%s", shown);
  else if ((unsigned long long)ms >= need)
    kv(r, "kill_timeout",
       "%s: enough for --stop-timeout (%.1f s) plus the replicator's final "
       "sync (%.1f s) plus 1 s",
       shown, pl->stop_timeout_ms / 1000.0,
       pl->replicator_stop_timeout_ms / 1000.0);
  else if (++r->nwarn > 0)
    kv(r, "kill_timeout",
       "%s: TOO SHORT for the worst case: an app that takes its whole "
       "--stop-timeout (%.1f s) leaves the replicator's final sync (%.1f s, "
       "plus 1 s) "
       "no time before Fly kills the machine, and the last writes may never "
       "reach the backup: set kill_timeout = %llu in %s, or lower "
       "--stop-timeout",
       shown, pl->stop_timeout_ms / 1000.0,
       pl->replicator_stop_timeout_ms / 1000.0, (need + 999) / 1000, path);
}

static bool plan_no_app(const char* argv0) {
  return strcmp(argv0, NO_APP) == 0;
}

static void usage(FILE* f) {
  fprintf(f, "usage: dbsetup doctor [--json] [--quick-check] [--ignore-lock] "
             "[--fly-toml F]\n"
             "                      [OPTIONS] [--] [COMMAND [ARG...]]\n"
             "Says what the next boot with these OPTIONS (and DBSETUP_* "
             "variables) and COMMAND\nwould do, phase by phase, without "
             "changing anything: no link, lock, restore,\nmigration or seed; "
             "the replicas are listed, not downloaded. Exit status: 0 when\n"
             "the boot would start the app, else the status it would exit "
             "with.\n"
             "  --json         one JSON object on stdout\n"
             "  --quick-check  also run PRAGMA quick_check on the database "
             "(read-only)\n"
             "  --ignore-lock  on a running machine: check the rest as if the "
             "running dbsetup's\n"
             "                 volume lock were free (what the next boot "
             "does)\n"
             "  --fly-toml F   check F's kill_signal and kill_timeout against "
             "the stop timing\n"
             "                 (default: ./fly.toml when it exists)\n"
             "OPTIONS are the boot's: see dbsetup --help.\n");
}

/* doctor's own options, and the boot's argv without them. */
struct doctor_args {
  bool json, quick, ignore_lock;
  bool ends_dashdash; /* the options end with "--" and no command */
  const char* fly;    /* --fly-toml, or NULL */
  char** args;        /* "dbsetup" OPTIONS [--] COMMAND|NO_APP; owned */
  int n;
};

/* Takes one of doctor's own options at argv[*i]: 1 taken, 0 not one of
 * them, or -1 - the exit status (usage error, --help). */
static int doctor_option(struct doctor_args* a, int argc, char** argv, int* i) {
  const char* arg = argv[*i];
  if (strcmp(arg, "--json") == 0)
    a->json = true;
  else if (strcmp(arg, "--quick-check") == 0)
    a->quick = true;
  else if (strcmp(arg, "--ignore-lock") == 0)
    a->ignore_lock = true;
  else if (strncmp(arg, "--fly-toml=", 11) == 0)
    a->fly = arg + 11;
  else if (strcmp(arg, "--fly-toml") == 0) {
    if (*i + 1 >= argc) {
      dbs_log_errorx("--fly-toml needs a file (e.g. --fly-toml fly.toml)");
      return -1 - DBS_EXIT_USAGE;
    }
    a->fly = argv[++*i];
  } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
    usage(stdout);
    return -1;
  } else {
    return 0;
  }
  return 1;
}

/* Splits argv into doctor's options and the boot's argv, ending the latter
 * with "--" NO_APP unless a command follows "--". Returns -1 to go on, or
 * the exit status. */
static int doctor_parse_args(struct doctor_args* a, int argc, char** argv) {
  bool after = false;
  memset(a, 0, sizeof(*a));
  a->args = calloc((size_t)argc + 4, sizeof(char*));
  if (a->args == NULL)
    return DBS_EXIT_SOFTWARE;
  a->args[a->n++] = "dbsetup";
  for (int i = 1; i < argc; i++) {
    if (!after) {
      int taken = doctor_option(a, argc, argv, &i);
      if (taken < 0)
        return -1 - taken;
      if (taken > 0)
        continue;
    }
    if (strcmp(argv[i], "--") == 0)
      after = true;
    a->args[a->n++] = argv[i];
  }
  a->ends_dashdash = a->n > 1 && strcmp(a->args[a->n - 1], "--") == 0;
  /* Without a command the boot would exit 64; doctor checks the rest. */
  if (!a->ends_dashdash)
    a->args[a->n++] = "--";
  a->args[a->n++] = NO_APP;
  a->args[a->n] = NULL;
  return -1;
}

/* `dbsetup [OPTIONS] -- dbsetup ...`: the boot runs the inner dbsetup in
 * its place, options given before it ignored; so does doctor. Returns -1
 * when the command is not dbsetup, else the inner doctor's status. */
static int doctor_inner_dbsetup(const struct doctor_args* a,
                                const struct dbs_config* cfg) {
  const char* base = strrchr(cfg->argv[0], '/');
  if (plan_no_app(cfg->argv[0]) ||
      strcmp(base != NULL ? base + 1 : cfg->argv[0], "dbsetup") != 0)
    return -1;
  int m = 0, k = 0;
  while (cfg->argv[m] != NULL)
    m++;
  char** inner = calloc((size_t)m + 7, sizeof(char*));
  if (inner == NULL)
    return DBS_EXIT_SOFTWARE;
  inner[k++] = "doctor";
  if (a->json)
    inner[k++] = "--json";
  if (a->quick)
    inner[k++] = "--quick-check";
  if (a->ignore_lock)
    inner[k++] = "--ignore-lock";
  if (a->fly != NULL) {
    inner[k++] = "--fly-toml";
    inner[k++] = (char*)a->fly;
  }
  for (int i = 1; i < m; i++)
    inner[k++] = cfg->argv[i];
  dbs_log_info("the command is dbsetup itself: the boot would run it in "
               "place of this one (options given before it are ignored); "
               "checking that one");
  int st = dbs_doctor_main(k, inner);
  free(inner);
  return st;
}

/* The plan: no app when no command was given, else the command without
 * the "--" NO_APP doctor added. */
static void doctor_plan_init(struct dbs_boot_plan* plan,
                             const struct doctor_args* a,
                             struct dbs_config* cfg) {
  memset(plan, 0, sizeof(*plan));
  plan->db_state = -1;
  plan->ignore_lock = a->ignore_lock;
  if (strcmp(cfg->argv[0], NO_APP) == 0) {
    plan->no_app = true;
    return;
  }
  for (char** w = cfg->argv; *w != NULL; w++)
    if (strcmp(*w, NO_APP) == 0) {
      w[0] = NULL;
      if (!a->ends_dashdash && w > cfg->argv && strcmp(w[-1], "--") == 0)
        w[-1] = NULL;
      break;
    }
}

/* The boot's phases in main()'s order, the database ones only with a
 * database, up to the first that fails: its index into *stop (NPHASES
 * when none), its name into *phase ("app"). Returns the boot's status. */
static int doctor_run_phases(struct dbs_boot* b, size_t* stop,
                             const char** phase) {
  static const struct {
    const char* name;
    int (*fn)(struct dbs_boot*);
    bool db;
  } phases[] = {
      {"user", dbs_boot_user, false},
      {"discover", dbs_boot_discover, false},
      {"checks and lock", dbs_boot_lock, true},
      {"link", dbs_boot_link, true},
      {"restore", dbs_boot_restore, true},
      {"migrate", dbs_boot_migrate, true},
      {"seed", dbs_boot_seed, true},
      {"supervise", dbs_boot_supervise, false},
  };
  enum { NPHASES = sizeof(phases) / sizeof(phases[0]) };
  int status = 0;
  *stop = NPHASES;
  for (size_t i = 0; i < NPHASES && *stop == NPHASES; i++)
    if ((!phases[i].db || dbs_boot_has_db(b)) &&
        (status = phases[i].fn(b)) != 0)
      *stop = i;
  *phase = *stop < NPHASES ? phases[*stop].name : "app";
  return status;
}

/* The credentials the boot read, never to be shown. */
static void doctor_add_secrets(const struct dbs_boot* b) {
  if (b->ls_db != NULL)
    for (size_t i = 0; i < b->ls_db->nreplicas; i++) {
      const struct dbs_replica_config* c = &b->ls_db->replicas[i];
      dbs_log_add_secret(c->secret_access_key);
      dbs_log_add_secret(c->session_token);
      if (c->endpoint != NULL)
        dbs_log_add_url_secret(c->endpoint);
    }
  if (b->have_ls)
    dbs_log_add_secret(b->ls.secret_access_key);
}

/* The sections, each from what the phases up to stop found. */
static void doctor_report_sections(struct report* r, struct dbs_boot* b,
                                   struct dbs_boot_plan* plan,
                                   const struct doctor_args* a, size_t stop,
                                   const char* phase) {
  dbs_strbuf_adds(&r->json, "{");
  if (stop <= 1) {
    sec(r, "database");
    kv(r, "reached",
       "no: the boot stops at the %s phase, before it looks "
       "for the database",
       phase);
  } else {
    report_database(r, b, plan, a->quick);
  }
  if (stop > 1 && dbs_boot_has_db(b)) {
    report_backup(r, b, plan, stop >= 4, phase);
    report_migrations(r, b, plan, stop >= 5, stop >= 6, phase);
  }
  report_supervision(r, b, plan, stop >= 7, phase);
  report_fly(r, a->fly ? a->fly : "fly.toml", a->fly != NULL, plan);
  dbs_strbuf_adds(&r->json, "},");
}

/* The verdict line, then the report on stdout (text, or JSON). */
static void doctor_print(struct report* r, const struct doctor_args* a,
                         const struct dbs_boot_plan* plan, int status,
                         const char* phase) {
  char verdict[LINE_MAX * 4];
  const char* why = dbs_log_last_error();
  if (status == 0)
    snprintf(verdict, sizeof(verdict),
             "the boot would start the app%s (nothing was changed)%s",
             plan->no_app ? " once a command is given" : "",
             r->nwarn > 0 ? "; fix what is marked NOT or TOO SHORT above" : "");
  else
    snprintf(verdict, sizeof(verdict),
             "the boot would exit %d at the %s phase: %s", status, phase,
             why[0] ? why : "see the messages above");
  char red[sizeof(verdict)];
  dbs_log_redact(verdict, red, sizeof(red));
  if (a->json) {
    dbs_strbuf_adds(&r->json, "\"exit\":");
    char num[16];
    snprintf(num, sizeof(num), "%d", status);
    dbs_strbuf_adds(&r->json, num);
    dbs_strbuf_adds(&r->json, ",\"phase\":");
    json_str(&r->json, status == 0 ? "app" : phase);
    dbs_strbuf_adds(&r->json, ",\"verdict\":");
    json_str(&r->json, red);
    dbs_strbuf_adds(&r->json, "}\n");
    fputs(r->json.p ? r->json.p : "{}\n", stdout);
  } else {
    printf("%sverdict: %s\n", r->text.p ? r->text.p : "", red);
  }
  fflush(stdout);
}

int dbs_doctor_main(int argc, char** argv) {
  struct doctor_args a;
  int st = doctor_parse_args(&a, argc, argv);
  if (st >= 0) {
    free(a.args);
    return st;
  }
  struct dbs_config cfg;
  int prc = dbs_config_parse(&cfg, a.n, a.args);
  if (prc != DBS_CONFIG_RUN) {
    if (prc == DBS_CONFIG_HELP)
      dbs_config_usage(stdout);
    free(a.args);
    return prc == DBS_CONFIG_HELP || prc == DBS_CONFIG_VERSION ? 0
                                                               : DBS_EXIT_USAGE;
  }
  st = doctor_inner_dbsetup(&a, &cfg);
  if (st >= 0) {
    free(a.args);
    return st;
  }
  /* The boot's info lines narrate actions ("database X is new"): doctor
   * reports them itself; warnings and errors stay (-v shows all). */
  if (dbs_log_get_level() == DBS_LOG_INFO)
    dbs_log_set_level(DBS_LOG_WARN);
  struct dbs_boot_plan plan;
  doctor_plan_init(&plan, &a, &cfg);

  dbs_log_add_env_secrets();
  dbs_log_remember_errors(true);
  struct dbs_boot b;
  dbs_boot_init(&b, &cfg);
  b.plan = &plan;
  size_t stop;
  const char* phase;
  int status = doctor_run_phases(&b, &stop, &phase);
  doctor_add_secrets(&b);

  struct report r = {0};
  doctor_report_sections(&r, &b, &plan, &a, stop, phase);
  doctor_print(&r, &a, &plan, status, phase);
  free(r.text.p);
  free(r.json.p);
  dbs_volume_link_plan_free(&plan.link);
  dbs_boot_free(&b);
  free(a.args);
  return status;
}
