/*
 * SHA-256: the FIPS 180-2 appendix B examples, and agreement with
 * OpenSSL's libcrypto for every length around the block and padding
 * boundaries, hashed in one call and in uneven pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dynlib.h"
#include "sha256.h"

static void hex(const unsigned char* d, char out[65]) {
  for (size_t i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}

static void check(const void* data, size_t n, const char* want) {
  unsigned char md[DBS_SHA256_LEN];
  char h[65];
  dbs_sha256(data, n, md);
  hex(md, h);
  assert_string_equal(h, want);
}

static void test_fips_examples(void** state) {
  check("", 0,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  check("abc", 3,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char* two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  check(two, strlen(two),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* One million 'a', fed in pieces of 1000. */
  char a[1000];
  memset(a, 'a', sizeof(a));
  struct dbs_sha256 s;
  unsigned char md[DBS_SHA256_LEN];
  char h[65];
  dbs_sha256_init(&s);
  for (int i = 0; i < 1000; i++)
    dbs_sha256_update(&s, a, sizeof(a));
  dbs_sha256_final(&s, md);
  hex(md, h);
  assert_string_equal(
      h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_agrees_with_libcrypto(void** state) {
  const struct dbs_dynlib_crypto* c;
  assert_int_equal(dbs_dynlib_crypto(&c), 0);
  unsigned char buf[300];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof(buf); i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (unsigned char)(x >> 16);
  }
  for (size_t n = 0; n <= sizeof(buf); n++) {
    unsigned char want[EVP_MAX_MD_SIZE], got[DBS_SHA256_LEN];
    unsigned int wl = 0;
    assert_int_equal(c->evp_digest(buf, n, want, &wl, c->evp_sha256(), NULL),
                     1);
    assert_int_equal(wl, 32);
    dbs_sha256(buf, n, got);
    assert_memory_equal(got, want, 32);
    /* The same bytes in pieces of 1, 2, 3... that cross block edges. */
    struct dbs_sha256 s;
    dbs_sha256_init(&s);
    for (size_t off = 0, step = 1; off < n; off += step, step++)
      dbs_sha256_update(&s, buf + off, step < n - off ? step : n - off);
    dbs_sha256_final(&s, got);
    assert_memory_equal(got, want, 32);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fips_examples),
      cmocka_unit_test(test_agrees_with_libcrypto),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
