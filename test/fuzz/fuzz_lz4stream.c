/*
 * The streaming LZ4 frame decoder (lz4stream.c), differential against
 * liblz4's own frame decoder (LZ4F_decompress).
 *
 * Input: a mode byte, a byte seeding how the input is cut into writes,
 * then the payload. Modes (mod 3):
 *   0  the payload is a frame: both decoders read it, and must agree;
 *   1  the payload is data: liblz4 compresses it with the settings of the
 *      payload's first byte, the decoder must give the data back exactly;
 *   2  as 1, then one byte of the frame is replaced (position and value
 *      from the payload's next bytes) and both decoders must agree.
 * Bit 6 of the second byte allows bytes after the frame
 * (dbs_lz4stream_allow_trailing), as the restore does for WAL segments.
 * "Agree": the decoder never outputs bytes liblz4 does not; it accepts a
 * frame only if liblz4 decodes it completely to the same bytes; and it
 * accepts every plain frame (no skippable frame, no dictionary, not age)
 * that liblz4 decodes completely with nothing after it (or anything, when
 * allowed).
 */
#include <lz4frame.h>
#include <string.h>

#include "fuzz.h"
#include "lz4stream.h"

#define OUT_MAX (8u << 20) /* decoded bytes compared at most */

struct sink {
  uint8_t* buf;
  size_t n, cap;
  size_t max_chunk;
};

static int sink_write(void* arg, const uint8_t* p, size_t len) {
  struct sink* s = arg;
  FUZZ_CHECK(len > 0 && len <= s->max_chunk);
  if (s->n + len > OUT_MAX)
    return -EFBIG;
  if (s->n + len > s->cap) {
    size_t cap = s->cap ? s->cap : 65536;
    while (cap < s->n + len)
      cap *= 2;
    s->buf = realloc(s->buf, cap);
    FUZZ_CHECK(s->buf != NULL);
    s->cap = cap;
  }
  memcpy(s->buf + s->n, p, len);
  s->n += len;
  return 0;
}

/* A small PRNG for the write sizes (xorshift32). */
static uint32_t next_rand(uint32_t* x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

/* dbsetup's decoder over frame, cut into writes of random size. */
static int ours(const uint8_t* frame, size_t len, uint8_t seed,
                struct sink* out, uint64_t* trailing) {
  static const size_t chunks[] = {1, 7, 4096, 65536, 1u << 20};
  struct dbs_lz4stream* z = NULL;
  FUZZ_CHECK(dbs_lz4stream_new(chunks[seed % 5], &z) == 0);
  out->max_chunk = chunks[seed % 5];
  dbs_lz4stream_reset(z, sink_write, out);
  dbs_lz4stream_allow_trailing(z, seed & 0x40);
  uint32_t x = 0x9e3779b9u ^ seed;
  int rc = 0;
  for (size_t off = 0; rc == 0 && off < len;) {
    size_t n = seed & 0x80 ? 1 + next_rand(&x) % 64 : 1 + next_rand(&x) % 9000;
    if (n > len - off)
      n = len - off;
    rc = dbs_lz4stream_write(z, frame + off, n);
    off += n;
  }
  if (rc == 0)
    rc = dbs_lz4stream_finish(z);
  if (rc == 0)
    FUZZ_CHECK(dbs_lz4stream_total_out(z) == out->n);
  *trailing = dbs_lz4stream_trailing(z);
  FUZZ_CHECK((seed & 0x40) || *trailing == 0);
  FUZZ_CHECK(dbs_lz4stream_error(z) != NULL);
  dbs_lz4stream_free(z);
  return rc;
}

/*
 * liblz4's decoder over the first frame of in: returns 1 when that frame
 * is complete (*used: its length), 0 when it is truncated, -1 on error;
 * the bytes it decoded go to out either way.
 */
static int theirs(const uint8_t* in, size_t len, struct sink* out,
                  size_t* used) {
  LZ4F_dctx* d = NULL;
  FUZZ_CHECK(!LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)));
  uint8_t buf[65536];
  size_t off = 0;
  int res = 0;
  out->max_chunk = sizeof(buf);
  for (;;) {
    size_t src = len - off, dst = sizeof(buf);
    size_t r = LZ4F_decompress(d, buf, &dst, in + off, &src, NULL);
    off += src;
    if (dst > 0 && sink_write(out, buf, dst) != 0) {
      res = -1;
      break;
    }
    if (LZ4F_isError(r)) {
      res = -1;
      break;
    }
    if (r == 0) {
      res = 1;
      break;
    }
    if (src == 0 && dst == 0)
      break; /* needs more input than there is */
  }
  *used = off;
  LZ4F_freeDecompressionContext(d);
  return res;
}

/* True for a frame this decoder is meant to read: an LZ4 frame (not a
 * skippable one) without a dictionary, not starting like an age file. */
static bool plain_frame(const uint8_t* in, size_t len) {
  if (len >= 3 && memcmp(in, "age", 3) == 0)
    return false;
  LZ4F_dctx* d = NULL;
  LZ4F_frameInfo_t info;
  size_t n = len;
  FUZZ_CHECK(!LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)));
  size_t r = LZ4F_getFrameInfo(d, &info, in, &n);
  LZ4F_freeDecompressionContext(d);
  return !LZ4F_isError(r) && info.frameType == LZ4F_frame && info.dictID == 0;
}

static void differential(const uint8_t* frame, size_t len, uint8_t seed) {
  struct sink a = {0}, b = {0};
  size_t used = 0;
  uint64_t trailing = 0;
  int rc = ours(frame, len, seed, &a, &trailing);
  int res = theirs(frame, len, &b, &used);
  FUZZ_CHECK(rc == 0 || rc == DBS_LZ4STREAM_ECORRUPT ||
             rc == DBS_LZ4STREAM_EAGE || rc == -EFBIG || rc == -ENOMEM);
  if (b.n < OUT_MAX && a.n < OUT_MAX) {
    /* Ours may pass on a stored block before its checksum fails, liblz4
     * may decode further before it gives up: one is a prefix of the
     * other. */
    size_t common = a.n < b.n ? a.n : b.n;
    FUZZ_CHECK(common == 0 || memcmp(a.buf, b.buf, common) == 0);
    if (rc == 0) {
      FUZZ_CHECK(res == 1);
      FUZZ_CHECK(a.n == b.n);
      FUZZ_CHECK(trailing == len - used);
    }
    /* Bytes after the frame fail the object, unless allowed (seed bit 6),
     * when they are counted and skipped. */
    if (res == 1 && (used == len || (seed & 0x40)) && plain_frame(frame, len))
      FUZZ_CHECK(rc == 0);
  }
  free(a.buf);
  free(b.buf);
}

FUZZ_INITIALIZE(fuzz_no_setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  int mode = data[0] % 3;
  uint8_t seed = data[1];
  data += 2;
  size -= 2;
  if (mode == 0) {
    differential(data, size, seed);
    return 0;
  }
  if (size < 1 + (mode == 2 ? 4 : 0))
    return 0;
  uint8_t how = data[0];
  size_t pos = 0;
  uint8_t val = 0;
  if (mode == 2) {
    pos = (size_t)data[1] | (size_t)data[2] << 8;
    val = data[3];
    data += 3;
    size -= 3;
  }
  data++;
  size--;

  static const LZ4F_blockSizeID_t ids[] = {LZ4F_max64KB, LZ4F_max256KB,
                                           LZ4F_max1MB, LZ4F_max4MB};
  LZ4F_preferences_t prefs;
  memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = ids[how & 3];
  prefs.frameInfo.blockMode =
      how & 4 ? LZ4F_blockIndependent : LZ4F_blockLinked;
  prefs.frameInfo.contentChecksumFlag =
      how & 8 ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag =
      how & 16 ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = how & 32 ? size : 0;
  prefs.compressionLevel = how & 64 ? 9 : 0;
  size_t cap = LZ4F_compressFrameBound(size, &prefs);
  uint8_t* frame = malloc(cap);
  FUZZ_CHECK(frame != NULL);
  size_t flen = LZ4F_compressFrame(frame, cap, data, size, &prefs);
  FUZZ_CHECK(!LZ4F_isError(flen));
  if (mode == 1) {
    struct sink out = {0};
    uint64_t trailing;
    FUZZ_CHECK(ours(frame, flen, seed, &out, &trailing) == 0);
    FUZZ_CHECK(trailing == 0);
    FUZZ_CHECK(out.n == size);
    FUZZ_CHECK(size == 0 || memcmp(out.buf, data, size) == 0);
    free(out.buf);
  } else {
    frame[pos % flen] = val;
    differential(frame, flen, seed);
  }
  free(frame);
  return 0;
}
