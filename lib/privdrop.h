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
  gid_t *groups; /* supplementary groups (getgrouplist), may be NULL */
  char *home;    /* from passwd, or "/" when the uid has no entry */
  char *name;    /* user name, or the number as text */
};

/*
 * Resolves "USER[:GROUP]" (names or numbers). A numeric uid with no passwd
 * entry and no group gets gid = uid, never 0. Returns 0, or -ENOENT for an
 * unknown name (after logging which), -EINVAL for a malformed spec.
 */
int dbs_privdrop_resolve(const char *spec, struct dbs_creds *out);

/* Frees what dbs_privdrop_resolve allocated. */
void dbs_privdrop_free(struct dbs_creds *creds);

/*
 * Switches the calling process to creds: setgroups, setgid, setuid, in that
 * order, and checks that root cannot be regained. Async-signal-safe: meant
 * for a child between fork and exec. Returns 0 or -errno.
 */
int dbs_privdrop_apply(const struct dbs_creds *creds);

/*
 * Refuses to run installed setuid/setgid (real and effective ids differ).
 * Returns 0 or -EPERM.
 */
int dbs_privdrop_check_not_setuid(void);

#endif
