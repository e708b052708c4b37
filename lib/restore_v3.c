/*
 * The litestream v0.3 format: the snapshot into <out>.tmp, WAL indexes
 * downloaded and checked in parallel and applied in order (their frames
 * copied as SQLite's checkpoint would copy them), then the shared finish.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "lz4stream.h"
#include "restore_internal.h"

/* Decoded bytes reach write() in chunks of this size. Small enough to stay
 * in the L2 cache between the decode and the kernel's copy into the page
 * cache: measured on a 1 GB snapshot, 128 KiB chunks take a third of the
 * CPU time of 4 MiB ones (bench/restore-results.txt). */
#define SNAPSHOT_OUT_CHUNK (128u << 10)
#define WAL_OUT_CHUNK (128u << 10)
#define WAL_HDR 32
#define FRAME_HDR 24

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

struct apply {
  struct dbs_storage* st;
  const struct dbs_restore_plan* plan;
  const struct dbs_restore_opts* o;
  struct dbs_restore_out out; /* out.tmp: the database being written */
  uint32_t page_size;
  struct dbs_restore_ahead dl; /* the worker pool: one position per index */
  uint32_t* commit;            /* db size in pages after each index */
};

static char* staged_path(const struct apply* a, uint32_t index) {
  char* p = NULL;
  if (asprintf(&p, "%s-%08x-wal", a->out.tmp, index) < 0)
    return NULL;
  return p;
}

/* Counts compressed bytes for progress, then decodes. */
struct count_sink {
  struct dbs_lz4stream* z;
  struct dbs_restore_progress* prog;
  bool main_thread;
};

static int count_write(void* arg, const uint8_t* buf, size_t len) {
  struct count_sink* c = arg;
  atomic_fetch_add(&c->prog->bytes, len);
  if (c->main_thread)
    dbs_restore_progress_tick(c->prog, false);
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
  int rc = dbs_restore_write_all(s->fd, buf, len);
  if (rc != 0) {
    s->werr = rc;
    return rc;
  }
  s->written += len;
  if (s->written - s->flushed >= DBS_RESTORE_WRITEBACK_WINDOW)
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
  int rc = dbs_restore_write_all(s->fd, buf, len);
  if (rc != 0)
    s->werr = rc;
  return rc;
}

/* Fetches key through z into sink; fills e on failure. */
static int fetch(struct apply* a, const char* key, struct dbs_lz4stream* z,
                 dbs_storage_sink sink, void* arg, bool main_thread,
                 struct dbs_restore_error* e) {
  struct count_sink cs = {z, &a->out.prog, main_thread};
  dbs_lz4stream_reset(z, sink, arg);
  int rc = a->st->ops->get(a->st, key, count_write, &cs);
  if (rc == 0)
    rc = dbs_lz4stream_finish(z);
  if (rc == 0) {
    atomic_fetch_add(&a->out.prog.objects, 1);
    return 0;
  }
  if (rc == DBS_LZ4STREAM_EAGE)
    dbs_restore_set_err(
        e, DBS_RESTORE_EENCRYPTED,
        "%s is age-encrypted: encrypted "
        "replicas are not supported by the native restore (remove the "
        "age: setting or restore with litestream)",
        key);
  else if (rc == DBS_LZ4STREAM_ECORRUPT)
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT, "corrupt object %s: %s", key,
                        dbs_lz4stream_error(z));
  else if (rc == DBS_STORAGE_ENOTFOUND)
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                        "object %s was listed but is missing: "
                        "%s",
                        key, a->st->error);
  else if (rc == -EBADMSG || rc == DBS_STORAGE_ECORRUPT)
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT, "corrupt object %s", key);
  else
    dbs_restore_set_err(e, dbs_restore_storage_result(rc),
                        "cannot download %s from %s: %s", key,
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
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s", path,
                        strerror(errno));
    goto done;
  }
  uint64_t pos = 0;
  for (size_t i = 0; i < pi->n; i++) {
    const struct dbs_replica_segment* s = &a->plan->segments[pi->first + i];
    free(key);
    key = dbs_replica_segment_key(a->plan->gen_root, s->index, s->offset);
    if (key == NULL) {
      dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
      goto done;
    }
    if (s->offset != pos) {
      dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                          "WAL offset gap: %s starts at offset "
                          "%u but the segments before it end at %llu",
                          key, s->offset, (unsigned long long)pos);
      goto done;
    }
    struct wal_sink ws = {fd, &w, 0, false};
    uint64_t frames_before = w.nframes;
    if (fetch(a, key, z, wal_write, &ws, false, e) != 0) {
      if (ws.bad)
        dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                            "invalid WAL data in %s: %s", key, w.err);
      else if (ws.werr)
        dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", path,
                            strerror(-ws.werr));
      goto done;
    }
    pos += dbs_lz4stream_total_out(z);
    if (w.nframe != 0 || pos < WAL_HDR) {
      dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
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
      dbs_restore_set_err(
          e, DBS_RESTORE_ECORRUPT,
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
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT, "WAL index %s/%08x %s",
                        a->plan->generation, pi->index,
                        w.nframes == 0 ? "holds no frames"
                                       : "does not end with a commit frame");
    goto done;
  }
  a->commit[k] = w.last_commit;
  rc = 0;
done:
  if (fd >= 0 && close(fd) != 0 && rc == 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s", path,
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
    dbs_restore_set_err(&e, DBS_RESTORE_EINTERNAL, "out of memory");
    dbs_restore_ahead_fail(&a->dl, &e);
  }
  size_t k;
  while (ok && dbs_restore_ahead_take(&a->dl, &k))
    dbs_restore_ahead_done(&a->dl, k, download_index(a, k, z, &e), &e);
  dbs_lz4stream_free(z);
  return NULL;
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
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  wfd = open(staged, O_RDONLY | O_CLOEXEC);
  dfd = open(a->out.tmp, O_WRONLY | O_CLOEXEC);
  if (wfd < 0 || dfd < 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot open %s: %s",
                        wfd < 0 ? staged : a->out.tmp, strerror(errno));
    goto done;
  }
  struct stat st;
  if (fstat(wfd, &st) != 0 || st.st_size < WAL_HDR ||
      (uint64_t)(st.st_size - WAL_HDR) % flen != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL,
                        "staged WAL %s has an unexpected size", staged);
    goto done;
  }
  for (off_t off = WAL_HDR; off < st.st_size; off += (off_t)flen) {
    if ((r = read_full(wfd, frame, flen, off)) != 0) {
      dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot read %s: %s", staged,
                          strerror(-r));
      goto done;
    }
    uint32_t pgno = get32(frame, true);
    if (pgno == 0) {
      dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                          "WAL index %s/%08x has a frame for "
                          "page 0",
                          a->plan->generation, index);
      goto done;
    }
    if (pgno > last)
      continue;
    if ((r = dbs_restore_write_at(dfd, frame + FRAME_HDR, ps,
                                  (off_t)(pgno - 1) * ps)) != 0) {
      dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s",
                          a->out.tmp, strerror(-r));
      goto done;
    }
  }
  if (ftruncate(dfd, (off_t)last * ps) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot resize %s: %s",
                        a->out.tmp, strerror(errno));
    goto done;
  }
  rc = 0;
done:
  if (dfd >= 0 && close(dfd) != 0 && rc == 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s",
                        a->out.tmp, strerror(errno));
    rc = -1;
  }
  if (wfd >= 0)
    close(wfd);
  if (rc == 0 && unlink(staged) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot remove %s: %s", staged,
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
  char* walp = dbs_restore_suffixed(a->out.tmp, "-wal");
  sqlite3* db = NULL;
  int rc = -1;
  if (staged == NULL || walp == NULL) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  if (rename(staged, walp) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot rename %s: %s", staged,
                        strerror(errno));
    goto done;
  }
  int row[3] = {-1, -1, -1};
  int src = dbs_restore_open_db(a->out.tmp, NULL, &db);
  if (src == SQLITE_OK)
    src = dbs_restore_sql_row(db, "PRAGMA wal_checkpoint(TRUNCATE)", row, 3,
                              NULL, 0);
  if (src != SQLITE_OK) {
    dbs_restore_set_err(
        e,
        src == SQLITE_CORRUPT || src == SQLITE_NOTADB ? DBS_RESTORE_ECORRUPT
                                                      : DBS_RESTORE_EINTERNAL,
        "cannot apply WAL index %s/%08x: %s", a->plan->generation, index,
        db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
    goto done;
  }
  if (row[0] != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL,
                        "truncation checkpoint failed during "
                        "restore (%d,%d,%d)",
                        row[0], row[1], row[2]);
    goto done;
  }
  src = sqlite3_close(db);
  db = NULL;
  if (src != SQLITE_OK) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "cannot close %s: %s",
                        a->out.tmp, sqlite3_errstr(src));
    goto done;
  }
  /* Every frame was valid and the last one a commit, so SQLite must have
   * copied all of them: the file now has exactly that commit's size. */
  struct stat st;
  if (stat(a->out.tmp, &st) != 0 ||
      (uint64_t)st.st_size != (uint64_t)a->commit[k] * a->page_size) {
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                        "after applying WAL index %s/%08x the "
                        "database has %lld bytes, expected %llu",
                        a->plan->generation, index, (long long)st.st_size,
                        (unsigned long long)a->commit[k] * a->page_size);
    goto done;
  }
  if (stat(walp, &st) == 0 && st.st_size != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL,
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

/* Removes the staged WAL files of a failed apply. */
static void remove_staged(struct apply* a) {
  for (size_t k = 0; k < a->plan->nindexes; k++) {
    char* p = staged_path(a, a->plan->indexes[k].index);
    if (p != NULL)
      unlink(p);
    free(p);
  }
}

/* Downloads and decodes the plan's snapshot into <tmp>, which it creates,
 * and takes the page size from its header. */
static int restore_snapshot(struct apply* a, struct dbs_restore_error* e) {
  struct dbs_lz4stream* z = NULL;
  char* key =
      dbs_replica_snapshot_key(a->plan->gen_root, a->plan->snapshot.index);
  int rc = -1;
  struct snap_sink ss = {.fd = -1};
  if (key == NULL || dbs_lz4stream_new(SNAPSHOT_OUT_CHUNK, &z) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  ss.fd = open(a->out.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (ss.fd < 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot create %s: %s",
                        a->out.tmp, strerror(errno));
    goto done;
  }
  if (fetch(a, key, z, snap_write, &ss, true, e) != 0) {
    if (ss.werr)
      dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s",
                          a->out.tmp, strerror(-ss.werr));
    goto done;
  }
  uint64_t size = dbs_lz4stream_total_out(z);
  if (ss.nhead < 100 || memcmp(ss.head, "SQLite format 3", 16) != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
                        "snapshot %s is not an SQLite database", key);
    goto done;
  }
  uint32_t ps = (uint32_t)ss.head[16] << 8 | ss.head[17];
  if (ps == 1)
    ps = 65536;
  if (ps < 512 || (ps & (ps - 1)) != 0 || size % ps != 0) {
    dbs_restore_set_err(e, DBS_RESTORE_ECORRUPT,
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
    dbs_restore_set_err(e, DBS_RESTORE_ETARGET, "cannot write %s: %s",
                        a->out.tmp, strerror(errno));
    rc = -1;
  }
  dbs_lz4stream_free(z);
  free(key);
  return rc;
}

/* Applies the plan's WAL indexes in order while workers download the
 * next ones. */
static int apply_indexes(struct apply* a, struct dbs_restore_error* e) {
  const struct dbs_restore_plan* plan = a->plan;
  /* DBS_RESTORE_APPLY=checkpoint applies each index with SQLite's
   * checkpoint instead, for the test that compares the two. */
  const char* how = getenv("DBS_RESTORE_APPLY");
  bool checkpoint = how != NULL && strcmp(how, "checkpoint") == 0;
  if (plan->nindexes == 1)
    dbs_log_info("applying WAL index %08x (%zu segment%s)",
                 plan->indexes[0].index, plan->nsegments,
                 plan->nsegments == 1 ? "" : "s");
  else
    dbs_log_info("applying WAL indexes %08x..%08x (%zu segment%s)",
                 plan->indexes[0].index,
                 plan->indexes[plan->nindexes - 1].index, plan->nsegments,
                 plan->nsegments == 1 ? "" : "s");
  if (dbs_restore_ahead_start(&a->dl, plan->nindexes, 0, a->o->parallelism,
                              &a->out.prog, worker, a, e) != 0)
    return -1;
  for (size_t k = 0; k < plan->nindexes; k++) {
    if (dbs_restore_ahead_wait(&a->dl, k, e) != 0)
      return -1;
    if ((checkpoint ? apply_index(a, k, e) : apply_index_direct(a, k, e)) != 0)
      return -1;
    dbs_restore_ahead_applied(&a->dl, k + 1);
    dbs_restore_progress_tick(&a->out.prog, false);
  }
  return 0;
}

/* Prepares the output, restores the snapshot, applies the WAL indexes,
 * then verifies and renames. */
static int apply_plan(struct dbs_storage* st,
                      const struct dbs_restore_plan* plan, const char* output,
                      const struct dbs_restore_opts* o,
                      struct dbs_restore_error* e) {
  struct apply a = {.st = st, .plan = plan, .o = o};
  int rc = -1;
  a.commit = calloc(plan->nindexes + 1, sizeof(*a.commit));
  if (a.commit == NULL) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    goto done;
  }
  if (dbs_restore_out_prepare(&a.out, output, o, false,
                              (uint64_t)plan->total_bytes, 1 + plan->nsegments,
                              e) != 0)
    goto done;
  dbs_log_info("restoring snapshot %s/%08x into %s", plan->generation,
               plan->snapshot.index, a.out.tmp);
  if (restore_snapshot(&a, e) != 0)
    goto done;
  if (plan->nindexes > 0 && apply_indexes(&a, e) != 0)
    goto done;
  char what[64];
  snprintf(what, sizeof(what), "generation %s", plan->generation);
  if (dbs_restore_out_finish(&a.out, o->verify, what, e) != 0)
    goto done;
  rc = 0;
done:
  dbs_restore_ahead_end(&a.dl);
  if (rc != 0 && a.out.created)
    remove_staged(&a);
  char point[128];
  snprintf(point, sizeof(point),
           "generation %s, snapshot %08x, %zu WAL index%s applied",
           plan->generation, plan->snapshot.index, plan->nindexes,
           plan->nindexes == 1 ? "" : "es");
  dbs_restore_out_end(&a.out, rc == 0, point);
  free(a.commit);
  return rc;
}

/* ---- the v0.3 format ------------------------------------------------- */

static void v3_free(void* p) {
  struct dbs_restore_v3_state* s = p;
  if (s == NULL)
    return;
  dbs_replica_listing_free(&s->listing);
  dbs_restore_plan_free(&s->plan);
  free(s);
}

int dbs_restore_v3_find(struct dbs_storage* st, const char* path,
                        const struct dbs_restore_target* t, bool ls05,
                        void** state, int64_t* updated_ns,
                        struct dbs_restore_error* e) {
  *state = NULL;
  struct dbs_restore_v3_state* s = calloc(1, sizeof(*s));
  if (s == NULL) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  int rc = dbs_replica_load(st, path, &s->listing);
  if (rc != 0) {
    dbs_restore_set_err(e, dbs_restore_storage_result(rc),
                        "cannot fetch generations from %s: %s",
                        st->ops->describe(st),
                        st->error[0] ? st->error : strerror(-rc));
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
  return dbs_restore_v3_find(st, path, t, false, state, updated_ns, e);
}

static int v3_plan(void* p, const struct dbs_restore_target* t,
                   struct dbs_restore_error* e) {
  struct dbs_restore_v3_state* s = p;
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
  dbs_restore_set_err(e, r, "%s", msg);
  return -1;
}

static int v3_apply(void* p, struct dbs_storage* st, const char* output,
                    const struct dbs_restore_opts* o,
                    struct dbs_restore_error* e) {
  struct dbs_restore_v3_state* s = p;
  return apply_plan(st, &s->plan, output, o, e);
}

static void v3_print(void* p, FILE* f) {
  struct dbs_restore_v3_state* s = p;
  const struct dbs_restore_plan* pl = &s->plan;
  fprintf(f, "Restore plan (litestream v0.3 generation %s):\n", pl->generation);
  fprintf(f, "  snapshot %08x (%lld bytes)\n", pl->snapshot.index,
          (long long)pl->snapshot.size);
  for (size_t i = 0; i < pl->nsegments; i++)
    fprintf(f, "  wal %08x_%08x (%lld bytes)\n", pl->segments[i].index,
            pl->segments[i].offset, (long long)pl->segments[i].size);
}

static void v3_summarize(void* p, struct dbs_restore_summary* out) {
  struct dbs_restore_v3_state* s = p;
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
