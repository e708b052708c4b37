/*
 * S3 transfers over libcurl: one attempt (send the signed request, stream
 * the body into a parser or a sink, resume a get with Range), the retry
 * loop with backoff and full jitter, and the pool of kept-alive handles.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dynlib.h"
#include "log.h"
#include "s3_internal.h"

#define BACKOFF_BASE_MS 200u
#define BACKOFF_CAP_MS 10000u
#define MAX_CONNECT_MS 10000u

/* libcurl, loaded on first open (dbs_s3_curl_load); every other use
 * follows an open, so pthread_once orders the write before all reads. */
static const struct dbs_dynlib_curl* curlapi;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_load_rc; /* 0 or -ELIBACC (logged by dynlib) */
static CURLcode curl_init_rc;
static void curl_init(void) {
  curl_load_rc = dbs_dynlib_curl(&curlapi);
  if (curl_load_rc == 0)
    curl_init_rc = curlapi->global_init(CURL_GLOBAL_ALL);
}

int dbs_s3_curl_load(void) {
  pthread_once(&curl_once, curl_init);
  if (curl_load_rc != 0) /* a missing library: the image lacks a package */
    return curl_load_rc;
  if (curl_init_rc != CURLE_OK) {
    dbs_log_errorx("s3: libcurl initialisation failed: %s",
                   curlapi->easy_strerror(curl_init_rc));
    return -ENOMEM;
  }
  return 0;
}

/* ---------- small helpers ---------- */

int64_t dbs_s3_now_ms(void) {
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

static unsigned jitter_seed(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (unsigned)ts.tv_nsec ^ (unsigned)(uintptr_t)&ts;
}

static bool status_ok(long st) {
  return st == 200 || st == 206;
}

/* ---------- the pool of kept-alive handles ---------- */

static CURL* pool_get(struct dbs_s3* s) {
  CURL* h = NULL;
  pthread_mutex_lock(&s->lock);
  if (s->npool > 0)
    h = s->pool[--s->npool];
  pthread_mutex_unlock(&s->lock);
  return h ? h : curlapi->easy_init();
}

static void pool_put(struct dbs_s3* s, CURL* h) {
  assert(h != NULL);
  pthread_mutex_lock(&s->lock);
  if (s->npool < s->pool_max) {
    s->pool[s->npool++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  if (h)
    curlapi->easy_cleanup(h);
}

void dbs_s3_pool_drain(struct dbs_s3* s) {
  for (size_t i = 0; i < s->npool; i++)
    curlapi->easy_cleanup(s->pool[i]);
  s->npool = 0;
}

/* ---------- libcurl's callbacks ---------- */

/* A header line of the answer: a new status line clears what the last
 * answer (a 100 Continue...) said; the headers dbsetup reads are kept. */
static size_t on_header(char* buf, size_t size, size_t n, void* ud) {
  struct dbs_s3_xfer* x = ud;
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

/* An error answer's body, kept (cut) for its XML. */
static void keep_errbody(struct dbs_s3_xfer* x, const char* buf, size_t len) {
  size_t room = sizeof(x->errbody) - 1 - x->errlen;
  size_t take = len < room ? len : room;
  memcpy(x->errbody + x->errlen, buf, take);
  x->errlen += take;
  x->errbody[x->errlen] = '\0';
}

/* A good answer's bytes for the sink: those already delivered are skipped,
 * more than the object has abort. Returns len, or 0 to abort. */
static size_t to_sink(struct dbs_s3_xfer* x, const char* buf, size_t len) {
  assert(x->mode == DBS_S3_BODY_SINK && x->sink != NULL);
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

static size_t on_body(char* buf, size_t size, size_t n, void* ud) {
  struct dbs_s3_xfer* x = ud;
  size_t len = size * n;
  if (!status_ok(x->status)) {
    keep_errbody(x, buf, len);
    return len;
  }
  if (x->mode == DBS_S3_BODY_XML) {
    dbs_s3_xml_feed(x, buf, len);
    return len;
  }
  return to_sink(x, buf, len);
}

struct attempt {
  CURL* h;
  struct dbs_s3_xfer* x;
};

/* Learns the size of the whole object from a good answer. */
static void note_total(struct dbs_s3_xfer* x) {
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

/* A good answer to a get: a resumed download must be the same object
 * (ETag) and, when the server ignored the Range, the bytes already
 * delivered are skipped. Returns false to abort the transfer. */
static bool accept_object(struct dbs_s3_xfer* x) {
  if (x->etag[0] == '\0') {
    memcpy(x->etag, x->resp_etag, sizeof(x->etag));
  } else if (x->resp_etag[0] && strcmp(x->etag, x->resp_etag) != 0) {
    x->etag_changed = true;
    return false;
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
      return false;
    }
    x->skip = x->delivered - start;
  }
  note_total(x);
  return true;
}

/* The status is known once the body starts; libcurl tells it. */
static size_t on_body_status(char* buf, size_t size, size_t n, void* ud) {
  struct attempt* a = ud;
  struct dbs_s3_xfer* x = a->x;
  if (!x->status_known) {
    curlapi->easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &x->status);
    x->status_known = true;
    if (x->mode == DBS_S3_BODY_SINK && status_ok(x->status) &&
        !accept_object(x))
      return 0;
  }
  return on_body(buf, size, n, x);
}

/* ---------- one attempt ---------- */

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

/* The wire headers as libcurl's list, and the CONNECT_TO test hook.
 * Returns 0 or -ENOMEM; the caller frees both lists either way. */
static int make_lists(const struct dbs_s3* s, const struct dbs_s3_wire* w,
                      struct curl_slist** hl, struct curl_slist** ct) {
  bool oom = false;
  for (size_t i = 0; i < w->nheaders; i++)
    *hl = add_header(*hl, &oom, w->headers[i].name, w->headers[i].value);
  if (oom)
    return -ENOMEM;
  if (s->connect_to) {
    *ct = curlapi->slist_append(NULL, s->connect_to);
    if (*ct == NULL)
      return -ENOMEM;
  }
  return 0;
}

/* Clears what the last attempt's answer left in x. */
static void reset_answer(struct dbs_s3_xfer* x, bool resuming) {
  x->status = 0;
  x->status_known = false;
  x->errlen = 0;
  x->errbody[0] = '\0';
  x->retry_after_s = -1;
  x->content_length = -1;
  x->request_id[0] = x->content_range[0] = '\0';
  x->skip = 0;
  x->resuming = resuming;
}

/* Sets every option of one GET on h (freshly reset). remaining_ms bounds
 * the connection phase. */
static void set_options(const struct dbs_s3* s, CURL* h, const char* url,
                        struct curl_slist* hl, struct curl_slist* ct,
                        struct attempt* a, char* errbuf, int64_t remaining_ms) {
  long connect_ms = remaining_ms < 1000 ? 1000 : (long)remaining_ms;
  if (connect_ms > (long)MAX_CONNECT_MS)
    connect_ms = MAX_CONNECT_MS;
  long stall_s = (long)((s->stall_ms + 999) / 1000);

  curlapi->easy_setopt(h, CURLOPT_URL, url);
  curlapi->easy_setopt(h, CURLOPT_BUFFERSIZE, 128L * 1024);
  curlapi->easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curlapi->easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curlapi->easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curlapi->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_status);
  curlapi->easy_setopt(h, CURLOPT_WRITEDATA, a);
  curlapi->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curlapi->easy_setopt(h, CURLOPT_HEADERDATA, a->x);
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
}

/* What the transfer came to, once libcurl returned cc: the receiver's or
 * the object's failures first, then libcurl's, then the status. */
static int judge(struct dbs_s3* s, const struct dbs_s3_request* rq,
                 const struct dbs_s3_xfer* x, CURLcode cc, const char* errbuf,
                 enum dbs_s3_outcome* out) {
  *out = DBS_S3_FAIL;
  if (x->sink_rc != 0) {
    dbs_s3_set_error(s, "%s s3://%s/%s: the receiver stopped (%d)", rq->op,
                     s->bucket, rq->key ? rq->key : "", x->sink_rc);
    return x->sink_rc;
  }
  if (x->bad_range) {
    dbs_s3_set_error(
        s,
        "%s s3://%s/%s: the server's answer does not fit the object "
        "(at byte %" PRId64 " of %" PRId64 ", Content-Range '%s')",
        rq->op, s->bucket, rq->key, x->delivered, x->total, x->content_range);
    return DBS_STORAGE_ECORRUPT;
  }
  if (x->etag_changed) {
    dbs_s3_set_error(s,
                     "%s s3://%s/%s: the object changed while it was being "
                     "downloaded (ETag %s, then %s)",
                     rq->op, s->bucket, rq->key, x->etag, x->resp_etag);
    return DBS_STORAGE_ECORRUPT;
  }
  if (cc != CURLE_OK && !(x->status >= 300 && x->errlen > 0))
    return dbs_s3_classify_curl(s, rq, cc, curlapi->easy_strerror(cc), errbuf,
                                out);
  if (!status_ok(x->status)) {
    if (x->status == 416 && x->resuming && x->total >= 0 &&
        x->delivered == x->total) {
      *out = DBS_S3_OK; /* the previous attempt had every byte already */
      return 0;
    }
    return dbs_s3_classify_http(s, rq, x, out);
  }
  if (x->mode == DBS_S3_BODY_SINK && x->total >= 0 &&
      x->delivered != x->total) {
    dbs_s3_set_error(
        s, "%s s3://%s/%s at %s: %" PRId64 " of %" PRId64 " bytes received",
        rq->op, s->bucket, rq->key, s->where, x->delivered, x->total);
    *out = DBS_S3_RETRY;
    return DBS_STORAGE_EUNAVAILABLE;
  }
  *out = DBS_S3_OK;
  return 0;
}

/*
 * Sends one signed request and runs the body into x. Returns 0 with
 * *out = DBS_S3_OK, or a storage error with *out telling whether a retry
 * may help. remaining_ms bounds the connection phase.
 */
static int attempt(struct dbs_s3* s, const struct dbs_s3_request* rq,
                   struct dbs_s3_xfer* x, int64_t remaining_ms,
                   enum dbs_s3_outcome* out) {
  bool resuming = rq->range_resume && x->delivered > 0;
  struct dbs_s3_wire w;
  struct curl_slist *hl = NULL, *ct = NULL;
  CURL* h = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";

  *out = DBS_S3_FAIL;
  int rc = dbs_s3_wire_build(s, rq, resuming ? x->delivered : 0, x->etag, &w);
  if (rc == 0)
    rc = make_lists(s, &w, &hl, &ct);
  if (rc == 0 && (h = pool_get(s)) == NULL)
    rc = -ENOMEM;
  if (rc != 0)
    goto out;
  reset_answer(x, resuming);
  struct attempt a = {h, x};
  curlapi->easy_reset(h); /* keeps its connections, drops old options */
  set_options(s, h, w.url, hl, ct, &a, errbuf, remaining_ms);
  dbs_log_debug("s3: %s %s%s", rq->op, w.url, resuming ? " (resuming)" : "");
  CURLcode cc = curlapi->easy_perform(h);
  if (!x->status_known)
    curlapi->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
  curlapi->easy_reset(h); /* nothing may point at this frame later */
  rc = judge(s, rq, x, cc, errbuf, out);
out:
  if (h)
    pool_put(s, h);
  curlapi->slist_free_all(hl);
  curlapi->slist_free_all(ct);
  dbs_s3_wire_free(&w);
  return rc;
}

/* ---------- retries ---------- */

/* How long to wait before retry n: full jitter below an exponential cap,
 * at least what Retry-After asked, never past the deadline. */
static int64_t backoff_ms(unsigned n, unsigned* seed,
                          const struct dbs_s3_xfer* x, int64_t left) {
  uint64_t cap = BACKOFF_BASE_MS << (n < 16 ? n : 16);
  if (cap > BACKOFF_CAP_MS)
    cap = BACKOFF_CAP_MS;
  int64_t wait = (int64_t)(rand_r(seed) % (cap + 1));
  if (x->retry_after_s > 0 && x->retry_after_s * 1000 > wait)
    wait = x->retry_after_s * 1000;
  if (wait > left)
    wait = left;
  return wait;
}

/* One attempt between setup and teardown; an XML answer that is not
 * well-formed fails it. */
static int attempt_once(struct dbs_s3* s, const struct dbs_s3_request* rq,
                        struct dbs_s3_xfer* x, int64_t remaining_ms,
                        void (*setup)(struct dbs_s3_xfer*),
                        void (*teardown)(struct dbs_s3_xfer*),
                        enum dbs_s3_outcome* out) {
  if (setup)
    setup(x);
  int rc = attempt(s, rq, x, remaining_ms, out);
  if (teardown)
    teardown(x);
  if (*out == DBS_S3_OK && rc == 0 && x->mode == DBS_S3_BODY_XML &&
      x->xml_failed) {
    dbs_s3_set_error(s, "%s s3://%s/%s at %s: the answer is not valid XML",
                     rq->op, s->bucket, rq->what ? rq->what : "", s->where);
    rc = DBS_STORAGE_ECORRUPT;
    *out = DBS_S3_FAIL;
  }
  return rc;
}

/* The budget counts time without progress: an attempt that delivered
 * bytes before failing starts it (and the backoff) afresh, so a long
 * download survives a late reset. */
int dbs_s3_run(struct dbs_s3* s, const struct dbs_s3_request* rq,
               struct dbs_s3_xfer* x, void (*setup)(struct dbs_s3_xfer*),
               void (*teardown)(struct dbs_s3_xfer*)) {
  assert(x->s == s);
  assert(x->mode == DBS_S3_BODY_SINK || x->xml != NULL);
  int64_t start = dbs_s3_now_ms();
  int64_t deadline = start + s->timeout_ms;
  unsigned seed = jitter_seed();
  unsigned attempts = 0;
  char last[sizeof(s->base.error)];
  for (unsigned n = 0;; n++, attempts++) {
    enum dbs_s3_outcome out;
    int64_t before = x->delivered;
    int rc = attempt_once(s, rq, x, deadline - dbs_s3_now_ms(), setup, teardown,
                          &out);
    if (out != DBS_S3_RETRY)
      return rc;
    int64_t now = dbs_s3_now_ms();
    if (x->delivered > before) {
      deadline = now + s->timeout_ms;
      n = 0;
    }
    dbs_s3_last_error(s, last);
    if (now >= deadline) {
      dbs_s3_set_error(s, "%s (gave up after %u attempts in %.1f s)", last,
                       attempts + 1, (double)(now - start) / 1000.0);
      return DBS_STORAGE_EUNAVAILABLE;
    }
    int64_t wait = backoff_ms(n, &seed, x, deadline - now);
    dbs_log_warnx("s3: %s; retrying in %.1f s (attempt %u)", last,
                  (double)wait / 1000.0, attempts + 2);
    sleep_ms(wait);
  }
}
