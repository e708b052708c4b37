/*
 * Native restore of a Litestream replica into a database file: choose the
 * replica and generation, download and decode the snapshot beside the
 * target, apply the WAL indexes in order, verify, fsync and rename. The
 * target never exists partially; no -wal, -shm or temporary file is left.
 */
#ifndef DBS_RESTORE_H
#define DBS_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "litestream_config.h"
#include "replica.h"
#include "restore_verify.h"
#include "storage.h"

enum dbs_restore_result {
  DBS_RESTORE_RESTORED = 0, /* the target now holds the restored database */
  DBS_RESTORE_NO_BACKUP,    /* every listing succeeded; no generation matched */
  DBS_RESTORE_UNSUPPORTED_TYPE, /* not s3/file: restore with litestream */
  DBS_RESTORE_ECORRUPT,         /* inconsistent or corrupt replica (exit 65) */
  DBS_RESTORE_EENCRYPTED,       /* age-encrypted objects (exit 65) */
  DBS_RESTORE_ESTORAGE,         /* storage unreachable or refusing (exit 69) */
  DBS_RESTORE_EUSAGE,           /* bad options (exit 64) */
  DBS_RESTORE_ETARGET,   /* target exists or cannot be written (exit 73) */
  DBS_RESTORE_EINTERNAL, /* out of memory, sqlite misuse (exit 70) */
};

/* The outcome of a restore and, for errors, a message naming the object. */
struct dbs_restore_error {
  enum dbs_restore_result result;
  char msg[1024];
};

/* What a restore would restore (dry_run): the chosen point. */
struct dbs_restore_summary {
  char replica[64];   /* the replica's name in litestream.yml */
  char format[32];    /* "litestream-v0.3" */
  char point[96];     /* "generation G, index I" */
  int64_t updated_ns; /* its newest object's time */
  int64_t bytes;      /* compressed bytes a restore downloads */
  size_t objects;     /* objects a restore downloads */
};

struct dbs_restore_opts {
  unsigned parallelism;   /* WAL indexes downloaded at once; 0: 8 */
  enum dbs_verify verify; /* integrity check before the rename */
  bool progress;          /* progress lines and a final summary */
  unsigned timeout_ms;    /* storage retry budget (S3); 0: 120 s */
  /* litestream 0.5's restore flags (dbsetup restore): */
  bool dry_run;  /* list and plan, then stop before the first download or
                    write and report RESTORED: the plan goes into *summary
                    when not NULL (dbsetup doctor), else to stdout */
  bool force;    /* replace an existing output and its -wal/-shm/-journal,
                    only once the restore is complete and verified */
  bool url_mode; /* the replica came from a URL: a -timestamp outside an
                    LTX replica's time range matches nothing */
  struct dbs_restore_summary* summary;
};

/* One replica to consider: a storage and the replica path inside it. */
struct dbs_restore_source {
  const char* name;            /* replica name, for messages */
  struct dbs_storage* storage; /* borrowed */
  const char* path;            /* key prefix ("" for a file replica) */
};

/*
 * A replica format: v0.3 (generations, snapshots, WAL segments;
 * restore_v3.c) and v0.5 (LTX files in levels; restore_ltx.c).
 * find lists a replica and picks what litestream would restore for t:
 * 0 with *state NULL is "no backup". plan validates the choice; apply
 * writes output. Each returns 0 or -1 with e filled in.
 */
struct dbs_restore_format {
  const char* name;
  int (*find)(struct dbs_storage* s, const char* path,
              const struct dbs_restore_target* t, void** state,
              int64_t* updated_ns, struct dbs_restore_error* e);
  int (*plan)(void* state, const struct dbs_restore_target* t,
              struct dbs_restore_error* e);
  int (*apply)(void* state, struct dbs_storage* s, const char* output,
               const struct dbs_restore_opts* o, struct dbs_restore_error* e);
  void (*free)(void* state);
  /* Prints the planned objects (after plan) for -dry-run. */
  void (*print)(void* state, FILE* f);
  /* Describes the planned point (after plan) for a dry run. */
  void (*summarize)(void* state, struct dbs_restore_summary* out);
};

extern const struct dbs_restore_format dbs_restore_format_v3;
extern const struct dbs_restore_format dbs_restore_format_ltx;

/* True for the S3 storage (LTX levels "<path>/%04x/"), false for file. */
bool dbs_restore_storage_is_s3(struct dbs_storage* st);

/*
 * With v0.3 generations and LTX files at one location and no -txid or
 * -timestamp: litestream 0.5.16 restores v0.3 only if its newest object
 * is strictly newer than the newest LTX file.
 */
bool dbs_restore_prefers_v3(int64_t v3_updated_ns, int64_t ltx_updated_ns);

/* The exit status for a result: 0 for RESTORED, 65, 69, 64, 73 or 70. */
int dbs_restore_exit_status(enum dbs_restore_result r);

/*
 * Removes what a crashed earlier restore of output may have left:
 * output.tmp, its -wal/-shm/-journal, staged output.tmp-XXXXXXXX-wal
 * files, and a stale output-wal/-shm when output itself is missing.
 * Returns 0 or -errno (something could not be removed).
 */
int dbs_restore_remove_leftovers(const char* output);

/*
 * Restores into output (which must not exist) from the best of n sources,
 * chosen as litestream does: per source the generation for t, then the
 * strictly latest updated time across sources (ties: the first). Returns
 * the result; e->msg explains errors and NO_BACKUP. On any error nothing
 * is left at output or beside it.
 */
enum dbs_restore_result
dbs_restore_run(const struct dbs_restore_source* srcs, size_t n,
                const struct dbs_restore_target* t, const char* output,
                const struct dbs_restore_opts* o, struct dbs_restore_error* e);

/*
 * Opens the storage of a replica config: file replicas through
 * storage_file, s3 through storage_s3. *path_out points into r (the key
 * prefix). Returns 0, or -ENOTSUP with DBS_RESTORE_UNSUPPORTED_TYPE in e
 * for other types, or another negative value with e filled in. The caller
 * closes *out.
 */
int dbs_restore_open_storage(const struct dbs_replica_config* r,
                             const struct dbs_restore_opts* o,
                             struct dbs_storage** out, const char** path_out,
                             struct dbs_restore_error* e);

/*
 * The boot-time restore of target (missing) from replicas[0..n) of its
 * litestream.yml entry, or only the one named replica_name (NULL: all).
 * Sets *out to RESTORED, NO_BACKUP (start fresh), UNSUPPORTED_TYPE (some
 * considered replica is not s3/file: run `litestream restore` instead)
 * or an error result, and logs what happened. Returns the exit status
 * to stop with (65, 69, 73, 70, 78 for an unknown replica_name), or 0 when
 * boot may go on (RESTORED, NO_BACKUP, UNSUPPORTED_TYPE). Leaves nothing
 * at target unless RESTORED.
 */
int dbs_restore_boot(const struct dbs_replica_config* replicas, size_t n,
                     const char* replica_name, const char* target,
                     const struct dbs_restore_opts* o,
                     enum dbs_restore_result* out);

#endif
