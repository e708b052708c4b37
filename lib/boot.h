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
  struct dbs_creds creds;
  bool have_creds;
  char* litestream_bin;                 /* found binary, or NULL */
  bool bin_searched;                    /* litestream_bin was looked for */
  struct dbs_litestream_version ls_ver; /* of litestream_bin, when ... */
  bool have_ls_ver;                     /* ... it will replicate */
  bool no_backup;  /* the restore established that no backup exists */
  char* replicate; /* replicator command, or NULL */
  struct dbs_restore_opts restore_opts; /* for the restore child */
};

/* Sets up b for cfg (borrowed; must outlive b). */
void dbs_boot_init(struct dbs_boot* b, const struct dbs_config* cfg);

/* True when a database was found: the DB phases run. */
bool dbs_boot_has_db(const struct dbs_boot* b);

/* Resolves --user (exit 64/77 on failure); main() refused setuid. */
int dbs_boot_user(struct dbs_boot* b);
int dbs_boot_discover(struct dbs_boot* b);
/* Prepares the volume and takes its lock (a second dbsetup exits 75 before
 * it touches anything), then links the app's path onto it. */
int dbs_boot_lock(struct dbs_boot* b);
int dbs_boot_link(struct dbs_boot* b);
int dbs_boot_restore(struct dbs_boot* b);
int dbs_boot_migrate(struct dbs_boot* b);
int dbs_boot_seed(struct dbs_boot* b);

/* Runs the replicator and the app; returns dbsetup's exit status. */
int dbs_boot_supervise(struct dbs_boot* b);

void dbs_boot_free(struct dbs_boot* b);

#endif
