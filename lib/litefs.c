/*
 * LiteFS detection (see litefs.h): mountinfo, litefs.yml, GET /info.
 */
#define _GNU_SOURCE
#include "litefs.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "log.h"
#include "path.h"
#include "proc.h"
#include "strbuf.h"

/* ---- mountinfo -------------------------------------------------------- */

/* Copies a mountinfo field, turning \NNN octal escapes back into bytes. */
static char* unescape(const char* s, size_t n) {
  char* out = malloc(n + 1);
  size_t j = 0;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
        s[i + 3] <= '7') {
      out[j++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
                        (s[i + 3] - '0'));
      i += 3;
    } else {
      out[j++] = s[i];
    }
  }
  out[j] = '\0';
  return out;
}

/* Splits a line into at most max space-separated fields. */
static size_t split_fields(const char* line, const char** f, size_t* len,
                           size_t max) {
  size_t n = 0;
  const char* p = line;
  while (n < max) {
    while (*p == ' ')
      p++;
    if (*p == '\0' || *p == '\n')
      break;
    f[n] = p;
    while (*p != ' ' && *p != '\0' && *p != '\n')
      p++;
    len[n] = (size_t)(p - f[n]);
    n++;
  }
  return n;
}

static bool field_is(const char* f, size_t len, const char* s) {
  return strlen(s) == len && memcmp(f, s, len) == 0;
}

/* True when the comma-separated options hold opt as a whole word. */
static bool has_option(const char* f, size_t len, const char* opt) {
  size_t ol = strlen(opt);
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && f[j] != ',')
      j++;
    if (j - i == ol && memcmp(f + i, opt, ol) == 0)
      return true;
    i = j + 1;
  }
  return false;
}

int dbs_litefs_mountinfo_line(const char* line, char** dir, bool* allow_other) {
  const char* f[64];
  size_t len[64];
  size_t n = split_fields(line, f, len, 64), sep;

  *dir = NULL;
  *allow_other = false;
  /* id parent maj:min root mountpoint options [optional...] - type src
   * superoptions */
  for (sep = 6; sep < n && !field_is(f[sep], len[sep], "-"); sep++)
    ;
  if (n < 6 || sep + 4 > n) /* type, source and super options follow */
    return -EINVAL;
  const char *type = f[sep + 1], *src = f[sep + 2];
  size_t tl = len[sep + 1], sl = len[sep + 2];
  bool litefs = (field_is(type, tl, "fuse") && field_is(src, sl, "litefs")) ||
                field_is(type, tl, "fuse.litefs");
  if (!litefs)
    return 0;
  if ((*dir = unescape(f[4], len[4])) == NULL)
    return -ENOMEM;
  *allow_other = has_option(f[sep + 3], len[sep + 3], "allow_other");
  return 1;
}

void dbs_litefs_mounts_free(struct dbs_litefs_mount* v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i].dir);
  free(v);
}

int dbs_litefs_mounts(const char* path, struct dbs_litefs_mount** out,
                      size_t* n) {
  FILE* fp = fopen(path != NULL ? path : "/proc/self/mountinfo", "re");
  char* line = NULL;
  size_t cap = 0, count = 0;
  struct dbs_litefs_mount* v = NULL;
  int rc = 0;

  *out = NULL;
  *n = 0;
  if (fp == NULL)
    return -errno;
  while (getline(&line, &cap, fp) > 0) {
    char* dir;
    bool ao;
    int r = dbs_litefs_mountinfo_line(line, &dir, &ao);
    if (r == -ENOMEM) {
      rc = r;
      break;
    }
    if (r != 1)
      continue;
    struct dbs_litefs_mount* nv = realloc(v, (count + 1) * sizeof(*v));
    if (nv == NULL) {
      free(dir);
      rc = -ENOMEM;
      break;
    }
    v = nv;
    v[count].dir = dir;
    v[count].allow_other = ao;
    count++;
  }
  free(line);
  fclose(fp);
  if (rc != 0) {
    dbs_litefs_mounts_free(v, count);
    return rc;
  }
  *out = v;
  *n = count;
  return 0;
}

/* ---- litefs.yml expansion (Go's os.Expand + LiteFS's comparisons) ---- */

static bool is_word(char c) {
  return c == '_' || isalnum((unsigned char)c);
}

static bool is_special(char c) {
  return strchr("*#$@!?-", c) != NULL || (c >= '0' && c <= '9');
}

static const char* env_or_empty(const char* name) {
  const char* v = getenv(name);
  return v != NULL ? v : "";
}

/*
 * LiteFS's mapping of one name: trimmed, then `A == 'x'`, `A == "x"` or
 * `A == B` (and !=) compare, else the variable's value.
 */
static void map_name(struct dbs_strbuf* out, const char* name, size_t n) {
  char* v = strndup(name, n);
  if (v == NULL) {
    out->oom = true;
    return;
  }
  char *s = v, *e = v + strlen(v);
  while (*s != '\0' && isspace((unsigned char)*s))
    s++;
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = '\0';
  /* (\w+)\s*(==|!=)\s*(rest) */
  char* p = s;
  while (is_word(*p))
    p++;
  if (p > s) {
    char* q = p;
    while (isspace((unsigned char)*q))
      q++;
    if ((q[0] == '=' || q[0] == '!') && q[1] == '=') {
      bool eq = q[0] == '=';
      char* r = q + 2;
      while (isspace((unsigned char)*r))
        r++;
      size_t rl = strlen(r);
      const char* rhs = NULL;
      bool ok = false;
      if (rl >= 2 && (r[0] == '\'' || r[0] == '"') && r[rl - 1] == r[0]) {
        r[rl - 1] = '\0';
        rhs = r + 1;
        ok = true;
      } else if (rl > 0) {
        char* w = r;
        while (is_word(*w))
          w++;
        if (*w == '\0') {
          rhs = env_or_empty(r);
          ok = true;
        }
      }
      if (ok) {
        *p = '\0';
        bool same = strcmp(env_or_empty(s), rhs) == 0;
        dbs_strbuf_adds(out, same == eq ? "true" : "false");
        free(v);
        return;
      }
    }
  }
  dbs_strbuf_adds(out, env_or_empty(s));
  free(v);
}

char* dbs_litefs_expand_env(const char* s) {
  struct dbs_strbuf out = {0};
  size_t i = 0, n = strlen(s);

  while (i < n) {
    if (s[i] != '$' || i + 1 >= n) {
      dbs_strbuf_add(&out, s + i, 1);
      i++;
      continue;
    }
    const char* r = s + i + 1; /* what follows the '$' */
    size_t rest = n - i - 1, w;
    if (r[0] == '{') {
      if (rest > 2 && is_special(r[1]) && r[2] == '}') {
        map_name(&out, r + 1, 1);
        w = 3;
      } else {
        size_t j = 1;
        while (j < rest && r[j] != '}')
          j++;
        if (j >= rest)
          w = 1; /* "${" unclosed: eaten */
        else if (j == 1)
          w = 2; /* "${}": eaten */
        else {
          map_name(&out, r + 1, j - 1);
          w = j + 1;
        }
      }
    } else if (is_special(r[0])) {
      map_name(&out, r, 1);
      w = 1;
    } else {
      w = 0;
      while (w < rest && is_word(r[w]))
        w++;
      if (w == 0)
        dbs_strbuf_add(&out, "$", 1); /* "$" before no name stays */
      else
        map_name(&out, r, w);
    }
    i += 1 + w;
  }
  return dbs_strbuf_take(&out);
}

/* ---- litefs.yml ------------------------------------------------------- */

static yaml_node_t* map_get(yaml_document_t* d, yaml_node_t* m,
                            const char* key) {
  if (m == NULL || m->type != YAML_MAPPING_NODE)
    return NULL;
  for (yaml_node_pair_t* p = m->data.mapping.pairs.start;
       p < m->data.mapping.pairs.top; p++) {
    yaml_node_t* k = yaml_document_get_node(d, p->key);
    if (k != NULL && k->type == YAML_SCALAR_NODE &&
        strcmp((const char*)k->data.scalar.value, key) == 0)
      return yaml_document_get_node(d, p->value);
  }
  return NULL;
}

static int get_str(yaml_node_t* v, const char* what, char** dst, char* err,
                   size_t errlen, const char* path) {
  if (v == NULL)
    return 0;
  if (v->type != YAML_SCALAR_NODE) {
    snprintf(err, errlen, "%s: %s is not a string", path, what);
    return -EINVAL;
  }
  char* s = strdup((const char*)v->data.scalar.value);
  if (s == NULL)
    return -ENOMEM;
  free(*dst);
  *dst = s;
  return 0;
}

/* yaml.v3's booleans (YAML 1.2 words, and 1.1's yes/on/no/off into a
 * bool field). */
static int get_bool(yaml_node_t* v, const char* what, bool* dst, char* err,
                    size_t errlen, const char* path) {
  static const char* const yes[] = {"true", "True", "TRUE", "y",  "Y",  "yes",
                                    "Yes",  "YES",  "on",   "On", "ON", NULL};
  static const char* const no[] = {"false", "False", "FALSE", "n",
                                   "N",     "no",    "No",    "NO",
                                   "off",   "Off",   "OFF",   NULL};
  if (v == NULL)
    return 0;
  if (v->type == YAML_SCALAR_NODE) {
    const char* s = (const char*)v->data.scalar.value;
    for (int i = 0; yes[i] != NULL; i++)
      if (strcmp(s, yes[i]) == 0) {
        *dst = true;
        return 0;
      }
    for (int i = 0; no[i] != NULL; i++)
      if (strcmp(s, no[i]) == 0) {
        *dst = false;
        return 0;
      }
  }
  snprintf(err, errlen, "%s: %s is not true or false", path, what);
  return -EINVAL;
}

static int parse_config(const char* text, struct dbs_litefs_config* c,
                        char* err, size_t errlen) {
  yaml_parser_t parser;
  yaml_document_t doc;
  int rc = 0;

  if (!yaml_parser_initialize(&parser))
    return -ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char*)text,
                               strlen(text));
  if (!yaml_parser_load(&parser, &doc)) {
    snprintf(err, errlen, "%s: not YAML: %s (line %zu)", c->path,
             parser.problem != NULL ? parser.problem : "parse error",
             parser.problem_mark.line + 1);
    yaml_parser_delete(&parser);
    return -EINVAL;
  }
  yaml_node_t* root = yaml_document_get_root_node(&doc);
  if (root != NULL && root->type != YAML_MAPPING_NODE) {
    snprintf(err, errlen, "%s: not a YAML mapping", c->path);
    rc = -EINVAL;
  }
  if (root != NULL && rc == 0) {
    yaml_node_t* fuse = map_get(&doc, root, "fuse");
    yaml_node_t* data = map_get(&doc, root, "data");
    yaml_node_t* http = map_get(&doc, root, "http");
    yaml_node_t* lease = map_get(&doc, root, "lease");
    const char* p = c->path;
    if (rc == 0)
      rc = get_str(map_get(&doc, fuse, "dir"), "fuse.dir", &c->fuse_dir, err,
                   errlen, p);
    if (rc == 0)
      rc = get_bool(map_get(&doc, fuse, "allow-other"), "fuse.allow-other",
                    &c->allow_other, err, errlen, p);
    if (rc == 0)
      rc = get_str(map_get(&doc, data, "dir"), "data.dir", &c->data_dir, err,
                   errlen, p);
    if (rc == 0)
      rc = get_str(map_get(&doc, http, "addr"), "http.addr", &c->http_addr, err,
                   errlen, p);
    if (rc == 0)
      rc = get_str(map_get(&doc, lease, "type"), "lease.type", &c->lease_type,
                   err, errlen, p);
    if (rc == 0)
      rc = get_bool(map_get(&doc, lease, "candidate"), "lease.candidate",
                    &c->candidate, err, errlen, p);
    if (rc == 0)
      rc = get_bool(map_get(&doc, root, "skip-sync"), "skip-sync",
                    &c->skip_sync, err, errlen, p);
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return rc;
}

void dbs_litefs_config_free(struct dbs_litefs_config* c) {
  free(c->path);
  free(c->fuse_dir);
  free(c->data_dir);
  free(c->http_addr);
  free(c->lease_type);
  memset(c, 0, sizeof(*c));
}

/* Reads a whole file; NULL with errno set on failure. */
static char* read_file(const char* path) {
  FILE* fp = fopen(path, "re");
  struct dbs_strbuf b = {0};
  char buf[4096];
  size_t n;

  if (fp == NULL)
    return NULL;

  while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
    dbs_strbuf_add(&b, buf, n);
  int bad = ferror(fp);
  fclose(fp);
  char* text = dbs_strbuf_take(&b);
  if (bad || text == NULL) {
    free(text);
    errno = bad ? EIO : ENOMEM;
    return NULL;
  }
  return text;
}

int dbs_litefs_config_load(const char* explicit_path,
                           struct dbs_litefs_config* c, char* err,
                           size_t errlen) {
  char home[4096] = "", cwd[4096];
  const char* cands[3];
  size_t nc = 0;
  char* text = NULL;

  memset(c, 0, sizeof(*c));
  err[0] = '\0';
  if (explicit_path != NULL) {
    cands[nc++] = explicit_path;
  } else {
    cands[nc++] = "litefs.yml";
    /* Go's user.Current(): the passwd entry of our uid. */
    struct passwd* pw = getpwuid(getuid());
    if (pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] != '\0') {
      snprintf(home, sizeof(home), "%s/litefs.yml", pw->pw_dir);
      cands[nc++] = home;
    }
    cands[nc++] = "/etc/litefs.yml";
  }
  for (size_t i = 0; i < nc && text == NULL; i++) {
    text = read_file(cands[i]);
    if (text == NULL && errno != ENOENT) {
      int e = errno;
      snprintf(err, errlen, "cannot read %s: %s", cands[i], strerror(e));
      return -e;
    }
    if (text != NULL) {
      if (cands[i][0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
        if (asprintf(&c->path, "%s/%s", cwd, cands[i]) < 0)
          c->path = NULL;
      } else {
        c->path = strdup(cands[i]);
      }
    }
  }
  if (text == NULL) {
    snprintf(err, errlen, "no litefs.yml (%s)",
             explicit_path != NULL ? explicit_path
                                   : "./litefs.yml, ~/litefs.yml, "
                                     "/etc/litefs.yml");
    return -ENOENT;
  }
  char* expanded = dbs_litefs_expand_env(text);
  free(text);
  c->fuse_dir = strdup("/litefs");
  c->data_dir = strdup("/var/lib/litefs");
  c->http_addr = strdup(":20202");
  c->lease_type = strdup("");
  c->candidate = true;
  if (expanded == NULL || c->path == NULL || c->fuse_dir == NULL ||
      c->data_dir == NULL || c->http_addr == NULL || c->lease_type == NULL) {
    free(expanded);
    dbs_litefs_config_free(c);
    return -ENOMEM;
  }
  int rc = parse_config(expanded, c, err, errlen);
  free(expanded);
  if (rc != 0)
    dbs_litefs_config_free(c);
  return rc;
}

/* ---- /info ------------------------------------------------------------ */

struct json {
  const char *p, *end;
};

static void skip_ws(struct json* j) {
  while (j->p < j->end &&
         (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

/* Reads a string (escapes kept as-is, \" skipped) into buf. */
static int json_string(struct json* j, char* buf, size_t n) {
  size_t k = 0;
  if (j->p >= j->end || *j->p != '"')
    return -EINVAL;
  j->p++;
  while (j->p < j->end && *j->p != '"') {
    char ch = *j->p++;
    if (ch == '\\') {
      if (j->p >= j->end)
        return -EINVAL;
      ch = *j->p++;
    }
    if (buf != NULL && k + 1 < n)
      buf[k++] = ch;
  }
  if (j->p >= j->end)
    return -EINVAL;
  j->p++;
  if (buf != NULL && n > 0)
    buf[k] = '\0';
  return 0;
}

/* Skips any value (depth-bounded). */
static int json_skip(struct json* j, int depth) {
  skip_ws(j);
  if (j->p >= j->end || depth > 32)
    return -EINVAL;
  char c = *j->p;
  if (c == '"')
    return json_string(j, NULL, 0);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
      j->p++;
      return 0;
    }
    for (;;) {
      if (c == '{') {
        skip_ws(j);
        if (json_string(j, NULL, 0) != 0)
          return -EINVAL;
        skip_ws(j);
        if (j->p >= j->end || *j->p++ != ':')
          return -EINVAL;
      }
      if (json_skip(j, depth + 1) != 0)
        return -EINVAL;
      skip_ws(j);
      if (j->p < j->end && *j->p == ',') {
        j->p++;
        continue;
      }
      if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
      }
      return -EINVAL;
    }
  }
  const char* s = j->p;
  while (j->p < j->end && (isalnum((unsigned char)*j->p) || *j->p == '-' ||
                           *j->p == '+' || *j->p == '.'))
    j->p++;
  return j->p > s ? 0 : -EINVAL;
}

static int json_bool(struct json* j, bool* out) {
  skip_ws(j);
  if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
    j->p += 4;
    *out = true;
    return 0;
  }
  if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
    j->p += 5;
    *out = false;
    return 0;
  }
  return -EINVAL;
}

/* Walks an object; at depth 0 picks isPrimary, candidate, primary{}. */
static int json_object(struct json* j, struct dbs_litefs_info* out, bool top,
                       bool* seen_primary) {
  char key[64];
  skip_ws(j);
  if (j->p >= j->end || *j->p++ != '{')
    return -EINVAL;
  skip_ws(j);
  if (j->p < j->end && *j->p == '}') {
    j->p++;
    return 0;
  }
  for (;;) {
    skip_ws(j);
    if (json_string(j, key, sizeof(key)) != 0)
      return -EINVAL;
    skip_ws(j);
    if (j->p >= j->end || *j->p++ != ':')
      return -EINVAL;
    skip_ws(j);
    int rc;
    if (top && strcmp(key, "isPrimary") == 0) {
      rc = json_bool(j, &out->is_primary);
      *seen_primary = rc == 0;
    } else if (top && strcmp(key, "candidate") == 0) {
      rc = json_bool(j, &out->candidate);
    } else if (top && strcmp(key, "primary") == 0 && j->p < j->end &&
               *j->p == '{') {
      rc = json_object(j, out, false, seen_primary);
    } else if (!top && strcmp(key, "hostname") == 0 && j->p < j->end &&
               *j->p == '"') {
      rc = json_string(j, out->primary_hostname, sizeof(out->primary_hostname));
    } else {
      rc = json_skip(j, 1);
    }
    if (rc != 0)
      return -EINVAL;
    skip_ws(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == '}') {
      j->p++;
      return 0;
    }
    return -EINVAL;
  }
}

int dbs_litefs_parse_info(const char* json, size_t len,
                          struct dbs_litefs_info* out) {
  struct json j = {json, json + len};
  bool seen = false;
  memset(out, 0, sizeof(*out));
  if (json_object(&j, out, true, &seen) != 0)
    return -EINVAL;
  skip_ws(&j);
  if (j.p != j.end || !seen)
    return -EINVAL;
  return 0;
}

int dbs_litefs_api_addr(const char* http_addr, char* buf, size_t n) {
  const char* colon = strrchr(http_addr, ':');
  char host[256];
  if (colon == NULL || colon[1] == '\0')
    return -EINVAL;
  const char* port = colon + 1;
  for (const char* p = port; *p != '\0'; p++)
    if (!isdigit((unsigned char)*p))
      return -EINVAL;
  long pn = strtol(port, NULL, 10);
  if (pn <= 0 || pn > 65535)
    return -EINVAL;
  size_t hl = (size_t)(colon - http_addr);
  if (hl >= sizeof(host))
    return -EINVAL;
  memcpy(host, http_addr, hl);
  host[hl] = '\0';
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    host[hl - 1] = '\0';
    memmove(host, host + 1, hl - 1);
  }
  struct in_addr a4;
  struct in6_addr a6;
  if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
      strcmp(host, "::") == 0 || strcmp(host, "localhost") == 0)
    snprintf(buf, n, "127.0.0.1:%ld", pn);
  else if (inet_pton(AF_INET, host, &a4) == 1)
    snprintf(buf, n, "%s:%ld", host, pn);
  else if (inet_pton(AF_INET6, host, &a6) == 1)
    snprintf(buf, n, "[%s]:%ld", host, pn);
  else
    return -EINVAL;
  return 0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until deadline; 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0)
      return -ETIMEDOUT;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, (int)left);
    if (r > 0)
      return 0;
    if (r < 0 && errno != EINTR)
      return -errno;
  }
}

/* Connects to api_addr ("HOST:PORT", IPv6 in brackets) without blocking
 * past deadline. Returns the socket, or -errno with err set. */
static int api_connect(const char* api_addr, int64_t deadline, char* err,
                       size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t sl;
  char host[128];
  const char* colon = strrchr(api_addr, ':');
  int fd, rc;

  memset(&ss, 0, sizeof(ss));
  if (colon == NULL || (size_t)(colon - api_addr) >= sizeof(host)) {
    snprintf(err, errlen, "bad LiteFS API address %s", api_addr);
    return -EINVAL;
  }
  memcpy(host, api_addr, (size_t)(colon - api_addr));
  host[colon - api_addr] = '\0';
  int port = atoi(colon + 1);
  if (host[0] == '[') {
    struct sockaddr_in6* a = (struct sockaddr_in6*)&ss;
    host[strlen(host) - 1] = '\0';
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    rc = inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -EINVAL;
    sl = sizeof(*a);
  } else {
    struct sockaddr_in* a = (struct sockaddr_in*)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    rc = inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
    sl = sizeof(*a);
  }
  if (rc != 0) {
    snprintf(err, errlen, "bad LiteFS API address %s", api_addr);
    return rc;
  }
  fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    rc = -errno;
    snprintf(err, errlen, "socket: %s", strerror(-rc));
    return rc;
  }
  if (connect(fd, (struct sockaddr*)&ss, sl) != 0) {
    if (errno != EINPROGRESS) {
      rc = -errno;
      goto fail;
    }
    if ((rc = wait_fd(fd, POLLOUT, deadline)) != 0)
      goto fail;
    int soerr = 0;
    socklen_t el = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
    if (soerr != 0) {
      rc = -soerr;
      goto fail;
    }
  }
  return fd;
fail:
  close(fd);
  return rc;
}

/* Sends len bytes of buf before deadline. Returns 0 or -errno. */
static int send_all(int fd, const char* buf, size_t len, int64_t deadline) {
  for (size_t off = 0; off < len;) {
    ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      int rc = wait_fd(fd, POLLOUT, deadline);
      if (rc != 0)
        return rc;
      continue;
    }
    if (w < 0)
      return -errno;
    off += (size_t)w;
  }
  return 0;
}

/* Reads the response into *resp before deadline, at most 64 KiB: with
 * head, until the end of its headers ("\r\n\r\n") is in; else the whole
 * of it (Connection: close). Returns 0, -EPROTO (too large), -ECONNRESET
 * (closed before anything, or before the headers' end) or -errno. */
static int recv_resp(int fd, struct dbs_strbuf* resp, bool head,
                     int64_t deadline) {
  while (!head || resp->p == NULL || strstr(resp->p, "\r\n\r\n") == NULL) {
    char buf[4096];
    ssize_t r = recv(fd, buf, head ? 512 : sizeof(buf), 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      int rc = wait_fd(fd, POLLIN, deadline);
      if (rc != 0)
        return rc;
      continue;
    }
    if (r < 0)
      return -errno;
    if (r == 0 && head)
      return -ECONNRESET;
    if (r == 0)
      break;
    if (resp->len + (size_t)r > 65536)
      return -EPROTO;
    dbs_strbuf_add(resp, buf, (size_t)r);
    if (resp->oom)
      return -ENOMEM;
  }
  return resp->p == NULL ? -ECONNRESET : 0;
}

/* The status of an HTTP/1.x response and its body (after the headers;
 * NULL when the framing is not LiteFS's plain one). */
static int http_status(const char* resp, const char** body) {
  int status = 0;
  *body = NULL;
  if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
    return 0;
  const char* hdr_end = strstr(resp, "\r\n\r\n");
  if (hdr_end != NULL && strcasestr(resp, "transfer-encoding: chunked") == NULL)
    *body = hdr_end + 4;
  return status;
}

int dbs_litefs_get_info(const char* api_addr, unsigned timeout_ms,
                        struct dbs_litefs_info* out, char* err, size_t errlen) {
  int64_t deadline = now_ms() + timeout_ms;
  struct dbs_strbuf resp = {0};
  int fd, rc;
  char req[256];

  if ((fd = api_connect(api_addr, deadline, err, errlen)) < 0) {
    if (fd == -EINVAL)
      return fd;
    rc = fd;
    fd = -1;
    goto fail;
  }
  int rl = snprintf(req, sizeof(req),
                    "GET /info HTTP/1.1\r\nHost: %s\r\nAccept: "
                    "application/json\r\nConnection: close\r\n\r\n",
                    api_addr);
  if ((rc = send_all(fd, req, (size_t)rl, deadline)) != 0 ||
      (rc = recv_resp(fd, &resp, false, deadline)) != 0) {
    if (rc == -EPROTO) {
      snprintf(err, errlen, "GET http://%s/info: response too large", api_addr);
      goto out;
    }
    goto fail;
  }
  const char* js;
  int status = http_status(resp.p, &js);
  if (status != 200) {
    rc = -EPROTO;
    snprintf(err, errlen, "GET http://%s/info: %s %d", api_addr,
             status ? "HTTP status" : "not an HTTP response", status);
    goto out;
  }
  if (js == NULL) { /* LiteFS sends a plain body */
    rc = -EPROTO;
    snprintf(err, errlen, "GET http://%s/info: unexpected response framing",
             api_addr);
    goto out;
  }
  if (dbs_litefs_parse_info(js, strlen(js), out) != 0) {
    rc = -EPROTO;
    snprintf(err, errlen,
             "GET http://%s/info: not LiteFS's /info JSON (no isPrimary)",
             api_addr);
    goto out;
  }
  rc = 0;
  goto out;
fail:
  snprintf(err, errlen, "GET http://%s/info: %s", api_addr,
           rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
out:
  free(resp.p);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* Percent-encodes s for a URL query value into buf. */
static void url_escape(const char* s, char* buf, size_t n) {
  size_t k = 0;
  for (; *s != '\0' && k + 4 < n; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      buf[k++] = (char)c;
    else
      k += (size_t)snprintf(buf + k, n - k, "%%%02X", c);
  }
  buf[k] = '\0';
}

int dbs_litefs_import(const char* api_addr, const char* name, int src_fd,
                      unsigned idle_ms, char* err, size_t errlen) {
  struct dbs_strbuf resp = {0};
  struct stat st;
  char req[1024], qname[800];
  int fd = -1, rc;

  if (fstat(src_fd, &st) != 0) {
    rc = -errno;
    snprintf(err, errlen, "cannot stat the file to import: %s", strerror(-rc));
    return rc;
  }
  if ((fd = api_connect(api_addr, now_ms() + idle_ms, err, errlen)) < 0) {
    if (fd == -EINVAL)
      return fd;
    rc = fd;
    fd = -1;
    goto fail;
  }
  url_escape(name, qname, sizeof(qname));
  int rl = snprintf(req, sizeof(req),
                    "POST /import?name=%s HTTP/1.1\r\nHost: %s\r\n"
                    "Content-Type: application/octet-stream\r\n"
                    "Content-Length: %lld\r\nExpect: 100-continue\r\n"
                    "Connection: close\r\n\r\n",
                    qname, api_addr, (long long)st.st_size);
  if ((rc = send_all(fd, req, (size_t)rl, now_ms() + idle_ms)) != 0)
    goto fail;
  /* The body only after "100 Continue": a replica answers 503 at once,
   * and closes the connection on a body it does not read. */
  if ((rc = recv_resp(fd, &resp, true, now_ms() + idle_ms)) != 0)
    goto fail;
  const char* body;
  if (http_status(resp.p, &body) != 100) {
    if ((rc = recv_resp(fd, &resp, false, now_ms() + idle_ms)) != 0 &&
        rc != -EPROTO)
      goto fail;
    goto answer;
  }
  resp.len = 0;
  resp.p[0] = '\0';
  /* Streamed: one buffer at a time, each within idle_ms. */
  char* buf = malloc(1 << 16);
  if (buf == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  off_t sent = 0;
  while (sent < st.st_size) {
    ssize_t r = pread(src_fd, buf, 1 << 16, sent);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      rc = r < 0 ? -errno : -EIO; /* shrank under us */
      free(buf);
      snprintf(err, errlen, "POST http://%s/import: reading the file: %s",
               api_addr, r < 0 ? strerror(-rc) : "it shrank");
      goto out;
    }
    if ((rc = send_all(fd, buf, (size_t)r, now_ms() + idle_ms)) != 0) {
      free(buf);
      goto fail;
    }
    sent += r;
  }
  free(buf);
  if ((rc = recv_resp(fd, &resp, false, now_ms() + idle_ms)) != 0) {
    if (rc == -EPROTO) {
      snprintf(err, errlen, "POST http://%s/import: response too large",
               api_addr);
      goto out;
    }
    goto fail;
  }
answer:;
  int status = http_status(resp.p, &body);
  if (status == 200) {
    rc = 0;
    goto out;
  }
  /* LiteFS answers 503 when this node is (no longer) the primary. */
  rc = status == 503 ? -EAGAIN : -EPROTO;
  char msg[512] = "";
  if (body != NULL) {
    snprintf(msg, sizeof(msg), "%s", body);
    msg[strcspn(msg, "\r\n")] = '\0';
  }
  snprintf(err, errlen, "POST http://%s/import?name=%s: HTTP status %d%s%s",
           api_addr, qname, status, msg[0] ? ": " : "", msg);
  goto out;
fail:
  snprintf(err, errlen, "POST http://%s/import: %s", api_addr,
           rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
out:
  free(resp.p);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* ---- exit contract ---------------------------------------------------- */

static bool comm_is_litefs(pid_t pid) {
  char path[64], comm[32];
  snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
  FILE* fp = fopen(path, "re");
  if (fp == NULL)
    return false;
  bool yes =
      fgets(comm, sizeof(comm), fp) != NULL && strcmp(comm, "litefs\n") == 0;
  fclose(fp);
  return yes;
}

bool dbs_litefs_parent_is_litefs(void) {
  return comm_is_litefs(getppid());
}

bool dbs_litefs_in_charge(void) {
  return comm_is_litefs(getppid()) || comm_is_litefs(1);
}

void dbs_litefs_exit_on_stop(int sig, int status) {
  char name[16];
  if (sig != SIGTERM && sig != SIGINT)
    return;
  dbs_log_info("LiteFS forwarded %s: ending by that signal (not status %d) "
               "so that litefs unmounts and exits 0",
               dbs_proc_signal_name(sig, name), status);
  fflush(NULL);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  raise(sig); /* pending while blocked: delivered on the unblock */
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  /* Not reached; should the signal not kill us, 0 closes litefs too. */
  _exit(0);
}

/* ---- refusals before any change --------------------------------------- */

static bool comm_is_litefs(pid_t pid);

const char* dbs_litefs_parent_config(char* buf, size_t n) {
  char path[64], args[8192];
  pid_t pid = comm_is_litefs(getppid()) ? getppid() : 1;
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
  FILE* fp = fopen(path, "re");
  if (fp == NULL)
    return NULL;
  size_t len = fread(args, 1, sizeof(args) - 1, fp);
  fclose(fp);
  args[len] = '\0';
  const char* found = NULL;
  for (size_t i = 0; i < len; i += strlen(args + i) + 1) {
    const char* a = args + i;
    if (strcmp(a, "--") == 0)
      break;
    if (strcmp(a, "-config") == 0 || strcmp(a, "--config") == 0) {
      size_t next = i + strlen(a) + 1;
      if (next < len)
        found = args + next;
      break;
    }
    if (strncmp(a, "-config=", 8) == 0 || strncmp(a, "--config=", 9) == 0) {
      found = strchr(a, '=') + 1;
      break;
    }
  }
  if (found == NULL || found[0] == '\0')
    return NULL;
  snprintf(buf, n, "%s", found);
  return buf;
}

bool dbs_litefs_under(const char* path, const char* dir) {
  char* p = dbs_strbuf_path_clean(path);
  char* d = dbs_strbuf_path_clean(dir);
  bool yes = p != NULL && d != NULL && dbs_path_is_within(p, d);
  free(p);
  free(d);
  return yes;
}

static bool same_path(const char* a, const char* b) {
  return dbs_litefs_under(a, b) && dbs_litefs_under(b, a);
}

int dbs_litefs_check_name(const char* name, char* err, size_t errlen) {
  static const char* const sfx[] = {"-journal", "-wal", "-shm", "-pos",
                                    "-lock"};
  size_t n = strlen(name);
  if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
      strchr(name, '/') != NULL) {
    snprintf(err, errlen, "'%s' is not a file name", name);
    return -EINVAL;
  }
  if (strcmp(name, ".primary") == 0 || strcmp(name, ".lag") == 0) {
    snprintf(err, errlen,
             "the database name %s is one LiteFS reserves for a file of its "
             "own in the mount",
             name);
    return -EINVAL;
  }
  for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
    size_t sl = strlen(sfx[i]);
    if (n >= sl && strcmp(name + n - sl, sfx[i]) == 0) {
      snprintf(err, errlen,
               "the database name %s ends in %s: LiteFS takes such a name "
               "for the %s file of the database %.*s, not for a database",
               name, sfx[i], sfx[i] + 1, (int)(n - sl), name);
      return -EINVAL;
    }
  }
  if (n > 200) {
    snprintf(err, errlen, "the database name %.40s... is too long", name);
    return -EINVAL;
  }
  return 0;
}

/* True when one of the mounts holds path. */
static bool in_a_mount(const char* path, const struct dbs_litefs_mount* mounts,
                       size_t nmounts) {
  for (size_t i = 0; i < nmounts; i++)
    if (dbs_litefs_under(path, mounts[i].dir))
      return true;
  return false;
}

const char* dbs_litefs_serving(const char* db_path, bool litefs_in_charge,
                               const struct dbs_litefs_mount* mounts,
                               size_t nmounts,
                               const struct dbs_litefs_config* cfg) {
  if (nmounts == 0 ||
      !(litefs_in_charge || in_a_mount(db_path, mounts, nmounts)))
    return NULL;
  /* litefs.yml's fuse.dir, else the mount holding the database, else the
   * only mount. */
  for (size_t i = 0; cfg != NULL && i < nmounts; i++)
    if (same_path(mounts[i].dir, cfg->fuse_dir))
      return mounts[i].dir;
  for (size_t i = 0; i < nmounts; i++)
    if (dbs_litefs_under(db_path, mounts[i].dir))
      return mounts[i].dir;
  return nmounts == 1 ? mounts[0].dir : NULL;
}

/* The volume (dbsetup's lock, its temporary files) must be outside every
 * mount, fuse.dir and <data.dir>/dbs. Returns 0 or 78. */
static int refuse_volume(const char* volume,
                         const struct dbs_litefs_mount* mounts, size_t nmounts,
                         const struct dbs_litefs_config* cfg, char* err,
                         size_t errlen) {
  for (size_t i = 0; i <= nmounts; i++) {
    const char* dir = i < nmounts   ? mounts[i].dir
                      : cfg != NULL ? cfg->fuse_dir
                                    : NULL;
    if (dir != NULL && dbs_litefs_under(volume, dir)) {
      snprintf(err, errlen,
               "the volume %s is inside the LiteFS mount %s: every file "
               "dbsetup made there (its lock, a restore's temporary file) "
               "would become a LiteFS database; set --volume to the "
               "persistent volume that holds LiteFS's data.dir",
               volume, dir);
      return 78;
    }
  }
  if (cfg == NULL)
    return 0;
  char* dbs = NULL;
  bool in = asprintf(&dbs, "%s/dbs", cfg->data_dir) >= 0 &&
            dbs_litefs_under(volume, dbs);
  free(dbs);
  if (!in)
    return 0;
  snprintf(err, errlen,
           "the volume %s is inside %s/dbs (%s): LiteFS takes every entry "
           "there for a database, so dbsetup's lock and temporary files "
           "would break its next start; set --volume to the persistent "
           "volume that holds data.dir, e.g. %s",
           volume, cfg->data_dir, cfg->path, cfg->data_dir);
  return 78;
}

/* The database served by the mount dir: at its top (LiteFS is flat),
 * under a name LiteFS takes for a database. Returns 0 or 78. */
static int refuse_served(const char* db_path, const char* name, const char* dir,
                         char* err, size_t errlen) {
  char e[512];
  if (dbs_litefs_under(db_path, dir)) {
    char* d = dbs_strbuf_path_clean(db_path);
    char* m = dbs_strbuf_path_clean(dir);
    bool flat = d != NULL && m != NULL && strrchr(d, '/') != NULL &&
                (size_t)(strrchr(d, '/') - d) == strlen(m);
    free(d);
    free(m);
    if (!flat) {
      snprintf(err, errlen,
               "the database %s is in a subdirectory of the LiteFS mount "
               "%s, but LiteFS keeps databases only at the top of its mount "
               "(it has no directories): use %s/%s",
               db_path, dir, dir, name);
      return 78;
    }
  }
  if (dbs_litefs_check_name(name, e, sizeof(e)) != 0) {
    snprintf(err, errlen,
             "%s: LiteFS cannot serve the database %s under that name; "
             "rename it (DATABASE_URL / --db), e.g. to app.db",
             e, db_path);
    return 78;
  }
  return 0;
}

int dbs_litefs_refuse_setup(const char* db_path, const char* volume,
                            bool litefs_in_charge,
                            const struct dbs_litefs_mount* mounts,
                            size_t nmounts, const struct dbs_litefs_config* cfg,
                            char* err, size_t errlen) {
  const char* name = strrchr(db_path, '/');
  name = name != NULL ? name + 1 : db_path;
  if (cfg != NULL && dbs_litefs_under(db_path, cfg->data_dir)) {
    snprintf(err, errlen,
             "the database %s is inside LiteFS's data.dir %s (%s): those "
             "are LiteFS's own files, and writing them outside LiteFS "
             "breaks its replication; the app must open the database in "
             "the LiteFS mount, %s/%s",
             db_path, cfg->data_dir, cfg->path, cfg->fuse_dir, name);
    return 78;
  }
  int rc = refuse_volume(volume, mounts, nmounts, cfg, err, errlen);
  if (rc != 0)
    return rc;
  bool in_mount = in_a_mount(db_path, mounts, nmounts);
  const char* dir =
      dbs_litefs_serving(db_path, litefs_in_charge, mounts, nmounts, cfg);
  if (dir == NULL && nmounts > 0 && (litefs_in_charge || in_mount)) {
    snprintf(err, errlen,
             "LiteFS has %zu mounts and litefs.yml (%s) names none of them "
             "as its fuse.dir: dbsetup cannot tell which one holds the "
             "database %s (start dbsetup from the litefs.yml of its mount)",
             nmounts, cfg != NULL ? cfg->path : "not found", db_path);
    return 78;
  }
  if (dir != NULL)
    return refuse_served(db_path, name, dir, err, errlen);
  if (!in_mount && cfg != NULL && dbs_litefs_under(db_path, cfg->fuse_dir)) {
    snprintf(err, errlen,
             "the database %s is in LiteFS's fuse.dir %s (%s), but LiteFS "
             "is not mounted there: dbsetup is running before LiteFS, whose "
             "mount would hide what dbsetup made there. Start `litefs "
             "mount` first and dbsetup from litefs.yml's exec:",
             db_path, cfg->fuse_dir, cfg->path);
    return 78;
  }
  return 0;
}
