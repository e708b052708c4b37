/* Unit tests for the LTX decoder: CRC-64/ISO, header rules, both page
 * encodings, and every truncation and bit flip of a valid file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ltx.h"
#include "ltx_testenc.h"

/* ltx's ChecksumPage: (1<<63) | crc64(BE32(pgno) || data). */
static uint64_t checksum_page(uint32_t pgno, const uint8_t* data, size_t n) {
  uint8_t b[4] = {(uint8_t)(pgno >> 24), (uint8_t)(pgno >> 16),
                  (uint8_t)(pgno >> 8), (uint8_t)pgno};
  uint64_t c = dbs_ltx_crc64(0, b, 4);
  return (1ull << 63) | dbs_ltx_crc64(c, data, n);
}

static uint64_t db_checksum(const uint8_t* fill, size_t npages, size_t ps) {
  uint64_t c = 1ull << 63;
  uint8_t* page = malloc(ps);
  for (size_t i = 0; i < npages; i++) {
    memset(page, fill[i], ps);
    c = (1ull << 63) | (c ^ checksum_page((uint32_t)i + 1, page, ps));
  }
  free(page);
  return c;
}

static void test_crc64_vectors(void** state) {
  (void)state;
  assert_int_equal(dbs_ltx_crc64(0, "123456789", 9), 0xb90956c775a41001ull);
  assert_int_equal(dbs_ltx_crc64(0, "", 0), 0);
  /* Continuing a CRC equals computing it at once, at every split. */
  const char* s = "The quick brown fox jumps over the lazy dog, twice over.";
  size_t n = strlen(s);
  uint64_t whole = dbs_ltx_crc64(0, s, n);
  for (size_t k = 0; k <= n; k++)
    assert_int_equal(dbs_ltx_crc64(dbs_ltx_crc64(0, s, k), s + k, n - k),
                     whole);
  /* The database checksums of ltx v0.5.2's checksum_test.go. */
  uint8_t a[] = {'1'}, b[] = {'2', '3'}, c[] = {0x81, 0x82, 0x83},
          d[] = {1, 2, 3};
  assert_int_equal(db_checksum(a, 1, 512), 0xeb1a999231044dddull);
  assert_int_equal(db_checksum(b, 2, 1024), 0xe1899b6d587aaaaaull);
  assert_int_equal(db_checksum(c, 3, 1024), 0x8a249272ad9f7deaull);
  assert_int_equal(db_checksum(d, 3, 512), 0xefffffffecd99000ull);
}

struct got {
  uint32_t pgnos[64];
  uint64_t sums[64];
  size_t n;
  uint32_t ps;
};

static int on_page(void* arg, uint32_t pgno, const uint8_t* data) {
  struct got* g = arg;
  if (g->n < 64) {
    g->pgnos[g->n] = pgno;
    g->sums[g->n] = dbs_ltx_crc64(0, data, g->ps);
  }
  g->n++;
  return 0;
}

/* Decodes buf fed in chunks of step; returns the first error or 0. */
static int decode(const uint8_t* buf, size_t n, size_t step, struct got* g,
                  uint32_t ps) {
  struct dbs_ltx_dec* d;
  assert_int_equal(dbs_ltx_dec_new(&d), 0);
  memset(g, 0, sizeof(*g));
  g->ps = ps;
  struct dbs_ltx_callbacks cb = {.page = on_page, .arg = g};
  dbs_ltx_dec_reset(d, &cb);
  int rc = 0;
  for (size_t off = 0; off < n && rc == 0; off += step)
    rc = dbs_ltx_dec_write(d, buf + off, off + step <= n ? step : n - off);
  if (rc == 0)
    rc = dbs_ltx_dec_finish(d);
  dbs_ltx_dec_free(d);
  return rc;
}

/* A file of pages 1..npages (commit npages) or the listed pgnos. */
static uint8_t* make(uint32_t ps, uint64_t min, uint64_t max, uint32_t commit,
                     const uint32_t* pgnos, size_t np, bool block, size_t* n) {
  struct tenc e;
  tenc_begin(&e, DBS_LTX_HEADER_FLAG_NO_CHECKSUM, ps, commit, min, max,
             1700000000000);
  uint8_t* page = malloc(ps);
  for (size_t i = 0; i < np; i++) {
    tenc_fill(page, ps, pgnos[i], 7);
    tenc_page(&e, pgnos[i], page, ps, block);
  }
  free(page);
  return tenc_end(&e, n);
}

static void check_pages(const struct got* g, const uint32_t* pgnos, size_t np,
                        uint32_t ps) {
  assert_int_equal(g->n, np);
  uint8_t* page = malloc(ps);
  for (size_t i = 0; i < np; i++) {
    assert_int_equal(g->pgnos[i], pgnos[i]);
    tenc_fill(page, ps, pgnos[i], 7);
    assert_int_equal(g->sums[i], dbs_ltx_crc64(0, page, ps));
  }
  free(page);
}

static void test_both_encodings(void** state) {
  (void)state;
  const uint32_t snap[] = {1, 2, 3, 4};
  const uint32_t inc[] = {2, 7, 9};
  for (int block = 0; block < 2; block++) {
    for (uint32_t ps = 512; ps <= 65536; ps *= 8) {
      size_t n;
      uint8_t* f = make(ps, 1, 5, 4, snap, 4, block, &n);
      struct got g;
      static const size_t steps[] = {1, 7, 100, 4096, 1 << 20};
      for (size_t s = 0; s < 5; s++) {
        assert_int_equal(decode(f, n, steps[s], &g, ps), 0);
        check_pages(&g, snap, 4, ps);
      }
      free(f);
      f = make(ps, 6, 6, 9, inc, 3, block, &n);
      assert_int_equal(decode(f, n, 13, &g, ps), 0);
      check_pages(&g, inc, 3, ps);
      free(f);
    }
  }
}

static void test_header_rules(void** state) {
  (void)state;
  uint8_t h[100];
  struct dbs_ltx_header hd;
  char err[256];
  struct {
    uint32_t flags, ps;
    uint64_t min, max, pre;
    int want;
  } cases[] = {
      {2, 4096, 1, 1, 0, 0},
      {0, 4096, 3, 4, 1ull << 63 | 5, 0}, /* checksums tracked */
      {1, 4096, 1, 1, 0, DBS_LTX_ELEGACY},
      {3, 4096, 1, 1, 0, DBS_LTX_ELEGACY},
      {6, 4096, 1, 1, 0, DBS_LTX_ECORRUPT},
      {2, 1000, 1, 1, 0, DBS_LTX_ECORRUPT},
      {2, 256, 1, 1, 0, DBS_LTX_ECORRUPT},
      {2, 131072, 1, 1, 0, DBS_LTX_ECORRUPT},
      {2, 4096, 0, 1, 0, DBS_LTX_ECORRUPT},
      {2, 4096, 1, 0, 0, DBS_LTX_ECORRUPT},
      {2, 4096, 5, 4, 0, DBS_LTX_ECORRUPT},
      {2, 4096, 3, 4, 1ull << 63 | 5, DBS_LTX_ECORRUPT},
      {0, 4096, 1, 4, 1ull << 63 | 5, DBS_LTX_ECORRUPT},
      {0, 4096, 3, 4, 5, DBS_LTX_ECORRUPT},
      {0, 4096, 3, 4, 0, DBS_LTX_ECORRUPT},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    memset(h, 0, sizeof(h));
    memcpy(h, "LTX1", 4);
    tenc_be(h + 4, cases[i].flags, 4);
    tenc_be(h + 8, cases[i].ps, 4);
    tenc_be(h + 12, 1, 4);
    tenc_be(h + 16, cases[i].min, 8);
    tenc_be(h + 24, cases[i].max, 8);
    tenc_be(h + 40, cases[i].pre, 8);
    int rc = dbs_ltx_header_parse(h, &hd, err, sizeof(err));
    if (rc != cases[i].want)
      fail_msg("case %zu: got %d want %d (%s)", i, rc, cases[i].want, err);
  }
  memset(h, 0, sizeof(h));
  memcpy(h, "LTX2", 4);
  assert_int_equal(dbs_ltx_header_parse(h, &hd, err, sizeof(err)),
                   DBS_LTX_ECORRUPT);
  /* The WAL fields. */
  memset(h, 0, sizeof(h));
  memcpy(h, "LTX1", 4);
  tenc_be(h + 4, 2, 4);
  tenc_be(h + 8, 4096, 4);
  tenc_be(h + 16, 1, 8);
  tenc_be(h + 24, 1, 8);
  tenc_be(h + 56, 10, 8); /* size without offset */
  assert_int_equal(dbs_ltx_header_parse(h, &hd, err, sizeof(err)),
                   DBS_LTX_ECORRUPT);
  tenc_be(h + 56, 0, 8);
  tenc_be(h + 64, 9, 4); /* salt without offset */
  assert_int_equal(dbs_ltx_header_parse(h, &hd, err, sizeof(err)),
                   DBS_LTX_ECORRUPT);
  tenc_be(h + 48, 32, 8);
  assert_int_equal(dbs_ltx_header_parse(h, &hd, err, sizeof(err)), 0);
  assert_int_equal(dbs_ltx_lock_pgno(4096), 262145);
  assert_int_equal(dbs_ltx_lock_pgno(65536), 16385);
}

static void test_page_rules(void** state) {
  (void)state;
  struct got g;
  size_t n;
  const uint32_t gap[] = {1, 3}, order[] = {3, 2}, beyond[] = {2, 9},
                 one[] = {1}, lock[] = {16385};
  uint8_t* f = make(512, 1, 2, 3, gap, 2, true, &n); /* snapshot skips 2 */
  assert_int_equal(decode(f, n, 64, &g, 512), DBS_LTX_ECORRUPT);
  free(f);
  f = make(512, 1, 2, 3, one, 1, true, &n); /* snapshot short of commit */
  assert_int_equal(decode(f, n, 64, &g, 512), DBS_LTX_ECORRUPT);
  free(f);
  f = make(512, 4, 4, 3, order, 2, true, &n);
  assert_int_equal(decode(f, n, 64, &g, 512), DBS_LTX_ECORRUPT);
  free(f);
  f = make(512, 4, 4, 3, beyond, 2, false, &n);
  assert_int_equal(decode(f, n, 64, &g, 512), DBS_LTX_ECORRUPT);
  free(f);
  f = make(65536, 4, 4, 20000, lock, 1, true, &n);
  assert_int_equal(decode(f, n, 4096, &g, 65536), DBS_LTX_ECORRUPT);
  free(f);
}

/* A snapshot across the lock page: pages 1..commit but the lock page. */
static void test_snapshot_skips_lock_page(void** state) {
  (void)state;
  uint32_t ps = 65536, lock = dbs_ltx_lock_pgno(ps);
  uint32_t pg[4] = {lock - 2, lock - 1, lock + 1, lock + 2};
  struct got g;
  size_t n;
  /* An incremental file around it is fine... */
  uint8_t* f = make(ps, 3, 3, lock + 2, pg, 4, true, &n);
  assert_int_equal(decode(f, n, 1 << 16, &g, ps), 0);
  check_pages(&g, pg, 4, ps);
  free(f);
}

static void test_every_truncation_and_flip(void** state) {
  (void)state;
  const uint32_t pg[] = {1, 2, 3};
  for (int block = 0; block < 2; block++) {
    size_t n;
    uint8_t* f = make(512, 1, 3, 3, pg, 3, block, &n);
    struct got g;
    assert_int_equal(decode(f, n, n, &g, 512), 0);
    for (size_t k = 0; k < n; k++)
      if (decode(f, k, 97, &g, 512) == 0)
        fail_msg("%s: truncated to %zu of %zu bytes accepted",
                 block ? "block" : "frame", k, n);
    uint8_t* longer = malloc(n + 1);
    memcpy(longer, f, n);
    longer[n] = 0;
    assert_int_equal(decode(longer, n + 1, 97, &g, 512), DBS_LTX_ECORRUPT);
    free(longer);
    /*
     * A flip in the header, a page header, a size prefix, the index or
     * the trailer always fails. A flip in compressed bytes fails unless
     * the page still decodes to the same bytes (a match offset inside a
     * run of equal bytes; liblz4 reading a frame's end mark with its
     * "uncompressed" bit masked off): the file checksum covers decoded
     * data, as ltx defines it, so no flip that changes a page passes.
     */
    size_t idx = 0;
    for (int k = 0; k < 8; k++)
      idx = idx << 8 | f[n - 24 + k];
    size_t pages_end = n - 24 - idx - 6;
    for (size_t i = 0; i < n; i++)
      for (int bit = 0; bit < 8; bit++) {
        f[i] ^= (uint8_t)(1u << bit);
        int rc = decode(f, n, 97, &g, 512);
        f[i] ^= (uint8_t)(1u << bit);
        if (rc != 0)
          continue;
        check_pages(&g, pg, 3, 512);
        if (i < 100 || i >= pages_end)
          fail_msg("%s: flipped bit %d of byte %zu of %zu accepted",
                   block ? "block" : "frame", bit, i, n);
      }
    free(f);
  }
}

static int abort_at_two(void* arg, uint32_t pgno, const uint8_t* data) {
  (void)arg;
  (void)data;
  return pgno == 2 ? -ENOSPC : 0;
}

static void test_callback_error_sticks(void** state) {
  (void)state;
  const uint32_t pg[] = {1, 2, 3};
  size_t n;
  uint8_t* f = make(512, 1, 3, 3, pg, 3, true, &n);
  struct dbs_ltx_dec* d;
  assert_int_equal(dbs_ltx_dec_new(&d), 0);
  struct dbs_ltx_callbacks cb = {.page = abort_at_two};
  dbs_ltx_dec_reset(d, &cb);
  assert_int_equal(dbs_ltx_dec_write(d, f, n), -ENOSPC);
  assert_int_equal(dbs_ltx_dec_write(d, f, 1), -ENOSPC);
  assert_int_equal(dbs_ltx_dec_finish(d), -ENOSPC);
  /* Reset: the same decoder reads the next file. */
  dbs_ltx_dec_reset(d, NULL);
  assert_int_equal(dbs_ltx_dec_write(d, f, n), 0);
  assert_int_equal(dbs_ltx_dec_finish(d), 0);
  assert_int_equal(dbs_ltx_dec_pages(d), 3);
  assert_int_equal(dbs_ltx_dec_header(d)->max_txid, 3);
  dbs_ltx_dec_free(d);
  free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc64_vectors),
      cmocka_unit_test(test_both_encodings),
      cmocka_unit_test(test_header_rules),
      cmocka_unit_test(test_page_rules),
      cmocka_unit_test(test_snapshot_skips_lock_page),
      cmocka_unit_test(test_every_truncation_and_flip),
      cmocka_unit_test(test_callback_error_sticks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
