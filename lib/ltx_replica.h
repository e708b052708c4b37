/*
 * The Litestream 0.5 replica layout: the listing of LTX files by level
 * (file: <root>/ltx/<level>/, S3: <path>/<%04x level>/) and the restore
 * plan, computed as litestream v0.5.16's CalcRestorePlan computes it, and
 * stricter: a TXID gap before the target is an error for every target.
 */
#ifndef DBS_LTX_REPLICA_H
#define DBS_LTX_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

#define DBS_LTX_SNAPSHOT_LEVEL 9
#define DBS_LTX_NLEVELS 10

struct dbs_ltx_file {
  char* key; /* full storage key */
  int level;
  uint64_t min_txid, max_txid;
  int64_t size;
  int64_t time_ns; /* CreatedAt: file mtime, S3 LastModified or metadata */
};

/* Every LTX file of a replica, sorted by (level, min, max). */
struct dbs_ltx_listing {
  struct dbs_ltx_file* files;
  size_t n;
  bool s3;          /* the S3 layout (4-hex levels) */
  char* unknown[8]; /* the first names under the replica path that belong
                       to no layout litestream writes (for the log) */
  size_t nunknown;  /* how many there were in all */
  char* legacy;     /* S3 <path>/ltx/: litestream v0.5.0-beta1's layout, or
                       NULL */
};

/* Parses "%016x-%016x.ltx" (lowercase hex). Returns 0 or -EINVAL. */
int dbs_ltx_parse_filename(const char* name, uint64_t* min, uint64_t* max);

/*
 * The key prefix of a level: "ltx/<level>/" below path for a file replica
 * (path "" is the replica directory), "<path>/<%04x>/" for S3 ("%04x/"
 * when path is empty). Caller frees; NULL when out of memory.
 */
char* dbs_ltx_level_prefix(const char* path, bool s3, int level);

/*
 * Lists the LTX files of the replica at path: levels 0..9 of the layout
 * (s3 or file), plus what else lies directly under path (generations/ is
 * v0.3's and known). Returns 0 (n == 0: no LTX file) or the storage's
 * negative error. The caller frees out with dbs_ltx_listing_free.
 */
int dbs_ltx_load(struct dbs_storage* s, const char* path, bool s3,
                 struct dbs_ltx_listing* out);

/* Adds one file (tests and load); keeps nothing sorted. 0 or -ENOMEM. */
int dbs_ltx_listing_add(struct dbs_ltx_listing* l, const char* key, int level,
                        uint64_t min, uint64_t max, int64_t size,
                        int64_t time_ns);
/* Sorts by (level, min, max). */
void dbs_ltx_listing_sort(struct dbs_ltx_listing* l);
void dbs_ltx_listing_free(struct dbs_ltx_listing* l);

/* The newest file time over all levels (litestream's TimeBounds), 0 if
 * none. */
int64_t dbs_ltx_listing_updated_ns(const struct dbs_ltx_listing* l);

/* What to restore: litestream 0.5's -txid or -timestamp (or neither). */
struct dbs_ltx_target {
  uint64_t txid; /* 0: none */
  bool has_timestamp;
  int64_t timestamp_ns; /* files with time < this are eligible */
};

/* The files to apply, in order (pointers into the listing). */
struct dbs_ltx_plan {
  const struct dbs_ltx_file** files;
  size_t n;
  int64_t total_bytes;
};

/*
 * Computes the plan for t over l. Returns 0, -ENOENT (no matching backup:
 * nothing eligible, or -txid not reachable exactly), -EBADMSG (a TXID gap
 * that an eligible file lies beyond; err names the missing range) or
 * -ENOMEM. The caller frees plan with dbs_ltx_plan_free.
 */
int dbs_ltx_plan_calc(const struct dbs_ltx_listing* l,
                      const struct dbs_ltx_target* t, struct dbs_ltx_plan* plan,
                      char* err, size_t errlen);
void dbs_ltx_plan_free(struct dbs_ltx_plan* plan);

#endif
