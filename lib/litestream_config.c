/* Reads litestream.yml the way litestream 0.3.13 or 0.5 does (see the
 * header). */
#define _GNU_SOURCE
#include "litestream_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "log.h"
#include "path.h"
#include "strbuf.h"

/* ---------------------------------------------------------------------- */
/* Small string helpers.                                                  */

/* Returns a copy of s, or NULL for NULL or "". Sets *oom on failure. */
static char* dup_nonempty(const char* s, bool* oom) {
  if (s == NULL || *s == '\0')
    return NULL;
  char* c = strdup(s);
  if (c == NULL)
    *oom = true;
  return c;
}

static bool empty(const char* s) {
  return s == NULL || *s == '\0';
}

/* ---------------------------------------------------------------------- */
/* Go's os.ExpandEnv.                                                     */

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

/*
 * Expands like os.ExpandEnv. If linemap is not NULL, records for every
 * output line the input line it came from (both 0-based) in a malloc'd
 * array of *nlines entries.
 */
static char* expand(const char* s, size_t n, size_t* outlen, unsigned** linemap,
                    size_t* nlines) {
  struct dbs_strbuf b = {0};
  unsigned* map = NULL;
  size_t nmap = 0, capmap = 0;
  unsigned inl = 0;
  bool oom = false;

#define MAP_PUSH()                                                             \
  do {                                                                         \
    if (linemap != NULL) {                                                     \
      if (nmap == capmap) {                                                    \
        size_t c2 = capmap ? capmap * 2 : 64;                                  \
        unsigned* m2 = realloc(map, c2 * sizeof(*m2));                         \
        if (m2 == NULL) {                                                      \
          oom = true;                                                          \
          break;                                                               \
        }                                                                      \
        map = m2;                                                              \
        capmap = c2;                                                           \
      }                                                                        \
      map[nmap++] = inl;                                                       \
    }                                                                          \
  } while (0)

  MAP_PUSH(); /* line 0 */
  dbs_strbuf_add(&b, "", 0);
  size_t i = 0;
  for (size_t j = 0; j < n; j++) {
    if (s[j] == '\n') {
      dbs_strbuf_add(&b, s + i, j + 1 - i);
      i = j + 1;
      inl++;
      MAP_PUSH();
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
      const char* v = go_getenv(name, namelen);
      if (v != NULL) {
        for (const char* p = v; *p != '\0'; p++) {
          dbs_strbuf_add(&b, p, 1);
          if (*p == '\n')
            MAP_PUSH();
        }
      }
    }
    /* Newlines inside a consumed "${...}" still advance the input line. */
    for (size_t k = j + 1; k <= j + w && k < n; k++)
      if (s[k] == '\n')
        inl++;
    j += w;
    i = j + 1;
  }
  if (i < n)
    dbs_strbuf_add(&b, s + i, n - i);
#undef MAP_PUSH
  if (b.oom || oom) {
    free(b.p);
    free(map);
    return NULL;
  }
  if (outlen != NULL)
    *outlen = b.len;
  if (linemap != NULL) {
    *linemap = map;
    *nlines = nmap;
  } else {
    free(map);
  }
  return b.p;
}

char* dbs_litestream_config_expand_env(const char* text, size_t len,
                                       size_t* outlen) {
  return expand(text, len, outlen, NULL, NULL);
}

/* ---------------------------------------------------------------------- */
/* Paths: Go's path.Clean, filepath.Abs and litestream's expand().        */

/* filepath.Abs: cwd joined and cleaned. */
static char* path_abs(const char* p) {
  if (p != NULL && p[0] == '/')
    return dbs_strbuf_path_clean(p);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    return NULL;
  size_t n = strlen(cwd) + 1 + (p ? strlen(p) : 0) + 1;
  char* j = malloc(n);
  if (j == NULL)
    return NULL;
  snprintf(j, n, "%s/%s", cwd, p ? p : "");
  char* c = dbs_strbuf_path_clean(j);
  free(j);
  return c;
}

/*
 * litestream's expand(): "~" and "~/x" use the home directory of the real
 * uid from the passwd database (Go's os/user, cgo build); anything else is
 * made absolute. Returns 0, -ENOMEM, or -ENOENT with a message in err.
 */
static int path_expand(const char* s, char** out, char* err, size_t errlen) {
  const char* in = s ? s : "";
  *out = NULL;
  if (strcmp(in, "~") != 0 && strncmp(in, "~/", 2) != 0) {
    *out = path_abs(in);
    return *out ? 0 : -ENOMEM;
  }
  struct passwd* pw = getpwuid(getuid());
  if (pw == NULL) {
    snprintf(err, errlen,
             "cannot expand %s: uid %u has no passwd entry (litestream "
             "needs one for ~; write the path in full)",
             in, (unsigned)getuid());
    return -ENOENT;
  }
  if (empty(pw->pw_dir)) {
    snprintf(err, errlen, "cannot expand path %s, no home directory available",
             in);
    return -ENOENT;
  }
  size_t n = strlen(pw->pw_dir) + strlen(in) + 2;
  char* j = malloc(n);
  if (j == NULL)
    return -ENOMEM;
  snprintf(j, n, "%s/%s", pw->pw_dir, in[1] ? in + 2 : "");
  *out = dbs_strbuf_path_clean(j);
  free(j);
  return *out ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------------- */
/* URLs: the parts of Go's net/url that litestream's ParseReplicaURL and  */
/* s3.ParseHost depend on.                                                */

struct url {
  char* scheme;  /* lowercased, or NULL */
  char* user;    /* userinfo before '@', raw, or NULL */
  char* host;    /* host[:port], or NULL */
  char* path;    /* decoded path, or NULL */
  char* rawpath; /* path as written */
  char* opaque;  /* for "scheme:opaque" */
  char* query;   /* raw query after '?', or NULL */
};

static void url_free(struct url* u) {
  free(u->scheme);
  free(u->user);
  free(u->host);
  free(u->path);
  free(u->rawpath);
  free(u->opaque);
  free(u->query);
  memset(u, 0, sizeof(*u));
}

/* Percent-decodes s[0..n) into a new string; NULL with *bad on bad escape. */
static char* pct_decode(const char* s, size_t n, bool* bad) {
  char* o = malloc(n + 1);
  size_t w = 0;
  if (o == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || dbs_strbuf_unhex((unsigned char)s[i + 1]) < 0 ||
          dbs_strbuf_unhex((unsigned char)s[i + 2]) < 0) {
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

/*
 * Go's url.Parse, reduced to what replica URLs use. Returns 0, -EINVAL
 * (message in err) or -ENOMEM.
 */
static int url_parse_(const char* s, struct url* u, char* err, size_t errlen) {
  memset(u, 0, sizeof(*u));
  for (const char* p = s; *p; p++) {
    if ((unsigned char)*p < 0x20 || *p == 0x7f) {
      snprintf(err, errlen,
               "parse %s: net/url: invalid control character "
               "in URL",
               s);
      return -EINVAL;
    }
  }
  /* Drop the fragment, whose escapes Go still checks. */
  size_t n = strcspn(s, "#");
  for (const char* f = s + n; *f; f++) {
    if (*f == '%' && (dbs_strbuf_unhex((unsigned char)f[1]) < 0 ||
                      dbs_strbuf_unhex((unsigned char)f[2]) < 0)) {
      snprintf(err, errlen, "parse %s: invalid URL escape in fragment", s);
      return -EINVAL;
    }
  }
  /* Scheme. */
  const char* rest = s;
  if (n > 0 && isalpha((unsigned char)s[0])) {
    size_t i = 1;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' ||
                     s[i] == '-' || s[i] == '.'))
      i++;
    if (i < n && s[i] == ':') {
      u->scheme = strndup(s, i);
      if (u->scheme == NULL)
        return -ENOMEM;
      for (char* c = u->scheme; *c; c++)
        *c = (char)tolower((unsigned char)*c);
      rest = s + i + 1;
    }
  } else if (n > 0 && s[0] == ':') {
    snprintf(err, errlen, "parse %s: missing protocol scheme", s);
    return -EINVAL;
  }
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
  const char* p = rest;
  size_t pn = rn;
  if (u->scheme != NULL && rn >= 2 && rest[0] == '/' && rest[1] == '/') {
    size_t a = 2;
    while (a < rn && rest[a] != '/')
      a++;
    const char* auth = rest + 2;
    size_t an = a - 2;
    const char* at = NULL;
    for (size_t k = 0; k < an; k++)
      if (auth[k] == '@')
        at = auth + k;
    if (at != NULL) {
      for (const char* c = auth; c < at; c++) {
        if (!isalnum((unsigned char)*c) &&
            strchr("-._:~!$&'()*+,;=%@", *c) == NULL) {
          snprintf(err, errlen, "parse %s: net/url: invalid userinfo", s);
          return -EINVAL;
        }
        if (*c == '%' &&
            (c + 2 >= at || dbs_strbuf_unhex((unsigned char)c[1]) < 0 ||
             dbs_strbuf_unhex((unsigned char)c[2]) < 0)) {
          snprintf(err, errlen, "parse %s: invalid URL escape in userinfo", s);
          return -EINVAL;
        }
      }
      u->user = strndup(auth, (size_t)(at - auth));
      if (u->user == NULL)
        return -ENOMEM;
      an -= (size_t)(at + 1 - auth);
      auth = at + 1;
    }
    /* Validate the port: digits after the last ':' outside brackets. */
    const char* hend = auth + an;
    const char* colon = NULL;
    if (an > 0 && auth[0] == '[') {
      const char* rb = memchr(auth, ']', an);
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
      for (const char* c = auth; c < hend; c++)
        if (*c == ':')
          colon = c;
    }
    if (colon != NULL) {
      for (const char* c = colon + 1; c < hend; c++) {
        if (!isdigit((unsigned char)*c)) {
          snprintf(err, errlen, "parse %s: invalid port \"%.*s\" after host", s,
                   (int)(hend - colon), colon);
          return -EINVAL;
        }
      }
    }
    for (const char* c = auth; c < hend; c++) {
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
    for (size_t k = 0; k < an; k++) {
      if (auth[k] != '%')
        continue;
      if (k + 2 >= an || dbs_strbuf_unhex((unsigned char)auth[k + 1]) < 0 ||
          dbs_strbuf_unhex((unsigned char)auth[k + 2]) < 0 ||
          (dbs_strbuf_unhex((unsigned char)auth[k + 1]) < 8 &&
           strncmp(auth + k, "%25", 3) != 0)) {
        snprintf(err, errlen, "parse %s: invalid URL escape \"%.*s\"", s,
                 (int)(k + 3 <= an ? 3 : an - k), auth + k);
        return -EINVAL;
      }
    }
    bool bad = false;
    u->host = pct_decode(auth, an, &bad);
    if (u->host == NULL) {
      if (bad) {
        snprintf(err, errlen, "parse %s: invalid URL escape in host", s);
        return -EINVAL;
      }
      return -ENOMEM;
    }
    p = rest + a;
    pn = rn - a;
  }
  bool bad = false;
  u->rawpath = strndup(p, pn);
  if (u->rawpath == NULL)
    return -ENOMEM;
  u->path = pct_decode(p, pn, &bad);
  if (u->path == NULL) {
    if (bad) {
      snprintf(err, errlen, "parse %s: invalid URL escape in path", s);
      return -EINVAL;
    }
    return -ENOMEM;
  }
  return 0;
}

/* url_parse_, leaving u empty on failure. */
static int url_parse(const char* s, struct url* u, char* err, size_t errlen) {
  int rc = url_parse_(s, u, err, errlen);
  if (rc != 0)
    url_free(u);
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

/*
 * Go's URL.EscapedPath: the path as written when it is a valid encoding,
 * else the decoded path re-escaped. What litestream uses for file:// URLs.
 */
static char* url_escaped_path(const struct url* u) {
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

/* litestream's isURL: ^\w+:// */
static bool is_url(const char* s) {
  if (s == NULL)
    return false;
  size_t i = 0;
  while (alnum_((unsigned char)s[i]))
    i++;
  return i > 0 && strncmp(s + i, "://", 3) == 0;
}

/* s3.ParseHost's provider table. */
struct provider {
  const char* re;
  const char* endpoint_fmt; /* %s is the region */
  bool http;
  const char* fixed_region;
};

static const struct provider providers[] = {
    {"^((.+)\\.)?localhost$", "localhost", true, "us-east-1"},
    {"^((.+)\\.)?s3.([^.]+)\\.backblazeb2.com$", "s3.%s.backblazeb2.com", false,
     NULL},
    {"^((.+)\\.)?s3.filebase.com$", "s3.filebase.com", false, NULL},
    {"^((.+)\\.)?([^.]+)\\.digitaloceanspaces.com$",
     "%s.digitaloceanspaces.com", false, NULL},
    {"^((.+)\\.)?s3.([^.]+)\\.scw\\.cloud$", "s3.%s.scw.cloud", false, NULL},
    {"^((.+)\\.)?([^.]+)\\.linodeobjects.com$", "%s.linodeobjects.com", false,
     NULL},
};

static char* sub(const char* s, const regmatch_t* m) {
  if (m->rm_so < 0)
    return strdup("");
  return strndup(s + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
}

/*
 * s3.ParseHost: fills bucket, region, endpoint (all may end up NULL) and
 * whether a provider host forces path style. Returns 0 or -ENOMEM.
 */
static int parse_host(const char* hostport, char** bucket, char** region,
                      char** endpoint, bool* path_style) {
  char *host = NULL, *port = NULL;
  int rc = -ENOMEM;
  *bucket = *region = *endpoint = NULL;
  *path_style = false;
  /* net.SplitHostPort; on failure the whole string is the host. */
  const char* hp = hostport ? hostport : "";
  if (hp[0] == '[') {
    const char* rb = strchr(hp, ']');
    if (rb != NULL && rb[1] == ':' && strchr(rb + 2, ':') == NULL) {
      host = strndup(hp + 1, (size_t)(rb - hp - 1));
      port = strdup(rb + 2);
    }
  } else {
    const char* c = strchr(hp, ':');
    if (c != NULL && strchr(c + 1, ':') == NULL) {
      host = strndup(hp, (size_t)(c - hp));
      port = strdup(c + 1);
    }
  }
  if (host == NULL) {
    free(port);
    port = NULL;
    host = strdup(hp);
  }
  if (host == NULL)
    goto out;

  for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
    regex_t re;
    regmatch_t m[4];
    if (regcomp(&re, providers[i].re, REG_EXTENDED) != 0)
      goto out;
    int nomatch = regexec(&re, host, 4, m, 0);
    regfree(&re);
    if (nomatch)
      continue;
    char* b = sub(host, &m[2]);
    char* r = providers[i].fixed_region ? strdup(providers[i].fixed_region)
              : m[3].rm_so >= 0         ? sub(host, &m[3])
                                        : strdup("");
    if (b == NULL || r == NULL) {
      free(b);
      free(r);
      goto out;
    }
    char ep[512];
    int len =
        snprintf(ep, sizeof(ep), "%s://", providers[i].http ? "http" : "https");
    len += snprintf(ep + len, sizeof(ep) - (size_t)len,
                    providers[i].endpoint_fmt, r);
    if (!empty(port)) {
      snprintf(ep + len, sizeof(ep) - (size_t)len, ":%s", port);
    }
    bool oom = false;
    *bucket = dup_nonempty(b, &oom);
    *region = dup_nonempty(r, &oom);
    *endpoint = dup_nonempty(ep, &oom);
    free(b);
    free(r);
    *path_style = true;
    rc = oom ? -ENOMEM : 0;
    goto out;
  }
  /* Anything else: the host (without port) is the bucket, on AWS. */
  bool oom = false;
  *bucket = dup_nonempty(host, &oom);
  rc = oom ? -ENOMEM : 0;
out:
  free(host);
  free(port);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* YAML walking, with yaml.v2's decoding rules for the field types.       */

struct ctx {
  const char* file;
  yaml_document_t* doc;
  const unsigned* linemap;
  size_t nlines;
  const char* src; /* text before expansion */
  size_t srclen;
  bool expanded;
  char* err;
  size_t errlen;
  int rc;           /* first error */
  yaml_node_t* key; /* the key whose value is being decoded */
  unsigned depth;   /* walk_map nesting, to stop self-merging anchors */
  unsigned walks;   /* walk_map calls, to stop alias bombs */
  enum dbs_ls_rules rules;
  char** warnings; /* see dbs_litestream_config.warnings */
  size_t nwarnings;
};

static unsigned src_line(const struct ctx* c, size_t line) {
  if (c->linemap != NULL && line < c->nlines)
    return c->linemap[line];
  return (unsigned)line;
}

/* True when source line l (0-based) holds a '$' (an env reference). */
static bool src_line_has_dollar(const struct ctx* c, unsigned l) {
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

static void fail_at(struct ctx* c, const yaml_node_t* n, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(struct ctx* c, const yaml_node_t* n, const char* fmt, ...) {
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
             src_line(c, n->start_mark.line) + 1, n->start_mark.column + 1,
             msg);
  else
    snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
}

static void fail_oom(struct ctx* c);

static void warn_at(struct ctx* c, const yaml_node_t* n, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a warning "FILE:LINE:COLUMN: message" (see warnings). */
static void warn_at(struct ctx* c, const yaml_node_t* n, const char* fmt, ...) {
  if (c->rc != 0)
    return;
  char msg[768], *line = NULL;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (asprintf(&line, "%s:%u:%zu: %s", c->file,
               src_line(c, n->start_mark.line) + 1, n->start_mark.column + 1,
               msg) < 0) {
    fail_oom(c);
    return;
  }
  char** w = realloc(c->warnings, (c->nwarnings + 1) * sizeof(*w));
  if (w == NULL) {
    free(line);
    fail_oom(c);
    return;
  }
  c->warnings = w;
  c->warnings[c->nwarnings++] = line;
}

static void fail_oom(struct ctx* c) {
  if (c->rc == 0) {
    c->rc = -ENOMEM;
    snprintf(c->err, c->errlen, "%s: out of memory", c->file);
  }
}

static const char* kind_name(const yaml_node_t* n) {
  switch (n->type) {
  case YAML_MAPPING_NODE:
    return "a mapping";
  case YAML_SEQUENCE_NODE:
    return "a list";
  default:
    return "a value";
  }
}

static bool is_plain(const yaml_node_t* n) {
  return n->type == YAML_SCALAR_NODE &&
         n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char* sval(const yaml_node_t* n) {
  return (const char*)n->data.scalar.value;
}

/*
 * yaml.v2's null: a plain "", "~", "null", "Null", "NULL", or an explicit
 * !!null tag. (libyaml's document API gives an untagged plain scalar the
 * !!str tag, so an explicit !!str on a plain scalar cannot be told apart
 * and resolves as plain.)
 */
static bool is_null(const yaml_node_t* n) {
  if (n == NULL)
    return true;
  if (n->type != YAML_SCALAR_NODE)
    return false;
  if (n->tag && strcmp((const char*)n->tag, YAML_NULL_TAG) == 0)
    return true;
  if (!is_plain(n))
    return false;
  const char* v = sval(n);
  return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") ||
         !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* yaml.v2's bool words; returns 1 true, 0 false, -1 not a bool. */
static int bool_word(const yaml_node_t* n) {
  static const char* const t[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                  "True", "TRUE", "on",  "On",  "ON"};
  static const char* const f[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                  "False", "FALSE", "off", "Off", "OFF"};
  if (!is_plain(n))
    return -1;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (strcmp(sval(n), t[i]) == 0)
      return 1;
  for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
    if (strcmp(sval(n), f[i]) == 0)
      return 0;
  return -1;
}

/* A plain scalar yaml.v2 resolves to an int or a float. */
static bool is_number(const yaml_node_t* n) {
  if (!is_plain(n))
    return false;
  const char* v = sval(n);
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
  if (*end == '\0' && errno == 0)
    return true;
  /* yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
  const char* p = v + (v[0] == '+' || v[0] == '-');
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p))
      return false;
    while (isdigit((unsigned char)*p))
      p++;
  } else {
    if (!isdigit((unsigned char)*p))
      return false;
    while (isdigit((unsigned char)*p))
      p++;
    if (*p == '.')
      for (p++; isdigit((unsigned char)*p); p++)
        ;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!isdigit((unsigned char)*p))
      return false;
    while (isdigit((unsigned char)*p))
      p++;
  }
  return *p == '\0';
}

/*
 * Go's time.ParseDuration: sets *ns (saturating instead of Go's overflow
 * error, which no sane config reaches). Returns false when s is not a
 * duration.
 */
static bool go_duration(const char* s, int64_t* ns) {
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
    bool digits = false;
    long double v = 0, scale = 1;
    while (isdigit((unsigned char)*p)) {
      v = v * 10 + (*p++ - '0');
      digits = true;
    }
    if (*p == '.') {
      p++;
      while (isdigit((unsigned char)*p)) {
        scale /= 10;
        v += (*p++ - '0') * scale;
        digits = true;
      }
    }
    if (!digits)
      return false;
    static const struct {
      const char* u;
      long double ns;
    } units[] = {{"ns", 1},          {"us", 1e3},  {"\xc2\xb5s", 1e3},
                 {"\xce\xbcs", 1e3}, {"ms", 1e6},  {"s", 1e9},
                 {"m", 60e9},        {"h", 3600e9}};
    size_t best = 0, bi = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      size_t l = strlen(units[i].u);
      if (strncmp(p, units[i].u, l) == 0 && l > best) {
        best = l;
        bi = i;
      }
    }
    if (best == 0)
      return false;
    total += v * units[bi].ns;
    p += best;
  }
  if (total > (long double)INT64_MAX)
    total = (long double)INT64_MAX;
  *ns = neg ? -(int64_t)total : (int64_t)total;
  return true;
}

static yaml_node_t* node(struct ctx* c, int id) {
  return yaml_document_get_node(c->doc, id);
}

/* Decodes a string field: NULL for null, the scalar text otherwise. */
static void get_str(struct ctx* c, yaml_node_t* n, const char* what, char** out,
                    yaml_node_t** where) {
  if (is_null(n)) {
    free(*out);
    *out = NULL;
    if (where)
      *where = n;
    return;
  }
  if (n->type != YAML_SCALAR_NODE) {
    fail_at(c, n, "%s must be a string, not %s", what, kind_name(n));
    return;
  }
  free(*out);
  *out = NULL;
  if (*sval(n) != '\0') {
    *out = strdup(sval(n));
    if (*out == NULL)
      fail_oom(c);
  }
  if (where)
    *where = n;
}

/* Decodes a *bool field: -1 unset (null), 0, 1. */
static void get_bool(struct ctx* c, yaml_node_t* n, const char* what,
                     int* out) {
  if (is_null(n)) {
    *out = -1;
    return;
  }
  int b = bool_word(n);
  if (b < 0) {
    fail_at(c, n, "%s must be true or false (unquoted), not %s%s%s", what,
            n->type == YAML_SCALAR_NODE ? "\"" : kind_name(n),
            n->type == YAML_SCALAR_NODE ? sval(n) : "",
            n->type == YAML_SCALAR_NODE ? "\"" : "");
    return;
  }
  *out = b;
}

/*
 * Decodes a time.Duration field as yaml.v2 does: null leaves *set false;
 * an integer is nanoseconds; else a Go duration string. *ns and *set may
 * be NULL when the value is not needed.
 */
static void get_duration(struct ctx* c, yaml_node_t* n, const char* what,
                         int64_t* ns, bool* set) {
  int64_t v = 0;
  if (is_null(n))
    return;
  if (is_number(n)) {
    v = strtoll(sval(n), NULL, 0);
  } else if (n->type != YAML_SCALAR_NODE || bool_word(n) >= 0 ||
             !go_duration(sval(n), &v)) {
    fail_at(c, n, "%s must be a duration such as 1s, 10m or 24h", what);
    return;
  }
  if (ns != NULL)
    *ns = v;
  if (set != NULL)
    *set = true;
}

static void check_duration(struct ctx* c, yaml_node_t* n, const char* what) {
  get_duration(c, n, what, NULL, NULL);
}

static void check_int(struct ctx* c, yaml_node_t* n, const char* what) {
  if (is_null(n) || is_number(n))
    return;
  fail_at(c, n, "%s must be an unquoted number", what);
}

/* A list of strings (age identities/recipients); returns its length. */
static size_t check_str_list(struct ctx* c, yaml_node_t* n, const char* what) {
  if (is_null(n))
    return 0;
  if (n->type != YAML_SEQUENCE_NODE) {
    fail_at(c, n, "%s must be a list, not %s", what, kind_name(n));
    return 0;
  }
  size_t k = 0;
  for (yaml_node_item_t* it = n->data.sequence.items.start;
       it < n->data.sequence.items.top; it++, k++) {
    yaml_node_t* e = node(c, *it);
    if (e->type != YAML_SCALAR_NODE)
      fail_at(c, e, "%s[%zu] must be a string, not %s", what, k, kind_name(e));
  }
  return k;
}

typedef void (*field_fn)(struct ctx* c, void* obj, const char* key,
                         yaml_node_t* val, const char* where);

/*
 * Feeds every key/value of mapping n to fn in document order, with
 * yaml.v2's merge keys ("<<": a mapping or a list of mappings, the first
 * listed winning). A null node is an empty mapping.
 */
static void walk_map(struct ctx* c, yaml_node_t* n, const char* where,
                     field_fn fn, void* obj) {
  if (is_null(n) || c->rc != 0)
    return;
  if (n->type != YAML_MAPPING_NODE) {
    fail_at(c, n, "%s must be a mapping, not %s", where, kind_name(n));
    return;
  }
  if (c->depth >= 32) {
    fail_at(c, n, "%s: an anchor's value contains itself", where);
    return;
  }
  if (++c->walks > 100000) {
    fail_at(c, n, "document contains excessive aliasing");
    return;
  }
  c->depth++;
  for (yaml_node_pair_t* p = n->data.mapping.pairs.start;
       p < n->data.mapping.pairs.top && c->rc == 0; p++) {
    yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
    if (k->type != YAML_SCALAR_NODE) {
      fail_at(c, k, "%s: a key must be a plain word, not %s", where,
              kind_name(k));
      break;
    }
    if (is_plain(k) && strcmp(sval(k), "<<") == 0) {
      if (v->type == YAML_MAPPING_NODE) {
        walk_map(c, v, where, fn, obj);
      } else if (v->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t* s = v->data.sequence.items.start;
        for (yaml_node_item_t* it = v->data.sequence.items.top; it > s;) {
          yaml_node_t* m = node(c, *--it);
          if (m->type != YAML_MAPPING_NODE) {
            fail_at(c, m,
                    "map merge requires map or sequence of maps as "
                    "the value");
            break;
          }
          walk_map(c, m, where, fn, obj);
        }
      } else {
        fail_at(c, v,
                "map merge requires map or sequence of maps as the "
                "value");
      }
      continue;
    }
    c->key = k;
    fn(c, obj, is_null(k) ? "" : sval(k), v, where);
  }
  c->depth--;
}

/* Raw replica fields as written, before litestream's rules apply. */
struct raw_replica {
  char *type, *name, *path, *url;
  char *access_key_id, *secret_access_key, *region, *bucket, *endpoint;
  int force_path_style; /* -1 unset */
  int skip_verify;      /* -1 unset */
  char *account_name, *account_key, *host, *user, *password, *key_path;
  size_t nage;
  yaml_node_t *node, *bucket_node, *url_node, *path_node, *age_node;
  int64_t sync_interval_ns;
  yaml_node_t* sync_interval_node; /* NULL: not written */
};

static void raw_replica_free(struct raw_replica* r) {
  free(r->type);
  free(r->name);
  free(r->path);
  free(r->url);
  free(r->access_key_id);
  free(r->secret_access_key);
  free(r->region);
  free(r->bucket);
  free(r->endpoint);
  free(r->account_name);
  free(r->account_key);
  free(r->host);
  free(r->user);
  free(r->password);
  free(r->key_path);
}

struct raw_age {
  size_t n;
};

static void age_field(struct ctx* c, void* obj, const char* key, yaml_node_t* v,
                      const char* where) {
  struct raw_age* a = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "identities") || !strcmp(key, "recipients"))
    a->n += check_str_list(c, v, w);
}

static void replica_field(struct ctx* c, void* obj, const char* key,
                          yaml_node_t* v, const char* where) {
  struct raw_replica* r = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  static const struct {
    const char* key;
    size_t off;
  } strs[] = {
#define F(k, f) {k, offsetof(struct raw_replica, f)}
      F("type", type),
      F("name", name),
      F("path", path),
      F("url", url),
      F("access-key-id", access_key_id),
      F("secret-access-key", secret_access_key),
      F("region", region),
      F("bucket", bucket),
      F("endpoint", endpoint),
      F("account-name", account_name),
      F("account-key", account_key),
      F("host", host),
      F("user", user),
      F("password", password),
      F("key-path", key_path),
#undef F
  };
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
    if (strcmp(key, strs[i].key) == 0) {
      yaml_node_t* at = NULL;
      get_str(c, v, w, (char**)((char*)r + strs[i].off), &at);
      if (!strcmp(key, "bucket"))
        r->bucket_node = at;
      else if (!strcmp(key, "url"))
        r->url_node = at;
      else if (!strcmp(key, "path"))
        r->path_node = at;
      return;
    }
  }
  if (!strcmp(key, "force-path-style")) {
    get_bool(c, v, w, &r->force_path_style);
  } else if (!strcmp(key, "skip-verify")) {
    int b = -1;
    get_bool(c, v, w, &b);
    r->skip_verify = b;
  } else if (!strcmp(key, "sync-interval")) {
    bool set = false;
    get_duration(c, v, w, &r->sync_interval_ns, &set);
    r->sync_interval_node = set ? v : NULL;
  } else if (!strcmp(key, "retention") ||
             !strcmp(key, "retention-check-interval") ||
             !strcmp(key, "snapshot-interval") ||
             !strcmp(key, "validation-interval")) {
    /* 0.5 has none of these per replica (validation-interval is parsed
     * into a duration and unused): it ignores them silently. */
    if (c->rules != DBS_LS_RULES_V05 || !strcmp(key, "validation-interval"))
      check_duration(c, v, w);
    if (c->rules == DBS_LS_RULES_V05)
      warn_at(c, c->key,
              "%s: litestream 0.5 ignores this 0.3 setting%s; remove it", w,
              !strcmp(key, "validation-interval")
                  ? " (validation is the global validation.interval now)"
                  : " (retention is global now: snapshot.interval, "
                    "snapshot.retention, l0-retention)");
  } else if (!strcmp(key, "age")) {
    struct raw_age a = {0};
    r->age_node = c->key;
    walk_map(c, v, w, age_field, &a);
    r->nage = a.n;
  } else if (c->rules == DBS_LS_RULES_V05 &&
             (!strcmp(key, "sign-payload") ||
              !strcmp(key, "require-content-md5") ||
              !strcmp(key, "auto-recover") ||
              !strcmp(key, "concurrent-writes"))) {
    int b;
    get_bool(c, v, w, &b);
  } else if (c->rules == DBS_LS_RULES_V05 &&
             (!strcmp(key, "max-sync-ltx-files") ||
              !strcmp(key, "concurrency"))) {
    check_int(c, v, w);
  }
  /* Unknown keys are ignored, as yaml.v2 does. */
}

struct raw_db {
  char* path;
  char* meta_path;
  char* dir; /* 0.5's directory replication */
  struct raw_replica* replicas;
  size_t nreplicas;
  struct raw_replica single; /* replica: (0.5), when replica_node */
  yaml_node_t *node, *path_node, *replica_node, *replicas_node;
  struct raw_snapshot* snapshot; /* NULL: none written */
  int64_t monitor_interval_ns;
  bool monitor_interval_set;
};

static void raw_db_free(struct raw_db* d) {
  free(d->path);
  free(d->meta_path);
  free(d->dir);
  for (size_t i = 0; i < d->nreplicas; i++)
    raw_replica_free(&d->replicas[i]);
  free(d->replicas);
  raw_replica_free(&d->single);
  free(d->snapshot);
}

/* 0.5's snapshot: {interval, retention} (global, or per database). */
struct raw_snapshot {
  int64_t interval_ns, retention_ns;
  yaml_node_t *interval_node, *retention_node; /* NULL: not written */
};

static void snapshot_field(struct ctx* c, void* obj, const char* key,
                           yaml_node_t* v, const char* where) {
  struct raw_snapshot* sn = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  bool set = false;
  if (!strcmp(key, "interval")) {
    get_duration(c, v, w, &sn->interval_ns, &set);
    sn->interval_node = set ? v : NULL;
  } else if (!strcmp(key, "retention")) {
    get_duration(c, v, w, &sn->retention_ns, &set);
    sn->retention_node = set ? v : NULL;
  }
}

/* Checks a snapshot section as 0.5's Validate does. */
static void check_snapshot(struct ctx* c, const struct raw_snapshot* sn,
                           const char* field) {
  if (sn->interval_node != NULL && sn->interval_ns <= 0)
    fail_at(c, sn->interval_node,
            "%s.interval: snapshot interval must be greater than 0", field);
  else if (sn->retention_node != NULL && sn->retention_ns <= 0)
    fail_at(c, sn->retention_node,
            "%s.retention: snapshot retention must be greater than 0", field);
}

/* Decodes one replica mapping e into r (fresh). */
static void read_replica(struct ctx* c, yaml_node_t* e, const char* where,
                         struct raw_replica* r) {
  r->force_path_style = -1;
  r->skip_verify = -1;
  r->node = e;
  if (is_null(e)) {
    fail_at(c, e, "%s is empty", where);
    return;
  }
  walk_map(c, e, where, replica_field, r);
}

static void db_field(struct ctx* c, void* obj, const char* key, yaml_node_t* v,
                     const char* where) {
  struct raw_db* d = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  bool v05 = c->rules == DBS_LS_RULES_V05;
  if (!strcmp(key, "path")) {
    get_str(c, v, w, &d->path, &d->path_node);
  } else if (!strcmp(key, "meta-path")) {
    get_str(c, v, w, &d->meta_path, NULL);
  } else if (!strcmp(key, "monitor-interval")) {
    bool set = false;
    get_duration(c, v, w, &d->monitor_interval_ns, &set);
    d->monitor_interval_set = set;
  } else if (!strcmp(key, "checkpoint-interval") ||
             (v05 && !strcmp(key, "busy-timeout"))) {
    check_duration(c, v, w);
  } else if (!strcmp(key, "min-checkpoint-page-count") ||
             (v05 && (!strcmp(key, "truncate-page-n") ||
                      !strcmp(key, "max-sync-wal-bytes")))) {
    check_int(c, v, w);
  } else if (!strcmp(key, "max-checkpoint-page-count")) {
    if (v05)
      warn_at(c, c->key,
              "%s: litestream 0.5 ignores this 0.3 setting (it has "
              "min-checkpoint-page-count and truncate-page-n); remove it",
              w);
    else
      check_int(c, v, w);
  } else if (c->rules != DBS_LS_RULES_V03 && !strcmp(key, "dir")) {
    get_str(c, v, w, &d->dir, NULL);
  } else if (v05 && !strcmp(key, "snapshot")) {
    free(d->snapshot);
    d->snapshot = calloc(1, sizeof(*d->snapshot));
    if (d->snapshot == NULL) {
      fail_oom(c);
      return;
    }
    walk_map(c, v, w, snapshot_field, d->snapshot);
  } else if (!strcmp(key, "replica")) {
    d->replica_node = c->key;
    raw_replica_free(&d->single);
    memset(&d->single, 0, sizeof(d->single));
    if (c->rules != DBS_LS_RULES_V03 && !is_null(v))
      read_replica(c, v, w, &d->single);
    else if (is_null(v))
      d->replica_node = NULL; /* yaml.v2: a nil *ReplicaConfig */
  } else if (!strcmp(key, "replicas")) {
    d->replicas_node = c->key;
    for (size_t i = 0; i < d->nreplicas; i++)
      raw_replica_free(&d->replicas[i]);
    free(d->replicas);
    d->replicas = NULL;
    d->nreplicas = 0;
    if (is_null(v))
      return;
    if (v->type != YAML_SEQUENCE_NODE) {
      fail_at(c, v,
              "%s must be a list (each entry starting with '-'), not "
              "%s",
              w, kind_name(v));
      return;
    }
    size_t n =
        (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    d->replicas = calloc(n ? n : 1, sizeof(*d->replicas));
    if (d->replicas == NULL) {
      fail_oom(c);
      return;
    }
    for (size_t i = 0; i < n && c->rc == 0; i++) {
      yaml_node_t* e = node(c, v->data.sequence.items.start[i]);
      char wi[300];
      snprintf(wi, sizeof(wi), "%s[%zu]", w, i);
      read_replica(c, e, wi, &d->replicas[d->nreplicas++]);
    }
  }
}

struct raw_cfg {
  char *access_key_id, *secret_access_key, *exec;
  struct raw_db* dbs;
  size_t ndbs;
  struct raw_replica global; /* 0.5: replica settings at the top level */
  struct raw_snapshot snapshot;
  int64_t shutdown_sync_timeout_ns;
  bool shutdown_sync_timeout_set;
};

static void raw_cfg_free(struct raw_cfg* r) {
  free(r->exec);
  free(r->access_key_id);
  free(r->secret_access_key);
  for (size_t i = 0; i < r->ndbs; i++)
    raw_db_free(&r->dbs[i]);
  free(r->dbs);
  raw_replica_free(&r->global);
}

/* 0.5's ReplicaSettings keys, which the top level may set for every
 * replica (type, name, path and url are per replica only). */
static bool replica_setting(const char* key) {
  static const char* const keys[] = {"sync-interval",
                                     "validation-interval",
                                     "max-sync-ltx-files",
                                     "auto-recover",
                                     "access-key-id",
                                     "secret-access-key",
                                     "region",
                                     "bucket",
                                     "endpoint",
                                     "force-path-style",
                                     "sign-payload",
                                     "require-content-md5",
                                     "skip-verify",
                                     "account-name",
                                     "account-key",
                                     "host",
                                     "user",
                                     "password",
                                     "key-path",
                                     "concurrent-writes",
                                     "age",
                                     NULL};
  for (size_t i = 0; keys[i] != NULL; i++)
    if (!strcmp(key, keys[i]))
      return true;
  return false;
}

static void level_field(struct ctx* c, void* obj, const char* key,
                        yaml_node_t* v, const char* where) {
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "interval")) {
    int64_t ns = 0;
    get_duration(c, v, w, &ns, NULL);
    *(int64_t*)obj = ns;
  }
}

static void retention_field(struct ctx* c, void* obj, const char* key,
                            yaml_node_t* v, const char* where) {
  char w[256];
  int b;
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "enabled"))
    get_bool(c, v, w, &b);
}

static void validation_field(struct ctx* c, void* obj, const char* key,
                             yaml_node_t* v, const char* where) {
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "interval"))
    check_duration(c, v, w);
}

/*
 * 0.5's global keys, with the checks of its Validate. Returns false when
 * key is not one of them.
 */
static bool top_field_v05(struct ctx* c, struct raw_cfg* r, const char* key,
                          yaml_node_t* v) {
  int64_t ns = 0;
  bool set = false;
  int b;
  if (!strcmp(key, "levels")) {
    if (is_null(v))
      return true;
    if (v->type != YAML_SEQUENCE_NODE) {
      fail_at(c, v, "levels must be a list ('- interval: 5m'), not %s",
              kind_name(v));
      return true;
    }
    size_t i = 0;
    for (yaml_node_item_t* it = v->data.sequence.items.start;
         it < v->data.sequence.items.top && c->rc == 0; it++, i++) {
      yaml_node_t* e = node(c, *it);
      char w[64];
      snprintf(w, sizeof(w), "levels[%zu]", i);
      ns = 0;
      walk_map(c, e, w, level_field, &ns);
      if (c->rc == 0 && ns <= 0)
        fail_at(c, e,
                "levels[%zu].interval: compaction interval must be greater "
                "than 0",
                i);
    }
  } else if (!strcmp(key, "snapshot")) {
    walk_map(c, v, "snapshot", snapshot_field, &r->snapshot);
    if (c->rc == 0)
      check_snapshot(c, &r->snapshot, "snapshot");
  } else if (!strcmp(key, "l0-retention")) {
    get_duration(c, v, key, &ns, &set);
    if (set && ns < 0)
      fail_at(c, v, "l0-retention: l0 retention must not be negative");
  } else if (!strcmp(key, "l0-retention-check-interval") ||
             !strcmp(key, "shutdown-sync-interval")) {
    get_duration(c, v, key, &ns, &set);
    if (set && ns <= 0)
      fail_at(c, v, "%s: must be greater than 0", key);
  } else if (!strcmp(key, "shutdown-sync-timeout")) {
    get_duration(c, v, key, &r->shutdown_sync_timeout_ns,
                 &r->shutdown_sync_timeout_set);
    if (r->shutdown_sync_timeout_set && r->shutdown_sync_timeout_ns < 0)
      fail_at(c, v, "shutdown-sync-timeout must be >= 0");
  } else if (!strcmp(key, "heartbeat-interval")) {
    check_duration(c, v, key);
  } else if (!strcmp(key, "verify-compaction")) {
    get_bool(c, v, key, &b);
  } else if (!strcmp(key, "retention")) {
    if (!is_null(v) && v->type != YAML_MAPPING_NODE)
      fail_at(c, v,
              "retention: litestream 0.5 takes 'retention: {enabled: "
              "true}' here, not a duration (retention times are "
              "snapshot.retention and l0-retention now)");
    else
      walk_map(c, v, "retention", retention_field, NULL);
  } else if (!strcmp(key, "validation")) {
    walk_map(c, v, "validation", validation_field, NULL);
  } else if (replica_setting(key) && strcmp(key, "access-key-id") != 0 &&
             strcmp(key, "secret-access-key") != 0) {
    replica_field(c, &r->global, key, v, "litestream.yml");
  } else {
    return false;
  }
  return true;
}

static void logging_field(struct ctx* c, void* obj, const char* key,
                          yaml_node_t* v, const char* where) {
  char w[256], *tmp = NULL;
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "level") || !strcmp(key, "type")) {
    get_str(c, v, w, &tmp, NULL);
    free(tmp);
  } else if (!strcmp(key, "stderr")) {
    int b;
    get_bool(c, v, w, &b);
  }
}

static void top_field(struct ctx* c, void* obj, const char* key, yaml_node_t* v,
                      const char* where) {
  struct raw_cfg* r = obj;
  char* tmp = NULL;
  if (c->rules == DBS_LS_RULES_V05 && top_field_v05(c, r, key, v))
    return;
  if (c->rules == DBS_LS_RULES_ANY && replica_setting(key) &&
      strcmp(key, "access-key-id") != 0 &&
      strcmp(key, "secret-access-key") != 0) {
    replica_field(c, &r->global, key, v, "litestream.yml");
    return;
  }
  if (!strcmp(key, "access-key-id")) {
    get_str(c, v, key, &r->access_key_id, NULL);
  } else if (!strcmp(key, "secret-access-key")) {
    get_str(c, v, key, &r->secret_access_key, NULL);
  } else if (!strcmp(key, "exec")) {
    get_str(c, v, key, &r->exec, NULL);
  } else if (!strcmp(key, "addr")) {
    get_str(c, v, key, &tmp, NULL);
    free(tmp);
  } else if (!strcmp(key, "logging")) {
    walk_map(c, v, "logging", logging_field, NULL);
  } else if (!strcmp(key, "dbs")) {
    for (size_t i = 0; i < r->ndbs; i++)
      raw_db_free(&r->dbs[i]);
    free(r->dbs);
    r->dbs = NULL;
    r->ndbs = 0;
    if (is_null(v))
      return;
    if (v->type != YAML_SEQUENCE_NODE) {
      fail_at(c, v,
              "dbs must be a list (each entry starting with '-'), not "
              "%s",
              kind_name(v));
      return;
    }
    size_t n =
        (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    r->dbs = calloc(n ? n : 1, sizeof(*r->dbs));
    if (r->dbs == NULL) {
      fail_oom(c);
      return;
    }
    for (size_t i = 0; i < n && c->rc == 0; i++) {
      yaml_node_t* e = node(c, v->data.sequence.items.start[i]);
      struct raw_db* d = &r->dbs[r->ndbs++];
      d->node = e;
      char w[64];
      snprintf(w, sizeof(w), "dbs[%zu]", i);
      if (is_null(e)) {
        fail_at(c, e, "%s is empty", w);
        return;
      }
      walk_map(c, e, w, db_field, d);
    }
  }
}

/* ---------------------------------------------------------------------- */
/* Replica rules (litestream's NewReplicaFromConfig and friends).         */

void dbs_replica_config_free(struct dbs_replica_config* r) {
  if (r == NULL)
    return;
  free(r->name);
  free(r->type);
  free(r->url);
  free(r->path);
  free(r->bucket);
  free(r->endpoint);
  free(r->region);
  free(r->access_key_id);
  free(r->secret_access_key);
  free(r->session_token);
  memset(r, 0, sizeof(*r));
}

/* aws-sdk-go's AddScheme: https:// unless a scheme is there. */
static char* endpoint_with_scheme(const char* e) {
  if (empty(e))
    return NULL;
  const char* sep = strstr(e, "://");
  if (sep != NULL && sep > e && memchr(e, ':', (size_t)(sep - e)) == NULL)
    return strdup(e);
  size_t n = strlen(e) + 9;
  char* o = malloc(n);
  if (o != NULL)
    snprintf(o, n, "https://%s", e);
  return o;
}

/* Cleans an s3 key prefix as path.Join would use it; NULL for the root. */
static int clean_prefix(const char* p, char** out) {
  *out = NULL;
  if (empty(p))
    return 0;
  char* c = dbs_strbuf_path_clean(p);
  if (c == NULL)
    return -ENOMEM;
  if (strcmp(c, ".") == 0) {
    free(c);
    return 0;
  }
  *out = c;
  return 0;
}

static void register_secret(const char* s) {
  if (!empty(s))
    (void)dbs_log_add_secret(s);
}

/* Registers the password of a URL's userinfo. */
static void register_url_secret(const char* url) {
  if (!empty(url))
    (void)dbs_log_add_url_secret(url);
}

/*
 * Go's url.Values.Get on a raw query: the first value of key ('+' is a
 * space, %XX decoded), or NULL when absent or empty (0.5 treats both
 * alike). Returns a string the caller frees; sets *oom on failure.
 */
static char* query_get(const char* q, const char* key, bool* oom) {
  size_t kl = strlen(key);
  for (const char* p = q; p != NULL && *p != '\0';) {
    size_t n = strcspn(p, "&;");
    const char* eq = memchr(p, '=', n);
    size_t klen = eq ? (size_t)(eq - p) : n;
    if (klen == kl && strncmp(p, key, kl) == 0 && eq != NULL &&
        (size_t)(eq + 1 - p) < n) {
      char* raw = strndup(eq + 1, n - klen - 1);
      if (raw == NULL) {
        *oom = true;
        return NULL;
      }
      for (char* c = raw; *c; c++)
        if (*c == '+')
          *c = ' ';
      bool bad = false;
      char* v = pct_decode(raw, strlen(raw), &bad);
      free(raw);
      if (v == NULL && !bad)
        *oom = true;
      return v;
    }
    p += n;
    if (*p != '\0')
      p++;
  }
  return NULL;
}

/* litestream 0.5's BoolQueryValue: -1 absent, else 1 for true/1/t/yes
 * (any case), 0 for anything else. */
static int query_bool(const char* q, const char* k1, const char* k2,
                      bool* oom) {
  char* v = query_get(q, k1, oom);
  if (v == NULL && k2 != NULL)
    v = query_get(q, k2, oom);
  if (v == NULL)
    return -1;
  int r = !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "t") ||
          !strcasecmp(v, "yes");
  free(v);
  return r;
}

/* litestream 0.5's EnsureEndpointScheme: http:// for local hosts. */
static char* endpoint_scheme_v05(const char* e) {
  if (!strncmp(e, "http://", 7) || !strncmp(e, "https://", 8))
    return strdup(e);
  size_t hl = strcspn(e, ":/");
  char host[256];
  snprintf(host, sizeof(host), "%.*s", (int)(hl < 255 ? hl : 255), e);
  size_t n = strlen(host);
  bool local = !strcmp(host, "localhost") || !strcmp(host, "127.0.0.1") ||
               !strncmp(host, "192.168.", 8) || !strncmp(host, "10.", 3) ||
               !strncmp(host, "172.16.", 7) || !strncmp(host, "172.17.", 7) ||
               !strncmp(host, "172.18.", 7) || !strncmp(host, "172.19.", 7) ||
               !strncmp(host, "172.2", 5) || !strncmp(host, "172.30.", 7) ||
               !strncmp(host, "172.31.", 7) ||
               (n >= 6 && !strcmp(host + n - 6, ".local")) ||
               (n >= 10 && !strcmp(host + n - 10, ".localhost"));
  char* o = NULL;
  if (asprintf(&o, "%s://%s", local ? "http" : "https", e) < 0)
    return NULL;
  return o;
}

/*
 * Builds r from raw as litestream does. bucket_from_env tells whether an
 * empty s3 bucket came from env expansion (then bucket_empty, no error).
 * Error messages go to msg; returns 0, -EINVAL or -ENOMEM.
 */
static int resolve_replica(const struct raw_replica* raw, bool bucket_from_env,
                           enum dbs_ls_rules rules,
                           struct dbs_replica_config* r, char* msg,
                           size_t msglen) {
  struct url u = {0};
  bool oom = false;
  int rc = 0;
  memset(r, 0, sizeof(*r));

  if (is_url(raw->path)) {
    snprintf(msg, msglen,
             "replica path cannot be a url, please use the 'url' field "
             "instead: %s",
             raw->path);
    return -EINVAL;
  }
  /* ReplicaType(): the URL scheme, else type:, else file. */
  const char* type = NULL;
  bool url_ok = false;
  if (!empty(raw->url)) {
    char e[256];
    rc = url_parse(raw->url, &u, e, sizeof(e));
    if (rc == -ENOMEM)
      return rc;
    url_ok = rc == 0;
    if (url_ok && u.scheme != NULL)
      type = u.scheme;
  }
  if (type == NULL)
    type = !empty(raw->type) ? raw->type : "file";
  r->type = strdup(type);
  r->url = dup_nonempty(raw->url, &oom);
  if (r->type == NULL || oom) {
    rc = -ENOMEM;
    goto fail;
  }
  register_url_secret(raw->url);

  /* ParseReplicaURL's errors, for the types that call it. */
  bool needs_url =
      !empty(raw->url) &&
      (!strcmp(type, "file") || !strcmp(type, "s3") || !strcmp(type, "gcs") ||
       !strcmp(type, "gs") || !strcmp(type, "abs") || !strcmp(type, "sftp"));
  if (needs_url && !url_ok) {
    rc = url_parse(raw->url, &u, msg, msglen);
    rc = rc ? rc : -EINVAL;
    goto fail;
  }
  if (needs_url && u.scheme == NULL &&
      (!strcmp(type, "file") || !strcmp(type, "s3") || !strcmp(type, "gcs"))) {
    snprintf(msg, msglen, "replica url scheme required: %s", raw->url);
    rc = -EINVAL;
    goto fail;
  }

  if (!strcmp(type, "file")) {
    r->kind = DBS_REPLICA_FILE;
    if (!empty(raw->url) && !empty(raw->path)) {
      snprintf(msg, msglen, "cannot specify url & path for file replica");
      rc = -EINVAL;
      goto fail;
    }
    char* p = NULL;
    if (!empty(raw->url)) {
      /* u.String() without the scheme, then path.Clean. */
      struct dbs_strbuf b = {0};
      dbs_strbuf_add(&b, "", 0);
      if (u.opaque != NULL) {
        dbs_strbuf_adds(&b, u.opaque);
      } else {
        if (!empty(u.host) || u.user != NULL) {
          dbs_strbuf_adds(&b, "//");
          if (u.user != NULL) {
            dbs_strbuf_adds(&b, u.user);
            dbs_strbuf_adds(&b, "@");
          }
          dbs_strbuf_adds(&b, u.host ? u.host : "");
        }
        char* ep = url_escaped_path(&u);
        if (ep == NULL) {
          free(b.p);
          rc = -ENOMEM;
          goto fail;
        }
        if (*ep != '\0' && *ep != '/' && b.len > 0)
          dbs_strbuf_adds(&b, "/");
        dbs_strbuf_adds(&b, ep);
        free(ep);
      }
      if (b.oom) {
        free(b.p);
        rc = -ENOMEM;
        goto fail;
      }
      p = dbs_strbuf_path_clean(b.p);
      free(b.p);
      if (p == NULL) {
        rc = -ENOMEM;
        goto fail;
      }
    } else {
      p = dup_nonempty(raw->path, &oom);
      if (oom) {
        rc = -ENOMEM;
        goto fail;
      }
    }
    if (empty(p)) {
      free(p);
      snprintf(msg, msglen, "file replica path required");
      rc = -EINVAL;
      goto fail;
    }
    rc = path_expand(p, &r->path, msg, msglen);
    free(p);
    if (rc != 0)
      goto fail;
  } else if (!strcmp(type, "s3")) {
    r->kind = DBS_REPLICA_S3;
    if (!empty(raw->url) && !empty(raw->path)) {
      snprintf(msg, msglen, "cannot specify url & path for s3 replica");
      rc = -EINVAL;
      goto fail;
    }
    if (!empty(raw->url) && !empty(raw->bucket)) {
      snprintf(msg, msglen, "cannot specify url & bucket for s3 replica");
      rc = -EINVAL;
      goto fail;
    }
    const char* path = raw->path;
    char *upath = NULL, *ubucket = NULL, *uregion = NULL, *uendpoint = NULL;
    bool upath_style = false;
    int query_skip_verify = -1;
    r->force_path_style = !empty(raw->endpoint);
    if (raw->force_path_style >= 0) {
      r->force_path_style = raw->force_path_style;
      r->force_path_style_explicit = true;
    }
    if (!empty(raw->url)) {
      /* TrimPrefix(path.Clean(u.Path), "/") */
      char* c = dbs_strbuf_path_clean(u.path);
      if (c == NULL) {
        rc = -ENOMEM;
        goto fail;
      }
      upath = strdup(c[0] == '/' ? c + 1 : c);
      free(c);
      if (upath == NULL ||
          parse_host(u.host, &ubucket, &uregion, &uendpoint, &upath_style)) {
        free(upath);
        rc = -ENOMEM;
        goto fail;
      }
      if (empty(path))
        path = upath;
      /* 0.5 takes endpoint, region, forcePathStyle and skipVerify from
       * the URL's query too (0.3 ignores the query). */
      if (rules != DBS_LS_RULES_V03 && u.query != NULL) {
        char* qe = query_get(u.query, "endpoint", &oom);
        if (qe != NULL) {
          free(uendpoint);
          uendpoint = endpoint_scheme_v05(qe);
          if (uendpoint == NULL)
            oom = true;
          char* fps = query_get(u.query, "forcePathStyle", &oom);
          if (fps == NULL || strcmp(fps, "false") != 0)
            upath_style = true;
          free(fps);
          free(qe);
        }
        char* qr = query_get(u.query, "region", &oom);
        if (qr != NULL) {
          free(uregion);
          uregion = qr;
        }
        int b = query_bool(u.query, "forcePathStyle", "force-path-style", &oom);
        if (b >= 0) {
          upath_style = b;
          if (raw->force_path_style < 0)
            r->force_path_style_explicit = true;
        }
        char* sv = query_get(u.query, "skipVerify", &oom);
        if (sv != NULL)
          query_skip_verify = !strcmp(sv, "true");
        free(sv);
      }
    }
    rc = clean_prefix(path, &r->path);
    r->bucket = dup_nonempty(!empty(raw->bucket) ? raw->bucket : ubucket, &oom);
    r->region = dup_nonempty(!empty(raw->region) ? raw->region : uregion, &oom);
    r->endpoint =
        endpoint_with_scheme(!empty(raw->endpoint) ? raw->endpoint : uendpoint);
    if (!empty(raw->endpoint) || !empty(uendpoint))
      oom = oom || r->endpoint == NULL;
    /* 0.3 lets the URL's path style override a written false; 0.5 only
     * fills in an unwritten one. */
    if (!r->force_path_style &&
        (rules == DBS_LS_RULES_V03 || raw->force_path_style < 0))
      r->force_path_style = upath_style;
    free(upath);
    free(ubucket);
    free(uregion);
    free(uendpoint);
    if (rc != 0 || oom) {
      rc = -ENOMEM;
      goto fail;
    }
    r->skip_verify =
        query_skip_verify >= 0 ? query_skip_verify > 0 : raw->skip_verify > 0;
    r->access_key_id = dup_nonempty(raw->access_key_id, &oom);
    r->secret_access_key = dup_nonempty(raw->secret_access_key, &oom);
    if (oom) {
      rc = -ENOMEM;
      goto fail;
    }
    if (r->bucket == NULL) {
      if (!bucket_from_env) {
        snprintf(msg, msglen,
                 "bucket required for s3 replica (set bucket: "
                 "or url: s3://BUCKET/PATH)");
        rc = -EINVAL;
        goto fail;
      }
      r->bucket_empty = true;
    }
  } else if ((!strcmp(type, "gcs") && rules != DBS_LS_RULES_V05) ||
             (!strcmp(type, "gs") && rules != DBS_LS_RULES_V03) ||
             !strcmp(type, "abs")) {
    r->kind = DBS_REPLICA_OTHER;
    if (!empty(raw->url) && !empty(raw->path)) {
      snprintf(msg, msglen, "cannot specify url & path for %s replica", type);
      rc = -EINVAL;
      goto fail;
    }
    if (!empty(raw->url) && !empty(raw->bucket)) {
      snprintf(msg, msglen, "cannot specify url & bucket for %s replica", type);
      rc = -EINVAL;
      goto fail;
    }
    const char* b = !empty(raw->bucket) ? raw->bucket : u.host;
    if (empty(b)) {
      snprintf(msg, msglen, "bucket required for %s replica", type);
      rc = -EINVAL;
      goto fail;
    }
    r->bucket = dup_nonempty(b, &oom);
    if (!empty(raw->path)) {
      r->path = dup_nonempty(raw->path, &oom);
    } else if (!empty(raw->url)) {
      char* c = dbs_strbuf_path_clean(u.path);
      if (c == NULL) {
        rc = -ENOMEM;
        goto fail;
      }
      r->path = dup_nonempty(c[0] == '/' ? c + 1 : c, &oom);
      free(c);
    }
    if (oom) {
      rc = -ENOMEM;
      goto fail;
    }
  } else if (!strcmp(type, "sftp")) {
    r->kind = DBS_REPLICA_OTHER;
    if (!empty(raw->url) && !empty(raw->path)) {
      snprintf(msg, msglen, "cannot specify url & path for sftp replica");
      rc = -EINVAL;
      goto fail;
    }
    if (!empty(raw->url) && !empty(raw->host)) {
      snprintf(msg, msglen, "cannot specify url & host for sftp replica");
      rc = -EINVAL;
      goto fail;
    }
    const char* host = !empty(raw->host) ? raw->host : u.host;
    char* uuser = NULL;
    if (u.user != NULL)
      uuser = strndup(u.user, strcspn(u.user, ":"));
    const char* user = !empty(raw->user) ? raw->user : uuser;
    if (empty(host)) {
      snprintf(msg, msglen, "host required for sftp replica");
      rc = -EINVAL;
    } else if (empty(user)) {
      snprintf(msg, msglen, "user required for sftp replica");
      rc = -EINVAL;
    }
    free(uuser);
    if (rc == -EINVAL)
      goto fail;
    r->path = dup_nonempty(!empty(raw->path) ? raw->path : u.path, &oom);
    if (oom) {
      rc = -ENOMEM;
      goto fail;
    }
  } else if (rules != DBS_LS_RULES_V03 &&
             (!strcmp(type, "webdav") || !strcmp(type, "nats") ||
              !strcmp(type, "oss"))) {
    r->kind = DBS_REPLICA_OTHER; /* litestream 0.5 checks the rest */
  } else {
    snprintf(msg, msglen, "unknown replica type in config: \"%s\" (%s)", type,
             rules == DBS_LS_RULES_V03
                 ? "litestream 0.3 knows file, s3, gcs, abs and sftp"
             : rules == DBS_LS_RULES_V05
                 ? "litestream 0.5 knows file, s3, gs, abs, sftp, webdav, "
                   "nats and oss"
                 : "litestream knows file, s3, gcs or gs, abs, sftp, "
                   "webdav, nats and oss");
    rc = -EINVAL;
    goto fail;
  }
  register_secret(raw->access_key_id);
  register_secret(raw->secret_access_key);
  register_secret(raw->account_key);
  register_secret(raw->password);
  register_url_secret(raw->endpoint);
  r->has_age = raw->nage > 0;
  r->name = strdup(!empty(raw->name) ? raw->name : type);
  if (r->name == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  url_free(&u);
  return 0;
fail:
  url_free(&u);
  dbs_replica_config_free(r);
  return rc == 0 ? -EINVAL : rc;
}

int dbs_litestream_config_parse_url(const char* url,
                                    struct dbs_replica_config* r, char* err,
                                    size_t errlen) {
  struct raw_replica raw = {0};
  raw.force_path_style = -1;
  raw.skip_verify = -1;
  raw.url = (char*)url;
  char msg[512];
  memset(r, 0, sizeof(*r));
  if (empty(url)) {
    snprintf(err, errlen, "replica url required");
    return -EINVAL;
  }
  int rc = resolve_replica(&raw, false, DBS_LS_RULES_ANY, r, msg, sizeof(msg));
  if (rc == -EINVAL)
    snprintf(err, errlen, "%s", msg);
  else if (rc == -ENOMEM)
    snprintf(err, errlen, "out of memory");
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Loading.                                                               */

void dbs_litestream_config_free(struct dbs_litestream_config* cfg) {
  if (cfg == NULL)
    return;
  free(cfg->file);
  free(cfg->access_key_id);
  free(cfg->secret_access_key);
  free(cfg->exec);
  for (size_t i = 0; i < cfg->ndbs; i++) {
    struct dbs_db_config* d = &cfg->dbs[i];
    free(d->path);
    free(d->meta_path);
    for (size_t k = 0; k < d->nreplicas; k++)
      dbs_replica_config_free(&d->replicas[k]);
    free(d->replicas);
  }
  free(cfg->dbs);
  for (size_t i = 0; i < cfg->nwarnings; i++)
    free(cfg->warnings[i]);
  free(cfg->warnings);
  memset(cfg, 0, sizeof(*cfg));
}

/* Copies *dst from src when *dst is unset. Returns false on ENOMEM. */
static bool inherit_str(char** dst, const char* src) {
  if (!empty(*dst) || empty(src))
    return true;
  free(*dst);
  *dst = strdup(src);
  return *dst != NULL;
}

/* 0.5's ReplicaSettings.SetDefaults: r takes what it leaves unset from the
 * top level g. Returns false on ENOMEM. */
static bool inherit_settings(struct raw_replica* r,
                             const struct raw_replica* g) {
  bool ok = inherit_str(&r->access_key_id, g->access_key_id) &&
            inherit_str(&r->secret_access_key, g->secret_access_key) &&
            inherit_str(&r->region, g->region) &&
            inherit_str(&r->bucket, g->bucket) &&
            inherit_str(&r->endpoint, g->endpoint) &&
            inherit_str(&r->account_name, g->account_name) &&
            inherit_str(&r->account_key, g->account_key) &&
            inherit_str(&r->host, g->host) && inherit_str(&r->user, g->user) &&
            inherit_str(&r->password, g->password) &&
            inherit_str(&r->key_path, g->key_path);
  if (r->bucket_node == NULL)
    r->bucket_node = g->bucket_node;
  if (r->force_path_style < 0)
    r->force_path_style = g->force_path_style;
  if (g->skip_verify > 0)
    r->skip_verify = 1;
  if (r->sync_interval_node == NULL) {
    r->sync_interval_node = g->sync_interval_node;
    r->sync_interval_ns = g->sync_interval_ns;
  }
  if (r->nage == 0) {
    r->nage = g->nage;
    r->age_node = g->age_node;
  }
  return ok;
}

/*
 * The replica entries of rd by the rules: *list and *n (n may be 0).
 * Raises the errors of the rules about replica:/replicas:.
 */
static void db_replicas(struct ctx* c, struct raw_db* rd, size_t i,
                        struct raw_replica** list, size_t* n) {
  bool single = rd->replica_node != NULL;
  *list = single ? &rd->single : rd->replicas;
  *n = single ? 1 : rd->nreplicas;
  switch (c->rules) {
  case DBS_LS_RULES_V03:
    *list = rd->replicas;
    *n = rd->nreplicas;
    if (single)
      fail_at(c, rd->replica_node,
              "dbs[%zu]: 'replica:' is litestream 0.5 syntax, and the "
              "litestream that will run is 0.3, which ignores it: it would "
              "replicate nothing. Write 'replicas:' with a list ('- url: "
              "...'), or run litestream 0.5",
              i);
    break;
  case DBS_LS_RULES_V05:
    if (single && rd->nreplicas > 0)
      fail_at(c, rd->replicas_node,
              "dbs[%zu]: cannot specify 'replica' and 'replicas' on a "
              "database (keep 'replica:')",
              i);
    else if (rd->nreplicas > 1)
      fail_at(c, rd->replicas[1].node,
              "dbs[%zu]: multiple replicas on a single database are no "
              "longer supported (litestream 0.5 replicates to one replica: "
              "keep one, as 'replica:')",
              i);
    else if (*n == 0)
      fail_at(c, rd->node,
              "dbs[%zu]: must specify replica for database (litestream 0.5 "
              "refuses a database without 'replica:')",
              i);
    break;
  case DBS_LS_RULES_ANY:
    if (single && rd->nreplicas > 0)
      fail_at(c, rd->replicas_node,
              "dbs[%zu]: cannot specify 'replica' and 'replicas' on a "
              "database (keep one of them)",
              i);
    break;
  }
}

/* 0.5's per-database snapshot settings must agree across databases. */
static void check_db_snapshots(struct ctx* c, struct raw_cfg* raw) {
  const struct raw_snapshot *iv = NULL, *rt = NULL;
  for (size_t i = 0; i < raw->ndbs && c->rc == 0; i++) {
    const struct raw_snapshot* sn = raw->dbs[i].snapshot;
    if (sn == NULL)
      continue;
    char f[64];
    snprintf(f, sizeof(f), "dbs[%zu].snapshot", i);
    check_snapshot(c, sn, f);
    if (sn->interval_node != NULL) {
      if (iv != NULL && iv->interval_ns != sn->interval_ns &&
          raw->snapshot.interval_node == NULL)
        fail_at(c, sn->interval_node,
                "%s: conflicting database snapshot intervals (litestream 0.5 "
                "takes one snapshot interval for all databases)",
                f);
      iv = sn;
    }
    if (sn->retention_node != NULL) {
      if (rt != NULL && rt->retention_ns != sn->retention_ns &&
          raw->snapshot.retention_node == NULL)
        fail_at(c, sn->retention_node,
                "%s: conflicting database snapshot retentions (litestream 0.5 "
                "takes one snapshot retention for all databases)",
                f);
      rt = sn;
    }
  }
}

/* Builds the resolved config from the raw one. */
/* A duration in ns rounded up to whole ms, without overflowing near
 * INT64_MAX (a saturated duration such as 9223372036854775807 stays the
 * largest value instead of wrapping negative). */
static int64_t ns_to_ms_ceil(int64_t ns) {
  if (ns <= 0)
    return ns / 1000000;
  return ns / 1000000 + (ns % 1000000 != 0);
}

static void resolve_all(struct ctx* c, struct raw_cfg* raw,
                        struct dbs_litestream_config* out) {
  bool oom = false;
  bool v05 = c->rules == DBS_LS_RULES_V05;
  out->access_key_id = dup_nonempty(raw->access_key_id, &oom);
  out->secret_access_key = dup_nonempty(raw->secret_access_key, &oom);
  out->exec = dup_nonempty(raw->exec, &oom);
  register_secret(raw->access_key_id);
  register_secret(raw->secret_access_key);
  register_secret(raw->global.account_key);
  register_secret(raw->global.password);
  if (oom) {
    fail_oom(c);
    return;
  }
  out->shutdown_sync_timeout_ms =
      raw->shutdown_sync_timeout_set
          ? ns_to_ms_ceil(raw->shutdown_sync_timeout_ns)
          : -1;
  if (v05)
    check_db_snapshots(c, raw);
  out->dbs = calloc(raw->ndbs ? raw->ndbs : 1, sizeof(*out->dbs));
  if (out->dbs == NULL) {
    fail_oom(c);
    return;
  }
  for (size_t i = 0; i < raw->ndbs && c->rc == 0; i++) {
    struct raw_db* rd = &raw->dbs[i];
    struct dbs_db_config* d = &out->dbs[out->ndbs++];
    struct raw_replica* list;
    size_t nlist;
    if (rd->dir != NULL) {
      fail_at(c, rd->node,
              "dbs[%zu]: 'dir:' (directory replication) is not something "
              "dbsetup sets up: it restores and replicates one database; "
              "write that database as 'path:'",
              i);
      return;
    }
    if (v05 && empty(rd->path)) {
      fail_at(c, rd->node,
              "database config #%zu: must specify either 'path' or 'dir'",
              i + 1);
      return;
    }
    d->monitor_interval_ms =
        rd->monitor_interval_set ? ns_to_ms_ceil(rd->monitor_interval_ns) : -1;
    db_replicas(c, rd, i, &list, &nlist);
    if (c->rc != 0)
      return;
    char msg[512];
    int rc = path_expand(rd->path, &d->path, msg, sizeof(msg));
    if (rc == -ENOMEM) {
      fail_oom(c);
      return;
    } else if (rc != 0) {
      fail_at(c, rd->path_node ? rd->path_node : rd->node, "dbs[%zu].path: %s",
              i, msg);
      return;
    }
    for (size_t j = 0; v05 && j < i; j++) {
      if (strcmp(out->dbs[j].path, d->path) == 0) {
        fail_at(c, rd->path_node ? rd->path_node : rd->node,
                "database config #%zu: duplicate path \"%s\" (already used "
                "by database config #%zu); each database can be listed only "
                "once",
                i + 1, rd->path, j + 1);
        return;
      }
    }
    if (!empty(rd->meta_path)) {
      d->meta_path = strdup(rd->meta_path);
    } else {
      const char* slash = strrchr(d->path, '/');
      size_t dn = (size_t)(slash - d->path) + 1;
      size_t n = strlen(d->path) + 16;
      d->meta_path = malloc(n);
      if (d->meta_path != NULL)
        snprintf(d->meta_path, n, "%.*s.%s-litestream", (int)dn, d->path,
                 slash + 1);
    }
    if (d->meta_path == NULL) {
      fail_oom(c);
      return;
    }
    d->replicas = calloc(nlist ? nlist : 1, sizeof(*d->replicas));
    if (d->replicas == NULL) {
      fail_oom(c);
      return;
    }
    for (size_t k = 0; k < nlist; k++) {
      struct raw_replica* rr = &list[k];
      char where[64];
      if (rd->replica_node != NULL)
        snprintf(where, sizeof(where), "dbs[%zu].replica", i);
      else
        snprintf(where, sizeof(where), "dbs[%zu].replicas[%zu]", i, k);
      /* propagateGlobalSettings: 0.3 has only the credentials. */
      if (empty(rr->access_key_id) && !empty(raw->access_key_id) &&
          (rr->access_key_id = strdup(raw->access_key_id)) == NULL)
        oom = true;
      if (empty(rr->secret_access_key) && !empty(raw->secret_access_key) &&
          (rr->secret_access_key = strdup(raw->secret_access_key)) == NULL)
        oom = true;
      if (c->rules != DBS_LS_RULES_V03 && !inherit_settings(rr, &raw->global))
        oom = true;
      if (oom) {
        fail_oom(c);
        return;
      }
      if (v05 && rr->nage > 0) {
        fail_at(c, rr->age_node ? rr->age_node : rr->node,
                "%s: age encryption is not currently supported, if you need "
                "encryption please revert back to Litestream v0.3.x",
                where);
        return;
      }
      if (v05 && rr->sync_interval_node != NULL && rr->sync_interval_ns <= 0) {
        fail_at(c, rr->sync_interval_node,
                "%s.sync-interval: sync interval must be greater than 0",
                where);
        return;
      }
      /* An empty bucket is "from the environment" when the line of its
       * bucket: or url: held a $ before expansion. */
      bool from_env = false;
      if (c->expanded) {
        yaml_node_t* bn[2] = {rr->url_node, rr->bucket_node};
        for (size_t j = 0; j < 2; j++)
          if (bn[j] != NULL &&
              src_line_has_dollar(c, src_line(c, bn[j]->start_mark.line)))
            from_env = true;
      }
      rc = resolve_replica(rr, from_env, c->rules, &d->replicas[k], msg,
                           sizeof(msg));
      if (rc == -ENOMEM) {
        fail_oom(c);
        return;
      } else if (rc != 0) {
        fail_at(c, rr->node, "%s: %s", where, msg);
        return;
      }
      d->nreplicas++;
      for (size_t j = 0; j < k; j++) {
        if (strcmp(d->replicas[j].name, d->replicas[k].name) == 0) {
          fail_at(c, rr->node,
                  "%s: duplicate replica name: \"%s\" "
                  "(give each replica its own name:)",
                  where, d->replicas[k].name);
          return;
        }
      }
    }
  }
}

static int parse_named(const char* file, const char* text, size_t len,
                       bool expand_env, enum dbs_ls_rules rules,
                       struct dbs_litestream_config* out, char* err,
                       size_t errlen) {
  char* x = NULL;
  size_t xlen = len;
  unsigned* linemap = NULL;
  size_t nlines = 0;
  yaml_parser_t parser;
  yaml_document_t doc;
  bool have_parser = false, have_doc = false;
  struct raw_cfg raw = {0};
  struct ctx c = {.file = file,
                  .rules = rules,
                  .src = text,
                  .srclen = len,
                  .expanded = expand_env,
                  .err = err,
                  .errlen = errlen};
  char* keep_file = out->file;
  memset(out, 0, sizeof(*out));
  out->file = keep_file;
  if (errlen > 0)
    err[0] = '\0';

  if (expand_env) {
    x = expand(text, len, &xlen, &linemap, &nlines);
    if (x == NULL) {
      fail_oom(&c);
      goto done;
    }
  } else {
    x = malloc(len + 1);
    if (x == NULL) {
      fail_oom(&c);
      goto done;
    }
    memcpy(x, text, len);
    x[len] = '\0';
  }
  c.linemap = linemap;
  c.nlines = nlines;

  if (!yaml_parser_initialize(&parser)) {
    fail_oom(&c);
    goto done;
  }
  have_parser = true;
  yaml_parser_set_input_string(&parser, (const unsigned char*)x, xlen);
  if (!yaml_parser_load(&parser, &doc)) {
    c.rc = -EINVAL;
    yaml_mark_t m = parser.problem_mark;
    char extra[256] = "";
    if (parser.context != NULL)
      snprintf(extra, sizeof(extra), " (%s at line %u)", parser.context,
               src_line(&c, parser.context_mark.line) + 1);
    snprintf(err, errlen, "%s:%u:%zu: %s%s", file, src_line(&c, m.line) + 1,
             m.column + 1, parser.problem ? parser.problem : "invalid YAML",
             extra);
    goto done;
  }
  have_doc = true;
  c.doc = &doc;
  yaml_node_t* root = yaml_document_get_root_node(&doc);
  raw.global.force_path_style = -1;
  raw.global.skip_verify = -1;
  if (root != NULL)
    walk_map(&c, root, "litestream.yml", top_field, &raw);
  if (c.rc == 0)
    resolve_all(&c, &raw, out);
  out->rules = rules;
  out->warnings = c.warnings;
  out->nwarnings = c.nwarnings;

done:
  if (have_doc)
    yaml_document_delete(&doc);
  if (have_parser)
    yaml_parser_delete(&parser);
  raw_cfg_free(&raw);
  free(linemap);
  free(x);
  if (c.rc != 0) {
    keep_file = out->file;
    out->file = NULL;
    dbs_litestream_config_free(out);
    out->file = keep_file;
  }
  return c.rc;
}

int dbs_litestream_config_parse_rules(const char* text, size_t len,
                                      bool expand_env, enum dbs_ls_rules rules,
                                      struct dbs_litestream_config* out,
                                      char* err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  return parse_named("litestream.yml", text, len, expand_env, rules, out, err,
                     errlen);
}

int dbs_litestream_config_parse(const char* text, size_t len, bool expand_env,
                                struct dbs_litestream_config* out, char* err,
                                size_t errlen) {
  return dbs_litestream_config_parse_rules(text, len, expand_env,
                                           DBS_LS_RULES_V03, out, err, errlen);
}

int dbs_litestream_config_load(const char* path, bool expand_env,
                               struct dbs_litestream_config* out, char* err,
                               size_t errlen) {
  return dbs_litestream_config_load_rules(path, expand_env, DBS_LS_RULES_ANY,
                                          out, err, errlen);
}

int dbs_litestream_config_load_rules(const char* path, bool expand_env,
                                     enum dbs_ls_rules rules,
                                     struct dbs_litestream_config* out,
                                     char* err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  char* abs = NULL;
  int rc = path_expand(path, &abs, err, errlen);
  if (rc != 0)
    return rc;
  FILE* f = fopen(abs, "rb");
  if (f == NULL) {
    rc = -errno;
    if (rc == -ENOENT)
      snprintf(err, errlen, "config file not found: %s", abs);
    else
      snprintf(err, errlen, "cannot read %s: %s", abs, strerror(-rc));
    free(abs);
    return rc;
  }
  struct dbs_strbuf b = {0};
  char chunk[8192];
  size_t n;
  dbs_strbuf_add(&b, "", 0);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    dbs_strbuf_add(&b, chunk, n);
  int rerr = ferror(f);
  fclose(f);
  if (b.oom) {
    free(b.p);
    free(abs);
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (rerr) {
    free(b.p);
    snprintf(err, errlen, "cannot read %s", abs);
    free(abs);
    return -EIO;
  }
  out->file = abs;
  rc = parse_named(abs, b.p, b.len, expand_env, rules, out, err, errlen);
  free(b.p);
  if (rc != 0) { /* nothing of a failed load is left for the caller */
    free(out->file);
    out->file = NULL;
  }
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Matching and the environment.                                          */

/*
 * How a path is compared: litestream's form first (filepath.Abs: the
 * working directory joined, cleaned lexically, so "link/../db" is "db"
 * whatever link points at), then dbs_path_canonical of that, so that
 * symlinks to the same file match too. *lexical and *canon are malloc'd;
 * *canon is NULL when the path cannot be resolved (a file in the way,
 * no permission): then only the lexical form is compared.
 */
static int match_forms(const char* p, char** lexical, char** canon) {
  *canon = NULL;
  if ((*lexical = dbs_path_go_abs(p)) == NULL)
    return -ENOMEM;
  *canon = dbs_path_canonical(*lexical);
  return 0;
}

const struct dbs_db_config*
dbs_litestream_config_find_db(const struct dbs_litestream_config* cfg,
                              const char* db_path) {
  if (cfg == NULL || db_path == NULL)
    return NULL;
  char *want, *want_canon;
  if (match_forms(db_path, &want, &want_canon) != 0)
    return NULL;
  const struct dbs_db_config* found = NULL;
  for (size_t i = 0; i < cfg->ndbs && found == NULL; i++) {
    char *have, *have_canon;
    if (match_forms(cfg->dbs[i].path, &have, &have_canon) != 0)
      break;
    if (strcmp(have, want) == 0 || (have_canon != NULL && want_canon != NULL &&
                                    strcmp(have_canon, want_canon) == 0))
      found = &cfg->dbs[i];
    free(have);
    free(have_canon);
  }
  free(want);
  free(want_canon);
  return found;
}

/* os.LookupEnv: NULL when unset (set-but-empty is "") */
static const char* lookup(const char* name) {
  return getenv(name);
}

int dbs_litestream_config_apply_env(struct dbs_replica_config* r) {
  if (r == NULL || r->kind != DBS_REPLICA_S3)
    return 0;
  bool oom = false;
  if (empty(r->access_key_id) && empty(r->secret_access_key)) {
    /* applyLitestreamEnv, then aws-sdk-go's EnvProvider. */
    const char* id = lookup("AWS_ACCESS_KEY_ID");
    if (id == NULL)
      id = lookup("LITESTREAM_ACCESS_KEY_ID");
    if (empty(id))
      id = lookup("AWS_ACCESS_KEY");
    const char* secret = lookup("AWS_SECRET_ACCESS_KEY");
    if (secret == NULL)
      secret = lookup("LITESTREAM_SECRET_ACCESS_KEY");
    if (empty(secret))
      secret = lookup("AWS_SECRET_KEY");
    if (!empty(id) && !empty(secret)) {
      free(r->access_key_id);
      free(r->secret_access_key);
      free(r->session_token);
      r->access_key_id = dup_nonempty(id, &oom);
      r->secret_access_key = dup_nonempty(secret, &oom);
      r->session_token = dup_nonempty(lookup("AWS_SESSION_TOKEN"), &oom);
    }
  }
  register_secret(r->access_key_id);
  register_secret(r->secret_access_key);
  register_secret(r->session_token);
  if (empty(r->endpoint) && !empty(lookup("AWS_ENDPOINT_URL_S3"))) {
    free(r->endpoint);
    r->endpoint = endpoint_with_scheme(lookup("AWS_ENDPOINT_URL_S3"));
    if (r->endpoint == NULL)
      oom = true;
    r->endpoint_from_env = true;
    register_url_secret(r->endpoint);
    if (!r->force_path_style_explicit)
      r->force_path_style = true;
  }
  if (empty(r->region)) {
    free(r->region);
    r->region = NULL;
    if (!empty(lookup("AWS_REGION")))
      r->region = dup_nonempty(lookup("AWS_REGION"), &oom);
    else if (!empty(r->endpoint))
      r->region = dup_nonempty("us-east-1", &oom);
  }
  return oom ? -ENOMEM : 0;
}
