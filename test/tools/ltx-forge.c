/*
 * ltx-forge: writes and inspects LTX files for the LTX restore tests, an
 * implementation independent of dbsetup's reader (written from the format
 * notes in docs/litestream-0.5.md, checked against litestream's restore).
 *
 *   ltx-forge encode [OPTIONS] DB OUT   LTX v3 file from the pages of a
 *                                       SQLite database file
 *   ltx-forge v1 [OPTIONS] DB OUT       legacy LTX v1 file (ltx v0.3.x, as
 *                                       litestream v0.5.0-beta1 wrote them:
 *                                       4-byte page headers, the page block
 *                                       one LZ4 frame, no page index)
 *   ltx-forge info FILE                 prints the header fields and the
 *                                       first page's flags (the encoding)
 *   ltx-forge index FILE                prints the page index of a v3 file,
 *                                       one "PGNO OFFSET SIZE" line a page
 *   ltx-forge selftest                  checks the CRC-64 and the database
 *                                       checksum against ltx's test vectors
 * OPTIONS: --min TXID --max TXID (hex, default 1), --timestamp MS (default
 * now), --flags HEX (header flags; default 0x2 for encode, 0x3 for v1),
 * --encoding block|frame (encode: LZ4 block with size prefix, as ltx
 * v0.5.2 / litestream >= 0.5.16 write, or one LZ4 frame per page, as ltx
 * v0.5.1 / litestream <= 0.5.15 write), --pages A-B (only these pages;
 * default all), --commit N (default: the database's page count).
 * The file checksum is CRC-64/ISO over the header, the page headers (with
 * the block size field), the decompressed page data, the end marker, the
 * index and the post-apply checksum; with checksum tracking on (flags
 * without 0x2) the post-apply checksum is the database checksum of the
 * pages written. Exit 0, or 1 with a message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <lz4.h>
#include <lz4frame.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define HEADER_SIZE 100
#define FLAG_BIT63 (UINT64_C(1) << 63)

static uint64_t crc_table[256];

static void crc_init(void) {
  for (unsigned i = 0; i < 256; i++) {
    uint64_t c = i;
    for (int j = 0; j < 8; j++)
      c = (c & 1) ? (c >> 1) ^ UINT64_C(0xD800000000000000) : c >> 1;
    crc_table[i] = c;
  }
}

/* Go's crc64.Update: the running value is kept un-inverted between calls. */
static uint64_t crc_update(uint64_t crc, const void* p, size_t n) {
  const uint8_t* b = p;
  crc = ~crc;
  while (n--)
    crc = crc_table[(uint8_t)crc ^ *b++] ^ (crc >> 8);
  return ~crc;
}

static void die(const char* fmt, const char* arg) {
  fprintf(stderr, "ltx-forge: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  exit(1);
}

static void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static uint32_t get32(const uint8_t* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}
static uint64_t get64(const uint8_t* p) {
  return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The output file and the running file checksum. */
struct out {
  FILE* f;
  uint64_t crc;
  uint64_t off;
};

static void emit(struct out* o, const void* p, size_t n, int hash) {
  if (n && fwrite(p, 1, n, o->f) != n)
    die("write: %s", strerror(errno));
  if (hash)
    o->crc = crc_update(o->crc, p, n);
  o->off += n;
}

static size_t uvarint(uint8_t* p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

struct opts {
  uint64_t min, max, ts;
  uint32_t flags, commit, first, last;
  int frame, flags_set;
};

/* The database file, whole (test databases are small). */
static uint8_t* db_read(const char* path, size_t* len, uint32_t* ps) {
  FILE* f = fopen(path, "rb");
  if (!f)
    die("%s: cannot open", path);
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 100)
    die("%s: not a database file", path);
  uint8_t* b = malloc((size_t)st.st_size);
  if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
    die("%s: read failed", path);
  fclose(f);
  unsigned s = (unsigned)b[16] << 8 | b[17];
  *ps = s == 1 ? 65536 : s;
  if (*ps < 512 || (*ps & (*ps - 1)) || st.st_size % *ps)
    die("%s: bad page size or file size", path);
  *len = (size_t)st.st_size;
  return b;
}

/* ChecksumPage and the XOR fold of ltx's checksum.go. */
static uint64_t page_checksum(uint32_t pgno, const uint8_t* data, uint32_t ps) {
  uint8_t be[4];
  put32(be, pgno);
  uint64_t c = crc_update(0, be, 4);
  return FLAG_BIT63 | crc_update(c, data, ps);
}

static uint32_t lock_pgno(uint32_t ps) {
  return 0x40000000u / ps + 1;
}

static void header(uint8_t* h, const struct opts* o, uint32_t ps) {
  memset(h, 0, HEADER_SIZE);
  memcpy(h, "LTX1", 4);
  put32(h + 4, o->flags);
  put32(h + 8, ps);
  put32(h + 12, o->commit);
  put64(h + 16, o->min);
  put64(h + 24, o->max);
  put64(h + 32, o->ts);
}

static void finish(struct out* o, uint64_t post) {
  uint8_t t[16];
  put64(t, post);
  emit(o, t, 8, 1);
  put64(t + 8, FLAG_BIT63 | o->crc);
  emit(o, t + 8, 8, 0);
}

static int cmd_encode(const struct opts* op, const char* dbp,
                      const char* outp) {
  size_t len;
  uint32_t ps;
  uint8_t* db = db_read(dbp, &len, &ps);
  uint32_t npages = (uint32_t)(len / ps);
  struct opts o = *op;
  if (!o.commit)
    o.commit = npages;
  if (!o.last || o.last > npages)
    o.last = npages;
  struct out out = {fopen(outp, "wb"), 0, 0};
  if (!out.f)
    die("%s: cannot create", outp);
  uint8_t h[HEADER_SIZE];
  header(h, &o, ps);
  emit(&out, h, HEADER_SIZE, 1);
  size_t cap = (size_t)LZ4_compressBound((int)ps);
  size_t fcap = LZ4F_compressFrameBound(ps, NULL) + 64;
  uint8_t* cbuf = malloc(cap > fcap ? cap : fcap);
  uint8_t* idx = malloc((size_t)(npages + 1) * 30);
  size_t nidx = 0;
  uint64_t dbsum = FLAG_BIT63;
  for (uint32_t pg = o.first; pg <= o.last; pg++) {
    if (pg == lock_pgno(ps))
      continue;
    const uint8_t* data = db + (size_t)(pg - 1) * ps;
    uint64_t start = out.off;
    uint8_t ph[10];
    put32(ph, pg);
    if (!o.frame) {
      int c = LZ4_compress_default((const char*)data, (char*)cbuf, (int)ps,
                                   (int)cap);
      if (c <= 0)
        die("%s: LZ4 compression failed", dbp);
      ph[4] = 0, ph[5] = 1;
      put32(ph + 6, (uint32_t)c);
      emit(&out, ph, 10, 1);
      out.crc = crc_update(out.crc, data, ps);
      emit(&out, cbuf, (size_t)c, 0);
    } else {
      LZ4F_preferences_t pr;
      memset(&pr, 0, sizeof pr);
      pr.frameInfo.blockSizeID = LZ4F_max64KB;
      pr.frameInfo.blockMode = LZ4F_blockIndependent;
      pr.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
      size_t c = LZ4F_compressFrame(cbuf, fcap, data, ps, &pr);
      if (LZ4F_isError(c))
        die("LZ4 frame: %s", LZ4F_getErrorName(c));
      ph[4] = 0, ph[5] = 0;
      emit(&out, ph, 6, 1);
      out.crc = crc_update(out.crc, data, ps);
      emit(&out, cbuf, c, 0);
    }
    nidx += uvarint(idx + nidx, pg);
    nidx += uvarint(idx + nidx, start);
    nidx += uvarint(idx + nidx, out.off - start);
    dbsum = FLAG_BIT63 | (dbsum ^ page_checksum(pg, data, ps));
  }
  uint8_t zero[6] = {0};
  emit(&out, zero, 6, 1);
  nidx += uvarint(idx + nidx, 0);
  uint8_t sz[8];
  put64(sz, nidx);
  emit(&out, idx, nidx, 1);
  emit(&out, sz, 8, 1);
  finish(&out, (o.flags & 2) ? 0 : dbsum);
  if (fclose(out.f) != 0)
    die("%s: close failed", outp);
  free(db), free(cbuf), free(idx);
  return 0;
}

static int cmd_v1(const struct opts* op, const char* dbp, const char* outp) {
  size_t len;
  uint32_t ps;
  uint8_t* db = db_read(dbp, &len, &ps);
  uint32_t npages = (uint32_t)(len / ps);
  struct opts o = *op;
  if (!o.flags_set)
    o.flags = 3;
  if (!o.commit)
    o.commit = npages;
  if (!o.last || o.last > npages)
    o.last = npages;
  struct out out = {fopen(outp, "wb"), 0, 0};
  if (!out.f)
    die("%s: cannot create", outp);
  uint8_t h[HEADER_SIZE];
  header(h, &o, ps);
  emit(&out, h, HEADER_SIZE, 1);
  /* The body (page headers, pages, end marker) as one LZ4 frame; the
   * checksum covers the uncompressed body. */
  size_t blen = (size_t)(o.last - o.first + 2) * (4 + ps);
  uint8_t* body = malloc(blen);
  size_t n = 0;
  uint64_t dbsum = FLAG_BIT63;
  for (uint32_t pg = o.first; pg <= o.last; pg++) {
    if (pg == lock_pgno(ps))
      continue;
    const uint8_t* data = db + (size_t)(pg - 1) * ps;
    put32(body + n, pg);
    memcpy(body + n + 4, data, ps);
    n += 4 + ps;
    dbsum = FLAG_BIT63 | (dbsum ^ page_checksum(pg, data, ps));
  }
  memset(body + n, 0, 4);
  n += 4;
  out.crc = crc_update(out.crc, body, n);
  if (o.flags & 1) {
    LZ4F_preferences_t pr;
    memset(&pr, 0, sizeof pr);
    pr.frameInfo.blockSizeID = LZ4F_max64KB;
    pr.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    size_t cap = LZ4F_compressFrameBound(n, &pr);
    uint8_t* c = malloc(cap);
    size_t cn = LZ4F_compressFrame(c, cap, body, n, &pr);
    if (LZ4F_isError(cn))
      die("LZ4 frame: %s", LZ4F_getErrorName(cn));
    emit(&out, c, cn, 0);
    free(c);
  } else {
    emit(&out, body, n, 0);
  }
  finish(&out, (o.flags & 2) ? 0 : dbsum);
  if (fclose(out.f) != 0)
    die("%s: close failed", outp);
  free(db), free(body);
  return 0;
}

static int cmd_info(const char* path) {
  FILE* f = fopen(path, "rb");
  uint8_t h[HEADER_SIZE + 6];
  if (!f || fread(h, 1, sizeof h, f) != sizeof h)
    die("%s: cannot read a header", path);
  fclose(f);
  /* The first page's flags tell the encoding: 0x1 LZ4 block, 0 frame. */
  printf("magic=%.4s flags=0x%" PRIx32 " page_size=%" PRIu32 " commit=%" PRIu32
         " min=%016" PRIx64 " max=%016" PRIx64 " timestamp=%" PRIu64
         " page_flags=0x%x\n",
         (const char*)h, get32(h + 4), get32(h + 8), get32(h + 12),
         get64(h + 16), get64(h + 24), get64(h + 32),
         (unsigned)h[HEADER_SIZE + 4] << 8 | h[HEADER_SIZE + 5]);
  return 0;
}

/* Reads a Go uvarint at *p (bounded by end); 0 at the end of the data. */
static uint64_t get_uvarint(const uint8_t** p, const uint8_t* end) {
  uint64_t v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return v;
  }
  die("%s", "bad page index");
  return 0;
}

static int cmd_index(const char* path) {
  FILE* f = fopen(path, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0 || st.st_size < HEADER_SIZE + 24)
    die("%s: cannot read", path);
  uint8_t* b = malloc((size_t)st.st_size);
  if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
    die("%s: read failed", path);
  fclose(f);
  const uint8_t* end = b + st.st_size - 16 - 8;
  uint64_t n = get64(end);
  if (n > (uint64_t)(end - b))
    die("%s: bad index size", path);
  const uint8_t* p = end - n;
  for (;;) {
    uint64_t pg = get_uvarint(&p, end);
    if (!pg)
      break;
    uint64_t off = get_uvarint(&p, end);
    uint64_t sz = get_uvarint(&p, end);
    printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", pg, off, sz);
  }
  free(b);
  return 0;
}

static int cmd_selftest(void) {
  int bad = 0;
  uint64_t c = crc_update(0, "123456789", 9);
  if (c != UINT64_C(0xb90956c775a41001))
    bad = 1, fprintf(stderr, "crc64 check value %016" PRIx64 "\n", c);
  /* ltx checksum_test.go: pages 1..2 of 1024 x '2' and '3'. */
  uint8_t p[1024];
  uint64_t s = FLAG_BIT63;
  memset(p, '2', sizeof p);
  s = FLAG_BIT63 | (s ^ page_checksum(1, p, 1024));
  memset(p, '3', sizeof p);
  s = FLAG_BIT63 | (s ^ page_checksum(2, p, 1024));
  if (s != UINT64_C(0xe1899b6d587aaaaa))
    bad = 1, fprintf(stderr, "db checksum %016" PRIx64 "\n", s);
  puts(bad ? "selftest: FAILED" : "selftest: ok");
  return bad;
}

static uint64_t num(const char* s, int base) {
  char* end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, base);
  if (errno || *end || end == s)
    die("bad number: %s", s);
  return v;
}

int main(int argc, char** argv) {
  crc_init();
  if (argc < 2)
    die("%s", "usage: ltx-forge encode|v1|info|index|selftest ...");
  const char* cmd = argv[1];
  if (!strcmp(cmd, "selftest"))
    return cmd_selftest();
  if (!strcmp(cmd, "info") && argc == 3)
    return cmd_info(argv[2]);
  if (!strcmp(cmd, "index") && argc == 3)
    return cmd_index(argv[2]);
  struct opts o = {.min = 1, .max = 1, .flags = 2, .first = 1};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  o.ts = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
  int i = 2;
  for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--min"))
      o.min = num(v, 16);
    else if (!strcmp(k, "--max"))
      o.max = num(v, 16);
    else if (!strcmp(k, "--timestamp"))
      o.ts = num(v, 10);
    else if (!strcmp(k, "--flags"))
      o.flags = (uint32_t)num(v, 16), o.flags_set = 1;
    else if (!strcmp(k, "--commit"))
      o.commit = (uint32_t)num(v, 10);
    else if (!strcmp(k, "--encoding"))
      o.frame = !strcmp(v, "frame");
    else if (!strcmp(k, "--pages")) {
      if (sscanf(v, "%" SCNu32 "-%" SCNu32, &o.first, &o.last) != 2 ||
          !o.first || o.last < o.first)
        die("bad page range: %s", v);
    } else
      die("unknown option %s", k);
  }
  if (argc - i != 2)
    die("%s", "expected DB OUT");
  if (!strcmp(cmd, "encode"))
    return cmd_encode(&o, argv[i], argv[i + 1]);
  if (!strcmp(cmd, "v1"))
    return cmd_v1(&o, argv[i], argv[i + 1]);
  die("unknown command %s", cmd);
  return 1;
}
