/* yaml.v2's decoding rules for litestream.yml (see the header). */
#define _GNU_SOURCE
#include "ls_yaml.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gocompat.h"

/* ---------------------------------------------------------------------- */
/* Positions, errors and warnings.                                        */

unsigned dbs_ls_yaml_src_line(const struct dbs_ls_ctx* c, size_t line) {
  if (c->linemap != NULL && line < c->nlines)
    return c->linemap[line];
  return (unsigned)line;
}

bool dbs_ls_yaml_src_line_has_dollar(const struct dbs_ls_ctx* c, unsigned l) {
  const char *p = c->src, *end = c->src + c->srclen;
  for (unsigned i = 0; i < l && p < end; i++) {
    const char* nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
      return false;
    p = nl + 1;
  }
  const char* nl = memchr(p, '\n', (size_t)(end - p));
  return memchr(p, '$', (size_t)((nl ? nl : end) - p)) != NULL;
}

void dbs_ls_yaml_fail(struct dbs_ls_ctx* c, const yaml_node_t* n,
                      const char* fmt, ...) {
  if (c->rc != 0)
    return;
  c->rc = -EINVAL;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (n != NULL)
    snprintf(c->err, c->errlen, "%s:%u:%zu: %s", c->file,
             dbs_ls_yaml_src_line(c, n->start_mark.line) + 1,
             n->start_mark.column + 1, msg);
  else
    snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
}

void dbs_ls_yaml_oom(struct dbs_ls_ctx* c) {
  if (c->rc == 0) {
    c->rc = -ENOMEM;
    snprintf(c->err, c->errlen, "%s: out of memory", c->file);
  }
}

void dbs_ls_yaml_warn(struct dbs_ls_ctx* c, const yaml_node_t* n,
                      const char* fmt, ...) {
  assert(n != NULL);
  if (c->rc != 0)
    return;
  char msg[768], *line = NULL;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (asprintf(&line, "%s:%u:%zu: %s", c->file,
               dbs_ls_yaml_src_line(c, n->start_mark.line) + 1,
               n->start_mark.column + 1, msg) < 0) {
    dbs_ls_yaml_oom(c);
    return;
  }
  char** w = realloc(c->warnings, (c->nwarnings + 1) * sizeof(*w));
  if (w == NULL) {
    free(line);
    dbs_ls_yaml_oom(c);
    return;
  }
  c->warnings = w;
  c->warnings[c->nwarnings++] = line;
}

const char* dbs_ls_yaml_kind(const yaml_node_t* n) {
  switch (n->type) {
  case YAML_MAPPING_NODE:
    return "a mapping";
  case YAML_SEQUENCE_NODE:
    return "a list";
  default:
    return "a value";
  }
}

yaml_node_t* dbs_ls_yaml_node(struct dbs_ls_ctx* c, int id) {
  return yaml_document_get_node(c->doc, id);
}

const char* dbs_ls_yaml_str(const yaml_node_t* n) {
  return (const char*)n->data.scalar.value;
}

/* ---------------------------------------------------------------------- */
/* How yaml.v2 resolves plain scalars.                                    */

static bool is_plain(const yaml_node_t* n) {
  return n->type == YAML_SCALAR_NODE &&
         n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

bool dbs_ls_yaml_is_null(const yaml_node_t* n) {
  if (n == NULL)
    return true;
  if (n->type != YAML_SCALAR_NODE)
    return false;
  if (n->tag && strcmp((const char*)n->tag, YAML_NULL_TAG) == 0)
    return true;
  if (!is_plain(n))
    return false;
  const char* v = dbs_ls_yaml_str(n);
  return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") ||
         !strcmp(v, "Null") || !strcmp(v, "NULL");
}

int dbs_ls_yaml_bool(const yaml_node_t* n) {
  static const char* const t[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                  "True", "TRUE", "on",  "On",  "ON"};
  static const char* const f[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                  "False", "FALSE", "off", "Off", "OFF"};
  if (!is_plain(n))
    return -1;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (strcmp(dbs_ls_yaml_str(n), t[i]) == 0)
      return 1;
  for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
    if (strcmp(dbs_ls_yaml_str(n), f[i]) == 0)
      return 0;
  return -1;
}

/* yaml.v2's int resolution of v: underscores dropped, then 0b/0o binary
 * and octal, or what strconv.ParseInt(v, 0, 64) takes. */
static bool is_int(const char* v) {
  char tmp[128];
  size_t w = 0;
  for (const char* p = v; *p && w + 1 < sizeof(tmp); p++)
    if (*p != '_')
      tmp[w++] = *p;
  tmp[w] = '\0';
  if (w == 0)
    return false;
  const char* d = tmp + (tmp[0] == '+' || tmp[0] == '-');
  if (d[0] == '0' && (d[1] == 'b' || d[1] == 'o')) {
    const char* q = d + 2;
    if (*q == '\0')
      return false;
    for (; *q; q++)
      if (!(d[1] == 'b' ? (*q == '0' || *q == '1') : (*q >= '0' && *q <= '7')))
        return false;
    return true;
  }
  char* end;
  errno = 0;
  (void)strtoll(tmp, &end, 0);
  return *end == '\0' && errno == 0;
}

/* Skips the digits at p. */
static const char* digits(const char* p) {
  while (isdigit((unsigned char)*p))
    p++;
  return p;
}

/* yaml.v2's yamlStyleFloat:
 * [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char* v) {
  const char* p = v + (v[0] == '+' || v[0] == '-');
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p))
      return false;
    p = digits(p);
  } else {
    if (!isdigit((unsigned char)*p))
      return false;
    p = digits(p);
    if (*p == '.')
      p = digits(p + 1);
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!isdigit((unsigned char)*p))
      return false;
    p = digits(p);
  }
  return *p == '\0';
}

bool dbs_ls_yaml_is_number(const yaml_node_t* n) {
  if (!is_plain(n))
    return false;
  return is_int(dbs_ls_yaml_str(n)) || is_float(dbs_ls_yaml_str(n));
}

/* ---------------------------------------------------------------------- */
/* Field decoders.                                                        */

void dbs_ls_yaml_get_str(struct dbs_ls_ctx* c, yaml_node_t* n, const char* what,
                         char** out, yaml_node_t** where) {
  if (dbs_ls_yaml_is_null(n)) {
    free(*out);
    *out = NULL;
    if (where)
      *where = n;
    return;
  }
  if (n->type != YAML_SCALAR_NODE) {
    dbs_ls_yaml_fail(c, n, "%s must be a string, not %s", what,
                     dbs_ls_yaml_kind(n));
    return;
  }
  free(*out);
  *out = NULL;
  if (*dbs_ls_yaml_str(n) != '\0') {
    *out = strdup(dbs_ls_yaml_str(n));
    if (*out == NULL)
      dbs_ls_yaml_oom(c);
  }
  if (where)
    *where = n;
}

void dbs_ls_yaml_get_bool(struct dbs_ls_ctx* c, yaml_node_t* n,
                          const char* what, int* out) {
  if (dbs_ls_yaml_is_null(n)) {
    *out = -1;
    return;
  }
  int b = dbs_ls_yaml_bool(n);
  if (b < 0) {
    bool scalar = n->type == YAML_SCALAR_NODE;
    dbs_ls_yaml_fail(c, n, "%s must be true or false (unquoted), not %s%s%s",
                     what, scalar ? "\"" : dbs_ls_yaml_kind(n),
                     scalar ? dbs_ls_yaml_str(n) : "", scalar ? "\"" : "");
    return;
  }
  *out = b;
}

void dbs_ls_yaml_get_duration(struct dbs_ls_ctx* c, yaml_node_t* n,
                              const char* what, int64_t* ns, bool* set) {
  int64_t v = 0;
  if (dbs_ls_yaml_is_null(n))
    return;
  if (dbs_ls_yaml_is_number(n)) {
    v = strtoll(dbs_ls_yaml_str(n), NULL, 0);
  } else if (n->type != YAML_SCALAR_NODE || dbs_ls_yaml_bool(n) >= 0 ||
             !dbs_go_parse_duration(dbs_ls_yaml_str(n), &v)) {
    dbs_ls_yaml_fail(c, n, "%s must be a duration such as 1s, 10m or 24h",
                     what);
    return;
  }
  if (ns != NULL)
    *ns = v;
  if (set != NULL)
    *set = true;
}

void dbs_ls_yaml_check_int(struct dbs_ls_ctx* c, yaml_node_t* n,
                           const char* what) {
  if (dbs_ls_yaml_is_null(n) || dbs_ls_yaml_is_number(n))
    return;
  dbs_ls_yaml_fail(c, n, "%s must be an unquoted number", what);
}

size_t dbs_ls_yaml_check_str_list(struct dbs_ls_ctx* c, yaml_node_t* n,
                                  const char* what) {
  if (dbs_ls_yaml_is_null(n))
    return 0;
  if (n->type != YAML_SEQUENCE_NODE) {
    dbs_ls_yaml_fail(c, n, "%s must be a list, not %s", what,
                     dbs_ls_yaml_kind(n));
    return 0;
  }
  size_t k = 0;
  for (yaml_node_item_t* it = n->data.sequence.items.start;
       it < n->data.sequence.items.top; it++, k++) {
    yaml_node_t* e = dbs_ls_yaml_node(c, *it);
    if (e->type != YAML_SCALAR_NODE)
      dbs_ls_yaml_fail(c, e, "%s[%zu] must be a string, not %s", what, k,
                       dbs_ls_yaml_kind(e));
  }
  return k;
}

/* ---------------------------------------------------------------------- */
/* Mappings and merge keys.                                               */

/* Walks the mappings a "<<" key merges (v: a mapping or a list of them,
 * walked last first so that the first listed wins). */
static void walk_merge(struct dbs_ls_ctx* c, yaml_node_t* v, const char* where,
                       dbs_ls_field_fn fn, void* obj) {
  if (v->type == YAML_MAPPING_NODE) {
    dbs_ls_yaml_walk_map(c, v, where, fn, obj);
    return;
  }
  if (v->type != YAML_SEQUENCE_NODE) {
    dbs_ls_yaml_fail(c, v,
                     "map merge requires map or sequence of maps as the "
                     "value");
    return;
  }
  yaml_node_item_t* s = v->data.sequence.items.start;
  for (yaml_node_item_t* it = v->data.sequence.items.top; it > s;) {
    yaml_node_t* m = dbs_ls_yaml_node(c, *--it);
    if (m->type != YAML_MAPPING_NODE) {
      dbs_ls_yaml_fail(c, m,
                       "map merge requires map or sequence of maps as "
                       "the value");
      return;
    }
    dbs_ls_yaml_walk_map(c, m, where, fn, obj);
  }
}

void dbs_ls_yaml_walk_map(struct dbs_ls_ctx* c, yaml_node_t* n,
                          const char* where, dbs_ls_field_fn fn, void* obj) {
  if (dbs_ls_yaml_is_null(n) || c->rc != 0)
    return;
  if (n->type != YAML_MAPPING_NODE) {
    dbs_ls_yaml_fail(c, n, "%s must be a mapping, not %s", where,
                     dbs_ls_yaml_kind(n));
    return;
  }
  if (c->depth >= 32) {
    dbs_ls_yaml_fail(c, n, "%s: an anchor's value contains itself", where);
    return;
  }
  if (++c->walks > 100000) {
    dbs_ls_yaml_fail(c, n, "document contains excessive aliasing");
    return;
  }
  c->depth++;
  for (yaml_node_pair_t* p = n->data.mapping.pairs.start;
       p < n->data.mapping.pairs.top && c->rc == 0; p++) {
    yaml_node_t *k = dbs_ls_yaml_node(c, p->key),
                *v = dbs_ls_yaml_node(c, p->value);
    if (k->type != YAML_SCALAR_NODE) {
      dbs_ls_yaml_fail(c, k, "%s: a key must be a plain word, not %s", where,
                       dbs_ls_yaml_kind(k));
      break;
    }
    if (is_plain(k) && strcmp(dbs_ls_yaml_str(k), "<<") == 0) {
      walk_merge(c, v, where, fn, obj);
      continue;
    }
    c->key = k;
    fn(c, obj, dbs_ls_yaml_is_null(k) ? "" : dbs_ls_yaml_str(k), v, where);
  }
  c->depth--;
}
