/* Unit tests for strbuf: the growing buffer and Go's path.Clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strbuf.h"

static void test_buf_grows(void** state) {
  struct dbs_strbuf b = {0};
  for (int i = 0; i < 1000; i++)
    dbs_strbuf_adds(&b, "ab");
  dbs_strbuf_add(&b, "xyz", 1);
  assert_int_equal(b.len, 2001);
  char* s = dbs_strbuf_take(&b);
  assert_non_null(s);
  assert_int_equal(strlen(s), 2001);
  assert_int_equal(s[2000], 'x');
  assert_null(b.p);
  free(s);
  s = dbs_strbuf_take(&b);
  assert_string_equal(s, "");
  free(s);
}

/* Cases from Go's path.Clean documentation and tests. */
static void test_path_clean(void** state) {
  static const char* const cases[][2] = {
      {"", "."},
      {"abc", "abc"},
      {"abc/def", "abc/def"},
      {"a/b/c", "a/b/c"},
      {".", "."},
      {"..", ".."},
      {"../..", "../.."},
      {"../../abc", "../../abc"},
      {"/abc", "/abc"},
      {"/", "/"},
      {"abc/", "abc"},
      {"/abc/", "/abc"},
      {"abc//def//ghi", "abc/def/ghi"},
      {"//abc", "/abc"},
      {"abc/./def", "abc/def"},
      {"/./abc/def", "/abc/def"},
      {"abc/.", "abc"},
      {"abc/def/ghi/../jkl", "abc/def/jkl"},
      {"abc/def/../ghi/../jkl", "abc/jkl"},
      {"abc/def/..", "abc"},
      {"abc/def/../..", "."},
      {"/abc/def/../..", "/"},
      {"abc/def/../../..", ".."},
      {"/abc/def/../../..", "/"},
      {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
      {"/../abc", "/abc"},
      {"abc/./../def", "def"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char* got = dbs_strbuf_path_clean(cases[i][0]);
    assert_non_null(got);
    assert_string_equal(got, cases[i][1]);
    free(got);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buf_grows),
      cmocka_unit_test(test_path_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
