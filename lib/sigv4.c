/* AWS Signature Version 4 for S3: canonical request, signing key, header. */
#include "sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#include "dynlib.h"

static void encode_into(struct dbs_strbuf* b, const char* s, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
    if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
        (keep_slash && *p == '/')) {
      dbs_strbuf_putc(b, (char)*p);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      dbs_strbuf_add(b, e, 3);
    }
  }
}

char* dbs_sigv4_uri_encode(const char* s, int keep_slash) {
  struct dbs_strbuf b = {0};
  encode_into(&b, s, keep_slash);
  return dbs_strbuf_take(&b);
}

static void to_hex(const unsigned char* d, size_t n, char* hex) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  hex[2 * n] = '\0';
}

void dbs_sigv4_sha256_hex(const void* data, size_t len, char hex[65]) {
  const struct dbs_dynlib_crypto* c;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  hex[0] = '\0';
  if (dbs_dynlib_crypto(&c) != 0 ||
      c->evp_digest(data, len, md, &n, c->evp_sha256(), NULL) != 1 || n != 32)
    return;
  to_hex(md, 32, hex);
}

static int hmac(const struct dbs_dynlib_crypto* c, const void* key,
                size_t keylen, const char* msg, unsigned char out[32]) {
  unsigned int n = 32;
  if (c->hmac(c->evp_sha256(), key, (int)keylen, (const unsigned char*)msg,
              strlen(msg), out, &n) == NULL)
    return -ENOMEM;
  return 0;
}

/* An encoded query parameter, for sorting. */
struct qparam {
  char *name, *value;
};

static int qparam_cmp(const void* a, const void* b) {
  const struct qparam *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->value, y->value);
}

/* A canonical header: lowercase name, trimmed value with inner runs of
 * spaces collapsed. */
struct cheader {
  char *name, *value;
};

static int cheader_cmp(const void* a, const void* b) {
  return strcmp(((const struct cheader*)a)->name,
                ((const struct cheader*)b)->name);
}

static char* lower_dup(const char* s) {
  char* d = strdup(s);
  if (d)
    for (char* p = d; *p; p++)
      *p = (char)tolower((unsigned char)*p);
  return d;
}

static char* trim_dup(const char* s) {
  struct dbs_strbuf b = {0};
  while (*s == ' ' || *s == '\t')
    s++;
  int space = 0;
  for (; *s; s++) {
    if (*s == ' ' || *s == '\t') {
      space = 1;
      continue;
    }
    if (space && b.len > 0)
      dbs_strbuf_putc(&b, ' ');
    space = 0;
    dbs_strbuf_putc(&b, *s);
  }
  return dbs_strbuf_take(&b);
}

static int reserved_header(const char* lname) {
  static const char* const names[] = {"host", "x-amz-date",
                                      "x-amz-content-sha256",
                                      "x-amz-security-token", "authorization"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(lname, names[i]) == 0)
      return 1;
  return 0;
}

void dbs_sigv4_signed_free(struct dbs_sigv4_signed* s) {
  free(s->authorization);
  free(s->canonical_request);
  free(s->string_to_sign);
  free(s->canonical_query);
  free(s->canonical_uri);
  free(s->signed_headers);
  memset(s, 0, sizeof(*s));
}

/* Frees n encoded query parameters and the array. */
static void qparams_free(struct qparam* qs, size_t n) {
  for (size_t i = 0; qs && i < n; i++) {
    free(qs[i].name);
    free(qs[i].value);
  }
  free(qs);
}

static void cheaders_free(struct cheader* hs, size_t n) {
  for (size_t i = 0; hs && i < n; i++) {
    free(hs[i].name);
    free(hs[i].value);
  }
  free(hs);
}

/* The canonical query string: names and values encoded, sorted by name,
 * then value. Returns a malloc'd string or NULL when out of memory. */
static char* canonical_query(const struct dbs_sigv4_request* req) {
  struct dbs_strbuf b = {0};
  size_t nq;
  char* out = NULL;
  struct qparam* qs = calloc(req->nquery + 1, sizeof(*qs));
  if (qs == NULL)
    return NULL;
  for (nq = 0; nq < req->nquery; nq++) {
    qs[nq].name = dbs_sigv4_uri_encode(req->query[nq].name, 0);
    qs[nq].value = dbs_sigv4_uri_encode(
        req->query[nq].value ? req->query[nq].value : "", 0);
    if (qs[nq].name == NULL || qs[nq].value == NULL) {
      qparams_free(qs, nq + 1);
      return NULL;
    }
  }
  qsort(qs, nq, sizeof(*qs), qparam_cmp);
  for (size_t i = 0; i < nq; i++) {
    if (i)
      dbs_strbuf_putc(&b, '&');
    dbs_strbuf_adds(&b, qs[i].name);
    dbs_strbuf_putc(&b, '=');
    dbs_strbuf_adds(&b, qs[i].value);
  }
  out = dbs_strbuf_take(&b);
  qparams_free(qs, nq);
  return out;
}

/* Appends name (lowercased) and value (trimmed) to hs[*nh]. Returns 0,
 * -ENOMEM, or -EINVAL for a caller's header that is empty or one
 * dbs_sigv4_sign adds itself. */
static int cheader_add(struct cheader* hs, size_t* nh, const char* name,
                       const char* value, int reserved_ok) {
  struct cheader* h = &hs[(*nh)++];
  h->name = lower_dup(name);
  h->value = trim_dup(value ? value : "");
  if (h->name == NULL || h->value == NULL)
    return -ENOMEM;
  if (!reserved_ok && (reserved_header(h->name) || h->name[0] == '\0'))
    return -EINVAL;
  return 0;
}

/* The headers to sign, sorted by name: the fixed ones dbsetup sends and
 * the request's own. Fills *out (the caller frees it with cheaders_free,
 * also after a failure) and *nh. Returns 0, -ENOMEM or -EINVAL (a
 * reserved or repeated header). */
static int canonical_headers(const struct dbs_sigv4_request* req,
                             const char* payload, const char* token,
                             const char* amz_date, struct cheader** out,
                             size_t* nh) {
  const struct dbs_sigv4_pair fixed[] = {
      {"host", req->host},
      {"x-amz-content-sha256", payload},
      {"x-amz-date", amz_date},
      {"x-amz-security-token", token},
  };
  int rc = 0;
  *nh = 0;
  struct cheader* hs = *out = calloc(req->nheaders + 4, sizeof(*hs));
  if (hs == NULL)
    return -ENOMEM;
  for (size_t i = 0; rc == 0 && i < sizeof(fixed) / sizeof(fixed[0]); i++)
    if (fixed[i].value != NULL)
      rc = cheader_add(hs, nh, fixed[i].name, fixed[i].value, 1);
  for (size_t i = 0; rc == 0 && i < req->nheaders; i++)
    rc = cheader_add(hs, nh, req->headers[i].name, req->headers[i].value, 0);
  if (rc)
    return rc;
  qsort(hs, *nh, sizeof(*hs), cheader_cmp);
  for (size_t i = 1; i < *nh; i++)
    if (strcmp(hs[i].name, hs[i - 1].name) == 0)
      return -EINVAL;
  return 0;
}

/*
 * Step 1, the canonical request: method, encoded path (each byte encoded
 * once, slashes kept), canonical query, canonical headers, signed header
 * names and the payload hash, one per line. Fills out->canonical_uri,
 * canonical_query, signed_headers and canonical_request (out->amz_date
 * set). Returns 0, -ENOMEM or -EINVAL.
 */
static int canonical_request(const struct dbs_sigv4_request* req,
                             const char* payload, const char* token,
                             struct dbs_sigv4_signed* out) {
  struct dbs_strbuf b = {0};
  struct cheader* hs = NULL;
  size_t nh = 0;
  int rc = -ENOMEM;
  if ((out->canonical_uri = dbs_sigv4_uri_encode(req->path, 1)) == NULL ||
      (out->canonical_query = canonical_query(req)) == NULL)
    goto out;
  if ((rc = canonical_headers(req, payload, token, out->amz_date, &hs, &nh)))
    goto out;
  rc = -ENOMEM;
  for (size_t i = 0; i < nh; i++) {
    if (i)
      dbs_strbuf_putc(&b, ';');
    dbs_strbuf_adds(&b, hs[i].name);
  }
  if ((out->signed_headers = dbs_strbuf_take(&b)) == NULL)
    goto out;
  dbs_strbuf_adds(&b, req->method);
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, out->canonical_uri);
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, out->canonical_query);
  dbs_strbuf_putc(&b, '\n');
  for (size_t i = 0; i < nh; i++) {
    dbs_strbuf_adds(&b, hs[i].name);
    dbs_strbuf_putc(&b, ':');
    dbs_strbuf_adds(&b, hs[i].value);
    dbs_strbuf_putc(&b, '\n');
  }
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, out->signed_headers);
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, payload);
  if ((out->canonical_request = dbs_strbuf_take(&b)) != NULL)
    rc = 0;
out:
  free(b.p);
  cheaders_free(hs, nh);
  return rc;
}

/*
 * Step 2, the string to sign: the algorithm, the time, the credential
 * scope and the canonical request's hash. Fills out->string_to_sign.
 * Returns 0 or -ENOMEM.
 */
static int string_to_sign(const char* scope, struct dbs_sigv4_signed* out) {
  struct dbs_strbuf b = {0};
  char creq_hash[65];
  dbs_sigv4_sha256_hex(out->canonical_request, strlen(out->canonical_request),
                       creq_hash);
  dbs_strbuf_adds(&b, "AWS4-HMAC-SHA256\n");
  dbs_strbuf_adds(&b, out->amz_date);
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, scope);
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, creq_hash);
  out->string_to_sign = dbs_strbuf_take(&b);
  return out->string_to_sign ? 0 : -ENOMEM;
}

/*
 * Step 3, the signing key: an HMAC chain from "AWS4" + secret over the
 * date, region, service and "aws4_request". Fills k; returns 0 or -ENOMEM.
 * The caller cleanses k.
 */
static int signing_key(const struct dbs_dynlib_crypto* c, const char* secret,
                       const char* date, const char* region,
                       const char* service, unsigned char k[32]) {
  size_t slen = strlen(secret);
  char* secret_key = malloc(slen + 5);
  if (secret_key == NULL)
    return -ENOMEM;
  memcpy(secret_key, "AWS4", 4);
  memcpy(secret_key + 4, secret, slen + 1);
  int rc = hmac(c, secret_key, slen + 4, date, k) ||
                   hmac(c, k, 32, region, k) || hmac(c, k, 32, service, k) ||
                   hmac(c, k, 32, "aws4_request", k)
               ? -ENOMEM
               : 0;
  c->cleanse(secret_key, slen + 4);
  free(secret_key);
  return rc;
}

/*
 * Step 4, the signature: the string to sign's HMAC under the signing key,
 * in hex, and the Authorization header that carries it. Fills
 * out->signature and out->authorization; returns 0 or -ENOMEM.
 */
static int signature(const struct dbs_dynlib_crypto* c,
                     const unsigned char k[32], const char* access_key_id,
                     const char* scope, struct dbs_sigv4_signed* out) {
  unsigned char sig[32];
  if (hmac(c, k, 32, out->string_to_sign, sig))
    return -ENOMEM;
  to_hex(sig, sizeof(sig), out->signature);
  struct dbs_strbuf b = {0};
  dbs_strbuf_adds(&b, "AWS4-HMAC-SHA256 Credential=");
  dbs_strbuf_adds(&b, access_key_id);
  dbs_strbuf_putc(&b, '/');
  dbs_strbuf_adds(&b, scope);
  dbs_strbuf_adds(&b, ",SignedHeaders=");
  dbs_strbuf_adds(&b, out->signed_headers);
  dbs_strbuf_adds(&b, ",Signature=");
  dbs_strbuf_adds(&b, out->signature);
  out->authorization = dbs_strbuf_take(&b);
  return out->authorization ? 0 : -ENOMEM;
}

/* The request's required fields are there. */
static int request_valid(const struct dbs_sigv4_request* req,
                         const struct dbs_sigv4_creds* creds) {
  return req->method && req->host && req->path && req->path[0] == '/' &&
         req->region && req->region[0] && creds->access_key_id &&
         creds->secret_access_key;
}

/* SigV4 in its four steps: canonical request, string to sign, signing
 * key, signature. */
int dbs_sigv4_sign(const struct dbs_sigv4_request* req,
                   const struct dbs_sigv4_creds* creds, time_t now,
                   struct dbs_sigv4_signed* out) {
  const char* service = req->service ? req->service : "s3";
  const char* payload =
      req->payload_hash ? req->payload_hash : DBS_SIGV4_EMPTY_SHA256;
  const char* token = creds->session_token && creds->session_token[0]
                          ? creds->session_token
                          : NULL;
  const struct dbs_dynlib_crypto* c;
  struct tm tm;
  char date[9], scope[256];
  unsigned char k[32];

  memset(out, 0, sizeof(*out));
  int rc = dbs_dynlib_crypto(&c);
  if (rc != 0)
    return rc;
  if (!request_valid(req, creds) || gmtime_r(&now, &tm) == NULL ||
      strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm) !=
          16)
    return -EINVAL;
  memcpy(date, out->amz_date, 8);
  date[8] = '\0';
  if ((rc = canonical_request(req, payload, token, out)))
    goto fail;
  if ((size_t)snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date,
                       req->region, service) >= sizeof(scope)) {
    rc = -EINVAL;
    goto fail;
  }
  if ((rc = string_to_sign(scope, out)))
    goto fail;
  rc = signing_key(c, creds->secret_access_key, date, req->region, service, k);
  if (rc == 0)
    rc = signature(c, k, creds->access_key_id, scope, out);
  c->cleanse(k, sizeof(k));
fail:
  if (rc)
    dbs_sigv4_signed_free(out);
  return rc;
}
