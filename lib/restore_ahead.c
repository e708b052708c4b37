/* Restore progress lines, and the download-ahead worker pool both
 * formats' applies fetch through. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "restore_internal.h"

int64_t dbs_restore_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- progress -------------------------------------------------------- */

const char* dbs_restore_fmt_size(double bytes, char* buf, size_t n) {
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

void dbs_restore_progress_tick(struct dbs_restore_progress* p, bool force) {
  if (!p->enabled)
    return;
  int64_t now = dbs_restore_now_ns();
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

void dbs_restore_progress_end(struct dbs_restore_progress* p) {
  if (p->tty)
    dbs_log_status_close();
}

/* ---- download ahead -------------------------------------------------- */

enum { IDX_PENDING = 0, IDX_BUSY, IDX_READY, IDX_FAILED };

static void ahead_init(struct dbs_restore_ahead* d) {
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cond, NULL);
}

static void ahead_destroy(struct dbs_restore_ahead* d) {
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->cond);
}

void dbs_restore_ahead_fail(struct dbs_restore_ahead* d,
                            const struct dbs_restore_error* e) {
  pthread_mutex_lock(&d->mu);
  if (!d->stop) {
    d->err = *e;
    d->stop = true;
    pthread_cond_broadcast(&d->cond);
  }
  pthread_mutex_unlock(&d->mu);
}

bool dbs_restore_ahead_take(struct dbs_restore_ahead* d, size_t* k) {
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

void dbs_restore_ahead_done(struct dbs_restore_ahead* d, size_t k, int rc,
                            const struct dbs_restore_error* e) {
  pthread_mutex_lock(&d->mu);
  assert(k < d->n && d->state[k] == IDX_BUSY);
  d->state[k] = rc == 0 ? IDX_READY : IDX_FAILED;
  if (rc != 0 && !d->stop) {
    d->err = *e;
    d->stop = true;
  }
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
}

int dbs_restore_ahead_wait(struct dbs_restore_ahead* d, size_t k,
                           struct dbs_restore_error* e) {
  assert(d->state != NULL && k < d->n && k >= d->applied);
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
    dbs_restore_progress_tick(d->prog, false);
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

void dbs_restore_ahead_applied(struct dbs_restore_ahead* d, size_t count) {
  pthread_mutex_lock(&d->mu);
  d->applied = count;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
}

/* Stops the workers (they finish the fetch under way), before joining. */
static void ahead_stop(struct dbs_restore_ahead* d) {
  pthread_mutex_lock(&d->mu);
  d->stop = true;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
}

int dbs_restore_ahead_start(struct dbs_restore_ahead* d, size_t n, size_t next,
                            unsigned parallelism,
                            struct dbs_restore_progress* prog,
                            void* (*fn)(void*), void* arg,
                            struct dbs_restore_error* e) {
  assert(n > 0 && next <= n && d->state == NULL);
  unsigned par = parallelism ? parallelism : 8;
  d->n = n;
  d->next = next;
  d->window = par * 2 > 16 ? par * 2 : 16;
  d->prog = prog;
  d->state = calloc(n, sizeof(*d->state));
  d->threads = calloc(par, sizeof(*d->threads));
  if (d->state == NULL || d->threads == NULL) {
    free(d->state);
    free(d->threads);
    d->state = NULL;
    d->threads = NULL;
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL, "out of memory");
    return -1;
  }
  ahead_init(d);
  for (; d->nthreads < par; d->nthreads++)
    if (pthread_create(&d->threads[d->nthreads], NULL, fn, arg) != 0)
      break;
  if (d->nthreads == 0) {
    dbs_restore_set_err(e, DBS_RESTORE_EINTERNAL,
                        "cannot start download threads");
    return -1;
  }
  return 0;
}

void dbs_restore_ahead_end(struct dbs_restore_ahead* d) {
  if (d->state == NULL)
    return;
  ahead_stop(d);
  for (size_t i = 0; i < d->nthreads; i++)
    pthread_join(d->threads[i], NULL);
  ahead_destroy(d);
  free(d->threads);
  free(d->state);
  d->threads = NULL;
  d->state = NULL;
  d->nthreads = 0;
}
