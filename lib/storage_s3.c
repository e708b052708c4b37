/* S3 storage backend: signed ListObjects and streaming GETs over libcurl. */
#define _GNU_SOURCE /* strptime, timegm, strndup */
#include "storage_s3.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <expat.h>

#include "dynlib.h"
#include "log.h"
#include "sigv4.h"

#define DEFAULT_TIMEOUT_MS 120000u
#define DEFAULT_STALL_MS 30000u
#define BACKOFF_BASE_MS 200u
#define BACKOFF_CAP_MS 10000u
#define MAX_CONNECT_MS 10000u
#define ERRBODY_MAX 8192
#define TEXT_MAX 4096

/* libcurl, loaded on first open (curl_init); every other use follows an
 * open, so pthread_once orders the write before all reads. */
static const struct dbs_dynlib_curl* curlapi;

struct s3 {
  struct dbs_storage base; /* first: the interface sees only this */
  char* bucket;
  char* scheme;    /* "https" or "http" */
  char* hostport;  /* endpoint host[:port], default port dropped; NULL: AWS */
  char* base_path; /* endpoint path without trailing '/', often "" */
  char* region;    /* NULL until known (AWS without region) */
  char* akid;
  char* secret;
  char* token;
  char* desc;
  char* where;
  char* ca_file;
  char* connect_to;
  bool path_style;
  bool skip_verify;
  unsigned timeout_ms, stall_ms, max_keys, pool_max;
  unsigned list_max_pages, list_max_keys;
  pthread_mutex_t lock; /* region, error, pool */
  CURL** pool;
  size_t npool;
};

/* ---------- small helpers ---------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms) {
  if (ms <= 0)
    return;
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

static bool empty(const char* s) {
  return s == NULL || s[0] == '\0';
}

/* snprintf that may cut: messages are bounded on purpose. */
static void fmt(char* buf, size_t n, const char* f, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt(char* buf, size_t n, const char* f, ...) {
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, n, f, ap);
  va_end(ap);
}

/* Stores the operation's error message (redacted) for the caller. */
static void set_error(struct s3* s, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_error(struct s3* s, const char* fmt, ...) {
  char msg[sizeof(s->base.error)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&s->lock);
  dbs_log_redact(msg, s->base.error, sizeof(s->base.error));
  pthread_mutex_unlock(&s->lock);
}

static unsigned jitter_seed(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (unsigned)ts.tv_nsec ^ (unsigned)(uintptr_t)&ts;
}

/* Parses "2013-09-17T18:07:53.000Z" into Unix ms; 0 when malformed. */
static int64_t parse_iso8601_ms(const char* s) {
  struct tm tm = {0};
  int ms = 0;
  char* end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == NULL)
    return 0;
  if (*end == '.') {
    int scale = 100;
    for (end++; isdigit((unsigned char)*end); end++) {
      ms += (*end - '0') * scale;
      scale /= 10;
    }
  }
  return (int64_t)timegm(&tm) * 1000 + ms;
}

/* ---------- the XML answers ---------- */

enum xml_kind { XML_LIST, XML_ERROR, XML_LOCATION };

struct xml_ctx {
  enum xml_kind kind;
  int depth;
  char path[4][32]; /* element names at depth 1..4 */
  char text[TEXT_MAX];
  size_t textlen;
  bool overflow;
  bool bad;
  /* list */
  struct dbs_storage_entry* entries;
  size_t n, cap;
  struct dbs_storage_entry cur;
  bool truncated;
  char* next_marker;
  size_t max_entries; /* 0: no limit; kept across xml_setup */
  bool too_many;
  /* error */
  char code[128], message[256], region[64], endpoint[256], bucket[256];
  /* location */
  char location[64];
  bool saw_location;
};

static void xml_start(void* ud, const XML_Char* name, const XML_Char** atts) {
  struct xml_ctx* x = ud;
  (void)atts;
  x->depth++;
  if (x->depth <= 4)
    snprintf(x->path[x->depth - 1], sizeof(x->path[0]), "%s", name);
  x->textlen = 0;
  x->text[0] = '\0';
  x->overflow = false;
  if (x->kind == XML_LIST && x->depth == 2 &&
      (strcmp(name, "Contents") == 0 || strcmp(name, "CommonPrefixes") == 0)) {
    free(x->cur.key);
    memset(&x->cur, 0, sizeof(x->cur));
    x->cur.size = -1;
    x->cur.is_prefix = strcmp(name, "CommonPrefixes") == 0;
  }
  if (x->kind == XML_LOCATION && x->depth == 1 &&
      strcmp(name, "LocationConstraint") == 0)
    x->saw_location = true;
}

static void xml_chars(void* ud, const XML_Char* s, int len) {
  struct xml_ctx* x = ud;
  if (x->textlen + (size_t)len >= sizeof(x->text)) {
    x->overflow = true;
    return;
  }
  memcpy(x->text + x->textlen, s, (size_t)len);
  x->textlen += (size_t)len;
  x->text[x->textlen] = '\0';
}

/* Copies src into dst (size n), cut at n - 1 bytes. */
static void copy_cut(char* dst, size_t n, const char* src) {
  size_t l = strlen(src);
  if (l >= n)
    l = n - 1;
  memcpy(dst, src, l);
  dst[l] = '\0';
}

static void copy_text(char* dst, size_t n, const struct xml_ctx* x) {
  copy_cut(dst, n, x->text);
}

static void list_end(struct xml_ctx* x, const char* name) {
  if (x->depth == 2 && strcmp(x->path[0], "ListBucketResult") == 0) {
    if (strcmp(name, "IsTruncated") == 0) {
      x->truncated = strcmp(x->text, "true") == 0;
    } else if (strcmp(name, "NextMarker") == 0) {
      free(x->next_marker);
      x->next_marker = strdup(x->text);
      if (x->next_marker == NULL)
        x->bad = true;
    } else if (strcmp(name, "Contents") == 0 ||
               strcmp(name, "CommonPrefixes") == 0) {
      if (x->cur.key == NULL) {
        x->bad = true;
        return;
      }
      if (x->max_entries != 0 && x->n >= x->max_entries) {
        x->too_many = x->bad = true;
        return;
      }
      if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        void* p = realloc(x->entries, cap * sizeof(*x->entries));
        if (p == NULL) {
          x->bad = true;
          return;
        }
        x->entries = p;
        x->cap = cap;
      }
      if (!x->cur.is_prefix && x->cur.size < 0)
        x->bad = true;
      x->entries[x->n++] = x->cur;
      memset(&x->cur, 0, sizeof(x->cur));
    }
  } else if (x->depth == 3 && strcmp(x->path[0], "ListBucketResult") == 0) {
    if (x->overflow) {
      x->bad = true;
      return;
    }
    bool contents = strcmp(x->path[1], "Contents") == 0;
    bool prefixes = strcmp(x->path[1], "CommonPrefixes") == 0;
    if ((contents && strcmp(name, "Key") == 0) ||
        (prefixes && strcmp(name, "Prefix") == 0)) {
      free(x->cur.key);
      x->cur.key = strdup(x->text);
      if (x->cur.key == NULL)
        x->bad = true;
    } else if (contents && strcmp(name, "Size") == 0) {
      char* end;
      errno = 0;
      long long v = strtoll(x->text, &end, 10);
      if (errno || end == x->text || *end != '\0' || v < 0)
        x->bad = true;
      else
        x->cur.size = v;
    } else if (contents && strcmp(name, "LastModified") == 0) {
      x->cur.mtime_ms = parse_iso8601_ms(x->text);
    }
  }
}

static void xml_end(void* ud, const XML_Char* name) {
  struct xml_ctx* x = ud;
  switch (x->kind) {
  case XML_LIST:
    list_end(x, name);
    break;
  case XML_ERROR:
    if (x->depth == 2 && strcmp(x->path[0], "Error") == 0) {
      if (strcmp(name, "Code") == 0)
        copy_text(x->code, sizeof(x->code), x);
      else if (strcmp(name, "Message") == 0)
        copy_text(x->message, sizeof(x->message), x);
      else if (strcmp(name, "Region") == 0)
        copy_text(x->region, sizeof(x->region), x);
      else if (strcmp(name, "Endpoint") == 0)
        copy_text(x->endpoint, sizeof(x->endpoint), x);
      else if (strcmp(name, "BucketName") == 0)
        copy_text(x->bucket, sizeof(x->bucket), x);
    }
    break;
  case XML_LOCATION:
    if (x->depth == 1 && strcmp(name, "LocationConstraint") == 0)
      copy_text(x->location, sizeof(x->location), x);
    break;
  }
  x->textlen = 0;
  x->text[0] = '\0';
  x->depth--;
}

static void xml_ctx_free(struct xml_ctx* x) {
  for (size_t i = 0; i < x->n; i++)
    free(x->entries[i].key);
  free(x->entries);
  free(x->cur.key);
  free(x->next_marker);
  memset(x, 0, sizeof(*x));
}

/* Parses a whole (small) XML document; returns 0 or -1. */
static int xml_parse_all(struct xml_ctx* x, const char* buf, size_t len) {
  XML_Parser p = XML_ParserCreate(NULL);
  if (p == NULL)
    return -1;
  XML_SetUserData(p, x);
  XML_SetElementHandler(p, xml_start, xml_end);
  XML_SetCharacterDataHandler(p, xml_chars);
  int ok = XML_Parse(p, buf, (int)len, 1) == XML_STATUS_OK;
  XML_ParserFree(p);
  return ok ? 0 : -1;
}

/* Test hook for test/fuzz (storage_s3.h). */
int dbs_storage_s3_parse_answer(int what, const char* body, size_t len,
                                size_t chunk, struct dbs_storage_list* out,
                                char* text, size_t textlen) {
  struct xml_ctx x = {.kind = what == 0   ? XML_LIST
                              : what == 1 ? XML_ERROR
                                          : XML_LOCATION};
  XML_Parser p = XML_ParserCreate(NULL);
  int rc = p == NULL ? -ENOMEM : 0;
  out->entries = NULL;
  out->n = 0;
  if (p != NULL) {
    XML_SetUserData(p, &x);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_chars);
    for (size_t off = 0; rc == 0 && off < len;) {
      size_t n = chunk == 0 || len - off < chunk ? len - off : chunk;
      if (XML_Parse(p, body + off, (int)n, 0) != XML_STATUS_OK)
        rc = -EBADMSG;
      off += n;
    }
    if (rc == 0 && XML_Parse(p, "", 0, 1) != XML_STATUS_OK)
      rc = -EBADMSG;
    XML_ParserFree(p);
  }
  if (rc == 0 && x.bad)
    rc = -EBADMSG;
  if (x.kind == XML_LIST) {
    fmt(text, textlen, "%s|%s", x.truncated ? "true" : "false",
        x.next_marker ? x.next_marker : "");
    if (rc == 0) { /* the keys now belong to out */
      out->entries = x.entries;
      out->n = x.n;
      x.entries = NULL;
      x.n = 0;
    }
  } else if (x.kind == XML_ERROR) {
    fmt(text, textlen, "%s|%s|%s|%s|%s", x.code, x.message, x.region,
        x.endpoint, x.bucket);
  } else {
    fmt(text, textlen, "%s", x.saw_location ? x.location : "");
  }
  xml_ctx_free(&x);
  return rc;
}

/* ---------- one HTTP exchange ---------- */

enum body_mode { BODY_XML, BODY_SINK };

struct xfer {
  struct s3* s;
  enum body_mode mode;
  /* XML body (list, location), parsed as it streams in */
  XML_Parser xp;
  struct xml_ctx* xml;
  bool xml_failed;
  /* sink body (get) */
  dbs_storage_sink sink;
  void* arg;
  int64_t delivered; /* bytes given to sink over all attempts */
  int64_t skip;      /* bytes to drop (the server ignored our Range) */
  int sink_rc;
  int64_t total; /* object size when known, else -1 */
  /* per response */
  long status;
  bool status_known;
  char errbody[ERRBODY_MAX];
  size_t errlen;
  char etag[160];      /* the object's, from its first good answer */
  char resp_etag[160]; /* this answer's */
  bool etag_changed;
  bool bad_range; /* a resumed get answered from past what we have, or more
                     bytes than the object's size */
  bool resuming;  /* this attempt asked for a Range */
  char request_id[128];
  char bucket_region[64]; /* x-amz-bucket-region, on redirects */
  long retry_after_s;
  int64_t content_length;
  char content_range[128];
};

static bool status_ok(long st) {
  return st == 200 || st == 206;
}

static size_t on_header(char* buf, size_t size, size_t n, void* ud) {
  struct xfer* x = ud;
  size_t len = size * n;
  char line[512];
  size_t l = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
  memcpy(line, buf, l);
  line[l] = '\0';
  while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == '\n'))
    line[--l] = '\0';
  if (strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100...) */
    x->status_known = false;
    x->resp_etag[0] = x->request_id[0] = x->content_range[0] = '\0';
    x->bucket_region[0] = '\0';
    x->retry_after_s = -1;
    x->content_length = -1;
    return len;
  }
  char* colon = strchr(line, ':');
  if (colon == NULL)
    return len;
  *colon = '\0';
  char* v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  if (strcasecmp(line, "etag") == 0)
    snprintf(x->resp_etag, sizeof(x->resp_etag), "%s", v);
  else if (strcasecmp(line, "x-amz-request-id") == 0)
    snprintf(x->request_id, sizeof(x->request_id), "%s", v);
  else if (strcasecmp(line, "x-amz-bucket-region") == 0)
    snprintf(x->bucket_region, sizeof(x->bucket_region), "%s", v);
  else if (strcasecmp(line, "retry-after") == 0)
    x->retry_after_s = strtol(v, NULL, 10);
  else if (strcasecmp(line, "content-length") == 0)
    x->content_length = strtoll(v, NULL, 10);
  else if (strcasecmp(line, "content-range") == 0)
    snprintf(x->content_range, sizeof(x->content_range), "%s", v);
  return len;
}

static size_t on_body(char* buf, size_t size, size_t n, void* ud) {
  struct xfer* x = ud;
  size_t len = size * n;
  if (!status_ok(x->status)) {
    size_t room = sizeof(x->errbody) - 1 - x->errlen;
    size_t take = len < room ? len : room;
    memcpy(x->errbody + x->errlen, buf, take);
    x->errlen += take;
    x->errbody[x->errlen] = '\0';
    return len;
  }
  if (x->mode == BODY_XML) {
    if (!x->xml_failed && XML_Parse(x->xp, buf, (int)len, 0) != XML_STATUS_OK)
      x->xml_failed = true;
    return len;
  }
  const uint8_t* p = (const uint8_t*)buf;
  size_t left = len;
  if (x->skip > 0) {
    size_t drop = (int64_t)left < x->skip ? left : (size_t)x->skip;
    x->skip -= (int64_t)drop;
    p += drop;
    left -= drop;
  }
  if (left > 0 && x->total >= 0 && x->delivered + (int64_t)left > x->total) {
    x->bad_range = true; /* more bytes than the object has */
    return 0;
  }
  if (left > 0) {
    int rc = x->sink(x->arg, p, left);
    if (rc != 0) {
      x->sink_rc = rc;
      return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    x->delivered += (int64_t)left;
  }
  return len;
}

struct attempt {
  CURL* h;
  struct xfer* x;
};

/* Learns the size of the whole object from a good answer. */
static void note_total(struct xfer* x) {
  if (x->total >= 0)
    return;
  if (x->status == 200 && !x->resuming) {
    x->total = x->content_length;
  } else if (x->status == 206) {
    const char* slash = strrchr(x->content_range, '/');
    if (slash && isdigit((unsigned char)slash[1]))
      x->total = strtoll(slash + 1, NULL, 10);
  }
}

/* The status is known once the body starts; libcurl tells it. A resumed
 * download must be the same object (ETag) and, when the server ignored
 * the Range, the bytes already delivered are skipped. */
static size_t on_body_status(char* buf, size_t size, size_t n, void* ud) {
  struct attempt* a = ud;
  struct xfer* x = a->x;
  if (!x->status_known) {
    curlapi->easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &x->status);
    x->status_known = true;
    if (x->mode == BODY_SINK && status_ok(x->status)) {
      if (x->etag[0] == '\0') {
        memcpy(x->etag, x->resp_etag, sizeof(x->etag));
      } else if (x->resp_etag[0] && strcmp(x->etag, x->resp_etag) != 0) {
        x->etag_changed = true;
        return 0;
      }
      if (x->resuming && x->status == 200)
        x->skip = x->delivered;
      /* A 206 must start where we asked (bytes=delivered-); one that starts
       * earlier repeats bytes we have (skip them), one that starts later,
       * or says nothing parseable, would leave a hole. */
      if (x->resuming && x->status == 206) {
        int64_t start = -1;
        if (strncasecmp(x->content_range, "bytes ", 6) == 0 &&
            isdigit((unsigned char)x->content_range[6]))
          start = strtoll(x->content_range + 6, NULL, 10);
        if (start < 0 || start > x->delivered) {
          x->bad_range = true;
          return 0;
        }
        x->skip = x->delivered - start;
      }
      note_total(x);
    }
  }
  return on_body(buf, size, n, x);
}

static CURL* pool_get(struct s3* s) {
  CURL* h = NULL;
  pthread_mutex_lock(&s->lock);
  if (s->npool > 0)
    h = s->pool[--s->npool];
  pthread_mutex_unlock(&s->lock);
  return h ? h : curlapi->easy_init();
}

static void pool_put(struct s3* s, CURL* h) {
  pthread_mutex_lock(&s->lock);
  if (s->npool < s->pool_max) {
    s->pool[s->npool++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  if (h)
    curlapi->easy_cleanup(h);
}

/* What an attempt came to. */
enum outcome { OUT_OK, OUT_RETRY, OUT_FAIL };

struct request {
  const char* op;   /* "list", "get", "GetBucketLocation" for messages */
  const char* key;  /* object key or NULL for bucket requests */
  const char* what; /* for messages: the key, or the listed prefix */
  const struct dbs_sigv4_pair* query;
  size_t nquery;
  const char* region; /* signing region */
  const char* host;   /* host[:port] */
  const char* path;   /* unencoded path */
  bool range_resume;  /* get: send Range from x->delivered */
};

/* Where the bucket is, for messages: the endpoint URL or "AWS S3". */
static const char* where(struct s3* s) {
  return s->where;
}

/* Builds a message and the class for a provider error answer. */
static int classify_http(struct s3* s, const struct request* rq, struct xfer* x,
                         enum outcome* out) {
  struct xml_ctx e = {.kind = XML_ERROR};
  if (x->errlen > 0)
    (void)xml_parse_all(&e, x->errbody, x->errlen);
  if (e.region[0] == '\0')
    copy_cut(e.region, sizeof(e.region), x->bucket_region);
  const char* code = e.code[0] ? e.code : "";
  long st = x->status;
  char obj[600];
  fmt(obj, sizeof(obj), "s3://%s/%s", s->bucket, rq->what ? rq->what : "");
  char base[900];
  fmt(base, sizeof(base), "%s %s at %s: HTTP %ld%s%s%s%s", rq->op, obj,
      where(s), st, code[0] ? " " : "", code, e.message[0] ? ": " : "",
      e.message);

  bool transient = st == 429 || st == 500 || st == 502 || st == 503 ||
                   st == 504 || strcmp(code, "SlowDown") == 0 ||
                   strcmp(code, "InternalError") == 0 ||
                   strcmp(code, "RequestTimeout") == 0 ||
                   strcmp(code, "ServiceUnavailable") == 0;
  if (transient) {
    *out = OUT_RETRY;
    set_error(s, "%s", base);
    return DBS_STORAGE_EUNAVAILABLE;
  }
  *out = OUT_FAIL;
  const char* hint = "";
  char hintbuf[400] = "";
  int cls = DBS_STORAGE_EDENIED;
  if (st == 404 && (strcmp(code, "NoSuchKey") == 0 ||
                    (code[0] == '\0' && rq->key != NULL))) {
    set_error(s, "%s", base);
    return DBS_STORAGE_ENOTFOUND;
  }
  if (strcmp(code, "NoSuchBucket") == 0) {
    snprintf(hintbuf, sizeof(hintbuf),
             "bucket %s does not exist at %s: check bucket/url and "
             "endpoint in litestream.yml",
             s->bucket, where(s));
    hint = hintbuf;
  } else if (strcmp(code, "InvalidAccessKeyId") == 0) {
    /* MinIO forgets temporary credentials once they expire: their key id
     * becomes unknown rather than its token expired. */
    hint = empty(s->token)
               ? "the access key id is unknown there: check "
                 "LITESTREAM_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID or "
                 "access-key-id in litestream.yml"
               : "the access key id is unknown there: temporary credentials "
                 "are forgotten once they expire; get new ones "
                 "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                 "AWS_SESSION_TOKEN)";
  } else if (strcmp(code, "SignatureDoesNotMatch") == 0) {
    hint = "check LITESTREAM_SECRET_ACCESS_KEY / AWS_SECRET_ACCESS_KEY or "
           "secret-access-key in litestream.yml";
  } else if (strcmp(code, "InvalidToken") == 0 ||
             strcmp(code, "InvalidTokenId") == 0 || /* MinIO */
             strcmp(code, "ExpiredToken") == 0 ||
             strcmp(code, "TokenRefreshRequired") == 0) {
    hint = "check AWS_SESSION_TOKEN: it expired or belongs to other "
           "credentials";
  } else if (strcmp(code, "RequestTimeTooSkewed") == 0) {
    hint = "this machine's clock is wrong; fix the time (NTP)";
  } else if (strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
             strcmp(code, "PermanentRedirect") == 0 || st == 301) {
    if (e.region[0])
      snprintf(hintbuf, sizeof(hintbuf),
               "the bucket is in region %s: set region: %s in litestream.yml "
               "(or AWS_REGION)",
               e.region, e.region);
    else if (e.endpoint[0])
      snprintf(hintbuf, sizeof(hintbuf),
               "the bucket must be addressed at %s: set endpoint/region in "
               "litestream.yml",
               e.endpoint);
    else
      snprintf(hintbuf, sizeof(hintbuf),
               "check region and endpoint in litestream.yml (signed for "
               "region %s)",
               rq->region);
    hint = hintbuf;
  } else if (strcmp(code, "AccessDenied") == 0 || st == 403) {
    hint = empty(s->akid)
               ? "no credentials were configured: set "
                 "LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY"
               : "the credentials may not read this bucket: they need "
                 "s3:ListBucket and s3:GetObject";
  } else if (st == 416) {
    cls = DBS_STORAGE_ECORRUPT;
    hint = "the object is shorter than it was when the download began";
  } else if (st == 412) {
    cls = DBS_STORAGE_ECORRUPT;
    hint = "the object changed while it was being downloaded";
  } else {
    hint = "the storage refused the request";
  }
  set_error(s, "%s (%s)", base, hint);
  return cls;
}

static int classify_curl(struct s3* s, const struct request* rq, CURLcode cc,
                         const char* detail, enum outcome* out) {
  char obj[600];
  fmt(obj, sizeof(obj), "s3://%s/%s", s->bucket, rq->what ? rq->what : "");
  switch (cc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_WEIRD_SERVER_REPLY:
    *out = OUT_RETRY;
    set_error(s, "%s %s at %s: %s%s%s", rq->op, obj, where(s),
              curlapi->easy_strerror(cc), detail[0] ? ": " : "", detail);
    return DBS_STORAGE_EUNAVAILABLE;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
    *out = OUT_FAIL;
    set_error(s,
              "%s %s at %s: %s%s%s (the server's TLS certificate is not "
              "trusted; fix the endpoint, or set skip-verify: true only for a "
              "server you trust)",
              rq->op, obj, where(s), curlapi->easy_strerror(cc),
              detail[0] ? ": " : "", detail);
    return DBS_STORAGE_EUNAVAILABLE;
  default:
    *out = OUT_FAIL;
    set_error(s, "%s %s at %s: %s%s%s", rq->op, obj, where(s),
              curlapi->easy_strerror(cc), detail[0] ? ": " : "", detail);
    return DBS_STORAGE_EUNAVAILABLE;
  }
}

static struct curl_slist* add_header(struct curl_slist* l, bool* oom,
                                     const char* name, const char* value) {
  char line[8192]; /* session tokens can be long */
  if ((size_t)snprintf(line, sizeof(line), "%s: %s", name, value) >=
      sizeof(line)) {
    *oom = true;
    return l;
  }
  struct curl_slist* n = curlapi->slist_append(l, line);
  if (n == NULL) {
    *oom = true;
    return l;
  }
  return n;
}

/*
 * Sends one signed request and runs the body into x. Returns 0 with
 * *out = OUT_OK, or a storage error with *out telling whether a retry may
 * help. remaining_ms bounds the connection phase.
 */
static int attempt(struct s3* s, const struct request* rq, struct xfer* x,
                   int64_t remaining_ms, enum outcome* out) {
  struct dbs_sigv4_pair hdrs[2];
  size_t nh = 0;
  char range[64];
  bool resuming = rq->range_resume && x->delivered > 0;
  if (resuming) {
    snprintf(range, sizeof(range), "bytes=%" PRId64 "-", x->delivered);
    hdrs[nh++] = (struct dbs_sigv4_pair){"Range", range};
    if (x->etag[0])
      hdrs[nh++] = (struct dbs_sigv4_pair){"If-Match", x->etag};
  }
  struct dbs_sigv4_request sr = {.method = "GET",
                                 .host = rq->host,
                                 .path = rq->path,
                                 .query = rq->query,
                                 .nquery = rq->nquery,
                                 .headers = hdrs,
                                 .nheaders = nh,
                                 .payload_hash = DBS_SIGV4_EMPTY_SHA256,
                                 .region = rq->region};
  struct dbs_sigv4_creds cr = {s->akid ? s->akid : "",
                               s->secret ? s->secret : "", s->token};
  struct dbs_sigv4_signed sg;
  char* url = NULL;
  struct curl_slist* hl = NULL;
  struct curl_slist* ct = NULL;
  CURL* h = NULL;
  bool oom = false;
  int rc;
  char errbuf[CURL_ERROR_SIZE] = "";

  *out = OUT_FAIL;
  rc = dbs_sigv4_sign(&sr, &cr, time(NULL), &sg);
  if (rc != 0) {
    set_error(s, "%s: cannot sign the request (%s)", rq->op, strerror(-rc));
    return DBS_STORAGE_EDENIED;
  }
  size_t ulen = strlen(s->scheme) + strlen(rq->host) +
                strlen(sg.canonical_uri) + strlen(sg.canonical_query) + 8;
  url = malloc(ulen);
  if (url == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  snprintf(url, ulen, "%s://%s%s%s%s", s->scheme, rq->host, sg.canonical_uri,
           sg.canonical_query[0] ? "?" : "", sg.canonical_query);

  hl = add_header(hl, &oom, "Host", rq->host);
  for (size_t i = 0; i < nh; i++)
    hl = add_header(hl, &oom, hdrs[i].name, hdrs[i].value);
  hl = add_header(hl, &oom, "x-amz-date", sg.amz_date);
  hl = add_header(hl, &oom, "x-amz-content-sha256", DBS_SIGV4_EMPTY_SHA256);
  if (!empty(s->token))
    hl = add_header(hl, &oom, "x-amz-security-token", s->token);
  if (!empty(s->akid))
    hl = add_header(hl, &oom, "Authorization", sg.authorization);
  hl = add_header(hl, &oom, "Accept", "");
  if (oom) {
    rc = -ENOMEM;
    goto fail;
  }
  if (s->connect_to) {
    ct = curlapi->slist_append(NULL, s->connect_to);
    if (ct == NULL) {
      rc = -ENOMEM;
      goto fail;
    }
  }

  h = pool_get(s);
  if (h == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  x->status = 0;
  x->status_known = false;
  x->errlen = 0;
  x->errbody[0] = '\0';
  x->retry_after_s = -1;
  x->content_length = -1;
  x->request_id[0] = x->content_range[0] = '\0';
  x->skip = 0;
  x->resuming = resuming;
  struct attempt a = {h, x};
  long connect_ms = remaining_ms < 1000 ? 1000 : (long)remaining_ms;
  if (connect_ms > (long)MAX_CONNECT_MS)
    connect_ms = MAX_CONNECT_MS;
  long stall_s = (long)((s->stall_ms + 999) / 1000);

  curlapi->easy_reset(h); /* keeps its connections, drops old options */
  curlapi->easy_setopt(h, CURLOPT_URL, url);
  curlapi->easy_setopt(h, CURLOPT_BUFFERSIZE, 128L * 1024);
  curlapi->easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curlapi->easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curlapi->easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curlapi->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_status);
  curlapi->easy_setopt(h, CURLOPT_WRITEDATA, &a);
  curlapi->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curlapi->easy_setopt(h, CURLOPT_HEADERDATA, x);
  curlapi->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curlapi->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curlapi->easy_setopt(h, CURLOPT_VERBOSE, 0L); /* never: it prints headers */
  curlapi->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curlapi->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curlapi->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curlapi->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curlapi->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_s);
  curlapi->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curlapi->easy_setopt(h, CURLOPT_USERAGENT, "dbsetup/" DBSETUP_VERSION);
  curlapi->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, s->skip_verify ? 0L : 1L);
  curlapi->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, s->skip_verify ? 0L : 2L);
  if (s->ca_file)
    curlapi->easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
  if (ct)
    curlapi->easy_setopt(h, CURLOPT_CONNECT_TO, ct);

  dbs_log_debug("s3: %s %s%s", rq->op, url, resuming ? " (resuming)" : "");
  CURLcode cc = curlapi->easy_perform(h);
  if (!x->status_known)
    curlapi->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
  curlapi->easy_reset(h); /* nothing may point at this frame later */

  if (x->sink_rc != 0) {
    rc = x->sink_rc;
    *out = OUT_FAIL;
    set_error(s, "%s s3://%s/%s: the receiver stopped (%d)", rq->op, s->bucket,
              rq->key ? rq->key : "", rc);
    goto fail;
  }
  if (x->bad_range) {
    *out = OUT_FAIL;
    set_error(s,
              "%s s3://%s/%s: the server's answer does not fit the object "
              "(at byte %" PRId64 " of %" PRId64 ", Content-Range '%s')",
              rq->op, s->bucket, rq->key, x->delivered, x->total,
              x->content_range);
    rc = DBS_STORAGE_ECORRUPT;
    goto fail;
  }
  if (x->etag_changed) {
    *out = OUT_FAIL;
    set_error(s,
              "%s s3://%s/%s: the object changed while it was being "
              "downloaded (ETag %s, then %s)",
              rq->op, s->bucket, rq->key, x->etag, x->resp_etag);
    rc = DBS_STORAGE_ECORRUPT;
    goto fail;
  }
  if (cc != CURLE_OK && !(x->status >= 300 && x->errlen > 0)) {
    rc = classify_curl(s, rq, cc, errbuf, out);
    goto fail;
  }
  if (!status_ok(x->status)) {
    if (x->status == 416 && resuming && x->total >= 0 &&
        x->delivered == x->total) {
      *out = OUT_OK; /* the previous attempt had every byte already */
      rc = 0;
      goto fail;
    }
    rc = classify_http(s, rq, x, out);
    goto fail;
  }
  if (x->mode == BODY_SINK && x->total >= 0 && x->delivered != x->total) {
    set_error(s,
              "%s s3://%s/%s at %s: %" PRId64 " of %" PRId64 " bytes received",
              rq->op, s->bucket, rq->key, where(s), x->delivered, x->total);
    *out = OUT_RETRY;
    rc = DBS_STORAGE_EUNAVAILABLE;
    goto fail;
  }
  *out = OUT_OK;
  rc = 0;

fail:
  if (h)
    pool_put(s, h);
  curlapi->slist_free_all(hl);
  curlapi->slist_free_all(ct);
  free(url);
  dbs_sigv4_signed_free(&sg);
  return rc;
}

/*
 * Runs a request with retries inside the budget. setup() is called before
 * every attempt (fresh parser, page cleared). The budget counts time
 * without progress: an attempt that delivered bytes before failing starts
 * it (and the backoff) afresh, so a long download survives a late reset.
 */
static int run(struct s3* s, const struct request* rq, struct xfer* x,
               void (*setup)(struct xfer*), void (*teardown)(struct xfer*)) {
  int64_t start = now_ms();
  int64_t deadline = start + s->timeout_ms;
  unsigned seed = jitter_seed();
  unsigned attempts = 0;
  for (unsigned n = 0;; n++, attempts++) {
    if (setup)
      setup(x);
    enum outcome out;
    int64_t before = x->delivered;
    int rc = attempt(s, rq, x, deadline - now_ms(), &out);
    if (teardown)
      teardown(x);
    if (out == OUT_OK && rc == 0 && x->mode == BODY_XML && x->xml_failed) {
      set_error(s, "%s s3://%s/%s at %s: the answer is not valid XML", rq->op,
                s->bucket, rq->what ? rq->what : "", where(s));
      rc = DBS_STORAGE_ECORRUPT;
      out = OUT_FAIL;
    }
    if (out == OUT_OK)
      return rc;
    if (out == OUT_FAIL)
      return rc;
    int64_t now = now_ms();
    if (x->delivered > before) {
      deadline = now + s->timeout_ms;
      n = 0;
    }
    if (now >= deadline) {
      char last[sizeof(s->base.error)];
      pthread_mutex_lock(&s->lock);
      memcpy(last, s->base.error, sizeof(last));
      pthread_mutex_unlock(&s->lock);
      set_error(s, "%s (gave up after %u attempts in %.1f s)", last,
                attempts + 1, (double)(now - start) / 1000.0);
      return DBS_STORAGE_EUNAVAILABLE;
    }
    uint64_t cap = BACKOFF_BASE_MS << (n < 16 ? n : 16);
    if (cap > BACKOFF_CAP_MS)
      cap = BACKOFF_CAP_MS;
    int64_t wait = (int64_t)(rand_r(&seed) % (cap + 1));
    if (x->retry_after_s > 0 && x->retry_after_s * 1000 > wait)
      wait = x->retry_after_s * 1000;
    if (wait > deadline - now)
      wait = deadline - now;
    char last[sizeof(s->base.error)];
    pthread_mutex_lock(&s->lock);
    memcpy(last, s->base.error, sizeof(last));
    pthread_mutex_unlock(&s->lock);
    dbs_log_warnx("s3: %s; retrying in %.1f s (attempt %u)", last,
                  (double)wait / 1000.0, attempts + 2);
    sleep_ms(wait);
  }
}

/* ---------- addressing ---------- */

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

/* Fills host and path (unencoded) for key (NULL: the bucket itself). */
static int address(struct s3* s, const char* region, const char* key,
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

/* ---------- region lookup (AWS without a region) ---------- */

/* A fresh parser for each attempt; the kind of answer is kept. */
static void xml_setup(struct xfer* x) {
  enum xml_kind kind = x->xml->kind;
  size_t max_entries = x->xml->max_entries;
  xml_ctx_free(x->xml);
  x->xml->kind = kind;
  x->xml->max_entries = max_entries;
  x->xml_failed = false;
  x->xp = XML_ParserCreate(NULL);
  if (x->xp) {
    XML_SetUserData(x->xp, x->xml);
    XML_SetElementHandler(x->xp, xml_start, xml_end);
    XML_SetCharacterDataHandler(x->xp, xml_chars);
  } else {
    x->xml_failed = true;
  }
}

static void xml_teardown(struct xfer* x) {
  if (x->xp) {
    if (!x->xml_failed && XML_Parse(x->xp, "", 0, 1) != XML_STATUS_OK)
      x->xml_failed = true;
    XML_ParserFree(x->xp);
    x->xp = NULL;
  }
}

static int ensure_region(struct s3* s, char** region) {
  pthread_mutex_lock(&s->lock);
  if (s->region) {
    *region = strdup(s->region);
    pthread_mutex_unlock(&s->lock);
    return *region ? 0 : -ENOMEM;
  }
  /* Not held during the lookup: two racing callers both look it up. */
  char *host = NULL, *path = NULL;
  struct xml_ctx xml = {.kind = XML_LOCATION};
  struct xfer x = {.s = s, .mode = BODY_XML, .xml = &xml, .total = -1};
  const struct dbs_sigv4_pair q[] = {{"location", ""}};
  int rc = address(s, "us-east-1", NULL, &host, &path);
  if (rc)
    goto out;
  struct request rq = {.op = "GetBucketLocation",
                       .query = q,
                       .nquery = 1,
                       .region = "us-east-1",
                       .host = host,
                       .path = path};
  pthread_mutex_unlock(&s->lock); /* set_error takes it */
  rc = run(s, &rq, &x, xml_setup, xml_teardown);
  pthread_mutex_lock(&s->lock);
  if (rc == 0) {
    const char* loc = xml.location;
    if (loc[0] == '\0')
      loc = "us-east-1";
    else if (strcmp(loc, "EU") == 0)
      loc = "eu-west-1";
    if (s->region == NULL)
      s->region = strdup(loc);
    if (s->region == NULL)
      rc = -ENOMEM;
    else
      dbs_log_debug("s3: bucket %s is in region %s", s->bucket, s->region);
  } else {
    char last[sizeof(s->base.error)];
    memcpy(last, s->base.error, sizeof(last));
    fmt(s->base.error, sizeof(s->base.error),
        "cannot look up the bucket's region (set region: in "
        "litestream.yml or AWS_REGION): %s",
        last);
  }
out:
  *region = rc == 0 ? strdup(s->region) : NULL;
  if (rc == 0 && *region == NULL)
    rc = -ENOMEM;
  pthread_mutex_unlock(&s->lock);
  xml_ctx_free(&xml);
  free(host);
  free(path);
  return rc;
}

/* ---------- list ---------- */

static int append_entries(struct dbs_storage_list* out, size_t* cap,
                          struct xml_ctx* xml) {
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

/* Lists every entry below prefix, page by page (see s3_list). */
static int list_prefix(struct s3* s, const char* prefix, int delimiter,
                       struct dbs_storage_list* out) {
  char *region = NULL, *host = NULL, *path = NULL, *marker = NULL;
  struct xml_ctx xml = {.kind = XML_LIST};
  struct xfer x = {.s = s, .mode = BODY_XML, .xml = &xml, .total = -1};
  size_t cap = 0;
  char maxkeys[16];
  int rc;
  unsigned pages = 0;
  int64_t list_start = now_ms();

  out->entries = NULL;
  out->n = 0;
  if ((rc = ensure_region(s, &region)) != 0)
    goto fail;
  if ((rc = address(s, region, NULL, &host, &path)) != 0)
    goto fail;
  snprintf(maxkeys, sizeof(maxkeys), "%u", s->max_keys);
  for (;;) {
    struct dbs_sigv4_pair q[4];
    size_t nq = 0;
    q[nq++] = (struct dbs_sigv4_pair){"prefix", prefix ? prefix : ""};
    if (delimiter)
      q[nq++] = (struct dbs_sigv4_pair){"delimiter", "/"};
    if (marker)
      q[nq++] = (struct dbs_sigv4_pair){"marker", marker};
    if (s->max_keys)
      q[nq++] = (struct dbs_sigv4_pair){"max-keys", maxkeys};
    struct request rq = {.op = "list",
                         .what = prefix,
                         .query = q,
                         .nquery = nq,
                         .region = region,
                         .host = host,
                         .path = path};
    xml.max_entries = s->list_max_keys;
    rc = run(s, &rq, &x, xml_setup, xml_teardown);
    if (rc == 0 && xml.too_many) {
      set_error(s,
                "list s3://%s/%s at %s: one page of the listing holds more "
                "than %u keys (the key cap of one listing)",
                s->bucket, prefix ? prefix : "", where(s), s->list_max_keys);
      rc = DBS_STORAGE_EUNAVAILABLE;
    } else if (rc == 0 && xml.bad) {
      set_error(s, "list s3://%s/%s at %s: malformed listing", s->bucket,
                prefix ? prefix : "", where(s));
      rc = DBS_STORAGE_ECORRUPT;
    }
    if (rc)
      goto fail;
    pages++;
    /* The next marker: NextMarker, else the greatest name on this page. */
    const char* next =
        xml.next_marker && xml.next_marker[0] ? xml.next_marker : NULL;
    if (next == NULL)
      for (size_t i = 0; i < xml.n; i++)
        if (next == NULL || strcmp(xml.entries[i].key, next) > 0)
          next = xml.entries[i].key;
    bool truncated = xml.truncated;
    char* nm = next ? strdup(next) : NULL;
    if ((rc = append_entries(out, &cap, &xml)) != 0) {
      free(nm);
      goto fail;
    }
    if (!truncated) {
      free(nm);
      break;
    }
    if (nm == NULL || (marker && strcmp(nm, marker) <= 0)) {
      free(nm);
      set_error(s,
                "list s3://%s/%s at %s: the endpoint answers \"truncated\" "
                "but its next marker does not advance (page %u): it is not "
                "S3-compatible enough to list this replica",
                s->bucket, prefix ? prefix : "", where(s), pages);
      rc = DBS_STORAGE_EUNAVAILABLE;
      goto fail;
    }
    /* A listing is bounded: an endpoint that always answers "truncated"
     * with a new marker must not grow it (and the restore) forever. */
    int64_t spent = now_ms() - list_start;
    const char* stop = pages >= s->list_max_pages   ? "page cap"
                       : out->n >= s->list_max_keys ? "key cap"
                       : spent >= (int64_t)s->timeout_ms
                           ? "time budget (--restore-timeout)"
                           : NULL;
    if (stop != NULL) {
      free(nm);
      set_error(s,
                "list s3://%s/%s at %s: the endpoint still answers "
                "\"truncated\" with a new marker after %u pages, %zu keys "
                "and %.1f s; stopped at the %s of one listing (%u pages, "
                "%u keys, %.0f s): an endpoint whose listing never ends, or "
                "a replica far larger than litestream makes",
                s->bucket, prefix ? prefix : "", where(s), pages, out->n,
                (double)spent / 1000.0, stop, s->list_max_pages,
                s->list_max_keys, (double)s->timeout_ms / 1000.0);
      rc = DBS_STORAGE_EUNAVAILABLE;
      goto fail;
    }
    free(marker);
    marker = nm;
  }
  /* Providers may list out of order or repeat prefixes across pages. */
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
  dbs_log_debug("s3: listed %zu entries below s3://%s/%s in %u page(s)", out->n,
                s->bucket, prefix ? prefix : "", pages);
  rc = 0;
fail:
  if (rc)
    dbs_storage_list_free(out);
  xml_ctx_free(&xml);
  free(marker);
  free(region);
  free(host);
  free(path);
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
  struct s3* s = (struct s3*)st;
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
  set_error(s,
            "list s3://%s/%s at %s: nothing is listed below this prefix, "
            "but %zu entries are below %s: this server drops the leading "
            "'/' of object keys, so the replica is stored without it "
            "(litestream 0.3 cannot restore it either); remove the leading "
            "'/' from path in litestream.yml",
            s->bucket, prefix, where(s), n, bare);
  return DBS_STORAGE_EDENIED;
}

/* ---------- get ---------- */

static int s3_get(struct dbs_storage* st, const char* key,
                  dbs_storage_sink sink, void* arg) {
  struct s3* s = (struct s3*)st;
  char *region = NULL, *host = NULL, *path = NULL;
  struct xfer* x = calloc(1, sizeof(*x));
  int rc;
  if (x == NULL)
    return -ENOMEM;
  x->s = s;
  x->mode = BODY_SINK;
  x->sink = sink;
  x->arg = arg;
  x->total = -1;
  if ((rc = ensure_region(s, &region)) != 0)
    goto fail;
  if ((rc = address(s, region, key, &host, &path)) != 0)
    goto fail;
  struct request rq = {.op = "get",
                       .key = key,
                       .what = key,
                       .region = region,
                       .host = host,
                       .path = path,
                       .range_resume = true};
  rc = run(s, &rq, x, NULL, NULL);
fail:
  free(region);
  free(host);
  free(path);
  free(x);
  return rc;
}

/* ---------- describe, close, open ---------- */

static const char* s3_describe(struct dbs_storage* st) {
  return ((struct s3*)st)->desc;
}

static void s3_close(struct dbs_storage* st) {
  struct s3* s = (struct s3*)st;
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->npool; i++)
    curlapi->easy_cleanup(s->pool[i]);
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_load_rc; /* 0 or -ELIBACC (logged by dynlib) */
static CURLcode curl_init_rc;
static void curl_init(void) {
  curl_load_rc = dbs_dynlib_curl(&curlapi);
  if (curl_load_rc == 0)
    curl_init_rc = curlapi->global_init(CURL_GLOBAL_ALL);
}

/* Splits an endpoint ("https://host:port/path", scheme optional). */
static int parse_endpoint(struct s3* s, const char* ep) {
  const char* rest = ep;
  const char* sep = strstr(ep, "://");
  if (sep) {
    size_t n = (size_t)(sep - ep);
    if (!((n == 5 && strncasecmp(ep, "https", 5) == 0) ||
          (n == 4 && strncasecmp(ep, "http", 4) == 0)))
      return -EINVAL;
    s->scheme = strndup(ep, n);
    if (s->scheme)
      for (char* p = s->scheme; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    rest = sep + 3;
  } else {
    s->scheme = strdup("https"); /* as aws-sdk-go does */
  }
  if (s->scheme == NULL)
    return -ENOMEM;
  size_t hl = strcspn(rest, "/?#");
  if (hl == 0)
    return -EINVAL;
  char* hp = strndup(rest, hl);
  if (hp == NULL)
    return -ENOMEM;
  for (char* p = hp; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  /* Drop the scheme's default port: the Host header omits it. */
  const char* dflt = strcmp(s->scheme, "https") == 0 ? ":443" : ":80";
  size_t l = strlen(hp), dl = strlen(dflt);
  char* close_br = strrchr(hp, ']');
  char* colon = strrchr(hp, ':');
  if (l > dl && strcmp(hp + l - dl, dflt) == 0 &&
      (close_br == NULL || colon > close_br))
    hp[l - dl] = '\0';
  s->hostport = hp;
  const char* p = rest + hl;
  size_t pl = strcspn(p, "?#");
  while (pl > 0 && p[pl - 1] == '/')
    pl--;
  s->base_path = strndup(p, pl);
  return s->base_path ? 0 : -ENOMEM;
}

int dbs_storage_s3_open(const struct dbs_replica_config* r,
                        const struct dbs_s3_options* o,
                        struct dbs_storage** out) {
  static const struct dbs_s3_options defaults = {0};
  struct s3* s = NULL;
  int rc = -ENOMEM;
  *out = NULL;
  if (o == NULL)
    o = &defaults;
  if (empty(r->bucket)) {
    dbs_log_errorx("s3 replica %s: no bucket (set bucket: or url: "
                   "s3://BUCKET/PATH in litestream.yml)",
                   r->name ? r->name : "");
    return -EINVAL;
  }
  pthread_once(&curl_once, curl_init);
  if (curl_load_rc != 0) /* a missing library: the image lacks a package */
    return curl_load_rc;
  if (curl_init_rc != CURLE_OK) {
    dbs_log_errorx("s3: libcurl initialisation failed: %s",
                   curlapi->easy_strerror(curl_init_rc));
    return -ENOMEM;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return -ENOMEM;
  pthread_mutex_init(&s->lock, NULL);
  s->base.ops = &s3_ops;
  s->bucket = strdup(r->bucket);
  if (s->bucket == NULL)
    goto fail;
  if (!empty(r->endpoint)) {
    rc = parse_endpoint(s, r->endpoint);
    if (rc == -EINVAL)
      dbs_log_errorx("s3 replica %s: endpoint %s is not an http(s) URL",
                     r->name ? r->name : "", r->endpoint);
    if (rc)
      goto fail;
    rc = -ENOMEM;
  } else {
    s->scheme = strdup("https");
    s->base_path = strdup("");
    if (s->scheme == NULL || s->base_path == NULL)
      goto fail;
  }
  if (!empty(r->region))
    s->region = strdup(r->region);
  else if (s->hostport)
    s->region = strdup("us-east-1");
  if (!empty(r->region) || s->hostport) {
    if (s->region == NULL)
      goto fail;
  }
  /* litestream: path style when asked, and always with an endpoint unless
   * the config said otherwise (the parser resolved that into the flag). */
  s->path_style = r->force_path_style;
  s->skip_verify = r->skip_verify;
  if (!empty(r->access_key_id) && (s->akid = strdup(r->access_key_id)) == NULL)
    goto fail;
  if (!empty(r->secret_access_key) &&
      (s->secret = strdup(r->secret_access_key)) == NULL)
    goto fail;
  const char* token =
      !empty(o->session_token) ? o->session_token : r->session_token;
  if (!empty(token) && (s->token = strdup(token)) == NULL)
    goto fail;
  if ((o->ca_file && (s->ca_file = strdup(o->ca_file)) == NULL) ||
      (o->connect_to && (s->connect_to = strdup(o->connect_to)) == NULL))
    goto fail;
  dbs_log_add_secret(s->secret);
  dbs_log_add_secret(s->token);
  if (empty(s->akid) != empty(s->secret)) {
    dbs_log_errorx("s3 replica %s: an access key id without a secret (or the "
                   "reverse): set both LITESTREAM_ACCESS_KEY_ID and "
                   "LITESTREAM_SECRET_ACCESS_KEY",
                   r->name ? r->name : "");
    rc = -EINVAL;
    goto fail;
  }
  if (empty(s->akid))
    dbs_log_warnx("s3 replica %s: no credentials; requests are sent "
                  "unsigned (anonymous)",
                  r->name ? r->name : "");
  s->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
  s->stall_ms = o->stall_timeout_ms ? o->stall_timeout_ms : DEFAULT_STALL_MS;
  s->max_keys = o->max_keys;
  s->list_max_pages =
      o->list_max_pages ? o->list_max_pages : DBS_S3_LIST_MAX_PAGES;
  s->list_max_keys = o->list_max_keys ? o->list_max_keys : DBS_S3_LIST_MAX_KEYS;
  s->pool_max = o->parallelism ? o->parallelism : 8;
  s->pool = calloc(s->pool_max, sizeof(*s->pool));
  if (s->pool == NULL)
    goto fail;
  size_t dl = strlen(s->bucket) + (s->hostport ? strlen(s->hostport) : 0) +
              strlen(s->base_path) + strlen(s->scheme) + 32;
  s->desc = malloc(dl);
  if (s->desc == NULL)
    goto fail;
  s->where = malloc(dl);
  if (s->where == NULL)
    goto fail;
  if (s->hostport) {
    snprintf(s->desc, dl, "s3://%s at %s://%s%s", s->bucket, s->scheme,
             s->hostport, s->base_path);
    snprintf(s->where, dl, "%s://%s%s", s->scheme, s->hostport, s->base_path);
  } else {
    snprintf(s->desc, dl, "s3://%s", s->bucket);
    snprintf(s->where, dl, "AWS S3");
  }
  *out = &s->base;
  return 0;
fail:
  s3_close(&s->base);
  return rc;
}
