/* The LTX file format: CRC-64/ISO, header rules, a streaming decoder. */
#include "ltx.h"

#include <assert.h>
#include <errno.h>
#include <lz4.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- CRC-64/ISO ------------------------------------------------------ */

/*
 * The parameters are those of Go's hash/crc64 with crc64.ISO, which ltx
 * uses for its file checksum (ltx encoder.go: crc64.New(crc64.MakeTable(
 * crc64.ISO))): the ISO 3309 polynomial x^64 + x^4 + x^3 + x + 1, 0x1B,
 * processed bit-reversed (Go's constant crc64.ISO = 0xD800000000000000),
 * initial value and final xor all ones (Go's Update complements before and
 * after). The check value for "123456789" is 0xb90956c775a41001 (reveng's
 * CRC-64/GO-ISO). The tables are the usual slicing-by-8 ones: tab[0] is
 * the byte-at-a-time table, tab[k] advances a byte through k more zeros.
 */
#define CRC64_ISO_POLY 0xD800000000000000ull

static uint64_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (unsigned i = 0; i < 256; i++) {
    uint64_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? (c >> 1) ^ CRC64_ISO_POLY : c >> 1;
    crc_tab[0][i] = c;
  }
  for (unsigned i = 0; i < 256; i++)
    for (int k = 1; k < 8; k++)
      crc_tab[k][i] =
          (crc_tab[k - 1][i] >> 8) ^ crc_tab[0][crc_tab[k - 1][i] & 0xff];
}

uint64_t dbs_ltx_crc64(uint64_t crc, const void* buf, size_t n) {
  pthread_once(&crc_once, crc_init);
  const uint8_t* p = buf;
  crc = ~crc;
  while (n >= 8) {
    uint64_t v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                 (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
                 (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
                 (uint64_t)p[7] << 56;
    crc ^= v;
    crc = crc_tab[7][crc & 0xff] ^ crc_tab[6][(crc >> 8) & 0xff] ^
          crc_tab[5][(crc >> 16) & 0xff] ^ crc_tab[4][(crc >> 24) & 0xff] ^
          crc_tab[3][(crc >> 32) & 0xff] ^ crc_tab[2][(crc >> 40) & 0xff] ^
          crc_tab[1][(crc >> 48) & 0xff] ^ crc_tab[0][crc >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0)
    crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ---- header ---------------------------------------------------------- */

static uint32_t be32(const uint8_t* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static uint64_t be64(const uint8_t* p) {
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}

uint32_t dbs_ltx_lock_pgno(uint32_t page_size) {
  return 0x40000000u / page_size + 1;
}

int dbs_ltx_header_parse(const uint8_t* b, struct dbs_ltx_header* h, char* err,
                         size_t errlen) {
  memset(h, 0, sizeof(*h));
  h->flags = be32(b + 4);
  h->page_size = be32(b + 8);
  h->commit = be32(b + 12);
  h->min_txid = be64(b + 16);
  h->max_txid = be64(b + 24);
  h->timestamp_ms = (int64_t)be64(b + 32);
  h->pre_apply_checksum = be64(b + 40);
  h->wal_offset = (int64_t)be64(b + 48);
  h->wal_size = (int64_t)be64(b + 56);
  h->wal_salt1 = be32(b + 64);
  h->wal_salt2 = be32(b + 68);
  h->node_id = be64(b + 72);
  const char* why = NULL;
  if (memcmp(b, "LTX1", 4) != 0)
    why = "no LTX1 magic";
  else if (h->flags & DBS_LTX_HEADER_FLAG_V1_LZ4) {
    snprintf(err, errlen,
             "legacy LTX v1 file (header flags 0x%08x: written by litestream "
             "v0.5.0-beta1), which litestream 0.5 itself no longer reads",
             h->flags);
    return DBS_LTX_ELEGACY;
  } else if (h->flags & ~DBS_LTX_HEADER_FLAG_NO_CHECKSUM)
    why = "invalid header flags";
  else if (h->page_size < 512 || h->page_size > 65536 ||
           (h->page_size & (h->page_size - 1)) != 0)
    why = "invalid page size";
  else if (h->min_txid == 0 || h->max_txid == 0)
    why = "transaction id 0";
  else if (h->min_txid > h->max_txid)
    why = "transaction ids out of order";
  else if (h->wal_offset < 0 || h->wal_size < 0)
    why = "negative WAL offset or size";
  else if ((h->wal_salt1 != 0 || h->wal_salt2 != 0) && h->wal_offset == 0)
    why = "WAL salt without a WAL offset";
  else if (h->wal_offset == 0 && h->wal_size != 0)
    why = "WAL size without a WAL offset";
  else if ((h->min_txid == 1 ||
            (h->flags & DBS_LTX_HEADER_FLAG_NO_CHECKSUM) != 0) &&
           h->pre_apply_checksum != 0)
    why = "pre-apply checksum where none is allowed";
  else if (h->min_txid != 1 &&
           (h->flags & DBS_LTX_HEADER_FLAG_NO_CHECKSUM) == 0 &&
           (h->pre_apply_checksum & (1ull << 63)) == 0)
    why = "missing or malformed pre-apply checksum";
  if (why != NULL) {
    snprintf(err, errlen,
             "invalid LTX header: %s (flags 0x%08x, page size %u, "
             "txid %016llx-%016llx)",
             why, h->flags, h->page_size, (unsigned long long)h->min_txid,
             (unsigned long long)h->max_txid);
    return DBS_LTX_ECORRUPT;
  }
  return 0;
}

/* ---- decoder --------------------------------------------------------- */

enum stage {
  ST_HEADER,     /* gathering the 100 header bytes */
  ST_PAGE_HDR,   /* gathering a 6-byte page header */
  ST_PAGE_SIZE,  /* gathering a block page's 4-byte size */
  ST_PAGE_BLOCK, /* gathering a block page's compressed bytes */
  ST_PAGE_FRAME, /* decoding a frame page through LZ4F */
  ST_TAIL,       /* page index and trailer: hashed, the last 24 held back */
  ST_FAILED,
};

/* The tail ends with index_size (8), post-apply (8), file checksum (8). */
#define TAIL_HOLD 24

struct dbs_ltx_dec {
  struct dbs_ltx_callbacks cb;
  enum stage stage;
  int err_rc;
  struct dbs_ltx_header h;
  bool have_header;
  uint32_t lock;
  uint8_t small[DBS_LTX_HEADER_SIZE];
  size_t nsmall;
  uint8_t* page; /* page_size + 1: one byte more detects a long frame */
  size_t page_cap;
  uint8_t* cbuf; /* a block page's compressed bytes */
  size_t cbuf_cap, clen, cgot;
  LZ4F_dctx* dctx;
  size_t frame_out;
  uint32_t pgno, prev_pgno;
  uint64_t pages, frame_pages;
  uint64_t crc;
  uint8_t hold[TAIL_HOLD];
  size_t nhold;
  uint64_t tail_n;
  char error[256];
};

int dbs_ltx_dec_new(struct dbs_ltx_dec** out) {
  *out = NULL;
  struct dbs_ltx_dec* d = calloc(1, sizeof(*d));
  if (d == NULL)
    return -ENOMEM;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&d->dctx, LZ4F_VERSION))) {
    free(d);
    return -ENOMEM;
  }
  *out = d;
  return 0;
}

void dbs_ltx_dec_free(struct dbs_ltx_dec* d) {
  if (d == NULL)
    return;
  LZ4F_freeDecompressionContext(d->dctx);
  free(d->page);
  free(d->cbuf);
  free(d);
}

void dbs_ltx_dec_reset(struct dbs_ltx_dec* d,
                       const struct dbs_ltx_callbacks* cb) {
  d->cb = cb ? *cb : (struct dbs_ltx_callbacks){0};
  d->stage = ST_HEADER;
  d->err_rc = 0;
  d->have_header = false;
  d->nsmall = 0;
  d->clen = d->cgot = 0;
  d->frame_out = 0;
  d->pgno = d->prev_pgno = 0;
  d->pages = d->frame_pages = 0;
  d->crc = 0;
  d->nhold = 0;
  d->tail_n = 0;
  d->error[0] = '\0';
  LZ4F_resetDecompressionContext(d->dctx);
}

static int fail(struct dbs_ltx_dec* d, int rc, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct dbs_ltx_dec* d, int rc, const char* fmt, ...) {
  assert(rc < 0);
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof(d->error), fmt, ap);
    va_end(ap);
  }
  d->stage = ST_FAILED;
  d->err_rc = rc;
  return rc;
}

const char* dbs_ltx_dec_error(const struct dbs_ltx_dec* d) {
  return d->error;
}

const struct dbs_ltx_header* dbs_ltx_dec_header(const struct dbs_ltx_dec* d) {
  return d->have_header ? &d->h : NULL;
}

uint64_t dbs_ltx_dec_pages(const struct dbs_ltx_dec* d) {
  return d->pages;
}

uint64_t dbs_ltx_dec_frame_pages(const struct dbs_ltx_dec* d) {
  return d->frame_pages;
}

/* Gathers up to need bytes into d->small; true once it holds need. */
static bool gather(struct dbs_ltx_dec* d, size_t need, const uint8_t** p,
                   size_t* n) {
  assert(need <= sizeof(d->small) && d->nsmall < need);
  size_t take = need - d->nsmall < *n ? need - d->nsmall : *n;
  memcpy(d->small + d->nsmall, *p, take);
  d->nsmall += take;
  *p += take;
  *n -= take;
  return d->nsmall == need;
}

/* Grows *buf (holding *cap bytes) to at least need bytes. Returns 0 or
 * -ENOMEM (*buf unchanged). */
static int grow(uint8_t** buf, size_t* cap, size_t need) {
  if (*cap >= need)
    return 0;
  uint8_t* p = realloc(*buf, need);
  if (p == NULL)
    return -ENOMEM;
  *buf = p;
  *cap = need;
  return 0;
}

static int on_header(struct dbs_ltx_dec* d) {
  int rc = dbs_ltx_header_parse(d->small, &d->h, d->error, sizeof(d->error));
  if (rc != 0)
    return fail(d, rc, NULL);
  d->have_header = true;
  d->crc = dbs_ltx_crc64(d->crc, d->small, DBS_LTX_HEADER_SIZE);
  d->lock = dbs_ltx_lock_pgno(d->h.page_size);
  /* One byte more than a page: a frame decoding to more is detected. */
  if (grow(&d->page, &d->page_cap, (size_t)d->h.page_size + 1) != 0 ||
      grow(&d->cbuf, &d->cbuf_cap,
           (size_t)LZ4_compressBound((int)d->h.page_size)) != 0)
    return fail(d, -ENOMEM, "out of memory");
  if (d->cb.header != NULL && (rc = d->cb.header(d->cb.arg, &d->h)) != 0)
    return fail(d, rc, NULL);
  d->stage = ST_PAGE_HDR;
  d->nsmall = 0;
  return 0;
}

/* The page header in d->small: the end of the page block or a page. */
static int on_page_header(struct dbs_ltx_dec* d) {
  const uint8_t* b = d->small;
  uint32_t pgno = be32(b);
  uint16_t flags = (uint16_t)(b[4] << 8 | b[5]);
  d->crc = dbs_ltx_crc64(d->crc, b, DBS_LTX_PAGE_HEADER_SIZE);
  d->nsmall = 0;
  if (pgno == 0 && flags == 0) {
    if (d->h.min_txid == 1) {
      /* A snapshot holds every page 1..commit but the lock page. */
      uint32_t last = d->h.commit == d->lock ? d->h.commit - 1 : d->h.commit;
      if (d->prev_pgno != last)
        return fail(d, DBS_LTX_ECORRUPT,
                    "snapshot ends at page %u but its commit is %u pages",
                    d->prev_pgno, d->h.commit);
    }
    d->stage = ST_TAIL;
    return 0;
  }
  if (pgno == 0)
    return fail(d, DBS_LTX_ECORRUPT, "page number 0 after page %u",
                d->prev_pgno);
  if (flags & ~DBS_LTX_PAGE_FLAG_SIZE)
    return fail(d, DBS_LTX_ECORRUPT, "page %u has unknown flags 0x%04x", pgno,
                flags);
  if (pgno <= d->prev_pgno)
    return fail(d, DBS_LTX_ECORRUPT, "page %u after page %u (out of order)",
                pgno, d->prev_pgno);
  if (pgno > d->h.commit)
    return fail(d, DBS_LTX_ECORRUPT,
                "page %u is beyond the commit size of %u pages", pgno,
                d->h.commit);
  if (pgno == d->lock)
    return fail(d, DBS_LTX_ECORRUPT, "holds the lock page %u", pgno);
  if (d->h.min_txid == 1) {
    uint32_t want =
        d->prev_pgno + 1 == d->lock ? d->lock + 1 : d->prev_pgno + 1;
    if (pgno != want)
      return fail(d, DBS_LTX_ECORRUPT, "snapshot skips from page %u to page %u",
                  d->prev_pgno, pgno);
  }
  d->pgno = pgno;
  if (flags & DBS_LTX_PAGE_FLAG_SIZE) {
    d->stage = ST_PAGE_SIZE;
  } else {
    LZ4F_resetDecompressionContext(d->dctx);
    d->frame_out = 0;
    d->stage = ST_PAGE_FRAME;
  }
  return 0;
}

static int deliver(struct dbs_ltx_dec* d) {
  assert(d->have_header && d->page_cap > d->h.page_size);
  d->crc = dbs_ltx_crc64(d->crc, d->page, d->h.page_size);
  d->prev_pgno = d->pgno;
  d->pages++;
  d->stage = ST_PAGE_HDR;
  if (d->cb.page != NULL) {
    int rc = d->cb.page(d->cb.arg, d->pgno, d->page);
    if (rc != 0)
      return fail(d, rc, NULL);
  }
  return 0;
}

/* Feeds frame bytes to LZ4F; the frame's end (or more bytes) ends the page. */
static int frame_feed(struct dbs_ltx_dec* d, const uint8_t** p, size_t* n) {
  while (*n > 0) {
    size_t in = *n;
    size_t out = d->page_cap - d->frame_out;
    size_t hint =
        LZ4F_decompress(d->dctx, d->page + d->frame_out, &out, *p, &in, NULL);
    if (LZ4F_isError(hint))
      return fail(d, DBS_LTX_ECORRUPT, "page %u: bad LZ4 frame: %s", d->pgno,
                  LZ4F_getErrorName(hint));
    *p += in;
    *n -= in;
    d->frame_out += out;
    if (d->frame_out > d->h.page_size)
      return fail(d, DBS_LTX_ECORRUPT,
                  "page %u: LZ4 frame decodes to more than the page size %u",
                  d->pgno, d->h.page_size);
    if (hint == 0) {
      if (d->frame_out != d->h.page_size)
        return fail(d, DBS_LTX_ECORRUPT,
                    "page %u: LZ4 frame decodes to %zu bytes, not the page "
                    "size %u",
                    d->pgno, d->frame_out, d->h.page_size);
      d->frame_pages++;
      return deliver(d);
    }
    if (in == 0 && out == 0)
      return fail(d, DBS_LTX_ECORRUPT, "page %u: LZ4 frame makes no progress",
                  d->pgno);
  }
  return 0;
}

static void tail_feed(struct dbs_ltx_dec* d, const uint8_t* p, size_t n) {
  d->tail_n += n;
  if (d->nhold + n <= TAIL_HOLD) {
    memcpy(d->hold + d->nhold, p, n);
    d->nhold += n;
    return;
  }
  /* Bytes older than the last TAIL_HOLD are index bytes: hash them. */
  size_t excess = d->nhold + n - TAIL_HOLD;
  size_t from_hold = excess < d->nhold ? excess : d->nhold;
  d->crc = dbs_ltx_crc64(d->crc, d->hold, from_hold);
  memmove(d->hold, d->hold + from_hold, d->nhold - from_hold);
  d->nhold -= from_hold;
  excess -= from_hold;
  d->crc = dbs_ltx_crc64(d->crc, p, excess);
  memcpy(d->hold + d->nhold, p + excess, n - excess);
  d->nhold += n - excess;
}

int dbs_ltx_dec_write(struct dbs_ltx_dec* d, const uint8_t* p, size_t n) {
  int rc;
  while (n > 0) {
    switch (d->stage) {
    case ST_FAILED:
      return d->err_rc;
    case ST_HEADER:
      if (gather(d, DBS_LTX_HEADER_SIZE, &p, &n) && (rc = on_header(d)) != 0)
        return rc;
      break;
    case ST_PAGE_HDR:
      if (gather(d, DBS_LTX_PAGE_HEADER_SIZE, &p, &n) &&
          (rc = on_page_header(d)) != 0)
        return rc;
      break;
    case ST_PAGE_SIZE:
      if (gather(d, 4, &p, &n)) {
        d->crc = dbs_ltx_crc64(d->crc, d->small, 4);
        d->clen = be32(d->small);
        d->cgot = 0;
        d->nsmall = 0;
        if (d->clen == 0 || d->clen > d->cbuf_cap)
          return fail(d, DBS_LTX_ECORRUPT,
                      "page %u: compressed size %zu is out of range", d->pgno,
                      d->clen);
        d->stage = ST_PAGE_BLOCK;
      }
      break;
    case ST_PAGE_BLOCK: {
      assert(d->cgot < d->clen && d->clen <= d->cbuf_cap);
      size_t take = d->clen - d->cgot < n ? d->clen - d->cgot : n;
      memcpy(d->cbuf + d->cgot, p, take);
      d->cgot += take;
      p += take;
      n -= take;
      if (d->cgot < d->clen)
        break;
      int got = LZ4_decompress_safe((const char*)d->cbuf, (char*)d->page,
                                    (int)d->clen, (int)d->h.page_size);
      if (got != (int)d->h.page_size)
        return fail(d, DBS_LTX_ECORRUPT,
                    got < 0 ? "page %u: bad LZ4 block"
                            : "page %u: LZ4 block decodes to fewer bytes than "
                              "the page size",
                    d->pgno);
      if ((rc = deliver(d)) != 0)
        return rc;
      break;
    }
    case ST_PAGE_FRAME:
      if ((rc = frame_feed(d, &p, &n)) != 0)
        return rc;
      break;
    case ST_TAIL:
      tail_feed(d, p, n);
      n = 0;
      break;
    }
  }
  return d->stage == ST_FAILED ? d->err_rc : 0;
}

int dbs_ltx_dec_finish(struct dbs_ltx_dec* d) {
  if (d->stage == ST_FAILED)
    return d->err_rc;
  if (d->stage != ST_TAIL)
    return fail(d, DBS_LTX_ECORRUPT, "truncated (ends inside the %s)",
                d->stage == ST_HEADER ? "header" : "page block");
  if (d->tail_n < TAIL_HOLD + 1)
    return fail(d, DBS_LTX_ECORRUPT, "truncated (no page index or trailer)");
  uint64_t index_size = be64(d->hold);
  if (index_size != d->tail_n - TAIL_HOLD)
    return fail(d, DBS_LTX_ECORRUPT,
                "page index size %llu does not match the %llu bytes between "
                "the pages and the trailer (truncated or extended file)",
                (unsigned long long)index_size,
                (unsigned long long)(d->tail_n - TAIL_HOLD));
  uint64_t crc = dbs_ltx_crc64(d->crc, d->hold, TAIL_HOLD - 8);
  uint64_t want = be64(d->hold + TAIL_HOLD - 8);
  uint64_t got = (1ull << 63) | crc;
  if (got != want)
    return fail(d, DBS_LTX_ECORRUPT,
                "file checksum mismatch (trailer %016llx, computed %016llx)",
                (unsigned long long)want, (unsigned long long)got);
  return 0;
}
