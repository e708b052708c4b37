/*
 * The Litestream v0.3 replica format: object names, the listing of
 * generations, snapshots and WAL segments, and the choice of what to
 * restore, made exactly as litestream v0.3.13 makes it plus stricter
 * consistency checks. Pure functions over listings; no I/O except
 * dbs_replica_load, which lists a storage.
 */
#ifndef DBS_REPLICA_H
#define DBS_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

#define DBS_REPLICA_MAX_INDEX 0x7FFFFFFF

struct dbs_replica_snapshot {
  uint32_t index;
  int64_t size;    /* compressed bytes */
  int64_t time_ns; /* storage timestamp (CreatedAt) */
};

struct dbs_replica_segment {
  uint32_t index;
  uint32_t offset;
  int64_t size; /* compressed bytes */
  int64_t time_ns;
};

/* One generation and its objects, sorted by index (and offset). */
struct dbs_replica_generation {
  char name[17];
  struct dbs_replica_snapshot* snapshots;
  size_t nsnapshots;
  struct dbs_replica_segment* segments;
  size_t nsegments;
  int64_t created_ns; /* min timestamp over all objects; 0 if none */
  int64_t updated_ns; /* max timestamp over all objects; 0 if none */
};

/* All generations of one replica, in listing (name) order. */
struct dbs_replica_listing {
  char* root; /* key prefix of the generations: "<path>/generations/" */
  struct dbs_replica_generation* gens;
  size_t ngens;
};

/* What to restore: litestream's -generation, -index and -timestamp, and
 * litestream 0.5's -txid (LTX replicas only; v0.3 ignores it). */
struct dbs_restore_target {
  const char* generation; /* NULL: any */
  int64_t index;          /* -1: none (latest) */
  bool has_timestamp;
  int64_t timestamp_ns; /* Unix ns, with has_timestamp */
  uint64_t txid;        /* 0: none */
};

/* One WAL index to apply: segments [first, first + n) of the plan. */
struct dbs_plan_index {
  uint32_t index;
  size_t first, n;
};

/* What one restore downloads and applies, in order. */
struct dbs_restore_plan {
  char generation[17];
  char* gen_root; /* "<path>/generations/<gen>/" */
  struct dbs_replica_snapshot snapshot;
  struct dbs_replica_segment* segments; /* owned copy, index/offset order */
  size_t nsegments;
  struct dbs_plan_index* indexes; /* snapshot index .. max, no gaps */
  size_t nindexes;
  int64_t total_bytes; /* compressed bytes to download */
};

/* True if s is 16 lowercase hex characters. */
bool dbs_replica_is_generation_name(const char* s);

/* Parses "IIIIIIII.snapshot.lz4". Returns 0 or -EINVAL. */
int dbs_replica_parse_snapshot_name(const char* name, uint32_t* index);

/* Parses "IIIIIIII_OOOOOOOO.wal.lz4". Returns 0 or -EINVAL. */
int dbs_replica_parse_wal_name(const char* name, uint32_t* index,
                               uint32_t* offset);

/*
 * Returns the key prefix of the generations for a replica path, joined as
 * Go's path.Join does: "" -> "generations/", "/db" -> "/db/generations/",
 * "a//b/./c/" -> "a/b/c/generations/". The caller frees the result; NULL
 * when out of memory.
 */
char* dbs_replica_generations_prefix(const char* path);

/* Key of a snapshot or segment (caller frees; NULL when out of memory). */
char* dbs_replica_snapshot_key(const char* gen_root, uint32_t index);
char* dbs_replica_segment_key(const char* gen_root, uint32_t index,
                              uint32_t offset);

/*
 * Lists every generation of the replica at path in storage s, with their
 * snapshots and segments (names that do not match are skipped) and time
 * bounds. Returns 0 (an empty listing means "no backup") or the storage's
 * negative error; the storage's error text says why. The caller frees
 * out with dbs_replica_listing_free.
 */
int dbs_replica_load(struct dbs_storage* s, const char* path,
                     struct dbs_replica_listing* out);

/* Builds a listing from flat storage entries (for tests and load). */
int dbs_replica_listing_add(struct dbs_replica_listing* l, const char* gen,
                            const struct dbs_storage_entry* snapshots,
                            size_t nsnap, const struct dbs_storage_entry* wal,
                            size_t nwal);

void dbs_replica_listing_free(struct dbs_replica_listing* l);

/*
 * Chooses the generation as litestream's CalcRestoreTarget does: filter by
 * t->generation; with a timestamp keep generations whose bounds contain
 * it; the strictly greatest updated_ns wins, ties go to the first listed.
 * Returns its position or -1 (no matching backup).
 */
long dbs_replica_choose(const struct dbs_replica_listing* l,
                        const struct dbs_restore_target* t);

/*
 * Plans the restore of generation g as litestream v0.3.13 would (snapshot
 * by timestamp or by index, segments up to the first one past the
 * timestamp or index), then checks what litestream does not: every index
 * from the snapshot's to the last one has segments starting at offset 0
 * with strictly increasing offsets, and the listed sizes add up. Byte
 * contiguity (offset == previous offset + decoded length) is checked while
 * applying. Returns 0, -ENOENT (no snapshot at or before the target, or
 * none at all when g->nsnapshots is 0), -ERANGE (t->index beyond the
 * generation's highest index; litestream 0.3.13 silently restores the
 * highest instead), -EBADMSG (inconsistent replica or absurd metadata) or
 * -ENOMEM, with a message in err. The caller frees plan with
 * dbs_restore_plan_free.
 */
int dbs_replica_plan(const struct dbs_replica_listing* l,
                     const struct dbs_replica_generation* g,
                     const struct dbs_restore_target* t,
                     struct dbs_restore_plan* plan, char* err, size_t errlen);

/*
 * Plans a restore of the v0.3 generations as litestream 0.5 does when it
 * reads them (RestoreV3, since v0.5.7; used where LTX files share the
 * location): the snapshot is the newest at or before t's timestamp (or the
 * newest) over ALL generations by CreatedAt, ties ordered as litestream's
 * swap sort leaves them; the WAL segments are that generation's with an
 * index at or above the snapshot's and, with a timestamp, written at or
 * before it (a filter, not a cut-off). Then the checks of dbs_replica_plan
 * (every index from the snapshot's consecutive, each starting at offset 0).
 * t->generation and t->index must be unset. Returns the chosen generation's
 * position in *gen and 0, -ENOENT (no snapshot at or before the target),
 * -EBADMSG or -ENOMEM, with a message in err.
 */
int dbs_replica_plan_v05(const struct dbs_replica_listing* l,
                         const struct dbs_restore_target* t, size_t* gen,
                         struct dbs_restore_plan* plan, char* err,
                         size_t errlen);

/* The time bounds over every object of every generation (litestream 0.5's
 * TimeBoundsV3); both 0 when there is none. */
void dbs_replica_bounds(const struct dbs_replica_listing* l,
                        int64_t* created_ns, int64_t* updated_ns);

void dbs_restore_plan_free(struct dbs_restore_plan* plan);

#endif
