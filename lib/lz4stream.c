/*
 * Streaming decoder of one LZ4 frame into a sink, in bounded memory.
 *
 * liblz4 reads the frame header (LZ4F_getFrameInfo) and decodes each block
 * (LZ4_decompress_safe); xxHash checks the block and content checksums.
 * The block framing between them (a 4-byte size, the block, an optional
 * checksum) is walked here so that each block is decoded in place: its
 * compressed bytes are received at the end of the one buffer they decode
 * into (lz4.h, "In-place compression and decompression"). LZ4F's own
 * decoder keeps two block-sized buffers, 8 MiB for the 4 MiB blocks
 * litestream writes, where this keeps one, and blocks stored uncompressed
 * pass straight through without being buffered at all.
 */
#include "lz4stream.h"

/* For the in-place buffer size macros of lz4.h (macros only). */
#define LZ4_STATIC_LINKING_ONLY
#include <lz4.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static const char age_magic[] = "age-encryption.org/v1";
#define AGE_LEN (sizeof(age_magic) - 1)
#define LZ4_MAGIC 0x184D2204u
#define DICT_MAX (64u << 10) /* linked blocks see this much history */

enum stage {
  ST_HEADER,      /* gathering the frame header */
  ST_BLOCK_SIZE,  /* gathering a block's 4-byte size (or the end mark) */
  ST_BLOCK,       /* receiving a block's bytes */
  ST_BLOCK_SUM,   /* gathering a block's checksum */
  ST_CONTENT_SUM, /* gathering the content checksum */
  ST_DONE,
};

struct dbs_lz4stream {
  LZ4F_dctx* dctx; /* reads frame headers only */
  uint8_t* buf;    /* a block decodes in place here */
  size_t cap;
  size_t out_chunk; /* decoded bytes reach the sink in pieces this size */
  uint8_t* dict;    /* linked blocks: the last decoded bytes */
  size_t ndict;
  dbs_storage_sink sink;
  void* arg;

  uint8_t head[AGE_LEN]; /* first bytes, held back to recognise age */
  size_t nhead;
  bool started; /* head checked and passed on to the decoder */
  bool failed;

  enum stage stage;
  uint8_t small[LZ4F_HEADER_SIZE_MAX]; /* header, size or checksum so far */
  size_t nsmall, need;
  LZ4F_frameInfo_t info;
  size_t block_max;
  size_t block_len, block_got;
  bool block_raw;
  uint64_t nblocks;
  XXH32_state_t content, block_sum;

  uint64_t total_in, total_out;
  bool allow_trailing;
  uint64_t trailing; /* bytes skipped after the frame */
  char error[160];
};

int dbs_lz4stream_new(size_t out_chunk, struct dbs_lz4stream** out) {
  *out = NULL;
  struct dbs_lz4stream* z = calloc(1, sizeof(*z));
  if (z == NULL)
    return -ENOMEM;
  z->out_chunk = out_chunk ? out_chunk : (1u << 20);
  if (LZ4F_isError(LZ4F_createDecompressionContext(&z->dctx, LZ4F_VERSION))) {
    free(z);
    return -ENOMEM;
  }
  *out = z;
  return 0;
}

void dbs_lz4stream_reset(struct dbs_lz4stream* z, dbs_storage_sink sink,
                         void* arg) {
  LZ4F_resetDecompressionContext(z->dctx);
  z->sink = sink;
  z->arg = arg;
  z->nhead = 0;
  z->started = z->failed = false;
  z->stage = ST_HEADER;
  z->nsmall = 0;
  z->need = LZ4F_MIN_SIZE_TO_KNOW_HEADER_LENGTH;
  z->ndict = 0;
  z->nblocks = 0;
  z->total_in = z->total_out = 0;
  z->trailing = 0;
  z->error[0] = '\0';
}

void dbs_lz4stream_allow_trailing(struct dbs_lz4stream* z, bool allow) {
  z->allow_trailing = allow;
}

static int fail(struct dbs_lz4stream* z, int rc, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct dbs_lz4stream* z, int rc, const char* fmt, ...) {
  va_list ap;
  z->failed = true;
  va_start(ap, fmt);
  vsnprintf(z->error, sizeof(z->error), fmt, ap);
  va_end(ap);
  return rc;
}

static uint32_t le32(const uint8_t* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Keeps the last DICT_MAX decoded bytes for a linked block's matches. */
static void dict_append(struct dbs_lz4stream* z, const uint8_t* p, size_t n) {
  if (n >= DICT_MAX) {
    memcpy(z->dict, p + n - DICT_MAX, DICT_MAX);
    z->ndict = DICT_MAX;
    return;
  }
  size_t keep = z->ndict + n > DICT_MAX ? DICT_MAX - n : z->ndict;
  memmove(z->dict, z->dict + z->ndict - keep, keep);
  memcpy(z->dict + keep, p, n);
  z->ndict = keep + n;
}

/* Passes decoded bytes on: content checksum, sink, history. */
static int emit(struct dbs_lz4stream* z, const uint8_t* p, size_t n) {
  if (z->info.blockMode == LZ4F_blockLinked)
    dict_append(z, p, n);
  while (n > 0) {
    size_t k = n < z->out_chunk ? n : z->out_chunk;
    if (z->info.contentChecksumFlag)
      XXH32_update(&z->content, p, k);
    z->total_out += k;
    int rc = z->sink(z->arg, p, k);
    if (rc != 0) {
      z->failed = true;
      return rc;
    }
    p += k;
    n -= k;
  }
  return 0;
}

/* The frame header is in z->small: let liblz4 read it. */
static int start_frame(struct dbs_lz4stream* z) {
  size_t len = z->nsmall;
  size_t r = LZ4F_getFrameInfo(z->dctx, &z->info, z->small, &len);
  if (LZ4F_isError(r))
    return fail(z, DBS_LZ4STREAM_ECORRUPT, "LZ4 frame header: %s",
                LZ4F_getErrorName(r));
  if (z->info.frameType != LZ4F_frame)
    return fail(z, DBS_LZ4STREAM_ECORRUPT,
                "a skippable LZ4 frame, not a litestream object");
  if (z->info.dictID != 0)
    return fail(z, DBS_LZ4STREAM_ECORRUPT, "the LZ4 frame needs dictionary %u",
                z->info.dictID);
  switch (z->info.blockSizeID) {
  case LZ4F_max64KB:
  case LZ4F_default:
    z->block_max = 64u << 10;
    break;
  case LZ4F_max256KB:
    z->block_max = 256u << 10;
    break;
  case LZ4F_max1MB:
    z->block_max = 1u << 20;
    break;
  case LZ4F_max4MB:
    z->block_max = 4u << 20;
    break;
  default:
    return fail(z, DBS_LZ4STREAM_ECORRUPT, "LZ4 frame: bad block size");
  }
  size_t cap = LZ4_DECOMPRESS_INPLACE_BUFFER_SIZE(z->block_max);
  if (z->cap < cap) {
    /* Page-aligned: the sink's copies out of it run measurably faster. */
    free(z->buf);
    z->cap = 0;
    z->buf = aligned_alloc(4096, (cap + 4095) & ~(size_t)4095);
    if (z->buf == NULL)
      return fail(z, -ENOMEM, "out of memory");
    z->cap = cap;
  }
  if (z->info.blockMode == LZ4F_blockLinked && z->dict == NULL &&
      (z->dict = malloc(DICT_MAX)) == NULL)
    return fail(z, -ENOMEM, "out of memory");
  if (z->info.contentChecksumFlag)
    XXH32_reset(&z->content, 0);
  z->stage = ST_BLOCK_SIZE;
  z->nsmall = 0;
  z->need = 4;
  return 0;
}

/* Block z->block_len bytes long has arrived (and its checksum matched). */
static int end_block(struct dbs_lz4stream* z) {
  z->nblocks++;
  z->stage = ST_BLOCK_SIZE;
  z->need = 4;
  if (z->block_raw)
    return 0; /* already passed on as it arrived */
  const char* src = (const char*)z->buf + z->cap - z->block_len;
  int n = z->info.blockMode == LZ4F_blockLinked
              ? LZ4_decompress_safe_usingDict(
                    src, (char*)z->buf, (int)z->block_len, (int)z->block_max,
                    (const char*)z->dict, (int)z->ndict)
              : LZ4_decompress_safe(src, (char*)z->buf, (int)z->block_len,
                                    (int)z->block_max);
  if (n < 0)
    return fail(z, DBS_LZ4STREAM_ECORRUPT, "LZ4 block %llu is corrupt",
                (unsigned long long)z->nblocks);
  return emit(z, z->buf, (size_t)n);
}

/* A block's bytes are all in: its checksum follows, or it ends. */
static int end_data(struct dbs_lz4stream* z) {
  if (!z->info.blockChecksumFlag)
    return end_block(z);
  z->stage = ST_BLOCK_SUM;
  z->need = 4;
  return 0;
}

/* A complete 4-byte field (or the header) is in z->small. */
static int end_small(struct dbs_lz4stream* z) {
  switch (z->stage) {
  case ST_HEADER:
    if (z->nsmall == LZ4F_MIN_SIZE_TO_KNOW_HEADER_LENGTH) {
      if (le32(z->small) != LZ4_MAGIC)
        return fail(z, DBS_LZ4STREAM_ECORRUPT,
                    "not an LZ4 frame (bad magic number)");
      size_t h = LZ4F_headerSize(z->small, z->nsmall);
      if (LZ4F_isError(h))
        return fail(z, DBS_LZ4STREAM_ECORRUPT, "LZ4 frame header: %s",
                    LZ4F_getErrorName(h));
      if (h > z->nsmall) {
        z->need = h;
        return 0;
      }
    }
    return start_frame(z);
  case ST_BLOCK_SIZE: {
    uint32_t v = le32(z->small);
    z->nsmall = 0;
    if (v == 0) { /* the end mark */
      if (z->info.contentSize != 0 && z->total_out != z->info.contentSize)
        return fail(z, DBS_LZ4STREAM_ECORRUPT,
                    "LZ4 frame holds %llu bytes, its header says %llu",
                    (unsigned long long)z->total_out,
                    (unsigned long long)z->info.contentSize);
      z->stage = z->info.contentChecksumFlag ? ST_CONTENT_SUM : ST_DONE;
      return 0;
    }
    z->block_raw = (v >> 31) != 0;
    z->block_len = v & 0x7fffffffu;
    z->block_got = 0;
    if (z->block_len > z->block_max)
      return fail(z, DBS_LZ4STREAM_ECORRUPT,
                  "LZ4 block %llu is %zu bytes, over the frame's %zu",
                  (unsigned long long)z->nblocks + 1, z->block_len,
                  z->block_max);
    if (z->info.blockChecksumFlag)
      XXH32_reset(&z->block_sum, 0);
    z->stage = ST_BLOCK;
    return z->block_len == 0 ? end_data(z) : 0;
  }
  case ST_BLOCK_SUM: {
    uint32_t want = le32(z->small);
    z->nsmall = 0;
    if (!z->block_raw)
      XXH32_update(&z->block_sum, z->buf + z->cap - z->block_len, z->block_len);
    if (XXH32_digest(&z->block_sum) != want)
      return fail(z, DBS_LZ4STREAM_ECORRUPT,
                  "LZ4 block %llu fails its checksum",
                  (unsigned long long)z->nblocks + 1);
    return end_block(z);
  }
  case ST_CONTENT_SUM:
    z->nsmall = 0;
    if (le32(z->small) != XXH32_digest(&z->content))
      return fail(z, DBS_LZ4STREAM_ECORRUPT,
                  "LZ4 frame: content checksum mismatch");
    z->stage = ST_DONE;
    return 0;
  default:
    return fail(z, DBS_LZ4STREAM_ECORRUPT, "LZ4 decoder in a bad state");
  }
}

/* Runs the frame's stages over src. */
static int decode(struct dbs_lz4stream* z, const uint8_t* src, size_t len) {
  while (len > 0) {
    if (z->stage == ST_DONE) {
      if (!z->allow_trailing)
        return fail(z, DBS_LZ4STREAM_ECORRUPT,
                    "data after the end of the LZ4 frame");
      z->trailing += len;
      return 0;
    }
    if (z->stage != ST_BLOCK) {
      size_t take = z->need - z->nsmall < len ? z->need - z->nsmall : len;
      memcpy(z->small + z->nsmall, src, take);
      z->nsmall += take;
      src += take;
      len -= take;
      if (z->nsmall == z->need) {
        int rc = end_small(z);
        if (rc != 0)
          return rc;
      }
      continue;
    }
    size_t take = z->block_len - z->block_got;
    if (take > len)
      take = len;
    if (z->block_raw) {
      if (z->info.blockChecksumFlag)
        XXH32_update(&z->block_sum, src, take);
      int rc = emit(z, src, take);
      if (rc != 0)
        return rc;
    } else {
      memcpy(z->buf + z->cap - z->block_len + z->block_got, src, take);
    }
    z->block_got += take;
    src += take;
    len -= take;
    if (z->block_got == z->block_len) {
      int rc = end_data(z);
      if (rc != 0)
        return rc;
    }
  }
  return 0;
}

int dbs_lz4stream_write(void* arg, const uint8_t* buf, size_t len) {
  struct dbs_lz4stream* z = arg;
  if (z->failed)
    return DBS_LZ4STREAM_ECORRUPT;
  z->total_in += len;
  if (!z->started) {
    /* Hold back the first bytes until we know it is not an age file. */
    size_t take = AGE_LEN - z->nhead;
    if (take > len)
      take = len;
    memcpy(z->head + z->nhead, buf, take);
    z->nhead += take;
    buf += take;
    len -= take;
    if (memcmp(z->head, age_magic, z->nhead) == 0) {
      if (z->nhead < AGE_LEN)
        return 0;
      return fail(z, DBS_LZ4STREAM_EAGE, "age-encrypted object");
    }
    z->started = true;
    int rc = decode(z, z->head, z->nhead);
    if (rc != 0)
      return rc;
  }
  return decode(z, buf, len);
}

int dbs_lz4stream_finish(struct dbs_lz4stream* z) {
  if (z->failed)
    return DBS_LZ4STREAM_ECORRUPT;
  if (!z->started && z->nhead > 0) {
    /* Shorter than the age magic: let the decoder judge the few bytes. */
    z->started = true;
    int rc = decode(z, z->head, z->nhead);
    if (rc != 0)
      return rc;
  }
  if (z->stage != ST_DONE)
    return fail(z, DBS_LZ4STREAM_ECORRUPT, "%s",
                z->total_in == 0 ? "empty object, expected an LZ4 frame"
                                 : "truncated LZ4 frame");
  return 0;
}

uint64_t dbs_lz4stream_total_out(const struct dbs_lz4stream* z) {
  return z->total_out;
}

uint64_t dbs_lz4stream_total_in(const struct dbs_lz4stream* z) {
  return z->total_in;
}

uint64_t dbs_lz4stream_trailing(const struct dbs_lz4stream* z) {
  return z->trailing;
}

const char* dbs_lz4stream_error(const struct dbs_lz4stream* z) {
  return z->error[0] ? z->error : "no error";
}

void dbs_lz4stream_free(struct dbs_lz4stream* z) {
  if (z == NULL)
    return;
  LZ4F_freeDecompressionContext(z->dctx);
  free(z->buf);
  free(z->dict);
  free(z);
}
