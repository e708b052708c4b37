/* The read-ahead VFS used to verify a restored database (see the header). */
#include "sqlite_readahead.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW (256 * 1024)

struct ra_file {
  sqlite3_file base;
  uint8_t* buf;        /* the window, for the main database only */
  sqlite3_int64 start; /* file offset of buf[0] */
  int len;             /* valid bytes in buf; 0: empty */
  sqlite3_file* real;  /* the wrapped file, allocated after this struct */
};

static sqlite3_vfs ra_vfs;
static pthread_once_t ra_once = PTHREAD_ONCE_INIT;
static int ra_status;

#define REAL(f) (((struct ra_file*)(f))->real)
/* VFS-level calls go to the parent with the parent's own pointer (the unix
 * VFS keeps state in its pAppData). */
#define PARENT(v) ((sqlite3_vfs*)(v)->pAppData)

static int ra_close(sqlite3_file* f) {
  struct ra_file* r = (struct ra_file*)f;
  int rc = r->real->pMethods ? r->real->pMethods->xClose(r->real) : SQLITE_OK;
  free(r->buf);
  r->buf = NULL;
  return rc;
}

static int ra_read(sqlite3_file* f, void* dst, int amt, sqlite3_int64 off) {
  struct ra_file* r = (struct ra_file*)f;
  if (r->buf == NULL || amt <= 0 || amt > WINDOW)
    return r->real->pMethods->xRead(r->real, dst, amt, off);
  if (r->len == 0 || off < r->start || off + amt > r->start + r->len) {
    sqlite3_int64 size = 0;
    int rc = r->real->pMethods->xFileSize(r->real, &size);
    if (rc != SQLITE_OK)
      return rc;
    sqlite3_int64 start = off - off % WINDOW;
    sqlite3_int64 n = size - start < WINDOW ? size - start : WINDOW;
    r->len = 0;
    if (n <= 0 || off + amt > start + n)
      /* Past the end or across the window: SQLite's own short-read rules. */
      return r->real->pMethods->xRead(r->real, dst, amt, off);
    rc = r->real->pMethods->xRead(r->real, r->buf, (int)n, start);
    if (rc != SQLITE_OK)
      return rc;
    r->start = start;
    r->len = (int)n;
  }
  memcpy(dst, r->buf + (off - r->start), (size_t)amt);
  return SQLITE_OK;
}

static int ra_write(sqlite3_file* f, const void* src, int amt,
                    sqlite3_int64 off) {
  ((struct ra_file*)f)->len = 0;
  return REAL(f)->pMethods->xWrite(REAL(f), src, amt, off);
}

static int ra_truncate(sqlite3_file* f, sqlite3_int64 size) {
  ((struct ra_file*)f)->len = 0;
  return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int ra_sync(sqlite3_file* f, int flags) {
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int ra_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int ra_lock(sqlite3_file* f, int lock) {
  return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int ra_unlock(sqlite3_file* f, int lock) {
  return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int ra_check_reserved(sqlite3_file* f, int* out) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int ra_file_control(sqlite3_file* f, int op, void* arg) {
  return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int ra_sector_size(sqlite3_file* f) {
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int ra_device_chars(sqlite3_file* f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int ra_shm_map(sqlite3_file* f, int pg, int pgsz, int extend,
                      void volatile** pp) {
  return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int ra_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void ra_shm_barrier(sqlite3_file* f) {
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int ra_shm_unmap(sqlite3_file* f, int del) {
  return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* No memory-mapped pages: they would bypass the window and count the
 * whole database into the resident set. */
static int ra_fetch(sqlite3_file* f, sqlite3_int64 off, int amt, void** pp) {
  (void)f;
  (void)off;
  (void)amt;
  *pp = NULL;
  return SQLITE_OK;
}

static int ra_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  (void)f;
  (void)off;
  (void)p;
  return SQLITE_OK;
}

static const sqlite3_io_methods ra_methods = {
    .iVersion = 3,
    .xClose = ra_close,
    .xRead = ra_read,
    .xWrite = ra_write,
    .xTruncate = ra_truncate,
    .xSync = ra_sync,
    .xFileSize = ra_file_size,
    .xLock = ra_lock,
    .xUnlock = ra_unlock,
    .xCheckReservedLock = ra_check_reserved,
    .xFileControl = ra_file_control,
    .xSectorSize = ra_sector_size,
    .xDeviceCharacteristics = ra_device_chars,
    .xShmMap = ra_shm_map,
    .xShmLock = ra_shm_lock,
    .xShmBarrier = ra_shm_barrier,
    .xShmUnmap = ra_shm_unmap,
    .xFetch = ra_fetch,
    .xUnfetch = ra_unfetch,
};

static int ra_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f,
                   int flags, int* out_flags) {
  sqlite3_vfs* parent = PARENT(vfs);
  struct ra_file* r = (struct ra_file*)f;
  memset(r, 0, sizeof(*r));
  r->real = (sqlite3_file*)(r + 1);
  if (flags & SQLITE_OPEN_MAIN_DB) {
    r->buf = malloc(WINDOW);
    if (r->buf == NULL)
      return SQLITE_NOMEM;
  }
  int rc = parent->xOpen(parent, name, r->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    free(r->buf);
    r->buf = NULL;
    f->pMethods = NULL;
    return rc;
  }
  f->pMethods = &ra_methods;
  return SQLITE_OK;
}

static int ra_delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  return PARENT(v)->xDelete(PARENT(v), name, sync_dir);
}

static int ra_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return PARENT(v)->xAccess(PARENT(v), name, flags, out);
}

static int ra_full_pathname(sqlite3_vfs* v, const char* name, int n,
                            char* out) {
  return PARENT(v)->xFullPathname(PARENT(v), name, n, out);
}

static void* ra_dl_open(sqlite3_vfs* v, const char* name) {
  return PARENT(v)->xDlOpen(PARENT(v), name);
}

static void ra_dl_error(sqlite3_vfs* v, int n, char* msg) {
  PARENT(v)->xDlError(PARENT(v), n, msg);
}

static void (*ra_dl_sym(sqlite3_vfs* v, void* h, const char* sym))(void) {
  return PARENT(v)->xDlSym(PARENT(v), h, sym);
}

static void ra_dl_close(sqlite3_vfs* v, void* h) {
  PARENT(v)->xDlClose(PARENT(v), h);
}

static int ra_randomness(sqlite3_vfs* v, int n, char* out) {
  return PARENT(v)->xRandomness(PARENT(v), n, out);
}

static int ra_sleep(sqlite3_vfs* v, int us) {
  return PARENT(v)->xSleep(PARENT(v), us);
}

static int ra_current_time(sqlite3_vfs* v, double* out) {
  return PARENT(v)->xCurrentTime(PARENT(v), out);
}

static int ra_last_error(sqlite3_vfs* v, int n, char* msg) {
  return PARENT(v)->xGetLastError(PARENT(v), n, msg);
}

static int ra_current_time64(sqlite3_vfs* v, sqlite3_int64* out) {
  return PARENT(v)->xCurrentTimeInt64(PARENT(v), out);
}

static void ra_init(void) {
  sqlite3_vfs* parent = sqlite3_vfs_find(NULL);
  if (parent == NULL || parent->iVersion < 2) {
    ra_status = -ENOENT;
    return;
  }
  ra_vfs = (sqlite3_vfs){
      .iVersion = 2,
      /* The real file lives right after ours (sizeof keeps it aligned). */
      .szOsFile = (int)sizeof(struct ra_file) + parent->szOsFile,
      .mxPathname = parent->mxPathname,
      .zName = DBS_SQLITE_READAHEAD_VFS,
      .pAppData = parent,
      .xOpen = ra_open,
      .xDelete = ra_delete,
      .xAccess = ra_access,
      .xFullPathname = ra_full_pathname,
      .xDlOpen = ra_dl_open,
      .xDlError = ra_dl_error,
      .xDlSym = ra_dl_sym,
      .xDlClose = ra_dl_close,
      .xRandomness = ra_randomness,
      .xSleep = ra_sleep,
      .xCurrentTime = ra_current_time,
      .xGetLastError = ra_last_error,
      .xCurrentTimeInt64 = ra_current_time64,
  };
  ra_status = sqlite3_vfs_register(&ra_vfs, 0) == SQLITE_OK ? 0 : -ENOMEM;
}

int dbs_sqlite_readahead_register(void) {
  pthread_once(&ra_once, ra_init);
  return ra_status;
}
