/*
 * The integrity check a restore runs on the restored database before its
 * rename: one enum, shared by the restore's options (restore.h) and the
 * command line that sets it (config.h, --verify), so that neither header
 * depends on the other.
 */
#ifndef DBS_RESTORE_VERIFY_H
#define DBS_RESTORE_VERIFY_H

enum dbs_verify {
  DBS_VERIFY_QUICK, /* PRAGMA quick_check (the default) */
  DBS_VERIFY_FULL,  /* PRAGMA integrity_check */
  DBS_VERIFY_NONE,  /* no check */
};

#endif
