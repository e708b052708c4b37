/* The seed command split as Prisma's `prisma db seed` splits it. */
#include "seedcmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Bytes of the JavaScript whitespace or line terminator at p (what
 * String.prototype.trim removes), else 0. UTF-8.
 */
static size_t js_space(const unsigned char* p) {
  if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
    return 1;
  if (p[0] == 0xC2 && p[1] == 0xA0) /* U+00A0 */
    return 2;
  if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) /* U+1680 */
    return 3;
  if (p[0] == 0xE2 && p[1] == 0x80 &&
      ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 ||
       p[2] == 0xAF)) /* U+2000-200A, 2028, 2029, 202F */
    return 3;
  if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) /* U+205F */
    return 3;
  if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) /* U+3000 */
    return 3;
  if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) /* U+FEFF */
    return 3;
  return 0;
}

/* [*b, *e) without the JavaScript whitespace at either end. */
static void js_trim(const char* s, const char** b, const char** e) {
  const unsigned char* p = (const unsigned char*)s;
  size_t n;
  while ((n = js_space(p)) > 0)
    p += n;
  const unsigned char* end = p + strlen((const char*)p);
  /* Trailing: the last whitespace character repeatedly, scanning forward
   * (UTF-8 has no safe backward step for every sequence above). */
  for (;;) {
    const unsigned char *q = p, *last = NULL;
    while (q < end) {
      n = js_space(q);
      if (n > 0 && q + n == end)
        last = q;
      q += n > 0 ? n : 1;
    }
    if (last == NULL)
      break;
    end = last;
  }
  *b = (const char*)p;
  *e = (const char*)end;
}

int dbs_seedcmd_split(const char* cmd, char*** argvp, size_t* argcp) {
  const char *b, *e;
  js_trim(cmd, &b, &e);
  size_t len = (size_t)(e - b), words = 1;
  for (const char* p = b; p < e; p++)
    if (*p == ' ')
      words++;
  /* One block: the pointers, then the words (never longer than the
   * trimmed string plus a NUL each). */
  char** argv = malloc((words + 1) * sizeof(char*) + len + words);
  if (argv == NULL)
    return -ENOMEM;
  char* out = (char*)(argv + words + 1);
  size_t argc = 0;
  if (len > 0) {
    const char* p = b;
    while (p <= e) {
      const char* q = p;
      while (q < e && *q != ' ')
        q++;
      /* split(/ +/): a run of spaces is one separator. */
      size_t wl = (size_t)(q - p);
      if (argc > 0) {
        char* prev = argv[argc - 1];
        size_t pl = strlen(prev);
        if (pl > 0 && prev[pl - 1] == '\\') {
          /* "a\" "b" -> "a b": the backslash becomes the space; out is
           * just past prev's NUL. */
          prev[pl - 1] = ' ';
          memcpy(prev + pl, p, wl);
          prev[pl + wl] = '\0';
          out = prev + pl + wl + 1;
          goto next;
        }
      }
      argv[argc++] = out;
      memcpy(out, p, wl);
      out[wl] = '\0';
      out += wl + 1;
    next:
      while (q < e && *q == ' ')
        q++;
      if (q >= e)
        break;
      p = q;
    }
  }
  argv[argc] = NULL;
  *argvp = argv;
  *argcp = argc;
  return 0;
}

const char* dbs_seedcmd_shell_word(char* const argv[]) {
  static const char* const ops[] = {"&&", "||", ";",    "|",   "&",  ">", ">>",
                                    "<",  "2>", "2>&1", "2>>", "&>", "(", ")"};
  for (size_t i = 0; argv[i] != NULL; i++) {
    const char* w = argv[i];
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
      if (strcmp(w, ops[k]) == 0)
        return w;
    if (w[0] == '$' || w[0] == '`')
      return w;
    size_t n = strlen(w);
    if ((w[0] == '"' || w[0] == '\'') && (n == 1 || w[n - 1] != w[0]))
      return w;
    if (n > 0 && w[n - 1] == ';')
      return w;
  }
  return NULL;
}

int dbs_seedcmd_shell_warning(const char* from, const char* seed,
                              char* const argv[], char* out, size_t outlen) {
  const char* w = dbs_seedcmd_shell_word(argv);
  if (outlen > 0)
    out[0] = '\0';
  if (w == NULL)
    return 0;
  snprintf(out, outlen,
           "the seed command (%s) is run as prisma db seed runs it, "
           "without a shell: the word %s reaches %s as an argument, "
           "not as shell syntax (put the commands in a script, or "
           "pass --seed for a /bin/sh command): %s",
           from, w, argv[0], seed);
  return 1;
}
