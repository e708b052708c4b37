/*
 * The boot phases before supervision, as main() calls them in order:
 * discover → lock → link → restore → migrate → seed → supervise. Each
 * returns 0 to go on or the exit status dbsetup should stop with (after
 * logging why).
 */
#ifndef DBS_BOOT_H
#define DBS_BOOT_H

#include <stdbool.h>

#include "config.h"
#include "discover.h"
#include "litestream_bin.h"
#include "litestream_config.h"
#include "privdrop.h"
#include "restore.h"
#include "volume.h"

/*
 * A dry run (dbsetup doctor): every phase makes its checks and decisions
 * as in a boot and returns the same status, but changes nothing (no
 * directory, link, lock, restore, migration, seed or child); what it would
 * do is recorded here.
 */
struct dbs_boot_plan {
  bool no_app;      /* no app command given: not checked */
  bool ignore_lock; /* a held lock does not stop the dry run (doctor
                       --ignore-lock: the next boot, once it is free) */
  struct dbs_volume_info volume; /* lock: the volume */
  struct dbs_link_plan link;     /* link: what would happen */
  bool lock_checked;
  pid_t lock_holder;  /* lock: the pid in a held lock, 0 if free */
  int db_state;       /* restore: DBS_DB_* when reached, else -1 */
  bool stale;         /* restore: -wal/-shm/-journal beside a missing DB */
  bool restore_tried; /* the replicas were listed */
  enum dbs_restore_result restore; /* ... and what a restore would do */
  struct dbs_restore_summary restore_point; /* ... RESTORED: which point */
  bool restore_external;      /* litestream restore would run: not predicted */
  bool migrate_read;          /* migrations: the database's state was read */
  bool migrate_after_restore; /* ... not: it would be restored first */
  char migrate_note[1024];    /* ... why it was not read */
  unsigned napplied, npending, nfailed;
  bool migrate_continue; /* failed, but --migrate-failure=continue */
  bool seed_runs;        /* the seed would run */
  /* supervise: the stop timing the supervisor would get */
  unsigned stop_timeout_ms, replicator_stop_timeout_ms;
  unsigned replicator_first_sync_ms;
};

/* State carried from phase to phase. Owns every pointer in it. */
struct dbs_boot {
  const struct dbs_config* cfg;
  struct dbs_litestream_config ls; /* loaded litestream.yml */
  bool have_ls;
  struct dbs_discovery disc;
  char* target;                      /* the DB file on the volume */
  const struct dbs_db_config* ls_db; /* litestream.yml entry of target */
  bool replication_off;              /* bucket empty: warned */
  bool fresh;                        /* no DB before this boot */
  bool restored;                     /* restored from its backup by this boot */
  struct dbs_creds creds;
  bool have_creds;
  char* litestream_bin;                 /* found binary, or NULL */
  bool bin_searched;                    /* litestream_bin was looked for */
  struct dbs_litestream_version ls_ver; /* of litestream_bin, when ... */
  bool have_ls_ver;                     /* ... it will replicate */
  bool no_backup;  /* the restore established that no backup exists */
  char* replicate; /* replicator command, or NULL */
  struct dbs_restore_opts restore_opts; /* for the restore child */
  struct dbs_boot_plan* plan;           /* non-NULL: a dry run (doctor) */
};

/* Sets up b for cfg (borrowed; must outlive b). */
void dbs_boot_init(struct dbs_boot* b, const struct dbs_config* cfg);

/* True when a database was found: the DB phases run. */
bool dbs_boot_has_db(const struct dbs_boot* b);

/*
 * Whether the boot supervises a replicator for the database: --replicate
 * (a /bin/sh command), else `litestream replicate` when litestream.yml
 * lists the database with at least one replica, unless --no-replicate is
 * set or replication is off (a replica bucket empty after expanding the
 * environment). Decided from b's state after the discover phase (ls_db)
 * and the restore-check that sets replication_off; reads b only. The
 * boot's choice of the replicator and doctor's report both use it.
 */
bool dbs_boot_replicates(const struct dbs_boot* b);

/*
 * The phases, each called only after the one before it returned 0 (the
 * DB phases only when dbs_boot_has_db), each returning 0 or an exit status.
 */
/* Resolves --user (exit 64/77 on failure); main() refused setuid. */
int dbs_boot_user(struct dbs_boot* b);
/* Finds the app's database, its schema, migrations and seed. */
int dbs_boot_discover(struct dbs_boot* b);
/* Checks everything that could refuse the boot, prepares the volume and
 * takes its lock (a second dbsetup exits 75 before it touches anything);
 * sets b->target. */
int dbs_boot_lock(struct dbs_boot* b);
/* Links the app's database path onto the target. */
int dbs_boot_link(struct dbs_boot* b);
/* Keeps an existing database; restores a missing one from its backup, or
 * starts it new (b->fresh) when there is none. */
int dbs_boot_restore(struct dbs_boot* b);
/* Runs the migrations (native Prisma or --migrate). */
int dbs_boot_migrate(struct dbs_boot* b);
/* Seeds a database this boot created (b->fresh). */
int dbs_boot_seed(struct dbs_boot* b);

/* Runs the replicator and the app; returns dbsetup's exit status. In a
 * dry run: chooses the replicator and returns 0. */
int dbs_boot_supervise(struct dbs_boot* b);

void dbs_boot_free(struct dbs_boot* b);

#endif
