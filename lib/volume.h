/* The volume: link the app's DB path onto it, lock it, check the DB file. */
#ifndef DBS_VOLUME_H
#define DBS_VOLUME_H

#include <stddef.h>
#include <sys/types.h>

/* What is at the database target on the volume. */
enum dbs_db_state {
  DBS_DB_MISSING = 0, /* no file (or zero bytes, after a warning) */
  DBS_DB_EXISTS,      /* a file starting with the SQLite header */
};

/*
 * Computes the target: <volume>/<basename of app_path>, or app_path itself
 * when it is already inside the volume. Creates the volume if missing (with
 * a warning that data will not outlive the container) and warns when it is
 * not a mount point. Returns a malloc'd path (caller frees) or NULL with
 * errno set and a message in err (EACCES/EROFS → exit 73).
 */
char *dbs_volume_prepare(const char *volume, const char *app_path, char *err,
                         size_t errlen);

/*
 * Makes app_path a symlink to target: missing → create parents and link;
 * right link → keep; wrong or dangling link → replace atomically; a
 * regular file (and its -wal/-shm) → moved aside to <name>.in-image with a
 * warning naming its size and the fix. No-op when app_path == target.
 * Returns 0 or -errno with a message in err.
 */
int dbs_volume_link(const char *app_path, const char *target, char *err,
                    size_t errlen);

/*
 * Takes an exclusive flock on <volume>/.dbsetup.lock, writes our pid into
 * it, and keeps the fd (close-on-exec) for the process lifetime. Returns 0,
 * -EWOULDBLOCK with the holder's pid in *holder (exit 75), or -errno.
 */
int dbs_volume_lock(const char *volume, pid_t *holder, char *err,
                    size_t errlen);

/*
 * Looks at the target: missing or zero bytes (warns, removes the empty
 * file) → DBS_DB_MISSING; SQLite header → DBS_DB_EXISTS; anything else →
 * -EILSEQ (exit 65, nothing touched). Returns a state or -errno.
 */
int dbs_volume_db_state(const char *target, char *err, size_t errlen);

/*
 * Removes <target>-wal, -shm and -journal left beside a missing database
 * (SQLite would replay a stale WAL into a restored file). Returns 0 or
 * -errno.
 */
int dbs_volume_remove_stale(const char *target);

/*
 * Removes the database and its -wal/-shm/-journal (a fresh DB whose
 * migrate or seed failed). Returns 0 or -errno.
 */
int dbs_volume_remove_db(const char *target);

/* chowns the volume directory, the DB and its -wal/-shm to uid:gid. */
int dbs_volume_chown(const char *volume, const char *target, uid_t uid,
                     gid_t gid, char *err, size_t errlen);

#endif
