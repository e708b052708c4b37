/*
 * Native restore: snapshot into <out>.tmp, WAL indexes downloaded and
 * checked in parallel and applied in order (their frames copied as SQLite's
 * checkpoint would copy them), verify, fsync, rename, fsync the directory.
 */
#define _GNU_SOURCE
#include "restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "ltx.h"
#include "ltx_replica.h"
#include "lz4stream.h"
#include "sqlite_readahead.h"
#include "storage_file.h"
#include "storage_s3.h"

/* Decoded bytes reach write() in chunks of this size. Small enough to stay
 * in the L2 cache between the decode and the kernel's copy into the page
 * cache: measured on a 1 GB snapshot, 128 KiB chunks take a third of the
 * CPU time of 4 MiB ones (bench/restore-results.txt). */
#define SNAPSHOT_OUT_CHUNK (128u << 10)
#define WAL_OUT_CHUNK (128u << 10)
/* While the snapshot is written, writeback of each completed window of
 * this size is started (sync_file_range, asynchronous), so the disk works
 * during the decode and the final fsync finds little left to write. */
#define WRITEBACK_WINDOW (8u << 20)
#define WAL_HDR 32
#define FRAME_HDR 24

/* ---- errors ---------------------------------------------------------- */

static void set_err(struct dbs_restore_error* e, enum dbs_restore_result r,
                    const char* fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(struct dbs_restore_error* e, enum dbs_restore_result r,
                    const char* fmt, ...) {
  va_list ap;
  e->result = r;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
  va_end(ap);
}

/* Maps a storage get/list error to a result. */
static enum dbs_restore_result storage_result(int rc) {
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

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- progress -------------------------------------------------------- */

/* A byte count for people: "812 bytes", "14.2 kB", "3.1 MB", "2.40 GB". */
static const char* fmt_size(double bytes, char* buf, size_t n) {
  if (bytes < 1000)
    snprintf(buf, n, "%.0f byte%s", bytes, bytes == 1 ? "" : "s");
  else if (bytes < 1e6)
    snprintf(buf, n, "%.1f kB", bytes / 1e3);
  else if (bytes < 1e9)
    snprintf(buf, n, "%.1f MB", bytes / 1e6);
  else
    snprintf(buf, n, "%.2f GB", bytes / 1e9);
  return buf;
}

struct progress {
  bool enabled, tty;
  int64_t start_ns, last_ns;
  uint64_t total_bytes;
  size_t total_objects;
  _Atomic uint64_t bytes;
  _Atomic size_t objects;
};

static void progress_tick(struct progress* p, bool force) {
  if (!p->enabled)
    return;
  int64_t now = now_ns();
  if (now - p->start_ns < 2000000000LL && !force)
    return;
  int64_t every = p->tty ? 250000000LL : 5000000000LL;
  if (!force && now - p->last_ns < every)
    return;
  p->last_ns = now;
  double secs = (double)(now - p->start_ns) / 1e9;
  uint64_t b = atomic_load(&p->bytes);
  double rate = secs > 0 ? (double)b / secs : 0;
  double pct =
      p->total_bytes ? 100.0 * (double)b / (double)p->total_bytes : 100;
  /* One unit for the line, the total's, so that the numbers compare. */
  double div = p->total_bytes >= 1000000000 ? 1e9
               : p->total_bytes >= 1000000  ? 1e6
                                            : 1e3;
  const char* unit = div == 1e9 ? "GB" : div == 1e6 ? "MB" : "kB";
  if (p->tty) {
    dbs_log_status_open();
    fprintf(stderr,
            "\rdbsetup: restoring: %.1f / %.1f %s (%.0f%%), %.1f %s/s, "
            "%zu/%zu objects\033[K",
            (double)b / div, (double)p->total_bytes / div, unit, pct,
            rate / div, unit, atomic_load(&p->objects), p->total_objects);
    fflush(stderr);
  } else {
    dbs_log_info("restoring: %.1f / %.1f %s downloaded (%.0f%%), %.1f %s/s, "
                 "%zu/%zu objects",
                 (double)b / div, (double)p->total_bytes / div, unit, pct,
                 rate / div, unit, atomic_load(&p->objects), p->total_objects);
  }
}

static void progress_end(struct progress* p) {
  if (p->tty)
    dbs_log_status_close();
}

/* ---- WAL validation -------------------------------------------------- */

/* Checks a WAL file as it streams by: header magic, version, page size and
 * checksum, then every frame's salts and running checksum. */
struct walcheck {
  uint32_t page_size;
  bool be;
  uint32_t salt1, salt2, s1, s2;
  uint8_t hdr[WAL_HDR];
  size_t nhdr;
  uint8_t* frame;
  size_t nframe, frame_len;
  uint64_t nframes;
  uint32_t last_commit; /* db size in pages of the last frame, 0 if none */
  char err[200];
};

static uint32_t get32(const uint8_t* p, bool be) {
  if (be)
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 |
         p[0];
}

static void wal_cksum(bool be, const uint8_t* p, size_t n, uint32_t* s1,
                      uint32_t* s2) {
  uint32_t a = *s1, b = *s2;
  for (size_t i = 0; i < n; i += 8) {
    a += get32(p + i, be) + b;
    b += get32(p + i + 4, be) + a;
  }
  *s1 = a;
  *s2 = b;
}

static int walcheck_frame(struct walcheck* w, const uint8_t* f) {
  if (get32(f + 8, true) != w->salt1 || get32(f + 12, true) != w->salt2) {
    snprintf(w->err, sizeof(w->err),
             "frame %llu has salts that do not match "
             "the WAL header",
             (unsigned long long)w->nframes + 1);
    return -EBADMSG;
  }
  wal_cksum(w->be, f, 8, &w->s1, &w->s2);
  wal_cksum(w->be, f + FRAME_HDR, w->page_size, &w->s1, &w->s2);
  if (get32(f + 16, true) != w->s1 || get32(f + 20, true) != w->s2) {
    snprintf(w->err, sizeof(w->err), "frame %llu fails its checksum",
             (unsigned long long)w->nframes + 1);
    return -EBADMSG;
  }
  w->nframes++;
  w->last_commit = get32(f + 4, true);
  return 0;
}

static int walcheck_header(struct walcheck* w) {
  uint32_t magic = get32(w->hdr, true);
  if (magic != 0x377f0682 && magic != 0x377f0683) {
    snprintf(w->err, sizeof(w->err), "bad WAL header magic %08x", magic);
    return -EBADMSG;
  }
  w->be = magic & 1;
  uint32_t version = get32(w->hdr + 4, true);
  uint32_t ps = get32(w->hdr + 8, true);
  if (version != 3007000) {
    snprintf(w->err, sizeof(w->err), "unknown WAL format version %u", version);
    return -EBADMSG;
  }
  if (ps != w->page_size) {
    snprintf(w->err, sizeof(w->err),
             "WAL page size %u differs from the "
             "database page size %u",
             ps, w->page_size);
    return -EBADMSG;
  }
  uint32_t s1 = 0, s2 = 0;
  wal_cksum(w->be, w->hdr, 24, &s1, &s2);
  if (s1 != get32(w->hdr + 24, true) || s2 != get32(w->hdr + 28, true)) {
    snprintf(w->err, sizeof(w->err), "WAL header checksum mismatch");
    return -EBADMSG;
  }
  w->salt1 = get32(w->hdr + 16, true);
  w->salt2 = get32(w->hdr + 20, true);
  w->s1 = s1;
  w->s2 = s2;
  return 0;
}

static int walcheck_init(struct walcheck* w, uint32_t page_size) {
  memset(w, 0, sizeof(*w));
  w->page_size = page_size;
  w->frame_len = FRAME_HDR + page_size;
  w->frame = malloc(w->frame_len);
  return w->frame ? 0 : -ENOMEM;
}

static int walcheck_feed(struct walcheck* w, const uint8_t* p, size_t n) {
  int rc;
  if (w->nhdr < WAL_HDR) {
    size_t take = WAL_HDR - w->nhdr < n ? WAL_HDR - w->nhdr : n;
    memcpy(w->hdr + w->nhdr, p, take);
    w->nhdr += take;
    p += take;
    n -= take;
    if (w->nhdr == WAL_HDR && (rc = walcheck_header(w)) != 0)
      return rc;
  }
  while (n > 0) {
    if (w->nframe == 0 && n >= w->frame_len) {
      if ((rc = walcheck_frame(w, p)) != 0)
        return rc;
      p += w->frame_len;
      n -= w->frame_len;
      continue;
    }
    size_t take = w->frame_len - w->nframe < n ? w->frame_len - w->nframe : n;
    memcpy(w->frame + w->nframe, p, take);
    w->nframe += take;
    p += take;
    n -= take;
    if (w->nframe == w->frame_len) {
      w->nframe = 0;
      if ((rc = walcheck_frame(w, w->frame)) != 0)
        return rc;
    }
  }
  return 0;
}

/* ---- the apply ------------------------------------------------------- */

enum { IDX_PENDING = 0, IDX_BUSY, IDX_READY, IDX_FAILED };

/*
 * Download ahead, shared by the v0.3 and LTX applies: worker threads fetch
 * positions next..n-1 in order, at most window positions past the last one
 * applied, while the main thread applies them in order. The caller sets
 * n, next (the first position fetched), window, state (n IDX_* entries,
 * zeroed) and prog, and calls ahead_init before the threads start and
 * ahead_destroy after they are joined. The first error stops everything;
 * a waiter then gets it.
 */
struct ahead {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  size_t n, next, applied, window;
  int* state; /* IDX_* per position */
  bool stop;
  struct dbs_restore_error err; /* first worker error */
  struct progress* prog;        /* ticked while waiting */
};

static void ahead_init(struct ahead* d) {
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cond, NULL);
}

static void ahead_destroy(struct ahead* d) {
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->cond);
}

/* Records a worker's error e (the first one wins) and stops every worker. */
static void ahead_fail(struct ahead* d, const struct dbs_restore_error* e) {
  pthread_mutex_lock(&d->mu);
  if (!d->stop) {
    d->err = *e;
    d->stop = true;
    pthread_cond_broadcast(&d->cond);
  }
  pthread_mutex_unlock(&d->mu);
}

/* A worker's next position to fetch in *k (marked busy), once the window
 * allows; false when stopped or none is left. */
static bool ahead_take(struct ahead* d, size_t* k) {
  pthread_mutex_lock(&d->mu);
  while (!d->stop && d->next < d->n && d->next >= d->applied + d->window)
    pthread_cond_wait(&d->cond, &d->mu);
  bool got = !d->stop && d->next < d->n;
  if (got) {
    *k = d->next++;
    d->state[*k] = IDX_BUSY;
  }
  pthread_mutex_unlock(&d->mu);
  return got;
}

/* A worker is done with position k: rc 0 ready, else failed with e. */
static void ahead_done(struct ahead* d, size_t k, int rc,
                       const struct dbs_restore_error* e) {
  pthread_mutex_lock(&d->mu);
  d->state[k] = rc == 0 ? IDX_READY : IDX_FAILED;
  if (rc != 0 && !d->stop) {
    d->err = *e;
    d->stop = true;
  }
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
}

/* Waits for position k; ticks progress meanwhile. -1 with the first
 * worker error in *e when the download stopped first. */
static int ahead_wait(struct ahead* d, size_t k, struct dbs_restore_error* e) {
  pthread_mutex_lock(&d->mu);
  while (d->state[k] != IDX_READY && !d->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 250000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&d->cond, &d->mu, &ts);
    pthread_mutex_unlock(&d->mu);
    progress_tick(d->prog, false);
    pthread_mutex_lock(&d->mu);
  }
  int rc = 0;
  if (d->state[k] != IDX_READY) {
    *e = d->err;
    rc = -1;
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

/* The main thread has applied positions 0..count-1: slides the window. */
static void ahead_applied(struct ahead* d, size_t count) {
  pthread_mutex_lock(&d->mu);
  d->applied = count;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
}

/* Stops the workers (they finish the fetch under way), before joining. */
static void ahead_stop(struct ahead* d) {
  pthread_mutex_lock(&d->mu);
  d->stop = true;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
}

struct apply {
  struct dbs_storage* st;
  const struct dbs_restore_plan* plan;
  const struct dbs_restore_opts* o;
  char* tmp;
  uint32_t page_size;
  struct progress prog;
  struct ahead dl;  /* the worker pool: one position per WAL index */
  uint32_t* commit; /* db size in pages after each index */
};

static char* staged_path(const struct apply* a, uint32_t index) {
  char* p = NULL;
  if (asprintf(&p, "%s-%08x-wal", a->tmp, index) < 0)
    return NULL;
  return p;
}

static int write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int write_at(int fd, const uint8_t* p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
    off += w;
  }
  return 0;
}

/* Counts compressed bytes for progress, then decodes. */
struct count_sink {
  struct dbs_lz4stream* z;
  struct progress* prog;
  bool main_thread;
};

static int count_write(void* arg, const uint8_t* buf, size_t len) {
  struct count_sink* c = arg;
  atomic_fetch_add(&c->prog->bytes, len);
  if (c->main_thread)
    progress_tick(c->prog, false);
  return dbs_lz4stream_write(c->z, buf, len);
}

/* Decoded snapshot bytes: the first 100 are the SQLite header. */
struct snap_sink {
  int fd;
  uint8_t head[100];
  size_t nhead;
  int werr;
  uint64_t written, flushed; /* bytes written; writeback started below */
};

/* Starts writeback of [s->flushed, s->written) without waiting for it. A
 * hint only: errors surface at the final fsync, which stays. */
static void start_writeback(struct snap_sink* s) {
  if (s->written > s->flushed)
    (void)sync_file_range(s->fd, (off_t)s->flushed,
                          (off_t)(s->written - s->flushed),
                          SYNC_FILE_RANGE_WRITE);
  s->flushed = s->written;
}

static int snap_write(void* arg, const uint8_t* buf, size_t len) {
  struct snap_sink* s = arg;
  if (s->nhead < sizeof(s->head)) {
    size_t take =
        sizeof(s->head) - s->nhead < len ? sizeof(s->head) - s->nhead : len;
    memcpy(s->head + s->nhead, buf, take);
    s->nhead += take;
  }
  int rc = write_all(s->fd, buf, len);
  if (rc != 0) {
    s->werr = rc;
    return rc;
  }
  s->written += len;
  if (s->written - s->flushed >= WRITEBACK_WINDOW)
    start_writeback(s);
  return 0;
}

/* Decoded WAL bytes: checked, then written to the staged file. */
struct wal_sink {
  int fd;
  struct walcheck* w;
  int werr;
  bool bad;
};

static int wal_write(void* arg, const uint8_t* buf, size_t len) {
  struct wal_sink* s = arg;
  if (walcheck_feed(s->w, buf, len) != 0) {
    s->bad = true;
    return -EBADMSG;
  }
  int rc = write_all(s->fd, buf, len);
  if (rc != 0)
    s->werr = rc;
  return rc;
}

/* Fetches key through z into sink; fills e on failure. */
static int fetch(struct apply* a, const char* key, struct dbs_lz4stream* z,
                 dbs_storage_sink sink, void* arg, bool main_thread,
                 struct dbs_restore_error* e) {
  struct count_sink cs = {z, &a->prog, main_thread};
  dbs_lz4stream_reset(z, sink, arg);
  int rc = a->st->ops->get(a->st, key, count_write, &cs);
  if (rc == 0)
    rc = dbs_lz4stream_finish(z);
  if (rc == 0) {
    atomic_fetch_add(&a->prog.objects, 1);
    return 0;
  }
  if (rc == DBS_LZ4STREAM_EAGE)
    set_err(e, DBS_RESTORE_EENCRYPTED,
            "%s is age-encrypted: encrypted "
            "replicas are not supported by the native restore (remove the "
            "age: setting or restore with litestream)",
            key);
  else if (rc == DBS_LZ4STREAM_ECORRUPT)
    set_err(e, DBS_RESTORE_ECORRUPT, "corrupt object %s: %s", key,
            dbs_lz4stream_error(z));
  else if (rc == DBS_STORAGE_ENOTFOUND)
    set_err(e, DBS_RESTORE_ECORRUPT,
            "object %s was listed but is missing: "
            "%s",
            key, a->st->error);
  else if (rc == -EBADMSG || rc == DBS_STORAGE_ECORRUPT)
    set_err(e, DBS_RESTORE_ECORRUPT, "corrupt object %s", key);
  else
    set_err(e, storage_result(rc), "cannot download %s from %s: %s", key,
            a->st->ops->describe(a->st),
            a->st->error[0] ? a->st->error : strerror(-rc));
  return -1;
}

/* Downloads WAL index k of the plan into its staged file. */
static int download_index(struct apply* a, size_t k, struct dbs_lz4stream* z,
                          struct dbs_restore_error* e) {
  const struct dbs_plan_index* pi = &a->plan->indexes[k];
  struct walcheck w;
  char* path = staged_path(a, pi->index);
  char* key = NULL;
  int fd = -1, rc = -1;
  if (path == NULL || walcheck_init(&w, a->page_size) != 0) {
    free(path);
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s", path,
            strerror(errno));
    goto done;
  }
  uint64_t pos = 0;
  for (size_t i = 0; i < pi->n; i++) {
    const struct dbs_replica_segment* s = &a->plan->segments[pi->first + i];
    free(key);
    key = dbs_replica_segment_key(a->plan->gen_root, s->index, s->offset);
    if (key == NULL) {
      set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
      goto done;
    }
    if (s->offset != pos) {
      set_err(e, DBS_RESTORE_ECORRUPT,
              "WAL offset gap: %s starts at offset "
              "%u but the segments before it end at %llu",
              key, s->offset, (unsigned long long)pos);
      goto done;
    }
    struct wal_sink ws = {fd, &w, 0, false};
    uint64_t frames_before = w.nframes;
    if (fetch(a, key, z, wal_write, &ws, false, e) != 0) {
      if (ws.bad)
        set_err(e, DBS_RESTORE_ECORRUPT, "invalid WAL data in %s: %s", key,
                w.err);
      else if (ws.werr)
        set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", path,
                strerror(-ws.werr));
      goto done;
    }
    pos += dbs_lz4stream_total_out(z);
    if (w.nframe != 0 || pos < WAL_HDR) {
      set_err(e, DBS_RESTORE_ECORRUPT,
              "%s does not end on a WAL frame "
              "boundary (%llu bytes so far)",
              key, (unsigned long long)pos);
      goto done;
    }
    /* Stray bytes after a complete LZ4 frame: litestream 0.3.13 leaves
     * them when a shutdown interrupts its second write of a segment, and
     * its reader ignores them. Accepted only when what the frame decoded
     * to verifies on its own: WAL frames (salts and checksum chain were
     * checked as they streamed in) ending with a commit, as every
     * segment litestream writes ends. */
    uint64_t stray = dbs_lz4stream_trailing(z);
    if (stray > 0 && (w.nframes == frames_before || w.last_commit == 0)) {
      set_err(e, DBS_RESTORE_ECORRUPT,
              "%s has %llu bytes after its LZ4 frame, and the frame %s: "
              "it cannot be verified",
              key, (unsigned long long)stray,
              w.nframes == frames_before ? "holds no WAL frame"
                                         : "does not end with a commit");
      goto done;
    }
    if (stray > 0)
      dbs_log_warnx("%s has %llu stray bytes after its LZ4 frame (left by "
                    "an interrupted rewrite); its WAL frames verify, so the "
                    "bytes are ignored, as litestream ignores them",
                    key, (unsigned long long)stray);
  }
  if (w.nframes == 0 || w.last_commit == 0) {
    set_err(e, DBS_RESTORE_ECORRUPT, "WAL index %s/%08x %s",
            a->plan->generation, pi->index,
            w.nframes == 0 ? "holds no frames"
                           : "does not end with a commit frame");
    goto done;
  }
  a->commit[k] = w.last_commit;
  rc = 0;
done:
  if (fd >= 0 && close(fd) != 0 && rc == 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", path,
            strerror(errno));
    rc = -1;
  }
  free(w.frame);
  free(key);
  free(path);
  return rc;
}

static void* worker(void* arg) {
  struct apply* a = arg;
  struct dbs_lz4stream* z = NULL;
  struct dbs_restore_error e = {0};
  bool ok = dbs_lz4stream_new(WAL_OUT_CHUNK, &z) == 0;
  if (ok)
    dbs_lz4stream_allow_trailing(z, true); /* checked in download_index */
  if (!ok) {
    set_err(&e, DBS_RESTORE_EINTERNAL, "out of memory");
    ahead_fail(&a->dl, &e);
  }
  size_t k;
  while (ok && ahead_take(&a->dl, &k))
    ahead_done(&a->dl, k, download_index(a, k, z, &e), &e);
  dbs_lz4stream_free(z);
  return NULL;
}

static int sql_exec_row(sqlite3* db, const char* sql, int* cols, int ncols,
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

static int open_db(const char* path, const char* vfs, sqlite3** db) {
  int rc = sqlite3_open_v2(path, db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(*db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
  return rc;
}

static char* suffixed(const char* p, const char* suffix) {
  char* s = NULL;
  if (asprintf(&s, "%s%s", p, suffix) < 0)
    return NULL;
  return s;
}

/* Reads exactly n bytes at off; -EBADMSG if the file is shorter. */
static int read_full(int fd, uint8_t* p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t r = pread(fd, p, n, off);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (r == 0)
      return -EBADMSG;
    p += r;
    n -= (size_t)r;
    off += r;
  }
  return 0;
}

/*
 * Applies staged index k by copying its frames' pages into the database
 * and setting its size, which is what SQLite's TRUNCATE checkpoint does
 * with a WAL whose every frame is valid and whose last frame commits (the
 * download checked both, salts and checksums included): the latest copy of
 * each page up to the last commit's size wins, pages past it are skipped,
 * then the file takes that size. It skips opening SQLite, building a
 * wal-index and the rename per index. restore_equiv proves the result is
 * byte-identical to the checkpoint path (DBS_RESTORE_APPLY=checkpoint).
 */
static int apply_index_direct(struct apply* a, size_t k,
                              struct dbs_restore_error* e) {
  uint32_t index = a->plan->indexes[k].index;
  uint32_t ps = a->page_size, last = a->commit[k];
  size_t flen = FRAME_HDR + ps;
  char* staged = staged_path(a, index);
  uint8_t* frame = malloc(flen);
  int wfd = -1, dfd = -1, rc = -1, r;
  if (staged == NULL || frame == NULL) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  wfd = open(staged, O_RDONLY | O_CLOEXEC);
  dfd = open(a->tmp, O_WRONLY | O_CLOEXEC);
  if (wfd < 0 || dfd < 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot open %s: %s",
            wfd < 0 ? staged : a->tmp, strerror(errno));
    goto done;
  }
  struct stat st;
  if (fstat(wfd, &st) != 0 || st.st_size < WAL_HDR ||
      (uint64_t)(st.st_size - WAL_HDR) % flen != 0) {
    set_err(e, DBS_RESTORE_EINTERNAL, "staged WAL %s has an unexpected size",
            staged);
    goto done;
  }
  for (off_t off = WAL_HDR; off < st.st_size; off += (off_t)flen) {
    if ((r = read_full(wfd, frame, flen, off)) != 0) {
      set_err(e, DBS_RESTORE_ETARGET, "cannot read %s: %s", staged,
              strerror(-r));
      goto done;
    }
    uint32_t pgno = get32(frame, true);
    if (pgno == 0) {
      set_err(e, DBS_RESTORE_ECORRUPT,
              "WAL index %s/%08x has a frame for "
              "page 0",
              a->plan->generation, index);
      goto done;
    }
    if (pgno > last)
      continue;
    if ((r = write_at(dfd, frame + FRAME_HDR, ps, (off_t)(pgno - 1) * ps)) !=
        0) {
      set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", a->tmp,
              strerror(-r));
      goto done;
    }
  }
  if (ftruncate(dfd, (off_t)last * ps) != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot resize %s: %s", a->tmp,
            strerror(errno));
    goto done;
  }
  rc = 0;
done:
  if (dfd >= 0 && close(dfd) != 0 && rc == 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", a->tmp,
            strerror(errno));
    rc = -1;
  }
  if (wfd >= 0)
    close(wfd);
  if (rc == 0 && unlink(staged) != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot remove %s: %s", staged,
            strerror(errno));
    rc = -1;
  }
  free(frame);
  free(staged);
  return rc;
}

/* Applies staged index k: rename it to <tmp>-wal, TRUNCATE checkpoint. */
static int apply_index(struct apply* a, size_t k, struct dbs_restore_error* e) {
  uint32_t index = a->plan->indexes[k].index;
  char* staged = staged_path(a, index);
  char* walp = suffixed(a->tmp, "-wal");
  sqlite3* db = NULL;
  int rc = -1;
  if (staged == NULL || walp == NULL) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  if (rename(staged, walp) != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot rename %s: %s", staged,
            strerror(errno));
    goto done;
  }
  int row[3] = {-1, -1, -1};
  int src = open_db(a->tmp, NULL, &db);
  if (src == SQLITE_OK)
    src = sql_exec_row(db, "PRAGMA wal_checkpoint(TRUNCATE)", row, 3, NULL, 0);
  if (src != SQLITE_OK) {
    set_err(e,
            src == SQLITE_CORRUPT || src == SQLITE_NOTADB
                ? DBS_RESTORE_ECORRUPT
                : DBS_RESTORE_EINTERNAL,
            "cannot apply WAL index %s/%08x: %s", a->plan->generation, index,
            db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
    goto done;
  }
  if (row[0] != 0) {
    set_err(e, DBS_RESTORE_EINTERNAL,
            "truncation checkpoint failed during "
            "restore (%d,%d,%d)",
            row[0], row[1], row[2]);
    goto done;
  }
  src = sqlite3_close(db);
  db = NULL;
  if (src != SQLITE_OK) {
    set_err(e, DBS_RESTORE_EINTERNAL, "cannot close %s: %s", a->tmp,
            sqlite3_errstr(src));
    goto done;
  }
  /* Every frame was valid and the last one a commit, so SQLite must have
   * copied all of them: the file now has exactly that commit's size. */
  struct stat st;
  if (stat(a->tmp, &st) != 0 ||
      (uint64_t)st.st_size != (uint64_t)a->commit[k] * a->page_size) {
    set_err(e, DBS_RESTORE_ECORRUPT,
            "after applying WAL index %s/%08x the "
            "database has %lld bytes, expected %llu",
            a->plan->generation, index, (long long)st.st_size,
            (unsigned long long)a->commit[k] * a->page_size);
    goto done;
  }
  if (stat(walp, &st) == 0 && st.st_size != 0) {
    set_err(e, DBS_RESTORE_EINTERNAL,
            "%s still holds %lld bytes after the "
            "checkpoint",
            walp, (long long)st.st_size);
    goto done;
  }
  rc = 0;
done:
  if (db != NULL)
    sqlite3_close(db);
  free(staged);
  free(walp);
  return rc;
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
  int rc = open_db(path, vfs, &db);
  if (rc == SQLITE_OK)
    rc = sql_exec_row(db, sql, row, 0, res, sizeof(res));
  if (rc != SQLITE_OK) {
    set_err(e,
            rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? DBS_RESTORE_ECORRUPT
                                                        : DBS_RESTORE_EINTERNAL,
            "%s of the restored database failed: %s", sql + 7,
            db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return -1;
  }
  sqlite3_close(db);
  if (strcmp(res, "ok") != 0) {
    set_err(e, DBS_RESTORE_ECORRUPT, "the restored database fails %s: %s (%s)",
            sql + 7, res, what);
    return -1;
  }
  return 0;
}

static int verify(struct apply* a, struct dbs_restore_error* e) {
  char what[64];
  snprintf(what, sizeof(what), "generation %s", a->plan->generation);
  return verify_db(a->tmp, a->o->verify, what, e);
}

static int fsync_path(const char* path, bool dir) {
  int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fsync(fd) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}

static int mkdir_p(const char* dir) {
  char* p = strdup(dir);
  if (p == NULL)
    return -ENOMEM;
  for (char* s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
      int e = errno;
      free(p);
      return -e;
    }
    *s = '/';
  }
  int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -errno : 0;
  free(p);
  return rc;
}

static char* dir_of(const char* path) {
  char* c = strdup(path);
  if (c == NULL)
    return NULL;
  char* d = strdup(dirname(c));
  free(c);
  return d;
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
    char* p = suffixed(output, s);
    if (p == NULL)
      return -ENOMEM;
    if (unlink(p) == 0)
      dbs_log_info("removed %s left by an earlier interrupted restore", p);
    else if (errno != ENOENT)
      rc = -errno;
    free(p);
  }
  /* Staged WAL and LTX files: <base>.tmp-XXXXXXXX-wal and -ltx. */
  char *dir = dir_of(output), *copy = strdup(output);
  if (dir == NULL || copy == NULL) {
    free(dir);
    free(copy);
    return -ENOMEM;
  }
  const char* base = basename(copy);
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
  free(copy);
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
    set_err(e, DBS_RESTORE_ETARGET,
            "cannot restore, output path exists and is not a regular file: "
            "%s",
            output);
    return -1;
  }
  if ((sb.st_size > 0 || !empty_ok) && !o->force) {
    set_err(e, DBS_RESTORE_ETARGET,
            "cannot restore, output path already exists: %s (-force replaces "
            "it once the restore is complete)",
            output);
    return -1;
  }
  for (size_t i = 0; i < 3 && !o->force; i++) {
    char* p = suffixed(output, sidecars[i]);
    bool there = p != NULL && lstat(p, &sb) == 0;
    if (there)
      set_err(e, DBS_RESTORE_ETARGET,
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
      char* p = suffixed(output, sidecars[i]);
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

/* Removes every file this restore may have created beside output. */
static void cleanup_after_failure(struct apply* a) {
  static const char* const sfx[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < 4; i++) {
    char* p = suffixed(a->tmp, sfx[i]);
    if (p != NULL)
      unlink(p);
    free(p);
  }
  for (size_t k = 0; k < a->plan->nindexes; k++) {
    char* p = staged_path(a, a->plan->indexes[k].index);
    if (p != NULL)
      unlink(p);
    free(p);
  }
}

static int restore_snapshot(struct apply* a, struct dbs_restore_error* e) {
  struct dbs_lz4stream* z = NULL;
  char* key =
      dbs_replica_snapshot_key(a->plan->gen_root, a->plan->snapshot.index);
  int rc = -1;
  struct snap_sink ss = {.fd = -1};
  if (key == NULL || dbs_lz4stream_new(SNAPSHOT_OUT_CHUNK, &z) != 0) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  ss.fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (ss.fd < 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s", a->tmp,
            strerror(errno));
    goto done;
  }
  if (fetch(a, key, z, snap_write, &ss, true, e) != 0) {
    if (ss.werr)
      set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", a->tmp,
              strerror(-ss.werr));
    goto done;
  }
  uint64_t size = dbs_lz4stream_total_out(z);
  if (ss.nhead < 100 || memcmp(ss.head, "SQLite format 3", 16) != 0) {
    set_err(e, DBS_RESTORE_ECORRUPT, "snapshot %s is not an SQLite database",
            key);
    goto done;
  }
  uint32_t ps = (uint32_t)ss.head[16] << 8 | ss.head[17];
  if (ps == 1)
    ps = 65536;
  if (ps < 512 || (ps & (ps - 1)) != 0 || size % ps != 0) {
    set_err(e, DBS_RESTORE_ECORRUPT,
            "snapshot %s has a bad page size (%u) "
            "or a partial page (%llu bytes)",
            key, ps, (unsigned long long)size);
    goto done;
  }
  a->page_size = ps;
  /* No fsync here: the one before the rename covers these bytes too, and
   * until then the file is only a .tmp that the next run removes. */
  start_writeback(&ss);
  rc = 0;
done:
  if (ss.fd >= 0 && close(ss.fd) != 0 && rc == 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", a->tmp,
            strerror(errno));
    rc = -1;
  }
  dbs_lz4stream_free(z);
  free(key);
  return rc;
}

static int apply_plan(struct dbs_storage* st,
                      const struct dbs_restore_plan* plan, const char* output,
                      const struct dbs_restore_opts* o,
                      struct dbs_restore_error* e) {
  struct apply a = {.st = st, .plan = plan, .o = o};
  pthread_t* threads = NULL;
  size_t nthreads = 0;
  int rc = -1;
  bool created = false;
  ahead_init(&a.dl);
  a.prog.enabled = o->progress;
  a.prog.tty = isatty(STDERR_FILENO);
  a.prog.start_ns = now_ns();
  a.prog.total_bytes = (uint64_t)plan->total_bytes;
  a.prog.total_objects = 1 + plan->nsegments;
  a.tmp = suffixed(output, ".tmp");
  a.dl.n = plan->nindexes;
  a.dl.prog = &a.prog;
  a.dl.state = calloc(plan->nindexes + 1, sizeof(*a.dl.state));
  a.commit = calloc(plan->nindexes + 1, sizeof(*a.commit));
  char* dir = dir_of(output);
  if (a.tmp == NULL || a.dl.state == NULL || a.commit == NULL || dir == NULL) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  if (check_output(output, o, false, e) != 0)
    goto done;
  int mrc = mkdir_p(dir);
  if (mrc != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot create directory %s: %s", dir,
            strerror(-mrc));
    goto done;
  }
  if (dbs_restore_remove_leftovers(output) != 0) {
    set_err(e, DBS_RESTORE_ETARGET,
            "cannot remove the leftovers of an earlier "
            "restore beside %s: %s",
            output, strerror(errno));
    goto done;
  }
  created = true;
  dbs_log_info("restoring snapshot %s/%08x into %s", plan->generation,
               plan->snapshot.index, a.tmp);
  if (restore_snapshot(&a, e) != 0)
    goto done;

  if (plan->nindexes > 0) {
    /* DBS_RESTORE_APPLY=checkpoint applies each index with SQLite's
     * checkpoint instead, for the test that compares the two. */
    const char* how = getenv("DBS_RESTORE_APPLY");
    bool checkpoint = how != NULL && strcmp(how, "checkpoint") == 0;
    unsigned par = o->parallelism ? o->parallelism : 8;
    a.dl.window = par * 2 > 16 ? par * 2 : 16;
    threads = calloc(par, sizeof(*threads));
    if (threads == NULL) {
      set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
      goto done;
    }
    if (plan->nindexes == 1)
      dbs_log_info("applying WAL index %08x (%zu segment%s)",
                   plan->indexes[0].index, plan->nsegments,
                   plan->nsegments == 1 ? "" : "s");
    else
      dbs_log_info("applying WAL indexes %08x..%08x (%zu segment%s)",
                   plan->indexes[0].index,
                   plan->indexes[plan->nindexes - 1].index, plan->nsegments,
                   plan->nsegments == 1 ? "" : "s");
    for (; nthreads < par; nthreads++)
      if (pthread_create(&threads[nthreads], NULL, worker, &a) != 0)
        break;
    if (nthreads == 0) {
      set_err(e, DBS_RESTORE_EINTERNAL, "cannot start download threads");
      goto done;
    }
    for (size_t k = 0; k < plan->nindexes; k++) {
      if (ahead_wait(&a.dl, k, e) != 0)
        goto done;
      if ((checkpoint ? apply_index(&a, k, e) : apply_index_direct(&a, k, e)) !=
          0)
        goto done;
      ahead_applied(&a.dl, k + 1);
      progress_tick(&a.prog, false);
    }
  }
  if (verify(&a, e) != 0)
    goto done;
  /* No -wal or -shm may survive: SQLite removed them on the last close. */
  char *w = suffixed(a.tmp, "-wal"), *s = suffixed(a.tmp, "-shm");
  if (w != NULL)
    unlink(w);
  if (s != NULL)
    unlink(s);
  free(w);
  free(s);
  int frc = fsync_path(a.tmp, false);
  if (frc != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot fsync %s: %s", a.tmp,
            strerror(-frc));
    goto done;
  }
  if (replace_output(a.tmp, output) != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot rename %s to %s: %s", a.tmp, output,
            strerror(errno));
    goto done;
  }
  if ((frc = fsync_path(dir, true)) != 0)
    dbs_log_warnx("cannot fsync directory %s: %s", dir, strerror(-frc));
  rc = 0;
done:
  if (threads != NULL) {
    ahead_stop(&a.dl);
    for (size_t i = 0; i < nthreads; i++)
      pthread_join(threads[i], NULL);
  }
  progress_tick(&a.prog, false);
  progress_end(&a.prog);
  if (rc != 0 && created && a.tmp != NULL)
    cleanup_after_failure(&a);
  if (rc == 0 && o->progress) {
    double secs = (double)(now_ns() - a.prog.start_ns) / 1e9;
    struct stat fst;
    double size = stat(output, &fst) == 0 ? (double)fst.st_size : 0;
    char sz[32], speed[32];
    dbs_log_info("restored %s: %s, generation %s, snapshot %08x, %zu WAL "
                 "index%s applied, %.2f s, %s/s",
                 output, fmt_size(size, sz, sizeof(sz)), plan->generation,
                 plan->snapshot.index, plan->nindexes,
                 plan->nindexes == 1 ? "" : "es", secs,
                 fmt_size(secs > 0 ? size / secs : 0, speed, sizeof(speed)));
  }
  free(threads);
  free(a.tmp);
  free(a.dl.state);
  free(a.commit);
  free(dir);
  ahead_destroy(&a.dl);
  return rc;
}

/* ---- the v0.3 format ------------------------------------------------- */

struct v3_state {
  struct dbs_replica_listing listing;
  long gen;
  /* Read as litestream 0.5 reads v0.3 generations (LTX files share the
   * location): every generation at once (RestoreV3), not 0.3.13's one. */
  bool ls05;
  int64_t created_ns, updated_ns; /* over what this state may restore */
  struct dbs_restore_plan plan;
  bool planned;
};

static void v3_free(void* p) {
  struct v3_state* s = p;
  if (s == NULL)
    return;
  dbs_replica_listing_free(&s->listing);
  dbs_restore_plan_free(&s->plan);
  free(s);
}

/*
 * Lists the v0.3 generations. ls05: litestream 0.5's rules (a location
 * 0.5 has written): the state exists when any v0.3 object does, its bounds
 * span every generation (TimeBoundsV3). Else 0.3.13's: the generation
 * CalcRestoreTarget picks for t, or no state.
 */
static int v3_find_mode(struct dbs_storage* st, const char* path,
                        const struct dbs_restore_target* t, bool ls05,
                        void** state, int64_t* updated_ns,
                        struct dbs_restore_error* e) {
  *state = NULL;
  struct v3_state* s = calloc(1, sizeof(*s));
  if (s == NULL) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  int rc = dbs_replica_load(st, path, &s->listing);
  if (rc != 0) {
    set_err(e, storage_result(rc), "cannot fetch generations from %s: %s",
            st->ops->describe(st), st->error[0] ? st->error : strerror(-rc));
    free(s);
    return -1;
  }
  s->ls05 = ls05;
  if (ls05) {
    s->gen = -1;
    dbs_replica_bounds(&s->listing, &s->created_ns, &s->updated_ns);
    if (s->updated_ns == 0) {
      v3_free(s);
      return 0;
    }
  } else {
    s->gen = dbs_replica_choose(&s->listing, t);
    if (s->gen < 0) {
      v3_free(s);
      return 0;
    }
    s->created_ns = s->listing.gens[s->gen].created_ns;
    s->updated_ns = s->listing.gens[s->gen].updated_ns;
  }
  *updated_ns = s->updated_ns;
  *state = s;
  return 0;
}

static int v3_find(struct dbs_storage* st, const char* path,
                   const struct dbs_restore_target* t, void** state,
                   int64_t* updated_ns, struct dbs_restore_error* e) {
  return v3_find_mode(st, path, t, false, state, updated_ns, e);
}

static int v3_plan(void* p, const struct dbs_restore_target* t,
                   struct dbs_restore_error* e) {
  struct v3_state* s = p;
  char msg[sizeof(e->msg)];
  int rc;
  if (s->ls05) {
    size_t g = 0;
    rc = dbs_replica_plan_v05(&s->listing, t, &g, &s->plan, msg, sizeof(msg));
    if (rc == 0)
      s->gen = (long)g;
  } else {
    rc = dbs_replica_plan(&s->listing, &s->listing.gens[s->gen], t, &s->plan,
                          msg, sizeof(msg));
  }
  if (rc == 0) {
    s->planned = true;
    return 0;
  }
  /* A point the generation does not reach (no snapshot at or before it,
   * or an index past its highest) is "no matching backup", not damage.
   * Without a target every snapshot qualifies, so a boot never gets here
   * with NO_BACKUP; a generation without snapshots stays corrupt (as does
   * a location whose v0.3 generations hold WAL segments but no snapshot,
   * litestream 0.5's "no snapshots available"). */
  enum dbs_restore_result r = DBS_RESTORE_ECORRUPT;
  if (rc == -ENOMEM)
    r = DBS_RESTORE_EINTERNAL;
  else if (s->ls05 ? rc == -ENOENT && t->has_timestamp
                   : rc == -ERANGE || (rc == -ENOENT &&
                                       s->listing.gens[s->gen].nsnapshots > 0))
    r = DBS_RESTORE_NO_BACKUP;
  set_err(e, r, "%s", msg);
  return -1;
}

static int v3_apply(void* p, struct dbs_storage* st, const char* output,
                    const struct dbs_restore_opts* o,
                    struct dbs_restore_error* e) {
  struct v3_state* s = p;
  return apply_plan(st, &s->plan, output, o, e);
}

static void v3_print(void* p, FILE* f) {
  struct v3_state* s = p;
  const struct dbs_restore_plan* pl = &s->plan;
  fprintf(f, "Restore plan (litestream v0.3 generation %s):\n", pl->generation);
  fprintf(f, "  snapshot %08x (%lld bytes)\n", pl->snapshot.index,
          (long long)pl->snapshot.size);
  for (size_t i = 0; i < pl->nsegments; i++)
    fprintf(f, "  wal %08x_%08x (%lld bytes)\n", pl->segments[i].index,
            pl->segments[i].offset, (long long)pl->segments[i].size);
}

static void v3_summarize(void* p, struct dbs_restore_summary* out) {
  struct v3_state* s = p;
  const struct dbs_restore_plan* pl = &s->plan;
  uint32_t last = pl->nindexes > 0 ? pl->indexes[pl->nindexes - 1].index
                                   : pl->snapshot.index;
  snprintf(out->format, sizeof(out->format), "litestream-v0.3");
  snprintf(out->point, sizeof(out->point),
           "generation %s, snapshot index %u, WAL up to index %u",
           pl->generation, pl->snapshot.index, last);
  out->updated_ns = s->updated_ns;
  out->bytes = pl->total_bytes;
  out->objects = 1 + pl->nsegments;
}

const struct dbs_restore_format dbs_restore_format_v3 = {
    .name = "litestream-v0.3",
    .find = v3_find,
    .plan = v3_plan,
    .apply = v3_apply,
    .free = v3_free,
    .print = v3_print,
    .summarize = v3_summarize,
};

/* ---- the v0.5 (LTX) format ------------------------------------------- */

bool dbs_restore_storage_is_s3(struct dbs_storage* st) {
  return strncmp(st->ops->describe(st), "s3://", 5) == 0;
}

static bool storage_is_s3(struct dbs_storage* st) {
  return dbs_restore_storage_is_s3(st);
}

bool dbs_restore_prefers_v3(int64_t v3_updated_ns, int64_t ltx_updated_ns) {
  return v3_updated_ns > ltx_updated_ns;
}

struct ltx_state {
  struct dbs_ltx_listing l;
  struct dbs_ltx_plan plan;
};

static void ltx_free(void* p) {
  struct ltx_state* s = p;
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
  struct ltx_state* s = calloc(1, sizeof(*s));
  if (s == NULL) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  int rc = dbs_ltx_load(st, path, storage_is_s3(st), &s->l);
  if (rc != 0) {
    set_err(e, storage_result(rc), "cannot list the LTX levels of %s: %s",
            st->ops->describe(st), st->error[0] ? st->error : strerror(-rc));
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
  struct ltx_state* s = p;
  if (s->l.n == 0) {
    set_err(e, DBS_RESTORE_ECORRUPT,
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
  set_err(e,
          rc == -ENOENT   ? DBS_RESTORE_NO_BACKUP
          : rc == -ENOMEM ? DBS_RESTORE_EINTERNAL
                          : DBS_RESTORE_ECORRUPT,
          "%s", msg);
  return -1;
}

/* Consecutive pages are written with one pwrite of up to this much. */
#define LTX_WRITE_BUF (256u << 10)

/* Applies the plan's files to the output in order. */
struct ltx_apply {
  struct dbs_storage* st;
  const struct dbs_ltx_file* file; /* being decoded */
  struct dbs_ltx_dec* dec;
  struct progress prog;
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
  /* S3: files after the first are downloaded ahead by workers into
   * <tmp>-XXXXXXXX-ltx (plan position) while the main thread decodes. */
  const struct dbs_ltx_plan* plan;
  const char* tmp;
  struct ahead dl; /* one position per plan file; state NULL: none */
};

static int ltx_flush(struct ltx_apply* a) {
  if (a->buf_n == 0)
    return 0;
  size_t n = (size_t)a->buf_n * a->page_size;
  int rc = write_at(a->fd, a->buf, n, (off_t)(a->buf_pgno - 1) * a->page_size);
  a->buf_n = 0;
  if (rc != 0) {
    a->werr = rc;
    return rc;
  }
  a->written += n;
  if (a->written - a->flushed >= WRITEBACK_WINDOW) {
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
  atomic_fetch_add(&a->prog.bytes, len);
  progress_tick(&a->prog, false);
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
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
  else if (rc == DBS_STORAGE_ENOTFOUND)
    set_err(e, DBS_RESTORE_ECORRUPT,
            "LTX file %s was listed but is missing: %s", name, st->error);
  else if (rc == DBS_STORAGE_ECORRUPT)
    set_err(e, DBS_RESTORE_ECORRUPT, "corrupt object %s", name);
  else
    set_err(e, storage_result(rc), "cannot download %s from %s: %s", name,
            st->ops->describe(st), st->error[0] ? st->error : strerror(-rc));
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
    path = staged_ltx(a->tmp, k);
    int rerr = 0;
    rc = path ? feed_staged(a, path, &rerr) : -ENOMEM;
    if (rerr != 0) {
      set_err(e, DBS_RESTORE_ETARGET, "cannot read %s: %s", path,
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
      atomic_fetch_add(&a->prog.objects, 1);
    return 0;
  }
  if (a->werr != 0)
    set_err(e, DBS_RESTORE_ETARGET, "cannot write the restored database: %s",
            strerror(-a->werr));
  else if (rc == DBS_LTX_ELEGACY || rc == DBS_LTX_ECORRUPT)
    set_err(e, DBS_RESTORE_ECORRUPT, "corrupt LTX file %s: %s", name,
            dbs_ltx_dec_error(a->dec));
  else if (rc == -EBADMSG)
    set_err(e, DBS_RESTORE_ECORRUPT, "corrupt LTX file %s: %s", name, a->why);
  else
    download_err(a->st, rc, name, e);
  return -1;
}

/* Staged download: bytes to the file, counted for progress. */
struct stage_sink {
  int fd;
  struct progress* prog;
  int werr;
};

static int stage_write(void* arg, const uint8_t* buf, size_t len) {
  struct stage_sink* s = arg;
  atomic_fetch_add(&s->prog->bytes, len);
  int rc = write_all(s->fd, buf, len);
  if (rc != 0)
    s->werr = rc;
  return rc;
}

static int ltx_download(struct ltx_apply* a, size_t k,
                        struct dbs_restore_error* e) {
  const struct dbs_ltx_file* f = a->plan->files[k];
  char name[600];
  obj_name(a->st, f->key, name, sizeof(name));
  char* path = staged_ltx(a->tmp, k);
  if (path == NULL) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  struct stage_sink ss = {.prog = &a->prog};
  ss.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (ss.fd < 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s", path,
            strerror(errno));
    free(path);
    return -1;
  }
  int rc = a->st->ops->get(a->st, f->key, stage_write, &ss);
  if (close(ss.fd) != 0 && rc == 0 && ss.werr == 0)
    ss.werr = -errno;
  if (rc == 0 && ss.werr == 0) {
    atomic_fetch_add(&a->prog.objects, 1);
    free(path);
    return 0;
  }
  if (ss.werr != 0)
    set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", path,
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
  while (ahead_take(&a->dl, &k))
    ahead_done(&a->dl, k, ltx_download(a, k, &e), &e);
  return NULL;
}

/* Removes what the LTX apply may have left beside output. */
static void ltx_cleanup(const char* tmp) {
  static const char* const sfx[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < 4; i++) {
    char* p = suffixed(tmp, sfx[i]);
    if (p != NULL)
      unlink(p);
    free(p);
  }
}

static int ltx_apply_plan(void* p, struct dbs_storage* st, const char* output,
                          const struct dbs_restore_opts* o,
                          struct dbs_restore_error* e) {
  struct ltx_state* s = p;
  const struct dbs_ltx_plan* plan = &s->plan;
  struct ltx_apply a = {.st = st, .fd = -1, .plan = plan};
  pthread_t* threads = NULL;
  size_t nthreads = 0;
  int rc = -1;
  bool created = false;
  ahead_init(&a.dl);
  a.prog.enabled = o->progress;
  a.prog.tty = isatty(STDERR_FILENO);
  a.prog.start_ns = now_ns();
  a.prog.total_bytes = (uint64_t)plan->total_bytes;
  a.prog.total_objects = plan->n;
  char* tmp = suffixed(output, ".tmp");
  char* dir = dir_of(output);
  a.tmp = tmp;
  if (tmp == NULL || dir == NULL || dbs_ltx_dec_new(&a.dec) != 0) {
    set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  if (check_output(output, o, true, e) != 0)
    goto done;
  int mrc = mkdir_p(dir);
  if (mrc != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot create directory %s: %s", dir,
            strerror(-mrc));
    goto done;
  }
  if (dbs_restore_remove_leftovers(output) != 0) {
    set_err(e, DBS_RESTORE_ETARGET,
            "cannot remove the leftovers of an earlier restore beside %s: %s",
            output, strerror(errno));
    goto done;
  }
  a.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (a.fd < 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s", tmp,
            strerror(errno));
    goto done;
  }
  created = true;
  const struct dbs_ltx_file* last = plan->files[plan->n - 1];
  dbs_log_info("restoring LTX TXIDs %016llx-%016llx from %zu file(s) of %s "
               "into %s",
               (unsigned long long)plan->files[0]->min_txid,
               (unsigned long long)last->max_txid, plan->n,
               st->ops->describe(st), tmp);
  /* S3: download ahead in parallel (a round trip per object otherwise);
   * a file replica is read in place. */
  unsigned par = o->parallelism ? o->parallelism : 8;
  if (storage_is_s3(st) && plan->n > 1) {
    a.dl.n = plan->n;
    a.dl.window = par * 2 > 16 ? par * 2 : 16;
    a.dl.next = 1;
    a.dl.prog = &a.prog;
    a.dl.state = calloc(plan->n, sizeof(*a.dl.state));
    threads = calloc(par, sizeof(*threads));
    if (a.dl.state == NULL || threads == NULL) {
      set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
      goto done;
    }
    for (; nthreads < par; nthreads++)
      if (pthread_create(&threads[nthreads], NULL, ltx_worker, &a) != 0)
        break;
    if (nthreads == 0) {
      set_err(e, DBS_RESTORE_EINTERNAL, "cannot start download threads");
      goto done;
    }
  }
  for (size_t i = 0; i < plan->n; i++) {
    if (a.dl.state != NULL && i > 0 && ahead_wait(&a.dl, i, e) != 0)
      goto done;
    if (ltx_apply_file(&a, i, e) != 0)
      goto done;
    if (a.dl.state != NULL)
      ahead_applied(&a.dl, i + 1);
  }
  /* Every page 1..Commit but the lock page must have come from some file;
   * the lock page stays a hole, which reads as zeros. */
  uint32_t lock = dbs_ltx_lock_pgno(a.page_size);
  for (uint32_t pg = 1; pg <= a.commit; pg++)
    if (pg != lock && (a.have[pg / 8] & (1u << (pg % 8))) == 0) {
      set_err(e, DBS_RESTORE_ECORRUPT,
              "page %u of the database (commit %u pages) is in no file of "
              "the plan ending at %s: the backup is incomplete",
              pg, a.commit, last->key);
      goto done;
    }
  if (ftruncate(a.fd, (off_t)a.commit * a.page_size) != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot resize %s: %s", tmp,
            strerror(errno));
    goto done;
  }
  if (close(a.fd) != 0) {
    a.fd = -1;
    set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", tmp,
            strerror(errno));
    goto done;
  }
  a.fd = -1;
  char what[64];
  snprintf(what, sizeof(what), "LTX TXID %016llx",
           (unsigned long long)last->max_txid);
  if (verify_db(tmp, o->verify, what, e) != 0)
    goto done;
  char *w = suffixed(tmp, "-wal"), *sh = suffixed(tmp, "-shm");
  if (w != NULL)
    unlink(w);
  if (sh != NULL)
    unlink(sh);
  free(w);
  free(sh);
  int frc = fsync_path(tmp, false);
  if (frc != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot fsync %s: %s", tmp, strerror(-frc));
    goto done;
  }
  if (replace_output(tmp, output) != 0) {
    set_err(e, DBS_RESTORE_ETARGET, "cannot rename %s to %s: %s", tmp, output,
            strerror(errno));
    goto done;
  }
  if ((frc = fsync_path(dir, true)) != 0)
    dbs_log_warnx("cannot fsync directory %s: %s", dir, strerror(-frc));
  rc = 0;
done:
  if (threads != NULL) {
    ahead_stop(&a.dl);
    for (size_t i = 0; i < nthreads; i++)
      pthread_join(threads[i], NULL);
    for (size_t k = 1; k < plan->n; k++) {
      char* sp = staged_ltx(tmp, k);
      if (sp != NULL)
        unlink(sp);
      free(sp);
    }
  }
  if (a.fd >= 0)
    close(a.fd);
  progress_tick(&a.prog, false);
  progress_end(&a.prog);
  if (rc != 0 && created)
    ltx_cleanup(tmp);
  if (rc == 0 && o->progress) {
    double secs = (double)(now_ns() - a.prog.start_ns) / 1e9;
    double size = (double)a.commit * a.page_size;
    char sz[32], speed[32];
    dbs_log_info("restored %s: %s, LTX TXID %016llx, %zu file%s, %.2f s, "
                 "%s/s",
                 output, fmt_size(size, sz, sizeof(sz)),
                 (unsigned long long)last->max_txid, plan->n,
                 plan->n == 1 ? "" : "s", secs,
                 fmt_size(secs > 0 ? size / secs : 0, speed, sizeof(speed)));
  }
  dbs_ltx_dec_free(a.dec);
  free(threads);
  free(a.dl.state);
  ahead_destroy(&a.dl);
  free(a.have);
  free(a.buf);
  free(tmp);
  free(dir);
  return rc;
}

static void fmt_utc(int64_t ns, char* buf, size_t len);

/* litestream 0.5's dry-run table. */
static void ltx_print(void* p, FILE* f) {
  struct ltx_state* s = p;
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
    fmt_utc(x->time_ns, ts, sizeof(ts));
    fprintf(f, "%-5d  %016llx-%016llx.ltx  %016llx  %016llx  %-10lld  %s\n",
            x->level, (unsigned long long)x->min_txid,
            (unsigned long long)x->max_txid, (unsigned long long)x->min_txid,
            (unsigned long long)x->max_txid, (long long)x->size, ts);
  }
}

static void ltx_summarize(void* p, struct dbs_restore_summary* out) {
  struct ltx_state* s = p;
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

/* ---- choosing among replicas ----------------------------------------- */

/* The newest v0.3 snapshot time <= ts over all generations, 0 if none. */
static int64_t v3_best_snapshot_ns(const struct v3_state* s, int64_t ts) {
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
static int64_t ltx_best_snapshot_ns(const struct ltx_state* s, int64_t ts) {
  int64_t best = 0;
  for (size_t i = 0; i < s->l.n; i++) {
    const struct dbs_ltx_file* f = &s->l.files[i];
    if (f->level == DBS_LTX_SNAPSHOT_LEVEL && f->time_ns < ts)
      best = f->time_ns; /* list order, as litestream takes the last */
  }
  return best;
}

static void fmt_utc(int64_t ns, char* buf, size_t len) {
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
                      const struct v3_state* v3, int64_t v3_updated,
                      const struct ltx_state* lx, int64_t ltx_updated,
                      const struct dbs_restore_target* t) {
  bool use_v3;
  char a[32], b[32];
  if (t->has_timestamp) {
    int64_t vs = v3_best_snapshot_ns(v3, t->timestamp_ns);
    int64_t ls = ltx_best_snapshot_ns(lx, t->timestamp_ns);
    use_v3 = vs != 0 && (ls == 0 || vs > ls);
    fmt_utc(vs, a, sizeof(a));
    fmt_utc(ls, b, sizeof(b));
    dbs_log_info("replica %s holds both a v0.3 backup (generations/) and a "
                 "v0.5 LTX backup: restoring %s, as litestream 0.5 does (best "
                 "snapshot before the timestamp: v0.3 %s, LTX %s)",
                 src->name ? src->name : "?",
                 use_v3 ? "the v0.3 generations" : "the LTX files",
                 vs ? a : "none", ls ? b : "none");
    return use_v3;
  }
  use_v3 = dbs_restore_prefers_v3(v3_updated, ltx_updated);
  fmt_utc(v3_updated, a, sizeof(a));
  fmt_utc(ltx_updated, b, sizeof(b));
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
static bool ltx_time_in_bounds(const struct ltx_state* lx,
                               const struct v3_state* v3, int64_t ts) {
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
  struct ltx_state* lx;
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
        set_err(&j->err, DBS_RESTORE_ECORRUPT, "LTX file %s: %s", f->key,
                why[0] ? why : "shorter than an LTX header");
      else
        set_err(&j->err, storage_result(rc), "cannot read %s from %s: %s",
                f->key, j->st->ops->describe(j->st),
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
static int ltx_header_times(struct dbs_storage* st, struct ltx_state* lx,
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
  if (ltx_find(src->storage, src->path, t, &lx, &lu, e) != 0)
    return -1;
  bool v3_flags = t->generation != NULL || t->index >= 0;
  /* Where litestream 0.5 has written (LTX files exist), its rules decide
   * everything, v0.3 generations included; -generation and -index, which
   * 0.5 does not have, keep 0.3.13's. A v0.3-only location keeps 0.3.13's
   * rules. */
  bool ls05 = lx != NULL && !v3_flags;
  if (v3_find_mode(src->storage, src->path, t, ls05, &v3, &vu, e) != 0) {
    ltx_free(lx);
    return -1;
  }
  if (lx != NULL && v3 == NULL && v3_flags) {
    set_err(e, DBS_RESTORE_EUSAGE,
            "-generation and -index select a litestream v0.3 backup, but "
            "%s holds only a litestream 0.5 (LTX) backup: use -txid or "
            "-timestamp",
            src->storage->ops->describe(src->storage));
    ltx_free(lx);
    return -1;
  }
  if (t->txid != 0 && lx == NULL && v3 != NULL) {
    set_err(e, DBS_RESTORE_EUSAGE,
            "-txid selects a litestream 0.5 (LTX) backup, but %s holds only "
            "litestream v0.3 generations: use -generation/-index or "
            "-timestamp",
            src->storage->ops->describe(src->storage));
    v3_free(v3);
    return -1;
  }
  if (lx != NULL && t->has_timestamp && o->url_mode && !v3_flags &&
      !ltx_time_in_bounds(lx, v3, t->timestamp_ns)) {
    /* litestream 0.5's URL mode (CalcRestoreTarget): "timestamp does not
     * exist", exit 1. */
    ltx_free(lx);
    v3_free(v3);
    return 0;
  }
  if (lx != NULL && t->has_timestamp && storage_is_s3(src->storage) &&
      ltx_header_times(src->storage, lx, o, e) != 0) {
    ltx_free(lx);
    v3_free(v3);
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
    ltx_free(lx);
    *fmt = &dbs_restore_format_v3;
    *state = v3;
    *updated = vu;
  } else {
    v3_free(v3);
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
    set_err(e, DBS_RESTORE_NO_BACKUP, "no matching backups found");
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
      set_err(e, DBS_RESTORE_EUSAGE, "file replica path required");
      return -EINVAL;
    }
    rc = dbs_storage_file_open(r->path, out);
    if (rc != 0)
      set_err(e, DBS_RESTORE_EINTERNAL, "cannot open %s: %s", r->path,
              strerror(-rc));
    return rc;
  case DBS_REPLICA_S3: {
    /* The session token comes with r (litestream_config_apply_env). */
    struct dbs_s3_options so = {.timeout_ms = o->timeout_ms,
                                .parallelism = o->parallelism};
    rc = dbs_storage_s3_open(r, &so, out);
    *path_out = r->path ? r->path : "";
    if (rc != 0)
      set_err(e, rc == -ENOMEM ? DBS_RESTORE_EINTERNAL : DBS_RESTORE_ESTORAGE,
              "cannot use s3 replica %s: %s", r->name ? r->name : "s3",
              rc == -EINVAL ? "invalid bucket, endpoint or credentials"
                            : strerror(-rc));
    return rc;
  }
  case DBS_REPLICA_OTHER:
    break;
  }
  set_err(e, DBS_RESTORE_UNSUPPORTED_TYPE,
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
