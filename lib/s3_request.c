/*
 * S3 requests: the endpoint, the bucket's host and path (virtual-host or
 * path style), and the signed URL and headers as they go on the wire.
 */
#define _GNU_SOURCE /* strndup */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3_internal.h"

/* Sets s->scheme from an endpoint's scheme of n bytes (NULL: https, as
 * aws-sdk-go does). */
static int set_scheme(struct dbs_s3* s, const char* scheme, size_t n) {
  if (scheme == NULL) {
    s->scheme = strdup("https");
    return s->scheme ? 0 : -ENOMEM;
  }
  if (!((n == 5 && strncasecmp(scheme, "https", 5) == 0) ||
        (n == 4 && strncasecmp(scheme, "http", 4) == 0)))
    return -EINVAL;
  s->scheme = strndup(scheme, n);
  if (s->scheme == NULL)
    return -ENOMEM;
  for (char* p = s->scheme; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  return 0;
}

/* Lowercases host[:port] in place and drops the scheme's default port:
 * the Host header omits it. */
static void normalise_hostport(char* hp, const char* scheme) {
  for (char* p = hp; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  const char* dflt = strcmp(scheme, "https") == 0 ? ":443" : ":80";
  size_t l = strlen(hp), dl = strlen(dflt);
  char* close_br = strrchr(hp, ']');
  char* colon = strrchr(hp, ':');
  if (l > dl && strcmp(hp + l - dl, dflt) == 0 &&
      (close_br == NULL || colon > close_br))
    hp[l - dl] = '\0';
}

int dbs_s3_parse_endpoint(struct dbs_s3* s, const char* ep) {
  const char* rest = ep;
  const char* sep = strstr(ep, "://");
  int rc = set_scheme(s, sep ? ep : NULL, sep ? (size_t)(sep - ep) : 0);
  if (rc)
    return rc;
  if (sep)
    rest = sep + 3;
  size_t hl = strcspn(rest, "/?#");
  if (hl == 0)
    return -EINVAL;
  char* hp = strndup(rest, hl);
  if (hp == NULL)
    return -ENOMEM;
  normalise_hostport(hp, s->scheme);
  s->hostport = hp;
  const char* p = rest + hl;
  size_t pl = strcspn(p, "?#");
  while (pl > 0 && p[pl - 1] == '/')
    pl--;
  s->base_path = strndup(p, pl);
  return s->base_path ? 0 : -ENOMEM;
}

static bool dns_compatible(const char* b) {
  size_t n = strlen(b);
  if (n < 3 || n > 63)
    return false;
  for (const char* p = b; *p; p++)
    if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
          *p == '-'))
      return false;
  return true;
}

int dbs_s3_address(struct dbs_s3* s, const char* region, const char* key,
                   char** host, char** path) {
  char* hb = NULL;
  const char* hp = s->hostport;
  char awshost[128];
  if (hp == NULL) {
    if (strcmp(region, "us-east-1") == 0)
      snprintf(awshost, sizeof(awshost), "s3.amazonaws.com");
    else
      snprintf(awshost, sizeof(awshost), "s3.%s.amazonaws.com", region);
    hp = awshost;
  }
  bool vhost = !s->path_style && dns_compatible(s->bucket);
  size_t need = strlen(hp) + strlen(s->bucket) + 2;
  hb = malloc(need);
  if (hb == NULL)
    return -ENOMEM;
  if (vhost)
    snprintf(hb, need, "%s.%s", s->bucket, hp);
  else
    snprintf(hb, need, "%s", hp);
  const char* k = key ? key : "";
  size_t plen = strlen(s->base_path) + strlen(s->bucket) + strlen(k) + 4;
  char* p = malloc(plen);
  if (p == NULL) {
    free(hb);
    return -ENOMEM;
  }
  if (vhost)
    snprintf(p, plen, "%s/%s", s->base_path, k);
  else
    snprintf(p, plen, "%s/%s%s%s", s->base_path, s->bucket, key ? "/" : "", k);
  *host = hb;
  *path = p;
  return 0;
}

static void push(struct dbs_s3_wire* w, const char* name, const char* value) {
  assert(w->nheaders < sizeof(w->headers) / sizeof(w->headers[0]));
  w->headers[w->nheaders++] = (struct dbs_sigv4_pair){name, value};
}

int dbs_s3_wire_build(struct dbs_s3* s, const struct dbs_s3_request* rq,
                      int64_t resume_from, const char* etag,
                      struct dbs_s3_wire* w) {
  memset(w, 0, sizeof(*w));
  /* The headers the request adds (signed, after Host on the wire). */
  struct dbs_sigv4_pair extra[2];
  size_t nextra = 0;
  if (resume_from > 0) {
    snprintf(w->range, sizeof(w->range), "bytes=%" PRId64 "-", resume_from);
    extra[nextra++] = (struct dbs_sigv4_pair){"Range", w->range};
    if (etag[0])
      extra[nextra++] = (struct dbs_sigv4_pair){"If-Match", etag};
  }
  struct dbs_sigv4_request sr = {.method = "GET",
                                 .host = rq->host,
                                 .path = rq->path,
                                 .query = rq->query,
                                 .nquery = rq->nquery,
                                 .headers = extra,
                                 .nheaders = nextra,
                                 .payload_hash = DBS_SIGV4_EMPTY_SHA256,
                                 .region = rq->region};
  struct dbs_sigv4_creds cr = {s->akid ? s->akid : "",
                               s->secret ? s->secret : "", s->token};
  int rc = dbs_sigv4_sign(&sr, &cr, time(NULL), &w->sg);
  if (rc != 0) {
    dbs_s3_set_error(s, "%s: cannot sign the request (%s)", rq->op,
                     strerror(-rc));
    return DBS_STORAGE_EDENIED;
  }
  size_t ulen = strlen(s->scheme) + strlen(rq->host) +
                strlen(w->sg.canonical_uri) + strlen(w->sg.canonical_query) + 8;
  w->url = malloc(ulen);
  if (w->url == NULL)
    return -ENOMEM;
  snprintf(w->url, ulen, "%s://%s%s%s%s", s->scheme, rq->host,
           w->sg.canonical_uri, w->sg.canonical_query[0] ? "?" : "",
           w->sg.canonical_query);

  push(w, "Host", rq->host);
  for (size_t i = 0; i < nextra; i++)
    push(w, extra[i].name, extra[i].value);
  push(w, "x-amz-date", w->sg.amz_date);
  push(w, "x-amz-content-sha256", DBS_SIGV4_EMPTY_SHA256);
  if (!dbs_s3_empty(s->token))
    push(w, "x-amz-security-token", s->token);
  if (!dbs_s3_empty(s->akid))
    push(w, "Authorization", w->sg.authorization);
  push(w, "Accept", ""); /* no Accept header at all */
  return 0;
}

void dbs_s3_wire_free(struct dbs_s3_wire* w) {
  free(w->url);
  dbs_sigv4_signed_free(&w->sg);
  memset(w, 0, sizeof(*w));
}
