/*
 * The lazy loader: nothing of libcurl or libcrypto is mapped before the
 * first call; the first call loads and resolves every function; later
 * calls, also from racing threads, get the same table; the functions work.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dynlib.h"

/* Whether /proc/self/maps has a mapping whose path contains name. */
static int mapped(const char* name) {
  FILE* f = fopen("/proc/self/maps", "r");
  char line[4096];
  int found = 0;
  assert_non_null(f);
  while (!found && fgets(line, sizeof(line), f))
    found = strstr(line, name) != NULL;
  fclose(f);
  return found;
}

static void hex(const unsigned char* d, size_t n, char* out) {
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}

/* Runs first (cmocka keeps the order): the process starts without them. */
static void test_nothing_mapped_at_start(void** state) {
  assert_false(mapped("libcurl"));
  assert_false(mapped("libcrypto"));
  assert_false(mapped("gnutls"));
}

static void test_crypto_loads_and_hashes(void** state) {
  const struct dbs_dynlib_crypto *c = NULL, *again = NULL;
  assert_int_equal(dbs_dynlib_crypto(&c), 0);
  assert_non_null(c);
  assert_true(mapped("libcrypto.so.3"));
  assert_false(mapped("libcurl")); /* one library does not pull the other */
  assert_non_null(c->evp_sha256);
  assert_non_null(c->evp_digest);
  assert_non_null(c->hmac);
  assert_non_null(c->cleanse);

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  char h[2 * EVP_MAX_MD_SIZE + 1];
  /* FIPS 180-2 appendix B.1. */
  assert_int_equal(c->evp_digest("abc", 3, md, &n, c->evp_sha256(), NULL), 1);
  assert_int_equal(n, 32);
  hex(md, n, h);
  assert_string_equal(
      h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* RFC 4231 test case 2. */
  n = 0;
  assert_non_null(c->hmac(c->evp_sha256(), "Jefe", 4,
                          (const unsigned char*)"what do ya want for nothing?",
                          28, md, &n));
  assert_int_equal(n, 32);
  hex(md, n, h);
  assert_string_equal(
      h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  c->cleanse(md, sizeof(md));
  for (size_t i = 0; i < sizeof(md); i++)
    assert_int_equal(md[i], 0);

  assert_int_equal(dbs_dynlib_crypto(&again), 0);
  assert_ptr_equal(again, c);
}

static void* load_curl_thread(void* arg) {
  const struct dbs_dynlib_curl** out = arg;
  if (dbs_dynlib_curl(out) != 0)
    *out = NULL;
  return NULL;
}

static void test_curl_loads_once_across_threads(void** state) {
  const struct dbs_dynlib_curl* got[4] = {NULL};
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, load_curl_thread, &got[i]), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_join(t[i], NULL), 0);
  assert_non_null(got[0]);
  for (int i = 1; i < 4; i++)
    assert_ptr_equal(got[i], got[0]);
  assert_true(mapped("libcurl.so.4"));

  const struct dbs_dynlib_curl* c = got[0];
  const struct dbs_dynlib_curl* again = NULL;
  assert_int_equal(dbs_dynlib_curl(&again), 0);
  assert_ptr_equal(again, c);
  void* const* f = (void* const*)c;
  for (size_t i = 0; i < sizeof(*c) / sizeof(void*); i++)
    assert_non_null(f[i]);

  assert_int_equal(c->global_init(CURL_GLOBAL_ALL), CURLE_OK);
  assert_string_equal(c->easy_strerror(CURLE_OK), "No error");
  struct curl_slist* l = c->slist_append(NULL, "a: 1");
  assert_non_null(l);
  l = c->slist_append(l, "b: 2");
  assert_string_equal(l->next->data, "b: 2");
  c->slist_free_all(l);

  /* A request that fails before any network: an unsupported scheme. */
  CURL* h = c->easy_init();
  assert_non_null(h);
  assert_int_equal(c->easy_setopt(h, CURLOPT_URL, "nosuchscheme://x/"),
                   CURLE_OK);
  assert_int_equal(c->easy_perform(h), CURLE_UNSUPPORTED_PROTOCOL);
  long code = -1;
  assert_int_equal(c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
  assert_int_equal(code, 0);
  c->easy_reset(h);
  c->easy_cleanup(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nothing_mapped_at_start),
      cmocka_unit_test(test_crypto_loads_and_hashes),
      cmocka_unit_test(test_curl_loads_once_across_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
