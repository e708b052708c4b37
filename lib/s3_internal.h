/*
 * The S3 backend's parts, shared between its files and nothing else:
 * storage_s3.c (the storage interface: open, list, get, region lookup),
 * s3_request.c (addressing and the signed request), s3_transfer.c
 * (libcurl: one attempt, the retry loop, the connection pool), s3_xml.c
 * (expat: listings, error answers, locations) and s3_classify.c (an
 * answer or a libcurl failure as a storage error and a message).
 */
#ifndef DBS_S3_INTERNAL_H
#define DBS_S3_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <expat.h>

#include "sigv4.h"
#include "storage.h"

#define DBS_S3_ERRBODY_MAX 8192
#define DBS_S3_TEXT_MAX 4096

/* One open S3 storage. Fields are set by dbs_storage_s3_open and then only
 * read, except region, base.error and the pool, which lock guards. */
struct dbs_s3 {
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
  char* where; /* for messages: the endpoint URL or "AWS S3" */
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

/* ---------- storage_s3.c ---------- */

static inline bool dbs_s3_empty(const char* s) {
  return s == NULL || s[0] == '\0';
}

/* snprintf that may cut: messages are bounded on purpose. */
void dbs_s3_fmt(char* buf, size_t n, const char* f, ...)
    __attribute__((format(printf, 3, 4)));

/* Stores the operation's error message (redacted) in s->base.error; takes
 * s->lock, which the caller must not hold. */
void dbs_s3_set_error(struct dbs_s3* s, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies s->base.error into buf (sizeof(s->base.error) bytes) under
 * s->lock, which the caller must not hold. */
void dbs_s3_last_error(struct dbs_s3* s, char* buf);

/* ---------- s3_xml.c: the XML answers ---------- */

enum dbs_s3_xml_kind { DBS_S3_XML_LIST, DBS_S3_XML_ERROR, DBS_S3_XML_LOCATION };

/* What one answer said, filled by the expat handlers as it streams in. */
struct dbs_s3_xml {
  enum dbs_s3_xml_kind kind;
  int depth;
  char path[4][32]; /* element names at depth 1..4 */
  char text[DBS_S3_TEXT_MAX];
  size_t textlen;
  bool overflow;
  bool bad;
  /* list */
  struct dbs_storage_entry* entries;
  size_t n, cap;
  struct dbs_storage_entry cur;
  bool truncated;
  char* next_marker;
  size_t max_entries; /* 0: no limit; kept across dbs_s3_xml_begin */
  bool too_many;
  /* error */
  char code[128], message[256], region[64], endpoint[256], bucket[256];
  /* location */
  char location[64];
  bool saw_location;
};

/* Copies src into dst (size n > 0), cut at n - 1 bytes. */
void dbs_s3_copy_cut(char* dst, size_t n, const char* src);

/* Frees what x holds (entries, keys, marker) and zeroes it. */
void dbs_s3_xml_free(struct dbs_s3_xml* x);

/* Parses a whole (small) XML document into x (its kind set by the
 * caller); returns 0, or -EBADMSG when it is not well-formed, or -ENOMEM. */
int dbs_s3_xml_parse_all(struct dbs_s3_xml* x, const char* buf, size_t len);

/* ---------- s3_transfer.c: one HTTP exchange ---------- */

enum dbs_s3_body { DBS_S3_BODY_XML, DBS_S3_BODY_SINK };

/* A request's state across its attempts, and the last answer's headers. */
struct dbs_s3_xfer {
  struct dbs_s3* s;
  enum dbs_s3_body mode;
  /* XML body (list, location), parsed as it streams in */
  XML_Parser xp;
  struct dbs_s3_xml* xml;
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
  char errbody[DBS_S3_ERRBODY_MAX];
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

/* One operation to send (a listing page, a get, a location lookup). */
struct dbs_s3_request {
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

/* What an attempt came to. */
enum dbs_s3_outcome { DBS_S3_OK, DBS_S3_RETRY, DBS_S3_FAIL };

/* Loads and initialises libcurl once per process. Returns 0, -ELIBACC
 * (libcurl.so.4 missing; logged by dynlib, naming the package) or -ENOMEM
 * (curl_global_init failed; logged). */
int dbs_s3_curl_load(void);

/* CLOCK_MONOTONIC in ms. */
int64_t dbs_s3_now_ms(void);

/* Frees the kept-alive handles of s's pool (not the pool array). */
void dbs_s3_pool_drain(struct dbs_s3* s);

/*
 * Runs rq with retries inside s->timeout_ms. setup() is called before
 * every attempt and teardown() after it (NULL: none). Returns 0 or a
 * storage error (DBS_STORAGE_E*, or the sink's error, or -ENOMEM) with the
 * reason in s->base.error.
 */
int dbs_s3_run(struct dbs_s3* s, const struct dbs_s3_request* rq,
               struct dbs_s3_xfer* x, void (*setup)(struct dbs_s3_xfer*),
               void (*teardown)(struct dbs_s3_xfer*));

/* ---------- s3_xml.c: an XML body as it streams in ---------- */

/* Before an attempt: clears x->xml (keeping its kind and max_entries) and
 * gives x a fresh parser (x->xml_failed when there is none). */
void dbs_s3_xml_begin(struct dbs_s3_xfer* x);

/* Feeds one piece of a good answer's body; a failure sets x->xml_failed. */
void dbs_s3_xml_feed(struct dbs_s3_xfer* x, const char* buf, size_t len);

/* After an attempt: ends the document and frees the parser. */
void dbs_s3_xml_end(struct dbs_s3_xfer* x);

/* ---------- s3_request.c: addressing and signing ---------- */

/* Splits an endpoint ("https://host:port/path", scheme optional) into
 * s->scheme, s->hostport and s->base_path. Returns 0, -EINVAL (not an
 * http(s) URL or no host) or -ENOMEM. */
int dbs_s3_parse_endpoint(struct dbs_s3* s, const char* ep);

/* Fills *host and *path (unencoded; both malloc'd, the caller frees them)
 * for key (NULL: the bucket itself) in region, virtual-host style when the
 * bucket allows it and s->path_style is off. Returns 0 or -ENOMEM. */
int dbs_s3_address(struct dbs_s3* s, const char* region, const char* key,
                   char** host, char** path);

/* A signed request as it goes on the wire: its URL and headers in order. */
struct dbs_s3_wire {
  char* url;
  struct dbs_sigv4_pair headers[8]; /* point into range, etag, sg and s */
  size_t nheaders;
  char range[64];
  struct dbs_sigv4_signed sg;
};

/*
 * Signs rq for s now; a resuming get (resume_from > 0) asks for the bytes
 * from resume_from on, of the object with ETag etag ("" when unknown).
 * Fills *w; free it with dbs_s3_wire_free (also after a failure). Returns
 * 0, -ENOMEM, or DBS_STORAGE_EDENIED when it cannot be signed (message in
 * s->base.error).
 */
int dbs_s3_wire_build(struct dbs_s3* s, const struct dbs_s3_request* rq,
                      int64_t resume_from, const char* etag,
                      struct dbs_s3_wire* w);

void dbs_s3_wire_free(struct dbs_s3_wire* w);

/* ---------- s3_classify.c: answers as storage errors ---------- */

/* A provider's error answer in x (status, body, headers) as a storage
 * error: returns DBS_STORAGE_E*, sets *out (retry or fail) and the message
 * (with what to fix) in s->base.error. */
int dbs_s3_classify_http(struct dbs_s3* s, const struct dbs_s3_request* rq,
                         const struct dbs_s3_xfer* x, enum dbs_s3_outcome* out);

/* A libcurl failure cc (described by text, with libcurl's detail, maybe
 * "") as a storage error: DBS_STORAGE_EUNAVAILABLE, *out saying whether a
 * retry may help, the message in s->base.error. */
int dbs_s3_classify_curl(struct dbs_s3* s, const struct dbs_s3_request* rq,
                         CURLcode cc, const char* text, const char* detail,
                         enum dbs_s3_outcome* out);

#endif
