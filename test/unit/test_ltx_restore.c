/* Unit tests for the LTX restore (restore.c's LTX format) over a file
 * replica of hand-made LTX files: overlay order, growth and shrink, the
 * page bitmap across growing commits, and the checks across files. */
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

#include "ltx_testenc.h"
#include "restore.h"
#include "storage_file.h"

static char dir[256];

static void put_file(int level, uint64_t min, uint64_t max, const void* b,
                     size_t n) {
  char p[512];
  snprintf(p, sizeof(p), "%s/replica/ltx/%d", dir, level);
  mkdir(p, 0700);
  snprintf(p, sizeof(p), "%s/replica/ltx/%d/%016llx-%016llx.ltx", dir, level,
           (unsigned long long)min, (unsigned long long)max);
  FILE* f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
}

/* A file of the listed pages, page content (pgno, seed); header TXIDs
 * hmin-hmax (the name uses min-max). */
static void ltx(int level, uint64_t min, uint64_t max, uint32_t ps,
                uint32_t commit, const uint32_t* pg, size_t np, uint32_t seed,
                bool block) {
  struct tenc e;
  tenc_begin(&e, DBS_LTX_HEADER_FLAG_NO_CHECKSUM, ps, commit, min, max,
             1700000000000 + (int64_t)max);
  uint8_t* page = malloc(ps);
  for (size_t i = 0; i < np; i++) {
    tenc_fill(page, ps, pg[i], seed);
    tenc_page(&e, pg[i], page, ps, block);
  }
  free(page);
  size_t n;
  uint8_t* b = tenc_end(&e, &n);
  put_file(level, min, max, b, n);
  free(b);
}

static int setup(void** state) {
  (void)state;
  snprintf(dir, sizeof(dir), "%s/dbs-ltxr.XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  assert_non_null(mkdtemp(dir));
  char p[512];
  snprintf(p, sizeof(p), "%s/replica", dir);
  mkdir(p, 0700);
  snprintf(p, sizeof(p), "%s/replica/ltx", dir);
  mkdir(p, 0700);
  return 0;
}

static int teardown(void** state) {
  (void)state;
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static enum dbs_restore_result restore(const char* out, uint64_t txid,
                                       struct dbs_restore_error* e) {
  char p[512];
  snprintf(p, sizeof(p), "%s/replica", dir);
  struct dbs_storage* st;
  assert_int_equal(dbs_storage_file_open(p, &st), 0);
  struct dbs_restore_source src = {"file", st, ""};
  struct dbs_restore_target t = {.index = -1, .txid = txid};
  struct dbs_restore_opts o = {.verify = DBS_VERIFY_NONE};
  enum dbs_restore_result r = dbs_restore_run(&src, 1, &t, out, &o, e);
  st->ops->close(st);
  return r;
}

/* The restored file is commit pages, page p from seed want[p]. */
static void check_db(const char* out, uint32_t ps, uint32_t commit,
                     const uint32_t* want) {
  struct stat sb;
  assert_int_equal(stat(out, &sb), 0);
  assert_int_equal(sb.st_size, (off_t)commit * ps);
  int fd = open(out, O_RDONLY);
  uint8_t *got = malloc(ps), *exp = malloc(ps);
  for (uint32_t p = 1; p <= commit; p++) {
    assert_int_equal(pread(fd, got, ps, (off_t)(p - 1) * ps), ps);
    tenc_fill(exp, ps, p, want[p]);
    if (memcmp(got, exp, ps) != 0)
      fail_msg("page %u is not from seed %u", p, want[p]);
  }
  close(fd);
  free(got);
  free(exp);
}

static void test_overlay_grow_shrink(void** state) {
  (void)state;
  /* 1-1: snapshot of 23 pages (seed 1); 2-2: grows to 30 (pages 24..30
   * seed 2, page 5 seed 2); 3-3: shrinks to 10 (page 2 seed 3); 4-4:
   * grows to 12 with pages 11, 12 (seed 4): pages 1..10 keep their
   * latest versions, as litestream's compactor keeps them. Mixed page
   * encodings, as after an upgrade from 0.5.15. */
  uint32_t s1[23], g2[] = {5, 24, 25, 26, 27, 28, 29, 30}, s3[] = {2},
                   s4[] = {11, 12};
  for (uint32_t i = 0; i < 23; i++)
    s1[i] = i + 1;
  ltx(0, 1, 1, 512, 23, s1, 23, 1, false);
  ltx(0, 2, 2, 512, 30, g2, 8, 2, false);
  ltx(0, 3, 3, 512, 10, s3, 1, 3, true);
  ltx(0, 4, 4, 512, 12, s4, 2, 4, true);
  char out[512];
  snprintf(out, sizeof(out), "%s/out/a.db", dir);
  struct dbs_restore_error e;
  assert_int_equal(restore(out, 0, &e), DBS_RESTORE_RESTORED);
  uint32_t want[13] = {0, 1, 3, 1, 1, 2, 1, 1, 1, 1, 1, 4, 4};
  check_db(out, 512, 12, want);
  /* -txid 2: the 30-page state. */
  snprintf(out, sizeof(out), "%s/out/b.db", dir);
  assert_int_equal(restore(out, 2, &e), DBS_RESTORE_RESTORED);
  uint32_t want2[31];
  for (uint32_t p = 1; p <= 30; p++)
    want2[p] = p > 23 || p == 5 ? 2 : 1;
  check_db(out, 512, 30, want2);
}

/* Growth to exactly a multiple of 8 pages past the first commit: the page
 * bitmap must hold bit `commit` (an ASan build caught an overflow). */
static void test_bitmap_growth(void** state) {
  (void)state;
  uint32_t s1[23], g2[] = {24};
  for (uint32_t i = 0; i < 23; i++)
    s1[i] = i + 1;
  ltx(0, 1, 1, 512, 23, s1, 23, 1, true);
  ltx(0, 2, 2, 512, 24, g2, 1, 2, true);
  char out[512];
  snprintf(out, sizeof(out), "%s/out/g.db", dir);
  struct dbs_restore_error e;
  assert_int_equal(restore(out, 0, &e), DBS_RESTORE_RESTORED);
  uint32_t want[25];
  for (uint32_t p = 1; p <= 24; p++)
    want[p] = p == 24 ? 2 : 1;
  check_db(out, 512, 24, want);
}

static void test_missing_page(void** state) {
  (void)state;
  /* 2-2 grows the database to 5 pages but holds only page 5. */
  uint32_t s1[] = {1, 2, 3}, g2[] = {5};
  ltx(0, 1, 1, 512, 3, s1, 3, 1, true);
  ltx(0, 2, 2, 512, 5, g2, 1, 2, true);
  char out[512];
  snprintf(out, sizeof(out), "%s/out/m.db", dir);
  struct dbs_restore_error e;
  assert_int_equal(restore(out, 0, &e), DBS_RESTORE_ECORRUPT);
  assert_non_null(strstr(e.msg, "page 4 "));
  assert_int_equal(access(out, F_OK), -1);
  char tmp[600];
  snprintf(tmp, sizeof(tmp), "%s.tmp", out);
  assert_int_equal(access(tmp, F_OK), -1);
}

static void test_header_name_mismatch(void** state) {
  (void)state;
  uint32_t s1[] = {1, 2};
  ltx(0, 1, 1, 512, 2, s1, 2, 1, true);
  /* A file named 2-2 whose header says 1-1 (a copy under a wrong name). */
  char a[512], b[1200];
  snprintf(a, sizeof(a), "%s/replica/ltx/0/%016x-%016x.ltx", dir, 1, 1);
  snprintf(b, sizeof(b), "cp '%s' '%s/replica/ltx/0/%016x-%016x.ltx'", a, dir,
           2, 2);
  assert_int_equal(system(b), 0);
  char out[512];
  snprintf(out, sizeof(out), "%s/out/n.db", dir);
  struct dbs_restore_error e;
  assert_int_equal(restore(out, 0, &e), DBS_RESTORE_ECORRUPT);
  assert_non_null(strstr(e.msg, "not those of its name"));
}

static void test_page_size_mismatch(void** state) {
  (void)state;
  uint32_t s1[] = {1, 2}, g2[] = {2};
  ltx(0, 1, 1, 512, 2, s1, 2, 1, true);
  ltx(0, 2, 2, 1024, 2, g2, 1, 2, true);
  char out[512];
  snprintf(out, sizeof(out), "%s/out/p.db", dir);
  struct dbs_restore_error e;
  assert_int_equal(restore(out, 0, &e), DBS_RESTORE_ECORRUPT);
  assert_non_null(strstr(e.msg, "page size 1024"));
}

static void test_legacy_v1_refused(void** state) {
  (void)state;
  struct tenc en;
  tenc_begin(&en, 3, 4096, 1, 1, 1, 0);
  size_t n;
  uint8_t* b = tenc_end(&en, &n);
  put_file(0, 1, 1, b, n);
  free(b);
  char out[512];
  snprintf(out, sizeof(out), "%s/out/l.db", dir);
  struct dbs_restore_error e;
  assert_int_equal(restore(out, 0, &e), DBS_RESTORE_ECORRUPT);
  assert_non_null(strstr(e.msg, "legacy LTX v1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_overlay_grow_shrink, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bitmap_growth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_page, setup, teardown),
      cmocka_unit_test_setup_teardown(test_header_name_mismatch, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_page_size_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_legacy_v1_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
