/* Unit tests for the v0.3 replica format: names, prefixes, choice, plans. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replica.h"

static void test_names(void** state) {
  (void)state;
  uint32_t i, o;
  assert_int_equal(dbs_replica_parse_snapshot_name("0000000a.snapshot.lz4", &i),
                   0);
  assert_int_equal(i, 10);
  assert_int_equal(dbs_replica_parse_snapshot_name("7fffffff.snapshot.lz4", &i),
                   0);
  assert_int_equal(i, 0x7fffffff);
  assert_int_equal(dbs_replica_parse_snapshot_name("0000000A.snapshot.lz4", &i),
                   -EINVAL);
  assert_int_equal(dbs_replica_parse_snapshot_name("000000a.snapshot.lz4", &i),
                   -EINVAL);
  assert_int_equal(
      dbs_replica_parse_snapshot_name("0000000a.snapshot.lz4.tmp", &i),
      -EINVAL);
  assert_int_equal(dbs_replica_parse_snapshot_name("0000000a.snapshot", &i),
                   -EINVAL);
  assert_int_equal(
      dbs_replica_parse_wal_name("00000005_00001038.wal.lz4", &i, &o), 0);
  assert_int_equal(i, 5);
  assert_int_equal(o, 0x1038);
  assert_int_equal(dbs_replica_parse_wal_name("00000005.wal.lz4", &i, &o),
                   -EINVAL);
  assert_int_equal(
      dbs_replica_parse_wal_name("00000005_0000103.wal.lz4", &i, &o), -EINVAL);
  assert_int_equal(
      dbs_replica_parse_wal_name("00000005-00001038.wal.lz4", &i, &o), -EINVAL);
  assert_int_equal(dbs_replica_parse_wal_name("00000005_00001038.wal", &i, &o),
                   -EINVAL);
  assert_int_equal(
      dbs_replica_parse_wal_name("0000000g_00001038.wal.lz4", &i, &o), -EINVAL);
  assert_true(dbs_replica_is_generation_name("2f6b0c1e9a7d4c33"));
  assert_false(dbs_replica_is_generation_name("2F6B0C1E9A7D4C33"));
  assert_false(dbs_replica_is_generation_name("2f6b0c1e9a7d4c3"));
  assert_false(dbs_replica_is_generation_name("2f6b0c1e9a7d4c334"));
}

static void check_prefix(const char* path, const char* want) {
  char* p = dbs_replica_generations_prefix(path);
  assert_non_null(p);
  assert_string_equal(p, want);
  free(p);
}

static void test_prefix(void** state) {
  (void)state;
  check_prefix("", "generations/");
  check_prefix("db", "db/generations/");
  check_prefix("/db", "/db/generations/");
  check_prefix("db/", "db/generations/");
  check_prefix("a//b/./c/", "a/b/c/generations/");
  check_prefix("a/b/../c", "a/c/generations/");
  check_prefix(".", "generations/");
}

/* Builds a generation from "name@seconds" strings. */
static struct dbs_storage_entry ent(const char* key, int64_t sec) {
  struct dbs_storage_entry e = {0};
  e.key = (char*)key;
  e.size = 100;
  e.mtime_ms = sec * 1000;
  return e;
}

#define S(n, t) ent("g/snapshots/" n ".snapshot.lz4", t)
#define W(n, o, t) ent("g/wal/" n "_" o ".wal.lz4", t)
#define NS(s) ((int64_t)(s)*1000000000)

static void add(struct dbs_replica_listing* l, const char* gen,
                struct dbs_storage_entry* s, size_t ns,
                struct dbs_storage_entry* w, size_t nw) {
  assert_int_equal(dbs_replica_listing_add(l, gen, s, ns, w, nw), 0);
}

static void test_choose(void** state) {
  (void)state;
  struct dbs_replica_listing l = {0};
  struct dbs_storage_entry s1[] = {S("00000000", 10)};
  struct dbs_storage_entry w1[] = {W("00000000", "00000000", 11),
                                   W("00000001", "00000000", 50)};
  struct dbs_storage_entry s2[] = {S("00000000", 20)};
  struct dbs_storage_entry w2[] = {W("00000000", "00000000", 30)};
  struct dbs_storage_entry s3[] = {S("00000000", 40)};
  add(&l, "aaaaaaaaaaaaaaaa", s1, 1, w1, 2);     /* 10..50 */
  add(&l, "bbbbbbbbbbbbbbbb", s2, 1, w2, 1);     /* 20..30 */
  add(&l, "cccccccccccccccc", s3, 1, NULL, 0);   /* 40..40 */
  add(&l, "dddddddddddddddd", NULL, 0, NULL, 0); /* empty */
  assert_int_equal(l.gens[0].created_ns, NS(10));
  assert_int_equal(l.gens[0].updated_ns, NS(50));
  struct dbs_restore_target t = {.index = -1};
  assert_int_equal(dbs_replica_choose(&l, &t),
                   0); /* latest updated, not name */
  t.has_timestamp = true;
  t.timestamp_ns = NS(25);
  assert_int_equal(dbs_replica_choose(&l, &t),
                   0); /* a and b contain it; a newer */
  t.timestamp_ns = NS(5);
  assert_int_equal(dbs_replica_choose(&l, &t), -1);
  t.timestamp_ns = NS(40);
  assert_int_equal(dbs_replica_choose(&l, &t), 0);
  t.has_timestamp = false;
  t.generation = "bbbbbbbbbbbbbbbb";
  assert_int_equal(dbs_replica_choose(&l, &t), 1);
  t.generation = "dddddddddddddddd";
  assert_int_equal(dbs_replica_choose(&l, &t), -1); /* empty never wins */
  dbs_replica_listing_free(&l);

  /* Ties go to the first listed. */
  struct dbs_storage_entry sa[] = {S("00000000", 7)};
  add(&l, "1111111111111111", sa, 1, NULL, 0);
  add(&l, "2222222222222222", sa, 1, NULL, 0);
  t.generation = NULL;
  assert_int_equal(dbs_replica_choose(&l, &t), 0);
  dbs_replica_listing_free(&l);
}

static void test_plan(void** state) {
  (void)state;
  struct dbs_replica_listing l = {0};
  l.root = strdup("p/generations/");
  /* Listed out of order on purpose: the loader sorts. */
  struct dbs_storage_entry s[] = {S("00000003", 40), S("00000000", 10),
                                  S("00000005", 60)};
  struct dbs_storage_entry w[] = {
      W("00000003", "00000000", 41), W("00000000", "00000000", 11),
      W("00000000", "00001038", 12), W("00000001", "00000000", 20),
      W("00000002", "00000000", 30), W("00000004", "00000000", 50),
      W("00000004", "00002070", 51), W("00000005", "00000000", 61),
      W("00000006", "00000000", 70)};
  add(&l, "abcdefabcdefabcd", s, 3, w, 9);
  const struct dbs_replica_generation* g = &l.gens[0];
  struct dbs_restore_plan p;
  char err[512];
  struct dbs_restore_target t = {.index = -1};

  /* Latest: snapshot 5, indexes 5..6. */
  assert_int_equal(dbs_replica_plan(&l, g, &t, &p, err, sizeof(err)), 0);
  assert_int_equal(p.snapshot.index, 5);
  assert_int_equal(p.nindexes, 2);
  assert_int_equal(p.indexes[0].index, 5);
  assert_int_equal(p.indexes[1].index, 6);
  assert_string_equal(p.gen_root, "p/generations/abcdefabcdefabcd/");
  dbs_restore_plan_free(&p);

  /* Timestamp 45: snapshot 3 (t=40), segments up to index 3. */
  t.has_timestamp = true;
  t.timestamp_ns = NS(45);
  assert_int_equal(dbs_replica_plan(&l, g, &t, &p, err, sizeof(err)), 0);
  assert_int_equal(p.snapshot.index, 3);
  assert_int_equal(p.nindexes, 1);
  assert_int_equal(p.nsegments, 1);
  dbs_restore_plan_free(&p);

  /* Timestamp 50: stops at the first segment after it (4/2070 at 51). */
  t.timestamp_ns = NS(50);
  assert_int_equal(dbs_replica_plan(&l, g, &t, &p, err, sizeof(err)), 0);
  assert_int_equal(p.nindexes, 2);
  assert_int_equal(p.indexes[1].n, 1);
  dbs_restore_plan_free(&p);

  /* Index 4: the last snapshot at or below 4 is 3; indexes 3..4. */
  t.has_timestamp = false;
  t.index = 4;
  assert_int_equal(dbs_replica_plan(&l, g, &t, &p, err, sizeof(err)), 0);
  assert_int_equal(p.snapshot.index, 3);
  assert_int_equal(p.nindexes, 2);
  assert_int_equal(p.indexes[1].n, 2);
  assert_int_equal(p.segments[p.indexes[1].first + 1].offset, 0x2070);
  dbs_restore_plan_free(&p);

  /* Index 2 from snapshot 0: 0..2 with index 0 in two segments. */
  t.index = 2;
  assert_int_equal(dbs_replica_plan(&l, g, &t, &p, err, sizeof(err)), 0);
  assert_int_equal(p.snapshot.index, 0);
  assert_int_equal(p.nindexes, 3);
  assert_int_equal(p.nsegments, 4);
  dbs_restore_plan_free(&p);

  /* An index beyond the generation is an error, not a silent restore. */
  t.index = 9;
  assert_int_equal(dbs_replica_plan(&l, g, &t, &p, err, sizeof(err)), -ERANGE);
  assert_non_null(strstr(err, "unable to locate index 00000009"));
  dbs_restore_plan_free(&p);

  /* Timestamp before every snapshot. */
  t.index = -1;
  t.has_timestamp = true;
  t.timestamp_ns = NS(5);
  assert_int_equal(dbs_replica_plan(&l, g, &t, &p, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "no snapshot at or before the requested time"));
  assert_non_null(strstr(err, "1970-01-01T00:00:10Z"));
  dbs_replica_listing_free(&l);
}

static void test_plan_errors(void** state) {
  (void)state;
  struct dbs_replica_listing l = {0};
  struct dbs_restore_plan p;
  char err[512];
  struct dbs_restore_target t = {.index = -1};
  l.root = strdup("generations/");

  /* A missing index between the snapshot and the last one. */
  struct dbs_storage_entry s[] = {S("00000001", 10)};
  struct dbs_storage_entry w[] = {W("00000001", "00000000", 11),
                                  W("00000003", "00000000", 13)};
  add(&l, "0000000000000001", s, 1, w, 2);
  assert_int_equal(dbs_replica_plan(&l, &l.gens[0], &t, &p, err, sizeof(err)),
                   -EBADMSG);
  assert_non_null(strstr(err, "missing WAL index: 0000000000000001/00000002"));

  /* An index that does not start at offset 0, even below the snapshot
   * (litestream checks every index it walks). */
  struct dbs_storage_entry s2[] = {S("00000002", 10)};
  struct dbs_storage_entry w2[] = {W("00000001", "00001038", 11),
                                   W("00000002", "00000000", 12)};
  add(&l, "0000000000000002", s2, 1, w2, 2);
  assert_int_equal(dbs_replica_plan(&l, &l.gens[1], &t, &p, err, sizeof(err)),
                   -EBADMSG);
  assert_non_null(strstr(err, "missing initial wal segment"));
  assert_non_null(strstr(
      err, "generations/0000000000000002/wal/00000001_00001038.wal.lz4"));

  /* Segments only below the snapshot: a snapshot-only restore. */
  struct dbs_storage_entry s3[] = {S("00000004", 10)};
  struct dbs_storage_entry w3[] = {W("00000003", "00000000", 9)};
  add(&l, "0000000000000003", s3, 1, w3, 1);
  assert_int_equal(dbs_replica_plan(&l, &l.gens[2], &t, &p, err, sizeof(err)),
                   0);
  assert_int_equal(p.nindexes, 0);
  assert_int_equal(p.snapshot.index, 4);
  dbs_restore_plan_free(&p);
  dbs_replica_listing_free(&l);
}

/* Two objects whose names are 2^31 indexes apart: the gap is reported
 * (-EBADMSG, naming it) before anything is sized from the names. The base
 * allocated (0x7fffffff + 1) * 24 bytes first and failed with -ENOMEM and
 * an unset message. */
static void test_plan_gap_before_alloc(void** state) {
  (void)state;
  struct dbs_replica_listing l = {0};
  struct dbs_restore_plan p;
  char err[512];
  struct dbs_restore_target t = {.index = -1};
  l.root = strdup("generations/");
  struct dbs_storage_entry s[] = {S("00000000", 10)};
  struct dbs_storage_entry w[] = {W("7fffffff", "00000000", 11)};
  add(&l, "0000000000000001", s, 1, w, 1);
  memset(err, 0xAA, sizeof(err));
  assert_int_equal(dbs_replica_plan(&l, &l.gens[0], &t, &p, err, sizeof(err)),
                   -EBADMSG);
  assert_non_null(memchr(err, '\0', sizeof(err)));
  assert_non_null(
      strstr(err, "missing WAL indexes: 0000000000000001/00000000..7ffffffe"));
  assert_non_null(strstr(err, "wal/7fffffff_00000000.wal.lz4"));
  assert_null(p.indexes);

  /* The same with indexes after the snapshot, then a jump. */
  struct dbs_storage_entry s2[] = {S("00000002", 10)};
  struct dbs_storage_entry w2[] = {W("00000002", "00000000", 11),
                                   W("00000003", "00000000", 12),
                                   W("7ffffff0", "00000000", 13)};
  add(&l, "0000000000000002", s2, 1, w2, 3);
  assert_int_equal(dbs_replica_plan(&l, &l.gens[1], &t, &p, err, sizeof(err)),
                   -EBADMSG);
  assert_non_null(strstr(err, "00000004..7fffffef"));
  assert_non_null(strstr(err, "after WAL index 00000003"));
  dbs_replica_listing_free(&l);
}

/* Metadata beyond int64 nanoseconds or bytes: a date after 2262 still
 * orders after every earlier one (the base overflowed: UBSan aborts, the
 * normal build wrapped it negative and chose the other generation), and
 * sizes that add up past 2^63 are refused as absurd (-EBADMSG, exit 65)
 * instead of overflowing. */
static void test_metadata_overflow(void** state) {
  (void)state;
  struct dbs_replica_listing l = {0};
  struct dbs_restore_target t = {.index = -1};
  l.root = strdup("generations/");
  const int64_t y2026 = 1796083200, y2300 = 10413792000;
  struct dbs_storage_entry s1[] = {S("00000000", y2300)};
  struct dbs_storage_entry s2[] = {S("00000000", y2026)};
  add(&l, "aaaaaaaaaaaaaaaa", s1, 1, NULL, 0);
  add(&l, "bbbbbbbbbbbbbbbb", s2, 1, NULL, 0);
  assert_true(l.gens[0].updated_ns > l.gens[1].updated_ns);
  assert_int_equal(l.gens[0].updated_ns, INT64_MAX);
  assert_int_equal(dbs_replica_choose(&l, &t), 0);
  /* A timestamp inside the far generation's bounds still finds it. */
  t.has_timestamp = true;
  t.timestamp_ns = INT64_MAX;
  assert_int_equal(dbs_replica_choose(&l, &t), 0);
  t.has_timestamp = false;

  struct dbs_storage_entry s3[] = {S("00000000", 10)};
  struct dbs_storage_entry w3[] = {W("00000000", "00000000", 11),
                                   W("00000001", "00000000", 12)};
  w3[0].size = INT64_MAX / 2 + 1;
  w3[1].size = INT64_MAX / 2 + 1;
  add(&l, "cccccccccccccccc", s3, 1, w3, 2);
  struct dbs_restore_plan p;
  char err[512];
  assert_int_equal(dbs_replica_plan(&l, &l.gens[2], &t, &p, err, sizeof(err)),
                   -EBADMSG);
  assert_non_null(strstr(err, "absurd replica metadata"));
  assert_non_null(
      strstr(err, "cccccccccccccccc/wal/00000001_00000000.wal.lz4"));
  s3[0].size = -1;
  add(&l, "dddddddddddddddd", s3, 1, NULL, 0);
  assert_int_equal(dbs_replica_plan(&l, &l.gens[3], &t, &p, err, sizeof(err)),
                   -EBADMSG);
  assert_non_null(strstr(err, "absurd replica metadata"));
  dbs_replica_listing_free(&l);

  struct dbs_storage_entry e = {.mtime_ms = INT64_MIN / 2};
  assert_int_equal(dbs_storage_entry_time_ns(&e), INT64_MIN);
  assert_int_equal(dbs_storage_time_ns(INT64_MAX / 1000000000, 999999999),
                   INT64_MAX);
  assert_int_equal(dbs_storage_time_ns(1, 5), 1000000005);
}

/* litestream 0.5's reading of v0.3 generations (RestoreV3): the snapshot
 * is chosen over every generation by time, WAL segments are filtered by
 * time rather than cut at the first later one, and snapshots of equal time
 * are ordered as its swap sort leaves them. */
static void test_plan_v05(void** state) {
  (void)state;
  struct dbs_replica_listing l = {0};
  struct dbs_restore_plan p;
  char err[512];
  size_t g = 99;
  struct dbs_restore_target t = {.index = -1};
  l.root = strdup("generations/");
  /* Generation a: the newest WAL segment (t=90), the older snapshot.
   * Generation b: the newest snapshot (t=60). 0.3.13 takes a (latest
   * updated); 0.5 takes b's snapshot. */
  struct dbs_storage_entry sa[] = {S("00000000", 10), S("00000002", 30)};
  struct dbs_storage_entry wa[] = {W("00000002", "00000000", 31),
                                   W("00000002", "00001038", 90)};
  struct dbs_storage_entry sb[] = {S("00000000", 60)};
  struct dbs_storage_entry wb[] = {
      W("00000000", "00000000", 61), W("00000000", "00001038", 70),
      W("00000000", "00002070", 65), W("00000001", "00000000", 72)};
  add(&l, "aaaaaaaaaaaaaaaa", sa, 2, wa, 2);
  add(&l, "bbbbbbbbbbbbbbbb", sb, 1, wb, 4);
  assert_int_equal(dbs_replica_choose(&l, &t), 0);
  assert_int_equal(dbs_replica_plan_v05(&l, &t, &g, &p, err, sizeof(err)), 0);
  assert_int_equal(g, 1);
  assert_int_equal(p.snapshot.index, 0);
  assert_int_equal(p.nindexes, 2);
  assert_int_equal(p.nsegments, 4);
  dbs_restore_plan_free(&p);
  int64_t lo, hi;
  dbs_replica_bounds(&l, &lo, &hi);
  assert_int_equal(lo, NS(10));
  assert_int_equal(hi, NS(90));

  /* At 66: b's snapshot; its segments written by then, 0/2070 (65)
   * included although 0/1038 (70) is not: a filter, so the plan has an
   * offset hole that applying refuses, as litestream does ("missing WAL
   * segment"). */
  t.has_timestamp = true;
  t.timestamp_ns = NS(66);
  assert_int_equal(dbs_replica_plan_v05(&l, &t, &g, &p, err, sizeof(err)), 0);
  assert_int_equal(g, 1);
  assert_int_equal(p.nsegments, 2);
  assert_int_equal(p.segments[1].offset, 0x2070);
  dbs_restore_plan_free(&p);

  /* At 59: a's snapshot 2 (t=30), with 2/0 only. */
  t.timestamp_ns = NS(59);
  assert_int_equal(dbs_replica_plan_v05(&l, &t, &g, &p, err, sizeof(err)), 0);
  assert_int_equal(g, 0);
  assert_int_equal(p.snapshot.index, 2);
  assert_int_equal(p.nsegments, 1);
  dbs_restore_plan_free(&p);

  /* Before every snapshot. */
  t.timestamp_ns = NS(9);
  assert_int_equal(dbs_replica_plan_v05(&l, &t, &g, &p, err, sizeof(err)),
                   -ENOENT);
  assert_non_null(strstr(err, "1970-01-01T00:00:10Z"));
  dbs_replica_listing_free(&l);

  /* Equal times: gathered as c@5, d@5, e@1, the swap sort leaves e, d, c,
   * so litestream takes c (a stable sort would take d). */
  l.root = strdup("generations/");
  struct dbs_storage_entry s5[] = {S("00000000", 5)};
  struct dbs_storage_entry s1[] = {S("00000000", 1)};
  add(&l, "cccccccccccccccc", s5, 1, NULL, 0);
  add(&l, "dddddddddddddddd", s5, 1, NULL, 0);
  add(&l, "eeeeeeeeeeeeeeee", s1, 1, NULL, 0);
  t.has_timestamp = false;
  assert_int_equal(dbs_replica_plan_v05(&l, &t, &g, &p, err, sizeof(err)), 0);
  assert_int_equal(g, 0);
  dbs_restore_plan_free(&p);
  dbs_replica_listing_free(&l);

  /* WAL segments but no snapshot anywhere: "no snapshots available". */
  l.root = strdup("generations/");
  struct dbs_storage_entry w1[] = {W("00000000", "00000000", 3)};
  add(&l, "ffffffffffffffff", NULL, 0, w1, 1);
  assert_int_equal(dbs_replica_plan_v05(&l, &t, &g, &p, err, sizeof(err)),
                   -ENOENT);
  assert_non_null(strstr(err, "no snapshots available"));
  dbs_replica_listing_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_prefix),
      cmocka_unit_test(test_choose),
      cmocka_unit_test(test_plan),
      cmocka_unit_test(test_plan_errors),
      cmocka_unit_test(test_plan_gap_before_alloc),
      cmocka_unit_test(test_metadata_overflow),
      cmocka_unit_test(test_plan_v05),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
