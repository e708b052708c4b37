/*
 * A hostile S3 endpoint answering a whole listing (storage_s3.c over
 * libcurl): status codes, error bodies, pages that are truncated, repeat,
 * go backwards or never end. A server thread on 127.0.0.1 answers each
 * request with the next page of the input.
 *
 * Input: NUL-separated pages; a page's first byte picks the status (see
 * statuses[]), the rest is the body. When the pages run out the last one
 * is answered again (an endpoint that never stops); after MAX_REQUESTS
 * requests every answer is a permanent 400. Checked: a listing returned is
 * sorted without duplicates; no marker sent is smaller than the one before
 * (a retry repeats it); no more pages are accepted than the cap; an error comes
 * with a message.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "storage.h"
#include "storage_s3.h"

#define MAX_REQUESTS 40
#define MAX_PAGES 12 /* the listing's page cap, as the option sets it */

static const int statuses[] = {200, 200, 200, 200, 404, 403,
                               500, 503, 301, 400, 200, 206};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fuzz_parts pages;
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

static void answer(int fd, const char* req) {
  char head[512], marker[4096];
  const char* body;
  size_t blen;
  int status;
  pthread_mutex_lock(&lock);
  unsigned i = requests++;
  if (query_param(req, "marker", marker, sizeof(marker))) {
    if (strcmp(marker, last_marker) < 0) /* a retry repeats one */
      marker_backwards = true;
    snprintf(last_marker, sizeof(last_marker), "%s", marker);
  }
  if (i >= MAX_REQUESTS || pages.n == 0) {
    status = 400;
    body = "<Error><Code>InvalidRequest</Code></Error>";
    blen = strlen(body);
  } else {
    size_t k = i < pages.n ? i : pages.n - 1;
    const char* p = pages.p[k];
    status = pages.len[k] > 0
                 ? statuses[(unsigned char)p[0] %
                            (sizeof(statuses) / sizeof(statuses[0]))]
                 : 200;
    body = pages.len[k] > 0 ? p + 1 : "";
    blen = pages.len[k] > 0 ? pages.len[k] - 1 : 0;
    if (status == 200)
      ok_pages++;
  }
  /* The input may be gone once the client gave up: send a copy. */
  char* copy = malloc(blen + 1);
  FUZZ_CHECK(copy != NULL);
  memcpy(copy, body, blen);
  pthread_mutex_unlock(&lock);
  int n = snprintf(head, sizeof(head),
                   "HTTP/1.1 %d X\r\nContent-Type: application/xml\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                   status, blen);
  if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n && blen > 0)
    (void)send(fd, copy, blen, MSG_NOSIGNAL);
  free(copy);
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
      ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
      if (r <= 0)
        break;
      n += (size_t)r;
      req[n] = '\0';
      if (strstr(req, "\r\n\r\n") != NULL) {
        answer(fd, req);
        break;
      }
    }
    close(fd);
  }
  return NULL;
}

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc;
  (void)argv;
  fuzz_quiet();
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
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64u << 10))
    return 0;
  char endpoint[64];
  snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
  pthread_mutex_lock(&lock);
  fuzz_split(data, size, &pages);
  requests = ok_pages = 0;
  last_marker[0] = '\0';
  marker_backwards = false;
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
  struct dbs_storage_list out;
  int rc = st->ops->list(st, "db/generations/", 1, &out);
  FUZZ_CHECK(rc == 0 || rc == DBS_STORAGE_ENOTFOUND ||
             rc == DBS_STORAGE_EUNAVAILABLE || rc == DBS_STORAGE_EDENIED ||
             rc == DBS_STORAGE_ECORRUPT || rc == -ENOMEM);
  if (rc == 0) {
    for (size_t i = 0; i < out.n; i++) {
      FUZZ_CHECK(out.entries[i].key != NULL);
      if (i > 0)
        FUZZ_CHECK(strcmp(out.entries[i - 1].key, out.entries[i].key) < 0);
    }
    dbs_storage_list_free(&out);
  } else {
    FUZZ_CHECK(st->error[0] != '\0');
  }
  pthread_mutex_lock(&lock);
  FUZZ_CHECK(!marker_backwards);
  FUZZ_CHECK(rc != 0 || ok_pages <= MAX_PAGES);
  fuzz_parts_free(&pages);
  pthread_mutex_unlock(&lock);
  st->ops->close(st);
  return 0;
}
