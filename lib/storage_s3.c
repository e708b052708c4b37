/*
 * S3 storage backend: the storage interface (list, get) over signed
 * ListObjects and streaming GETs. Requests are built in s3_request.c, sent
 * and retried in s3_transfer.c, their XML read in s3_xml.c and their
 * failures named in s3_classify.c.
 */
#include "storage_s3.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "s3_internal.h"

#define DEFAULT_TIMEOUT_MS 120000u
#define DEFAULT_STALL_MS 30000u

/* ---------- messages ---------- */

void dbs_s3_fmt(char* buf, size_t n, const char* f, ...) {
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, n, f, ap);
  va_end(ap);
}

void dbs_s3_set_error(struct dbs_s3* s, const char* fmt, ...) {
  char msg[sizeof(s->base.error)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&s->lock);
  dbs_log_redact(msg, s->base.error, sizeof(s->base.error));
  pthread_mutex_unlock(&s->lock);
}

void dbs_s3_last_error(struct dbs_s3* s, char* buf) {
  pthread_mutex_lock(&s->lock);
  memcpy(buf, s->base.error, sizeof(s->base.error));
  pthread_mutex_unlock(&s->lock);
}

/* ---------- region lookup (AWS without a region) ---------- */

/* GetBucketLocation's answer as a region name. */
static const char* location_region(const char* loc) {
  if (loc[0] == '\0')
    return "us-east-1";
  if (strcmp(loc, "EU") == 0)
    return "eu-west-1";
  return loc;
}

/* Sets *region (malloc'd, the caller frees it) to the bucket's region,
 * asking S3 for it the first time when the config named none. */
static int ensure_region(struct dbs_s3* s, char** region) {
  pthread_mutex_lock(&s->lock);
  if (s->region) {
    *region = strdup(s->region);
    pthread_mutex_unlock(&s->lock);
    return *region ? 0 : -ENOMEM;
  }
  /* Not held during the lookup: two racing callers both look it up. */
  char *host = NULL, *path = NULL;
  struct dbs_s3_xml xml = {.kind = DBS_S3_XML_LOCATION};
  struct dbs_s3_xfer x = {
      .s = s, .mode = DBS_S3_BODY_XML, .xml = &xml, .total = -1};
  const struct dbs_sigv4_pair q[] = {{"location", ""}};
  int rc = dbs_s3_address(s, "us-east-1", NULL, &host, &path);
  if (rc)
    goto out;
  struct dbs_s3_request rq = {.op = "GetBucketLocation",
                              .query = q,
                              .nquery = 1,
                              .region = "us-east-1",
                              .host = host,
                              .path = path};
  pthread_mutex_unlock(&s->lock); /* set_error takes it */
  rc = dbs_s3_run(s, &rq, &x, dbs_s3_xml_begin, dbs_s3_xml_end);
  pthread_mutex_lock(&s->lock);
  if (rc == 0) {
    if (s->region == NULL)
      s->region = strdup(location_region(xml.location));
    if (s->region == NULL)
      rc = -ENOMEM;
    else
      dbs_log_debug("s3: bucket %s is in region %s", s->bucket, s->region);
  } else {
    char last[sizeof(s->base.error)];
    memcpy(last, s->base.error, sizeof(last));
    dbs_s3_fmt(s->base.error, sizeof(s->base.error),
               "cannot look up the bucket's region (set region: in "
               "litestream.yml or AWS_REGION): %s",
               last);
  }
out:
  *region = rc == 0 ? strdup(s->region) : NULL;
  if (rc == 0 && *region == NULL)
    rc = -ENOMEM;
  pthread_mutex_unlock(&s->lock);
  dbs_s3_xml_free(&xml);
  free(host);
  free(path);
  return rc;
}

/* ---------- list ---------- */

/* One listing (all pages below one prefix) under way. */
struct listing {
  struct dbs_s3* s;
  const char* prefix; /* "" for none */
  int delimiter;
  char *region, *host, *path;
  char* marker; /* where the next page starts; NULL: the first page */
  unsigned pages;
  int64_t start;
  size_t cap; /* of the output's entries */
  struct dbs_s3_xml xml;
  struct dbs_s3_xfer x;
};

/* Moves a page's entries (and their keys) to the end of out. */
static int append_entries(struct dbs_storage_list* out, size_t* cap,
                          struct dbs_s3_xml* xml) {
  if (xml->n == 0)
    return 0;
  if (out->n + xml->n > *cap) {
    size_t c = *cap ? *cap : 256;
    while (c < out->n + xml->n)
      c *= 2;
    void* p = realloc(out->entries, c * sizeof(*out->entries));
    if (p == NULL)
      return -ENOMEM;
    out->entries = p;
    *cap = c;
  }
  memcpy(out->entries + out->n, xml->entries, xml->n * sizeof(*xml->entries));
  out->n += xml->n;
  xml->n = 0; /* keys now owned by out */
  return 0;
}

/* Fetches the page after l->marker into l->xml. */
static int list_page(struct listing* l) {
  struct dbs_s3* s = l->s;
  char maxkeys[16];
  struct dbs_sigv4_pair q[4];
  size_t nq = 0;
  snprintf(maxkeys, sizeof(maxkeys), "%u", s->max_keys);
  q[nq++] = (struct dbs_sigv4_pair){"prefix", l->prefix};
  if (l->delimiter)
    q[nq++] = (struct dbs_sigv4_pair){"delimiter", "/"};
  if (l->marker)
    q[nq++] = (struct dbs_sigv4_pair){"marker", l->marker};
  if (s->max_keys)
    q[nq++] = (struct dbs_sigv4_pair){"max-keys", maxkeys};
  struct dbs_s3_request rq = {.op = "list",
                              .what = l->prefix,
                              .query = q,
                              .nquery = nq,
                              .region = l->region,
                              .host = l->host,
                              .path = l->path};
  l->xml.max_entries = s->list_max_keys;
  int rc = dbs_s3_run(s, &rq, &l->x, dbs_s3_xml_begin, dbs_s3_xml_end);
  if (rc == 0 && l->xml.too_many) {
    dbs_s3_set_error(s,
                     "list s3://%s/%s at %s: one page of the listing holds "
                     "more than %u keys (the key cap of one listing)",
                     s->bucket, l->prefix, s->where, s->list_max_keys);
    rc = DBS_STORAGE_EUNAVAILABLE;
  } else if (rc == 0 && l->xml.bad) {
    dbs_s3_set_error(s, "list s3://%s/%s at %s: malformed listing", s->bucket,
                     l->prefix, s->where);
    rc = DBS_STORAGE_ECORRUPT;
  }
  if (rc == 0)
    l->pages++;
  return rc;
}

/* The next page's marker: NextMarker, else the greatest name on this
 * page; NULL on an empty page without one. */
static const char* page_next_marker(const struct dbs_s3_xml* xml) {
  if (xml->next_marker && xml->next_marker[0])
    return xml->next_marker;
  const char* next = NULL;
  for (size_t i = 0; i < xml->n; i++)
    if (next == NULL || strcmp(xml->entries[i].key, next) > 0)
      next = xml->entries[i].key;
  return next;
}

/* After a truncated page: 0 when the listing may ask for the page at next
 * (NULL: none could be named), else why not. A listing is bounded: an
 * endpoint that always answers "truncated" with a new marker must not
 * grow it (and the restore) forever. */
static int list_may_go_on(const struct listing* l,
                          const struct dbs_storage_list* out,
                          const char* next) {
  struct dbs_s3* s = l->s;
  if (next == NULL || (l->marker && strcmp(next, l->marker) <= 0)) {
    dbs_s3_set_error(s,
                     "list s3://%s/%s at %s: the endpoint answers "
                     "\"truncated\" but its next marker does not advance "
                     "(page %u): it is not S3-compatible enough to list "
                     "this replica",
                     s->bucket, l->prefix, s->where, l->pages);
    return DBS_STORAGE_EUNAVAILABLE;
  }
  int64_t spent = dbs_s3_now_ms() - l->start;
  const char* stop = l->pages >= s->list_max_pages ? "page cap"
                     : out->n >= s->list_max_keys  ? "key cap"
                     : spent >= (int64_t)s->timeout_ms
                         ? "time budget (--restore-timeout)"
                         : NULL;
  if (stop == NULL)
    return 0;
  dbs_s3_set_error(s,
                   "list s3://%s/%s at %s: the endpoint still answers "
                   "\"truncated\" with a new marker after %u pages, %zu keys "
                   "and %.1f s; stopped at the %s of one listing (%u pages, "
                   "%u keys, %.0f s): an endpoint whose listing never ends, "
                   "or a replica far larger than litestream makes",
                   s->bucket, l->prefix, s->where, l->pages, out->n,
                   (double)spent / 1000.0, stop, s->list_max_pages,
                   s->list_max_keys, (double)s->timeout_ms / 1000.0);
  return DBS_STORAGE_EUNAVAILABLE;
}

/* Sorts out and drops repeated keys: providers may list out of order or
 * repeat prefixes across pages. */
static void sort_unique(struct dbs_storage_list* out) {
  dbs_storage_list_sort(out);
  size_t w = 0;
  for (size_t i = 0; i < out->n; i++) {
    if (w > 0 && strcmp(out->entries[w - 1].key, out->entries[i].key) == 0) {
      free(out->entries[i].key);
      continue;
    }
    out->entries[w++] = out->entries[i];
  }
  out->n = w;
}

/* Appends every page of l to out. */
static int list_pages(struct listing* l, struct dbs_storage_list* out) {
  for (;;) {
    int rc = list_page(l);
    if (rc)
      return rc;
    const char* next = page_next_marker(&l->xml);
    bool truncated = l->xml.truncated;
    char* nm = next ? strdup(next) : NULL;
    if ((rc = append_entries(out, &l->cap, &l->xml)) == 0 && truncated)
      rc = list_may_go_on(l, out, nm);
    if (rc || !truncated) {
      free(nm);
      return rc;
    }
    free(l->marker);
    l->marker = nm;
  }
}

/* Lists every entry below prefix, page by page (see s3_list). */
static int list_prefix(struct dbs_s3* s, const char* prefix, int delimiter,
                       struct dbs_storage_list* out) {
  struct listing l = {.s = s,
                      .prefix = prefix ? prefix : "",
                      .delimiter = delimiter,
                      .start = dbs_s3_now_ms(),
                      .xml = {.kind = DBS_S3_XML_LIST}};
  l.x = (struct dbs_s3_xfer){
      .s = s, .mode = DBS_S3_BODY_XML, .xml = &l.xml, .total = -1};
  out->entries = NULL;
  out->n = 0;
  int rc = ensure_region(s, &l.region);
  if (rc == 0)
    rc = dbs_s3_address(s, l.region, NULL, &l.host, &l.path);
  if (rc == 0)
    rc = list_pages(&l, out);
  if (rc == 0) {
    sort_unique(out);
    dbs_log_debug("s3: listed %zu entries below s3://%s/%s in %u page(s)",
                  out->n, s->bucket, l.prefix, l.pages);
  } else {
    dbs_storage_list_free(out);
  }
  dbs_s3_xml_free(&l.xml);
  free(l.marker);
  free(l.region);
  free(l.host);
  free(l.path);
  return rc;
}

/* A prefix with a leading '/' (litestream.yml "path: /app"): AWS keeps the
 * slash in object keys, but MinIO and s3rver drop it when they store an
 * object and then list nothing under the prefix as given, so the replica
 * litestream 0.3 writes there looks empty, to litestream too. An empty
 * listing means "no backup" and the boot would start a fresh database over
 * the real one: when the prefix as given is empty, the same prefix without
 * the slash must be empty as well, else the listing is refused. */
static int s3_list(struct dbs_storage* st, const char* prefix, int delimiter,
                   struct dbs_storage_list* out) {
  struct dbs_s3* s = (struct dbs_s3*)st;
  int rc = list_prefix(s, prefix, delimiter, out);
  if (rc != 0 || out->n > 0 || prefix == NULL || prefix[0] != '/')
    return rc;
  const char* bare = prefix + strspn(prefix, "/");
  struct dbs_storage_list alt = {0};
  if (list_prefix(s, bare, delimiter, &alt) != 0) {
    /* (on AWS a policy may allow only the prefix as given: the empty
     * listing stands, as before this check) */
    dbs_log_debug("s3: s3://%s/%s not listable, not checked", s->bucket, bare);
    return 0;
  }
  size_t n = alt.n;
  dbs_storage_list_free(&alt);
  if (n == 0)
    return 0;
  dbs_s3_set_error(s,
                   "list s3://%s/%s at %s: nothing is listed below this "
                   "prefix, but %zu entries are below %s: this server drops "
                   "the leading '/' of object keys, so the replica is stored "
                   "without it (litestream 0.3 cannot restore it either); "
                   "remove the leading '/' from path in litestream.yml",
                   s->bucket, prefix, s->where, n, bare);
  return DBS_STORAGE_EDENIED;
}

/* ---------- get ---------- */

static int s3_get(struct dbs_storage* st, const char* key,
                  dbs_storage_sink sink, void* arg) {
  struct dbs_s3* s = (struct dbs_s3*)st;
  char *region = NULL, *host = NULL, *path = NULL;
  struct dbs_s3_xfer* x = calloc(1, sizeof(*x));
  int rc;
  if (x == NULL)
    return -ENOMEM;
  x->s = s;
  x->mode = DBS_S3_BODY_SINK;
  x->sink = sink;
  x->arg = arg;
  x->total = -1;
  if ((rc = ensure_region(s, &region)) != 0)
    goto fail;
  if ((rc = dbs_s3_address(s, region, key, &host, &path)) != 0)
    goto fail;
  struct dbs_s3_request rq = {.op = "get",
                              .key = key,
                              .what = key,
                              .region = region,
                              .host = host,
                              .path = path,
                              .range_resume = true};
  rc = dbs_s3_run(s, &rq, x, NULL, NULL);
fail:
  free(region);
  free(host);
  free(path);
  free(x);
  return rc;
}

/* ---------- describe, close, open ---------- */

static const char* s3_describe(struct dbs_storage* st) {
  return ((struct dbs_s3*)st)->desc;
}

static void s3_close(struct dbs_storage* st) {
  struct dbs_s3* s = (struct dbs_s3*)st;
  if (s == NULL)
    return;
  dbs_s3_pool_drain(s);
  free(s->pool);
  free(s->bucket);
  free(s->scheme);
  free(s->hostport);
  free(s->base_path);
  free(s->region);
  free(s->akid);
  free(s->secret);
  free(s->token);
  free(s->desc);
  free(s->where);
  free(s->ca_file);
  free(s->connect_to);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

static const struct dbs_storage_ops s3_ops = {
    .list = s3_list,
    .get = s3_get,
    .describe = s3_describe,
    .close = s3_close,
};

/* dup of an optional string: 0, or -ENOMEM. */
static int dup_opt(char** dst, const char* src) {
  if (src == NULL)
    return 0;
  *dst = strdup(src);
  return *dst ? 0 : -ENOMEM;
}

static const char* replica_name(const struct dbs_replica_config* r) {
  return r->name ? r->name : "";
}

/* The endpoint (or AWS) and the signing region: r->region, else
 * us-east-1 with an endpoint, else looked up later. */
static int open_endpoint(struct dbs_s3* s, const struct dbs_replica_config* r) {
  if (!dbs_s3_empty(r->endpoint)) {
    int rc = dbs_s3_parse_endpoint(s, r->endpoint);
    if (rc == -EINVAL)
      dbs_log_errorx("s3 replica %s: endpoint %s is not an http(s) URL",
                     replica_name(r), r->endpoint);
    if (rc)
      return rc;
  } else if (dup_opt(&s->scheme, "https") || dup_opt(&s->base_path, "")) {
    return -ENOMEM;
  }
  if (!dbs_s3_empty(r->region))
    return dup_opt(&s->region, r->region);
  if (s->hostport)
    return dup_opt(&s->region, "us-east-1");
  return 0;
}

/* The credentials (a session token from o overrides r's), registered as
 * secrets; both halves of a key or neither. */
static int open_credentials(struct dbs_s3* s,
                            const struct dbs_replica_config* r,
                            const struct dbs_s3_options* o) {
  const char* token =
      !dbs_s3_empty(o->session_token) ? o->session_token : r->session_token;
  if ((!dbs_s3_empty(r->access_key_id) &&
       dup_opt(&s->akid, r->access_key_id)) ||
      (!dbs_s3_empty(r->secret_access_key) &&
       dup_opt(&s->secret, r->secret_access_key)) ||
      (!dbs_s3_empty(token) && dup_opt(&s->token, token)) ||
      dup_opt(&s->ca_file, o->ca_file) ||
      dup_opt(&s->connect_to, o->connect_to))
    return -ENOMEM;
  dbs_log_add_secret(s->secret);
  dbs_log_add_secret(s->token);
  if (dbs_s3_empty(s->akid) != dbs_s3_empty(s->secret)) {
    dbs_log_errorx("s3 replica %s: an access key id without a secret (or the "
                   "reverse): set both LITESTREAM_ACCESS_KEY_ID and "
                   "LITESTREAM_SECRET_ACCESS_KEY",
                   replica_name(r));
    return -EINVAL;
  }
  if (dbs_s3_empty(s->akid))
    dbs_log_warnx("s3 replica %s: no credentials; requests are sent "
                  "unsigned (anonymous)",
                  replica_name(r));
  return 0;
}

/* Timeouts, listing caps and the connection pool from o. */
static int open_limits(struct dbs_s3* s, const struct dbs_s3_options* o) {
  s->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
  s->stall_ms = o->stall_timeout_ms ? o->stall_timeout_ms : DEFAULT_STALL_MS;
  s->max_keys = o->max_keys;
  s->list_max_pages =
      o->list_max_pages ? o->list_max_pages : DBS_S3_LIST_MAX_PAGES;
  s->list_max_keys = o->list_max_keys ? o->list_max_keys : DBS_S3_LIST_MAX_KEYS;
  s->pool_max = o->parallelism ? o->parallelism : 8;
  s->pool = calloc(s->pool_max, sizeof(*s->pool));
  return s->pool ? 0 : -ENOMEM;
}

/* desc ("s3://bucket at URL") and where (the URL, or "AWS S3"). */
static int open_descriptions(struct dbs_s3* s) {
  size_t dl = strlen(s->bucket) + (s->hostport ? strlen(s->hostport) : 0) +
              strlen(s->base_path) + strlen(s->scheme) + 32;
  s->desc = malloc(dl);
  s->where = malloc(dl);
  if (s->desc == NULL || s->where == NULL)
    return -ENOMEM;
  if (s->hostport) {
    snprintf(s->desc, dl, "s3://%s at %s://%s%s", s->bucket, s->scheme,
             s->hostport, s->base_path);
    snprintf(s->where, dl, "%s://%s%s", s->scheme, s->hostport, s->base_path);
  } else {
    snprintf(s->desc, dl, "s3://%s", s->bucket);
    snprintf(s->where, dl, "AWS S3");
  }
  return 0;
}

int dbs_storage_s3_open(const struct dbs_replica_config* r,
                        const struct dbs_s3_options* o,
                        struct dbs_storage** out) {
  static const struct dbs_s3_options defaults = {0};
  *out = NULL;
  if (o == NULL)
    o = &defaults;
  if (dbs_s3_empty(r->bucket)) {
    dbs_log_errorx("s3 replica %s: no bucket (set bucket: or url: "
                   "s3://BUCKET/PATH in litestream.yml)",
                   replica_name(r));
    return -EINVAL;
  }
  int rc = dbs_s3_curl_load();
  if (rc)
    return rc;
  struct dbs_s3* s = calloc(1, sizeof(*s));
  if (s == NULL)
    return -ENOMEM;
  pthread_mutex_init(&s->lock, NULL);
  s->base.ops = &s3_ops;
  /* litestream: path style when asked, and always with an endpoint unless
   * the config said otherwise (the parser resolved that into the flag). */
  s->path_style = r->force_path_style;
  s->skip_verify = r->skip_verify;
  rc = dup_opt(&s->bucket, r->bucket);
  if (rc == 0)
    rc = open_endpoint(s, r);
  if (rc == 0)
    rc = open_credentials(s, r, o);
  if (rc == 0)
    rc = open_limits(s, o);
  if (rc == 0)
    rc = open_descriptions(s);
  if (rc) {
    s3_close(&s->base);
    return rc;
  }
  *out = &s->base;
  return 0;
}
