/* Unit tests for seedcmd: the seed command split as Prisma splits it. The
 * expected words are what Prisma 7.10.1's bundled execaCommand parser
 * (prisma/build/cli.js) returns for the same strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seedcmd.h"

static void check(const char* cmd, const char* const* want) {
  char** argv = NULL;
  size_t argc = 99;
  assert_int_equal(dbs_seedcmd_split(cmd, &argv, &argc), 0);
  size_t n = 0;
  while (want[n] != NULL)
    n++;
  assert_int_equal(argc, n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(argv[i], want[i]);
  assert_null(argv[argc]);
  free(argv);
}

static void test_split(void** state) {
  (void)state;
  check("node prisma/seed.js", (const char*[]){"node", "prisma/seed.js", NULL});
  check("  node   seed.js  ", (const char*[]){"node", "seed.js", NULL});
  /* Quotes and JSON stay as written: no shell. */
  check("ts-node --compiler-options {\"module\":\"CommonJS\"} prisma/seed.ts",
        (const char*[]){"ts-node", "--compiler-options",
                        "{\"module\":\"CommonJS\"}", "prisma/seed.ts", NULL});
  check("node -e 'a b'", (const char*[]){"node", "-e", "'a", "b'", NULL});
  check("tsx seed.ts && echo $HOME",
        (const char*[]){"tsx", "seed.ts", "&&", "echo", "$HOME", NULL});
  /* A backslash before a space joins the words with one space. */
  check("a\\ b\\ c d", (const char*[]){"a b c", "d", NULL});
  check("a\\  b", (const char*[]){"a b", NULL});
  check("\\ a", (const char*[]){" a", NULL});
  check("a \\ b", (const char*[]){"a", " b", NULL});
  check("x\\", (const char*[]){"x\\", NULL});
  /* Only U+0020 splits; trim() removes JavaScript's whitespace (here a
   * no-break space, a tab, an ideographic space and a BOM). */
  check("\xC2\xA0\ttsx\tx y\xE3\x80\x80\xEF\xBB\xBF",
        (const char*[]){"tsx\tx", "y", NULL});
  check("", (const char*[]){NULL});
  check("  \t\n", (const char*[]){NULL});
}

static void test_shell_word(void** state) {
  (void)state;
  char* plain[] = {"node", "seed.js", "{\"a\":1}", "'quoted'", NULL};
  assert_null(dbs_seedcmd_shell_word(plain));
  char*and[] = {"tsx", "seed.ts", "&&", "echo", NULL};
  assert_string_equal(dbs_seedcmd_shell_word(and), "&&");
  char* var[] = {"node", "$SEED", NULL};
  assert_string_equal(dbs_seedcmd_shell_word(var), "$SEED");
  char* open[] = {"node", "-e", "'a", "b'", NULL};
  assert_string_equal(dbs_seedcmd_shell_word(open), "'a");
  char* redir[] = {"node", "seed.js", ">", "log", NULL};
  assert_string_equal(dbs_seedcmd_shell_word(redir), ">");
  char* semi[] = {"node", "a.js;", "node", "b.js", NULL};
  assert_string_equal(dbs_seedcmd_shell_word(semi), "a.js;");
}

static void test_shell_warning(void** state) {
  (void)state;
  char msg[512];
  char* plain[] = {"node", "seed.js", NULL};
  assert_int_equal(dbs_seedcmd_shell_warning("package.json prisma.seed",
                                             "node seed.js", plain, msg,
                                             sizeof(msg)),
                   0);
  assert_string_equal(msg, "");
  char*and[] = {"tsx", "seed.ts", "&&", "echo", NULL};
  assert_int_equal(dbs_seedcmd_shell_warning("package.json prisma.seed",
                                             "tsx seed.ts && echo", and, msg,
                                             sizeof(msg)),
                   1);
  assert_string_equal(
      msg, "the seed command (package.json prisma.seed) is run as prisma db "
           "seed runs it, without a shell: the word && reaches tsx as an "
           "argument, not as shell syntax (put the commands in a script, or "
           "pass --seed for a /bin/sh command): tsx seed.ts && echo");
  char small[8];
  assert_int_equal(dbs_seedcmd_shell_warning("x", "tsx seed.ts && echo", and,
                                             small, sizeof(small)),
                   1);
  assert_string_equal(small, "the see");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_shell_word),
      cmocka_unit_test(test_shell_warning),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
