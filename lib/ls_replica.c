/*
 * One replica of litestream.yml resolved as litestream builds it
 * (NewReplicaFromConfig, ParseReplicaURL, s3.ParseHost): one function per
 * replica type, behind a table of the types each litestream knows.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gocompat.h"
#include "litestream_config_internal.h"
#include "path.h"
#include "strbuf.h"

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

/* ---------------------------------------------------------------------- */
/* Endpoints, hosts and key prefixes.                                     */

/* aws-sdk-go's AddScheme: https:// unless a scheme is there. Returns a
 * string the caller frees; NULL for an empty e, or on ENOMEM. */
static char* endpoint_with_scheme(const char* e) {
  if (dbs_ls_empty(e))
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

/* Cleans an s3 key prefix as path.Join would use it; NULL for the root. */
static int clean_prefix(const char* p, char** out) {
  *out = NULL;
  if (dbs_ls_empty(p))
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

/* strings.TrimPrefix(path.Clean(u.Path), "/"), the key prefix of a bucket
 * URL (possibly "" or "."). Returns a string the caller frees, or NULL on
 * ENOMEM. */
static char* url_key_prefix(const struct dbs_go_url* u) {
  char* c = dbs_strbuf_path_clean(u->path);
  if (c == NULL)
    return NULL;
  char* p = strdup(c[0] == '/' ? c + 1 : c);
  free(c);
  return p;
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

/* What s3.ParseHost and an s3 URL's query give. All owned. */
struct s3_url {
  char *bucket, *region, *endpoint;
  char* path;        /* url_key_prefix */
  bool path_style;   /* a provider host, or the query, forces path style */
  int skip_verify;   /* -1: the query does not say */
  bool style_in_url; /* the query sets forcePathStyle */
};

static void s3_url_free(struct s3_url* s) {
  free(s->bucket);
  free(s->region);
  free(s->endpoint);
  free(s->path);
}

static char* sub(const char* s, const regmatch_t* m) {
  if (m->rm_so < 0)
    return strdup("");
  return strndup(s + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
}

/* The bucket, region and endpoint of host (port: its port or NULL), which
 * matched provider p with groups m. Returns 0 or -ENOMEM. */
static int provider_host(const struct provider* p, const char* host,
                         const regmatch_t* m, const char* port,
                         struct s3_url* s) {
  char* b = sub(host, &m[2]);
  char* r = p->fixed_region   ? strdup(p->fixed_region)
            : m[3].rm_so >= 0 ? sub(host, &m[3])
                              : strdup("");
  if (b == NULL || r == NULL) {
    free(b);
    free(r);
    return -ENOMEM;
  }
  char ep[512];
  int len = snprintf(ep, sizeof(ep), "%s://", p->http ? "http" : "https");
  len += snprintf(ep + len, sizeof(ep) - (size_t)len, p->endpoint_fmt, r);
  if (!dbs_ls_empty(port))
    snprintf(ep + len, sizeof(ep) - (size_t)len, ":%s", port);
  bool oom = false;
  s->bucket = dbs_ls_dup_nonempty(b, &oom);
  s->region = dbs_ls_dup_nonempty(r, &oom);
  s->endpoint = dbs_ls_dup_nonempty(ep, &oom);
  free(b);
  free(r);
  s->path_style = true;
  return oom ? -ENOMEM : 0;
}

/* s3.ParseHost: fills s's bucket, region, endpoint (all may end up NULL)
 * and path_style. Returns 0 or -ENOMEM. */
static int parse_host(const char* hostport, struct s3_url* s) {
  char *host = NULL, *port = NULL;
  /* On a failed net.SplitHostPort the whole string is the host. */
  int rc = dbs_go_split_host_port(hostport, &host, &port);
  if (rc == -EINVAL)
    rc = (host = strdup(hostport ? hostport : "")) != NULL ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < sizeof(providers) / sizeof(providers[0]);
       i++) {
    regex_t re;
    regmatch_t m[4];
    if (regcomp(&re, providers[i].re, REG_EXTENDED) != 0) {
      rc = -ENOMEM;
      break;
    }
    int nomatch = regexec(&re, host, 4, m, 0);
    regfree(&re);
    if (nomatch)
      continue;
    rc = provider_host(&providers[i], host, m, port, s);
    free(host);
    free(port);
    return rc;
  }
  /* Anything else: the host (without port) is the bucket, on AWS. */
  bool oom = false;
  if (rc == 0)
    s->bucket = dbs_ls_dup_nonempty(host, &oom);
  free(host);
  free(port);
  return rc ? rc : oom ? -ENOMEM : 0;
}

/* litestream 0.5's BoolQueryValue: -1 absent, else 1 for true/1/t/yes
 * (any case), 0 for anything else. */
static int query_bool(const char* q, const char* k1, const char* k2,
                      bool* oom) {
  char* v = dbs_go_query_get(q, k1, oom);
  if (v == NULL && k2 != NULL)
    v = dbs_go_query_get(q, k2, oom);
  if (v == NULL)
    return -1;
  int r = !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "t") ||
          !strcasecmp(v, "yes");
  free(v);
  return r;
}

/* litestream 0.5's s3 URL query options (endpoint, region,
 * forcePathStyle, skipVerify) over what the host gave. */
static void s3_url_query(const char* q, struct s3_url* s, bool* oom) {
  char* qe = dbs_go_query_get(q, "endpoint", oom);
  if (qe != NULL) {
    free(s->endpoint);
    s->endpoint = endpoint_scheme_v05(qe);
    if (s->endpoint == NULL)
      *oom = true;
    char* fps = dbs_go_query_get(q, "forcePathStyle", oom);
    if (fps == NULL || strcmp(fps, "false") != 0)
      s->path_style = true;
    free(fps);
    free(qe);
  }
  char* qr = dbs_go_query_get(q, "region", oom);
  if (qr != NULL) {
    free(s->region);
    s->region = qr;
  }
  int b = query_bool(q, "forcePathStyle", "force-path-style", oom);
  if (b >= 0) {
    s->path_style = b;
    s->style_in_url = true;
  }
  char* sv = dbs_go_query_get(q, "skipVerify", oom);
  if (sv != NULL)
    s->skip_verify = !strcmp(sv, "true");
  free(sv);
}

/* What an s3 url: says: key prefix, host (s3.ParseHost) and, under 0.5's
 * rules, the query. Returns 0 or -ENOMEM. */
static int s3_url_parse(const struct dbs_go_url* u, enum dbs_ls_rules rules,
                        struct s3_url* s) {
  bool oom = false;
  s->skip_verify = -1;
  if ((s->path = url_key_prefix(u)) == NULL || parse_host(u->host, s) != 0)
    return -ENOMEM;
  /* 0.3 ignores the query. */
  if (rules != DBS_LS_RULES_V03 && u->query != NULL)
    s3_url_query(u->query, s, &oom);
  return oom ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------- */
/* One function per replica type.                                         */

/* What a type's resolver works from. */
struct replica_in {
  const struct dbs_ls_raw_replica* raw;
  const struct dbs_go_url* u; /* the parsed url:, all NULL without one */
  const char* type;
  enum dbs_ls_rules rules;
  bool bucket_from_env;
  char* msg;
  size_t msglen;
};

/* A type's rules past the url exclusivity check: fills r (type, url and
 * kind are set). Returns 0, -EINVAL with a message or -ENOMEM. */
typedef int (*resolve_fn)(const struct replica_in* in,
                          struct dbs_replica_config* r);

/* A file url: as ParseReplicaURL gives it: u.String() without the
 * scheme, then path.Clean. Returns a string the caller frees, or NULL on
 * ENOMEM. */
static char* file_url_path(const struct dbs_go_url* u) {
  struct dbs_strbuf b = {0};
  dbs_strbuf_add(&b, "", 0);
  if (u->opaque != NULL) {
    dbs_strbuf_adds(&b, u->opaque);
  } else {
    if (!dbs_ls_empty(u->host) || u->user != NULL) {
      dbs_strbuf_adds(&b, "//");
      if (u->user != NULL) {
        dbs_strbuf_adds(&b, u->user);
        dbs_strbuf_adds(&b, "@");
      }
      dbs_strbuf_adds(&b, u->host ? u->host : "");
    }
    char* ep = dbs_go_url_escaped_path(u);
    if (ep == NULL) {
      free(b.p);
      return NULL;
    }
    if (*ep != '\0' && *ep != '/' && b.len > 0)
      dbs_strbuf_adds(&b, "/");
    dbs_strbuf_adds(&b, ep);
    free(ep);
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  char* p = dbs_strbuf_path_clean(b.p);
  free(b.p);
  return p;
}

/* file: the directory, from url: or path:, made absolute. */
static int resolve_file(const struct replica_in* in,
                        struct dbs_replica_config* r) {
  bool oom = false;
  char* p = !dbs_ls_empty(in->raw->url)
                ? file_url_path(in->u)
                : dbs_ls_dup_nonempty(in->raw->path, &oom);
  if (p == NULL && (oom || !dbs_ls_empty(in->raw->url)))
    return -ENOMEM;
  if (dbs_ls_empty(p)) {
    free(p);
    snprintf(in->msg, in->msglen, "file replica path required");
    return -EINVAL;
  }
  int rc = dbs_path_litestream_expand(p, &r->path, in->msg, in->msglen);
  free(p);
  return rc;
}

/* s3: bucket, prefix, endpoint, region and path style, each from the
 * config when written, else from the url. */
static int resolve_s3(const struct replica_in* in,
                      struct dbs_replica_config* r) {
  const struct dbs_ls_raw_replica* raw = in->raw;
  struct s3_url s = {.skip_verify = -1};
  bool oom = false;
  r->force_path_style = !dbs_ls_empty(raw->endpoint);
  if (raw->force_path_style >= 0) {
    r->force_path_style = raw->force_path_style;
    r->force_path_style_explicit = true;
  }
  int rc = 0;
  if (!dbs_ls_empty(raw->url)) {
    rc = s3_url_parse(in->u, in->rules, &s);
    if (s.style_in_url && raw->force_path_style < 0)
      r->force_path_style_explicit = true;
  }
  const char* path = !dbs_ls_empty(raw->path) ? raw->path : s.path;
  if (rc == 0)
    rc = clean_prefix(path, &r->path);
  r->bucket = dbs_ls_dup_nonempty(
      !dbs_ls_empty(raw->bucket) ? raw->bucket : s.bucket, &oom);
  r->region = dbs_ls_dup_nonempty(
      !dbs_ls_empty(raw->region) ? raw->region : s.region, &oom);
  const char* e = !dbs_ls_empty(raw->endpoint) ? raw->endpoint : s.endpoint;
  r->endpoint = endpoint_with_scheme(e);
  if (!dbs_ls_empty(e) && r->endpoint == NULL)
    oom = true;
  /* 0.3 lets the URL's path style override a written false; 0.5 only
   * fills in an unwritten one. */
  if (!r->force_path_style &&
      (in->rules == DBS_LS_RULES_V03 || raw->force_path_style < 0))
    r->force_path_style = s.path_style;
  r->skip_verify =
      s.skip_verify >= 0 ? s.skip_verify > 0 : raw->skip_verify > 0;
  s3_url_free(&s);
  r->access_key_id = dbs_ls_dup_nonempty(raw->access_key_id, &oom);
  r->secret_access_key = dbs_ls_dup_nonempty(raw->secret_access_key, &oom);
  if (rc != 0 || oom)
    return -ENOMEM;
  if (r->bucket == NULL) {
    if (!in->bucket_from_env) {
      snprintf(in->msg, in->msglen,
               "bucket required for s3 replica (set bucket: "
               "or url: s3://BUCKET/PATH)");
      return -EINVAL;
    }
    r->bucket_empty = true;
  }
  return 0;
}

/* gcs, gs and abs: a bucket (or container) and a path. */
static int resolve_bucket(const struct replica_in* in,
                          struct dbs_replica_config* r) {
  const struct dbs_ls_raw_replica* raw = in->raw;
  bool oom = false;
  const char* b = !dbs_ls_empty(raw->bucket) ? raw->bucket : in->u->host;
  if (dbs_ls_empty(b)) {
    snprintf(in->msg, in->msglen, "bucket required for %s replica", in->type);
    return -EINVAL;
  }
  r->bucket = dbs_ls_dup_nonempty(b, &oom);
  if (!dbs_ls_empty(raw->path)) {
    r->path = dbs_ls_dup_nonempty(raw->path, &oom);
  } else if (!dbs_ls_empty(raw->url)) {
    char* p = url_key_prefix(in->u);
    if (p == NULL)
      return -ENOMEM;
    r->path = dbs_ls_dup_nonempty(p, &oom);
    free(p);
  }
  return oom ? -ENOMEM : 0;
}

/* sftp: a host, a user and a path. */
static int resolve_sftp(const struct replica_in* in,
                        struct dbs_replica_config* r) {
  const struct dbs_ls_raw_replica* raw = in->raw;
  const struct dbs_go_url* u = in->u;
  bool oom = false;
  const char* host = !dbs_ls_empty(raw->host) ? raw->host : u->host;
  char* uuser = NULL;
  if (u->user != NULL &&
      (uuser = strndup(u->user, strcspn(u->user, ":"))) == NULL)
    return -ENOMEM;
  const char* user = !dbs_ls_empty(raw->user) ? raw->user : uuser;
  int rc = 0;
  if (dbs_ls_empty(host)) {
    snprintf(in->msg, in->msglen, "host required for sftp replica");
    rc = -EINVAL;
  } else if (dbs_ls_empty(user)) {
    snprintf(in->msg, in->msglen, "user required for sftp replica");
    rc = -EINVAL;
  }
  free(uuser);
  if (rc != 0)
    return rc;
  r->path =
      dbs_ls_dup_nonempty(!dbs_ls_empty(raw->path) ? raw->path : u->path, &oom);
  return oom ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------- */
/* The types, and the rules every type shares.                            */

#define RULE(r) (1u << (r))
#define V03 RULE(DBS_LS_RULES_V03)
#define V05 RULE(DBS_LS_RULES_V05)
#define ANY RULE(DBS_LS_RULES_ANY)
#define ALL (V03 | V05 | ANY)

/* A field that cannot be written together with url:. */
struct exclusive {
  const char* name;
  size_t off; /* of its char* in struct dbs_ls_raw_replica */
};
#define EX(f)                                                                  \
  { #f, offsetof(struct dbs_ls_raw_replica, f) }

/* What litestream does with a type's url: (ParseReplicaURL or not). */
enum url_rule {
  URL_IGNORED, /* not parsed here (litestream 0.5 checks it) */
  URL_PARSED,  /* parsed; its errors are the config's */
  URL_SCHEME,  /* parsed, and a url without a scheme is an error */
};

struct replica_type {
  const char* name;
  unsigned rules; /* RULE() of the rules whose litestream knows it */
  enum url_rule url;
  enum dbs_replica_type kind;
  struct exclusive exclusive[2]; /* in litestream's order of checks */
  resolve_fn resolve;            /* NULL: litestream 0.5 checks the rest */
};

/* clang-format off */
static const struct replica_type types[] = {
    /* name    rules    url:         kind               url: excludes           resolver */
    {"file",   ALL,     URL_SCHEME,  DBS_REPLICA_FILE,  {EX(path)},             resolve_file},
    {"s3",     ALL,     URL_SCHEME,  DBS_REPLICA_S3,    {EX(path), EX(bucket)}, resolve_s3},
    {"gcs",    V03|ANY, URL_SCHEME,  DBS_REPLICA_OTHER, {EX(path), EX(bucket)}, resolve_bucket},
    {"gs",     V05|ANY, URL_PARSED,  DBS_REPLICA_OTHER, {EX(path), EX(bucket)}, resolve_bucket},
    {"abs",    ALL,     URL_PARSED,  DBS_REPLICA_OTHER, {EX(path), EX(bucket)}, resolve_bucket},
    {"sftp",   ALL,     URL_PARSED,  DBS_REPLICA_OTHER, {EX(path), EX(host)},   resolve_sftp},
    {"webdav", V05|ANY, URL_IGNORED, DBS_REPLICA_OTHER, {{0}},                  NULL},
    {"nats",   V05|ANY, URL_IGNORED, DBS_REPLICA_OTHER, {{0}},                  NULL},
    {"oss",    V05|ANY, URL_IGNORED, DBS_REPLICA_OTHER, {{0}},                  NULL},
};
/* clang-format on */

static const struct replica_type* find_type(const char* name) {
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
    if (strcmp(types[i].name, name) == 0)
      return &types[i];
  return NULL;
}

/* litestream's isURL: ^\w+:// */
static bool is_url(const char* s) {
  if (s == NULL)
    return false;
  size_t i = 0;
  while (s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
         (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
    i++;
  return i > 0 && strncmp(s + i, "://", 3) == 0;
}

/* ParseReplicaURL's errors for the types that call it. url_ok: the url
 * parsed (else it is parsed again for the message). */
static int check_url(const struct replica_in* in, const struct replica_type* t,
                     bool url_ok) {
  const char* url = in->raw->url;
  if (t == NULL || t->url == URL_IGNORED || dbs_ls_empty(url))
    return 0;
  if (!url_ok) {
    struct dbs_go_url u;
    int rc = dbs_go_url_parse(url, &u, in->msg, in->msglen);
    dbs_go_url_free(&u);
    return rc ? rc : -EINVAL;
  }
  if (t->url == URL_SCHEME && in->u->scheme == NULL) {
    snprintf(in->msg, in->msglen, "replica url scheme required: %s", url);
    return -EINVAL;
  }
  return 0;
}

/* The one rule for every type: url: excludes the fields that would say
 * the same thing (path:, bucket:, host:). */
static int check_exclusive(const struct replica_in* in,
                           const struct replica_type* t) {
  if (dbs_ls_empty(in->raw->url))
    return 0;
  for (size_t i = 0; i < 2 && t->exclusive[i].name != NULL; i++) {
    const char* v = *(char* const*)((const char*)in->raw + t->exclusive[i].off);
    if (!dbs_ls_empty(v)) {
      snprintf(in->msg, in->msglen, "cannot specify url & %s for %s replica",
               t->exclusive[i].name, t->name);
      return -EINVAL;
    }
  }
  return 0;
}

static int unknown_type(const struct replica_in* in) {
  snprintf(in->msg, in->msglen, "unknown replica type in config: \"%s\" (%s)",
           in->type,
           in->rules == DBS_LS_RULES_V03
               ? "litestream 0.3 knows file, s3, gcs, abs and sftp"
           : in->rules == DBS_LS_RULES_V05
               ? "litestream 0.5 knows file, s3, gs, abs, sftp, webdav, "
                 "nats and oss"
               : "litestream knows file, s3, gcs or gs, abs, sftp, "
                 "webdav, nats and oss");
  return -EINVAL;
}

/* The type's rules, then what every type has: secrets, age, name. */
static int resolve_typed(const struct replica_in* in, bool url_ok,
                         struct dbs_replica_config* r) {
  const struct dbs_ls_raw_replica* raw = in->raw;
  const struct replica_type* t = find_type(in->type);
  int rc = check_url(in, t, url_ok);
  if (rc != 0)
    return rc;
  if (t == NULL || !(t->rules & RULE(in->rules)))
    return unknown_type(in);
  r->kind = t->kind;
  if ((rc = check_exclusive(in, t)) != 0 ||
      (t->resolve != NULL && (rc = t->resolve(in, r)) != 0))
    return rc;
  dbs_ls_register_secret(raw->access_key_id);
  dbs_ls_register_secret(raw->secret_access_key);
  dbs_ls_register_secret(raw->account_key);
  dbs_ls_register_secret(raw->password);
  dbs_ls_register_url_secret(raw->endpoint);
  r->has_age = raw->nage > 0;
  r->name = strdup(!dbs_ls_empty(raw->name) ? raw->name : in->type);
  return r->name ? 0 : -ENOMEM;
}

int dbs_ls_replica_resolve(const struct dbs_ls_raw_replica* raw,
                           bool bucket_from_env, enum dbs_ls_rules rules,
                           struct dbs_replica_config* r, char* msg,
                           size_t msglen) {
  struct dbs_go_url u = {0};
  bool oom = false, url_ok = false;
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
  if (!dbs_ls_empty(raw->url)) {
    char e[256];
    int rc = dbs_go_url_parse(raw->url, &u, e, sizeof(e));
    if (rc == -ENOMEM)
      return rc;
    url_ok = rc == 0;
    type = u.scheme;
  }
  if (type == NULL)
    type = !dbs_ls_empty(raw->type) ? raw->type : "file";
  r->type = strdup(type);
  r->url = dbs_ls_dup_nonempty(raw->url, &oom);
  int rc = -ENOMEM;
  if (r->type != NULL && !oom) {
    dbs_ls_register_url_secret(raw->url);
    struct replica_in in = {raw, &u, type, rules, bucket_from_env, msg, msglen};
    rc = resolve_typed(&in, url_ok, r);
  }
  dbs_go_url_free(&u);
  if (rc != 0)
    dbs_replica_config_free(r);
  return rc;
}

int dbs_litestream_config_parse_url(const char* url,
                                    struct dbs_replica_config* r, char* err,
                                    size_t errlen) {
  struct dbs_ls_raw_replica raw = {0};
  raw.force_path_style = -1;
  raw.skip_verify = -1;
  raw.url = (char*)url;
  char msg[512];
  memset(r, 0, sizeof(*r));
  if (dbs_ls_empty(url)) {
    snprintf(err, errlen, "replica url required");
    return -EINVAL;
  }
  int rc = dbs_ls_replica_resolve(&raw, false, DBS_LS_RULES_ANY, r, msg,
                                  sizeof(msg));
  if (rc == -EINVAL)
    snprintf(err, errlen, "%s", msg);
  else if (rc == -ENOMEM)
    snprintf(err, errlen, "out of memory");
  return rc;
}

/* ---------------------------------------------------------------------- */
/* The environment.                                                       */

/* os.LookupEnv: NULL when unset (set-but-empty is "") */
static const char* lookup(const char* name) {
  return getenv(name);
}

/* applyLitestreamEnv, then aws-sdk-go's EnvProvider, for a replica with
 * neither key in the config. */
static void env_credentials(struct dbs_replica_config* r, bool* oom) {
  const char* id = lookup("AWS_ACCESS_KEY_ID");
  if (id == NULL)
    id = lookup("LITESTREAM_ACCESS_KEY_ID");
  if (dbs_ls_empty(id))
    id = lookup("AWS_ACCESS_KEY");
  const char* secret = lookup("AWS_SECRET_ACCESS_KEY");
  if (secret == NULL)
    secret = lookup("LITESTREAM_SECRET_ACCESS_KEY");
  if (dbs_ls_empty(secret))
    secret = lookup("AWS_SECRET_KEY");
  if (dbs_ls_empty(id) || dbs_ls_empty(secret))
    return;
  free(r->access_key_id);
  free(r->secret_access_key);
  free(r->session_token);
  r->access_key_id = dbs_ls_dup_nonempty(id, oom);
  r->secret_access_key = dbs_ls_dup_nonempty(secret, oom);
  r->session_token = dbs_ls_dup_nonempty(lookup("AWS_SESSION_TOKEN"), oom);
}

int dbs_litestream_config_apply_env(struct dbs_replica_config* r) {
  if (r == NULL || r->kind != DBS_REPLICA_S3)
    return 0;
  bool oom = false;
  if (dbs_ls_empty(r->access_key_id) && dbs_ls_empty(r->secret_access_key))
    env_credentials(r, &oom);
  dbs_ls_register_secret(r->access_key_id);
  dbs_ls_register_secret(r->secret_access_key);
  dbs_ls_register_secret(r->session_token);
  if (dbs_ls_empty(r->endpoint) &&
      !dbs_ls_empty(lookup("AWS_ENDPOINT_URL_S3"))) {
    free(r->endpoint);
    r->endpoint = endpoint_with_scheme(lookup("AWS_ENDPOINT_URL_S3"));
    if (r->endpoint == NULL)
      oom = true;
    r->endpoint_from_env = true;
    dbs_ls_register_url_secret(r->endpoint);
    if (!r->force_path_style_explicit)
      r->force_path_style = true;
  }
  if (dbs_ls_empty(r->region)) {
    free(r->region);
    r->region = NULL;
    if (!dbs_ls_empty(lookup("AWS_REGION")))
      r->region = dbs_ls_dup_nonempty(lookup("AWS_REGION"), &oom);
    else if (!dbs_ls_empty(r->endpoint))
      r->region = dbs_ls_dup_nonempty("us-east-1", &oom);
  }
  return oom ? -ENOMEM : 0;
}
