/* Reads prisma.config.ts without running it. */
#define _GNU_SOURCE /* asprintf */
#include "prisma_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strbuf.h"

#define CONFIG_MAX_BYTES (1u << 20)
#define DEPTH_MAX 64

static int seterr(char* err, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int seterr(char* err, size_t errlen, const char* fmt, ...) {
  va_list ap;
  if (errlen == 0)
    return -EINVAL;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

static bool is_file(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- Finding the file ------------------------------------------------ */

static const char* const exts[] = {".js",  ".ts",  ".mjs",
                                   ".cjs", ".mts", ".cts"};
/* Found by Prisma's loader (c12) but refused as "Unsupported Prisma config
 * file extension". */
static const char* const bad_exts[] = {".json", ".jsonc", ".json5",
                                       ".yaml", ".yml",   ".toml"};
#define NEXTS (sizeof(exts) / sizeof(exts[0]))
#define NBAD (sizeof(bad_exts) / sizeof(bad_exts[0]))

/* dir/base+ext for the first ext that names a file; NULL if none. */
static int try_exts(const char* dir, const char* base, bool bad, char** out) {
  size_t n = bad ? NBAD : NEXTS;
  *out = NULL;
  for (size_t i = 0; i < n; i++) {
    char* p;
    if (asprintf(&p, "%s/%s%s", dir, base, bad ? bad_exts[i] : exts[i]) < 0)
      return -ENOMEM;
    if (is_file(p)) {
      *out = p;
      return 0;
    }
    free(p);
  }
  return 0;
}

int dbs_prisma_config_find(const char* dir, char** out, char** unsupported) {
  static const char* const prisma7[] = {"prisma7.config", ".config/prisma7"};
  static const char* const legacy[] = {"prisma.config", ".config/prisma",
                                       ".config/prisma.config"};
  int rc;
  *out = NULL;
  *unsupported = NULL;
  for (size_t i = 0; i < 2; i++) {
    if ((rc = try_exts(dir, prisma7[i], false, out)) < 0 || *out != NULL)
      return rc;
  }
  /* c12: each base with the extensions, then the unsupported ones, then
   * base/index with the extensions. */
  for (size_t i = 0; i < 3; i++) {
    if ((rc = try_exts(dir, legacy[i], false, out)) < 0 || *out != NULL)
      return rc;
    if ((rc = try_exts(dir, legacy[i], true, unsupported)) < 0 ||
        *unsupported != NULL)
      return rc;
    char* index;
    if (asprintf(&index, "%s/index", legacy[i]) < 0)
      return -ENOMEM;
    rc = try_exts(dir, index, false, out);
    free(index);
    if (rc < 0 || *out != NULL)
      return rc;
  }
  return 0;
}

/* ---- Tokens ----------------------------------------------------------- */

enum tok_type {
  T_EOF,
  T_IDENT,
  T_STRING,   /* quotes, or a template without ${} */
  T_TEMPLATE, /* a template with ${}: not read */
  T_NUMBER,
  T_PUNCT, /* punct holds up to 3 characters */
};

struct tok {
  enum tok_type type;
  unsigned line;
  const char* start; /* T_IDENT: in the text */
  size_t len;
  char* str; /* T_STRING: decoded */
  char punct[4];
};

struct toks {
  struct tok* v;
  size_t n, cap;
};

static void toks_free(struct toks* t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].str);
  free(t->v);
  memset(t, 0, sizeof(*t));
}

static int toks_push(struct toks* t, const struct tok* k) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    struct tok* v = realloc(t->v, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    t->v = v;
    t->cap = cap;
  }
  t->v[t->n++] = *k;
  return 0;
}

/* n hex digits at p (p + n <= end), or -1. */
static long hexn(const char* p, const char* end, int n) {
  long v = 0;
  if (end - p < n)
    return -1;
  for (int i = 0; i < n; i++) {
    int h = dbs_strbuf_unhex((unsigned char)p[i]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  return v;
}

/* JS's \u{X...} (p after the 'u', at '{'): the code point, or -1 when it
 * is not one (then nothing is consumed). */
static long unescape_braced(const char** pp, const char* end) {
  const char* p = *pp;
  const char* q = p + 1;
  long v = 0;
  while (q < end && dbs_strbuf_unhex((unsigned char)*q) >= 0 && v <= 0x10ffff)
    v = v * 16 + dbs_strbuf_unhex((unsigned char)*q++);
  if (q < end && *q == '}' && q > p + 1 && v <= 0x10ffff) {
    *pp = q + 1;
    return v;
  }
  return -1;
}

/* Writes code point v, a lone surrogate as U+FFFD. */
static void put_code_point(char** o, long v) {
  dbs_strbuf_put_utf8(o, v >= 0xd800 && v < 0xe000 ? 0xfffd : (uint32_t)v);
}

/* Decodes the JS escape after a backslash (*pp after it, before end) into
 * *o: JSON's, then \v \0 \xHH \u{...} and line continuations; any other
 * character stands for itself. */
static void lex_escape(const char** pp, const char* end, unsigned* line,
                       char** o) {
  const char* p = *pp;
  long v = dbs_strbuf_unescape_json(p, end, &p);
  if (v >= 0) {
    put_code_point(o, v);
    *pp = p;
    return;
  }
  char c = *p++;
  switch (c) {
  case 'v':
    *(*o)++ = '\v';
    break;
  case '0':
    *(*o)++ = '\0';
    break;
  case '\r':
    if (p < end && *p == '\n')
      p++;
    (*line)++;
    break;
  case '\n':
    (*line)++;
    break; /* line continuation */
  case 'x':
    if ((v = hexn(p, end, 2)) < 0) {
      *(*o)++ = 'x';
      break;
    }
    p += 2;
    dbs_strbuf_put_utf8(o, (uint32_t)v);
    break;
  case 'u':
    /* not \u{...} nor four hex digits: the letter */
    if (p < end && *p == '{' && (v = unescape_braced(&p, end)) >= 0)
      put_code_point(o, v);
    else
      *(*o)++ = 'u';
    break;
  default:
    *(*o)++ = c;
    break;
  }
  *pp = p;
}

/* Skips a template's ${...} (*pp at the '{') to the matching '}', counting
 * lines (nested braces and strings are rare in a config; the value is not
 * read anyway). Returns false when it is never closed. */
static bool skip_substitution(const char** pp, const char* end,
                              unsigned* line) {
  const char* p = *pp;
  int depth = 0;
  for (; p < end; p++) {
    if (*p == '{')
      depth++;
    else if (*p == '}' && --depth == 0)
      break;
    else if (*p == '\n')
      (*line)++;
  }
  if (p == end)
    return false;
  *pp = p + 1;
  return true;
}

/*
 * A quoted string or template at *pp. Decodes JS escapes; a template with
 * ${ becomes T_TEMPLATE. Returns 0, -ENOMEM, or -EINVAL (unclosed).
 */
static int lex_string(const char** pp, const char* end, unsigned* line,
                      struct tok* t) {
  const char* p = *pp;
  char q = *p++;
  char* buf = malloc((size_t)(end - p) + 1);
  char* o = buf;
  bool subst = false;
  if (buf == NULL)
    return -ENOMEM;
  for (;;) {
    if (p == end || (q != '`' && *p == '\n')) {
      free(buf);
      return -EINVAL;
    }
    char c = *p++;
    if (c == q)
      break;
    if (c == '\n')
      (*line)++;
    if (q == '`' && c == '$' && p < end && *p == '{') {
      subst = true;
      if (!skip_substitution(&p, end, line)) {
        free(buf);
        return -EINVAL;
      }
    } else if (c != '\\') {
      *o++ = c;
    } else if (p < end) {
      lex_escape(&p, end, line, &o);
    }
  }
  *o = '\0';
  if (subst) {
    free(buf);
    t->type = T_TEMPLATE;
  } else if (memchr(buf, '\0', (size_t)(o - buf)) != NULL) {
    free(buf); /* a NUL in a path: not something to read as a C string */
    t->type = T_TEMPLATE;
  } else {
    t->type = T_STRING;
    t->str = buf;
  }
  *pp = p;
  return 0;
}

static bool ident_char(unsigned char c, bool first) {
  return c == '_' || c == '$' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9') ||
         c >= 0x80;
}

/* Skips white space and comments, counting lines. -EINVAL with *bad_line
 * for an unclosed comment. */
static int skip_blank(const char** pp, const char* end, unsigned* line,
                      unsigned* bad_line) {
  const char* p = *pp;
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
                       *p == '\f' || *p == '\v')) {
      if (*p == '\n')
        (*line)++;
      p++;
    }
    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
      while (p < end && *p != '\n')
        p++;
    } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
      unsigned start = *line;
      p += 2;
      while (p < end && !(end - p >= 2 && p[0] == '*' && p[1] == '/')) {
        if (*p == '\n')
          (*line)++;
        p++;
      }
      if (p == end) {
        *bad_line = start;
        return -EINVAL;
      }
      p += 2;
    } else {
      *pp = p;
      return 0;
    }
  }
}

/* Punctuation: the longest of JS's operators that matter here, else one
 * character. */
static void lex_punct(const char** pp, const char* end, struct tok* t) {
  static const char* const multi[] = {"...", "||=", "&&=", "===", "!==", "=>",
                                      "||",  "??",  "?.",  "&&",  "==",  "!="};
  const char* p = *pp;
  size_t n = 1;
  for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
    size_t m = strlen(multi[i]);
    if ((size_t)(end - p) >= m && memcmp(p, multi[i], m) == 0) {
      n = m;
      break;
    }
  }
  t->type = T_PUNCT;
  memcpy(t->punct, p, n);
  *pp = p + n;
}

/* The token at *pp (not blank, not the end) into *t. */
static int lex_token(const char** pp, const char* end, unsigned* line,
                     struct tok* t, unsigned* bad_line) {
  const char* p = *pp;
  unsigned char c = (unsigned char)*p;
  if (c == '"' || c == '\'' || c == '`') {
    int rc = lex_string(pp, end, line, t);
    if (rc == -EINVAL)
      *bad_line = t->line;
    return rc;
  }
  if (ident_char(c, true)) {
    t->type = T_IDENT;
    t->start = p;
    while (p < end && ident_char((unsigned char)*p, false))
      p++;
    t->len = (size_t)(p - t->start);
  } else if (c >= '0' && c <= '9') {
    t->type = T_NUMBER;
    while (p < end && (ident_char((unsigned char)*p, false) || *p == '.'))
      p++;
  } else {
    lex_punct(&p, end, t);
  }
  *pp = p;
  return 0;
}

/* Tokenizes text. -EINVAL with *bad_line for an unclosed string/comment. */
static int tokenize(const char* text, size_t len, struct toks* out,
                    unsigned* bad_line) {
  const char* p = text;
  const char* end = text + len;
  unsigned line = 1;
  int rc;
  if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  if (end - p >= 2 && p[0] == '#' && p[1] == '!')
    while (p < end && *p != '\n')
      p++;
  for (;;) {
    struct tok t = {0};
    if ((rc = skip_blank(&p, end, &line, bad_line)) < 0)
      return rc;
    t.line = line;
    if (p == end) {
      t.type = T_EOF;
      return toks_push(out, &t);
    }
    if ((rc = lex_token(&p, end, &line, &t, bad_line)) < 0)
      return rc;
    if ((rc = toks_push(out, &t)) < 0) {
      free(t.str);
      return rc;
    }
  }
}

/* ---- Evaluation ------------------------------------------------------- */

struct parser {
  struct toks* tk;
  size_t i;
  const char* dir; /* the config's folder (__dirname) */
  const char* cwd;
  const char* envfile; /* ./.env text when dotenv is imported, or NULL */
};

static const struct tok* peek(struct parser* ps, size_t ahead) {
  size_t i = ps->i + ahead;
  return i < ps->tk->n ? &ps->tk->v[i] : &ps->tk->v[ps->tk->n - 1];
}

static bool is_ident(const struct tok* t, const char* s) {
  return t->type == T_IDENT && t->len == strlen(s) &&
         memcmp(t->start, s, t->len) == 0;
}

static bool is_punct(const struct tok* t, const char* s) {
  return t->type == T_PUNCT && strcmp(t->punct, s) == 0;
}

/* A value being evaluated. */
struct val {
  bool ok;      /* readable */
  bool defined; /* not undefined */
  char* s;      /* when defined */
  char* env;    /* first variable read */
  bool env_required;
};

static void val_free(struct val* v) {
  free(v->s);
  free(v->env);
  memset(v, 0, sizeof(*v));
}

/* p past spaces and tabs, up to end. */
static const char* skip_sp(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

/* A .env value (r at its first character, eol its line's end): a quoted
 * one without its quotes, else cut at " #" and trailing blanks. NULL
 * when out of memory. */
static char* dotenv_value(const char* r, const char* eol) {
  if (r < eol && (*r == '"' || *r == '\'' || *r == '`')) {
    const char* close = memchr(r + 1, *r, (size_t)(eol - r - 1));
    if (close != NULL) {
      char* v = strndup(r + 1, (size_t)(close - r - 1));
      if (v != NULL)
        return v;
    }
  }
  const char* vend = r;
  while (vend < eol &&
         !(*vend == '#' && (vend == r || vend[-1] == ' ' || vend[-1] == '\t')))
    vend++;
  while (vend > r && (vend[-1] == ' ' || vend[-1] == '\t' || vend[-1] == '\r'))
    vend--;
  return strndup(r, (size_t)(vend - r));
}

/* NAME's value when the line [p, eol) defines it, else NULL. */
static char* dotenv_line(const char* p, const char* eol, const char* name,
                         size_t nlen) {
  const char* q = skip_sp(p, eol);
  if ((size_t)(eol - q) > 7 && memcmp(q, "export ", 7) == 0)
    q = skip_sp(q + 7, eol);
  if (!((size_t)(eol - q) > nlen && memcmp(q, name, nlen) == 0))
    return NULL;
  const char* r = skip_sp(q + nlen, eol);
  if (!(r < eol && (*r == '=' || *r == ':')))
    return NULL;
  return dotenv_value(skip_sp(r + 1, eol), eol);
}

/*
 * The value of NAME in .env text, as dotenv parses it: KEY=VALUE lines,
 * optional "export ", quotes stripped (double quotes expand \n), an
 * unquoted value cut at " #". The last definition wins. NULL if absent.
 */
static char* dotenv_lookup(const char* text, const char* name) {
  char* found = NULL;
  size_t nlen = strlen(name);
  const char* p = text;
  while (*p != '\0') {
    const char* eol = strchr(p, '\n');
    if (eol == NULL)
      eol = p + strlen(p);
    char* v = dotenv_line(p, eol, name, nlen);
    if (v != NULL) {
      free(found);
      found = v;
    }
    p = *eol != '\0' ? eol + 1 : eol;
  }
  return found;
}

/* process.env[name] as the config sees it. */
static int env_get(struct parser* ps, const char* name, struct val* v,
                   bool required) {
  const char* e = getenv(name);
  char* from_file = NULL;
  if (v->env == NULL && (v->env = strdup(name)) == NULL)
    return -ENOMEM;
  v->ok = true;
  /* dotenv sets only what the environment lacks. */
  if (e == NULL && ps->envfile != NULL)
    e = from_file = dotenv_lookup(ps->envfile, name);
  /* env("X") throws on an empty X as on an unset one. */
  if (e != NULL && !(required && e[0] == '\0')) {
    v->defined = true;
    v->s = from_file != NULL ? from_file : strdup(e);
    return v->s != NULL ? 0 : -ENOMEM;
  }
  free(from_file);
  if (required)
    v->env_required = true;
  return 0;
}

static int eval_expr(struct parser* ps, struct val* v, int depth);

/* "(" args ")" of path.join/resolve, evaluated; resolve makes it absolute. */
static int eval_path_call(struct parser* ps, struct val* v, bool resolve,
                          int depth) {
  char* acc = NULL;
  ps->i++; /* ( */
  v->ok = true;
  v->defined = true;
  while (!is_punct(peek(ps, 0), ")")) {
    struct val a = {0};
    int rc = eval_expr(ps, &a, depth + 1);
    if (rc < 0) {
      free(acc);
      return rc;
    }
    if (!a.ok || !a.defined) {
      v->ok = a.ok;
      v->defined = false;
      if (v->env == NULL) {
        v->env = a.env;
        a.env = NULL;
      }
      v->env_required |= a.env_required;
    }
    if (v->ok && v->defined) {
      char* next;
      if (acc == NULL || a.s[0] == '\0')
        next = strdup(acc == NULL ? a.s : acc);
      else if (resolve && a.s[0] == '/')
        next = strdup(a.s);
      else if (asprintf(&next, "%s/%s", acc, a.s) < 0)
        next = NULL;
      free(acc);
      acc = next;
      if (acc == NULL) {
        val_free(&a);
        return -ENOMEM;
      }
    }
    val_free(&a);
    if (is_punct(peek(ps, 0), ","))
      ps->i++;
    else if (!is_punct(peek(ps, 0), ")")) {
      v->ok = false;
      free(acc);
      return 0;
    }
  }
  ps->i++; /* ) */
  if (!v->ok || !v->defined) {
    free(acc);
    return 0;
  }
  if (acc == NULL && (acc = strdup(".")) == NULL)
    return -ENOMEM;
  if (resolve && acc[0] != '/') {
    char* abs;
    if (asprintf(&abs, "%s/%s", ps->cwd, acc) < 0)
      abs = NULL;
    free(acc);
    acc = abs;
    if (acc == NULL)
      return -ENOMEM;
  }
  v->s = acc;
  return 0;
}

/* A known string: v is readable and defined as a copy of str. */
static int val_set(struct val* v, const char* str) {
  v->ok = v->defined = true;
  v->s = strdup(str);
  return v->s != NULL ? 0 : -ENOMEM;
}

/* ( expr ) */
static int eval_paren(struct parser* ps, struct val* v, int depth) {
  ps->i++;
  int rc = eval_expr(ps, v, depth + 1);
  if (rc < 0)
    return rc;
  if (!is_punct(peek(ps, 0), ")")) {
    v->ok = false;
    return 0;
  }
  ps->i++;
  return 0;
}

/* env("X") / env<T>("X") (at "env") */
static int eval_env_call(struct parser* ps, struct val* v) {
  size_t j = 1;
  if (is_punct(peek(ps, j), "<")) {
    while (peek(ps, j)->type != T_EOF && !is_punct(peek(ps, j), ">"))
      j++;
    j++;
  }
  if (is_punct(peek(ps, j), "(") && peek(ps, j + 1)->type == T_STRING &&
      is_punct(peek(ps, j + 2), ")")) {
    const char* name = peek(ps, j + 1)->str;
    ps->i += j + 3;
    return env_get(ps, name, v, true);
  }
  return 0;
}

/* process.env.X, process.env?.X, process.env["X"] (at "process") */
static int eval_process_env(struct parser* ps, struct val* v) {
  size_t j = 3;
  if (is_punct(peek(ps, j), "?."))
    j++;
  else if (!is_punct(peek(ps, j), ".") && !is_punct(peek(ps, j), "["))
    return 0;
  else if (is_punct(peek(ps, j), "."))
    j++;
  if (peek(ps, j)->type == T_IDENT) {
    const struct tok* n = peek(ps, j);
    char* name = strndup(n->start, n->len);
    if (name == NULL)
      return -ENOMEM;
    ps->i += j + 1;
    int rc = env_get(ps, name, v, false);
    free(name);
    return rc;
  }
  if (is_punct(peek(ps, j), "[") && peek(ps, j + 1)->type == T_STRING &&
      is_punct(peek(ps, j + 2), "]")) {
    const char* name = peek(ps, j + 1)->str;
    ps->i += j + 3;
    return env_get(ps, name, v, false);
  }
  return 0;
}

/* process.env... or process.cwd() (at "process" "."). */
static int eval_process(struct parser* ps, struct val* v) {
  if (is_ident(peek(ps, 2), "env"))
    return eval_process_env(ps, v);
  if (is_ident(peek(ps, 2), "cwd") && is_punct(peek(ps, 3), "(") &&
      is_punct(peek(ps, 4), ")")) {
    ps->i += 5;
    return val_set(v, ps->cwd);
  }
  return 0;
}

/* path.join(...), path.resolve(...), join(...), resolve(...) */
static int eval_path(struct parser* ps, struct val* v, int depth) {
  size_t j = 0;
  if (is_ident(peek(ps, 0), "path") && is_punct(peek(ps, 1), "."))
    j = 2;
  if (is_ident(peek(ps, j), "join") && is_punct(peek(ps, j + 1), "(")) {
    ps->i += j + 1;
    return eval_path_call(ps, v, false, depth);
  }
  if (is_ident(peek(ps, j), "resolve") && is_punct(peek(ps, j + 1), "(")) {
    ps->i += j + 1;
    return eval_path_call(ps, v, true, depth);
  }
  return 0;
}

/* One operand. On anything unknown v->ok stays false. */
static int eval_term(struct parser* ps, struct val* v, int depth) {
  const struct tok* t = peek(ps, 0);
  memset(v, 0, sizeof(*v));
  if (depth > DEPTH_MAX)
    return 0;
  if (is_punct(t, "("))
    return eval_paren(ps, v, depth);
  if (t->type == T_STRING) {
    ps->i++;
    return val_set(v, t->str);
  }
  if (t->type != T_IDENT)
    return 0;
  if (is_ident(t, "env"))
    return eval_env_call(ps, v);
  if (is_ident(t, "process") && is_punct(peek(ps, 1), "."))
    return eval_process(ps, v);
  if (is_ident(t, "__dirname")) {
    ps->i++;
    return val_set(v, ps->dir);
  }
  if (is_ident(t, "import") && is_punct(peek(ps, 1), ".") &&
      is_ident(peek(ps, 2), "meta") && is_punct(peek(ps, 3), ".") &&
      is_ident(peek(ps, 4), "dirname")) {
    ps->i += 5;
    return val_set(v, ps->dir);
  }
  return eval_path(ps, v, depth);
}

/* term (("+") term)* ((|| | ??) ...)*: JS precedence for these three. */
static int eval_sum(struct parser* ps, struct val* v, int depth) {
  int rc = eval_term(ps, v, depth);
  while (rc == 0 && v->ok && is_punct(peek(ps, 0), "+")) {
    struct val r;
    ps->i++;
    if ((rc = eval_term(ps, &r, depth + 1)) < 0)
      break;
    if (v->env == NULL) {
      v->env = r.env;
      r.env = NULL;
    }
    v->env_required |= r.env_required;
    if (!r.ok || !v->defined || !r.defined) {
      /* undefined + "x" is "undefinedx": not a path anyone means. */
      v->ok = r.ok && v->defined && r.defined;
      val_free(&r);
      if (!v->ok)
        break;
      continue;
    }
    char* cat;
    if (asprintf(&cat, "%s%s", v->s, r.s) < 0)
      cat = NULL;
    val_free(&r);
    free(v->s);
    v->s = cat;
    if (cat == NULL)
      return -ENOMEM;
  }
  return rc;
}

static int eval_expr(struct parser* ps, struct val* v, int depth) {
  int rc = eval_sum(ps, v, depth);
  while (rc == 0 && v->ok &&
         (is_punct(peek(ps, 0), "||") || is_punct(peek(ps, 0), "??"))) {
    bool nullish = is_punct(peek(ps, 0), "??");
    struct val r;
    ps->i++;
    if ((rc = eval_sum(ps, &r, depth + 1)) < 0)
      break;
    /* Which side wins: || on an empty or undefined left, ?? on undefined.
     * env("X") with X unset throws before either runs. */
    bool take_right = !v->defined || (!nullish && v->s[0] == '\0');
    if (v->env_required)
      take_right = false;
    if (!r.ok) {
      v->ok = false;
    } else if (take_right) {
      char* env = v->env;
      v->env = NULL;
      val_free(v);
      *v = r;
      if (env != NULL) {
        free(v->env);
        v->env = env;
      }
      continue;
    }
    val_free(&r);
  }
  return rc;
}

/* ---- The exported object ---------------------------------------------- */

/* Skips one value: to the next "," or closing bracket at depth 0. */
static void skip_value(struct parser* ps) {
  int depth = 0;
  for (;;) {
    const struct tok* t = peek(ps, 0);
    if (t->type == T_EOF)
      return;
    if (t->type == T_PUNCT) {
      char c = t->punct[0];
      if (t->punct[1] == '\0' && (c == '(' || c == '[' || c == '{'))
        depth++;
      else if (t->punct[1] == '\0' && (c == ')' || c == ']' || c == '}')) {
        if (depth == 0)
          return;
        depth--;
      } else if (depth == 0 && c == ',' && t->punct[1] == '\0')
        return;
    }
    ps->i++;
  }
}

static int set_value(struct parser* ps, struct dbs_prisma_config_value* out,
                     unsigned line, bool readable_form) {
  struct val v = {0};
  int rc = 0;
  free(out->value);
  free(out->env);
  memset(out, 0, sizeof(*out));
  out->present = true;
  out->line = line;
  if (readable_form) {
    size_t start = ps->i;
    rc = eval_expr(ps, &v, 0);
    if (rc < 0) {
      val_free(&v);
      return rc;
    }
    /* The value must end here: "a" + x.y, a ? b : c... are not read. */
    const struct tok* t = peek(ps, 0);
    if (v.ok && !(is_punct(t, ",") || is_punct(t, "}")))
      v.ok = false;
    if (!v.ok) {
      ps->i = start;
      skip_value(ps);
    }
  } else {
    skip_value(ps);
  }
  out->readable = v.ok;
  if (v.ok) {
    out->value = v.defined ? v.s : NULL;
    v.s = NULL;
    out->env_required = v.env_required;
  }
  out->env = v.env;
  v.env = NULL;
  val_free(&v);
  return 0;
}

enum obj_kind { OBJ_TOP, OBJ_MIGRATIONS, OBJ_DATASOURCE };

/* A property key (a name or a short string) into name[32], or NULL. */
static const char* key_of(const struct tok* k, char name[32]) {
  if (k->type == T_IDENT && k->len < 32) {
    memcpy(name, k->start, k->len);
    name[k->len] = '\0';
    return name;
  }
  if (k->type == T_STRING && strlen(k->str) < 32) {
    snprintf(name, 32, "%s", k->str);
    return name;
  }
  return NULL;
}

/* What key sets in an object of this kind: a value (*target), an object
 * (*sub), or neither. */
static void classify_key(struct dbs_prisma_config* c, enum obj_kind kind,
                         const char* key,
                         struct dbs_prisma_config_value** target,
                         enum obj_kind* sub) {
  *target = NULL;
  *sub = OBJ_TOP;
  if (key == NULL)
    return;
  if (kind == OBJ_TOP && strcmp(key, "schema") == 0)
    *target = &c->schema;
  else if (kind == OBJ_MIGRATIONS && strcmp(key, "path") == 0)
    *target = &c->migrations_path;
  else if (kind == OBJ_MIGRATIONS && strcmp(key, "seed") == 0)
    *target = &c->seed;
  else if (kind == OBJ_DATASOURCE && strcmp(key, "url") == 0)
    *target = &c->url;
  else if (kind == OBJ_TOP && strcmp(key, "migrations") == 0)
    *sub = OBJ_MIGRATIONS;
  else if (kind == OBJ_TOP && strcmp(key, "datasource") == 0)
    *sub = OBJ_DATASOURCE;
}

/* v is there but cannot be read, from line on. */
static void mark_unreadable(struct dbs_prisma_config_value* v, unsigned line) {
  v->present = true;
  v->readable = false;
  v->line = line;
}

/* A spread or computed key may set anything an object of this kind holds:
 * every value not seen yet is unreadable. */
static void mark_opaque(struct dbs_prisma_config* c, enum obj_kind kind,
                        unsigned line) {
  struct dbs_prisma_config_value* all[4] = {NULL};
  if (kind == OBJ_TOP) {
    all[0] = &c->schema;
    all[1] = &c->migrations_path;
    all[2] = &c->seed;
    all[3] = &c->url;
  } else if (kind == OBJ_MIGRATIONS) {
    all[0] = &c->migrations_path;
    all[1] = &c->seed;
  } else {
    all[0] = &c->url;
  }
  for (size_t i = 0; i < 4; i++)
    if (all[i] != NULL && !all[i]->present)
      mark_unreadable(all[i], line);
}

static int read_object(struct parser* ps, struct dbs_prisma_config* c,
                       enum obj_kind kind);

/* migrations: {...} or datasource: {...} (after the key and colon); any
 * other value hides what it holds. */
static int read_sub_object(struct parser* ps, struct dbs_prisma_config* c,
                           enum obj_kind sub, bool colon, unsigned line) {
  if (colon && is_punct(peek(ps, 0), "{"))
    return read_object(ps, c, sub);
  /* migrations: someVariable: nothing inside can be read. */
  skip_value(ps);
  if (sub == OBJ_MIGRATIONS) {
    mark_unreadable(&c->migrations_path, line);
    mark_unreadable(&c->seed, line);
  } else {
    mark_unreadable(&c->url, line);
  }
  return 0;
}

/* Reads the object literal at "{". An object that is not readable (a
 * spread, a computed key) marks what it may hide as unreadable. */
static int read_object(struct parser* ps, struct dbs_prisma_config* c,
                       enum obj_kind kind) {
  size_t last = (size_t)-1;
  ps->i++; /* { */
  for (;;) {
    /* A stray ")" or "]" (a syntax error) stops skip_value where it
     * stands: step over it rather than loop. */
    if (ps->i == last)
      ps->i++;
    last = ps->i;
    const struct tok* k = peek(ps, 0);
    if (k->type == T_EOF)
      return 0;
    if (is_punct(k, "}")) {
      ps->i++;
      return 0;
    }
    if (is_punct(k, ",")) {
      ps->i++;
      continue;
    }
    char name[32] = "";
    const char* key = key_of(k, name);
    bool colon = is_punct(peek(ps, 1), ":");
    unsigned line = k->line;
    struct dbs_prisma_config_value* target;
    enum obj_kind sub;
    classify_key(c, kind, key, &target, &sub);
    int rc = 0;
    if (key == NULL || (!colon && target == NULL && sub == OBJ_TOP)) {
      /* ...spread, [computed], a method, or a shorthand key: the spread
       * or computed key may set anything here. */
      bool opaque = is_punct(k, "...") || is_punct(k, "[");
      skip_value(ps);
      if (opaque)
        mark_opaque(c, kind, line);
    } else if (target != NULL) {
      if (colon)
        ps->i += 2;
      rc = set_value(ps, target, line, colon);
    } else if (sub != OBJ_TOP) {
      if (colon)
        ps->i += 2;
      rc = read_sub_object(ps, c, sub, colon, line);
    } else {
      ps->i += 2;
      skip_value(ps);
    }
    if (rc < 0)
      return rc;
  }
}

/*
 * At an expression that should be the config: defineConfig({...}),
 * {...}, a name bound by const/let/var, each possibly in parentheses or
 * followed by "satisfies T" / "as T". Returns 1 if an object was read.
 */
static int read_config_expr(struct parser* ps, struct dbs_prisma_config* c,
                            int depth) {
  if (depth > 4)
    return 0;
  while (is_punct(peek(ps, 0), "("))
    ps->i++;
  const struct tok* t = peek(ps, 0);
  if (is_ident(t, "defineConfig") && is_punct(peek(ps, 1), "(")) {
    ps->i += 2;
    t = peek(ps, 0);
  }
  if (is_punct(t, "{")) {
    int rc = read_object(ps, c, OBJ_TOP);
    return rc < 0 ? rc : 1;
  }
  if (t->type == T_IDENT) {
    /* const NAME (: T)? = expr */
    for (size_t i = 0; i + 2 < ps->tk->n; i++) {
      const struct tok* d = &ps->tk->v[i];
      const struct tok* n = &ps->tk->v[i + 1];
      if (!(is_ident(d, "const") || is_ident(d, "let") || is_ident(d, "var")))
        continue;
      if (!(n->type == T_IDENT && n->len == t->len &&
            memcmp(n->start, t->start, t->len) == 0))
        continue;
      size_t j = i + 2;
      if (is_punct(&ps->tk->v[j], ":")) {
        while (j < ps->tk->n && ps->tk->v[j].type != T_EOF &&
               !is_punct(&ps->tk->v[j], "="))
          j++;
      }
      if (j < ps->tk->n && is_punct(&ps->tk->v[j], "=")) {
        size_t save = ps->i;
        ps->i = j + 1;
        int rc = read_config_expr(ps, c, depth + 1);
        ps->i = save;
        return rc;
      }
    }
  }
  return 0;
}

/* Finds `export default`, `module.exports =` or `exports.default =`. */
static int read_export(struct parser* ps, struct dbs_prisma_config* c) {
  size_t n = ps->tk->n;
  for (size_t i = 0; i < n; i++) {
    const struct tok* t = &ps->tk->v[i];
    size_t at = 0;
    if (is_ident(t, "export") && i + 1 < n &&
        is_ident(&ps->tk->v[i + 1], "default"))
      at = i + 2;
    else if (is_ident(t, "module") && i + 3 < n &&
             is_punct(&ps->tk->v[i + 1], ".") &&
             is_ident(&ps->tk->v[i + 2], "exports") &&
             is_punct(&ps->tk->v[i + 3], "="))
      at = i + 4;
    else if (is_ident(t, "exports") && i + 3 < n &&
             is_punct(&ps->tk->v[i + 1], ".") &&
             is_ident(&ps->tk->v[i + 2], "default") &&
             is_punct(&ps->tk->v[i + 3], "="))
      at = i + 4;
    if (at == 0)
      continue;
    ps->i = at;
    return read_config_expr(ps, c, 0);
  }
  return 0;
}

/* Does the file load dotenv? import "dotenv/config", require("dotenv/
 * config"), or "dotenv" imported and config( called. */
static bool uses_dotenv(const struct toks* tk) {
  bool dotenv = false, config_call = false;
  for (size_t i = 0; i < tk->n; i++) {
    const struct tok* t = &tk->v[i];
    if (t->type == T_STRING && strcmp(t->str, "dotenv/config") == 0)
      return true;
    if (t->type == T_STRING && strcmp(t->str, "dotenv") == 0)
      dotenv = true;
    if (is_ident(t, "config") && i + 1 < tk->n && is_punct(&tk->v[i + 1], "("))
      config_call = true; /* dotenv.config(), or config() imported */
  }
  return dotenv && config_call;
}

static char* read_text(const char* path, size_t max, size_t* len, int* err) {
  FILE* f = fopen(path, "rb");
  char* buf;
  *err = 0;
  if (f == NULL) {
    *err = errno;
    return NULL;
  }
  buf = malloc(max + 1);
  if (buf == NULL) {
    fclose(f);
    *err = ENOMEM;
    return NULL;
  }
  *len = fread(buf, 1, max + 1, f);
  if (ferror(f)) {
    *err = EIO;
    free(buf);
    buf = NULL;
  } else if (*len > max) {
    *err = EFBIG;
    free(buf);
    buf = NULL;
  } else {
    buf[*len] = '\0';
  }
  fclose(f);
  return buf;
}

void dbs_prisma_config_free(struct dbs_prisma_config* c) {
  if (c == NULL)
    return;
  free(c->file);
  free(c->dir);
  struct dbs_prisma_config_value* vs[] = {&c->schema, &c->migrations_path,
                                          &c->seed, &c->url};
  for (size_t i = 0; i < 4; i++) {
    free(vs[i]->value);
    free(vs[i]->env);
  }
  memset(c, 0, sizeof(*c));
}

int dbs_prisma_config_read(const char* path, const char* cwd,
                           struct dbs_prisma_config* out, char* err,
                           size_t errlen) {
  struct dbs_prisma_config c = {0};
  struct toks tk = {0};
  char* text = NULL;
  char* envtext = NULL;
  size_t len = 0;
  int e, rc = 0;
  unsigned bad_line = 0;

  memset(out, 0, sizeof(*out));
  c.file = strdup(path);
  const char* slash = strrchr(path, '/');
  c.dir = slash == NULL || slash == path
              ? strdup("/")
              : strndup(path, (size_t)(slash - path));
  if (c.file == NULL || c.dir == NULL)
    goto nomem;
  text = read_text(path, CONFIG_MAX_BYTES, &len, &e);
  if (text == NULL) {
    if (e == ENOMEM)
      goto nomem;
    rc = seterr(err, errlen,
                "cannot read %s: %s; fix it, or pass --schema, "
                "--prisma-migrations, --seed and --db so that dbsetup does "
                "not need it",
                path, e == EFBIG ? "larger than 1 MiB" : strerror(e));
    goto out;
  }
  rc = tokenize(text, len, &tk, &bad_line);
  if (rc == -ENOMEM)
    goto nomem;
  if (rc < 0) {
    rc = seterr(err, errlen,
                "%s:%u: a string or comment is never closed, so dbsetup "
                "cannot read the Prisma config; fix it, or pass --schema, "
                "--prisma-migrations, --seed and --db",
                path, bad_line);
    goto out;
  }
  c.dotenv = uses_dotenv(&tk);
  if (c.dotenv) {
    char* envpath;
    if (asprintf(&envpath, "%s/.env", cwd) < 0)
      goto nomem;
    size_t elen;
    envtext = read_text(envpath, CONFIG_MAX_BYTES, &elen, &e);
    free(envpath);
    if (envtext == NULL && e == ENOMEM)
      goto nomem;
  }
  struct parser ps = {.tk = &tk, .dir = c.dir, .cwd = cwd, .envfile = envtext};
  rc = read_export(&ps, &c);
  if (rc < 0)
    goto nomem;
  c.found_export = rc == 1;
  rc = 0;
  *out = c;
  memset(&c, 0, sizeof(c));
  goto out;
nomem:
  rc = -ENOMEM;
out:
  toks_free(&tk);
  free(text);
  free(envtext);
  dbs_prisma_config_free(&c);
  return rc;
}
