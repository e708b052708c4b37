/*
 * Native restore, the public entry: which replica, which format (v0.3
 * generations in restore_v3.c, LTX files in restore_ltx.c) and which
 * point litestream would restore, then that format's plan and apply.
 */
#define _GNU_SOURCE
#include "restore.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exitcode.h"
#include "log.h"
#include "lz4stream.h"
#include "restore_internal.h"
#include "storage_file.h"
#include "storage_s3.h"

/* ---- errors ---------------------------------------------------------- */

void dbs_restore_set_err(struct dbs_restore_error* e, enum dbs_restore_result r,
                         const char* fmt, ...) {
  va_list ap;
  e->result = r;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
  va_end(ap);
}

enum dbs_restore_result dbs_restore_storage_result(int rc) {
  switch (rc) {
  case DBS_STORAGE_ECORRUPT:
  case DBS_STORAGE_ENOTFOUND:
  case DBS_LZ4STREAM_ECORRUPT:
    return DBS_RESTORE_ECORRUPT;
  case DBS_LZ4STREAM_EAGE:
    return DBS_RESTORE_EENCRYPTED;
  case -ENOMEM:
    return DBS_RESTORE_EINTERNAL;
  default:
    return DBS_RESTORE_ESTORAGE;
  }
}

int dbs_restore_exit_status(enum dbs_restore_result r) {
  switch (r) {
  case DBS_RESTORE_RESTORED:
  case DBS_RESTORE_NO_BACKUP:
  case DBS_RESTORE_UNSUPPORTED_TYPE:
    return 0;
  case DBS_RESTORE_ECORRUPT:
  case DBS_RESTORE_EENCRYPTED:
    return DBS_EXIT_DATAERR;
  case DBS_RESTORE_ESTORAGE:
    return DBS_EXIT_UNAVAILABLE;
  case DBS_RESTORE_EUSAGE:
    return DBS_EXIT_USAGE;
  case DBS_RESTORE_ETARGET:
    return DBS_EXIT_CANTCREAT;
  case DBS_RESTORE_EINTERNAL:
    break;
  }
  return DBS_EXIT_SOFTWARE;
}

/* ---- storage and formats -------------------------------------------- */

bool dbs_restore_storage_is_s3(struct dbs_storage* st) {
  return strncmp(st->ops->describe(st), "s3://", 5) == 0;
}

bool dbs_restore_prefers_v3(int64_t v3_updated_ns, int64_t ltx_updated_ns) {
  return v3_updated_ns > ltx_updated_ns;
}

/* ---- choosing among replicas ----------------------------------------- */

/* The newest v0.3 snapshot time <= ts over all generations, 0 if none. */
static int64_t v3_best_snapshot_ns(const struct dbs_restore_v3_state* s,
                                   int64_t ts) {
  int64_t best = 0;
  for (size_t g = 0; g < s->listing.ngens; g++) {
    const struct dbs_replica_generation* gen = &s->listing.gens[g];
    for (size_t i = 0; i < gen->nsnapshots; i++) {
      int64_t t = gen->snapshots[i].time_ns;
      if (t <= ts && t > best)
        best = t;
    }
  }
  return best;
}

/* The newest LTX snapshot (level 9) time < ts, 0 if none. */
static int64_t ltx_best_snapshot_ns(const struct dbs_restore_ltx_state* s,
                                    int64_t ts) {
  int64_t best = 0;
  for (size_t i = 0; i < s->l.n; i++) {
    const struct dbs_ltx_file* f = &s->l.files[i];
    if (f->level == DBS_LTX_SNAPSHOT_LEVEL && f->time_ns < ts)
      best = f->time_ns; /* list order, as litestream takes the last */
  }
  return best;
}

void dbs_restore_fmt_utc(int64_t ns, char* buf, size_t len) {
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Both layouts at one location: litestream v0.5.16's shouldUseV3Restore.
 * Without a timestamp the most recently written wins (v0.3 only if its
 * newest object is strictly newer); with one, v0.3 if its best snapshot
 * at or before it is newer than LTX's best snapshot before it.
 */
static bool choose_v3(const struct dbs_restore_source* src,
                      const struct dbs_restore_v3_state* v3, int64_t v3_updated,
                      const struct dbs_restore_ltx_state* lx,
                      int64_t ltx_updated, const struct dbs_restore_target* t) {
  bool use_v3;
  char a[32], b[32];
  if (t->has_timestamp) {
    int64_t vs = v3_best_snapshot_ns(v3, t->timestamp_ns);
    int64_t ls = ltx_best_snapshot_ns(lx, t->timestamp_ns);
    use_v3 = vs != 0 && (ls == 0 || vs > ls);
    dbs_restore_fmt_utc(vs, a, sizeof(a));
    dbs_restore_fmt_utc(ls, b, sizeof(b));
    dbs_log_info("replica %s holds both a v0.3 backup (generations/) and a "
                 "v0.5 LTX backup: restoring %s, as litestream 0.5 does (best "
                 "snapshot before the timestamp: v0.3 %s, LTX %s)",
                 src->name ? src->name : "?",
                 use_v3 ? "the v0.3 generations" : "the LTX files",
                 vs ? a : "none", ls ? b : "none");
    return use_v3;
  }
  use_v3 = dbs_restore_prefers_v3(v3_updated, ltx_updated);
  dbs_restore_fmt_utc(v3_updated, a, sizeof(a));
  dbs_restore_fmt_utc(ltx_updated, b, sizeof(b));
  dbs_log_info("replica %s holds both a v0.3 backup (generations/, last "
               "written %s) and a v0.5 LTX backup (last written %s): "
               "restoring %s, as litestream 0.5 does (the most recently "
               "written wins)",
               src->name ? src->name : "?", a, b,
               use_v3 ? "the v0.3 generations" : "the LTX files");
  return use_v3;
}

/* Is ts within [first, last] object time of the LTX files and the v0.3
 * objects found (fast timestamps: mtime or LastModified)? litestream 0.5's
 * CalcRestoreTarget, with v3 read by its rules (every generation). */
static bool ltx_time_in_bounds(const struct dbs_restore_ltx_state* lx,
                               const struct dbs_restore_v3_state* v3,
                               int64_t ts) {
  int64_t lo = 0, hi = 0;
  for (size_t i = 0; i < lx->l.n; i++) {
    int64_t t = lx->l.files[i].time_ns;
    if (lo == 0 || t < lo)
      lo = t;
    if (t > hi)
      hi = t;
  }
  if (v3 != NULL && v3->updated_ns != 0) {
    if (v3->created_ns != 0 && (lo == 0 || v3->created_ns < lo))
      lo = v3->created_ns;
    if (v3->updated_ns > hi)
      hi = v3->updated_ns;
  }
  return !(ts < lo || ts > hi);
}

/*
 * Finds what a source holds and which format litestream would restore
 * for t. Sets *fmt and *state (NULL: nothing matching). Returns 0 or -1
 * with e filled in (a listing failed; a flag of the other format).
 */
static int find_source(const struct dbs_restore_source* src,
                       const struct dbs_restore_target* t,
                       const struct dbs_restore_opts* o,
                       const struct dbs_restore_format** fmt, void** state,
                       int64_t* updated, struct dbs_restore_error* e) {
  void *lx = NULL, *v3 = NULL;
  int64_t lu = 0, vu = 0;
  *state = NULL;
  *fmt = NULL;
  if (dbs_restore_format_ltx.find(src->storage, src->path, t, &lx, &lu, e) != 0)
    return -1;
  bool v3_flags = t->generation != NULL || t->index >= 0;
  /* Where litestream 0.5 has written (LTX files exist), its rules decide
   * everything, v0.3 generations included; -generation and -index, which
   * 0.5 does not have, keep 0.3.13's. A v0.3-only location keeps 0.3.13's
   * rules. */
  bool ls05 = lx != NULL && !v3_flags;
  if (dbs_restore_v3_find(src->storage, src->path, t, ls05, &v3, &vu, e) != 0) {
    dbs_restore_format_ltx.free(lx);
    return -1;
  }
  if (lx != NULL && v3 == NULL && v3_flags) {
    dbs_restore_set_err(
        e, DBS_RESTORE_EUSAGE,
        "-generation and -index select a litestream v0.3 backup, but "
        "%s holds only a litestream 0.5 (LTX) backup: use -txid or "
        "-timestamp",
        src->storage->ops->describe(src->storage));
    dbs_restore_format_ltx.free(lx);
    return -1;
  }
  if (t->txid != 0 && lx == NULL && v3 != NULL) {
    dbs_restore_set_err(
        e, DBS_RESTORE_EUSAGE,
        "-txid selects a litestream 0.5 (LTX) backup, but %s holds only "
        "litestream v0.3 generations: use -generation/-index or "
        "-timestamp",
        src->storage->ops->describe(src->storage));
    dbs_restore_format_v3.free(v3);
    return -1;
  }
  if (lx != NULL && t->has_timestamp && o->url_mode && !v3_flags &&
      !ltx_time_in_bounds(lx, v3, t->timestamp_ns)) {
    /* litestream 0.5's URL mode (CalcRestoreTarget): "timestamp does not
     * exist", exit 1. */
    dbs_restore_format_ltx.free(lx);
    dbs_restore_format_v3.free(v3);
    return 0;
  }
  if (lx != NULL && t->has_timestamp &&
      dbs_restore_storage_is_s3(src->storage) &&
      dbs_restore_ltx_header_times(src->storage, lx, o, e) != 0) {
    dbs_restore_format_ltx.free(lx);
    dbs_restore_format_v3.free(v3);
    return -1;
  }
  bool use_v3;
  if (lx == NULL || v3_flags)
    use_v3 = v3 != NULL;
  else if (v3 == NULL || t->txid != 0)
    use_v3 = false;
  else
    use_v3 = choose_v3(src, v3, vu, lx, lu, t);
  if (use_v3) {
    dbs_restore_format_ltx.free(lx);
    *fmt = &dbs_restore_format_v3;
    *state = v3;
    *updated = vu;
  } else {
    dbs_restore_format_v3.free(v3);
    *fmt = &dbs_restore_format_ltx;
    *state = lx;
    *updated = lu;
  }
  return 0;
}

enum dbs_restore_result
dbs_restore_run(const struct dbs_restore_source* srcs, size_t n,
                const struct dbs_restore_target* t, const char* output,
                const struct dbs_restore_opts* o, struct dbs_restore_error* e) {
  const struct dbs_restore_format* fmt = NULL;
  void* best = NULL;
  size_t best_i = 0;
  int64_t best_updated = 0;
  memset(e, 0, sizeof(*e));
  for (size_t i = 0; i < n; i++) {
    const struct dbs_restore_format* f = NULL;
    void* st = NULL;
    int64_t updated = 0;
    if (find_source(&srcs[i], t, o, &f, &st, &updated, e) != 0) {
      if (fmt != NULL)
        fmt->free(best);
      return e->result;
    }
    if (st != NULL && (best == NULL || updated > best_updated)) {
      if (fmt != NULL)
        fmt->free(best);
      fmt = f;
      best = st;
      best_i = i;
      best_updated = updated;
    } else if (st != NULL) {
      f->free(st);
    }
  }
  if (best == NULL) {
    dbs_restore_set_err(e, DBS_RESTORE_NO_BACKUP, "no matching backups found");
    return e->result;
  }
  enum dbs_restore_result r = DBS_RESTORE_RESTORED;
  if (fmt->plan(best, t, e) != 0) {
    r = e->result;
  } else if (o->dry_run) {
    if (o->summary != NULL) {
      memset(o->summary, 0, sizeof(*o->summary));
      snprintf(o->summary->format, sizeof(o->summary->format), "%s", fmt->name);
      if (fmt->summarize != NULL) /* else: the layout only */
        fmt->summarize(best, o->summary);
      snprintf(o->summary->replica, sizeof(o->summary->replica), "%s",
               srcs[best_i].name ? srcs[best_i].name : "");
    } else if (fmt->print != NULL) {
      fmt->print(best, stdout);
      fflush(stdout);
    }
    e->result = DBS_RESTORE_RESTORED;
  } else if (fmt->apply(best, srcs[best_i].storage, output, o, e) != 0)
    r = e->result;
  else
    e->result = DBS_RESTORE_RESTORED;
  fmt->free(best);
  return r;
}

int dbs_restore_open_storage(const struct dbs_replica_config* r,
                             const struct dbs_restore_opts* o,
                             struct dbs_storage** out, const char** path_out,
                             struct dbs_restore_error* e) {
  *out = NULL;
  *path_out = "";
  int rc;
  switch (r->kind) {
  case DBS_REPLICA_FILE:
    if (r->path == NULL || r->path[0] == '\0') {
      dbs_restore_set_err(e, DBS_RESTORE_EUSAGE, "file replica path required");
      return -EINVAL;
    }
    rc = dbs_storage_file_open(r->path, out);
    if (rc != 0)
      dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "cannot open %s: %s",
                          r->path, strerror(-rc));
    return rc;
  case DBS_REPLICA_S3: {
    /* The session token comes with r (litestream_config_apply_env). */
    struct dbs_s3_options so = {.timeout_ms = o->timeout_ms,
                                .parallelism = o->parallelism};
    rc = dbs_storage_s3_open(r, &so, out);
    *path_out = r->path ? r->path : "";
    if (rc != 0)
      dbs_restore_set_err(
          e, rc == -ENOMEM ? DBS_RESTORE_EINTERNAL : DBS_RESTORE_ESTORAGE,
          "cannot use s3 replica %s: %s", r->name ? r->name : "s3",
          rc == -EINVAL ? "invalid bucket, endpoint or credentials"
                        : strerror(-rc));
    return rc;
  }
  case DBS_REPLICA_OTHER:
    break;
  }
  dbs_restore_set_err(e, DBS_RESTORE_UNSUPPORTED_TYPE,
                      "replica type %s is restored by the "
                      "litestream binary",
                      r->type ? r->type : "(unknown)");
  return -ENOTSUP;
}

int dbs_restore_boot(const struct dbs_replica_config* replicas, size_t n,
                     const char* replica_name, const char* target,
                     const struct dbs_restore_opts* o,
                     enum dbs_restore_result* out) {
  struct dbs_restore_error e = {0};
  struct dbs_restore_source* srcs = calloc(n ? n : 1, sizeof(*srcs));
  size_t ns = 0;
  int status;
  if (srcs == NULL) {
    *out = DBS_RESTORE_EINTERNAL;
    dbs_log_errorx("restore: out of memory");
    return DBS_EXIT_SOFTWARE;
  }
  for (size_t i = 0; i < n; i++) {
    const struct dbs_replica_config* r = &replicas[i];
    if (replica_name != NULL &&
        (r->name == NULL || strcmp(r->name, replica_name) != 0))
      continue;
    if (r->kind == DBS_REPLICA_OTHER) {
      dbs_log_info("replica %s is of type %s: restoring with litestream",
                   r->name ? r->name : "?", r->type ? r->type : "?");
      *out = DBS_RESTORE_UNSUPPORTED_TYPE;
      status = 0;
      goto done;
    }
    if (r->has_age) {
      *out = DBS_RESTORE_EENCRYPTED;
      dbs_log_errorx(
          "replica %s uses age encryption, which the native restore "
          "does not support (remove age: or restore with litestream)",
          r->name ? r->name : "?");
      status = DBS_EXIT_DATAERR;
      goto done;
    }
    const char* path = "";
    struct dbs_storage* st = NULL;
    if (dbs_restore_open_storage(r, o, &st, &path, &e) != 0) {
      *out = e.result;
      dbs_log_errorx("replica %s: %s", r->name ? r->name : "?", e.msg);
      status = dbs_restore_exit_status(e.result);
      if (status == 0)
        status = DBS_EXIT_SOFTWARE;
      goto done;
    }
    srcs[ns].name = r->name;
    srcs[ns].storage = st;
    srcs[ns].path = path;
    ns++;
  }
  if (ns == 0) {
    *out = DBS_RESTORE_EUSAGE;
    dbs_log_errorx("no replica named %s in litestream.yml (fix --replica)",
                   replica_name ? replica_name : "(any)");
    status = DBS_EXIT_CONFIG;
    goto done;
  }
  struct dbs_restore_target t = {.index = -1};
  *out = dbs_restore_run(srcs, ns, &t, target, o, &e);
  switch (*out) {
  case DBS_RESTORE_RESTORED:
    status = 0;
    break;
  case DBS_RESTORE_NO_BACKUP: /* the boot says so, once */
    status = 0;
    break;
  default:
    dbs_log_errorx("restore of %s failed: %s", target, e.msg);
    status = dbs_restore_exit_status(*out);
    if (status == 0)
      status = DBS_EXIT_SOFTWARE;
    break;
  }
done:
  for (size_t i = 0; i < ns; i++)
    srcs[i].storage->ops->close(srcs[i].storage);
  free(srcs);
  return status;
}
