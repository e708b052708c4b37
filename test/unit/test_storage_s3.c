/*
 * storage_s3 without a server: option validation, endpoint parsing as
 * shown by describe(), secret registration, and the error class and
 * message of an unreachable endpoint. Server behaviour is tested by the
 * s3_* integration tests against the patched s3rver.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "storage_s3.h"

static struct dbs_replica_config replica(const char* bucket,
                                         const char* endpoint) {
  struct dbs_replica_config r = {0};
  r.name = "s3";
  r.type = "s3";
  r.kind = DBS_REPLICA_S3;
  r.bucket = (char*)bucket;
  r.endpoint = (char*)endpoint;
  r.access_key_id = "AKIAUNITTEST0000";
  r.secret_access_key = "unit-test-secret-value/abc+def";
  return r;
}

static void expect_desc(const char* endpoint, const char* want) {
  struct dbs_replica_config r = replica("bkt", endpoint);
  struct dbs_storage* st = NULL;
  assert_int_equal(dbs_storage_s3_open(&r, NULL, &st), 0);
  assert_string_equal(st->ops->describe(st), want);
  st->ops->close(st);
}

static void test_describe_endpoints(void** state) {
  (void)state;
  expect_desc(NULL, "s3://bkt");
  expect_desc("", "s3://bkt");
  expect_desc("http://127.0.0.1:9000", "s3://bkt at http://127.0.0.1:9000");
  expect_desc("http://127.0.0.1:9000/", "s3://bkt at http://127.0.0.1:9000");
  expect_desc("https://Fly.Storage.Tigris.dev:443",
              "s3://bkt at https://fly.storage.tigris.dev");
  expect_desc("http://minio:80", "s3://bkt at http://minio");
  expect_desc("minio:9000", "s3://bkt at https://minio:9000");
  expect_desc("https://[::1]:9000", "s3://bkt at https://[::1]:9000");
  expect_desc("https://gw.example/s3/", "s3://bkt at https://gw.example/s3");
}

static void test_rejects(void** state) {
  (void)state;
  struct dbs_storage* st = (struct dbs_storage*)1;
  struct dbs_replica_config r = replica(NULL, NULL);
  assert_int_equal(dbs_storage_s3_open(&r, NULL, &st), -EINVAL);
  assert_null(st);
  r = replica("", NULL);
  assert_int_equal(dbs_storage_s3_open(&r, NULL, &st), -EINVAL);
  r = replica("b", "ftp://host");
  assert_int_equal(dbs_storage_s3_open(&r, NULL, &st), -EINVAL);
  r = replica("b", "https://");
  assert_int_equal(dbs_storage_s3_open(&r, NULL, &st), -EINVAL);
  r = replica("b", NULL);
  r.secret_access_key = NULL;
  assert_int_equal(dbs_storage_s3_open(&r, NULL, &st), -EINVAL);
}

static void test_secrets_registered(void** state) {
  (void)state;
  struct dbs_replica_config r = replica("b", NULL);
  struct dbs_s3_options o = {.session_token = "unit-test-token-value-xyz"};
  struct dbs_storage* st;
  assert_int_equal(dbs_storage_s3_open(&r, &o, &st), 0);
  char buf[256];
  dbs_log_redact("a unit-test-secret-value/abc+def b unit-test-token-value-xyz",
                 buf, sizeof(buf));
  assert_string_equal(buf, "a [REDACTED] b [REDACTED]");
  st->ops->close(st);
}

static void test_unreachable_is_unavailable(void** state) {
  (void)state;
  /* Port 9 (discard) on loopback: nothing listens in the test setup. */
  struct dbs_replica_config r = replica("b", "http://127.0.0.1:9");
  struct dbs_s3_options o = {.timeout_ms = 300};
  struct dbs_storage* st;
  struct dbs_storage_list l;
  dbs_log_set_level(DBS_LOG_ERROR);
  assert_int_equal(dbs_storage_s3_open(&r, &o, &st), 0);
  assert_int_equal(st->ops->list(st, "p/", 1, &l), DBS_STORAGE_EUNAVAILABLE);
  assert_null(l.entries);
  assert_int_equal(l.n, 0);
  assert_non_null(strstr(st->error, "list s3://b/p/ at http://127.0.0.1:9"));
  assert_non_null(strstr(st->error, "gave up after"));
  assert_null(strstr(st->error, "unit-test-secret"));
  st->ops->close(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_describe_endpoints),
      cmocka_unit_test(test_rejects),
      cmocka_unit_test(test_secrets_registered),
      cmocka_unit_test(test_unreachable_is_unavailable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
