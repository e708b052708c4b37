/* Unit tests for the streaming LZ4 frame decoder. */
#include <errno.h>
#include <lz4frame.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lz4stream.h"

struct collect {
  uint8_t* buf;
  size_t n, cap;
};

static int collect(void* arg, const uint8_t* p, size_t len) {
  struct collect* c = arg;
  if (c->n + len > c->cap)
    return -ENOSPC;
  memcpy(c->buf + c->n, p, len);
  c->n += len;
  return 0;
}

/* A frame as litestream writes it: 4 MiB blocks, content checksum. */
static uint8_t* compress(const uint8_t* src, size_t n, size_t* out_len) {
  LZ4F_preferences_t prefs = {0};
  prefs.frameInfo.blockSizeID = LZ4F_max4MB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  size_t cap = LZ4F_compressFrameBound(n, &prefs);
  uint8_t* dst = malloc(cap);
  assert_non_null(dst);
  size_t r = LZ4F_compressFrame(dst, cap, src, n, &prefs);
  assert_false(LZ4F_isError(r));
  *out_len = r;
  return dst;
}

static uint8_t* sample(size_t n) {
  uint8_t* p = malloc(n);
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    p[i] = (i % 4096 < 2048) ? (uint8_t)(i / 97) : (uint8_t)(x >> 16);
  }
  return p;
}

/* Decodes comp fed in chunks of step bytes; returns the status. */
static int decode(const uint8_t* comp, size_t n, size_t step, size_t out_chunk,
                  struct collect* c) {
  struct dbs_lz4stream* z;
  assert_int_equal(dbs_lz4stream_new(out_chunk, &z), 0);
  dbs_lz4stream_reset(z, collect, c);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i += step)
    rc = dbs_lz4stream_write(z, comp + i, n - i < step ? n - i : step);
  if (rc == 0)
    rc = dbs_lz4stream_finish(z);
  dbs_lz4stream_free(z);
  return rc;
}

static void test_roundtrip(void** state) {
  (void)state;
  size_t sizes[] = {0, 1, 4096, 5 << 20, (9 << 20) + 123};
  size_t steps[] = {1, 7, 65536, 1 << 22};
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    uint8_t* src = sample(sizes[s]);
    size_t clen;
    uint8_t* comp = compress(src, sizes[s], &clen);
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
      if (steps[k] == 1 && sizes[s] > 100000)
        continue;
      struct collect c = {malloc(sizes[s] + 1), 0, sizes[s] + 1};
      assert_int_equal(decode(comp, clen, steps[k], 1000, &c), 0);
      assert_int_equal(c.n, sizes[s]);
      assert_memory_equal(c.buf, src, sizes[s]);
      free(c.buf);
    }
    free(comp);
    free(src);
  }
}

static void test_corruption(void** state) {
  (void)state;
  size_t n = 300000, clen;
  uint8_t* src = sample(n);
  uint8_t* comp = compress(src, n, &clen);
  struct collect c = {malloc(n + 1), 0, n + 1};
  /* Truncated at many points. */
  for (size_t cut = 0; cut < clen; cut += clen / 17 + 1) {
    c.n = 0;
    assert_int_equal(decode(comp, cut, 4096, 0, &c), DBS_LZ4STREAM_ECORRUPT);
  }
  /* A flipped byte in the data is caught (block or content checksum). */
  for (size_t pos = 20; pos < clen; pos += clen / 11) {
    comp[pos] ^= 0x40;
    c.n = 0;
    assert_int_equal(decode(comp, clen, 4096, 0, &c), DBS_LZ4STREAM_ECORRUPT);
    comp[pos] ^= 0x40;
  }
  /* The content checksum itself. */
  comp[clen - 1] ^= 1;
  c.n = 0;
  assert_int_equal(decode(comp, clen, 4096, 0, &c), DBS_LZ4STREAM_ECORRUPT);
  comp[clen - 1] ^= 1;
  /* Bytes after the frame. */
  uint8_t* more = malloc(clen + 3);
  memcpy(more, comp, clen);
  memcpy(more + clen, "abc", 3);
  c.n = 0;
  assert_int_equal(decode(more, clen + 3, 4096, 0, &c), DBS_LZ4STREAM_ECORRUPT);
  /* Not LZ4 at all. */
  c.n = 0;
  assert_int_equal(decode((const uint8_t*)"SQLite format 3", 15, 3, 0, &c),
                   DBS_LZ4STREAM_ECORRUPT);
  free(more);
  free(c.buf);
  free(comp);
  free(src);
}

static void test_age_and_sink_errors(void** state) {
  (void)state;
  const char* age = "age-encryption.org/v1\n-> X25519 abc\n";
  struct collect c = {malloc(10), 0, 10};
  assert_int_equal(decode((const uint8_t*)age, strlen(age), 1, 0, &c),
                   DBS_LZ4STREAM_EAGE);
  assert_int_equal(decode((const uint8_t*)age, strlen(age), 100, 0, &c),
                   DBS_LZ4STREAM_EAGE);
  /* A prefix of the age magic that ends early is simply not LZ4. */
  assert_int_equal(decode((const uint8_t*)"age-enc", 7, 100, 0, &c),
                   DBS_LZ4STREAM_ECORRUPT);
  /* The sink's error comes back unchanged. */
  size_t n = 1000, clen;
  uint8_t* src = sample(n);
  uint8_t* comp = compress(src, n, &clen);
  c.n = 0;
  assert_int_equal(decode(comp, clen, 64, 0, &c), -ENOSPC);
  free(comp);
  free(src);
  free(c.buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_corruption),
      cmocka_unit_test(test_age_and_sink_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
