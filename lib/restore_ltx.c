/*
 * The litestream 0.5 (LTX) format: the plan's files decoded in order into
 * <out>.tmp, the pages of each written where they belong (on S3 the files
 * after the first downloaded ahead), then the shared finish.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ltx.h"
#include "restore_internal.h"

/* ---- the format: listing and plan ---------------------------------- */

static void ltx_free(void* p) {
  struct dbs_restore_ltx_state* s = p;
  if (s == NULL)
    return;
  dbs_ltx_plan_free(&s->plan);
  dbs_ltx_listing_free(&s->l);
  free(s);
}

/* Logs what lies under a replica path that no litestream layout explains. */
static void log_unknown(struct dbs_storage* st,
                        const struct dbs_ltx_listing* l) {
  if (l->nunknown == 0)
    return;
  char names[512] = "";
  size_t len = 0;
  for (size_t i = 0; i < l->nunknown && i < 8; i++)
    len += (size_t)snprintf(names + len,
                            len < sizeof(names) ? sizeof(names) - len : 0,
                            "%s%s", i ? ", " : "", l->unknown[i]);
  dbs_log_warnx("%s holds %zu object(s) of no layout litestream writes, "
                "ignored: %s%s",
                st->ops->describe(st), l->nunknown, names,
                l->nunknown > 8 ? ", ..." : "");
}

/*
 * Lists the LTX levels. A listing error is an error: "no backup" needs
 * every layout's listing to succeed empty. Files of S3's beta layout
 * alone are a backup too, refused in plan.
 */
static int ltx_find(struct dbs_storage* st, const char* path,
                    const struct dbs_restore_target* t, void** state,
                    int64_t* updated_ns, struct dbs_restore_error* e) {
  (void)t;
  *state = NULL;
  struct dbs_restore_ltx_state* s = calloc(1, sizeof(*s));
  if (s == NULL) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  int rc = dbs_ltx_load(st, path, dbs_restore_storage_is_s3(st), &s->l);
  if (rc != 0) {
    dbs_restore_set_err(e, dbs_restore_storage_result(rc),
                        "cannot list the LTX levels of %s: %s",
                        st->ops->describe(st),
                        st->error[0] ? st->error : strerror(-rc));
    free(s);
    return -1;
  }
  log_unknown(st, &s->l);
  if (s->l.n == 0 && s->l.legacy == NULL) {
    ltx_free(s);
    return 0;
  }
  *updated_ns = dbs_ltx_listing_updated_ns(&s->l);
  *state = s;
  return 0;
}

static int ltx_plan(void* p, const struct dbs_restore_target* t,
                    struct dbs_restore_error* e) {
  struct dbs_restore_ltx_state* s = p;
  if (s->l.n == 0) {
    dbs_restore_set_err(
        e, DBS_RESTORE_ECORRUPT,
        "%s holds only objects of litestream v0.5.0-beta1's layout "
        "(legacy LTX v1 files), which litestream 0.5 releases do not read "
        "either: restore them with litestream v0.5.0-beta1",
        s->l.legacy);
    return -1;
  }
  struct dbs_ltx_target lt = {.txid = t->txid,
                              .has_timestamp = t->has_timestamp,
                              .timestamp_ns = t->timestamp_ns};
  char msg[sizeof(e->msg)];
  int rc = dbs_ltx_plan_calc(&s->l, &lt, &s->plan, msg, sizeof(msg));
  if (rc == 0)
    return 0;
  dbs_restore_set_err(e,
                      rc == -ENOENT   ? DBS_RESTORE_NO_BACKUP
                      : rc == -ENOMEM ? DBS_RESTORE_EINTERNAL
                                      : DBS_RESTORE_ECORRUPT,
                      "%s", msg);
  return -1;
}

/* ---- the apply ------------------------------------------------------- */

/* Consecutive pages are written with one pwrite of up to this much. */
#define LTX_WRITE_BUF (256u << 10)

/* Applies the plan's files to the output in order. */
struct ltx_apply {
  struct dbs_storage* st;
  const struct dbs_ltx_file* file; /* being decoded */
  struct dbs_ltx_dec* dec;
  struct dbs_restore_out out; /* out.tmp: the database being written */
  int fd;
  uint32_t page_size; /* of the first file; every file must match */
  uint32_t commit;    /* of the last file decoded */
  uint8_t* have;      /* bitmap of the pages written, by pgno */
  size_t have_bits;
  uint8_t* buf; /* consecutive pages not yet written */
  uint32_t buf_pgno, buf_n;
  uint64_t written, flushed;
  int werr;
  char why[300];
  const struct dbs_ltx_plan* plan;
  /* S3: files after the first are downloaded ahead by workers into
   * <tmp>-XXXXXXXX-ltx (plan position) while the main thread decodes;
   * one position per plan file, state NULL when not downloading ahead. */
  struct dbs_restore_ahead dl;
};

static int ltx_flush(struct ltx_apply* a) {
  if (a->buf_n == 0)
    return 0;
  size_t n = (size_t)a->buf_n * a->page_size;
  int rc = dbs_restore_write_at(a->fd, a->buf, n,
                                (off_t)(a->buf_pgno - 1) * a->page_size);
  a->buf_n = 0;
  if (rc != 0) {
    a->werr = rc;
    return rc;
  }
  a->written += n;
  if (a->written - a->flushed >= DBS_RESTORE_WRITEBACK_WINDOW) {
    /* Writeback of what is written so far, without waiting for it. */
    (void)sync_file_range(a->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    a->flushed = a->written;
  }
  return 0;
}

static int ltx_on_header(void* arg, const struct dbs_ltx_header* h) {
  struct ltx_apply* a = arg;
  const struct dbs_ltx_file* f = a->file;
  if (h->min_txid != f->min_txid || h->max_txid != f->max_txid) {
    snprintf(a->why, sizeof(a->why),
             "its header holds TXIDs %016llx-%016llx, not those of its name",
             (unsigned long long)h->min_txid, (unsigned long long)h->max_txid);
    return -EBADMSG;
  }
  if (a->page_size == 0) {
    a->page_size = h->page_size;
    a->buf =
        malloc(LTX_WRITE_BUF > h->page_size ? LTX_WRITE_BUF : h->page_size);
    if (a->buf == NULL)
      return -ENOMEM;
  } else if (h->page_size != a->page_size) {
    snprintf(a->why, sizeof(a->why),
             "its page size %u differs from the %u of the files before it",
             h->page_size, a->page_size);
    return -EBADMSG;
  }
  if (h->commit >= a->have_bits) { /* bit pgno, 0..commit */
    size_t bytes = ((size_t)h->commit + 8) / 8;
    uint8_t* p = realloc(a->have, bytes);
    if (p == NULL)
      return -ENOMEM;
    size_t old = (a->have_bits + 7) / 8;
    memset(p + old, 0, bytes - old);
    a->have = p;
    a->have_bits = (size_t)bytes * 8;
  }
  a->commit = h->commit;
  return 0;
}

static int ltx_on_page(void* arg, uint32_t pgno, const uint8_t* data) {
  struct ltx_apply* a = arg;
  size_t cap = LTX_WRITE_BUF / a->page_size;
  if (cap == 0)
    cap = 1;
  if (a->buf_n > 0 && (pgno != a->buf_pgno + a->buf_n || a->buf_n >= cap)) {
    int rc = ltx_flush(a);
    if (rc != 0)
      return rc;
  }
  if (a->buf_n == 0)
    a->buf_pgno = pgno;
  memcpy(a->buf + (size_t)a->buf_n * a->page_size, data, a->page_size);
  a->buf_n++;
  a->have[pgno / 8] |= (uint8_t)(1u << (pgno % 8));
  return 0;
}

static int ltx_sink(void* arg, const uint8_t* buf, size_t len) {
  struct ltx_apply* a = arg;
  atomic_fetch_add(&a->out.prog.bytes, len);
  dbs_restore_progress_tick(&a->out.prog, false);
  return dbs_ltx_dec_write(a->dec, buf, len);
}

/* An object's name for messages: the path of a file replica's object,
 * else the key. */
static void obj_name(struct dbs_storage* st, const char* key, char* buf,
                     size_t len) {
  const char* d = st->ops->describe(st);
  if (strncmp(d, "file://", 7) == 0)
    snprintf(buf, len, "%s/%s", d + 7, key);
  else
    snprintf(buf, len, "%s", key);
}

/* Fills e for a failed download of the object called name. */
static void download_err(struct dbs_storage* st, int rc, const char* name,
                         struct dbs_restore_error* e) {
  if (rc == -ENOMEM)
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
  else if (rc == DBS_STORAGE_ENOTFOUND)
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                        "LTX file %s was listed but is missing: %s", name,
                        st->error);
  else if (rc == DBS_STORAGE_ECORRUPT)
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT, "corrupt object %s", name);
  else
    dbs_restore_set_err(
        e, dbs_restore_storage_result(rc), "cannot download %s from %s: %s",
        name, st->ops->describe(st), st->error[0] ? st->error : strerror(-rc));
}

static char* staged_ltx(const char* tmp, size_t k) {
  char* p = NULL;
  if (asprintf(&p, "%s-%08zx-ltx", tmp, k) < 0)
    return NULL;
  return p;
}

/* Feeds a staged file to the decoder: the decoder's result, or -1 with
 * *rerr set when the file cannot be read. */
static int feed_staged(struct ltx_apply* a, const char* path, int* rerr) {
  *rerr = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *rerr = -errno;
    return -1;
  }
  uint8_t* buf = malloc(128u << 10);
  int rc = buf ? 0 : -ENOMEM;
  while (rc == 0) {
    ssize_t n = read(fd, buf, 128u << 10);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *rerr = -errno;
      rc = -1;
    }
    if (n <= 0)
      break;
    rc = dbs_ltx_dec_write(a->dec, buf, (size_t)n);
  }
  free(buf);
  close(fd);
  return rc;
}

/* Applies file k of the plan, streamed or from its staged copy; fills e
 * on failure. */
static int ltx_apply_file(struct ltx_apply* a, size_t k,
                          struct dbs_restore_error* e) {
  const struct dbs_ltx_file* f = a->plan->files[k];
  char name[600];
  obj_name(a->st, f->key, name, sizeof(name));
  a->file = f;
  a->why[0] = '\0';
  struct dbs_ltx_callbacks cb = {ltx_on_header, ltx_on_page, a};
  dbs_ltx_dec_reset(a->dec, &cb);
  int rc;
  bool staged = a->dl.state != NULL && k > 0;
  char* path = NULL;
  if (staged) {
    path = staged_ltx(a->out.tmp, k);
    int rerr = 0;
    rc = path ? feed_staged(a, path, &rerr) : -ENOMEM;
    if (rerr != 0) {
      dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot read %s: %s", path,
                          strerror(-rerr));
      unlink(path);
      free(path);
      return -1;
    }
  } else {
    rc = a->st->ops->get(a->st, f->key, ltx_sink, a);
  }
  if (rc == 0)
    rc = dbs_ltx_dec_finish(a->dec);
  if (rc == 0)
    rc = ltx_flush(a);
  if (path != NULL) {
    unlink(path);
    free(path);
  }
  if (rc == 0) {
    if (!staged)
      atomic_fetch_add(&a->out.prog.objects, 1);
    return 0;
  }
  if (a->werr != 0)
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET,
                        "cannot write the restored database: %s",
                        strerror(-a->werr));
  else if (rc == DBS_LTX_ELEGACY || rc == DBS_LTX_ECORRUPT)
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT, "corrupt LTX file %s: %s",
                        name, dbs_ltx_dec_error(a->dec));
  else if (rc == -EBADMSG)
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT, "corrupt LTX file %s: %s",
                        name, a->why);
  else
    download_err(a->st, rc, name, e);
  return -1;
}

/* Staged download: bytes to the file, counted for progress. */
struct stage_sink {
  int fd;
  struct dbs_restore_progress* prog;
  int werr;
};

static int stage_write(void* arg, const uint8_t* buf, size_t len) {
  struct stage_sink* s = arg;
  atomic_fetch_add(&s->prog->bytes, len);
  int rc = dbs_restore_write_all(s->fd, buf, len);
  if (rc != 0)
    s->werr = rc;
  return rc;
}

static int ltx_download(struct ltx_apply* a, size_t k,
                        struct dbs_restore_error* e) {
  const struct dbs_ltx_file* f = a->plan->files[k];
  char name[600];
  obj_name(a->st, f->key, name, sizeof(name));
  char* path = staged_ltx(a->out.tmp, k);
  if (path == NULL) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  struct stage_sink ss = {.prog = &a->out.prog};
  ss.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (ss.fd < 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s", path,
                        strerror(errno));
    free(path);
    return -1;
  }
  int rc = a->st->ops->get(a->st, f->key, stage_write, &ss);
  if (close(ss.fd) != 0 && rc == 0 && ss.werr == 0)
    ss.werr = -errno;
  if (rc == 0 && ss.werr == 0) {
    atomic_fetch_add(&a->out.prog.objects, 1);
    free(path);
    return 0;
  }
  if (ss.werr != 0)
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", path,
                        strerror(-ss.werr));
  else
    download_err(a->st, rc, name, e);
  unlink(path);
  free(path);
  return -1;
}

static void* ltx_worker(void* arg) {
  struct ltx_apply* a = arg;
  struct dbs_restore_error e = {0};
  size_t k;
  while (dbs_restore_ahead_take(&a->dl, &k))
    dbs_restore_ahead_done(&a->dl, k, ltx_download(a, k, &e), &e);
  return NULL;
}

/* Applies the plan's files in order, waiting for each staged one. */
static int ltx_apply_files(struct ltx_apply* a, struct dbs_restore_error* e) {
  for (size_t i = 0; i < a->plan->n; i++) {
    if (a->dl.state != NULL && i > 0 &&
        dbs_restore_ahead_wait(&a->dl, i, e) != 0)
      return -1;
    if (ltx_apply_file(a, i, e) != 0)
      return -1;
    if (a->dl.state != NULL)
      dbs_restore_ahead_applied(&a->dl, i + 1);
  }
  return 0;
}

/* Every page 1..Commit but the lock page must have come from some file;
 * the lock page stays a hole, which reads as zeros. */
static int ltx_check_complete(const struct ltx_apply* a,
                              struct dbs_restore_error* e) {
  uint32_t lock = dbs_ltx_lock_pgno(a->page_size);
  for (uint32_t pg = 1; pg <= a->commit; pg++)
    if (pg != lock && (a->have[pg / 8] & (1u << (pg % 8))) == 0) {
      dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                          "page %u of the database (commit %u pages) is in "
                          "no file of the plan ending at %s: the backup is "
                          "incomplete",
                          pg, a->commit, a->plan->files[a->plan->n - 1]->key);
      return -1;
    }
  return 0;
}

/* Gives the output the last commit's size and closes it. */
static int ltx_close_output(struct ltx_apply* a, struct dbs_restore_error* e) {
  if (ftruncate(a->fd, (off_t)a->commit * a->page_size) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot resize %s: %s",
                        a->out.tmp, strerror(errno));
    return -1;
  }
  int rc = close(a->fd);
  a->fd = -1;
  if (rc != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s",
                        a->out.tmp, strerror(errno));
    return -1;
  }
  return 0;
}

/* Removes the staged files of the download ahead. */
static void ltx_remove_staged(const struct ltx_apply* a) {
  for (size_t k = 1; k < a->plan->n; k++) {
    char* sp = staged_ltx(a->out.tmp, k);
    if (sp != NULL)
      unlink(sp);
    free(sp);
  }
}

/* Prepares the output, applies the plan's files (S3: downloaded ahead in
 * parallel, a round trip per object otherwise; a file replica is read in
 * place), checks that every page came, then verifies and renames. */
static int ltx_apply_plan(void* p, struct dbs_storage* st, const char* output,
                          const struct dbs_restore_opts* o,
                          struct dbs_restore_error* e) {
  struct dbs_restore_ltx_state* s = p;
  const struct dbs_ltx_plan* plan = &s->plan;
  const struct dbs_ltx_file* last = plan->files[plan->n - 1];
  struct ltx_apply a = {.st = st, .fd = -1, .plan = plan};
  int rc = -1;
  if (dbs_ltx_dec_new(&a.dec) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  if (dbs_restore_out_prepare(&a.out, output, o, true,
                              (uint64_t)plan->total_bytes, plan->n, e) != 0)
    goto done;
  a.fd = open(a.out.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (a.fd < 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s",
                        a.out.tmp, strerror(errno));
    goto done;
  }
  dbs_log_info("restoring LTX TXIDs %016llx-%016llx from %zu file(s) of %s "
               "into %s",
               (unsigned long long)plan->files[0]->min_txid,
               (unsigned long long)last->max_txid, plan->n,
               st->ops->describe(st), a.out.tmp);
  if (dbs_restore_storage_is_s3(st) && plan->n > 1 &&
      dbs_restore_ahead_start(&a.dl, plan->n, 1, o->parallelism, &a.out.prog,
                              ltx_worker, &a, e) != 0)
    goto done;
  if (ltx_apply_files(&a, e) != 0 || ltx_check_complete(&a, e) != 0 ||
      ltx_close_output(&a, e) != 0)
    goto done;
  char what[64];
  snprintf(what, sizeof(what), "LTX TXID %016llx",
           (unsigned long long)last->max_txid);
  if (dbs_restore_out_finish(&a.out, o->verify, what, e) != 0)
    goto done;
  rc = 0;
done:
  if (a.dl.state != NULL) { /* downloading ahead: stop, remove staged */
    dbs_restore_ahead_end(&a.dl);
    ltx_remove_staged(&a);
  }
  if (a.fd >= 0)
    close(a.fd);
  char point[96];
  snprintf(point, sizeof(point), "LTX TXID %016llx, %zu file%s",
           (unsigned long long)last->max_txid, plan->n,
           plan->n == 1 ? "" : "s");
  dbs_restore_out_end(&a.out, rc == 0, point);
  dbs_ltx_dec_free(a.dec);
  free(a.have);
  free(a.buf);
  return rc;
}

/* ---- dry run ------------------------------------------------------- */

/* litestream 0.5's dry-run table. */
static void ltx_print(void* p, FILE* f) {
  struct dbs_restore_ltx_state* s = p;
  const struct dbs_ltx_plan* pl = &s->plan;
  fprintf(f, "Restore plan (litestream 0.5 LTX):\n");
  fprintf(f, "  txid range: %016llx - %016llx\n\n",
          (unsigned long long)pl->files[0]->min_txid,
          (unsigned long long)pl->files[pl->n - 1]->max_txid);
  fprintf(f, "Files to fetch:\n");
  fprintf(f, "%-5s  %-37s  %-16s  %-16s  %-10s  %s\n", "level", "file",
          "min_txid", "max_txid", "size", "timestamp");
  for (size_t i = 0; i < pl->n; i++) {
    const struct dbs_ltx_file* x = pl->files[i];
    char ts[32];
    dbs_restore_fmt_utc(x->time_ns, ts, sizeof(ts));
    fprintf(f, "%-5d  %016llx-%016llx.ltx  %016llx  %016llx  %-10lld  %s\n",
            x->level, (unsigned long long)x->min_txid,
            (unsigned long long)x->max_txid, (unsigned long long)x->min_txid,
            (unsigned long long)x->max_txid, (long long)x->size, ts);
  }
}

static void ltx_summarize(void* p, struct dbs_restore_summary* out) {
  struct dbs_restore_ltx_state* s = p;
  const struct dbs_ltx_plan* pl = &s->plan;
  snprintf(out->format, sizeof(out->format), "litestream-v0.5");
  if (pl->n == 0)
    return;
  snprintf(out->point, sizeof(out->point), "TXID %016llx (%zu LTX file%s)",
           (unsigned long long)pl->files[pl->n - 1]->max_txid, pl->n,
           pl->n == 1 ? "" : "s");
  out->updated_ns = dbs_ltx_listing_updated_ns(&s->l);
  out->bytes = pl->total_bytes;
  out->objects = pl->n;
}

const struct dbs_restore_format dbs_restore_format_ltx = {
    .name = "litestream-v0.5",
    .find = ltx_find,
    .plan = ltx_plan,
    .apply = ltx_apply_plan,
    .free = ltx_free,
    .print = ltx_print,
    .summarize = ltx_summarize,
};

/* ---- times from the LTX headers (-timestamp on S3) ------------------ */

/* Reads the first bytes of an object: an LTX header. */
struct head_sink {
  uint8_t b[DBS_LTX_HEADER_SIZE];
  size_t n;
};

static int head_write(void* arg, const uint8_t* buf, size_t len) {
  struct head_sink* h = arg;
  size_t take = sizeof(h->b) - h->n < len ? sizeof(h->b) - h->n : len;
  memcpy(h->b + h->n, buf, take);
  h->n += take;
  return h->n == sizeof(h->b) ? -ECANCELED : 0;
}

struct head_job {
  struct dbs_storage* st;
  struct dbs_restore_ltx_state* lx;
  pthread_mutex_t mu;
  size_t next;
  bool failed;
  struct dbs_restore_error err;
};

static void* head_worker(void* arg) {
  struct head_job* j = arg;
  for (;;) {
    pthread_mutex_lock(&j->mu);
    size_t i = j->next++;
    bool stop = j->failed || i >= j->lx->l.n;
    pthread_mutex_unlock(&j->mu);
    if (stop)
      return NULL;
    struct dbs_ltx_file* f = &j->lx->l.files[i];
    struct head_sink h = {.n = 0};
    int rc = j->st->ops->get(j->st, f->key, head_write, &h);
    struct dbs_ltx_header hd;
    char why[256] = "";
    if (rc == -ECANCELED || (rc == 0 && h.n == sizeof(h.b))) {
      if (dbs_ltx_header_parse(h.b, &hd, why, sizeof(why)) == 0) {
        int64_t sec = hd.timestamp_ms / 1000, ms = hd.timestamp_ms % 1000;
        if (ms < 0) {
          ms += 1000;
          sec--;
        }
        /* Saturated: a header's timestamp is untrusted. */
        f->time_ns = dbs_storage_time_ns(sec, ms * 1000000);
        continue;
      }
    }
    pthread_mutex_lock(&j->mu);
    if (!j->failed) {
      j->failed = true;
      if (rc == -ECANCELED || rc == 0)
        dbs_restore_set_err(&j->err, DBS_RESTORE_ECORRUPT, "LTX file %s: %s",
                            f->key,
                            why[0] ? why : "shorter than an LTX header");
      else
        dbs_restore_set_err(&j->err, dbs_restore_storage_result(rc),
                            "cannot read %s from %s: %s", f->key,
                            j->st->ops->describe(j->st),
                            j->st->error[0] ? j->st->error : strerror(-rc));
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
  }
}

/*
 * The time of each S3 LTX file for -timestamp: litestream 0.5 takes the
 * object's litestream-timestamp metadata, which is its LTX header's
 * timestamp (written on upload since v0.5.1); this reads the header
 * itself, several objects at once. (Objects uploaded by v0.5.0 have no
 * metadata; litestream then takes LastModified, this the header.)
 */
int dbs_restore_ltx_header_times(struct dbs_storage* st,
                                 struct dbs_restore_ltx_state* lx,
                                 const struct dbs_restore_opts* o,
                                 struct dbs_restore_error* e) {
  struct head_job j = {.st = st, .lx = lx};
  pthread_mutex_init(&j.mu, NULL);
  unsigned par = o->parallelism ? o->parallelism : 8;
  if (par > lx->l.n)
    par = (unsigned)lx->l.n;
  pthread_t th[64];
  unsigned nt = 0;
  for (; nt < par && nt < 64; nt++)
    if (pthread_create(&th[nt], NULL, head_worker, &j) != 0)
      break;
  if (nt == 0)
    head_worker(&j);
  for (unsigned i = 0; i < nt; i++)
    pthread_join(th[i], NULL);
  pthread_mutex_destroy(&j.mu);
  if (j.failed) {
    *e = j.err;
    return -1;
  }
  return 0;
}
