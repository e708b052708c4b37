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

int dbs_sigv4_sign(const struct dbs_sigv4_request* req,
                   const struct dbs_sigv4_creds* creds, time_t now,
                   struct dbs_sigv4_signed* out) {
  struct qparam* qs = NULL;
  struct cheader* hs = NULL;
  size_t nq = 0, nh = 0;
  struct dbs_strbuf b = {0};
  char* secret_key = NULL;
  size_t slen = 0;
  int rc = -ENOMEM;
  const char* service = req->service ? req->service : "s3";
  const char* payload =
      req->payload_hash ? req->payload_hash : DBS_SIGV4_EMPTY_SHA256;
  int token = creds->session_token && creds->session_token[0];
  const struct dbs_dynlib_crypto* c;

  memset(out, 0, sizeof(*out));
  if ((rc = dbs_dynlib_crypto(&c)) != 0)
    return rc;
  rc = -ENOMEM;
  if (!req->method || !req->host || !req->path || req->path[0] != '/' ||
      !req->region || !req->region[0] || !creds->access_key_id ||
      !creds->secret_access_key)
    return -EINVAL;

  struct tm tm;
  if (gmtime_r(&now, &tm) == NULL ||
      strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm) !=
          16)
    return -EINVAL;
  char date[9];
  memcpy(date, out->amz_date, 8);
  date[8] = '\0';

  /* Canonical URI: each path byte encoded once, slashes kept. */
  out->canonical_uri = dbs_sigv4_uri_encode(req->path, 1);
  if (out->canonical_uri == NULL)
    goto fail;

  /* Canonical query: names and values encoded, sorted by name, value. */
  qs = calloc(req->nquery + 1, sizeof(*qs));
  if (qs == NULL)
    goto fail;
  for (nq = 0; nq < req->nquery; nq++) {
    qs[nq].name = dbs_sigv4_uri_encode(req->query[nq].name, 0);
    qs[nq].value = dbs_sigv4_uri_encode(
        req->query[nq].value ? req->query[nq].value : "", 0);
    if (qs[nq].name == NULL || qs[nq].value == NULL) {
      nq++;
      goto fail;
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
  if ((out->canonical_query = dbs_strbuf_take(&b)) == NULL)
    goto fail;

  /* Canonical headers. */
  hs = calloc(req->nheaders + 4, sizeof(*hs));
  if (hs == NULL)
    goto fail;
  const struct dbs_sigv4_pair fixed[] = {
      {"host", req->host},
      {"x-amz-content-sha256", payload},
      {"x-amz-date", out->amz_date},
      {"x-amz-security-token", token ? creds->session_token : NULL},
  };
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
    if (fixed[i].value == NULL)
      continue;
    hs[nh].name = strdup(fixed[i].name);
    hs[nh].value = trim_dup(fixed[i].value);
    nh++;
    if (hs[nh - 1].name == NULL || hs[nh - 1].value == NULL)
      goto fail;
  }
  for (size_t i = 0; i < req->nheaders; i++) {
    hs[nh].name = lower_dup(req->headers[i].name);
    hs[nh].value = trim_dup(req->headers[i].value ? req->headers[i].value : "");
    nh++;
    if (hs[nh - 1].name == NULL || hs[nh - 1].value == NULL)
      goto fail;
    if (reserved_header(hs[nh - 1].name) || hs[nh - 1].name[0] == '\0') {
      rc = -EINVAL;
      goto fail;
    }
  }
  qsort(hs, nh, sizeof(*hs), cheader_cmp);
  for (size_t i = 1; i < nh; i++) {
    if (strcmp(hs[i].name, hs[i - 1].name) == 0) {
      rc = -EINVAL;
      goto fail;
    }
  }
  for (size_t i = 0; i < nh; i++) {
    if (i)
      dbs_strbuf_putc(&b, ';');
    dbs_strbuf_adds(&b, hs[i].name);
  }
  if ((out->signed_headers = dbs_strbuf_take(&b)) == NULL)
    goto fail;

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
  if ((out->canonical_request = dbs_strbuf_take(&b)) == NULL)
    goto fail;

  char creq_hash[65];
  dbs_sigv4_sha256_hex(out->canonical_request, strlen(out->canonical_request),
                       creq_hash);
  char scope[256];
  if ((size_t)snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date,
                       req->region, service) >= sizeof(scope)) {
    rc = -EINVAL;
    goto fail;
  }
  dbs_strbuf_adds(&b, "AWS4-HMAC-SHA256\n");
  dbs_strbuf_adds(&b, out->amz_date);
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, scope);
  dbs_strbuf_putc(&b, '\n');
  dbs_strbuf_adds(&b, creq_hash);
  if ((out->string_to_sign = dbs_strbuf_take(&b)) == NULL)
    goto fail;

  /* Signing key: HMAC chain from "AWS4" + secret over date, region,
   * service and "aws4_request". */
  slen = strlen(creds->secret_access_key);
  secret_key = malloc(slen + 5);
  if (secret_key == NULL)
    goto fail;
  memcpy(secret_key, "AWS4", 4);
  memcpy(secret_key + 4, creds->secret_access_key, slen + 1);
  unsigned char k[32], sig[32];
  if (hmac(c, secret_key, slen + 4, date, k) ||
      hmac(c, k, 32, req->region, k) || hmac(c, k, 32, service, k) ||
      hmac(c, k, 32, "aws4_request", k) ||
      hmac(c, k, 32, out->string_to_sign, sig))
    goto fail;
  c->cleanse(k, sizeof(k));
  to_hex(sig, sizeof(sig), out->signature);

  dbs_strbuf_adds(&b, "AWS4-HMAC-SHA256 Credential=");
  dbs_strbuf_adds(&b, creds->access_key_id);
  dbs_strbuf_putc(&b, '/');
  dbs_strbuf_adds(&b, scope);
  dbs_strbuf_adds(&b, ",SignedHeaders=");
  dbs_strbuf_adds(&b, out->signed_headers);
  dbs_strbuf_adds(&b, ",Signature=");
  dbs_strbuf_adds(&b, out->signature);
  if ((out->authorization = dbs_strbuf_take(&b)) == NULL)
    goto fail;
  rc = 0;

fail:
  if (secret_key) {
    c->cleanse(secret_key, slen + 4);
    free(secret_key);
  }
  free(b.p);
  for (size_t i = 0; qs && i < nq; i++) {
    free(qs[i].name);
    free(qs[i].value);
  }
  free(qs);
  for (size_t i = 0; hs && i < nh; i++) {
    free(hs[i].name);
    free(hs[i].value);
  }
  free(hs);
  if (rc)
    dbs_sigv4_signed_free(out);
  return rc;
}
