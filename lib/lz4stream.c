/* Streaming LZ4 frame decoding through liblz4's LZ4F API into a sink. */
#include "lz4stream.h"

#include <lz4frame.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char age_magic[] = "age-encryption.org/v1";
#define AGE_LEN (sizeof(age_magic) - 1)

struct dbs_lz4stream {
  LZ4F_dctx* dctx;
  uint8_t* out;
  size_t out_len;
  dbs_storage_sink sink;
  void* arg;
  uint8_t head[AGE_LEN]; /* first bytes, held back to recognise age */
  size_t nhead;
  bool started; /* head checked and passed on to LZ4F */
  bool done;    /* LZ4F reported the end of the frame */
  bool failed;
  uint64_t total_in, total_out;
  char error[160];
};

int dbs_lz4stream_new(size_t out_chunk, struct dbs_lz4stream** out) {
  *out = NULL;
  struct dbs_lz4stream* z = calloc(1, sizeof(*z));
  if (z == NULL)
    return -ENOMEM;
  z->out_len = out_chunk ? out_chunk : (1u << 20);
  z->out = aligned_alloc(4096, (z->out_len + 4095) & ~(size_t)4095);
  if (z->out == NULL ||
      LZ4F_isError(LZ4F_createDecompressionContext(&z->dctx, LZ4F_VERSION))) {
    free(z->out);
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
  z->started = z->done = z->failed = false;
  z->total_in = z->total_out = 0;
  z->error[0] = '\0';
}

static int fail(struct dbs_lz4stream* z, int rc, const char* msg) {
  z->failed = true;
  snprintf(z->error, sizeof(z->error), "%s", msg);
  return rc;
}

/* Runs LZ4F over src, passing decoded output to the sink. */
static int decode(struct dbs_lz4stream* z, const uint8_t* src, size_t len) {
  for (;;) {
    if (z->done) {
      if (len > 0)
        return fail(z, DBS_LZ4STREAM_ECORRUPT,
                    "data after the end of the LZ4 frame");
      return 0;
    }
    size_t dst_len = z->out_len, src_len = len;
    size_t hint =
        LZ4F_decompress(z->dctx, z->out, &dst_len, src, &src_len, NULL);
    if (LZ4F_isError(hint)) {
      char msg[128];
      snprintf(msg, sizeof(msg), "LZ4 frame: %s", LZ4F_getErrorName(hint));
      return fail(z, DBS_LZ4STREAM_ECORRUPT, msg);
    }
    src += src_len;
    len -= src_len;
    if (dst_len > 0) {
      z->total_out += dst_len;
      int rc = z->sink(z->arg, z->out, dst_len);
      if (rc != 0) {
        z->failed = true;
        return rc;
      }
    }
    if (hint == 0) {
      z->done = true;
      continue;
    }
    /* Go on while input remains or the output buffer came back full
     * (LZ4F may hold more decoded bytes). */
    if (dst_len < z->out_len && len == 0)
      return 0;
    if (src_len == 0 && dst_len == 0)
      return fail(z, DBS_LZ4STREAM_ECORRUPT, "LZ4 decoder made no progress");
  }
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
    /* Shorter than the age magic: let LZ4F judge the few bytes. */
    z->started = true;
    int rc = decode(z, z->head, z->nhead);
    if (rc != 0)
      return rc;
  }
  if (!z->done)
    return fail(z, DBS_LZ4STREAM_ECORRUPT,
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

const char* dbs_lz4stream_error(const struct dbs_lz4stream* z) {
  return z->error[0] ? z->error : "no error";
}

void dbs_lz4stream_free(struct dbs_lz4stream* z) {
  if (z == NULL)
    return;
  LZ4F_freeDecompressionContext(z->dctx);
  free(z->out);
  free(z);
}
