/* Finds the app's database: --db, DATABASE_URL, Prisma schema, litestream.yml.
 */
#define _GNU_SOURCE /* asprintf */
#include "discover.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "log.h"
#include "prisma_config.h"
#include "strbuf.h"

#define SCHEMA_MAX_BYTES                                                       \
  (16u << 20)                /* a schema larger than this is a mistake */
#define SCHEMA_MAX_FILES 512 /* *.prisma files in a schema folder */
#define SCHEMA_MAX_DEPTH 8   /* folder nesting searched */

static int seterr(char* err, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes a message into err and returns -EINVAL, for `return seterr(...)`. */
static int seterr(char* err, size_t errlen, const char* fmt, ...) {
  va_list ap;
  if (errlen == 0)
    return -EINVAL;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

/* ---- Paths ---------------------------------------------------------- */

/*
 * Cleans an absolute path in place, lexically as Node's path.resolve
 * does: repeated slashes, "." and ".." segments, and a trailing slash go.
 */
static void path_clean(char* p) {
  size_t w = 0, r = 0;
  while (p[r] != '\0') {
    while (p[r] == '/')
      r++;
    size_t s = r;
    while (p[r] != '\0' && p[r] != '/')
      r++;
    size_t len = r - s;
    if (len == 0 || (len == 1 && p[s] == '.'))
      continue;
    if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
      while (w > 0 && p[w - 1] != '/')
        w--;
      if (w > 0)
        w--;
      continue;
    }
    p[w++] = '/';
    memmove(p + w, p + s, len);
    w += len;
  }
  if (w == 0)
    p[w++] = '/';
  p[w] = '\0';
}

/* rel resolved against the absolute dir and cleaned; caller frees. */
static char* path_join(const char* dir, const char* rel) {
  char* p;
  if (rel[0] == '/')
    p = strdup(rel);
  else if (asprintf(&p, "%s/%s", dir, rel) < 0)
    p = NULL;
  if (p != NULL)
    path_clean(p);
  return p;
}

/* The directory part of an absolute path; caller frees. */
static char* path_dir(const char* p) {
  const char* slash = strrchr(p, '/');
  if (slash == NULL || slash == p)
    return strdup("/");
  return strndup(p, (size_t)(slash - p));
}

static bool is_file(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- SQLite URLs ---------------------------------------------------- */

/*
 * Length of the scheme Prisma's sqlite connector accepts ("file:" or
 * "sqlite:"), or 0 when url has neither.
 */
static size_t sqlite_url_scheme(const char* url) {
  if (strncmp(url, "file:", 5) == 0)
    return 5;
  if (strncmp(url, "sqlite:", 7) == 0)
    return 7;
  return 0;
}

/*
 * The file a sqlite URL names: scheme stripped, query string cut, relative
 * paths resolved against base. "file:///x" and "file://x" are "/x" as for
 * Prisma (the rest after "file:" is taken as a path). Returns 0, -EINVAL
 * (no path) or -ENOMEM; *out is the caller's.
 */
static int url_path(const char* url, const char* base, char** out) {
  const char* p = url + sqlite_url_scheme(url);
  size_t len = strcspn(p, "?");
  if (len == 0)
    return -EINVAL;
  char* raw = strndup(p, len);
  if (raw == NULL)
    return -ENOMEM;
  *out = path_join(base, raw);
  free(raw);
  return *out != NULL ? 0 : -ENOMEM;
}

/* ---- package.json (JSON read as YAML, event by event) --------------- */

struct pkg {
  char* path; /* absolute path of the nearest package.json, or NULL */
  char* dir;
  char* schema; /* prisma.schema as written */
  unsigned schema_line;
  char* seed; /* prisma.seed */
};

static void pkg_free(struct pkg* pkg) {
  free(pkg->path);
  free(pkg->dir);
  free(pkg->schema);
  free(pkg->seed);
  memset(pkg, 0, sizeof(*pkg));
}

struct pkg_walk {
  yaml_parser_t parser;
  const char* path;
  char* err;
  size_t errlen;
};

/* Next event, or -EINVAL with libyaml's problem and its position in err. */
static int pw_next(struct pkg_walk* w, yaml_event_t* ev) {
  if (yaml_parser_parse(&w->parser, ev))
    return 0;
  const yaml_parser_t* p = &w->parser;
  const char* problem = p->problem != NULL ? p->problem : "unreadable";
  const char* hint = "";
  if (p->error == YAML_READER_ERROR)
    hint = " (the file must be UTF-8)";
  else if (strstr(problem, "Unicode") != NULL)
    hint = " (\\ud800-\\udfff surrogate escapes are not supported: write "
           "the character itself in UTF-8)";
  return seterr(w->err, w->errlen,
                "%s:%zu:%zu: cannot read package.json: %s%s%s%s; fix the "
                "JSON, or pass --schema and --seed so that dbsetup does "
                "not need it",
                w->path, p->problem_mark.line + 1, p->problem_mark.column + 1,
                problem, hint, p->context != NULL ? ", " : "",
                p->context != NULL ? p->context : "");
}

/* Skips the node that starts with *first (consumed and deleted). */
static int pw_skip(struct pkg_walk* w, yaml_event_t* first) {
  int depth = first->type == YAML_MAPPING_START_EVENT ||
                      first->type == YAML_SEQUENCE_START_EVENT
                  ? 1
                  : 0;
  yaml_event_delete(first);
  while (depth > 0) {
    yaml_event_t ev;
    int rc = pw_next(w, &ev);
    if (rc < 0)
      return rc;
    if (ev.type == YAML_MAPPING_START_EVENT ||
        ev.type == YAML_SEQUENCE_START_EVENT)
      depth++;
    else if (ev.type == YAML_MAPPING_END_EVENT ||
             ev.type == YAML_SEQUENCE_END_EVENT)
      depth--;
    yaml_event_delete(&ev);
  }
  return 0;
}

/*
 * Reads the value of prisma.<key> into *out (replacing an earlier one, as
 * JSON.parse does with duplicate keys). It must be a JSON string.
 */
static int pw_string(struct pkg_walk* w, const char* key, char** out,
                     unsigned* line) {
  yaml_event_t ev;
  int rc = pw_next(w, &ev);
  if (rc < 0)
    return rc;
  if (ev.type != YAML_SCALAR_EVENT ||
      ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
    rc = seterr(w->err, w->errlen,
                "%s:%zu: \"prisma\": {\"%s\": ...} must be a string; fix "
                "package.json or pass --%s",
                w->path, ev.start_mark.line + 1, key, key);
    yaml_event_delete(&ev);
    return rc;
  }
  free(*out);
  *out = strndup((const char*)ev.data.scalar.value, ev.data.scalar.length);
  if (line != NULL)
    *line = (unsigned)ev.start_mark.line + 1;
  yaml_event_delete(&ev);
  return *out != NULL ? 0 : -ENOMEM;
}

/* Walks a mapping (its start already read), calling on_key for each key. */
static int pw_mapping(struct pkg_walk* w, struct pkg* pkg, bool top) {
  for (;;) {
    yaml_event_t key;
    int rc = pw_next(w, &key);
    if (rc < 0)
      return rc;
    if (key.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&key);
      return 0;
    }
    if (key.type != YAML_SCALAR_EVENT) {
      rc = seterr(w->err, w->errlen,
                  "%s:%zu: package.json has a key that is not a string; "
                  "fix the JSON, or pass --schema and --seed",
                  w->path, key.start_mark.line + 1);
      yaml_event_delete(&key);
      return rc;
    }
    const char* k = (const char*)key.data.scalar.value;
    if (top && strcmp(k, "prisma") == 0) {
      yaml_event_delete(&key);
      yaml_event_t val;
      rc = pw_next(w, &val);
      if (rc < 0)
        return rc;
      if (val.type == YAML_MAPPING_START_EVENT) {
        yaml_event_delete(&val);
        rc = pw_mapping(w, pkg, false);
      } else {
        rc = pw_skip(w, &val); /* not an object: Prisma ignores it too */
      }
    } else if (!top && strcmp(k, "schema") == 0) {
      yaml_event_delete(&key);
      rc = pw_string(w, "schema", &pkg->schema, &pkg->schema_line);
    } else if (!top && strcmp(k, "seed") == 0) {
      yaml_event_delete(&key);
      rc = pw_string(w, "seed", &pkg->seed, NULL);
    } else {
      yaml_event_delete(&key);
      yaml_event_t val;
      rc = pw_next(w, &val);
      if (rc == 0)
        rc = pw_skip(w, &val);
    }
    if (rc < 0)
      return rc;
  }
}

/*
 * Parses pkg->path for prisma.schema and prisma.seed without building a
 * tree (a real app's package.json can be large). Every event of the file
 * is read, so a broken file is reported even past the "prisma" key.
 */
static int pkg_parse(struct pkg* pkg, char* err, size_t errlen) {
  struct pkg_walk w = {.path = pkg->path, .err = err, .errlen = errlen};
  yaml_event_t ev;
  int rc = 0;
  bool done = false, seen_doc = false;
  FILE* f = fopen(pkg->path, "rb");
  if (f == NULL)
    return seterr(err, errlen,
                  "cannot read %s: %s; fix its permissions, or pass --schema "
                  "and --seed so that dbsetup does not need it",
                  pkg->path, strerror(errno));
  if (!yaml_parser_initialize(&w.parser)) {
    fclose(f);
    return -ENOMEM;
  }
  yaml_parser_set_input_file(&w.parser, f);
  while (!done) {
    rc = pw_next(&w, &ev);
    if (rc < 0)
      break;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = true;
      yaml_event_delete(&ev);
      break;
    case YAML_MAPPING_START_EVENT:
      yaml_event_delete(&ev);
      seen_doc = true;
      rc = pw_mapping(&w, pkg, true);
      break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
      rc = seterr(err, errlen,
                  "%s:%zu: package.json is not a JSON object; fix it, or "
                  "pass --schema and --seed",
                  pkg->path, ev.start_mark.line + 1);
      yaml_event_delete(&ev);
      break;
    case YAML_DOCUMENT_START_EVENT:
      if (seen_doc)
        rc = seterr(err, errlen,
                    "%s:%zu: package.json holds more than one document; fix "
                    "it, or pass --schema and --seed",
                    pkg->path, ev.start_mark.line + 1);
      yaml_event_delete(&ev);
      break;
    default:
      yaml_event_delete(&ev);
      break;
    }
    if (rc < 0)
      break;
  }
  if (rc == 0 && !seen_doc)
    rc = seterr(err, errlen,
                "%s: package.json is empty; fix it, or pass --schema and "
                "--seed",
                pkg->path);
  yaml_parser_delete(&w.parser);
  fclose(f);
  return rc;
}

/* Finds the nearest package.json, from the working directory upward. */
static int pkg_load(const char* cwd, struct pkg* pkg, char* err,
                    size_t errlen) {
  char* dir = strdup(cwd);
  int rc = 0;
  if (dir == NULL)
    return -ENOMEM;
  for (;;) {
    char* candidate = path_join(dir, "package.json");
    if (candidate == NULL) {
      rc = -ENOMEM;
      break;
    }
    if (is_file(candidate)) {
      pkg->path = candidate;
      pkg->dir = dir;
      dir = NULL;
      break;
    }
    free(candidate);
    if (strcmp(dir, "/") == 0)
      break;
    char* up = path_dir(dir);
    free(dir);
    dir = up;
    if (dir == NULL) {
      rc = -ENOMEM;
      break;
    }
  }
  free(dir);
  if (rc == 0 && pkg->path != NULL) {
    dbs_log_debug("reading %s", pkg->path);
    rc = pkg_parse(pkg, err, errlen);
  }
  return rc;
}

/* ---- Prisma schema ------------------------------------------------- */

/* One datasource block. */
struct datasource {
  char* name;
  char* file; /* absolute path of the .prisma file */
  char* dir;  /* its directory: where relative URLs resolve */
  unsigned line;
  char* provider;
  unsigned provider_line;
  char* url;     /* url = "..." */
  char* url_env; /* url = env("X") */
  unsigned url_line;
  bool has_url;
};

static void datasource_free(struct datasource* ds) {
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
      return seterr(lx->err, lx->errlen,
                    "%s:%u: a string is not closed before the end of the "
                    "line; add the closing \"",
                    lx->file, lx->line);
    }
    if ((unsigned char)*p < 0x20) {
      free(buf);
      return seterr(lx->err, lx->errlen,
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
  for (;;) {
    while (lx->p < lx->end &&
           (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' ||
            *lx->p == '\n' || *lx->p == '\f' || *lx->p == '\v')) {
      if (*lx->p == '\n')
        lx->line++;
      lx->p++;
    }
    if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '/') {
      while (lx->p < lx->end && *lx->p != '\n')
        lx->p++;
      continue;
    }
    if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*') {
      unsigned start = lx->line;
      lx->p += 2;
      while (lx->p < lx->end &&
             !(lx->end - lx->p >= 2 && lx->p[0] == '*' && lx->p[1] == '/')) {
        if (*lx->p == '\n')
          lx->line++;
        lx->p++;
      }
      if (lx->p == lx->end)
        return seterr(lx->err, lx->errlen,
                      "%s:%u: a /* comment is never closed; add */", lx->file,
                      start);
      lx->p += 2;
      continue;
    }
    break;
  }
  t->line = lx->line;
  if (lx->p == lx->end) {
    t->type = TOK_EOF;
    return 0;
  }
  char c = *lx->p;
  if (c == '"')
    return lex_string(lx, t);
  if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    t->type = TOK_IDENT;
    t->start = lx->p;
    while (lx->p < lx->end && (*lx->p == '_' || *lx->p == '-' ||
                               (*lx->p >= 'a' && *lx->p <= 'z') ||
                               (*lx->p >= 'A' && *lx->p <= 'Z') ||
                               (*lx->p >= '0' && *lx->p <= '9')))
      lx->p++;
    t->len = (size_t)(lx->p - t->start);
    return 0;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    t->type = TOK_NUMBER;
    t->start = lx->p++;
    while (lx->p < lx->end &&
           ((*lx->p >= '0' && *lx->p <= '9') || *lx->p == '.' ||
            *lx->p == 'e' || *lx->p == 'E' || *lx->p == '+' || *lx->p == '-'))
      lx->p++;
    t->len = (size_t)(lx->p - t->start);
    return 0;
  }
  if (strchr("{}()[]=,:@.?!", c) != NULL) {
    t->type = TOK_PUNCT;
    t->punct = c;
    lx->p++;
    return 0;
  }
  if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
    return seterr(lx->err, lx->errlen,
                  "%s:%u: unexpected '%c' in the Prisma schema; fix the "
                  "schema (npx prisma validate shows Prisma's view)",
                  lx->file, lx->line, c);
  return seterr(lx->err, lx->errlen,
                "%s:%u: unexpected byte 0x%02x in the Prisma schema; fix the "
                "schema (npx prisma validate shows Prisma's view)",
                lx->file, lx->line, (unsigned char)c);
}

/* Expects the punctuation c next. */
static int lex_expect(struct lexer* lx, struct token* t, char c,
                      const char* what) {
  int rc = lex_next(lx, t);
  if (rc < 0)
    return rc;
  if (!tok_punct(t, c))
    return seterr(lx->err, lx->errlen,
                  "%s:%u: expected '%c' %s; fix the Prisma schema", lx->file,
                  t->line, c, what);
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
      return seterr(lx->err, lx->errlen,
                    "%s:%u: this '%c' is never closed; fix the Prisma schema",
                    lx->file, open_line, open);
    if (t->type != TOK_PUNCT)
      continue;
    char c = t->punct;
    if (c == '(' || c == '[' || c == '{') {
      if (depth == sizeof(stack))
        return seterr(lx->err, lx->errlen, "%s:%u: brackets nested too deeply",
                      lx->file, t->line);
      stack[depth++] = c;
    } else if (c == ')' || c == ']' || c == '}') {
      char want = stack[depth - 1] == '('   ? ')'
                  : stack[depth - 1] == '[' ? ']'
                                            : '}';
      if (c != want)
        return seterr(lx->err, lx->errlen,
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
  return seterr(lx->err, lx->errlen,
                "%s:%u: expected a value after '='; fix the Prisma schema",
                lx->file, t->line);
}

/*
 * Parses the body of a datasource block (after its '{') into ds. Only
 * provider and url matter to dbsetup; other properties are skipped.
 */
static int parse_datasource(struct lexer* lx, struct datasource* ds) {
  struct token t = {0}, key = {0};
  int rc;
  for (;;) {
    rc = lex_next(lx, &key);
    if (rc < 0)
      goto out;
    if (tok_punct(&key, '}'))
      break;
    if (key.type == TOK_EOF) {
      rc = seterr(lx->err, lx->errlen,
                  "%s:%u: datasource %s is never closed; add '}'", lx->file,
                  ds->line, ds->name);
      goto out;
    }
    if (key.type != TOK_IDENT) {
      rc = seterr(lx->err, lx->errlen,
                  "%s:%u: expected a property such as provider = \"sqlite\" "
                  "in datasource %s; fix the Prisma schema",
                  lx->file, key.line, ds->name);
      goto out;
    }
    bool is_provider = tok_is(&key, "provider"), is_url = tok_is(&key, "url");
    if ((is_provider && ds->provider != NULL) || (is_url && ds->has_url)) {
      rc = seterr(lx->err, lx->errlen,
                  "%s:%u: %s is set twice in datasource %s; keep one", lx->file,
                  key.line, is_url ? "url" : "provider", ds->name);
      goto out;
    }
    rc = lex_expect(lx, &t, '=', "after the property name");
    if (rc < 0)
      goto out;
    if (!is_provider && !is_url) {
      rc = skip_value(lx, &t);
      if (rc < 0)
        goto out;
      continue;
    }
    rc = lex_next(lx, &t);
    if (rc < 0)
      goto out;
    if (is_provider) {
      if (t.type != TOK_STRING) {
        rc = seterr(lx->err, lx->errlen,
                    "%s:%u: provider must be a string such as \"sqlite\" "
                    "(env() is not allowed there); fix the Prisma schema",
                    lx->file, t.line);
        goto out;
      }
      ds->provider = t.str;
      ds->provider_line = t.line;
      t.str = NULL;
      continue;
    }
    ds->has_url = true;
    ds->url_line = t.line;
    if (t.type == TOK_STRING) {
      ds->url = t.str;
      t.str = NULL;
      continue;
    }
    if (!tok_is(&t, "env")) {
      rc = seterr(lx->err, lx->errlen,
                  "%s:%u: url must be a string such as \"file:./dev.db\" or "
                  "env(\"DATABASE_URL\"); fix the Prisma schema",
                  lx->file, t.line);
      goto out;
    }
    rc = lex_expect(lx, &t, '(', "after env");
    if (rc == 0)
      rc = lex_next(lx, &t);
    if (rc < 0)
      goto out;
    if (t.type != TOK_STRING || t.str[0] == '\0') {
      rc = seterr(lx->err, lx->errlen,
                  "%s:%u: env() needs a variable name in quotes, as in "
                  "env(\"DATABASE_URL\"); fix the Prisma schema",
                  lx->file, t.line);
      goto out;
    }
    ds->url_env = t.str;
    t.str = NULL;
    rc = lex_expect(lx, &t, ')', "to close env(");
    if (rc < 0)
      goto out;
  }
  rc = 0;
out:
  tok_clear(&t);
  tok_clear(&key);
  return rc;
}

struct schema {
  struct datasource* ds; /* every datasource block found */
  size_t nds;
};

static void schema_free(struct schema* s) {
  for (size_t i = 0; i < s->nds; i++)
    datasource_free(&s->ds[i]);
  free(s->ds);
  memset(s, 0, sizeof(*s));
}

/* Parses the text of one .prisma file, appending its datasources to s. */
static int schema_parse_text(const char* file, const char* text, size_t len,
                             struct schema* s, char* err, size_t errlen) {
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
      rc = seterr(err, errlen,
                  "%s:%u: expected a block such as datasource db { ... } or "
                  "model User { ... }; fix the Prisma schema",
                  file, kw.line);
      break;
    }
    rc = lex_next(&lx, &name);
    if (rc < 0)
      break;
    if (name.type != TOK_IDENT) {
      rc = seterr(err, errlen,
                  "%s:%u: expected a name after %.*s; fix the Prisma schema",
                  file, kw.line, (int)kw.len, kw.start);
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
    struct datasource* grown = realloc(s->ds, (s->nds + 1) * sizeof(*s->ds));
    if (grown == NULL) {
      rc = -ENOMEM;
      break;
    }
    s->ds = grown;
    struct datasource* ds = &s->ds[s->nds++];
    memset(ds, 0, sizeof(*ds));
    ds->line = kw.line;
    ds->name = strndup(name.start, name.len);
    ds->file = strdup(file);
    ds->dir = path_dir(file);
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
static int schema_parse_file(const char* file, struct schema* s, char* err,
                             size_t errlen) {
  FILE* f = fopen(file, "rb");
  char* text = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;
  if (f == NULL)
    return seterr(err, errlen, "cannot read the Prisma schema %s: %s", file,
                  strerror(errno));
  for (;;) {
    if (len == cap) {
      if (cap >= SCHEMA_MAX_BYTES) {
        rc = seterr(err, errlen,
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
        rc = seterr(err, errlen, "cannot read the Prisma schema %s: %s", file,
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
    char* p = path_join(dir, e->d_name);
    if (p == NULL) {
      rc = -ENOMEM;
      break;
    }
    size_t n = strlen(p);
    if (is_dir(p)) {
      rc = schema_collect(p, depth + 1, files, nfiles);
      free(p);
    } else if (n > 7 && strcmp(p + n - 7, ".prisma") == 0 && is_file(p)) {
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
static int schema_load(const char* path, bool folder, struct schema* s,
                       char* err, size_t errlen) {
  if (!folder)
    return schema_parse_file(path, s, err, errlen);
  char** files = NULL;
  size_t nfiles = 0;
  int rc = schema_collect(path, 0, &files, &nfiles);
  if (rc == -E2BIG)
    rc = seterr(err, errlen,
                "%s: more than %d .prisma files; pass --schema with the "
                "schema file or folder",
                path, SCHEMA_MAX_FILES);
  else if (rc < 0 && rc != -ENOMEM)
    rc = seterr(err, errlen, "cannot read the Prisma schema folder %s: %s",
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

/*
 * Finds the schema as Prisma 6's CLI does: --schema, package.json
 * prisma.schema (against package.json's folder), ./schema.prisma,
 * ./prisma/schema.prisma. An explicit path that does not exist is an
 * error (Prisma refuses it too); the defaults are optional.
 */
static int schema_find(const struct dbs_config* cfg, const struct pkg* pkg,
                       const struct dbs_prisma_config* pc, const char* cwd,
                       const char* base, char** out, bool* folder, char* err,
                       size_t errlen) {
  const char* given = NULL;
  char* p = NULL;
  *out = NULL;
  *folder = false;
  if (cfg->schema != NULL && cfg->schema[0] != '\0') {
    given = "--schema";
    p = path_join(cwd, cfg->schema);
  } else if (pc != NULL && pc->schema.present) {
    if (!pc->schema.readable || pc->schema.value == NULL ||
        pc->schema.value[0] == '\0')
      return seterr(err, errlen,
                    "%s:%u: dbsetup cannot read the value of schema "
                    "without running the file%s%s%s; pass --schema",
                    pc->file, pc->schema.line,
                    pc->schema.env ? " (it reads " : "",
                    pc->schema.env ? pc->schema.env : "",
                    pc->schema.env ? ", which is unset)" : "");
    given = "prisma.config";
    p = path_join(pc->dir, pc->schema.value);
  } else if (pkg->schema != NULL) {
    given = "package.json";
    p = path_join(pkg->dir, pkg->schema);
  }
  if (given != NULL) {
    if (p == NULL)
      return -ENOMEM;
    if (is_dir(p)) {
      *folder = true;
    } else if (!is_file(p)) {
      int rc;
      if (strcmp(given, "--schema") == 0)
        rc = seterr(err, errlen,
                    "--schema %s: no such file or folder (%s); fix the path",
                    cfg->schema, p);
      else if (strcmp(given, "prisma.config") == 0)
        rc = seterr(err, errlen,
                    "%s:%u: schema \"%s\" names %s, which does not exist "
                    "(Prisma resolves it against the config file's folder); "
                    "fix the config or pass --schema",
                    pc->file, pc->schema.line, pc->schema.value, p);
      else
        rc = seterr(err, errlen,
                    "%s:%u: prisma.schema \"%s\" names %s, which does not "
                    "exist; fix package.json or pass --schema",
                    pkg->path, pkg->schema_line, pkg->schema, p);
      free(p);
      return rc;
    }
    *out = p;
    return 0;
  }
  static const char* const defaults[] = {"schema.prisma",
                                         "prisma/schema.prisma"};
  for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
    p = path_join(base, defaults[i]);
    if (p == NULL)
      return -ENOMEM;
    if (is_file(p)) {
      *out = p;
      return 0;
    }
    free(p);
  }
  return 0;
}

/* Checks the datasources: at most one, each with a provider. */
static int schema_check(const struct schema* s, char* err, size_t errlen) {
  if (s->nds > 1)
    return seterr(err, errlen,
                  "%s:%u and %s:%u: the Prisma schema has %zu datasource "
                  "blocks (%s, %s); Prisma allows exactly one: remove the "
                  "others, or pass --db to name the database",
                  s->ds[0].file, s->ds[0].line, s->ds[1].file, s->ds[1].line,
                  s->nds, s->ds[0].name, s->ds[1].name);
  if (s->nds == 1 && s->ds[0].provider == NULL)
    return seterr(err, errlen,
                  "%s:%u: datasource %s has no provider; add provider = "
                  "\"sqlite\" (or your database's provider)",
                  s->ds[0].file, s->ds[0].line, s->ds[0].name);
  return 0;
}

/* ---- Discovery ------------------------------------------------------- */

const char* dbs_discover_source_name(enum dbs_db_source source) {
  switch (source) {
  case DBS_DB_OPTION:
    return "--db";
  case DBS_DB_DATABASE_URL:
    return "DATABASE_URL";
  case DBS_DB_PRISMA:
    return "the Prisma schema";
  case DBS_DB_LITESTREAM:
    return "litestream.yml";
  case DBS_DB_PRISMA_CONFIG:
    return "the Prisma config";
  case DBS_DB_NONE:
    break;
  }
  return "none";
}

void dbs_discover_free(struct dbs_discovery* d) {
  if (d == NULL)
    return;
  free(d->db_path);
  free(d->schema_path);
  free(d->provider);
  free(d->datasource);
  free(d->url_env);
  free(d->migrations_dir);
  free(d->seed);
  free(d->prisma_config);
  free(d->set_env_name);
  free(d->set_env_value);
  memset(d, 0, sizeof(*d));
}

/* getenv, with "" read as unset (Prisma rejects an empty URL anyway). */
static const char* getenv_nonempty(const char* name) {
  const char* v = getenv(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * The file the schema's sqlite datasource names, when the schema alone
 * decides it (a literal url, or env("X") with X set). Returns 0 with *out
 * NULL when X is unset, or -EINVAL for a URL that is not file:/sqlite:.
 */
static int schema_db_path(const struct datasource* ds, char** out, char* err,
                          size_t errlen) {
  const char* url = ds->url;
  *out = NULL;
  if (ds->url_env != NULL) {
    url = getenv_nonempty(ds->url_env);
    if (url == NULL)
      return 0;
    if (sqlite_url_scheme(url) == 0)
      return seterr(err, errlen,
                    "%s:%u: the sqlite datasource reads %s, which is set "
                    "but does not start with file: (it must be like "
                    "file:/data/app.db); fix %s or the schema's provider",
                    ds->file, ds->url_line, ds->url_env, ds->url_env);
  } else if (sqlite_url_scheme(url) == 0) {
    return seterr(err, errlen,
                  "%s:%u: the sqlite datasource's url does not start with "
                  "file:; write it like url = \"file:./dev.db\"",
                  ds->file, ds->url_line);
  }
  int rc = url_path(url, ds->dir, out);
  if (rc == -EINVAL)
    return seterr(err, errlen,
                  "%s:%u: the sqlite datasource's url%s%s has no path after "
                  "file:; name a file, like file:./dev.db",
                  ds->file, ds->url_line, ds->url_env ? " from " : "",
                  ds->url_env ? ds->url_env : "");
  return rc;
}

/* Config extensions Prisma 7 loads (others it refuses). */
static bool config_ext_ok(const char* p) {
  static const char* const ok[] = {".js",  ".ts",  ".mjs",
                                   ".cjs", ".mts", ".cts"};
  const char* dot = strrchr(p, '.');
  const char* slash = strrchr(p, '/');
  if (dot == NULL || (slash != NULL && dot < slash))
    return false;
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    if (strcmp(dot, ok[i]) == 0)
      return true;
  return false;
}

/*
 * Finds and reads the Prisma config: --prisma-config (against the cwd),
 * else the names Prisma 7 looks for in the cwd. *found is false when there
 * is none.
 */
static int config_load(const struct dbs_config* cfg, const char* cwd,
                       struct dbs_prisma_config* pc, bool* found, char* err,
                       size_t errlen) {
  char* path = NULL;
  char* unsupported = NULL;
  int rc;
  *found = false;
  if (cfg->prisma_config != NULL && cfg->prisma_config[0] != '\0') {
    path = path_join(cwd, cfg->prisma_config);
    if (path == NULL)
      return -ENOMEM;
    if (!is_file(path)) {
      rc = seterr(err, errlen,
                  "--prisma-config %s: no such file (%s); fix the path",
                  cfg->prisma_config, path);
      free(path);
      return rc;
    }
    if (!config_ext_ok(path)) {
      rc = seterr(err, errlen,
                  "--prisma-config %s: Prisma loads only .ts, .mts, .cts, "
                  ".js, .mjs and .cjs config files; rename it",
                  cfg->prisma_config);
      free(path);
      return rc;
    }
  } else {
    rc = dbs_prisma_config_find(cwd, &path, &unsupported);
    if (rc < 0)
      return rc;
    if (unsupported != NULL) {
      rc = seterr(err, errlen,
                  "%s: Prisma finds this config file and refuses it "
                  "(\"Unsupported Prisma config file extension\"); rename it "
                  "to prisma.config.ts, or remove it",
                  unsupported);
      free(unsupported);
      return rc;
    }
    if (path == NULL)
      return 0;
  }
  dbs_log_debug("reading the Prisma config %s", path);
  rc = dbs_prisma_config_read(path, cwd, pc, err, errlen);
  free(path);
  if (rc < 0)
    return rc;
  if (!pc->found_export) {
    /* Nothing exported that dbsetup can see: every key is unknown. */
    struct dbs_prisma_config_value* vs[] = {&pc->schema, &pc->migrations_path,
                                            &pc->seed, &pc->url};
    for (size_t i = 0; i < 4; i++) {
      vs[i]->present = true;
      vs[i]->readable = false;
      vs[i]->line = 1;
    }
  }
  *found = true;
  return 0;
}

/* "X: dbsetup cannot read KEY without running the file" + the fix. */
static int config_unreadable(const struct dbs_prisma_config* pc,
                             const struct dbs_prisma_config_value* v,
                             const char* key, const char* fix, char* err,
                             size_t errlen) {
  return seterr(err, errlen,
                "%s:%u: dbsetup reads prisma.config without running it and "
                "cannot tell the value of %s%s (it reads string literals, "
                "env(\"X\"), process.env.X with || or ?? \"default\", and "
                "path.join of those); %s",
                pc->file, v->line, key,
                pc->found_export ? ""
                                 : " (no `export default defineConfig({...})` "
                                   "found)",
                fix);
}

int dbs_discover(const struct dbs_config* cfg,
                 const struct dbs_litestream_config* ls,
                 struct dbs_discovery* out, char* err, size_t errlen) {
  struct dbs_discovery d = {0};
  struct pkg pkg = {0};
  struct schema schema = {0};
  struct dbs_prisma_config pc = {0};
  const struct datasource* ds = NULL;
  char cwd[PATH_MAX];
  char* schema_db = NULL; /* the path Prisma opens, when the schema decides */
  char* config_db = NULL; /* the path the app opens, from the config's url */
  char* cli_db = NULL;    /* the path `prisma migrate` opens, from it */
  const char* base;       /* where the Prisma CLI resolves relative paths */
  bool folder = false, sqlite = false, have_pc = false, prisma7 = false;
  bool url_unset = false; /* the config's url reads an unset variable */
  bool no_url = false;    /* an sqlite datasource with no url anywhere */
  int rc;

  memset(out, 0, sizeof(*out));
  if (errlen > 0)
    err[0] = '\0';
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    return seterr(err, errlen, "cannot get the working directory: %s",
                  strerror(errno));
  base = cwd;

  /* The Prisma config: Prisma 7 keeps the url there, Prisma 6.x may use it
   * for the schema, migrations and seed. The CLI runs from the cwd, or
   * with --config from the config's folder (its schema engine is started
   * there and opens a relative url from there). */
  rc = config_load(cfg, cwd, &pc, &have_pc, err, errlen);
  if (rc < 0)
    goto fail;
  if (have_pc) {
    d.prisma_config = strdup(pc.file);
    if (d.prisma_config == NULL)
      goto nomem;
    if (cfg->prisma_config != NULL && cfg->prisma_config[0] != '\0')
      base = pc.dir;
    prisma7 = pc.url.present;
  }

  /* package.json is read only when it can tell us something; Prisma 7
   * reads none of it. */
  if (!prisma7 &&
      ((cfg->schema == NULL || cfg->schema[0] == '\0') || cfg->seed == NULL)) {
    rc = pkg_load(cwd, &pkg, err, errlen);
    if (rc < 0)
      goto fail;
  }
  if (cfg->seed == NULL && have_pc && pc.seed.present) {
    if (!pc.seed.readable || pc.seed.value == NULL) {
      rc =
          config_unreadable(&pc, &pc.seed, "migrations.seed",
                            "pass --seed (or --seed '' for none)", err, errlen);
      goto fail;
    }
    d.seed = strdup(pc.seed.value);
    if (d.seed == NULL)
      goto nomem;
    d.seed_from = "the Prisma config's migrations.seed";
  } else if (cfg->seed == NULL && pkg.seed != NULL) {
    d.seed = strdup(pkg.seed);
    if (d.seed == NULL)
      goto nomem;
    d.seed_from = "package.json prisma.seed";
  }

  rc = schema_find(cfg, &pkg, have_pc ? &pc : NULL, cwd, base, &d.schema_path,
                   &folder, err, errlen);
  if (rc < 0)
    goto fail;
  if (d.schema_path != NULL) {
    dbs_log_debug("Prisma schema: %s", d.schema_path);
    rc = schema_load(d.schema_path, folder, &schema, err, errlen);
    if (rc == 0)
      rc = schema_check(&schema, err, errlen);
    if (rc < 0)
      goto fail;
    if (schema.nds == 1) {
      ds = &schema.ds[0];
      sqlite = strcmp(ds->provider, "sqlite") == 0;
      d.provider = strdup(ds->provider);
      if (asprintf(&d.datasource, "%s:%u", ds->file, ds->line) < 0)
        d.datasource = NULL;
      if (d.provider == NULL || d.datasource == NULL)
        goto nomem;
      if (ds->url_env != NULL && (d.url_env = strdup(ds->url_env)) == NULL)
        goto nomem;
    }
  }

  /* Migrations: the option, else the config's migrations.path (against
   * the config's folder), else <schema dir>/migrations (the folder of a
   * multi-file schema, or of its datasource file). */
  if (cfg->prisma_migrations != NULL && cfg->prisma_migrations[0] != '\0') {
    d.migrations_dir = path_join(cwd, cfg->prisma_migrations);
    if (d.migrations_dir == NULL)
      goto nomem;
  } else if (have_pc && pc.migrations_path.present) {
    if (!pc.migrations_path.readable || pc.migrations_path.value == NULL ||
        pc.migrations_path.value[0] == '\0') {
      rc = config_unreadable(&pc, &pc.migrations_path, "migrations.path",
                             "pass --prisma-migrations", err, errlen);
      goto fail;
    }
    char* m = path_join(pc.dir, pc.migrations_path.value);
    if (m == NULL)
      goto nomem;
    if (is_dir(m)) {
      d.migrations_dir = m;
    } else {
      /* Prisma deploys nothing from a missing folder, and so do we. */
      dbs_log_warnx("%s:%u: migrations.path names %s, which does not exist: "
                    "no migrations to apply",
                    pc.file, pc.migrations_path.line, m);
      free(m);
    }
  } else if (d.schema_path != NULL) {
    const char* dirs[2] = {NULL, ds != NULL ? ds->dir : NULL};
    char* sdir = folder ? strdup(d.schema_path) : path_dir(d.schema_path);
    if (sdir == NULL)
      goto nomem;
    dirs[0] = sdir;
    for (size_t i = 0; i < 2 && d.migrations_dir == NULL; i++) {
      if (dirs[i] == NULL)
        continue;
      char* m = path_join(dirs[i], "migrations");
      if (m == NULL) {
        free(sdir);
        goto nomem;
      }
      if (is_dir(m))
        d.migrations_dir = m;
      else
        free(m);
    }
    free(sdir);
  }

  if (sqlite && ds->has_url) {
    rc = schema_db_path(ds, &schema_db, err, errlen);
    if (rc < 0)
      goto fail;
  }

  /* The config's datasource.url, for an sqlite schema (or none found). The
   * app's driver adapter (better-sqlite3, libsql) opens a relative path
   * against the app's working directory, which is ours; the Prisma CLI
   * against its base (see above). */
  if (prisma7 && (ds == NULL || sqlite) && pc.url.readable) {
    const char* url = pc.url.value;
    if (url == NULL) {
      url_unset = true;
    } else if (url[0] == '\0') {
      rc = seterr(err, errlen,
                  "%s:%u: datasource.url is empty%s%s%s; set it like "
                  "file:/data/app.db",
                  pc.file, pc.url.line, pc.url.env ? " (" : "",
                  pc.url.env ? pc.url.env : "",
                  pc.url.env ? " is set to \"\")" : "");
      goto fail;
    } else if (sqlite_url_scheme(url) != 0) {
      rc = url_path(url, cwd, &config_db);
      if (rc == 0)
        rc = url_path(url, base, &cli_db);
      if (rc == -EINVAL) {
        rc = seterr(err, errlen,
                    "%s:%u: datasource.url \"%s\" has no path after file:; "
                    "name a file, like file:./dev.db",
                    pc.file, pc.url.line, url);
        goto fail;
      }
      if (rc < 0)
        goto fail;
      if (strchr(url, '?') != NULL)
        dbs_log_warnx("%s:%u: datasource.url has a query string: the "
                      "better-sqlite3 adapter keeps it in the file name "
                      "(the Prisma CLI and libsql cut it); remove it",
                      pc.file, pc.url.line);
    } else if (sqlite) {
      rc = seterr(err, errlen,
                  "%s:%u: the sqlite datasource.url%s%s does not start with "
                  "file: (it must be like file:./dev.db or "
                  "file:/data/app.db); fix it",
                  pc.file, pc.url.line, pc.url.env ? " from " : "",
                  pc.url.env ? pc.url.env : "");
      goto fail;
    } else {
      dbs_log_info("%s: datasource.url is not a file: URL and no schema "
                   "says sqlite: no database to set up",
                   pc.file);
    }
  }

  const char* dburl = getenv("DATABASE_URL");
  if (cfg->db != NULL && cfg->db[0] != '\0') {
    d.source = DBS_DB_OPTION;
    d.db_path = path_join(cwd, cfg->db);
    if (d.db_path == NULL)
      goto nomem;
  } else if (dburl != NULL && sqlite_url_scheme(dburl) != 0) {
    /* Prisma 6 resolves an env URL against the schema's folder, like a
     * literal one; Prisma 7's adapters and anything else reading
     * DATABASE_URL get the cwd. */
    const char* dbase = cwd;
    if (sqlite && ds->url_env != NULL &&
        strcmp(ds->url_env, "DATABASE_URL") == 0)
      dbase = ds->dir;
    d.source = DBS_DB_DATABASE_URL;
    rc = url_path(dburl, dbase, &d.db_path);
    if (rc == -EINVAL) {
      rc = seterr(err, errlen,
                  "DATABASE_URL=%s has no path after the scheme; set it like "
                  "DATABASE_URL=file:/data/app.db",
                  dburl);
      goto fail;
    }
    if (rc < 0)
      goto fail;
  } else if (ds != NULL && !sqlite) {
    dbs_log_info("the Prisma schema's datasource (%s) uses provider \"%s\", "
                 "not sqlite: no database to set up",
                 d.datasource, ds->provider);
  } else if (config_db != NULL) {
    d.source = DBS_DB_PRISMA_CONFIG;
    d.db_path = strdup(config_db);
    if (d.db_path == NULL)
      goto nomem;
  } else if (prisma7 && url_unset && pc.url.env != NULL) {
    /* datasource.url reads X and X is unset: give every child X. */
    d.source = DBS_DB_PRISMA_CONFIG;
    const char* volume = cfg->volume != NULL ? cfg->volume : "/data";
    char* vol = path_join(cwd, volume);
    if (vol == NULL)
      goto nomem;
    d.db_path = path_join(vol, "sqlite.db");
    free(vol);
    if (d.db_path == NULL)
      goto nomem;
  } else if (prisma7 && !pc.url.readable && (ds == NULL || sqlite)) {
    if (ls != NULL && ls->ndbs == 1) {
      dbs_log_warnx("%s:%u: dbsetup cannot read datasource.url without "
                    "running the file: using litestream.yml's database; "
                    "pass --db to make sure it is the one the app opens",
                    pc.file, pc.url.line);
    } else {
      rc = config_unreadable(&pc, &pc.url, "datasource.url",
                             "pass --db (or DATABASE_URL=file:...) with the "
                             "file the app opens",
                             err, errlen);
      goto fail;
    }
  } else if (sqlite && ds->has_url) {
    d.source = DBS_DB_PRISMA;
    if (schema_db != NULL) {
      d.db_path = schema_db;
      schema_db = NULL;
    } else {
      /* url = env("X") with X unset: give every child X, on the volume. */
      const char* volume = cfg->volume != NULL ? cfg->volume : "/data";
      char* vol = path_join(cwd, volume);
      if (vol == NULL)
        goto nomem;
      d.db_path = path_join(vol, "sqlite.db");
      free(vol);
      if (d.db_path == NULL)
        goto nomem;
    }
  } else if (sqlite) {
    no_url = true; /* unless litestream.yml names it (below) */
  }

  if (d.source == DBS_DB_NONE && !(ds != NULL && !sqlite) && ls != NULL &&
      ls->ndbs > 0) {
    if (ls->ndbs > 1) {
      rc = seterr(err, errlen,
                  "%s lists %zu databases and nothing else names the app's "
                  "one; pass --db (or DATABASE_URL=file:...)",
                  ls->file != NULL ? ls->file : "litestream.yml", ls->ndbs);
      goto fail;
    }
    d.source = DBS_DB_LITESTREAM;
    d.db_path = path_join(cwd, ls->dbs[0].path);
    if (d.db_path == NULL)
      goto nomem;
  }

  if (no_url && d.source == DBS_DB_NONE) {
    if (have_pc)
      rc = seterr(err, errlen,
                  "%s: datasource %s has no url, and %s has no "
                  "datasource.url; add datasource: { url: "
                  "env(\"DATABASE_URL\") } to the config (Prisma 7), or pass "
                  "--db or DATABASE_URL=file:...",
                  d.datasource, ds->name, pc.file);
    else
      rc = seterr(err, errlen,
                  "%s: datasource %s has no url and there is no "
                  "prisma.config.ts in %s; add url = env(\"DATABASE_URL\") "
                  "(Prisma 6), pass --prisma-config with the config file "
                  "(Prisma 7), or pass --db or DATABASE_URL=file:...",
                  d.datasource, ds->name, cwd);
    goto fail;
  }

  /* The url's variable is unset: set it to the database chosen so that
   * the app (and prisma.config.ts) opens the same file. */
  const char* unset_env = NULL;
  if (prisma7 && url_unset && pc.url.env != NULL && (ds == NULL || sqlite))
    unset_env = pc.url.env;
  else if (sqlite && ds->url_env != NULL &&
           getenv_nonempty(ds->url_env) == NULL)
    unset_env = ds->url_env;
  if (unset_env != NULL && d.db_path != NULL) {
    d.set_env_name = strdup(unset_env);
    if (asprintf(&d.set_env_value, "file:%s", d.db_path) < 0)
      d.set_env_value = NULL;
    if (d.set_env_name == NULL || d.set_env_value == NULL)
      goto nomem;
    dbs_log_info("%s is not set (read by %s): setting %s=%s for every child",
                 unset_env, unset_env == pc.url.env ? pc.file : d.datasource,
                 d.set_env_name, d.set_env_value);
  }

  /* The app opens what the schema or config says, whatever --db claims. */
  if (schema_db != NULL && d.db_path != NULL &&
      strcmp(schema_db, d.db_path) != 0)
    dbs_log_warnx("%s names %s but the Prisma schema (%s) makes the app open "
                  "%s; make them agree",
                  dbs_discover_source_name(d.source), d.db_path, d.datasource,
                  schema_db);
  if (config_db != NULL && d.db_path != NULL &&
      strcmp(config_db, d.db_path) != 0)
    dbs_log_warnx("%s names %s but %s:%u (datasource.url) makes the app open "
                  "%s; make them agree",
                  dbs_discover_source_name(d.source), d.db_path, pc.file,
                  pc.url.line, config_db);
  if (config_db != NULL && cli_db != NULL && strcmp(config_db, cli_db) != 0)
    dbs_log_warnx("%s:%u: datasource.url is relative: the app, started in "
                  "%s, opens %s, but `prisma migrate --config` resolves it "
                  "against %s and opens %s; write an absolute path (like "
                  "file:/data/app.db), or start from the config's folder",
                  pc.file, pc.url.line, cwd, config_db, pc.dir, cli_db);

  if (d.db_path != NULL)
    dbs_log_debug("database: %s (from %s)", d.db_path,
                  dbs_discover_source_name(d.source));
  free(schema_db);
  free(config_db);
  free(cli_db);
  schema_free(&schema);
  pkg_free(&pkg);
  dbs_prisma_config_free(&pc);
  *out = d;
  return 0;

nomem:
  rc = -ENOMEM;
fail:
  free(schema_db);
  free(config_db);
  free(cli_db);
  schema_free(&schema);
  pkg_free(&pkg);
  dbs_prisma_config_free(&pc);
  dbs_discover_free(&d);
  return rc;
}
