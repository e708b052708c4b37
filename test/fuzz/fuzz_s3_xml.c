/*
 * The S3 answers dbsetup parses (a hostile or broken endpoint writes
 * them): ListObjects listings, error bodies, GetBucketLocation.
 *
 * Input: a byte choosing the answer (0 listing, 1 error, 2 location, mod
 * 3), a byte giving the piece size libcurl hands over (0: whole), then the
 * body. Checked: what a listing returns is well formed, and the result does
 * not depend on how the body was cut into pieces.
 */
#include <string.h>

#include "fuzz.h"
#include "storage.h"
#include "storage_s3.h"

FUZZ_INITIALIZE(fuzz_no_setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > (1u << 20))
    return 0;
  int what = data[0] % 3;
  size_t chunk = data[1];
  const char* body = (const char*)data + 2;
  size_t len = size - 2;

  struct dbs_storage_list a, b;
  char ta[2048], tb[2048];
  int ra = dbs_storage_s3_parse_answer(what, body, len, 0, &a, ta, sizeof(ta));
  int rb =
      dbs_storage_s3_parse_answer(what, body, len, chunk, &b, tb, sizeof(tb));
  FUZZ_CHECK(ra == 0 || ra == -EBADMSG || ra == -ENOMEM);
  FUZZ_CHECK(ra == rb);
  FUZZ_CHECK(strcmp(ta, tb) == 0);
  FUZZ_CHECK(a.n == b.n);
  for (size_t i = 0; i < a.n; i++) {
    const struct dbs_storage_entry* e = &a.entries[i];
    FUZZ_CHECK(e->key != NULL);
    FUZZ_CHECK(strcmp(e->key, b.entries[i].key) == 0);
    FUZZ_CHECK(e->size == b.entries[i].size);
    FUZZ_CHECK(e->mtime_ms == b.entries[i].mtime_ms);
    FUZZ_CHECK(e->is_prefix == b.entries[i].is_prefix);
    if (!e->is_prefix)
      FUZZ_CHECK(e->size >= 0);
  }
  /* What s3_list does next with a page. */
  dbs_storage_list_sort(&a);
  for (size_t i = 1; i < a.n; i++)
    FUZZ_CHECK(strcmp(a.entries[i - 1].key, a.entries[i].key) <= 0);
  for (size_t i = 0; i < a.n; i++)
    (void)dbs_storage_entry_time_ns(&a.entries[i]);
  dbs_storage_list_free(&a);
  dbs_storage_list_free(&b);
  return 0;
}
