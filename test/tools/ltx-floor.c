/*
 * ltx-floor OUT IN.ltx...: the benchmark floor for an LTX restore. Decodes
 * each LTX file of IN... in order with dbsetup's own decoder (header, both
 * page encodings, CRC-64 file checksum: what any correct restore must
 * check), reading 128 KiB at a time, and writes every page at its offset
 * in OUT (created, must not exist; consecutive pages in one pwrite of up
 * to 256 KiB), then truncates OUT to the last file's commit and fsyncs it.
 * No listing, no plan, no bitmap, no SQLite check: the least work a
 * restore of these files has to do. Exit 0, or 1 with a message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ltx.h"

struct out {
  int fd;
  uint32_t ps, commit;
  uint8_t* buf;
  uint32_t first, n;
};

static int flush(struct out* o) {
  size_t len = (size_t)o->n * o->ps;
  off_t off = (off_t)(o->first - 1) * o->ps;
  const uint8_t* p = o->buf;
  while (len > 0) {
    ssize_t w = pwrite(o->fd, p, len, off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -errno;
    p += w;
    len -= (size_t)w;
    off += w;
  }
  o->n = 0;
  return 0;
}

static int on_header(void* arg, const struct dbs_ltx_header* h) {
  struct out* o = arg;
  if (o->buf == NULL) {
    o->ps = h->page_size;
    o->buf = malloc(256u << 10 > o->ps ? 256u << 10 : o->ps);
    if (o->buf == NULL)
      return -ENOMEM;
  }
  o->commit = h->commit;
  return 0;
}

static int on_page(void* arg, uint32_t pgno, const uint8_t* data) {
  struct out* o = arg;
  uint32_t cap = (256u << 10) / o->ps ? (256u << 10) / o->ps : 1;
  if (o->n > 0 && (pgno != o->first + o->n || o->n >= cap)) {
    int rc = flush(o);
    if (rc != 0)
      return rc;
  }
  if (o->n == 0)
    o->first = pgno;
  memcpy(o->buf + (size_t)o->n * o->ps, data, o->ps);
  o->n++;
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: ltx-floor OUT IN.ltx...\n");
    return 1;
  }
  struct out o = {0};
  o.fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (o.fd < 0) {
    perror(argv[1]);
    return 1;
  }
  struct dbs_ltx_dec* d;
  uint8_t* in = malloc(128u << 10);
  if (in == NULL || dbs_ltx_dec_new(&d) != 0)
    return 1;
  struct dbs_ltx_callbacks cb = {on_header, on_page, &o};
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      perror(argv[i]);
      return 1;
    }
    dbs_ltx_dec_reset(d, &cb);
    int rc = 0;
    ssize_t n;
    while (rc == 0 && (n = read(fd, in, 128u << 10)) > 0)
      rc = dbs_ltx_dec_write(d, in, (size_t)n);
    close(fd);
    if (rc == 0)
      rc = dbs_ltx_dec_finish(d);
    if (rc == 0)
      rc = flush(&o);
    if (rc != 0) {
      fprintf(stderr, "%s: %s (%d)\n", argv[i], dbs_ltx_dec_error(d), rc);
      return 1;
    }
  }
  if (ftruncate(o.fd, (off_t)o.commit * o.ps) != 0 || fsync(o.fd) != 0 ||
      close(o.fd) != 0) {
    perror(argv[1]);
    return 1;
  }
  dbs_ltx_dec_free(d);
  free(in);
  free(o.buf);
  return 0;
}
