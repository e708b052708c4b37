/* The Prisma schema's datasource blocks: a lexer and parser following
 * Prisma's grammar, for one .prisma file or a folder of them. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover_internal.h"
#include "path.h"
#include "strbuf.h"

#define SCHEMA_MAX_BYTES                                                       \
  (16u << 20)                /* a schema larger than this is a mistake */
#define SCHEMA_MAX_FILES 512 /* *.prisma files in a schema folder */
#define SCHEMA_MAX_DEPTH 8   /* folder nesting searched */

static void datasource_free(struct dbs_discover_datasource* ds) {
  free(ds->name);
  free(ds->file);
  free(ds->dir);
  free(ds->provider);
  free(ds->url);
  free(ds->url_env);
  memset(ds, 0, sizeof(*ds));
}

enum tok_type { TOK_EOF, TOK_IDENT, TOK_STRING, TOK_NUMBER, TOK_PUNCT };

struct token {
  enum tok_type type;
  unsigned line;
  char punct;        /* TOK_PUNCT */
  const char* start; /* TOK_IDENT/TOK_NUMBER: in the text */
  size_t len;
  char* str; /* TOK_STRING: decoded, owned by the token */
};

struct lexer {
  const char* file;
  const char* p;
  const char* end;
  unsigned line;
  char* err;
  size_t errlen;
};

static void tok_clear(struct token* t) {
  free(t->str);
  memset(t, 0, sizeof(*t));
}

static bool tok_is(const struct token* t, const char* ident) {
  return t->type == TOK_IDENT && strlen(ident) == t->len &&
         memcmp(t->start, ident, t->len) == 0;
}

static bool tok_punct(const struct token* t, char c) {
  return t->type == TOK_PUNCT && t->punct == c;
}

/*
 * Reads a string literal (lx->p at the opening quote). Prisma strings end
 * at the line: a control character before the closing quote is an error.
 * Escapes as in JSON; an unknown escape keeps the escaped character.
 */
static int lex_string(struct lexer* lx, struct token* t) {
  const char* p = lx->p + 1;
  /* The decoded text is never longer than the source. */
  char* buf = malloc((size_t)(lx->end - p) + 1);
  char* o = buf;
  if (buf == NULL)
    return -ENOMEM;
  for (;;) {
    if (p == lx->end || *p == '\n' || *p == '\r') {
      free(buf);
      return dbs_discover_seterr(
          lx->err, lx->errlen,
          "%s:%u: a string is not closed before the end of the "
          "line; add the closing \"",
          lx->file, lx->line);
    }
    if ((unsigned char)*p < 0x20) {
      free(buf);
      return dbs_discover_seterr(
          lx->err, lx->errlen,
          "%s:%u: a string holds control character 0x%02x; write "
          "it as an escape such as \\t",
          lx->file, lx->line, (unsigned char)*p);
    }
    char c = *p++;
    if (c == '"')
      break;
    if (c != '\\') {
      *o++ = c;
      continue;
    }
    if (p == lx->end)
      continue; /* reported as unclosed on the next round */
    long cp = dbs_strbuf_unescape_json(p, lx->end, &p);
    if (cp < 0) {
      *o++ = *p++; /* \" \\ \/ and anything else: the character itself */
      continue;
    }
    if (cp == 0 || (cp >= 0xd800 && cp < 0xe000))
      cp = 0xfffd;
    dbs_strbuf_put_utf8(&o, (uint32_t)cp); /* no longer than the escape */
  }
  *o = '\0';
  t->type = TOK_STRING;
  t->str = buf;
  lx->p = p;
  return 0;
}

static bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}

/* lx->p starts with the two characters of s. */
static bool lex_at(const struct lexer* lx, const char s[3]) {
  return lx->end - lx->p >= 2 && lx->p[0] == s[0] && lx->p[1] == s[1];
}

/* Skips a slash-star comment (lx->p at its opening). */
static int lex_skip_block_comment(struct lexer* lx) {
  unsigned start = lx->line;
  lx->p += 2;
  while (lx->p < lx->end && !lex_at(lx, "*/")) {
    if (*lx->p == '\n')
      lx->line++;
    lx->p++;
  }
  if (lx->p == lx->end)
    return dbs_discover_seterr(lx->err, lx->errlen,
                               "%s:%u: a /* comment is never closed; add */",
                               lx->file, start);
  lx->p += 2;
  return 0;
}

/* Skips white space and comments, counting lines. */
static int lex_skip_blank(struct lexer* lx) {
  for (;;) {
    while (lx->p < lx->end && is_space(*lx->p)) {
      if (*lx->p == '\n')
        lx->line++;
      lx->p++;
    }
    if (lex_at(lx, "//")) {
      while (lx->p < lx->end && *lx->p != '\n')
        lx->p++;
    } else if (lex_at(lx, "/*")) {
      int rc = lex_skip_block_comment(lx);
      if (rc < 0)
        return rc;
    } else {
      return 0;
    }
  }
}

/* Reads an identifier (lx->p at its first letter or '_'). */
static void lex_ident(struct lexer* lx, struct token* t) {
  t->type = TOK_IDENT;
  t->start = lx->p;
  while (lx->p < lx->end && (*lx->p == '_' || *lx->p == '-' ||
                             is_alpha(*lx->p) || is_digit(*lx->p)))
    lx->p++;
  t->len = (size_t)(lx->p - t->start);
}

/* Reads a number (lx->p at its first digit or '-'). */
static void lex_number(struct lexer* lx, struct token* t) {
  t->type = TOK_NUMBER;
  t->start = lx->p++;
  while (lx->p < lx->end &&
         (is_digit(*lx->p) || *lx->p == '.' || *lx->p == 'e' || *lx->p == 'E' ||
          *lx->p == '+' || *lx->p == '-'))
    lx->p++;
  t->len = (size_t)(lx->p - t->start);
}

/* The error for a character no token starts with. */
static int lex_unexpected(struct lexer* lx, char c) {
  if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
    return dbs_discover_seterr(
        lx->err, lx->errlen,
        "%s:%u: unexpected '%c' in the Prisma schema; fix the "
        "schema (npx prisma validate shows Prisma's view)",
        lx->file, lx->line, c);
  return dbs_discover_seterr(
      lx->err, lx->errlen,
      "%s:%u: unexpected byte 0x%02x in the Prisma schema; fix the "
      "schema (npx prisma validate shows Prisma's view)",
      lx->file, lx->line, (unsigned char)c);
}

/*
 * Reads the next token into *t (cleared first). Tokens follow Prisma's
 * grammar (prisma-engines psl/schema-ast/src/parser/datamodel.pest): "//"
 * and "///" comments to the end of the line, JSON strings, identifiers
 * that may hold '-'. Newlines are not significant here. A slash-star
 * comment is not Prisma syntax but is skipped, so that text commented out
 * that way is never read as a url.
 */
static int lex_next(struct lexer* lx, struct token* t) {
  tok_clear(t);
  int rc = lex_skip_blank(lx);
  if (rc < 0)
    return rc;
  t->line = lx->line;
  if (lx->p == lx->end) {
    t->type = TOK_EOF;
    return 0;
  }
  char c = *lx->p;
  if (c == '"')
    return lex_string(lx, t);
  if (c == '_' || is_alpha(c)) {
    lex_ident(lx, t);
    return 0;
  }
  if (c == '-' || is_digit(c)) {
    lex_number(lx, t);
    return 0;
  }
  /* strchr finds the terminator too: a NUL byte is a punctuation token. */
  if (strchr("{}()[]=,:@.?!", c) != NULL) {
    t->type = TOK_PUNCT;
    t->punct = c;
    lx->p++;
    return 0;
  }
  return lex_unexpected(lx, c);
}

/* Expects the punctuation c next. */
static int lex_expect(struct lexer* lx, struct token* t, char c,
                      const char* what) {
  int rc = lex_next(lx, t);
  if (rc < 0)
    return rc;
  if (!tok_punct(t, c))
    return dbs_discover_seterr(lx->err, lx->errlen,
                               "%s:%u: expected '%c' %s; fix the Prisma schema",
                               lx->file, t->line, c, what);
  return 0;
}

/*
 * Skips tokens until the bracket that closes open (already read), nesting
 * (), [] and {}.
 */
static int lex_skip_group(struct lexer* lx, struct token* t, char open,
                          unsigned open_line) {
  char stack[64];
  size_t depth = 0;
  stack[depth++] = open;
  while (depth > 0) {
    int rc = lex_next(lx, t);
    if (rc < 0)
      return rc;
    if (t->type == TOK_EOF)
      return dbs_discover_seterr(
          lx->err, lx->errlen,
          "%s:%u: this '%c' is never closed; fix the Prisma schema", lx->file,
          open_line, open);
    if (t->type != TOK_PUNCT)
      continue;
    char c = t->punct;
    if (c == '(' || c == '[' || c == '{') {
      if (depth == sizeof(stack))
        return dbs_discover_seterr(lx->err, lx->errlen,
                                   "%s:%u: brackets nested too deeply",
                                   lx->file, t->line);
      stack[depth++] = c;
    } else if (c == ')' || c == ']' || c == '}') {
      char want = stack[depth - 1] == '('   ? ')'
                  : stack[depth - 1] == '[' ? ']'
                                            : '}';
      if (c != want)
        return dbs_discover_seterr(
            lx->err, lx->errlen,
            "%s:%u: '%c' where '%c' was expected; fix the Prisma "
            "schema",
            lx->file, t->line, c, want);
      depth--;
    }
  }
  return 0;
}

/* Skips one property value: a string, number, name or call, list. */
static int skip_value(struct lexer* lx, struct token* t) {
  int rc = lex_next(lx, t);
  if (rc < 0)
    return rc;
  if (t->type == TOK_STRING || t->type == TOK_NUMBER)
    return 0;
  if (tok_punct(t, '['))
    return lex_skip_group(lx, t, '[', t->line);
  if (t->type == TOK_IDENT) {
    /* A call such as env("X") or dbgenerated(...) continues with '('. */
    const char* q = lx->p;
    while (q < lx->end && (*q == ' ' || *q == '\t'))
      q++;
    if (q < lx->end && *q == '(') {
      rc = lex_next(lx, t);
      if (rc < 0)
        return rc;
      return lex_skip_group(lx, t, '(', t->line);
    }
    return 0;
  }
  return dbs_discover_seterr(
      lx->err, lx->errlen,
      "%s:%u: expected a value after '='; fix the Prisma schema", lx->file,
      t->line);
}

/* provider = "..." (after the '='; t is scratch). */
static int parse_provider(struct lexer* lx, struct token* t,
                          struct dbs_discover_datasource* ds) {
  int rc = lex_next(lx, t);
  if (rc < 0)
    return rc;
  if (t->type != TOK_STRING)
    return dbs_discover_seterr(
        lx->err, lx->errlen,
        "%s:%u: provider must be a string such as \"sqlite\" "
        "(env() is not allowed there); fix the Prisma schema",
        lx->file, t->line);
  ds->provider = t->str;
  ds->provider_line = t->line;
  t->str = NULL;
  return 0;
}

/* url = "..." or url = env("X") (after the '='; t is scratch). */
static int parse_url(struct lexer* lx, struct token* t,
                     struct dbs_discover_datasource* ds) {
  int rc = lex_next(lx, t);
  if (rc < 0)
    return rc;
  ds->has_url = true;
  ds->url_line = t->line;
  if (t->type == TOK_STRING) {
    ds->url = t->str;
    t->str = NULL;
    return 0;
  }
  if (!tok_is(t, "env"))
    return dbs_discover_seterr(
        lx->err, lx->errlen,
        "%s:%u: url must be a string such as \"file:./dev.db\" or "
        "env(\"DATABASE_URL\"); fix the Prisma schema",
        lx->file, t->line);
  rc = lex_expect(lx, t, '(', "after env");
  if (rc == 0)
    rc = lex_next(lx, t);
  if (rc < 0)
    return rc;
  if (t->type != TOK_STRING || t->str[0] == '\0')
    return dbs_discover_seterr(
        lx->err, lx->errlen,
        "%s:%u: env() needs a variable name in quotes, as in "
        "env(\"DATABASE_URL\"); fix the Prisma schema",
        lx->file, t->line);
  ds->url_env = t->str;
  t->str = NULL;
  return lex_expect(lx, t, ')', "to close env(");
}

/*
 * Reads the next property name of a datasource block into *key: returns 1
 * at its closing '}', 0 for a name, or an error.
 */
static int datasource_key(struct lexer* lx, struct token* key,
                          const struct dbs_discover_datasource* ds) {
  int rc = lex_next(lx, key);
  if (rc < 0)
    return rc;
  if (tok_punct(key, '}'))
    return 1;
  if (key->type == TOK_EOF)
    return dbs_discover_seterr(lx->err, lx->errlen,
                               "%s:%u: datasource %s is never closed; add '}'",
                               lx->file, ds->line, ds->name);
  if (key->type != TOK_IDENT)
    return dbs_discover_seterr(
        lx->err, lx->errlen,
        "%s:%u: expected a property such as provider = \"sqlite\" "
        "in datasource %s; fix the Prisma schema",
        lx->file, key->line, ds->name);
  bool is_provider = tok_is(key, "provider"), is_url = tok_is(key, "url");
  if ((is_provider && ds->provider != NULL) || (is_url && ds->has_url))
    return dbs_discover_seterr(
        lx->err, lx->errlen,
        "%s:%u: %s is set twice in datasource %s; keep one", lx->file,
        key->line, is_url ? "url" : "provider", ds->name);
  return 0;
}

/*
 * Parses the body of a datasource block (after its '{') into ds. Only
 * provider and url matter to dbsetup; other properties are skipped.
 */
static int parse_datasource(struct lexer* lx,
                            struct dbs_discover_datasource* ds) {
  struct token t = {0}, key = {0};
  int rc;
  while ((rc = datasource_key(lx, &key, ds)) == 0) {
    rc = lex_expect(lx, &t, '=', "after the property name");
    if (rc == 0) {
      if (tok_is(&key, "provider"))
        rc = parse_provider(lx, &t, ds);
      else if (tok_is(&key, "url"))
        rc = parse_url(lx, &t, ds);
      else
        rc = skip_value(lx, &t);
    }
    if (rc < 0)
      break;
  }
  tok_clear(&t);
  tok_clear(&key);
  return rc < 0 ? rc : 0;
}

void dbs_discover_schema_free(struct dbs_discover_schema* s) {
  for (size_t i = 0; i < s->nds; i++)
    datasource_free(&s->ds[i]);
  free(s->ds);
  memset(s, 0, sizeof(*s));
}

/* Parses the text of one .prisma file, appending its datasources to s. */
static int schema_parse_text(const char* file, const char* text, size_t len,
                             struct dbs_discover_schema* s, char* err,
                             size_t errlen) {
  struct lexer lx = {.file = file,
                     .p = text,
                     .end = text + len,
                     .line = 1,
                     .err = err,
                     .errlen = errlen};
  struct token kw = {0}, name = {0}, t = {0};
  int rc = 0;
  /* A UTF-8 byte order mark is not part of the schema. */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    lx.p += 3;
  for (;;) {
    rc = lex_next(&lx, &kw);
    if (rc < 0 || kw.type == TOK_EOF)
      break;
    if (kw.type != TOK_IDENT) {
      rc = dbs_discover_seterr(
          err, errlen,
          "%s:%u: expected a block such as datasource db { ... } or "
          "model User { ... }; fix the Prisma schema",
          file, kw.line);
      break;
    }
    rc = lex_next(&lx, &name);
    if (rc < 0)
      break;
    if (name.type != TOK_IDENT) {
      rc = dbs_discover_seterr(
          err, errlen,
          "%s:%u: expected a name after %.*s; fix the Prisma schema", file,
          kw.line, (int)kw.len, kw.start);
      break;
    }
    rc = lex_expect(&lx, &t, '{', "to open the block");
    if (rc < 0)
      break;
    if (!tok_is(&kw, "datasource")) {
      rc = lex_skip_group(&lx, &t, '{', kw.line);
      if (rc < 0)
        break;
      continue;
    }
    struct dbs_discover_datasource* grown =
        realloc(s->ds, (s->nds + 1) * sizeof(*s->ds));
    if (grown == NULL) {
      rc = -ENOMEM;
      break;
    }
    s->ds = grown;
    struct dbs_discover_datasource* ds = &s->ds[s->nds++];
    memset(ds, 0, sizeof(*ds));
    ds->line = kw.line;
    ds->name = strndup(name.start, name.len);
    ds->file = strdup(file);
    ds->dir = dbs_path_dirname(file);
    if (ds->name == NULL || ds->file == NULL || ds->dir == NULL) {
      rc = -ENOMEM;
      break;
    }
    rc = parse_datasource(&lx, ds);
    if (rc < 0)
      break;
  }
  tok_clear(&kw);
  tok_clear(&name);
  tok_clear(&t);
  return rc;
}

/* Reads one .prisma file and parses it. */
static int schema_parse_file(const char* file, struct dbs_discover_schema* s,
                             char* err, size_t errlen) {
  FILE* f = fopen(file, "rb");
  char* text = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;
  if (f == NULL)
    return dbs_discover_seterr(err, errlen,
                               "cannot read the Prisma schema %s: %s", file,
                               strerror(errno));
  for (;;) {
    if (len == cap) {
      if (cap >= SCHEMA_MAX_BYTES) {
        rc = dbs_discover_seterr(
            err, errlen,
            "%s: larger than %u MiB, not a Prisma schema; pass "
            "--schema with the right file",
            file, SCHEMA_MAX_BYTES >> 20);
        goto out;
      }
      cap = cap == 0 ? 16384 : cap * 2;
      char* grown = realloc(text, cap);
      if (grown == NULL) {
        rc = -ENOMEM;
        goto out;
      }
      text = grown;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f))
        rc = dbs_discover_seterr(err, errlen,
                                 "cannot read the Prisma schema %s: %s", file,
                                 strerror(errno));
      break;
    }
  }
  if (rc == 0)
    rc = schema_parse_text(file, text != NULL ? text : "", len, s, err, errlen);
out:
  free(text);
  fclose(f);
  return rc;
}

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

/*
 * Collects the *.prisma files below dir (a multi-file schema), sorted,
 * skipping node_modules and hidden folders.
 */
static int schema_collect(const char* dir, unsigned depth, char*** files,
                          size_t* nfiles) {
  DIR* d;
  struct dirent* e;
  int rc = 0;
  if (depth > SCHEMA_MAX_DEPTH)
    return 0;
  d = opendir(dir);
  if (d == NULL)
    return -errno;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, "node_modules") == 0)
      continue;
    char* p = dbs_path_node_resolve(dir, e->d_name);
    if (p == NULL) {
      rc = -ENOMEM;
      break;
    }
    size_t n = strlen(p);
    if (dbs_discover_is_dir(p)) {
      rc = schema_collect(p, depth + 1, files, nfiles);
      free(p);
    } else if (n > 7 && strcmp(p + n - 7, ".prisma") == 0 &&
               dbs_discover_is_file(p)) {
      if (*nfiles == SCHEMA_MAX_FILES) {
        free(p);
        rc = -E2BIG;
        break;
      }
      char** grown = realloc(*files, (*nfiles + 1) * sizeof(**files));
      if (grown == NULL) {
        free(p);
        rc = -ENOMEM;
        break;
      }
      *files = grown;
      (*files)[(*nfiles)++] = p;
    } else {
      free(p);
    }
    if (rc < 0)
      break;
  }
  closedir(d);
  return rc;
}

/* Parses a schema file, or every *.prisma file of a schema folder. */
int dbs_discover_schema_load(const char* path, bool folder,
                             struct dbs_discover_schema* s, char* err,
                             size_t errlen) {
  if (!folder)
    return schema_parse_file(path, s, err, errlen);
  char** files = NULL;
  size_t nfiles = 0;
  int rc = schema_collect(path, 0, &files, &nfiles);
  if (rc == -E2BIG)
    rc = dbs_discover_seterr(
        err, errlen,
        "%s: more than %d .prisma files; pass --schema with the "
        "schema file or folder",
        path, SCHEMA_MAX_FILES);
  else if (rc < 0 && rc != -ENOMEM)
    rc = dbs_discover_seterr(err, errlen,
                             "cannot read the Prisma schema folder %s: %s",
                             path, strerror(-rc));
  if (rc == 0)
    qsort(files, nfiles, sizeof(*files), cmp_str);
  for (size_t i = 0; rc == 0 && i < nfiles; i++)
    rc = schema_parse_file(files[i], s, err, errlen);
  for (size_t i = 0; i < nfiles; i++)
    free(files[i]);
  free(files);
  return rc;
}

int dbs_discover_schema_check(const struct dbs_discover_schema* s, char* err,
                              size_t errlen) {
  if (s->nds > 1)
    return dbs_discover_seterr(
        err, errlen,
        "%s:%u and %s:%u: the Prisma schema has %zu datasource "
        "blocks (%s, %s); Prisma allows exactly one: remove the "
        "others, or pass --db to name the database",
        s->ds[0].file, s->ds[0].line, s->ds[1].file, s->ds[1].line, s->nds,
        s->ds[0].name, s->ds[1].name);
  if (s->nds == 1 && s->ds[0].provider == NULL)
    return dbs_discover_seterr(
        err, errlen,
        "%s:%u: datasource %s has no provider; add provider = "
        "\"sqlite\" (or your database's provider)",
        s->ds[0].file, s->ds[0].line, s->ds[0].name);
  return 0;
}
