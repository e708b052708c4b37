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

/* Any frame liblz4 writes: block sizes 64 KiB to 4 MiB, linked or
 * independent blocks, block and content checksums, content size, and
 * blocks stored uncompressed (a random stretch longer than a block). */
static uint8_t* compress_with(const uint8_t* src, size_t n,
                              const LZ4F_preferences_t* prefs,
                              size_t* out_len) {
  size_t cap = LZ4F_compressFrameBound(n, prefs);
  uint8_t* dst = malloc(cap);
  assert_non_null(dst);
  size_t r = LZ4F_compressFrame(dst, cap, src, n, prefs);
  assert_false(LZ4F_isError(r));
  *out_len = r;
  return dst;
}

/* A frame as litestream writes it: 4 MiB blocks, content checksum. */
static uint8_t* compress(const uint8_t* src, size_t n, size_t* out_len) {
  LZ4F_preferences_t prefs = {0};
  prefs.frameInfo.blockSizeID = LZ4F_max4MB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  return compress_with(src, n, &prefs, out_len);
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

/* Stray bytes after a complete frame (litestream's interrupted rewrite of
 * a WAL segment): refused by default, skipped and counted when allowed,
 * whatever they are (garbage, a partial or a whole copy of the frame); a
 * frame that is itself incomplete is refused either way. */
static void test_trailing(void** state) {
  (void)state;
  size_t n = 200000, clen;
  uint8_t* src = sample(n);
  uint8_t* comp = compress(src, n, &clen);
  uint8_t* obj = malloc(2 * clen);
  struct collect c = {malloc(2 * n + 1), 0, 2 * n + 1};
  struct dbs_lz4stream* z;
  assert_int_equal(dbs_lz4stream_new(0, &z), 0);
  size_t extras[] = {1, 2, 37, clen / 2, clen};
  for (size_t k = 0; k < sizeof(extras) / sizeof(extras[0]); k++) {
    size_t extra = extras[k];
    memcpy(obj, comp, clen);
    for (size_t i = 0; i < extra; i++)
      obj[clen + i] = k % 2 ? comp[i] : (uint8_t)(i * 31 + 7);
    for (int allow = 0; allow < 2; allow++) {
      dbs_lz4stream_allow_trailing(z, allow);
      for (size_t step = 4096; step <= (1u << 20); step *= 256) {
        c.n = 0;
        dbs_lz4stream_reset(z, collect, &c);
        int rc = 0;
        for (size_t i = 0; i < clen + extra && rc == 0; i += step)
          rc = dbs_lz4stream_write(
              z, obj + i, clen + extra - i < step ? clen + extra - i : step);
        if (rc == 0)
          rc = dbs_lz4stream_finish(z);
        if (!allow) {
          assert_int_equal(rc, DBS_LZ4STREAM_ECORRUPT);
          assert_non_null(strstr(dbs_lz4stream_error(z), "after the end"));
          continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(dbs_lz4stream_trailing(z), extra);
        assert_int_equal(dbs_lz4stream_total_out(z), n);
        assert_int_equal(c.n, n);
        assert_memory_equal(c.buf, src, n);
      }
    }
  }
  /* Allowed, an incomplete frame is still refused, and a clean object
   * reports no trailing bytes. */
  dbs_lz4stream_allow_trailing(z, true);
  dbs_lz4stream_reset(z, collect, &c);
  c.n = 0;
  assert_int_equal(dbs_lz4stream_write(z, comp, clen - 5), 0);
  assert_int_equal(dbs_lz4stream_finish(z), DBS_LZ4STREAM_ECORRUPT);
  dbs_lz4stream_reset(z, collect, &c);
  c.n = 0;
  assert_int_equal(dbs_lz4stream_write(z, comp, clen), 0);
  assert_int_equal(dbs_lz4stream_finish(z), 0);
  assert_int_equal(dbs_lz4stream_trailing(z), 0);
  dbs_lz4stream_free(z);
  free(c.buf);
  free(obj);
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

static uint8_t* mixed_sample(size_t n) {
  uint8_t* p = sample(n);
  uint32_t x = 99;
  for (size_t i = n / 3; i < n / 3 + (1500u << 10) && i < n; i++) {
    x = x * 1103515245 + 12345;
    p[i] = (uint8_t)(x >> 16);
  }
  return p;
}

static void test_frame_variants(void** state) {
  (void)state;
  size_t n = (6u << 20) + 777;
  uint8_t* src = mixed_sample(n);
  LZ4F_blockSizeID_t sizes[] = {LZ4F_max64KB, LZ4F_max256KB, LZ4F_max1MB,
                                LZ4F_max4MB};
  for (int v = 0; v < 4 * 16; v++) {
    LZ4F_preferences_t prefs = {0};
    prefs.frameInfo.blockSizeID = sizes[v / 16];
    prefs.frameInfo.blockMode =
        (v & 1) ? LZ4F_blockLinked : LZ4F_blockIndependent;
    prefs.frameInfo.blockChecksumFlag =
        (v & 2) ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
    prefs.frameInfo.contentChecksumFlag =
        (v & 4) ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
    prefs.frameInfo.contentSize = (v & 8) ? n : 0;
    size_t clen;
    uint8_t* comp = compress_with(src, n, &prefs, &clen);
    /* Whole, or in pieces that split every field somewhere. */
    size_t step = v % 3 == 0 ? clen : 65539;
    struct collect c = {malloc(n + 1), 0, n + 1};
    assert_int_equal(decode(comp, clen, step, 128u << 10, &c), 0);
    assert_int_equal(c.n, n);
    assert_memory_equal(c.buf, src, n);
    free(c.buf);
    free(comp);
  }
  free(src);
}

/* liblz4's own frame decoder, for comparison: 0 and the output, or -1. */
static int reference_decode(const uint8_t* comp, size_t n, struct collect* c) {
  LZ4F_dctx* d;
  assert_false(LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)));
  size_t pos = 0, hint = 1;
  int rc = -1;
  c->n = 0;
  while (pos < n) {
    size_t in = n - pos, out = c->cap - c->n;
    hint = LZ4F_decompress(d, c->buf + c->n, &out, comp + pos, &in, NULL);
    if (LZ4F_isError(hint) || (in == 0 && out == 0))
      break;
    pos += in;
    c->n += out;
    if (hint == 0)
      break;
  }
  if (!LZ4F_isError(hint) && hint == 0 && pos == n)
    rc = 0;
  LZ4F_freeDecompressionContext(d);
  return rc;
}

/* Damaged frames: flipped, cut, or duplicated bytes anywhere. Whenever
 * liblz4's own decoder refuses the frame, so does this one; when it
 * accepts it, both give the same bytes. */
static void test_matches_liblz4_on_damage(void** state) {
  (void)state;
  size_t n = 400000;
  uint8_t* src = mixed_sample(n);
  uint32_t x = 7;
  for (int v = 0; v < 4; v++) {
    LZ4F_preferences_t prefs = {0};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode =
        (v & 1) ? LZ4F_blockLinked : LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag =
        (v & 2) ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
    size_t clen;
    uint8_t* comp = compress_with(src, n, &prefs, &clen);
    uint8_t* bad = malloc(clen + 8);
    struct collect ours = {malloc(n + 70000), 0, n + 70000};
    struct collect ref = {malloc(n + 70000), 0, n + 70000};
    int refused = 0;
    for (int t = 0; t < 300; t++) {
      x = x * 1103515245 + 12345;
      size_t pos = (x >> 8) % clen, blen = clen;
      memcpy(bad, comp, clen);
      switch (t % 3) {
      case 0:
        bad[pos] ^= (uint8_t)(1u << (x % 8));
        break;
      case 1:
        blen = pos;
        break;
      default:
        memmove(bad + pos + 1, bad + pos, clen - pos);
        blen = clen + 1;
        break;
      }
      ours.n = 0;
      int a = decode(bad, blen, 4096, 0, &ours);
      int b = reference_decode(bad, blen, &ref);
      if (b != 0) {
        assert_int_not_equal(a, 0);
        refused++;
      } else {
        assert_int_equal(a, 0);
        assert_int_equal(ours.n, ref.n);
        assert_memory_equal(ours.buf, ref.buf, ref.n);
      }
    }
    /* With a content checksum nearly every change is refused. */
    if (v & 2)
      assert_true(refused > 250);
    free(ours.buf);
    free(ref.buf);
    free(bad);
    free(comp);
  }
  free(src);
}

/* Frames liblz4 would not write for litestream: refused with a reason. */
static void test_odd_frames(void** state) {
  (void)state;
  struct collect c = {malloc(100), 0, 100};
  /* A skippable frame. */
  const uint8_t skip[] = {0x50, 0x2A, 0x4D, 0x18, 2, 0, 0, 0, 'h', 'i'};
  assert_int_equal(decode(skip, sizeof(skip), 100, 0, &c),
                   DBS_LZ4STREAM_ECORRUPT);
  /* A block longer than the frame's block size (64 KiB). */
  uint8_t one = 'a';
  LZ4F_preferences_t prefs = {0};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  size_t clen;
  uint8_t* comp = compress_with(&one, 1, &prefs, &clen);
  /* Header is 7 bytes; the first block's size follows. */
  comp[7] = 0x01, comp[8] = 0x00, comp[9] = 0x01, comp[10] = 0x00;
  struct dbs_lz4stream* z;
  assert_int_equal(dbs_lz4stream_new(0, &z), 0);
  dbs_lz4stream_reset(z, collect, &c);
  assert_int_equal(dbs_lz4stream_write(z, comp, clen), DBS_LZ4STREAM_ECORRUPT);
  assert_non_null(strstr(dbs_lz4stream_error(z), "over the frame's"));
  dbs_lz4stream_free(z);
  free(comp);
  free(c.buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_frame_variants),
      cmocka_unit_test(test_matches_liblz4_on_damage),
      cmocka_unit_test(test_odd_frames),
      cmocka_unit_test(test_corruption),
      cmocka_unit_test(test_trailing),
      cmocka_unit_test(test_age_and_sink_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
