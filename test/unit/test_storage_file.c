/* Unit tests for the file storage: delimiter listings, mtimes, streaming gets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage_file.h"

static char root[] = "/tmp/dbs-sf-XXXXXX";

static void put(const char* rel, size_t n) {
  char p[512];
  snprintf(p, sizeof(p), "%s/%s", root, rel);
  for (char* s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
    *s = '\0';
    mkdir(p, 0700);
    *s = '/';
  }
  FILE* f = fopen(p, "w");
  assert_non_null(f);
  for (size_t i = 0; i < n; i++)
    fputc((int)(i * 7 % 251), f);
  fclose(f);
}

struct sum {
  uint64_t n, h;
};

static int summer(void* arg, const uint8_t* b, size_t len) {
  struct sum* s = arg;
  for (size_t i = 0; i < len; i++)
    s->h = s->h * 31 + b[i];
  s->n += len;
  return 0;
}

static int refuse(void* arg, const uint8_t* b, size_t len) {
  (void)arg;
  (void)b;
  (void)len;
  return -ECANCELED;
}

static void test_file_storage(void** state) {
  (void)state;
  assert_non_null(mkdtemp(root));
  put("generations/aaaaaaaaaaaaaaaa/snapshots/00000000.snapshot.lz4", 10);
  put("generations/aaaaaaaaaaaaaaaa/wal/00000000_00000000.wal.lz4", 3 << 20);
  put("generations/bbbbbbbbbbbbbbbb/wal/00000001_00000000.wal.lz4", 5);
  put("generations/file-not-dir", 1);
  struct dbs_storage* s;
  assert_int_equal(dbs_storage_file_open(root, &s), 0);
  struct dbs_storage_list l;

  assert_int_equal(s->ops->list(s, "generations/", 1, &l), 0);
  assert_int_equal(l.n, 3);
  assert_string_equal(l.entries[0].key, "generations/aaaaaaaaaaaaaaaa/");
  assert_true(l.entries[0].is_prefix);
  assert_string_equal(l.entries[1].key, "generations/bbbbbbbbbbbbbbbb/");
  assert_string_equal(l.entries[2].key, "generations/file-not-dir");
  assert_false(l.entries[2].is_prefix);
  assert_int_equal(l.entries[2].size, 1);
  assert_true(l.entries[2].mtime_ns > 0);
  assert_int_equal(l.entries[2].mtime_ms, l.entries[2].mtime_ns / 1000000);
  dbs_storage_list_free(&l);

  /* A file dated after 2262 lists at INT64_MAX ns, not at an overflowed
   * (negative, or under UBSan fatal) time. */
  char far[512];
  snprintf(far, sizeof(far), "%s/generations/file-not-dir", root);
  struct timespec ts[2] = {{10413792000, 0}, {10413792000, 0}};
  assert_int_equal(utimensat(AT_FDCWD, far, ts, 0), 0);
  assert_int_equal(s->ops->list(s, "generations/", 1, &l), 0);
  assert_int_equal(l.entries[2].mtime_ns, INT64_MAX);
  dbs_storage_list_free(&l);

  /* Without a delimiter the listing recurses. */
  assert_int_equal(s->ops->list(s, "generations/a", 0, &l), 0);
  assert_int_equal(l.n, 2);
  assert_string_equal(
      l.entries[0].key,
      "generations/aaaaaaaaaaaaaaaa/snapshots/00000000.snapshot.lz4");
  dbs_storage_list_free(&l);

  /* A missing directory lists as empty. */
  assert_int_equal(s->ops->list(s, "nothing/here/", 1, &l), 0);
  assert_int_equal(l.n, 0);
  dbs_storage_list_free(&l);

  /* Gets stream everything, in order, through a bounded buffer. */
  struct sum a = {0, 0}, b = {0, 0};
  assert_int_equal(
      s->ops->get(s,
                  "generations/aaaaaaaaaaaaaaaa/wal/00000000_00000000.wal.lz4",
                  summer, &a),
      0);
  assert_int_equal(a.n, 3 << 20);
  for (size_t i = 0; i < (3u << 20); i++)
    b.h = b.h * 31 + (uint8_t)(i * 7 % 251);
  assert_true(a.h == b.h);
  assert_int_equal(s->ops->get(s, "generations/nope", summer, &a),
                   DBS_STORAGE_ENOTFOUND);
  assert_int_equal(s->ops->get(s, "generations/file-not-dir", refuse, NULL),
                   -ECANCELED);
  assert_non_null(strstr(s->ops->describe(s), root));
  s->ops->close(s);
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_file_storage)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
