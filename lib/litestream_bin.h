/* Locating the litestream binary and the litestream.yml to give it. */
#ifndef DBS_LITESTREAM_BIN_H
#define DBS_LITESTREAM_BIN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Finds the litestream binary: explicit (--litestream; a name without '/'
 * is looked up in PATH), else `litestream` in PATH, else
 * node_modules/@flydotio/litestream-linux-<arch>/litestream below the
 * working directory (arch x64 for x86_64, arm64 for aarch64). The npm
 * wrapper (a "#!" script that runs node, e.g. node_modules/.bin/litestream
 * or @flydotio/litestream) is never used: it exits 0 when litestream fails
 * and forwards no signals. A wrapper met in PATH is skipped with a warning;
 * an explicit wrapper is an error. On success *out is an absolute path the
 * caller frees. Returns 0; -ENOENT when nothing was found (explicit: with a
 * message in err; not explicit: no replicator, err says where it looked);
 * -ENOEXEC for an explicit wrapper or non-executable file (message in err);
 * -ENOMEM.
 */
int dbs_litestream_bin_find(const char* explicit_path, char** out, char* err,
                            size_t errlen);

/*
 * True when the file at path is the npm JavaScript wrapper: it starts with
 * "#!" and its first line mentions node. Symlinks are followed.
 */
bool dbs_litestream_bin_is_wrapper(const char* path);

/*
 * Finds litestream.yml: explicit (--litestream-config, DBSETUP_
 * LITESTREAM_CONFIG or LITESTREAM_CONFIG, already merged by config.c),
 * else ./litestream.yml, else /etc/litestream.yml. On success *out is the
 * absolute path (symlinks not resolved), caller frees. Returns 0; -ENOENT
 * when the explicit file is missing (message in err) or, without an
 * explicit one, when neither default exists (nothing to do); -ENOMEM.
 */
int dbs_litestream_bin_find_config(const char* explicit_path, char** out,
                                   char* err, size_t errlen);

#endif
