/*
 * lz4-floor OUT IN.lz4...: the benchmark floor for a restore. Decodes each
 * LZ4 frame of IN... in order (content checksum verified, as any restore
 * must) with liblz4's LZ4F_decompress, reading the input with read() and
 * writing the decoded bytes with write() into OUT (created, must not
 * exist), then one fsync(OUT). No SQLite, no checks beyond LZ4's own: the
 * least work any restore of these objects has to do.
 *
 * Buffer sizes: 128 KiB for reads and writes by default (FLOOR_IN and
 * FLOOR_OUT override, in bytes). On the benchmark machine that is the
 * fastest setting measured: 64-128 KiB chunks stay in the L2 cache between
 * the decode and the kernel's copy into the page cache, while 4 MiB reads
 * and writes (litestream's pattern) cost 2-3x the CPU time, and the `lz4`
 * CLI's 64 KiB stdio writes sit in between. Exit 0, or 1 with a message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t out_len = 128u << 10, in_len = 128u << 10;

static int write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int decode_file(LZ4F_dctx* d, const char* path, int out, uint8_t* in,
                       uint8_t* dst) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "lz4-floor: %s: %s\n", path, strerror(errno));
    return -1;
  }
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  LZ4F_resetDecompressionContext(d);
  size_t hint = 1;
  int rc = 0;
  for (;;) {
    ssize_t n = read(fd, in, in_len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n < 0 || hint != 0) {
        fprintf(stderr, "lz4-floor: %s: %s\n", path,
                n < 0 ? strerror(errno) : "truncated frame");
        rc = -1;
      }
      break;
    }
    const uint8_t* p = in;
    size_t left = (size_t)n;
    while (left > 0 || hint != 0) {
      size_t dl = out_len, sl = left;
      hint = LZ4F_decompress(d, dst, &dl, p, &sl, NULL);
      if (LZ4F_isError(hint)) {
        fprintf(stderr, "lz4-floor: %s: %s\n", path, LZ4F_getErrorName(hint));
        rc = -1;
        goto done;
      }
      p += sl;
      left -= sl;
      if (dl > 0 && write_all(out, dst, dl) != 0) {
        fprintf(stderr, "lz4-floor: write: %s\n", strerror(errno));
        rc = -1;
        goto done;
      }
      if (hint == 0 || (left == 0 && dl < out_len))
        break;
    }
  }
done:
  close(fd);
  return rc;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: lz4-floor OUT IN.lz4...\n");
    return 1;
  }
  int out = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    fprintf(stderr, "lz4-floor: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  const char* env;
  if ((env = getenv("FLOOR_OUT")) != NULL && strtoul(env, NULL, 0) > 0)
    out_len = strtoul(env, NULL, 0);
  if ((env = getenv("FLOOR_IN")) != NULL && strtoul(env, NULL, 0) > 0)
    in_len = strtoul(env, NULL, 0);
  LZ4F_dctx* d = NULL;
  uint8_t* in = aligned_alloc(4096, (in_len + 4095) & ~(size_t)4095);
  uint8_t* dst = aligned_alloc(4096, (out_len + 4095) & ~(size_t)4095);
  int rc = 1;
  if (in == NULL || dst == NULL ||
      LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
    fprintf(stderr, "lz4-floor: out of memory\n");
    goto done;
  }
  for (int i = 2; i < argc; i++)
    if (decode_file(d, argv[i], out, in, dst) != 0)
      goto done;
  if (fsync(out) != 0) {
    fprintf(stderr, "lz4-floor: fsync: %s\n", strerror(errno));
    goto done;
  }
  rc = 0;
done:
  if (close(out) != 0 && rc == 0) {
    fprintf(stderr, "lz4-floor: close: %s\n", strerror(errno));
    rc = 1;
  }
  LZ4F_freeDecompressionContext(d);
  free(in);
  free(dst);
  return rc;
}
