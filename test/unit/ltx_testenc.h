/*
 * A small LTX writer for the unit tests: the layout of superfly/ltx's
 * encoder (header, pages in either encoding, page index, trailer with the
 * file checksum), written from the format description, so that the
 * decoder can be fed valid files and precise corruptions of them.
 */
#ifndef DBS_TEST_LTX_TESTENC_H
#define DBS_TEST_LTX_TESTENC_H

#include <lz4.h>
#include <lz4frame.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ltx.h"

struct tenc {
  uint8_t* buf;
  size_t n, cap;
  uint64_t crc;
  uint8_t idx[1 << 16];
  size_t nidx;
};

static void tenc_put(struct tenc* e, const void* p, size_t n, bool hash) {
  if (e->n + n > e->cap) {
    e->cap = (e->n + n) * 2 + 4096;
    e->buf = realloc(e->buf, e->cap);
  }
  memcpy(e->buf + e->n, p, n);
  e->n += n;
  if (hash)
    e->crc = dbs_ltx_crc64(e->crc, p, n);
}

static void tenc_be(uint8_t* b, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--, v >>= 8)
    b[i] = (uint8_t)v;
}

static void tenc_uvarint(struct tenc* e, uint64_t v) {
  while (v >= 0x80) {
    e->idx[e->nidx++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  e->idx[e->nidx++] = (uint8_t)v;
}

/* Starts a file: header with flags NoChecksum unless told otherwise. */
static void tenc_begin(struct tenc* e, uint32_t flags, uint32_t page_size,
                       uint32_t commit, uint64_t min, uint64_t max,
                       int64_t ts_ms) {
  memset(e, 0, sizeof(*e));
  uint8_t h[100] = {0};
  memcpy(h, "LTX1", 4);
  tenc_be(h + 4, flags, 4);
  tenc_be(h + 8, page_size, 4);
  tenc_be(h + 12, commit, 4);
  tenc_be(h + 16, min, 8);
  tenc_be(h + 24, max, 8);
  tenc_be(h + 32, (uint64_t)ts_ms, 8);
  tenc_put(e, h, 100, true);
}

/* Adds a page: block (0.5.16+) or frame (<= 0.5.15) encoding. */
static void tenc_page(struct tenc* e, uint32_t pgno, const uint8_t* data,
                      uint32_t page_size, bool block) {
  size_t off = e->n;
  uint8_t h[6];
  tenc_be(h, pgno, 4);
  tenc_be(h + 4, block ? 1 : 0, 2);
  tenc_put(e, h, 6, true);
  if (block) {
    int bound = LZ4_compressBound((int)page_size);
    char* c = malloc((size_t)bound);
    int cn = LZ4_compress_default((const char*)data, c, (int)page_size, bound);
    uint8_t sz[4];
    tenc_be(sz, (uint32_t)cn, 4);
    tenc_put(e, sz, 4, true);
    tenc_put(e, c, (size_t)cn, false);
    free(c);
  } else {
    LZ4F_preferences_t prefs = {0};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    size_t bound = LZ4F_compressFrameBound(page_size, &prefs);
    uint8_t* c = malloc(bound);
    size_t cn = LZ4F_compressFrame(c, bound, data, page_size, &prefs);
    tenc_put(e, c, cn, false);
    free(c);
  }
  e->crc = dbs_ltx_crc64(e->crc, data, page_size);
  tenc_uvarint(e, pgno);
  tenc_uvarint(e, off);
  tenc_uvarint(e, e->n - off);
}

/* Ends the file: zero page header, index, trailer. Returns the bytes
 * (caller frees) and their count in *n. */
static uint8_t* tenc_end(struct tenc* e, size_t* n) {
  uint8_t z[6] = {0};
  tenc_put(e, z, 6, true);
  tenc_uvarint(e, 0);
  tenc_put(e, e->idx, e->nidx, true);
  uint8_t b[8];
  tenc_be(b, e->nidx, 8);
  tenc_put(e, b, 8, true);
  tenc_be(b, 0, 8);
  tenc_put(e, b, 8, true);
  tenc_be(b, (1ull << 63) | e->crc, 8);
  tenc_put(e, b, 8, false);
  *n = e->n;
  return e->buf;
}

/* Page content for tests: a function of (seed, pgno). */
static void tenc_fill(uint8_t* p, uint32_t page_size, uint32_t pgno,
                      uint32_t seed) {
  uint32_t x = pgno * 2654435761u ^ seed;
  for (uint32_t i = 0; i < page_size; i++) {
    x = x * 1103515245 + 12345;
    p[i] = i % 64 < 40 ? (uint8_t)(pgno + seed) : (uint8_t)(x >> 16);
  }
}

#endif
