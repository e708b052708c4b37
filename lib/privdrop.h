/* --user: resolve USER[:GROUP], chown the volume's files, drop privileges. */
#ifndef DBS_PRIVDROP_H
#define DBS_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* The identity children run as. Owns groups, home and name. */
struct dbs_creds {
  uid_t uid;
  gid_t gid;
  size_t ngroups;
  gid_t* groups; /* supplementary groups (getgrouplist), may be NULL */
  char* home;    /* from passwd, or "/" when the uid has no entry */
  char* name;    /* user name, or the number as text */
};

/*
 * Resolves "USER[:GROUP]" (names or numbers; a number is always an id).
 * The group is the user's passwd group unless GROUP is given; the
 * supplementary groups are the user's (getgrouplist) when GROUP is absent,
 * else just GROUP. A numeric uid with no passwd entry and no group gets
 * gid = uid, never 0, home "/" and no supplementary groups.
 * Returns 0; -ENOENT for an unknown user or group name; -EINVAL for a
 * malformed spec ("", ":", "a:", ":g", "a:b:c", an id >= 2^32-1); -ENOMEM.
 * Logs the error and its fix for -ENOENT and -EINVAL (exit DBS_EXIT_USAGE).
 * On success the caller owns *out (dbs_privdrop_free); on failure *out
 * holds nothing.
 */
int dbs_privdrop_resolve(const char* spec, struct dbs_creds* out);

/* Frees what dbs_privdrop_resolve allocated; creds is zeroed. */
void dbs_privdrop_free(struct dbs_creds* creds);

/*
 * Tells whether this process may switch to creds: it is root, or already
 * runs as that uid and gid. Returns 0, or -EPERM after logging which ids
 * and the fix (exit DBS_EXIT_NOPERM).
 */
int dbs_privdrop_check(const struct dbs_creds* creds);

/*
 * Switches the calling process to creds: setgroups, setgid, setuid, in that
 * order, then checks the real and effective ids and that root (uid 0, and
 * gid 0 unless creds asks for it) cannot be regained. A non-root process
 * already running as creds does nothing. Async-signal-safe: meant for a
 * child between fork and exec (the caller sets HOME from creds->home).
 * Returns 0 or -errno (-EPERM when a check fails).
 */
int dbs_privdrop_apply(const struct dbs_creds* creds);

/*
 * Refuses to run installed setuid/setgid or with file capabilities: the
 * real and effective ids differ, AT_SECURE is set, or the executable
 * (/proc/self/exe) carries the setuid bit or the setgid bit with group
 * execute. The last catches root running a setuid copy, where the ids
 * agree: the copy would still serve every other user. Returns 0 or -EPERM;
 * the caller logs (dbs_privdrop_log_setuid) and exits DBS_EXIT_NOPERM.
 */
int dbs_privdrop_check_not_setuid(void);

/*
 * Makes sure fds 0, 1 and 2 are open: /dev/null (read-write) goes onto
 * each closed one, or, without /dev/null, an O_PATH fd of "/" that every
 * read and write refuses. Otherwise the first file dbsetup opens would
 * become stderr and receive its messages (a restore started with 2>&-
 * wrote its progress into the database). Call first thing in main().
 * Returns 0 or -errno.
 */
int dbs_privdrop_open_std_fds(void);

/* Logs the setuid refusal naming the executable, its mode and the fix. */
void dbs_privdrop_log_setuid(void);

#endif
