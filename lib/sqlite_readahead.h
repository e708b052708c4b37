/*
 * A read-ahead SQLite VFS for one job: the integrity check of a freshly
 * restored database. SQLite reads the database one page per pread(); a
 * quick_check of 1 GB makes half a million of them. This VFS wraps the
 * default one and serves main-database reads from a 256 KiB window read
 * in one call (aligned, so ascending and descending walks both hit it).
 * Writes and truncations drop the window. Everything else is forwarded.
 */
#ifndef DBS_SQLITE_READAHEAD_H
#define DBS_SQLITE_READAHEAD_H

/* The name to pass to sqlite3_open_v2 as zVfs. */
#define DBS_SQLITE_READAHEAD_VFS "dbs-readahead"

/*
 * Registers the VFS (not as the default) once per process; thread-safe.
 * Returns 0, or -ENOENT when SQLite has no default VFS, or -ENOMEM.
 */
int dbs_sqlite_readahead_register(void);

#endif
