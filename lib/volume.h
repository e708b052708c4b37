/* The volume: link the app's DB path onto it, lock it, check the DB file. */
#ifndef DBS_VOLUME_H
#define DBS_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What is at the database target on the volume. */
enum dbs_db_state {
  DBS_DB_MISSING = 0, /* no file (or zero bytes, after a warning) */
  DBS_DB_EXISTS,      /* a file starting with the SQLite header */
  DBS_DB_EMPTY,       /* zero bytes (dbs_volume_db_check only) */
};

/*
 * Computes the target: <volume>/<basename of app_path>, or app_path itself
 * when its directory is already inside the volume (both compared after
 * resolving symlinks; relative paths are taken from the working directory).
 * The result is absolute and canonical: the volume's realpath, then the
 * rest. Creates the volume (0755) if missing, warning that data will not
 * outlive the container, and warns when it is not a mount point. Creates
 * the target's directory when it lies inside the volume. Checks that the
 * volume is writable.
 * Returns a malloc'd path (caller frees) or NULL with errno set and a
 * message in err: EACCES/EROFS/EPERM (volume not writable or not
 * creatable), ENOTDIR (volume is not a directory), EINVAL (app_path names
 * no file), ENOMEM. All of them mean exit DBS_EXIT_CANTCREAT except EINVAL
 * (a bad --db: DBS_EXIT_USAGE) and ENOMEM (DBS_EXIT_SOFTWARE).
 */
char* dbs_volume_prepare(const char* volume, const char* app_path, char* err,
                         size_t errlen);

/* What dbs_volume_prepare would find (dbs_volume_prepare_check). */
struct dbs_volume_info {
  bool exists;             /* the volume directory exists (else: created) */
  bool mounted;            /* it is a mount point or inside one */
  bool target_dir_missing; /* the target's directory would be created */
};

/*
 * The checks of dbs_volume_prepare and the target it would return, with
 * nothing created or logged (dbsetup doctor): a missing volume or target
 * directory must be creatable. Same returns and errno as
 * dbs_volume_prepare; *info says what it would create.
 */
char* dbs_volume_prepare_check(const char* volume, const char* app_path,
                               struct dbs_volume_info* info, char* err,
                               size_t errlen);

/*
 * Makes app_path a symlink to target (as returned by dbs_volume_prepare):
 * missing → create parents (0755) and link; right link (same text, or
 * resolving to the same place, even if dangling) → keep; wrong link →
 * replaced atomically (a temporary link renamed over it); a regular file
 * starting with the SQLite header, or empty (a database baked into the
 * image), and its -wal/-shm/-journal → renamed aside to <name>.in-image
 * (then .in-image.1, ... never overwriting; the sidecars keep SQLite's
 * naming: <name>.in-image-wal) with a warning naming its size and the fix
 * (.dockerignore). No-op when app_path is the target.
 * Returns 0 or -errno with a message in err: -EILSEQ (a regular file that
 * is not SQLite, e.g. a config file named by a wrong DATABASE_URL: left
 * untouched, exit DBS_EXIT_DATAERR), -EISDIR (a directory is in the way),
 * -EINVAL (a fifo/socket/device is), -EACCES/-EROFS (cannot create the
 * link, e.g. a read-only root filesystem).
 */
int dbs_volume_link(const char* app_path, const char* target, char* err,
                    size_t errlen);

/* What dbs_volume_link would do (dbs_volume_link_check). */
enum dbs_link_action {
  DBS_LINK_SAME,       /* app_path is the target: nothing */
  DBS_LINK_KEEP,       /* the right link is there */
  DBS_LINK_CREATE,     /* nothing there: link */
  DBS_LINK_REPLACE,    /* a wrong or dangling link: replace it */
  DBS_LINK_MOVE_ASIDE, /* a baked-in database: move it aside, then link */
};
struct dbs_link_plan {
  enum dbs_link_action action;
  bool dangling;  /* REPLACE: the old link is dangling */
  char* old;      /* REPLACE: the old link's text */
  char* aside;    /* MOVE_ASIDE: the name it would get */
  long long size; /* MOVE_ASIDE: its size */
};

/*
 * The decision and checks of dbs_volume_link, with nothing created, moved
 * or logged (dbsetup doctor): same returns as dbs_volume_link (a directory
 * that cannot be written is -EACCES/-EROFS). Free *plan with
 * dbs_volume_link_plan_free, also after an error.
 */
int dbs_volume_link_check(const char* app_path, const char* target,
                          struct dbs_link_plan* plan, char* err, size_t errlen);
void dbs_volume_link_plan_free(struct dbs_link_plan* plan);

/*
 * Takes an exclusive non-blocking flock on <volume>/.dbsetup.lock, writes
 * "<pid> <hostname>" into it, and keeps the fd (close-on-exec, so children
 * never hold it) for the process lifetime. Returns 0; -EWOULDBLOCK when another
 * process holds it, with the pid it wrote in *holder (0 if unreadable) and
 * a message naming that pid and hostname in err (exit DBS_EXIT_TEMPFAIL);
 * -EALREADY if this process already holds a lock; -ELOOP (a symlink),
 * -EINVAL (not a regular file) or -EMLINK (a file with other hard links:
 * it may be root's), refused before it is locked or written (exit
 * DBS_EXIT_DATAERR); or -errno (-EACCES/-EROFS: exit DBS_EXIT_CANTCREAT).
 */
int dbs_volume_lock(const char* volume, pid_t* holder, char* err,
                    size_t errlen);

/*
 * What dbs_volume_lock would meet, taking no lock and creating nothing
 * (dbsetup doctor): the same refusals of the lock file (-ELOOP, -EINVAL,
 * -EMLINK, -EACCES), and -EWOULDBLOCK when /proc/locks shows a flock on
 * it, with the pid written in it in *holder and the same message. A
 * missing lock file is 0. -ENOSYS when /proc/locks cannot be read.
 * A holder in another PID namespace may not be listed (the kernel hides
 * it): doctor then says the volume is free.
 */
int dbs_volume_lock_check(const char* volume, pid_t* holder, char* err,
                          size_t errlen);

/* Releases the lock taken by dbs_volume_lock (tests; exit does it too). */
void dbs_volume_unlock(void);

/*
 * Looks at the target, never through a symlink: missing → DBS_DB_MISSING;
 * zero bytes → warns, removes the empty file, DBS_DB_MISSING; SQLite
 * header → DBS_DB_EXISTS. Anything else → -EILSEQ with nothing touched
 * (exit DBS_EXIT_DATAERR): other content (its bytes are never shown), or
 * an empty file beside a non-empty -wal (SQLite could still read pages
 * from it). A symlink (dangling or not) → -ELOOP, a file with other hard
 * links → -EMLINK (it may be root's; nothing is read), a directory → -EISDIR,
 * another non-regular file → -EINVAL (exit DBS_EXIT_DATAERR too); other
 * -errno when it cannot be read (-EACCES: DBS_EXIT_CANTCREAT). Messages
 * go to err.
 */
int dbs_volume_db_state(const char* target, char* err, size_t errlen);

/* dbs_volume_db_state without its one change: an empty file is reported
 * as DBS_DB_EMPTY and left alone (dbsetup doctor). */
int dbs_volume_db_check(const char* target, char* err, size_t errlen);

/*
 * Removes <target>-wal, -shm and -journal left beside a missing database
 * (SQLite would replay a stale WAL into a restored file), logging each with
 * its size. Refuses with -EEXIST (removing nothing) if the target exists.
 * Returns 0 or -errno.
 */
int dbs_volume_remove_stale(const char* target);

/*
 * Removes the database and its -wal/-shm/-journal (a fresh DB whose
 * migrate or seed failed), logging each. Missing files are fine. Returns 0
 * or the first -errno.
 */
int dbs_volume_remove_db(const char* target);

/*
 * chowns to uid:gid the volume directory (following its symlink), every
 * directory between it and the target, and — without following symlinks
 * (lchown) — the DB, its -wal/-shm/-journal and litestream's metadata
 * directory .<name>-litestream (recursively). Missing files are skipped.
 * First, before any chown: a regular file among them with other hard
 * links (st_nlink > 1) is refused with -EMLINK and a message naming it
 * (exit DBS_EXIT_DATAERR): it may be a file of root's linked in by the
 * app's user. Returns 0 or -errno with a message in err.
 */
int dbs_volume_chown(const char* volume, const char* target, uid_t uid,
                     gid_t gid, char* err, size_t errlen);

/* The refusals of dbs_volume_chown (-EMLINK, with the same message),
 * chowning nothing (dbsetup doctor). A missing volume is 0. */
int dbs_volume_chown_check(const char* volume, const char* target, char* err,
                           size_t errlen);

#endif
