/*
 * A storage holding a Litestream replica: list keys below a prefix and
 * stream an object's bytes. Implemented by storage_file (a directory) and
 * storage_s3 (S3 over libcurl). The restore code sees only this interface.
 */
#ifndef DBS_STORAGE_H
#define DBS_STORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct dbs_storage;

/* One listed entry. key is relative to the storage root (bucket). */
struct dbs_storage_entry {
  char* key;        /* full key; for a common prefix it ends with '/' */
  int64_t size;     /* bytes; -1 for a common prefix */
  int64_t mtime_ms; /* LastModified or file mtime, Unix ms; 0 if unknown */
  int64_t mtime_ns; /* the same in Unix ns when the backend knows it more
                       precisely (file mtimes), else 0: use mtime_ms */
  int is_prefix;    /* 1 for a CommonPrefixes entry ("directory") */
};

struct dbs_storage_list {
  struct dbs_storage_entry* entries; /* sorted by key, byte order */
  size_t n;
};

/*
 * Receives an object's bytes in order. Returns 0 to go on or a negative
 * errno to abort the transfer (the get then returns that value).
 */
typedef int (*dbs_storage_sink)(void* arg, const uint8_t* buf, size_t len);

/* Error classes, returned as negative values by list and get. */
enum dbs_storage_error {
  DBS_STORAGE_ENOTFOUND = -2000, /* the object does not exist */
  DBS_STORAGE_EUNAVAILABLE,      /* transient, retries exhausted */
  DBS_STORAGE_EDENIED,           /* permanent: auth, signature, no bucket */
  DBS_STORAGE_ECORRUPT,          /* bad data or protocol answer */
};

struct dbs_storage_ops {
  /*
   * Lists keys starting with prefix. With delimiter '/', keys that have
   * another '/' after the prefix are rolled up into prefix entries.
   * Pages through the whole listing and sorts it. The caller owns *out
   * (free with dbs_storage_list_free). Returns 0 or a negative error.
   */
  int (*list)(struct dbs_storage* s, const char* prefix, int delimiter,
              struct dbs_storage_list* out);
  /*
   * Streams the object at key to sink. Retries transient failures from the
   * start of the object only while sink has received nothing, otherwise
   * from the first byte not yet delivered (Range). Returns 0 or an error.
   */
  int (*get)(struct dbs_storage* s, const char* key, dbs_storage_sink sink,
             void* arg);
  /* A human description without secrets, e.g. "s3://bucket/prefix". */
  const char* (*describe)(struct dbs_storage* s);
  void (*close)(struct dbs_storage* s);
};

struct dbs_storage {
  const struct dbs_storage_ops* ops;
  /* Last error message (provider code and hint), for the caller's log. */
  char error[512];
};

/* Frees a listing's entries and keys. */
void dbs_storage_list_free(struct dbs_storage_list* list);

/* Sorts a listing by key (byte order). */
void dbs_storage_list_sort(struct dbs_storage_list* list);

/*
 * An entry's timestamp in Unix ns: mtime_ns if set, else mtime_ms * 1e6.
 * Times outside int64 nanoseconds (before 1677 or after 2262) saturate to
 * INT64_MIN or INT64_MAX, so they still order before or after every
 * representable time and nothing overflows.
 */
int64_t dbs_storage_entry_time_ns(const struct dbs_storage_entry* e);

/* sec and nsec (0..999999999) as Unix ns, saturated as above. */
int64_t dbs_storage_time_ns(int64_t sec, int64_t nsec);

#endif
