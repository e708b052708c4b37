/* The file replica: a Litestream replica laid out in a local directory. */
#ifndef DBS_STORAGE_FILE_H
#define DBS_STORAGE_FILE_H

#include "storage.h"

/*
 * Opens the directory dir as a storage whose keys are paths relative to
 * dir ("generations/<gen>/wal/..."). The directory need not exist yet: a
 * missing directory lists as empty, as litestream's file client does.
 * Timestamps are file mtimes (ns). Listing with a delimiter rolls
 * subdirectories up into prefix entries; entries are not followed through
 * symlinks (lstat), as Go's Readdir does. Gets stream the file through a
 * fixed 1 MiB buffer. The caller owns *out and frees it with
 * (*out)->ops->close(*out). Returns 0, -EINVAL (empty dir) or -ENOMEM.
 */
int dbs_storage_file_open(const char* dir, struct dbs_storage** out);

#endif
