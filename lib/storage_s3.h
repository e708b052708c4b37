/*
 * The S3 storage backend: ListObjects and streaming GetObject over libcurl,
 * signed with dbsetup's own SigV4 signer, retrying transient failures with
 * exponential backoff and full jitter inside a time budget.
 */
#ifndef DBS_STORAGE_S3_H
#define DBS_STORAGE_S3_H

#include "litestream_config.h"
#include "storage.h"

/* The default caps of one listing: at most 1000 keys per page (S3's own
 * limit), so a real listing reaches the key cap first; 1,000,000 keys is
 * about 120 MB of listing in memory and 11 days of one WAL segment a
 * second in one generation. */
#define DBS_S3_LIST_MAX_PAGES 10000u
#define DBS_S3_LIST_MAX_KEYS 1000000u

struct dbs_s3_options {
  /* Retry budget of one list or get, in ms (--restore-timeout); 0: 120 s.
   * Transient failures are retried until it is spent, then the operation
   * fails with DBS_STORAGE_EUNAVAILABLE. It counts time without progress:
   * a transfer that delivers bytes is never cut by it and restarts it. */
  unsigned timeout_ms;
  /* How many gets the caller runs at once (--parallelism); sizes the pool
   * of kept-alive connections. 0: 8. */
  unsigned parallelism;
  /* A session token overriding r->session_token (which litestream_config
   * fills from AWS_SESSION_TOKEN only when the credentials came from the
   * environment, as litestream does), or NULL. */
  const char* session_token;
  /* Listing page size (max-keys); 0: the server's default (1000). */
  unsigned max_keys;
  /* One listing (all pages below one prefix) stops with
   * DBS_STORAGE_EUNAVAILABLE when the endpoint still says "truncated"
   * after this many pages or keys, or after timeout_ms in all (an endpoint
   * that always answers "truncated" with a new marker would otherwise grow
   * the listing forever). 0: DBS_S3_LIST_MAX_PAGES, DBS_S3_LIST_MAX_KEYS. */
  unsigned list_max_pages, list_max_keys;
  /* A transfer receiving nothing for this long is reset and retried (from
   * the first byte not yet delivered); 0: 30 s. Whole seconds. */
  unsigned stall_timeout_ms;
  /* Test hooks. ca_file: a PEM bundle to trust instead of the system's.
   * connect_to: a curl CONNECT_TO entry ("HOST:PORT:ADDR:PORT") so that a
   * test can stand in for an AWS host name. */
  const char* ca_file;
  const char* connect_to;
};

/*
 * Opens the S3 replica r (bucket, endpoint, region, force_path_style,
 * skip_verify, access_key_id, secret_access_key as resolved by
 * litestream_config) with options o (NULL for defaults). No request is
 * sent yet; when r has neither endpoint nor region the bucket's region is
 * looked up (GetBucketLocation via us-east-1) by the first operation.
 * Region: r->region, else us-east-1 with an endpoint; "auto" is passed
 * through as the signing region (Tigris, R2). The secret and session token
 * are registered with dbs_log_add_secret. The caller owns *out and frees it
 * with (*out)->ops->close(*out). list and get may be called from several
 * threads at once. Returns 0, -EINVAL (no bucket, no credentials, bad
 * endpoint; a message is logged), -ELIBACC (libcurl.so.4 is not
 * installed: it is loaded here, on the first open; logged, naming the
 * package) or -ENOMEM.
 */
int dbs_storage_s3_open(const struct dbs_replica_config* r,
                        const struct dbs_s3_options* o,
                        struct dbs_storage** out);

/*
 * Test hook (test/fuzz): parses body as the answer to a ListObjects (what
 * 0), an error answer (1) or a GetBucketLocation (2), fed to expat in
 * pieces of chunk bytes (0: at once) as libcurl hands them over. A
 * listing's entries go to out (the caller frees it with
 * dbs_storage_list_free; empty unless 0 is returned) and text gets
 * "<truncated>|<next marker>"; an error answer's fields go to text as
 * "code|message|region|endpoint|bucket", a location as it reads. Returns 0,
 * -EBADMSG (dbsetup would refuse the answer) or -ENOMEM.
 */
int dbs_storage_s3_parse_answer(int what, const char* body, size_t len,
                                size_t chunk, struct dbs_storage_list* out,
                                char* text, size_t textlen);

#endif
