/*
 * Streaming decoder for one LZ4 frame (as litestream writes its objects):
 * compressed bytes in, decoded bytes out to a sink, bounded memory.
 */
#ifndef DBS_LZ4STREAM_H
#define DBS_LZ4STREAM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

/* Corrupt input: bad magic, bad block, checksum mismatch, truncation. */
#define DBS_LZ4STREAM_ECORRUPT (-EBADMSG)
/* The object is age-encrypted ("age-encryption.org/v1"). */
#define DBS_LZ4STREAM_EAGE (-EPROTONOSUPPORT)

struct dbs_lz4stream;

/*
 * Creates a decoder writing decoded bytes to sink(arg, ...) in chunks of at
 * most out_chunk bytes (0: 1 MiB). The caller owns *out (free with
 * dbs_lz4stream_free). Returns 0 or -ENOMEM.
 */
int dbs_lz4stream_new(size_t out_chunk, struct dbs_lz4stream** out);

/*
 * Starts a new frame with sink and arg, forgetting any previous state.
 * Call before the first dbs_lz4stream_write of each object.
 */
void dbs_lz4stream_reset(struct dbs_lz4stream* z, dbs_storage_sink sink,
                         void* arg);

/*
 * With allow set, bytes after the end of a complete frame are counted
 * (dbs_lz4stream_trailing) and skipped instead of failing the object, as
 * litestream's reader skips them. Off by default; kept across resets. The
 * caller must then verify what the frame decoded to by other means.
 */
void dbs_lz4stream_allow_trailing(struct dbs_lz4stream* z, bool allow);

/*
 * Feeds len compressed bytes. Usable directly as a dbs_storage_sink with
 * the decoder as arg. Returns 0, DBS_LZ4STREAM_ECORRUPT (data after the
 * end of the frame counts as corrupt unless allowed), DBS_LZ4STREAM_EAGE,
 * or the sink's own negative value.
 */
int dbs_lz4stream_write(void* z, const uint8_t* buf, size_t len);

/*
 * Ends the object: returns 0 if exactly one complete frame (checksum
 * verified) was fed, else DBS_LZ4STREAM_ECORRUPT (truncated or empty).
 */
int dbs_lz4stream_finish(struct dbs_lz4stream* z);

/* Decoded and compressed byte counts of the current object. */
uint64_t dbs_lz4stream_total_out(const struct dbs_lz4stream* z);
uint64_t dbs_lz4stream_total_in(const struct dbs_lz4stream* z);

/* Bytes skipped after the end of the current object's frame (only with
 * dbs_lz4stream_allow_trailing; else always 0). */
uint64_t dbs_lz4stream_trailing(const struct dbs_lz4stream* z);

/* A description of the last error ("content checksum mismatch"...). */
const char* dbs_lz4stream_error(const struct dbs_lz4stream* z);

void dbs_lz4stream_free(struct dbs_lz4stream* z);

#endif
