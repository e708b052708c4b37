/*
 * AWS Signature Version 4 for S3 requests (header form), computed with
 * OpenSSL libcrypto. Pure functions of their inputs and a time argument.
 */
#ifndef DBS_SIGV4_H
#define DBS_SIGV4_H

#include <stddef.h>
#include <time.h>

/* SHA-256 of the empty string, the payload hash of a GET. */
#define DBS_SIGV4_EMPTY_SHA256                                                 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DBS_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* A name/value pair, not encoded (query parameter or header). */
struct dbs_sigv4_pair {
  const char* name;
  const char* value; /* "" for a valueless query parameter such as ?location */
};

struct dbs_sigv4_request {
  const char* method; /* "GET" */
  const char* host;   /* Host header value: "host" or "host:port" */
  const char* path;   /* absolute, not encoded: "/bucket/key" */
  const struct dbs_sigv4_pair* query; /* not encoded, any order */
  size_t nquery;
  /* Further headers to sign and send (range, date...), any case, no
   * duplicates, none of host/x-amz-date/x-amz-content-sha256/
   * x-amz-security-token/authorization. */
  const struct dbs_sigv4_pair* headers;
  size_t nheaders;
  const char* payload_hash; /* hex SHA-256 or UNSIGNED-PAYLOAD; NULL: empty */
  const char* region;       /* "us-east-1", "auto"... */
  const char* service;      /* NULL: "s3" */
};

struct dbs_sigv4_creds {
  const char* access_key_id;
  const char* secret_access_key;
  const char* session_token; /* NULL or "" when none */
};

/* The headers to send, and the intermediate values for tests and errors. */
struct dbs_sigv4_signed {
  char amz_date[17];       /* x-amz-date: 20130524T000000Z */
  char signature[65];      /* hex */
  char* authorization;     /* Authorization header value */
  char* canonical_request; /* as hashed */
  char* string_to_sign;
  char* canonical_query; /* the query string to put in the URL */
  char* canonical_uri;   /* the encoded path to put in the URL */
  char* signed_headers;  /* "host;range;x-amz-content-sha256;x-amz-date" */
};

/*
 * Signs req with creds at time now. Fills *out; the caller frees its
 * strings with dbs_sigv4_signed_free. The caller must send exactly the
 * headers that were signed: Host, the request's headers, x-amz-date,
 * x-amz-content-sha256 (payload_hash), x-amz-security-token (when a session
 * token is set) and Authorization, and use canonical_uri and
 * canonical_query as the URL's path and query. Returns 0, -EINVAL (a
 * missing field, a duplicate or reserved header), -ELIBACC (libcrypto.so.3
 * missing; logged) or -ENOMEM.
 */
int dbs_sigv4_sign(const struct dbs_sigv4_request* req,
                   const struct dbs_sigv4_creds* creds, time_t now,
                   struct dbs_sigv4_signed* out);

/* Frees the strings of a signed result and clears it. */
void dbs_sigv4_signed_free(struct dbs_sigv4_signed* s);

/*
 * URI-encodes s as S3 wants it: every byte except A-Z a-z 0-9 - . _ ~ as
 * %XX (uppercase hex); '/' kept when keep_slash. Returns a malloc'd string
 * owned by the caller, or NULL when out of memory.
 */
char* dbs_sigv4_uri_encode(const char* s, int keep_slash);

/* Lowercase hex SHA-256 of data into hex (65 bytes); "" when libcrypto
 * cannot be loaded (logged). */
void dbs_sigv4_sha256_hex(const void* data, size_t len, char hex[65]);

#endif
