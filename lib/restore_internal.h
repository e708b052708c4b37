/*
 * Restore's internals shared by its files: restore.c (the public entry,
 * choosing a replica and a format), restore_v3.c and restore_ltx.c (the
 * two formats), restore_ahead.c (progress and download ahead) and
 * restore_output.c (preparing, verifying and finishing the output). Not
 * for other modules.
 */
#ifndef DBS_RESTORE_INTERNAL_H
#define DBS_RESTORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ltx_replica.h"
#include "replica.h"
#include "restore.h"

/* While a file is written, writeback of each completed window of this
 * size is started (sync_file_range, asynchronous), so the disk works
 * during the decode and the final fsync finds little left to write. */
#define DBS_RESTORE_WRITEBACK_WINDOW (8u << 20)

/* ---- errors (restore.c) ---------------------------------------------- */

/* Sets e's result to r and its message from fmt. */
void dbs_restore_set_err(struct dbs_restore_error* e, enum dbs_restore_result r,
                         const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps a storage get/list error (or an lz4stream one) to a result. */
enum dbs_restore_result dbs_restore_storage_result(int rc);

/* ns since the epoch as "2006-01-02T15:04:05Z" into buf. */
void dbs_restore_fmt_utc(int64_t ns, char* buf, size_t len);

/* ---- the formats' states (restore_v3.c, restore_ltx.c) --------------- */

struct dbs_restore_v3_state {
  struct dbs_replica_listing listing;
  long gen;
  /* Read as litestream 0.5 reads v0.3 generations (LTX files share the
   * location): every generation at once (RestoreV3), not 0.3.13's one. */
  bool ls05;
  int64_t created_ns, updated_ns; /* over what this state may restore */
  struct dbs_restore_plan plan;
  bool planned;
};

struct dbs_restore_ltx_state {
  struct dbs_ltx_listing l;
  struct dbs_ltx_plan plan;
};

/*
 * Lists the v0.3 generations. ls05: litestream 0.5's rules (a location
 * 0.5 has written): the state exists when any v0.3 object does, its bounds
 * span every generation (TimeBoundsV3). Else 0.3.13's: the generation
 * CalcRestoreTarget picks for t, or no state. The format's find with the
 * ls05 choice made by the caller; free the state with the format's free.
 */
int dbs_restore_v3_find(struct dbs_storage* st, const char* path,
                        const struct dbs_restore_target* t, bool ls05,
                        void** state, int64_t* updated_ns,
                        struct dbs_restore_error* e);

/*
 * The time of each S3 LTX file of lx for -timestamp, read from its LTX
 * header (see restore_ltx.c), o->parallelism objects at once. Returns 0
 * or -1 with e filled in.
 */
int dbs_restore_ltx_header_times(struct dbs_storage* st,
                                 struct dbs_restore_ltx_state* lx,
                                 const struct dbs_restore_opts* o,
                                 struct dbs_restore_error* e);

/* ---- progress (restore_ahead.c) -------------------------------------- */

/* CLOCK_MONOTONIC in ns. */
int64_t dbs_restore_now_ns(void);

/* A byte count for people: "812 bytes", "14.2 kB", "3.1 MB", "2.40 GB". */
const char* dbs_restore_fmt_size(double bytes, char* buf, size_t n);

/* Progress lines on stderr (a status line on a terminal, log lines else),
 * from 2 s into the restore. bytes and objects are counted by any thread;
 * only the main thread ticks. */
struct dbs_restore_progress {
  bool enabled, tty;
  int64_t start_ns, last_ns;
  uint64_t total_bytes;
  size_t total_objects;
  _Atomic uint64_t bytes;
  _Atomic size_t objects;
};

/* Prints a progress line when one is due (force: now). */
void dbs_restore_progress_tick(struct dbs_restore_progress* p, bool force);

/* Closes the status line. */
void dbs_restore_progress_end(struct dbs_restore_progress* p);

/* ---- download ahead (restore_ahead.c) -------------------------------- */

/*
 * Download ahead, shared by the v0.3 and LTX applies: worker threads fetch
 * positions next..n-1 in order, at most window positions past the last one
 * applied, while the main thread applies them in order. Zero-initialize,
 * then dbs_restore_ahead_start; dbs_restore_ahead_end in every case. The
 * first error stops everything; a waiter then gets it.
 */
struct dbs_restore_ahead {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  size_t n, next, applied, window;
  int* state; /* per position; NULL until started */
  bool stop;
  struct dbs_restore_error err;      /* first worker error */
  struct dbs_restore_progress* prog; /* ticked while waiting */
  pthread_t* threads;
  size_t nthreads;
};

/*
 * Starts parallelism (0: 8) threads running fn(arg) for positions
 * next..n-1 (n > 0), with a window of twice as many positions (at least
 * 16). Returns 0 or -1 with e filled in (no thread could start).
 */
int dbs_restore_ahead_start(struct dbs_restore_ahead* d, size_t n, size_t next,
                            unsigned parallelism,
                            struct dbs_restore_progress* prog,
                            void* (*fn)(void*), void* arg,
                            struct dbs_restore_error* e);

/* Stops the workers (they finish the fetch under way), joins them and
 * frees d's resources. Does nothing for an ahead never started. */
void dbs_restore_ahead_end(struct dbs_restore_ahead* d);

/* Records a worker's error e (the first one wins) and stops every worker. */
void dbs_restore_ahead_fail(struct dbs_restore_ahead* d,
                            const struct dbs_restore_error* e);

/* A worker's next position to fetch in *k (marked busy), once the window
 * allows; false when stopped or none is left. */
bool dbs_restore_ahead_take(struct dbs_restore_ahead* d, size_t* k);

/* A worker is done with position k: rc 0 ready, else failed with e. */
void dbs_restore_ahead_done(struct dbs_restore_ahead* d, size_t k, int rc,
                            const struct dbs_restore_error* e);

/* Waits for position k; ticks progress meanwhile. -1 with the first
 * worker error in *e when the download stopped first. */
int dbs_restore_ahead_wait(struct dbs_restore_ahead* d, size_t k,
                           struct dbs_restore_error* e);

/* The main thread has applied positions 0..count-1: slides the window. */
void dbs_restore_ahead_applied(struct dbs_restore_ahead* d, size_t count);

/* ---- files and SQLite (restore_output.c) ----------------------------- */

/* p followed by suffix; NULL when out of memory. The caller frees it. */
char* dbs_restore_suffixed(const char* p, const char* suffix);

/* write(2) / pwrite(2) all of p, retrying EINTR. 0 or -errno. */
int dbs_restore_write_all(int fd, const uint8_t* p, size_t n);
int dbs_restore_write_at(int fd, const uint8_t* p, size_t n, off_t off);

/* Opens path read-write with synchronous=OFF through vfs (NULL: the
 * default). An SQLite result code; *db is set even on failure. */
int dbs_restore_open_db(const char* path, const char* vfs, sqlite3** db);

/* Runs sql and reads ncols integer columns of its first row into cols,
 * and its first column as text into text when not NULL. An SQLite result
 * code. */
int dbs_restore_sql_row(sqlite3* db, const char* sql, int* cols, int ncols,
                        char* text, size_t textlen);

/* ---- the output (restore_output.c) ----------------------------------- */

/*
 * The output side of an apply, the same for both formats: <output>.tmp
 * is written, then verified, fsynced and renamed onto output, so output
 * never exists partially. Zero-initialize, then dbs_restore_out_prepare;
 * dbs_restore_out_end in every case.
 */
struct dbs_restore_out {
  const char* output;
  char* tmp;    /* <output>.tmp */
  char* dir;    /* output's directory */
  bool created; /* tmp may exist: removed with its sidecars on failure */
  struct dbs_restore_progress prog;
};

/*
 * Starts progress over total_bytes and total_objects, then prepares to
 * write <output>.tmp: output may be restored to (missing; an existing
 * regular file with o->force, or when empty and empty_ok as litestream
 * 0.5 allows; SQLite sidecars beside it only with o->force), its
 * directory exists (created 0700), and what an interrupted earlier
 * restore left beside it is removed. Returns 0 or -1 with e filled in.
 */
int dbs_restore_out_prepare(struct dbs_restore_out* out, const char* output,
                            const struct dbs_restore_opts* o, bool empty_ok,
                            uint64_t total_bytes, size_t total_objects,
                            struct dbs_restore_error* e);

/*
 * Finishes a complete, closed <output>.tmp: the integrity check v (what
 * names the restored point in its message), no -wal/-shm left, fsync,
 * rename onto output (an output replaced loses its sidecars first),
 * fsync of the directory. Returns 0 or -1 with e filled in.
 */
int dbs_restore_out_finish(struct dbs_restore_out* out, enum dbs_verify v,
                           const char* what, struct dbs_restore_error* e);

/*
 * Ends progress; after a failure (ok false) removes <output>.tmp and its
 * sidecars; after a success with progress on logs "restored <output>:
 * size, point, time, speed". Frees what prepare allocated.
 */
void dbs_restore_out_end(struct dbs_restore_out* out, bool ok,
                         const char* point);

#endif
