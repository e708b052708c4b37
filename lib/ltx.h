/*
 * The LTX file format of Litestream 0.5 (superfly/ltx v0.5.x): the
 * CRC-64/ISO checksum, the 100-byte header and a streaming decoder of one
 * file that checks every rule a valid file meets and hands out the pages
 * in order. Both page encodings are read: the per-page LZ4 frame of
 * litestream <= 0.5.15 (page flags 0) and the size-prefixed LZ4 block of
 * 0.5.16 and later (page flag 0x0001). Memory is bounded by one page and
 * one compressed page, whatever the file's size.
 */
#ifndef DBS_LTX_H
#define DBS_LTX_H

#include <stddef.h>
#include <stdint.h>

#define DBS_LTX_HEADER_SIZE 100
#define DBS_LTX_PAGE_HEADER_SIZE 6
#define DBS_LTX_TRAILER_SIZE 16
#define DBS_LTX_HEADER_FLAG_NO_CHECKSUM 0x2u
/* Bit 0 of the header flags marks the legacy "v1" files of ltx 0.3.x
 * (litestream v0.5.0-beta1): one LZ4 stream, no page index. */
#define DBS_LTX_HEADER_FLAG_V1_LZ4 0x1u
#define DBS_LTX_PAGE_FLAG_SIZE 0x1u

/* Errors besides -ENOMEM and a callback's own negative value. */
enum dbs_ltx_error {
  DBS_LTX_ECORRUPT = -3000, /* not a valid LTX file (message says why) */
  DBS_LTX_ELEGACY,          /* a legacy v1 LTX file (litestream 0.5 beta) */
};

/*
 * Go's hash/crc64 with the ISO table (CRC-64/GO-ISO): continues crc over
 * n bytes at p; start with 0. crc("123456789") is 0xb90956c775a41001.
 */
uint64_t dbs_ltx_crc64(uint64_t crc, const void* p, size_t n);

struct dbs_ltx_header {
  uint32_t flags, page_size, commit;
  uint64_t min_txid, max_txid;
  int64_t timestamp_ms;
  uint64_t pre_apply_checksum;
  int64_t wal_offset, wal_size;
  uint32_t wal_salt1, wal_salt2;
  uint64_t node_id;
};

/*
 * Decodes and validates the 100 header bytes at b as ltx v0.5.2's
 * Header.Validate does. Returns 0, DBS_LTX_ELEGACY or DBS_LTX_ECORRUPT
 * with the reason in err.
 */
int dbs_ltx_header_parse(const uint8_t* b, struct dbs_ltx_header* h, char* err,
                         size_t errlen);

/* SQLite's lock page for a page size: 0x40000000 / page_size + 1. */
uint32_t dbs_ltx_lock_pgno(uint32_t page_size);

/*
 * Called by the decoder: header once its bytes are valid, page for each
 * page in ascending pgno order with page_size bytes of decoded data (valid
 * only during the call). A negative return aborts the decode with that
 * value. Either may be NULL.
 */
struct dbs_ltx_callbacks {
  int (*header)(void* arg, const struct dbs_ltx_header* h);
  int (*page)(void* arg, uint32_t pgno, const uint8_t* data);
  void* arg;
};

struct dbs_ltx_dec;

/* Creates a decoder; the caller frees it with dbs_ltx_dec_free. Returns 0
 * or -ENOMEM. */
int dbs_ltx_dec_new(struct dbs_ltx_dec** out);
void dbs_ltx_dec_free(struct dbs_ltx_dec* d);

/* Starts a new file. */
void dbs_ltx_dec_reset(struct dbs_ltx_dec* d,
                       const struct dbs_ltx_callbacks* cb);

/*
 * Feeds the next len bytes of the file. Returns 0, DBS_LTX_ECORRUPT,
 * DBS_LTX_ELEGACY, -ENOMEM or a callback's value. After an error every
 * further call returns it again.
 */
int dbs_ltx_dec_write(struct dbs_ltx_dec* d, const uint8_t* buf, size_t len);

/*
 * Ends the file: checks the page index size, the trailer and the file
 * checksum (CRC-64/ISO over the header, page headers, size prefixes,
 * decoded page data, page index and the post-apply checksum). Returns 0 or
 * an error as dbs_ltx_dec_write.
 */
int dbs_ltx_dec_finish(struct dbs_ltx_dec* d);

/* Why the last call failed (empty if it did not). */
const char* dbs_ltx_dec_error(const struct dbs_ltx_dec* d);

/* The header, once decoded (NULL before). */
const struct dbs_ltx_header* dbs_ltx_dec_header(const struct dbs_ltx_dec* d);

/* Pages decoded so far; how many were in each encoding. */
uint64_t dbs_ltx_dec_pages(const struct dbs_ltx_dec* d);
uint64_t dbs_ltx_dec_frame_pages(const struct dbs_ltx_dec* d);

#endif
