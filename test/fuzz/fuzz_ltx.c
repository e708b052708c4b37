/*
 * The LTX decoder (ltx.c) and the restore plan (ltx_replica.c).
 *
 * Input: a mode byte, a byte seeding how the input is cut into writes,
 * then the payload. Modes (mod 2):
 *   0  the payload is an LTX file: decoded whole and again in writes of
 *      varying sizes, both must give the same result and the same pages;
 *      pages come in ascending order, within the commit, never the lock
 *      page, every page 1..commit for an accepted snapshot.
 *   1  the payload describes a listing (5 bytes a file: level, min, span,
 *      time, flags) and a target: a plan returned is a chain litestream
 *      would apply (the first file starts at TXID 1 or is a snapshot, each
 *      next one ends later and starts at most one past the previous end,
 *      every file eligible for the target, -txid reached exactly).
 */
#include <string.h>

#include "fuzz.h"
#include "ltx.h"
#include "ltx_replica.h"

struct seen {
  uint32_t ps, commit, lock, prev, n;
  uint64_t sum, min_txid;
};

static int on_header(void* arg, const struct dbs_ltx_header* h) {
  struct seen* s = arg;
  s->ps = h->page_size;
  s->commit = h->commit;
  s->lock = dbs_ltx_lock_pgno(h->page_size);
  s->min_txid = h->min_txid;
  return 0;
}

static int on_page(void* arg, uint32_t pgno, const uint8_t* data) {
  struct seen* s = arg;
  FUZZ_CHECK(pgno > s->prev && pgno <= s->commit && pgno != s->lock);
  s->prev = pgno;
  s->n++;
  s->sum = dbs_ltx_crc64(s->sum ^ pgno, data, s->ps);
  return 0;
}

static int decode(struct dbs_ltx_dec* d, const uint8_t* p, size_t n,
                  uint8_t seed, struct seen* s) {
  memset(s, 0, sizeof(*s));
  struct dbs_ltx_callbacks cb = {on_header, on_page, s};
  dbs_ltx_dec_reset(d, &cb);
  int rc = 0;
  size_t off = 0, k = seed;
  while (rc == 0 && off < n) {
    size_t step = seed == 0 ? n : 1 + (k * 2654435761u) % (97 + seed);
    k++;
    if (step > n - off)
      step = n - off;
    rc = dbs_ltx_dec_write(d, p + off, step);
    off += step;
  }
  if (rc == 0)
    rc = dbs_ltx_dec_finish(d);
  return rc;
}

static void fuzz_decoder(const uint8_t* p, size_t n, uint8_t seed) {
  static struct dbs_ltx_dec* d;
  if (d == NULL)
    FUZZ_CHECK(dbs_ltx_dec_new(&d) == 0);
  struct seen whole, cut;
  int a = decode(d, p, n, 0, &whole);
  int b = decode(d, p, n, (uint8_t)(seed | 1), &cut);
  FUZZ_CHECK(a == b);
  FUZZ_CHECK(whole.n == cut.n && whole.sum == cut.sum);
  FUZZ_CHECK(a == 0 || a == DBS_LTX_ECORRUPT || a == DBS_LTX_ELEGACY);
  if (a == 0 && whole.min_txid == 1)
    FUZZ_CHECK(whole.prev ==
               (whole.commit == whole.lock ? whole.commit - 1 : whole.commit));
}

static void fuzz_plan(const uint8_t* p, size_t n, uint8_t seed) {
  struct dbs_ltx_listing l;
  memset(&l, 0, sizeof(l));
  for (size_t i = 0; i + 5 <= n && l.n < 64; i += 5) {
    int level = p[i] % 10;
    uint64_t min = 1 + p[i + 1] % 24, max = min + p[i + 2] % 6;
    if (level == DBS_LTX_SNAPSHOT_LEVEL && (p[i + 4] & 1))
      min = 1;
    char key[64];
    snprintf(key, sizeof(key), "%d/%016llx-%016llx", level,
             (unsigned long long)min, (unsigned long long)max);
    FUZZ_CHECK(dbs_ltx_listing_add(&l, key, level, min, max, 100,
                                   (int64_t)p[i + 3] * 1000000000) == 0);
  }
  dbs_ltx_listing_sort(&l);
  struct dbs_ltx_target t = {0};
  if (seed % 3 == 1)
    t.txid = 1 + seed / 3 % 30;
  else if (seed % 3 == 2) {
    t.has_timestamp = true;
    t.timestamp_ns = (int64_t)(seed * 3 % 256) * 1000000000;
  }
  struct dbs_ltx_plan plan;
  char err[512];
  int rc = dbs_ltx_plan_calc(&l, &t, &plan, err, sizeof(err));
  FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG);
  if (rc == 0) {
    FUZZ_CHECK(plan.n > 0);
    const struct dbs_ltx_file* f0 = plan.files[0];
    FUZZ_CHECK(f0->min_txid == 1 || f0->level == DBS_LTX_SNAPSHOT_LEVEL);
    for (size_t i = 0; i < plan.n; i++) {
      const struct dbs_ltx_file* f = plan.files[i];
      FUZZ_CHECK(t.txid == 0 || f->max_txid <= t.txid);
      FUZZ_CHECK(!t.has_timestamp || f->time_ns < t.timestamp_ns);
      if (i > 0) {
        FUZZ_CHECK(f->max_txid > plan.files[i - 1]->max_txid);
        FUZZ_CHECK(f->min_txid <= plan.files[i - 1]->max_txid + 1);
        FUZZ_CHECK(f->level != DBS_LTX_SNAPSHOT_LEVEL);
      }
    }
    FUZZ_CHECK(t.txid == 0 || plan.files[plan.n - 1]->max_txid == t.txid);
    dbs_ltx_plan_free(&plan);
  }
  dbs_ltx_listing_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  fuzz_quiet();
  if (data[0] % 2 == 0)
    fuzz_decoder(data + 2, size - 2, data[1]);
  else
    fuzz_plan(data + 2, size - 2, data[1]);
  return 0;
}
