/* Unit tests for LTX names, listings and litestream 0.5.16's restore plan
 * (plus the stricter gap rule). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ltx_replica.h"
#include "storage_file.h"

static void test_filenames(void** state) {
  (void)state;
  uint64_t a, b;
  assert_int_equal(
      dbs_ltx_parse_filename("0000000000000001-00000000000004d2.ltx", &a, &b),
      0);
  assert_int_equal(a, 1);
  assert_int_equal(b, 0x4d2);
  const char* bad[] = {
      "0000000000000001-00000000000004D2.ltx", /* uppercase */
      "0000000000000001-00000000000004d2.ltx.tmp",
      "000000000000001-00000000000004d2.ltx",
      "0000000000000001_00000000000004d2.ltx",
      "0000000000000001-00000000000004d2.LTX",
      "",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(dbs_ltx_parse_filename(bad[i], &a, &b), -EINVAL);
  char* p = dbs_ltx_level_prefix("", false, 9);
  assert_string_equal(p, "ltx/9/");
  free(p);
  p = dbs_ltx_level_prefix("prod/db", true, 9);
  assert_string_equal(p, "prod/db/0009/");
  free(p);
  p = dbs_ltx_level_prefix("", true, 0);
  assert_string_equal(p, "0000/");
  free(p);
}

/* A listing from "L:min-max@t" words (t in seconds). */
static void build(struct dbs_ltx_listing* l, const char* spec) {
  memset(l, 0, sizeof(*l));
  char* s = strdup(spec);
  for (char* w = strtok(s, " "); w != NULL; w = strtok(NULL, " ")) {
    int lv;
    unsigned long long a, b, t = 0;
    int n = sscanf(w, "%d:%llx-%llx@%llu", &lv, &a, &b, &t);
    assert_true(n >= 3);
    char key[64];
    snprintf(key, sizeof(key), "ltx/%d/%016llx-%016llx.ltx", lv, a, b);
    assert_int_equal(
        dbs_ltx_listing_add(l, key, lv, a, b, 100, (int64_t)t * 1000000000), 0);
  }
  free(s);
  dbs_ltx_listing_sort(l);
}

/* The plan as "L:min-max" words, or "ENOENT"/"EBADMSG". */
static void plan_str(const char* spec, uint64_t txid, int64_t ts_s, char* out,
                     size_t len, char* err, size_t errlen) {
  struct dbs_ltx_listing l;
  build(&l, spec);
  struct dbs_ltx_target t = {.txid = txid};
  if (ts_s > 0) {
    t.has_timestamp = true;
    t.timestamp_ns = ts_s * 1000000000;
  }
  struct dbs_ltx_plan p;
  int rc = dbs_ltx_plan_calc(&l, &t, &p, err, errlen);
  out[0] = '\0';
  if (rc == -ENOENT)
    snprintf(out, len, "ENOENT");
  else if (rc == -EBADMSG)
    snprintf(out, len, "EBADMSG");
  else {
    assert_int_equal(rc, 0);
    size_t o = 0;
    for (size_t i = 0; i < p.n; i++)
      o += (size_t)snprintf(out + o, len - o, "%s%d:%llx-%llx", i ? " " : "",
                            p.files[i]->level,
                            (unsigned long long)p.files[i]->min_txid,
                            (unsigned long long)p.files[i]->max_txid);
    dbs_ltx_plan_free(&p);
  }
  dbs_ltx_listing_free(&l);
}

#define PLAN(spec, txid, ts, want)                                             \
  do {                                                                         \
    char got_[512], err_[512];                                                 \
    plan_str(spec, txid, ts, got_, sizeof(got_), err_, sizeof(err_));          \
    if (strcmp(got_, want) != 0)                                               \
      fail_msg("plan of [%s] txid %llx ts %lld: got [%s] want [%s] (%s)",      \
               spec, (unsigned long long)(txid), (long long)(ts), got_, want,  \
               err_);                                                          \
  } while (0)

static void test_plan_doc_cases(void** state) {
  (void)state;
  /* litestream-0.5.md 3.2: latest = [L9 1-2, L0 3-3]. */
  const char* fx = "9:1-2 0:1-1 0:2-2 0:3-3";
  PLAN(fx, 0, 0, "9:1-2 0:3-3");
  PLAN(fx, 2, 0, "9:1-2");
  PLAN(fx, 1, 0, "0:1-1");
  PLAN(fx, 3, 0, "9:1-2 0:3-3");
  PLAN(fx, 4, 0, "ENOENT");
  /* A stray L0 5-5: latest fails (a gap, 4 missing); -txid 3 passes. */
  const char* stray = "9:1-2 0:1-1 0:2-2 0:3-3 0:5-5";
  PLAN(stray, 0, 0, "EBADMSG");
  PLAN(stray, 3, 0, "9:1-2 0:3-3");
  /* Stricter than litestream: -txid 5 across the gap is refused as a gap,
   * not "no backup". */
  PLAN(stray, 5, 0, "EBADMSG");
  /* No snapshot: the chain must start at TXID 1. */
  PLAN("0:1-1 0:2-2", 0, 0, "0:1-1 0:2-2");
  PLAN("0:3-3 0:4-4", 0, 0, "EBADMSG");
  PLAN("", 0, 0, "ENOENT");
}

static void test_plan_levels_and_overlap(void** state) {
  (void)state;
  /* Greedy: extend the furthest across all levels. */
  const char* lv = "9:1-10 3:1-40 2:41-60 1:41-50 1:51-62 0:61-61 0:62-62 "
                   "0:63-63";
  PLAN(lv, 0, 0, "9:1-10 3:1-40 2:41-60 1:51-62 0:63-63");
  /* Overlap: a later file may start before prevMax+1. */
  PLAN("9:1-5 1:3-8 0:6-6 0:7-7 0:8-8 0:9-9", 0, 0, "9:1-5 1:3-8 0:9-9");
  /* Ties: same max, the smaller min wins; then the higher level. */
  PLAN("1:1-4 2:1-4 0:1-1 0:2-4", 0, 0, "2:1-4");
  /* Snapshot newer than the levels: levels only fill what follows. */
  PLAN("9:1-20 1:1-10 0:21-21", 0, 0, "9:1-20 0:21-21");
  /* -txid inside a compacted file and no exact end: no matching backup. */
  PLAN("9:1-2 1:3-8", 5, 0, "ENOENT");
  /* -txid exactly at a level file's end. */
  PLAN("9:1-2 1:3-8 0:3-3 0:4-4", 4, 0, "9:1-2 0:3-3 0:4-4");
  PLAN("9:1-2 1:3-8 0:3-3 0:4-4", 8, 0, "9:1-2 1:3-8");
}

static void test_plan_timestamp(void** state) {
  (void)state;
  const char* ts = "9:1-2@100 0:1-1@10 0:2-2@20 0:3-3@30 0:4-4@40";
  PLAN(ts, 0, 35, "0:1-1 0:2-2 0:3-3");
  PLAN(ts, 0, 30, "0:1-1 0:2-2"); /* strict < */
  PLAN(ts, 0, 101, "9:1-2 0:3-3 0:4-4");
  PLAN(ts, 0, 5, "ENOENT");
  /* A gap before the timestamp is refused (litestream stops short). */
  PLAN("0:1-1@10 0:3-3@30", 0, 35, "EBADMSG");
  /* A gap after the timestamp does not matter. */
  PLAN("0:1-1@10 0:2-2@20 0:4-4@40", 0, 35, "0:1-1 0:2-2");
}

static void test_gap_message_names_range(void** state) {
  (void)state;
  char got[512], err[512];
  plan_str("9:1-2 0:3-3 0:7-7", 0, 0, got, sizeof(got), err, sizeof(err));
  assert_string_equal(got, "EBADMSG");
  assert_non_null(strstr(err, "0000000000000004-0000000000000006"));
  assert_non_null(strstr(err, "ltx/0/0000000000000007-0000000000000007.ltx"));
}

static void touch(const char* root, const char* rel) {
  char p[1024], cmd[2200];
  snprintf(p, sizeof(p), "%s/%s", root, rel);
  snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && : >'%s'", p, p);
  assert_int_equal(system(cmd), 0);
}

/* The layouts read through a directory standing in for each storage: the
 * file layout ltx/<decimal>/ and the S3 one <path>/<%04x>/, S3's beta
 * ltx/, and names of no layout, which are reported. */
static void test_load_layouts(void** state) {
  (void)state;
  char root[] = "/tmp/dbs-ltxl.XXXXXX";
  assert_non_null(mkdtemp(root));
  touch(root, "ltx/0/0000000000000002-0000000000000002.ltx");
  touch(root, "ltx/0/0000000000000001-0000000000000001.ltx");
  touch(root, "ltx/9/0000000000000001-0000000000000001.ltx");
  touch(root, "ltx/0/0000000000000003-0000000000000003.ltx.tmp");
  touch(root, "generations/0123456789abcdef/snapshots/00000000.snapshot.lz4");
  touch(root, "stray.txt");
  touch(root, "prod/db/0000/0000000000000005-0000000000000005.ltx");
  touch(root, "prod/db/0009/0000000000000001-0000000000000004.ltx");
  touch(root, "prod/db/000a/0000000000000001-0000000000000004.ltx");
  touch(root, "prod/db/ltx/0/0000000000000001-0000000000000001.ltx");
  struct dbs_storage* st;
  assert_int_equal(dbs_storage_file_open(root, &st), 0);
  struct dbs_ltx_listing l;
  assert_int_equal(dbs_ltx_load(st, "", false, &l), 0);
  assert_int_equal(l.n, 3);
  assert_int_equal(l.files[0].level, 0);
  assert_int_equal(l.files[0].min_txid, 1);
  assert_int_equal(l.files[1].min_txid, 2);
  assert_int_equal(l.files[2].level, 9);
  assert_string_equal(l.files[2].key,
                      "ltx/9/0000000000000001-0000000000000001.ltx");
  /* The .tmp, stray.txt and prod/ are of no file layout; generations/ is
   * v0.3's. */
  assert_int_equal(l.nunknown, 3);
  assert_null(l.legacy);
  dbs_ltx_listing_free(&l);
  assert_int_equal(dbs_ltx_load(st, "prod/db", true, &l), 0);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.files[0].level, 0);
  assert_string_equal(l.files[0].key,
                      "prod/db/0000/0000000000000005-0000000000000005.ltx");
  assert_int_equal(l.files[1].level, 9);
  assert_int_equal(l.nunknown, 1); /* 000a/ */
  assert_string_equal(l.unknown[0], "prod/db/000a/");
  assert_string_equal(l.legacy, "prod/db/ltx/");
  dbs_ltx_listing_free(&l);
  /* An empty location: nothing, nothing unknown. */
  assert_int_equal(dbs_ltx_load(st, "nothing/here", true, &l), 0);
  assert_int_equal(l.n + l.nunknown, 0);
  dbs_ltx_listing_free(&l);
  st->ops->close(st);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_filenames),
      cmocka_unit_test(test_plan_doc_cases),
      cmocka_unit_test(test_plan_levels_and_overlap),
      cmocka_unit_test(test_plan_timestamp),
      cmocka_unit_test(test_gap_message_names_range),
      cmocka_unit_test(test_load_layouts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
