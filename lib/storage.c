/* Helpers shared by the storage backends. */
#include "storage.h"

#include <stdlib.h>
#include <string.h>

void dbs_storage_list_free(struct dbs_storage_list* list) {
  for (size_t i = 0; i < list->n; i++)
    free(list->entries[i].key);
  free(list->entries);
  list->entries = NULL;
  list->n = 0;
}

static int entry_cmp(const void* a, const void* b) {
  const struct dbs_storage_entry *x = a, *y = b;
  return strcmp(x->key, y->key);
}

void dbs_storage_list_sort(struct dbs_storage_list* list) {
  if (list->n > 1)
    qsort(list->entries, list->n, sizeof(list->entries[0]), entry_cmp);
}

/* a * b + c, saturated to the int64 range. */
static int64_t mul_add_sat(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return a < 0 ? INT64_MIN : INT64_MAX;
  if (__builtin_add_overflow(r, c, &r))
    return c < 0 ? INT64_MIN : INT64_MAX;
  return r;
}

int64_t dbs_storage_time_ns(int64_t sec, int64_t nsec) {
  return mul_add_sat(sec, 1000000000, nsec);
}

int64_t dbs_storage_entry_time_ns(const struct dbs_storage_entry* e) {
  return e->mtime_ns != 0 ? e->mtime_ns : mul_add_sat(e->mtime_ms, 1000000, 0);
}
