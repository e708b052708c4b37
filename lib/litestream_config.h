/*
 * litestream.yml, read as litestream v0.3.13 reads it: environment
 * expansion of the whole text, dbs[].path resolution, replicas[] with
 * their url/bucket/path/endpoint/region rules, top-level credentials.
 */
#ifndef DBS_LITESTREAM_CONFIG_H
#define DBS_LITESTREAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum dbs_replica_type {
  DBS_REPLICA_FILE,
  DBS_REPLICA_S3,
  DBS_REPLICA_OTHER, /* gcs, abs, sftp...: restored by the litestream binary */
};

/* One replicas[] entry, fully resolved. All strings owned (may be NULL). */
struct dbs_replica_config {
  char *name;          /* name:, default the type string ("s3", "file") */
  char *type;          /* as written or from the url scheme */
  enum dbs_replica_type kind;
  char *url;           /* url: as written (after env expansion) */
  /* file: */
  char *path;          /* file replica directory (absolute) / s3 key prefix */
  /* s3: */
  char *bucket;
  char *endpoint;      /* "https://host[:port]" or NULL for AWS */
  char *region;        /* NULL: decided at connect time (see storage_s3) */
  bool force_path_style;
  bool skip_verify;
  char *access_key_id;
  char *secret_access_key;
  bool has_age;        /* age: configured (restore refuses it) */
};

struct dbs_db_config {
  char *path;          /* absolute, ~ expanded */
  char *meta_path;
  struct dbs_replica_config *replicas;
  size_t nreplicas;
};

struct dbs_litestream_config {
  char *file;          /* absolute path of the file read */
  char *access_key_id; /* top level */
  char *secret_access_key;
  struct dbs_db_config *dbs;
  size_t ndbs;
};

/*
 * Reads and parses path. expand_env mirrors litestream's default (true)
 * and -no-expand-env. Relative dbs[].path values resolve against the
 * working directory, as litestream does. Top-level credentials are copied
 * into replicas that have none. Secrets are registered with
 * dbs_log_add_secret. On error writes a message naming the file, line and
 * column into err (size errlen) and returns -EINVAL (malformed),
 * -ENOENT (missing) or -ENOMEM. The caller frees *out with
 * dbs_litestream_config_free.
 */
int dbs_litestream_config_load(const char *path, bool expand_env,
                               struct dbs_litestream_config *out, char *err,
                               size_t errlen);

/* As dbs_litestream_config_load, from text in memory (for tests). */
int dbs_litestream_config_parse(const char *text, size_t len, bool expand_env,
                                struct dbs_litestream_config *out, char *err,
                                size_t errlen);

/*
 * Parses a replica URL (s3://bucket/path, file:///dir, abs://...) into r
 * with litestream's provider-host rules. Returns 0 or -EINVAL.
 */
int dbs_litestream_config_parse_url(const char *url,
                                    struct dbs_replica_config *r, char *err,
                                    size_t errlen);

/*
 * Finds the dbs entry whose path equals db_path after resolving symlinks
 * of both (realpath of the directory; the file itself may be missing).
 * Returns the entry or NULL.
 */
const struct dbs_db_config *
dbs_litestream_config_find_db(const struct dbs_litestream_config *cfg,
                              const char *db_path);

/*
 * Fills in what the file leaves to the environment, in litestream's order:
 * credentials (LITESTREAM_ACCESS_KEY_ID/SECRET, then AWS_ACCESS_KEY_ID/
 * SECRET/AWS_SESSION_TOKEN is read by storage_s3), endpoint from
 * AWS_ENDPOINT_URL_S3, region from AWS_REGION. Registers secrets.
 */
void dbs_litestream_config_apply_env(struct dbs_replica_config *r);

void dbs_replica_config_free(struct dbs_replica_config *r);
void dbs_litestream_config_free(struct dbs_litestream_config *cfg);

#endif
