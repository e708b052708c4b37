/*
 * LiteFS detection: is a LiteFS mount there, what does litefs.yml say, and
 * is this node the primary. dbsetup runs as LiteFS's `exec:` command
 * (`litefs mount` is PID 1); see ../shared/docs/litefs.md for the facts
 * this follows (LiteFS v0.5.14).
 *
 * - A LiteFS mount is a line of /proc/self/mountinfo with filesystem type
 *   "fuse" and source "litefs" (LiteFS sets only fsname=litefs; fusermount3
 *   names no subtype). "fuse.litefs" is accepted too.
 * - litefs.yml is found the way LiteFS finds it (an explicit path, else
 *   ./litefs.yml, ~/litefs.yml, /etc/litefs.yml) and expanded the way LiteFS
 *   expands it ($VAR, ${VAR}, ${A == "x"}, ${A != 'x'}, ${A == B}). The file
 *   alone never means "on LiteFS": images carry it in development too.
 * - The role comes ONLY from LiteFS's API: GET /info -> isPrimary.
 */
#ifndef DBS_LITEFS_H
#define DBS_LITEFS_H

#include <stdbool.h>
#include <stddef.h>

struct dbs_litefs_mount {
  char* dir;        /* the mount point, unescaped */
  bool allow_other; /* mounted with allow_other (fuse.allow-other) */
};

/*
 * Reads one mountinfo line. Returns 1 and sets *dir (malloc'd) and
 * *allow_other for a LiteFS mount, 0 for any other mount, -EINVAL for a
 * line that is not mountinfo.
 */
int dbs_litefs_mountinfo_line(const char* line, char** dir, bool* allow_other);

/*
 * The LiteFS mounts listed in the mountinfo file at path (NULL:
 * /proc/self/mountinfo). Returns 0 with *out (free with
 * dbs_litefs_mounts_free) and *n set, or -errno.
 */
int dbs_litefs_mounts(const char* path, struct dbs_litefs_mount** out,
                      size_t* n);
void dbs_litefs_mounts_free(struct dbs_litefs_mount* v, size_t n);

/*
 * Expands s as LiteFS expands litefs.yml (Go's os.Expand plus its
 * ==/!= comparisons, which yield "true" or "false"); unset variables
 * become "". Returns a malloc'd string, NULL when out of memory.
 */
char* dbs_litefs_expand_env(const char* s);

/* What dbsetup reads from litefs.yml; LiteFS's defaults where absent. */
struct dbs_litefs_config {
  char* path;       /* the file read */
  char* fuse_dir;   /* fuse.dir, default /litefs */
  char* data_dir;   /* data.dir, default /var/lib/litefs */
  char* http_addr;  /* http.addr, default :20202 */
  char* lease_type; /* lease.type ("static", "consul"), default "" */
  bool candidate;   /* lease.candidate, default true */
  bool allow_other; /* fuse.allow-other, default false */
  bool skip_sync;   /* skip-sync, default false */
};

/*
 * Finds and reads litefs.yml: explicit (if not NULL) only, else LiteFS's
 * search order. Returns 0 with *c filled (free with
 * dbs_litefs_config_free), -ENOENT when no file exists (an explicit one
 * missing included), or another -errno / -EINVAL with err set to a
 * message naming the file.
 */
int dbs_litefs_config_load(const char* explicit_path,
                           struct dbs_litefs_config* c, char* err,
                           size_t errlen);
void dbs_litefs_config_free(struct dbs_litefs_config* c);

/* GET /info, the fields dbsetup uses. */
struct dbs_litefs_info {
  bool is_primary;
  bool candidate;
  char primary_hostname[256]; /* "" on an unconnected replica */
};

/*
 * Parses the JSON body of /info. Returns 0, or -EINVAL when it is not a
 * JSON object with a boolean "isPrimary".
 */
int dbs_litefs_parse_info(const char* json, size_t len,
                          struct dbs_litefs_info* out);

/*
 * The loopback address to reach LiteFS's API listening on http_addr
 * (":20202", "0.0.0.0:P", "[::]:P", "localhost:P" -> 127.0.0.1:P;
 * a numeric address as given). Writes "HOST:PORT" (IPv6 in brackets)
 * into buf. Returns 0, or -EINVAL for an address that is not numeric
 * or has no port.
 */
int dbs_litefs_api_addr(const char* http_addr, char* buf, size_t n);

/*
 * GET http://<api_addr>/info over one HTTP/1.1 connection, everything
 * bounded by timeout_ms. Returns 0 with *out filled, -ECONNREFUSED,
 * -ETIMEDOUT, -EPROTO (not an HTTP 200 with /info's JSON), or another
 * -errno; err says which.
 */
int dbs_litefs_get_info(const char* api_addr, unsigned timeout_ms,
                        struct dbs_litefs_info* out, char* err, size_t errlen);

/*
 * True when litefs runs this container: it is dbsetup's parent or PID 1
 * (doctor, run from a shell on a LiteFS node, sees the latter).
 */
bool dbs_litefs_in_charge(void);

/*
 * The -config path on the command line of the litefs in charge (the
 * parent, else PID 1): -config X, --config X, -config=X, copied into buf;
 * NULL when there is none (LiteFS then searched its default places, as
 * dbs_litefs_config_load(NULL) does).
 */
const char* dbs_litefs_parent_config(char* buf, size_t n);

/* True when path is dir or inside it, both absolute and compared after
 * Go's path.Clean (no file system access). */
bool dbs_litefs_under(const char* path, const char* dir);

/*
 * 0 when LiteFS can serve a database under name (a file name in its flat
 * mount), else -EINVAL with err saying why: ".primary" and ".lag" are
 * LiteFS's own files, and a name ending in -journal, -wal, -shm, -pos or
 * -lock is taken for a side file of another database.
 */
int dbs_litefs_check_name(const char* name, char* err, size_t errlen);

/*
 * The LiteFS mount that serves db_path, or NULL when LiteFS does not serve
 * it: LiteFS serves it when it is mounted and in charge (litefs_in_charge:
 * dbsetup is its exec command, or litefs is PID 1) or db_path lies in a
 * mount. Then the mount is litefs.yml's fuse.dir, else the one holding
 * db_path, else the only one (NULL when that leaves several).
 */
const char* dbs_litefs_serving(const char* db_path, bool litefs_in_charge,
                               const struct dbs_litefs_mount* mounts,
                               size_t nmounts,
                               const struct dbs_litefs_config* cfg);

/*
 * The bad setups refused before anything changes. db_path is the absolute
 * path the app opens, volume dbsetup's volume; mounts the LiteFS mounts
 * in our mountinfo; cfg litefs.yml or NULL. In order:
 *   - db_path inside data.dir (LiteFS's own files);
 *   - the volume inside a LiteFS mount or fuse.dir, or inside
 *     <data.dir>/dbs (its lock would become a database);
 *   - LiteFS serves the database (dbs_litefs_serving) but several mounts
 *     leave it unclear which one;
 *   - db_path in a subdirectory of the serving mount (LiteFS is flat), or
 *     a name LiteFS cannot serve (dbs_litefs_check_name);
 *   - no LiteFS mount, but db_path under litefs.yml's fuse.dir: dbsetup
 *     runs before LiteFS, whose mount would hide what it made there.
 * Returns 0, or 78 (DBS_EXIT_CONFIG) with err naming the fix.
 */
int dbs_litefs_refuse_setup(const char* db_path, const char* volume,
                            bool litefs_in_charge,
                            const struct dbs_litefs_mount* mounts,
                            size_t nmounts, const struct dbs_litefs_config* cfg,
                            char* err, size_t errlen);

/*
 * POST http://<api_addr>/import?name=<name> with the SQLite file open at
 * src_fd as the body, streamed (LiteFS turns it into one transaction that
 * replaces the database, and replicas receive it). Each step (connect,
 * each 64 KiB sent, the answer) is bounded by idle_ms. Returns 0 (HTTP
 * 200), -EAGAIN (503: this node is not the primary), -EPROTO (another
 * answer, quoted in err) or another -errno (LiteFS unreachable).
 */
int dbs_litefs_import(const char* api_addr, const char* name, int src_fd,
                      unsigned idle_ms, char* err, size_t errlen);

/*
 * True when dbsetup's parent is `litefs` (its /proc/PPID/comm): dbsetup
 * is LiteFS's exec command and follows its exit contract.
 */
bool dbs_litefs_parent_is_litefs(void);

/*
 * LiteFS's exit contract, called last when the parent is litefs: after a
 * stop that litefs forwarded (sig, a SIGTERM or SIGINT, not 0), dies of
 * that same signal, so that `litefs mount` sees "signal: ..." and closes
 * (unmounts, releases its lease) and exits 0; any exit status >0 there
 * makes litefs exit 1 with the mount left behind. status is what dbsetup
 * would have exited with (logged). With sig 0 it returns: the caller
 * exits with the app's status, which litefs passes on.
 */
void dbs_litefs_exit_on_stop(int sig, int status);

#endif
