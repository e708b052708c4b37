/*
 * PLACEHOLDER until lib/litestream_config.c (the litestream.yml parser,
 * branch lsconfig) is merged: DELETE THIS FILE in that merge. Every entry
 * point fails with a clear "not available" error so that nothing silently
 * works without the real parser; only dbs_replica_config_free is real.
 */
#include "litestream_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void not_merged(char *err, size_t errlen) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, "litestream.yml and replica URLs other than file:// "
             "are not supported by this build (parser not merged)");
}

int dbs_litestream_config_load(const char *path, bool expand_env,
                               struct dbs_litestream_config *out, char *err,
                               size_t errlen) {
  (void)path;
  (void)expand_env;
  memset(out, 0, sizeof(*out));
  not_merged(err, errlen);
  return -ENOSYS;
}

int dbs_litestream_config_parse_url(const char *url,
                                    struct dbs_replica_config *r, char *err,
                                    size_t errlen) {
  (void)url;
  memset(r, 0, sizeof(*r));
  not_merged(err, errlen);
  return -ENOSYS;
}

const struct dbs_db_config *
dbs_litestream_config_find_db(const struct dbs_litestream_config *cfg,
                              const char *db_path) {
  (void)cfg;
  (void)db_path;
  return NULL;
}

void dbs_litestream_config_apply_env(struct dbs_replica_config *r) { (void)r; }

void dbs_replica_config_free(struct dbs_replica_config *r) {
  free(r->name);
  free(r->type);
  free(r->url);
  free(r->path);
  free(r->bucket);
  free(r->endpoint);
  free(r->region);
  free(r->access_key_id);
  free(r->secret_access_key);
  memset(r, 0, sizeof(*r));
}

void dbs_litestream_config_free(struct dbs_litestream_config *cfg) {
  (void)cfg;
}
