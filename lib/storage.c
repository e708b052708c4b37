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

int64_t dbs_storage_entry_time_ns(const struct dbs_storage_entry* e) {
  return e->mtime_ns != 0 ? e->mtime_ns : e->mtime_ms * 1000000;
}
