/*
 * S3 answers and libcurl failures as storage errors: what may be retried,
 * what means "not found", "refused" or "corrupt", and what to fix.
 */
#include <stdio.h>
#include <string.h>

#include "s3_internal.h"

/* Throttling and server-side failures: worth another attempt. */
static bool transient(long st, const char* code) {
  static const char* const codes[] = {"SlowDown", "InternalError",
                                      "RequestTimeout", "ServiceUnavailable"};
  if (st == 429 || st == 500 || st == 502 || st == 503 || st == 504)
    return true;
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
    if (strcmp(code, codes[i]) == 0)
      return true;
  return false;
}

#define TOKEN_HINT                                                             \
  "check AWS_SESSION_TOKEN: it expired or belongs to other credentials"

/* The hint for a provider code that alone says what to fix, or NULL. The
 * codes are distinct, so their order does not matter. */
static const char* code_hint(const struct dbs_s3* s, const char* code,
                             char* buf, size_t n) {
  static const struct {
    const char* code;
    const char* hint;
  } fixed[] = {
      {"SignatureDoesNotMatch",
       "check LITESTREAM_SECRET_ACCESS_KEY / AWS_SECRET_ACCESS_KEY or "
       "secret-access-key in litestream.yml"},
      {"InvalidToken", TOKEN_HINT},
      {"InvalidTokenId", TOKEN_HINT}, /* MinIO */
      {"ExpiredToken", TOKEN_HINT},
      {"TokenRefreshRequired", TOKEN_HINT},
      {"RequestTimeTooSkewed",
       "this machine's clock is wrong; fix the time (NTP)"},
  };
  if (strcmp(code, "NoSuchBucket") == 0) {
    snprintf(buf, n,
             "bucket %s does not exist at %s: check bucket/url and "
             "endpoint in litestream.yml",
             s->bucket, s->where);
    return buf;
  }
  if (strcmp(code, "InvalidAccessKeyId") == 0) {
    /* MinIO forgets temporary credentials once they expire: their key id
     * becomes unknown rather than its token expired. */
    return dbs_s3_empty(s->token)
               ? "the access key id is unknown there: check "
                 "LITESTREAM_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID or "
                 "access-key-id in litestream.yml"
               : "the access key id is unknown there: temporary credentials "
                 "are forgotten once they expire; get new ones "
                 "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                 "AWS_SESSION_TOKEN)";
  }
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    if (strcmp(code, fixed[i].code) == 0)
      return fixed[i].hint;
  return NULL;
}

/* The bucket lives elsewhere: name the region or endpoint the answer
 * gives, else the region the request was signed for. */
static const char* region_hint(const struct dbs_s3_xml* e,
                               const char* signed_region, char* buf, size_t n) {
  if (e->region[0])
    snprintf(buf, n,
             "the bucket is in region %s: set region: %s in litestream.yml "
             "(or AWS_REGION)",
             e->region, e->region);
  else if (e->endpoint[0])
    snprintf(buf, n,
             "the bucket must be addressed at %s: set endpoint/region in "
             "litestream.yml",
             e->endpoint);
  else
    snprintf(buf, n,
             "check region and endpoint in litestream.yml (signed for "
             "region %s)",
             signed_region);
  return buf;
}

/* What to fix for a permanent refusal, and its class in *cls (left at
 * DBS_STORAGE_EDENIED except for the answers that mean the object moved
 * under the download). Checked in order: the provider's code first, then
 * the status. */
static const char* refusal_hint(const struct dbs_s3* s,
                                const struct dbs_s3_request* rq,
                                const struct dbs_s3_xml* e, long st,
                                const char* code, char* buf, size_t n,
                                int* cls) {
  const char* hint = code_hint(s, code, buf, n);
  if (hint != NULL)
    return hint;
  if (strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
      strcmp(code, "PermanentRedirect") == 0 || st == 301)
    return region_hint(e, rq->region, buf, n);
  if (strcmp(code, "AccessDenied") == 0 || st == 403)
    return dbs_s3_empty(s->akid)
               ? "no credentials were configured: set "
                 "LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY"
               : "the credentials may not read this bucket: they need "
                 "s3:ListBucket and s3:GetObject";
  if (st == 416) {
    *cls = DBS_STORAGE_ECORRUPT;
    return "the object is shorter than it was when the download began";
  }
  if (st == 412) {
    *cls = DBS_STORAGE_ECORRUPT;
    return "the object changed while it was being downloaded";
  }
  return "the storage refused the request";
}

int dbs_s3_classify_http(struct dbs_s3* s, const struct dbs_s3_request* rq,
                         const struct dbs_s3_xfer* x,
                         enum dbs_s3_outcome* out) {
  struct dbs_s3_xml e = {.kind = DBS_S3_XML_ERROR};
  if (x->errlen > 0)
    (void)dbs_s3_xml_parse_all(&e, x->errbody, x->errlen);
  if (e.region[0] == '\0')
    dbs_s3_copy_cut(e.region, sizeof(e.region), x->bucket_region);
  const char* code = e.code;
  long st = x->status;
  char obj[600];
  dbs_s3_fmt(obj, sizeof(obj), "s3://%s/%s", s->bucket,
             rq->what ? rq->what : "");
  char base[900];
  dbs_s3_fmt(base, sizeof(base), "%s %s at %s: HTTP %ld%s%s%s%s", rq->op, obj,
             s->where, st, code[0] ? " " : "", code, e.message[0] ? ": " : "",
             e.message);

  if (transient(st, code)) {
    *out = DBS_S3_RETRY;
    dbs_s3_set_error(s, "%s", base);
    return DBS_STORAGE_EUNAVAILABLE;
  }
  *out = DBS_S3_FAIL;
  if (st == 404 && (strcmp(code, "NoSuchKey") == 0 ||
                    (code[0] == '\0' && rq->key != NULL))) {
    dbs_s3_set_error(s, "%s", base);
    return DBS_STORAGE_ENOTFOUND;
  }
  char hintbuf[400];
  int cls = DBS_STORAGE_EDENIED;
  const char* hint =
      refusal_hint(s, rq, &e, st, code, hintbuf, sizeof(hintbuf), &cls);
  dbs_s3_set_error(s, "%s (%s)", base, hint);
  return cls;
}

/* libcurl failures a later attempt may not meet again. */
static bool curl_transient(CURLcode cc) {
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
    return true;
  default:
    return false;
  }
}

static bool curl_untrusted(CURLcode cc) {
  return cc == CURLE_PEER_FAILED_VERIFICATION ||
         cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM;
}

int dbs_s3_classify_curl(struct dbs_s3* s, const struct dbs_s3_request* rq,
                         CURLcode cc, const char* text, const char* detail,
                         enum dbs_s3_outcome* out) {
  char obj[600];
  dbs_s3_fmt(obj, sizeof(obj), "s3://%s/%s", s->bucket,
             rq->what ? rq->what : "");
  *out = curl_transient(cc) ? DBS_S3_RETRY : DBS_S3_FAIL;
  dbs_s3_set_error(s, "%s %s at %s: %s%s%s%s", rq->op, obj, s->where, text,
                   detail[0] ? ": " : "", detail,
                   curl_untrusted(cc)
                       ? " (the server's TLS certificate is not trusted; fix "
                         "the endpoint, or set skip-verify: true only for a "
                         "server you trust)"
                       : "");
  return DBS_STORAGE_EUNAVAILABLE;
}
