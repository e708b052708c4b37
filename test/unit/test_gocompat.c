/* Unit tests for gocompat: the Go standard library functions it mirrors,
 * with the results Go gives for the same inputs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gocompat.h"

static void test_expand_env_linemap(void** state) {
  (void)state;
  setenv("GOCOMPAT_TWO", "1\n2", 1);
  unsetenv("GOCOMPAT_UNSET");
  const char in[] = "a: $GOCOMPAT_TWO\nb: ${GOCOMPAT_UNSET}x\n${\n}c: $$ $1 $";
  unsigned* map = NULL;
  size_t n = 0, nlines = 0;
  char* out = dbs_go_expand_env(in, strlen(in), &n, &map, &nlines);
  assert_non_null(out);
  /* "${\n}" is a variable named "\n": unset, empty; "$$" and "$1" are
   * empty; a '$' at the end stays. */
  assert_string_equal(out, "a: 1\n2\nb: x\nc:   $");
  assert_int_equal(n, strlen(out));
  /* Output lines 0..3 come from input lines 0, 0 (the value's newline),
   * 1 and 2 (where "${" starts). */
  assert_int_equal(nlines, 4);
  assert_int_equal(map[0], 0);
  assert_int_equal(map[1], 0);
  assert_int_equal(map[2], 1);
  assert_int_equal(map[3], 2);
  free(map);
  free(out);
  unsetenv("GOCOMPAT_TWO");
}

static void test_url_parse(void** state) {
  (void)state;
  struct dbs_go_url u;
  char err[256];
  assert_int_equal(
      dbs_go_url_parse("S3://us%2Fer:pw@Bucket.example:9000/a%20b/c?region=x#f",
                       &u, err, sizeof(err)),
      0);
  assert_string_equal(u.scheme, "s3");
  assert_string_equal(u.user, "us%2Fer:pw");
  assert_string_equal(u.host, "Bucket.example:9000");
  assert_string_equal(u.path, "/a b/c");
  assert_string_equal(u.rawpath, "/a%20b/c");
  assert_string_equal(u.query, "region=x");
  assert_null(u.opaque);
  dbs_go_url_free(&u);

  assert_int_equal(dbs_go_url_parse("file:rel/dir", &u, err, sizeof(err)), 0);
  assert_string_equal(u.scheme, "file");
  assert_string_equal(u.opaque, "rel/dir");
  assert_null(u.path);
  dbs_go_url_free(&u);

  assert_int_equal(dbs_go_url_parse("/no/scheme", &u, err, sizeof(err)), 0);
  assert_null(u.scheme);
  assert_null(u.host);
  assert_string_equal(u.path, "/no/scheme");
  dbs_go_url_free(&u);
}

static void expect_url_error(const char* url, const char* msg) {
  struct dbs_go_url u;
  char err[256];
  assert_int_equal(dbs_go_url_parse(url, &u, err, sizeof(err)), -EINVAL);
  assert_string_equal(err, msg);
  assert_null(u.scheme);
  assert_null(u.path);
  dbs_go_url_free(&u);
}

static void test_url_errors(void** state) {
  (void)state;
  expect_url_error("s3://h/%zz",
                   "parse s3://h/%zz: invalid URL escape in path");
  expect_url_error("s3://h:9x/p",
                   "parse s3://h:9x/p: invalid port \":9x\" after host");
  expect_url_error("s3://[::1/p", "parse s3://[::1/p: missing ']' in host");
  expect_url_error("s3://[::1]x/p",
                   "parse s3://[::1]x/p: invalid port after host");
  expect_url_error(":x", "parse :x: missing protocol scheme");
  expect_url_error("s3://a b/p",
                   "parse s3://a b/p: invalid character \" \" in host name");
  expect_url_error("s3://h%41/p", "parse s3://h%41/p: invalid URL escape "
                                  "\"%41\"");
  expect_url_error("s3://u^@h/p", "parse s3://u^@h/p: net/url: invalid "
                                  "userinfo");
  expect_url_error("s3://h/p#%g", "parse s3://h/p#%g: invalid URL escape in "
                                  "fragment");
  expect_url_error("s3://h/\x7f",
                   "parse s3://h/\x7f: net/url: invalid control character in "
                   "URL");
}

static void test_escaped_path(void** state) {
  (void)state;
  struct dbs_go_url u;
  char err[256];
  /* A valid encoding is kept as written; else the path is escaped again. */
  assert_int_equal(dbs_go_url_parse("file:///a%2Fb", &u, err, sizeof(err)), 0);
  char* p = dbs_go_url_escaped_path(&u);
  assert_string_equal(p, "/a%2Fb");
  free(p);
  dbs_go_url_free(&u);
  assert_int_equal(dbs_go_url_parse("file:///a b/\"c\"", &u, err, sizeof(err)),
                   0);
  p = dbs_go_url_escaped_path(&u);
  assert_string_equal(p, "/a%20b/%22c%22");
  free(p);
  dbs_go_url_free(&u);
}

/* Get's value of key in q, "<none>" for NULL (freed here). */
static void assert_query(const char* q, const char* key, const char* want) {
  bool oom = false;
  char* v = dbs_go_query_get(q, key, &oom);
  assert_false(oom);
  assert_string_equal(v ? v : "<none>", want);
  free(v);
}

static void test_query_get(void** state) {
  (void)state;
  const char* q = "a=1&b=x+y%21&c=&b=second&d=%zz";
  assert_query(q, "b", "x y!");   /* the first value, '+' and %XX decoded */
  assert_query(q, "c", "<none>"); /* empty */
  assert_query(q, "d", "<none>"); /* bad escape */
  assert_query(q, "e", "<none>"); /* absent */
  assert_query(NULL, "a", "<none>");
  assert_query("", "a", "<none>");
}

/* url.ParseQuery as Go 1.17 and later (the Go litestream is built with):
 * ';' separates nothing, a pair holding one is dropped whole. */
static void test_query_get_semicolon(void** state) {
  (void)state;
  const char* q = "region=x;endpoint=y";
  assert_query(q, "region", "<none>");
  assert_query(q, "endpoint", "<none>");
  assert_query("a=1;endpoint=bad&endpoint=good", "endpoint", "good");
  assert_query("endpoint=e&region=a;b", "endpoint", "e");
  assert_query("endpoint=e&region=a;b", "region", "<none>");
  assert_query("region=a%3Bb", "region", "a;b"); /* an escaped ';' is fine */
  assert_query(";", "region", "<none>");
}

/* Keys are decoded too, a badly escaped pair is dropped (a later pair of
 * the same key counts), a first value that is empty hides later ones. */
static void test_query_get_pairs(void** state) {
  (void)state;
  assert_query("re%67ion=eu", "region", "eu");
  assert_query("a+b=1", "a b", "1");
  assert_query("region=%zz&region=eu", "region", "eu");
  assert_query("re%zgion=x&region=eu", "region", "eu");
  assert_query("region=&region=eu", "region", "<none>");
  assert_query("region&region=eu", "region", "<none>");
  assert_query("&&region=eu&", "region", "eu");
  assert_query("region=a=b", "region", "a=b");
  /* More than 10,000 pairs: Go refuses the whole query. */
  size_t n = 10000;
  char* big = malloc(n * 4 + 16);
  assert_non_null(big);
  char* w = big;
  w += sprintf(w, "region=eu");
  for (size_t i = 1; i < n; i++)
    w += sprintf(w, "&a=1");
  assert_query(big, "region", "eu"); /* exactly 10,000 */
  strcpy(w, "&a=1");
  assert_query(big, "region", "<none>");
  free(big);
}

static void test_split_host_port(void** state) {
  (void)state;
  char *h, *p;
  assert_int_equal(dbs_go_split_host_port("b.example:9000", &h, &p), 0);
  assert_string_equal(h, "b.example");
  assert_string_equal(p, "9000");
  free(h);
  free(p);
  assert_int_equal(dbs_go_split_host_port("[::1]:9", &h, &p), 0);
  assert_string_equal(h, "::1");
  assert_string_equal(p, "9");
  free(h);
  free(p);
  assert_int_equal(dbs_go_split_host_port("h:", &h, &p), 0);
  assert_string_equal(h, "h");
  assert_string_equal(p, "");
  free(h);
  free(p);
  static const char* const bad[] = {"h", "a:b:c", "[::1]", "::1", NULL};
  for (size_t i = 0; bad[i] != NULL; i++) {
    assert_int_equal(dbs_go_split_host_port(bad[i], &h, &p), -EINVAL);
    assert_null(h);
    assert_null(p);
  }
}

static void test_parse_duration(void** state) {
  (void)state;
  static const struct {
    const char* s;
    int64_t ns;
  } good[] = {
      {"0", 0},
      {"-0", 0},
      {"1h30m", 5400000000000LL},
      {"1.5s", 1500000000LL},
      {"-2ms", -2000000LL},
      {"+.5us", 500},
      {"3\xc2\xb5s", 3000},
      {"1m0.5s", 60500000000LL},
      {"99999999999h", INT64_MAX}, /* saturates where Go errs */
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    int64_t ns = -1;
    assert_true(dbs_go_parse_duration(good[i].s, &ns));
    assert_int_equal(ns, good[i].ns);
  }
  static const char* const bad[] = {"",   "1",     "s",    "1x",
                                    ".s", "1h-2m", "- 1s", NULL};
  for (size_t i = 0; bad[i] != NULL; i++) {
    int64_t ns = 0;
    if (dbs_go_parse_duration(bad[i], &ns))
      fail_msg("\"%s\" parsed as a duration", bad[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expand_env_linemap),
      cmocka_unit_test(test_url_parse),
      cmocka_unit_test(test_url_errors),
      cmocka_unit_test(test_escaped_path),
      cmocka_unit_test(test_query_get),
      cmocka_unit_test(test_query_get_semicolon),
      cmocka_unit_test(test_query_get_pairs),
      cmocka_unit_test(test_split_host_port),
      cmocka_unit_test(test_parse_duration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
