#ifndef DBS_LITEFS_BOOT_H
#define DBS_LITEFS_BOOT_H

#include <stdbool.h>

/*
 * The boot under LiteFS (layer 5, beside boot; the detection is litefs.h):
 * dbsetup as LiteFS's exec command: the app's path is linked to
 * <fuse.dir>/<name>; the volume keeps only dbsetup's lock and temporary
 * files (never in the mount or <data.dir>/dbs). The role comes from GET
 * /info. The primary restores a missing database to a file on the volume,
 * checks it and imports it (POST /import), migrates (without
 * locking_mode=EXCLUSIVE, which LiteFS refuses in WAL mode), seeds a new
 * one, and runs litestream (static lease only). A replica does none of
 * that: it waits until the database and every local migration have
 * arrived (--litefs-replica-wait / DBSETUP_LITEFS_REPLICA_WAIT, 300 s by
 * default), else 75.
 */
struct dbs_boot;

/*
 * The checks of the lock phase, first of all: dbs_litefs_refuse_setup
 * with this process's facts (mountinfo, whether litefs is in charge,
 * litefs.yml as litefs read it), then, when LiteFS serves the database,
 * --user (user) without fuse.allow-other, and the role from GET /info
 * (retried for 10 s: 69 when LiteFS does not answer). Reads only: the
 * boot and doctor call it alike. Returns 0, 64, 69 or 78 after logging.
 */
int dbs_litefs_check_setup(const char* db_path, const char* volume,
                           bool litefs_in_charge, bool user);

/* After dbs_litefs_check_setup: LiteFS serves the database (on), this
 * node is a replica, and the database's path in the mount (NULL: not on). */
bool dbs_litefs_on(void);
bool dbs_litefs_replica(void);
const char* dbs_litefs_target(void);

/* After dbs_litefs_check_setup, LiteFS on: the serving mount (fuse.dir)
 * and the primary's hostname from GET /info ("" when a replica is not
 * connected to one yet); NULL when LiteFS is not on. */
const char* dbs_litefs_mount_dir(void);
const char* dbs_litefs_primary_host(void);
/* litefs.yml's lease.type ("static", "consul"; "" when none was read). */
const char* dbs_litefs_lease(void);

/* After dbs_litefs_check_setup refused with 69: the API address ("HOST:
 * PORT") that did not answer GET /info; else NULL. */
const char* dbs_litefs_unanswered(void);

/*
 * True (and logged) when this node is a LiteFS replica, which leaves what
 * (a migration, the replicator) to the primary.
 */
bool dbs_litefs_skip(const char* what);

/*
 * litestream.yml against LiteFS, after the boot found its entry for the
 * database (b->ls_db): when litestream would replicate it, the lease must
 * be static, its path the database in the mount, and its meta-path outside
 * the mount and <data.dir>/dbs. Returns 0 or 78 after logging the fix.
 */
int dbs_litefs_check_litestream(const struct dbs_boot* b);

/*
 * The restore phase under LiteFS (restore: the boot's restore of b->target
 * on the volume). Primary: a database in the mount stays; a missing one
 * (no file, or no pages) is restored by restore() into
 * <volume>/.dbsetup-restore-<name>, checked (header, size, quick_check),
 * imported (POST /import) and the file removed; without a backup it is
 * new (b->fresh). Replica: waits for the database and the migrations.
 * Returns 0 or an exit status (75: lost primary or waited in vain).
 */
int dbs_litefs_boot_restore(struct dbs_boot* b,
                            int (*restore)(struct dbs_boot*));

/*
 * After a write step (what: "the migration", "the seed") failed on the
 * primary: true (logged) when GET /info now says this node is no longer
 * the primary, or LiteFS no longer answers. The boot then exits 75 and
 * keeps the database.
 */
bool dbs_litefs_lost_primary(const char* what);

#endif
