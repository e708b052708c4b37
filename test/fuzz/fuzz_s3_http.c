/*
 * A hostile S3 endpoint (storage_s3.c over libcurl): a server thread on
 * 127.0.0.1 answers each request as the input says. The first byte picks
 * what dbsetup asks (even: a listing, odd: a download).
 *
 * Listing: the rest (after the first NUL) is NUL-separated pages; a page's
 * first byte picks the status (statuses[]), the rest is the body. When the
 * pages run out the last one is answered again (an endpoint that never stops);
 * after MAX_REQUESTS requests every answer is a permanent 400. Checked: a
 * listing returned is sorted without duplicates; no marker sent is smaller than
 * the one before (a retry repeats it); no more pages are accepted than the
 * cap; an error comes with a message.
 *
 * Download: the rest is NUL-separated: the object (0x01 in it stands for
 * NUL), then one behaviour per
 * request (get_answer()): the whole object or the asked range, cut short
 * after some bytes, an error status, a range that is not satisfiable, the
 * object changed (another ETag), a 206 starting elsewhere than asked.
 * Checked: what reaches the sink is always a prefix of the object, and all
 * of it when the download succeeds.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "storage.h"
#include "storage_s3.h"

#define MAX_REQUESTS 40
#define MAX_PAGES 12 /* the listing's page cap, as the option sets it */

static const int statuses[] = {200, 200, 200, 200, 404, 403,
                               500, 503, 301, 400, 200, 206};

/* What the server answers from, set by the fuzzing thread for one input. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fuzz_parts parts;
static bool get_mode;
static unsigned requests, ok_pages;
static char last_marker[4096];
static bool marker_backwards;
static int port;

/* The value of query parameter name in the request line, decoded. */
static bool query_param(const char* req, const char* name, char* out,
                        size_t n) {
  const char* q = strchr(req, '?');
  const char* end = strchr(req, ' ');
  end = end ? strchr(end + 1, ' ') : NULL;
  if (q == NULL || end == NULL || q > end)
    return false;
  size_t nl = strlen(name);
  for (const char* p = q + 1; p < end;) {
    const char* amp = memchr(p, '&', (size_t)(end - p));
    const char* stop = amp ? amp : end;
    if ((size_t)(stop - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
      size_t o = 0;
      for (const char* v = p + nl + 1; v < stop && o + 1 < n; v++) {
        unsigned x;
        if (*v == '%' && stop - v >= 3 && sscanf(v + 1, "%2x", &x) == 1) {
          out[o++] = (char)x;
          v += 2;
        } else {
          out[o++] = *v;
        }
      }
      out[o] = '\0';
      return true;
    }
    p = stop + 1;
  }
  return false;
}

/* One answer: status line, headers, body. */
struct reply {
  char head[1024];
  char* body; /* owned */
  size_t blen;
  size_t send_at_most; /* the connection drops after this many body bytes */
};

static void reply_set(struct reply* r, int status, const char* extra,
                      const char* body, size_t blen, size_t content_length) {
  snprintf(r->head, sizeof(r->head),
           "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%sConnection: close\r\n"
           "\r\n",
           status, content_length, extra);
  r->body = malloc(blen + 1);
  FUZZ_CHECK(r->body != NULL);
  memcpy(r->body, body, blen);
  r->blen = blen;
  r->send_at_most = blen;
}

/* Listing: the next page. */
static void list_answer(const char* req, struct reply* r) {
  char marker[4096];
  unsigned i = requests++;
  if (query_param(req, "marker", marker, sizeof(marker))) {
    if (strcmp(marker, last_marker) < 0) /* a retry repeats one */
      marker_backwards = true;
    snprintf(last_marker, sizeof(last_marker), "%s", marker);
  }
  if (i >= MAX_REQUESTS || parts.n <= 1) {
    const char* e = "<Error><Code>InvalidRequest</Code></Error>";
    reply_set(r, 400, "", e, strlen(e), strlen(e));
    return;
  }
  size_t k = 1 + (i + 1 < parts.n ? i : parts.n - 2);
  const char* p = parts.p[k];
  size_t len = parts.len[k];
  int status = len > 0 ? statuses[(unsigned char)p[0] %
                                  (sizeof(statuses) / sizeof(statuses[0]))]
                       : 200;
  if (status == 200)
    ok_pages++;
  reply_set(r, status, "Content-Type: application/xml\r\n", len ? p + 1 : "",
            len ? len - 1 : 0, len ? len - 1 : 0);
}

/* Download: the object is parts.p[1]; request i behaves as parts.p[2 + i]
 * says (byte 0: what, bytes 1-2: where the connection drops). */
static void get_answer(const char* req, struct reply* r) {
  unsigned i = requests++;
  const char* obj = parts.n > 1 ? parts.p[1] : "";
  size_t olen = parts.n > 1 ? parts.len[1] : 0;
  const char* how = i + 2 < parts.n && i < MAX_REQUESTS ? parts.p[2 + i] : "";
  size_t hlen = i + 2 < parts.n && i < MAX_REQUESTS ? parts.len[2 + i] : 0;
  unsigned what = hlen > 0 ? (unsigned char)how[0] % 8 : 0;
  size_t cut =
      hlen >= 3 ? ((size_t)(unsigned char)how[1] << 8 | (unsigned char)how[2])
                : SIZE_MAX;
  if (i >= MAX_REQUESTS) {
    const char* e = "<Error><Code>InvalidRequest</Code></Error>";
    reply_set(r, 400, "", e, strlen(e), strlen(e));
    return;
  }
  /* Range: bytes=N- (the only form dbsetup sends). */
  size_t from = 0;
  bool ranged = false;
  const char* rg = strcasestr(req, "\r\nRange: bytes=");
  if (rg != NULL) {
    from = strtoull(rg + 15, NULL, 10);
    ranged = true;
  }
  char extra[256];
  const char* etag = "ETag: \"e1\"\r\n";
  switch (what) {
  case 2:
    reply_set(r, 500, "", "<Error><Code>InternalError</Code></Error>", 41, 41);
    return;
  case 3:
    reply_set(r, 404, "", "<Error><Code>NoSuchKey</Code></Error>", 37, 37);
    return;
  case 4:
    snprintf(extra, sizeof(extra), "Content-Range: bytes */%zu\r\n", olen);
    reply_set(r, 416, extra, "<Error><Code>InvalidRange</Code></Error>", 40,
              40);
    return;
  case 5: /* the object changed: another ETag, other bytes */
    if (ranged) {
      char* other = malloc(olen + 1);
      FUZZ_CHECK(other != NULL);
      for (size_t j = 0; j < olen; j++)
        other[j] = (char)~obj[j];
      reply_set(r, 200, "ETag: \"e2\"\r\n", other, olen, olen);
      free(other);
      r->send_at_most = cut;
      return;
    }
    break;
  case 6: /* a 206 of the asked length but from offset 0, labelled so (a
           * proxy that does not honour the start) */
    if (ranged && from > 0 && from < olen) {
      snprintf(extra, sizeof(extra), "%sContent-Range: bytes 0-%zu/%zu\r\n",
               etag, olen - from - 1, olen);
      reply_set(r, 206, extra, obj, olen - from, olen - from);
      r->send_at_most = cut;
      return;
    }
    break;
  default:
    break;
  }
  if ((what == 1 || what == 7 || what == 6) && ranged && from < olen) {
    snprintf(extra, sizeof(extra), "%sContent-Range: bytes %zu-%zu/%zu\r\n",
             etag, from, olen - 1, olen);
    reply_set(r, 206, extra, obj + from, olen - from, olen - from);
  } else if (ranged && from >= olen && what != 0) {
    snprintf(extra, sizeof(extra), "Content-Range: bytes */%zu\r\n", olen);
    reply_set(r, 416, extra, "<Error><Code>InvalidRange</Code></Error>", 40,
              40);
    return;
  } else { /* the whole object, the Range ignored */
    reply_set(r, 200, etag, obj, olen, olen);
  }
  r->send_at_most = cut;
}

static void* serve(void* arg) {
  int ls = *(int*)arg;
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0)
      continue;
    char req[16384];
    size_t n = 0;
    while (n + 1 < sizeof(req)) {
      ssize_t got = recv(fd, req + n, sizeof(req) - 1 - n, 0);
      if (got <= 0)
        break;
      n += (size_t)got;
      req[n] = '\0';
      if (strstr(req, "\r\n\r\n") == NULL)
        continue;
      /* The reply is a copy: the input may be gone once the client has
       * given up. */
      struct reply r = {0};
      pthread_mutex_lock(&lock);
      if (get_mode)
        get_answer(req, &r);
      else
        list_answer(req, &r);
      pthread_mutex_unlock(&lock);
      size_t hl = strlen(r.head);
      size_t bl = r.blen < r.send_at_most ? r.blen : r.send_at_most;
      if (send(fd, r.head, hl, MSG_NOSIGNAL) == (ssize_t)hl && bl > 0)
        (void)send(fd, r.body, bl, MSG_NOSIGNAL);
      free(r.body);
      break;
    }
    close(fd);
  }
  return NULL;
}

/* The download's sink: every byte must continue the object. */
struct got {
  const char* obj;
  size_t olen, n;
};

static int sink(void* arg, const uint8_t* buf, size_t len) {
  struct got* g = arg;
  FUZZ_CHECK(g->n + len <= g->olen);
  FUZZ_CHECK(memcmp(g->obj + g->n, buf, len) == 0);
  g->n += len;
  return 0;
}

static void setup(void) {
  static int ls;
  ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof(a);
  if (ls < 0 || bind(ls, (struct sockaddr*)&a, sizeof(a)) != 0 ||
      listen(ls, 16) != 0 || getsockname(ls, (struct sockaddr*)&a, &al) != 0)
    abort();
  port = ntohs(a.sin_port);
  pthread_t t;
  if (pthread_create(&t, NULL, serve, &ls) != 0)
    abort();
  pthread_detach(t);
}

FUZZ_INITIALIZE(setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (64u << 10))
    return 0;
  char endpoint[64];
  snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
  pthread_mutex_lock(&lock);
  fuzz_split(data, size, &parts);
  get_mode = data[0] & 1;
  if (get_mode && parts.n > 1)
    fuzz_soh_to_nul(parts.p[1], parts.len[1]);
  requests = ok_pages = 0;
  last_marker[0] = '\0';
  marker_backwards = false;
  /* The object, copied: the sink compares while the server may still hold
   * the lock. */
  struct got g = {.olen = get_mode && parts.n > 1 ? parts.len[1] : 0};
  char* obj = malloc(g.olen + 1);
  FUZZ_CHECK(obj != NULL);
  if (g.olen > 0)
    memcpy(obj, parts.p[1], g.olen);
  g.obj = obj;
  pthread_mutex_unlock(&lock);

  struct dbs_replica_config r = {.name = "s3",
                                 .type = "s3",
                                 .kind = DBS_REPLICA_S3,
                                 .bucket = "bkt",
                                 .endpoint = endpoint,
                                 .region = "us-east-1",
                                 .force_path_style = true,
                                 .access_key_id = "AKIAFUZZFUZZFUZZ",
                                 .secret_access_key = "fuzz-secret-value"};
  struct dbs_s3_options o = {.timeout_ms = 5,
                             .stall_timeout_ms = 1000,
                             .list_max_pages = MAX_PAGES,
                             .parallelism = 1};
  struct dbs_storage* st = NULL;
  FUZZ_CHECK(dbs_storage_s3_open(&r, &o, &st) == 0);
  int rc;
  if (get_mode) {
    rc = st->ops->get(st,
                      "db/generations/0123456789abcdef/wal/"
                      "00000001_00000000.wal.lz4",
                      sink, &g);
    if (rc == 0)
      FUZZ_CHECK(g.n == g.olen);
  } else {
    struct dbs_storage_list out;
    rc = st->ops->list(st, "db/generations/", 1, &out);
    if (rc == 0) {
      for (size_t i = 0; i < out.n; i++) {
        FUZZ_CHECK(out.entries[i].key != NULL);
        if (i > 0)
          FUZZ_CHECK(strcmp(out.entries[i - 1].key, out.entries[i].key) < 0);
      }
      dbs_storage_list_free(&out);
    }
  }
  FUZZ_CHECK(rc == 0 || rc == DBS_STORAGE_ENOTFOUND ||
             rc == DBS_STORAGE_EUNAVAILABLE || rc == DBS_STORAGE_EDENIED ||
             rc == DBS_STORAGE_ECORRUPT || rc == -ENOMEM);
  if (rc != 0)
    FUZZ_CHECK(st->error[0] != '\0');
  pthread_mutex_lock(&lock);
  FUZZ_CHECK(!marker_backwards);
  FUZZ_CHECK(get_mode || rc != 0 || ok_pages <= MAX_PAGES);
  fuzz_parts_free(&parts);
  pthread_mutex_unlock(&lock);
  st->ops->close(st);
  free(obj);
  return 0;
}
