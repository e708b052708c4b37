/*
 * SigV4 canonicalisation and signing (sigv4.c), differential against a
 * second, deliberately plain implementation written here from AWS's
 * description (canonical URI, query, headers; string to sign; the HMAC
 * chain, with libcrypto called directly).
 *
 * Input: NUL-separated sections: method, host, path, region, service,
 * payload hash, secret key, session token, then any number of items
 * "q<name>=<value>" (a query parameter) or "h<name>:<value>" (a header).
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>

#include "fuzz.h"
#include "sigv4.h"

#define NOW 1369353600 /* 2013-05-24T00:00:00Z, as AWS's examples */

struct buf {
  char* s;
  size_t n, cap;
};

static void put(struct buf* b, const char* s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
    FUZZ_CHECK(b->s != NULL);
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void puts_(struct buf* b, const char* s) {
  put(b, s, strlen(s));
}

static void encode(struct buf* b, const char* s, bool keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
    bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                 (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
                 *p == '_' || *p == '~' || (keep_slash && *p == '/');
    if (plain) {
      put(b, (const char*)p, 1);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      put(b, e, 3);
    }
  }
  if (b->s == NULL)
    put(b, "", 0);
}

struct kv {
  char *k, *v;
};

static int kv_cmp(const void* a, const void* b) {
  const struct kv *x = a, *y = b;
  int c = strcmp(x->k, y->k);
  return c ? c : strcmp(x->v, y->v);
}

/* Leading and trailing blanks removed, inner runs made one space. */
static char* trimall(const char* s) {
  struct buf b = {0};
  put(&b, "", 0);
  bool blank = false;
  for (; *s; s++) {
    if (*s == ' ' || *s == '\t') {
      blank = true;
      continue;
    }
    if (blank && b.n > 0)
      put(&b, " ", 1);
    blank = false;
    put(&b, s, 1);
  }
  return b.s;
}

static void hmac(const void* key, size_t klen, const char* msg,
                 unsigned char out[32]) {
  unsigned int n = 32;
  FUZZ_CHECK(HMAC(EVP_sha256(), key, (int)klen, (const unsigned char*)msg,
                  strlen(msg), out, &n) != NULL);
}

static void hex(const unsigned char* d, size_t n, char* out) {
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}

FUZZ_INITIALIZE(fuzz_no_setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct fuzz_parts parts;
  fuzz_split(data, size, &parts);
  struct dbs_sigv4_pair q[FUZZ_MAX_PARTS], h[FUZZ_MAX_PARTS];
  size_t nq = 0, nh = 0;
  for (size_t i = 8; i < parts.n; i++) {
    char* s = parts.p[i];
    char* sep = strchr(s, s[0] == 'q' ? '=' : ':');
    if ((s[0] != 'q' && s[0] != 'h') || sep == NULL)
      continue;
    *sep = '\0';
    if (s[0] == 'q') {
      q[nq++] = (struct dbs_sigv4_pair){s + 1, sep + 1};
      continue;
    }
    /* Headers come from dbsetup's own code, never with control bytes. */
    bool ok = true;
    for (const char* p = s + 1; *p; p++)
      ok &= (unsigned char)*p > ' ' && *p != 0x7f && *p != ':';
    for (const char* p = sep + 1; *p; p++)
      ok &= (unsigned char)*p >= ' ' || *p == '\t';
    if (ok)
      h[nh++] = (struct dbs_sigv4_pair){s + 1, sep + 1};
  }
  const char* payload = fuzz_part(&parts, 5);
  struct dbs_sigv4_request req = {
      .method = fuzz_part(&parts, 0),
      .host = fuzz_part(&parts, 1),
      .path = fuzz_part(&parts, 2),
      .region = fuzz_part(&parts, 3),
      .service = parts.n > 4 && parts.p[4][0] ? parts.p[4] : NULL,
      .payload_hash = payload[0] ? payload : NULL,
      .query = q,
      .nquery = nq,
      .headers = h,
      .nheaders = nh,
  };
  struct dbs_sigv4_creds creds = {"AKIAIOSFODNN7EXAMPLE", fuzz_part(&parts, 6),
                                  fuzz_part(&parts, 7)};
  struct dbs_sigv4_signed s;
  int rc = dbs_sigv4_sign(&req, &creds, NOW, &s);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);

  /* The reference. */
  const char* service = req.service ? req.service : "s3";
  payload = req.payload_hash ? req.payload_hash : DBS_SIGV4_EMPTY_SHA256;
  bool token = creds.session_token[0] != '\0';
  struct kv hs[FUZZ_MAX_PARTS + 4];
  size_t nhs = 0;
  /* sigv4.c refuses a credential scope of 256 bytes or more. */
  bool invalid = req.path[0] != '/' || req.region[0] == '\0' ||
                 strlen("20130524///aws4_request") + strlen(req.region) +
                         strlen(service) >=
                     256;
  hs[nhs++] = (struct kv){strdup("host"), trimall(req.host)};
  hs[nhs++] = (struct kv){strdup("x-amz-content-sha256"), trimall(payload)};
  hs[nhs++] = (struct kv){strdup("x-amz-date"), strdup("20130524T000000Z")};
  if (token)
    hs[nhs++] = (struct kv){strdup("x-amz-security-token"),
                            trimall(creds.session_token)};
  for (size_t i = 0; i < nh; i++) {
    char* k = strdup(h[i].name);
    for (char* p = k; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    invalid |= k[0] == '\0' || strcmp(k, "host") == 0 ||
               strcmp(k, "x-amz-date") == 0 ||
               strcmp(k, "x-amz-content-sha256") == 0 ||
               strcmp(k, "x-amz-security-token") == 0 ||
               strcmp(k, "authorization") == 0;
    hs[nhs++] = (struct kv){k, trimall(h[i].value)};
  }
  qsort(hs, nhs, sizeof(*hs), kv_cmp);
  for (size_t i = 1; i < nhs; i++)
    invalid |= strcmp(hs[i - 1].k, hs[i].k) == 0;
  FUZZ_CHECK(invalid == (rc == -EINVAL));

  if (rc == 0) {
    struct buf uri = {0}, query = {0}, sh = {0}, creq = {0};
    encode(&uri, req.path, true);
    FUZZ_CHECK(strcmp(uri.s, s.canonical_uri) == 0);
    struct kv qs[FUZZ_MAX_PARTS];
    for (size_t i = 0; i < nq; i++) {
      struct buf k = {0}, v = {0};
      encode(&k, q[i].name, false);
      encode(&v, q[i].value, false);
      qs[i] = (struct kv){k.s, v.s};
    }
    qsort(qs, nq, sizeof(*qs), kv_cmp);
    put(&query, "", 0);
    for (size_t i = 0; i < nq; i++) {
      if (i)
        puts_(&query, "&");
      puts_(&query, qs[i].k);
      puts_(&query, "=");
      puts_(&query, qs[i].v);
      free(qs[i].k);
      free(qs[i].v);
    }
    FUZZ_CHECK(strcmp(query.s, s.canonical_query) == 0);
    for (size_t i = 0; i < nhs; i++) {
      if (i)
        puts_(&sh, ";");
      puts_(&sh, hs[i].k);
    }
    FUZZ_CHECK(strcmp(sh.s, s.signed_headers) == 0);
    puts_(&creq, req.method);
    puts_(&creq, "\n");
    puts_(&creq, uri.s);
    puts_(&creq, "\n");
    puts_(&creq, query.s);
    puts_(&creq, "\n");
    for (size_t i = 0; i < nhs; i++) {
      puts_(&creq, hs[i].k);
      puts_(&creq, ":");
      puts_(&creq, hs[i].v);
      puts_(&creq, "\n");
    }
    puts_(&creq, "\n");
    puts_(&creq, sh.s);
    puts_(&creq, "\n");
    puts_(&creq, payload);
    FUZZ_CHECK(strcmp(creq.s, s.canonical_request) == 0);

    unsigned char md[32];
    char mdhex[65], scope[512], sts[1024], sig[65];
    SHA256((const unsigned char*)creq.s, creq.n, md);
    hex(md, 32, mdhex);
    snprintf(scope, sizeof(scope), "20130524/%s/%s/aws4_request", req.region,
             service);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n20130524T000000Z\n%s\n%s",
             scope, mdhex);
    FUZZ_CHECK(strcmp(sts, s.string_to_sign) == 0);
    struct buf key = {0};
    puts_(&key, "AWS4");
    puts_(&key, creds.secret_access_key);
    unsigned char k1[32], k2[32], k3[32], k4[32], out[32];
    hmac(key.s, key.n, "20130524", k1);
    hmac(k1, 32, req.region, k2);
    hmac(k2, 32, service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts, out);
    hex(out, 32, sig);
    FUZZ_CHECK(strcmp(sig, s.signature) == 0);
    FUZZ_CHECK(strstr(s.authorization, sig) != NULL);
    free(key.s);
    free(uri.s);
    free(query.s);
    free(sh.s);
    free(creq.s);
  }
  for (size_t i = 0; i < nhs; i++) {
    free(hs[i].k);
    free(hs[i].v);
  }
  dbs_sigv4_signed_free(&s);

  /* The encoder alone, on the whole input as one string. */
  char* all = strndup((const char*)data, size);
  FUZZ_CHECK(all != NULL);
  char* e = dbs_sigv4_uri_encode(all, (int)(size & 1));
  struct buf ref = {0};
  encode(&ref, all, size & 1);
  FUZZ_CHECK(e != NULL && strcmp(e, ref.s) == 0);
  free(e);
  free(ref.s);
  free(all);
  fuzz_parts_free(&parts);
  return 0;
}
