/*
 * Inside the litestream_config module: litestream.yml as written (the raw
 * structures ls_fields.c decodes), and what turns it into the resolved
 * config of litestream_config.h (ls_replica.c for one replica,
 * litestream_config.c for the rest). Not for other modules.
 */
#ifndef DBS_LITESTREAM_CONFIG_INTERNAL_H
#define DBS_LITESTREAM_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "litestream_config.h"
#include "log.h"
#include "ls_yaml.h"

/* True for NULL and "". */
static inline bool dbs_ls_empty(const char* s) {
  return s == NULL || *s == '\0';
}

/* Returns a copy of s, or NULL for NULL or "". Sets *oom on failure. */
static inline char* dbs_ls_dup_nonempty(const char* s, bool* oom) {
  if (dbs_ls_empty(s))
    return NULL;
  char* c = strdup(s);
  if (c == NULL)
    *oom = true;
  return c;
}

/* Registers a secret (any of the config's keys) unless it is empty. */
static inline void dbs_ls_register_secret(const char* s) {
  if (!dbs_ls_empty(s))
    (void)dbs_log_add_secret(s);
}

/* Registers the password of a URL's userinfo. */
static inline void dbs_ls_register_url_secret(const char* url) {
  if (!dbs_ls_empty(url))
    (void)dbs_log_add_url_secret(url);
}

/* ---------------------------------------------------------------------- */
/* litestream.yml as written (ls_fields.c).                               */

/* One replica's fields as written, before litestream's rules apply.
 * Strings owned; NULL when not written or empty. */
struct dbs_ls_raw_replica {
  char *type, *name, *path, *url;
  char *access_key_id, *secret_access_key, *region, *bucket, *endpoint;
  int force_path_style; /* -1 unset */
  int skip_verify;      /* -1 unset */
  char *account_name, *account_key, *host, *user, *password, *key_path;
  size_t nage; /* age identities + recipients */
  yaml_node_t *node, *bucket_node, *url_node, *path_node, *age_node;
  int64_t sync_interval_ns;
  yaml_node_t* sync_interval_node; /* NULL: not written */
};

/* 0.5's snapshot: {interval, retention} (global, or per database). */
struct dbs_ls_raw_snapshot {
  int64_t interval_ns, retention_ns;
  yaml_node_t *interval_node, *retention_node; /* NULL: not written */
};

struct dbs_ls_raw_db {
  char* path;
  char* meta_path;
  char* dir; /* 0.5's directory replication */
  struct dbs_ls_raw_replica* replicas;
  size_t nreplicas;
  struct dbs_ls_raw_replica single; /* replica: (0.5), when replica_node */
  yaml_node_t *node, *path_node, *replica_node, *replicas_node;
  struct dbs_ls_raw_snapshot* snapshot; /* NULL: none written */
  int64_t monitor_interval_ns;
  bool monitor_interval_set;
};

struct dbs_ls_raw_cfg {
  char *access_key_id, *secret_access_key, *exec;
  struct dbs_ls_raw_db* dbs;
  size_t ndbs;
  struct dbs_ls_raw_replica global; /* 0.5: replica settings at the top */
  struct dbs_ls_raw_snapshot snapshot;
  int64_t shutdown_sync_timeout_ns;
  bool shutdown_sync_timeout_set;
};

/*
 * Decodes the document root (NULL for an empty document) into raw, which
 * the caller zeroed, by c->rules: every key litestream reads, with
 * yaml.v2's type rules and the checks 0.5's Validate makes on the global
 * settings; warnings for the 0.3 keys 0.5 ignores. Errors go to c. The
 * caller frees raw with dbs_ls_raw_cfg_free, on success and on failure.
 */
void dbs_ls_fields_read(struct dbs_ls_ctx* c, yaml_node_t* root,
                        struct dbs_ls_raw_cfg* raw);

void dbs_ls_raw_cfg_free(struct dbs_ls_raw_cfg* raw);

/* Checks a snapshot section as 0.5's Validate does; field names it
 * ("snapshot", "dbs[0].snapshot"). */
void dbs_ls_check_snapshot(struct dbs_ls_ctx* c,
                           const struct dbs_ls_raw_snapshot* sn,
                           const char* field);

/* ---------------------------------------------------------------------- */
/* Resolution.                                                            */

/*
 * Builds r from raw as litestream's NewReplicaFromConfig does under
 * `rules`, with dbsetup's stricter additions (see litestream_config.h).
 * bucket_from_env tells whether an empty s3 bucket came from env
 * expansion (then r->bucket_empty, no error). Registers the replica's
 * secrets. Returns 0, or -EINVAL with one sentence in msg (size msglen)
 * or -ENOMEM; r is then empty. The caller frees r with
 * dbs_replica_config_free. (ls_replica.c)
 */
int dbs_ls_replica_resolve(const struct dbs_ls_raw_replica* raw,
                           bool bucket_from_env, enum dbs_ls_rules rules,
                           struct dbs_replica_config* r, char* msg,
                           size_t msglen);

#endif
