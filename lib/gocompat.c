/* Go standard library behaviour litestream's config relies on (see the
 * header). */
#define _GNU_SOURCE
#include "gocompat.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* ---------------------------------------------------------------------- */
/* os.ExpandEnv.                                                          */

static bool shell_special(unsigned char c) {
  return strchr("*#$@!?-0123456789", c) != NULL && c != '\0';
}

static bool alnum_(unsigned char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

/*
 * Go's getShellName on s (n > 0 bytes after the '$'): sets *name and *namelen
 * (namelen 0: no name) and returns the bytes consumed.
 */
static size_t shell_name(const char* s, size_t n, const char** name,
                         size_t* namelen) {
  *name = s;
  *namelen = 0;
  if (s[0] == '{') {
    if (n > 2 && shell_special((unsigned char)s[1]) && s[2] == '}') {
      *name = s + 1;
      *namelen = 1;
      return 3;
    }
    for (size_t i = 1; i < n; i++) {
      if (s[i] == '}') {
        if (i == 1)
          return 2; /* "${}": bad syntax, eaten */
        *name = s + 1;
        *namelen = i - 1;
        return i + 1;
      }
    }
    return 1; /* "${" without '}': eaten */
  }
  if (shell_special((unsigned char)s[0])) {
    *namelen = 1;
    return 1;
  }
  size_t i = 0;
  while (i < n && alnum_((unsigned char)s[i]))
    i++;
  *namelen = i;
  return i;
}

/* Go's os.Getenv for a name that may hold any byte. */
static const char* go_getenv(const char* name, size_t n) {
  if (n == 0 || memchr(name, '=', n) != NULL || memchr(name, '\0', n) != NULL)
    return NULL;
  char* tmp = strndup(name, n);
  if (tmp == NULL)
    return NULL;
  const char* v = getenv(tmp);
  free(tmp);
  return v;
}

/* The output line -> input line map of dbs_go_expand_env. */
struct linemap {
  bool on; /* the caller wants one */
  unsigned* map;
  size_t n, cap;
  unsigned in; /* the current input line */
  bool oom;
};

/* Records that the next output line comes from input line m->in. */
static void linemap_push(struct linemap* m) {
  if (!m->on)
    return;
  if (m->n == m->cap) {
    size_t c2 = m->cap ? m->cap * 2 : 64;
    unsigned* m2 = realloc(m->map, c2 * sizeof(*m2));
    if (m2 == NULL) {
      m->oom = true;
      return;
    }
    m->map = m2;
    m->cap = c2;
  }
  m->map[m->n++] = m->in;
}

/* Appends the value of the variable name[0..namelen) to b. */
static void add_var(struct dbs_strbuf* b, struct linemap* m, const char* name,
                    size_t namelen) {
  const char* v = go_getenv(name, namelen);
  if (v == NULL)
    return;
  for (const char* p = v; *p != '\0'; p++) {
    dbs_strbuf_add(b, p, 1);
    if (*p == '\n')
      linemap_push(m);
  }
}

char* dbs_go_expand_env(const char* s, size_t n, size_t* outlen,
                        unsigned** linemap, size_t* nlines) {
  struct dbs_strbuf b = {0};
  struct linemap m = {.on = linemap != NULL};

  linemap_push(&m); /* line 0 */
  dbs_strbuf_add(&b, "", 0);
  size_t i = 0;
  for (size_t j = 0; j < n; j++) {
    if (s[j] == '\n') {
      dbs_strbuf_add(&b, s + i, j + 1 - i);
      i = j + 1;
      m.in++;
      linemap_push(&m);
      continue;
    }
    if (s[j] != '$' || j + 1 >= n)
      continue;
    dbs_strbuf_add(&b, s + i, j - i);
    const char* name;
    size_t namelen;
    size_t w = shell_name(s + j + 1, n - j - 1, &name, &namelen);
    if (namelen == 0 && w > 0) {
      /* Bad syntax: the characters are eaten. */
    } else if (namelen == 0) {
      dbs_strbuf_add(&b, "$", 1);
    } else {
      add_var(&b, &m, name, namelen);
    }
    /* Newlines inside a consumed "${...}" still advance the input line. */
    for (size_t k = j + 1; k <= j + w && k < n; k++)
      if (s[k] == '\n')
        m.in++;
    j += w;
    i = j + 1;
  }
  if (i < n)
    dbs_strbuf_add(&b, s + i, n - i);
  if (b.oom || m.oom) {
    free(b.p);
    free(m.map);
    return NULL;
  }
  if (outlen != NULL)
    *outlen = b.len;
  if (linemap != NULL) {
    *linemap = m.map;
    *nlines = m.n;
  }
  return b.p;
}

/* ---------------------------------------------------------------------- */
/* net/url.                                                               */

void dbs_go_url_free(struct dbs_go_url* u) {
  free(u->scheme);
  free(u->user);
  free(u->host);
  free(u->path);
  free(u->rawpath);
  free(u->opaque);
  free(u->query);
  memset(u, 0, sizeof(*u));
}

/* True when s (at least 3 bytes from s, or NUL before) is "%XX". */
static bool hex_escape(const char* s) {
  return dbs_strbuf_unhex((unsigned char)s[1]) >= 0 &&
         dbs_strbuf_unhex((unsigned char)s[2]) >= 0;
}

char* dbs_go_url_unescape(const char* s, size_t n, bool* bad) {
  char* o = malloc(n + 1);
  size_t w = 0;
  if (o == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || !hex_escape(s + i)) {
        free(o);
        *bad = true;
        return NULL;
      }
      o[w++] = (char)(dbs_strbuf_unhex((unsigned char)s[i + 1]) * 16 +
                      dbs_strbuf_unhex((unsigned char)s[i + 2]));
      i += 2;
    } else {
      o[w++] = s[i];
    }
  }
  o[w] = '\0';
  return o;
}

/* Decodes p[0..n), the URL s's `what` ("host", "path"), into *out.
 * Returns 0, -EINVAL with url.Parse's message, or -ENOMEM. */
static int url_unescape(const char* s, const char* p, size_t n,
                        const char* what, char** out, char* err,
                        size_t errlen) {
  bool bad = false;
  *out = dbs_go_url_unescape(p, n, &bad);
  if (*out != NULL)
    return 0;
  if (!bad)
    return -ENOMEM;
  snprintf(err, errlen, "parse %s: invalid URL escape in %s", s, what);
  return -EINVAL;
}

/* url.Parse's first checks on the whole of s: no control character, and
 * valid escapes in the fragment, which Go checks although it is dropped. */
static int url_check_chars(const char* s, size_t n, char* err, size_t errlen) {
  for (const char* p = s; *p; p++) {
    if ((unsigned char)*p < 0x20 || *p == 0x7f) {
      snprintf(err, errlen,
               "parse %s: net/url: invalid control character "
               "in URL",
               s);
      return -EINVAL;
    }
  }
  for (const char* f = s + n; *f; f++) {
    if (*f == '%' && !hex_escape(f)) {
      snprintf(err, errlen, "parse %s: invalid URL escape in fragment", s);
      return -EINVAL;
    }
  }
  return 0;
}

/* getScheme on s[0..n): sets u->scheme (lowercased) and *rest past the
 * ':', or leaves both when s has no scheme. */
static int url_scheme(const char* s, size_t n, struct dbs_go_url* u,
                      const char** rest, char* err, size_t errlen) {
  *rest = s;
  if (n > 0 && s[0] == ':') {
    snprintf(err, errlen, "parse %s: missing protocol scheme", s);
    return -EINVAL;
  }
  if (n == 0 || !isalpha((unsigned char)s[0]))
    return 0;
  size_t i = 1;
  while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
                   s[i] == '.'))
    i++;
  if (i >= n || s[i] != ':')
    return 0;
  u->scheme = strndup(s, i);
  if (u->scheme == NULL)
    return -ENOMEM;
  for (char* c = u->scheme; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  *rest = s + i + 1;
  return 0;
}

/* parseAuthority's userinfo: auth[0..at) must be valid userinfo
 * characters and escapes; sets u->user. s is the URL for messages. */
static int url_userinfo(const char* s, const char* auth, const char* at,
                        struct dbs_go_url* u, char* err, size_t errlen) {
  for (const char* c = auth; c < at; c++) {
    if (!isalnum((unsigned char)*c) &&
        strchr("-._:~!$&'()*+,;=%@", *c) == NULL) {
      snprintf(err, errlen, "parse %s: net/url: invalid userinfo", s);
      return -EINVAL;
    }
    if (*c == '%' && (c + 2 >= at || !hex_escape(c))) {
      snprintf(err, errlen, "parse %s: invalid URL escape in userinfo", s);
      return -EINVAL;
    }
  }
  u->user = strndup(auth, (size_t)(at - auth));
  return u->user ? 0 : -ENOMEM;
}

/* parseHost's port rule on host[0..n): digits after the last ':' outside
 * brackets, and a ']' for every '['. */
static int url_check_port(const char* s, const char* host, size_t n, char* err,
                          size_t errlen) {
  const char* hend = host + n;
  const char* colon = NULL;
  if (n > 0 && host[0] == '[') {
    const char* rb = memchr(host, ']', n);
    if (rb == NULL) {
      snprintf(err, errlen, "parse %s: missing ']' in host", s);
      return -EINVAL;
    }
    if (rb + 1 < hend) {
      if (rb[1] != ':') {
        snprintf(err, errlen, "parse %s: invalid port after host", s);
        return -EINVAL;
      }
      colon = rb + 1;
    }
  } else {
    for (const char* c = host; c < hend; c++)
      if (*c == ':')
        colon = c;
  }
  for (const char* c = colon ? colon + 1 : hend; c < hend; c++) {
    if (!isdigit((unsigned char)*c)) {
      snprintf(err, errlen, "parse %s: invalid port \"%.*s\" after host", s,
               (int)(hend - colon), colon);
      return -EINVAL;
    }
  }
  return 0;
}

/* parseHost's character and escape rules on host[0..n), then the decoded
 * host into u->host. */
static int url_host(const char* s, const char* host, size_t n,
                    struct dbs_go_url* u, char* err, size_t errlen) {
  for (const char* c = host; c < host + n; c++) {
    if (*c == ' ' || *c == '\\' || *c == '^' || *c == '`' || *c == '{' ||
        *c == '|' || *c == '}') {
      snprintf(err, errlen,
               "parse %s: invalid character \"%c\" in host "
               "name",
               s, *c);
      return -EINVAL;
    }
  }
  /* In a host, %-escapes may only encode non-ASCII bytes (or "%25"). */
  for (size_t k = 0; k < n; k++) {
    if (host[k] != '%')
      continue;
    if (k + 2 >= n || !hex_escape(host + k) ||
        (dbs_strbuf_unhex((unsigned char)host[k + 1]) < 8 &&
         strncmp(host + k, "%25", 3) != 0)) {
      snprintf(err, errlen, "parse %s: invalid URL escape \"%.*s\"", s,
               (int)(k + 3 <= n ? 3 : n - k), host + k);
      return -EINVAL;
    }
  }
  return url_unescape(s, host, n, "host", &u->host, err, errlen);
}

/* parseAuthority on auth[0..n): userinfo (up to the last '@'), then the
 * host. s is the URL for messages. */
static int url_authority(const char* s, const char* auth, size_t n,
                         struct dbs_go_url* u, char* err, size_t errlen) {
  const char* at = NULL;
  for (size_t k = 0; k < n; k++)
    if (auth[k] == '@')
      at = auth + k;
  if (at != NULL) {
    int rc = url_userinfo(s, auth, at, u, err, errlen);
    if (rc != 0)
      return rc;
    n -= (size_t)(at + 1 - auth);
    auth = at + 1;
  }
  int rc = url_check_port(s, auth, n, err, errlen);
  return rc ? rc : url_host(s, auth, n, u, err, errlen);
}

/* Sets u->rawpath and u->path (decoded) from p[0..n). */
static int url_path(const char* s, const char* p, size_t n,
                    struct dbs_go_url* u, char* err, size_t errlen) {
  u->rawpath = strndup(p, n);
  if (u->rawpath == NULL)
    return -ENOMEM;
  return url_unescape(s, p, n, "path", &u->path, err, errlen);
}

/* url.Parse's steps, leaving what it parsed in u on failure. */
static int url_parse(const char* s, struct dbs_go_url* u, char* err,
                     size_t errlen) {
  /* The fragment is dropped once checked. */
  size_t n = strcspn(s, "#");
  int rc = url_check_chars(s, n, err, errlen);
  if (rc != 0)
    return rc;
  const char* rest;
  if ((rc = url_scheme(s, n, u, &rest, err, errlen)) != 0)
    return rc;
  size_t rn = n - (size_t)(rest - s);
  /* Keep the query apart (litestream 0.5 reads s3 options from it). */
  size_t q = 0;
  while (q < rn && rest[q] != '?')
    q++;
  if (q < rn && (u->query = strndup(rest + q + 1, rn - q - 1)) == NULL)
    return -ENOMEM;
  rn = q;
  if (u->scheme != NULL && (rn == 0 || rest[0] != '/')) {
    u->opaque = strndup(rest, rn);
    return u->opaque ? 0 : -ENOMEM;
  }
  if (u->scheme != NULL && rn >= 2 && rest[0] == '/' && rest[1] == '/') {
    size_t a = 2;
    while (a < rn && rest[a] != '/')
      a++;
    if ((rc = url_authority(s, rest + 2, a - 2, u, err, errlen)) != 0)
      return rc;
    rest += a;
    rn -= a;
  }
  return url_path(s, rest, rn, u, err, errlen);
}

int dbs_go_url_parse(const char* s, struct dbs_go_url* u, char* err,
                     size_t errlen) {
  assert(s != NULL);
  memset(u, 0, sizeof(*u));
  int rc = url_parse(s, u, err, errlen);
  if (rc != 0)
    dbs_go_url_free(u);
  return rc;
}

/* Go's shouldEscape(c, encodePath). */
static bool path_should_escape(unsigned char c) {
  if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
    return false;
  if (strchr("$&+,/:;=@", c) != NULL && c != '\0')
    return false;
  return true;
}

char* dbs_go_url_escaped_path(const struct dbs_go_url* u) {
  assert(u->rawpath != NULL && u->path != NULL);
  bool valid = true;
  for (const char* c = u->rawpath; *c; c++) {
    unsigned char ch = (unsigned char)*c;
    if (strchr("!$&'()*+,;=:@[]%", ch) != NULL)
      continue;
    if (path_should_escape(ch)) {
      valid = false;
      break;
    }
  }
  if (valid)
    return strdup(u->rawpath);
  struct dbs_strbuf b = {0};
  dbs_strbuf_add(&b, "", 0);
  for (const char* c = u->path; *c; c++) {
    unsigned char ch = (unsigned char)*c;
    if (path_should_escape(ch)) {
      char hex[4];
      snprintf(hex, sizeof(hex), "%%%02X", ch);
      dbs_strbuf_add(&b, hex, 3);
    } else {
      dbs_strbuf_add(&b, c, 1);
    }
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* Go's QueryUnescape of s[0..n): '+' is a space, %XX decoded. NULL with
 * *bad set on a bad escape, NULL alone on ENOMEM. */
static char* query_unescape(const char* s, size_t n, bool* bad) {
  char* raw = strndup(s, n);
  if (raw == NULL)
    return NULL;
  for (char* c = raw; *c; c++)
    if (*c == '+')
      *c = ' ';
  char* v = dbs_go_url_unescape(raw, n, bad);
  free(raw);
  return v;
}

/* Go's limit on url.ParseQuery (1.24 and later, GODEBUG urlmaxqueryparams
 * at its default): more pairs than this and the whole query is refused. */
#define GO_MAX_QUERY_PARAMS 10000

char* dbs_go_query_get(const char* q, const char* key, bool* oom) {
  size_t npairs = 1;
  for (const char* c = q; c != NULL && *c != '\0'; c++)
    npairs += *c == '&';
  if (q == NULL || npairs > GO_MAX_QUERY_PARAMS)
    return NULL;
  for (const char* p = q; *p != '\0';) {
    size_t n = strcspn(p, "&");
    const char* pair = p;
    p += n;
    if (*p != '\0')
      p++;
    /* A pair holding ';' is dropped whole (Go 1.17 and later). */
    if (n == 0 || memchr(pair, ';', n) != NULL)
      continue;
    const char* eq = memchr(pair, '=', n);
    size_t klen = eq ? (size_t)(eq - pair) : n;
    bool bad = false;
    char* k = query_unescape(pair, klen, &bad);
    if (k == NULL && !bad)
      goto oom;
    bool match = k != NULL && strcmp(k, key) == 0;
    free(k);
    if (!match)
      continue;
    const char* val = eq ? eq + 1 : pair + n;
    char* v = query_unescape(val, (size_t)(pair + n - val), &bad);
    if (v == NULL && !bad)
      goto oom;
    if (v == NULL)
      continue; /* a bad value drops the pair; a later one may count */
    if (*v == '\0') {
      free(v); /* the first value is empty: Get gives "" */
      return NULL;
    }
    return v;
  }
  return NULL;
oom:
  *oom = true;
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* net.                                                                   */

int dbs_go_split_host_port(const char* hostport, char** host, char** port) {
  const char* hp = hostport ? hostport : "";
  const char* sep = NULL; /* the ':' before the port */
  const char *h = hp, *hend = NULL;
  *host = *port = NULL;
  if (hp[0] == '[') {
    const char* rb = strchr(hp, ']');
    if (rb != NULL && rb[1] == ':' && strchr(rb + 2, ':') == NULL) {
      h = hp + 1;
      hend = rb;
      sep = rb + 1;
    }
  } else {
    const char* c = strchr(hp, ':');
    if (c != NULL && strchr(c + 1, ':') == NULL)
      hend = sep = c;
  }
  if (sep == NULL)
    return -EINVAL;
  *host = strndup(h, (size_t)(hend - h));
  *port = strdup(sep + 1);
  if (*host == NULL || *port == NULL) {
    free(*host);
    free(*port);
    *host = *port = NULL;
    return -ENOMEM;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* time.                                                                  */

/* Reads "digits[.digits]" at *p into *v; false when there is no digit. */
static bool duration_number(const char** p, long double* v) {
  bool digits = false;
  long double scale = 1;
  *v = 0;
  while (isdigit((unsigned char)**p)) {
    *v = *v * 10 + (*(*p)++ - '0');
    digits = true;
  }
  if (**p == '.') {
    (*p)++;
    while (isdigit((unsigned char)**p)) {
      scale /= 10;
      *v += (*(*p)++ - '0') * scale;
      digits = true;
    }
  }
  return digits;
}

/* The longest unit at *p, advancing past it: its length in ns, or 0. */
static long double duration_unit(const char** p) {
  static const struct {
    const char* u;
    long double ns;
  } units[] = {{"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
               {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9}};
  size_t best = 0, bi = 0;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    size_t l = strlen(units[i].u);
    if (strncmp(*p, units[i].u, l) == 0 && l > best) {
      best = l;
      bi = i;
    }
  }
  if (best == 0)
    return 0;
  *p += best;
  return units[bi].ns;
}

bool dbs_go_parse_duration(const char* s, int64_t* ns) {
  const char* p = s;
  bool neg = false;
  long double total = 0;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (strcmp(p, "0") == 0) {
    *ns = 0;
    return true;
  }
  if (*p == '\0')
    return false;
  while (*p) {
    long double v, unit;
    if (!duration_number(&p, &v) || (unit = duration_unit(&p)) == 0)
      return false;
    total += v * unit;
  }
  if (total > (long double)INT64_MAX)
    total = (long double)INT64_MAX;
  *ns = neg ? -(int64_t)total : (int64_t)total;
  return true;
}
