/* Locating the litestream binary and the litestream.yml to give it. */
#ifndef DBS_LITESTREAM_BIN_H
#define DBS_LITESTREAM_BIN_H

#include <stdbool.h>
#include <stddef.h>

#include "litestream_config.h"

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

/* What `litestream version` said. */
struct dbs_litestream_version {
  char text[64];           /* its first line, e.g. "v0.5.18" */
  int major, minor, patch; /* -1 for a development build */
  enum dbs_ls_rules rules; /* V03 or V05 */
};

/*
 * Runs `bin version` (stdin /dev/null, its own process group, 10 s at
 * most) and reads its first line: "vMAJOR.MINOR.PATCH" (0.3.x → V03, 0.5
 * and later → V05). A development build ("(development build ...)", what
 * `go install` of v0.5.15 and older gives) has no number: its `bin help`
 * is asked for the 0.5-only `ltx` command. Nothing is cached: each boot
 * asks the binary it will start. Returns 0; -EIO when the command fails
 * (exit status, signal, timeout) or its output is not a litestream version
 * (message in err naming the binary, what it said and the fix); -ENOTSUP
 * for versions other than 0.3 and 0.5+ (0.4 was never released; 0.2 and
 * older have another format); -EINTR when TERM or INT arrived meanwhile
 * (the child is killed; the signal is noted for dbs_proc_stop_signal);
 * -errno when it could not be started.
 */
int dbs_litestream_bin_version(const char* bin,
                               struct dbs_litestream_version* v, char* err,
                               size_t errlen);

/*
 * Parses the first line of `litestream version` into v (rules included).
 * Returns 0, 1 for a development build (v->major -1, rules unset) or
 * -EIO / -ENOTSUP as dbs_litestream_bin_version.
 */
int dbs_litestream_bin_parse_version(const char* line,
                                     struct dbs_litestream_version* v);

#endif
