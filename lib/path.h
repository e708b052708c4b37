/*
 * Paths: joining, splitting, mkdir -p, the one canonical form dbsetup
 * compares files by, and the lexical rules of the tools whose paths it
 * must reproduce (Go's path.Clean/filepath.Abs for litestream, Node's
 * path.resolve for Prisma) under names that say whose rule they follow.
 * Slash-separated POSIX paths only. Every char* result is malloc'd and
 * owned by the caller; NULL means out of memory unless stated otherwise.
 */
#ifndef DBS_PATH_H
#define DBS_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* dir + "/" + name, without doubling the slash when dir ends in one; dir
 * itself when name is "". No cleaning: "." and ".." stay as written. */
char* dbs_path_join(const char* dir, const char* name);

/*
 * The directory part of path: everything before the last slash, "/" when
 * that is the root, "." when path has no slash. path has no trailing
 * slash (other than being "/" itself).
 */
char* dbs_path_dirname(const char* path);

/* The part of path after its last slash (a pointer into path). */
const char* dbs_path_basename(const char* path);

/*
 * path made absolute for the kernel: the working directory prepended when
 * relative, repeated and trailing slashes removed. "." and ".." stay (the
 * kernel resolves them through symlinks; a lexical clean would not).
 * Returns NULL with errno set (ENOMEM, or getcwd's errno).
 */
char* dbs_path_absolute(const char* path);

/*
 * The one canonical form dbsetup compares files by: path made absolute
 * (dbs_path_absolute), then the realpath of its longest existing prefix,
 * then the components that do not exist yet ("." dropped, ".." removing
 * the previous one, as mkdir -p would create them). Two paths with the
 * same canonical form reach the same file once the missing part exists;
 * a dangling symlink is kept as the link itself. Returns NULL with errno
 * set: ENOMEM, or realpath's errno other than ENOENT (ENOTDIR, EACCES,
 * ELOOP, ...).
 */
char* dbs_path_canonical(const char* path);

/* True when path is dir or below it (both canonical, no trailing slash). */
bool dbs_path_is_within(const char* path, const char* dir);

/*
 * mkdir -p: creates every missing component of the absolute path with
 * mode (less the umask) and checks that each one is a directory. Returns
 * 0 or -errno (-ENOTDIR when a component is something else, -EACCES,
 * -EROFS, -ENOMEM).
 */
int dbs_path_mkdir_p(const char* path, mode_t mode);

/*
 * What dbs_path_mkdir_p(path) would meet, without creating anything: 0
 * when every component exists as a directory or the deepest existing one
 * is a directory this process may create entries in; else -errno as
 * dbs_path_mkdir_p would fail (-ENOTDIR, -EACCES, -EROFS).
 */
int dbs_path_mkdir_p_check(const char* path);

/*
 * Go's path.Clean (and filepath.Clean on Unix): lexical processing of
 * repeated slashes, "." and ".." (".." at the root stays at the root);
 * "" gives ".".
 */
char* dbs_path_go_clean(const char* path);

/*
 * Go's filepath.Abs on Unix: the working directory joined when relative,
 * then dbs_path_go_clean. Returns NULL with errno set (ENOMEM, or
 * getcwd's errno).
 */
char* dbs_path_go_abs(const char* path);

/*
 * litestream's expand() for a database path: "~" and "~/x" use the home
 * directory of the real uid from the passwd database (Go's os/user), then
 * Go's filepath.Join; anything else is dbs_path_go_abs. Used on both
 * sides of a comparison with litestream.yml paths, as litestream does.
 * Returns 0 with *out malloc'd, -ENOMEM, or -ENOENT with one sentence in
 * err (no passwd entry or no home directory).
 */
int dbs_path_litestream_expand(const char* s, char** out, char* err,
                               size_t errlen);

/*
 * litestream 0.5's expand(): a leading "sqlite3://" or "sqlite://" (the
 * connection-string form) is removed, then as dbs_path_litestream_expand
 * ("sqlite:///data/app.db" is "/data/app.db", "sqlite://app.db" is
 * "app.db" made absolute). 0.3.13 has no such rule. Sets *stripped when a
 * prefix was removed (stripped may be NULL). Returns as
 * dbs_path_litestream_expand.
 */
int dbs_path_litestream05_expand(const char* s, char** out, bool* stripped,
                                 char* err, size_t errlen);

/*
 * Node's path.resolve(dir, rel) for an absolute dir: rel when absolute,
 * else dir + "/" + rel, cleaned lexically (repeated slashes, "." and ".."
 * removed, ".." at the root stays at the root, no trailing slash).
 */
char* dbs_path_node_resolve(const char* dir, const char* rel);

#endif
