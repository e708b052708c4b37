/*
 * litestream.yml's keys: which ones litestream 0.3 and 0.5 read, the type
 * each decodes as, and 0.5's checks of its global settings, filling the
 * raw structures of litestream_config_internal.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litestream_config_internal.h"
#include "ls_yaml.h"

static void raw_replica_free(struct dbs_ls_raw_replica* r) {
  free(r->type);
  free(r->name);
  free(r->path);
  free(r->url);
  free(r->access_key_id);
  free(r->secret_access_key);
  free(r->region);
  free(r->bucket);
  free(r->endpoint);
  free(r->account_name);
  free(r->account_key);
  free(r->host);
  free(r->user);
  free(r->password);
  free(r->key_path);
}

struct raw_age {
  size_t n;
};

static void age_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                      yaml_node_t* v, const char* where) {
  struct raw_age* a = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "identities") || !strcmp(key, "recipients"))
    a->n += dbs_ls_yaml_check_str_list(c, v, w);
}

static void replica_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                          yaml_node_t* v, const char* where) {
  struct dbs_ls_raw_replica* r = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  static const struct {
    const char* key;
    size_t off;
  } strs[] = {
#define F(k, f) {k, offsetof(struct dbs_ls_raw_replica, f)}
      F("type", type),
      F("name", name),
      F("path", path),
      F("url", url),
      F("access-key-id", access_key_id),
      F("secret-access-key", secret_access_key),
      F("region", region),
      F("bucket", bucket),
      F("endpoint", endpoint),
      F("account-name", account_name),
      F("account-key", account_key),
      F("host", host),
      F("user", user),
      F("password", password),
      F("key-path", key_path),
#undef F
  };
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
    if (strcmp(key, strs[i].key) == 0) {
      yaml_node_t* at = NULL;
      dbs_ls_yaml_get_str(c, v, w, (char**)((char*)r + strs[i].off), &at);
      if (!strcmp(key, "bucket"))
        r->bucket_node = at;
      else if (!strcmp(key, "url"))
        r->url_node = at;
      else if (!strcmp(key, "path"))
        r->path_node = at;
      return;
    }
  }
  if (!strcmp(key, "force-path-style")) {
    dbs_ls_yaml_get_bool(c, v, w, &r->force_path_style);
  } else if (!strcmp(key, "skip-verify")) {
    int b = -1;
    dbs_ls_yaml_get_bool(c, v, w, &b);
    r->skip_verify = b;
  } else if (!strcmp(key, "sync-interval")) {
    bool set = false;
    dbs_ls_yaml_get_duration(c, v, w, &r->sync_interval_ns, &set);
    r->sync_interval_node = set ? v : NULL;
  } else if (!strcmp(key, "retention") ||
             !strcmp(key, "retention-check-interval") ||
             !strcmp(key, "snapshot-interval") ||
             !strcmp(key, "validation-interval")) {
    /* 0.5 has none of these per replica (validation-interval is parsed
     * into a duration and unused): it ignores them silently. */
    if (c->rules != DBS_LS_RULES_V05 || !strcmp(key, "validation-interval"))
      dbs_ls_yaml_get_duration(c, v, w, NULL, NULL);
    if (c->rules == DBS_LS_RULES_V05)
      dbs_ls_yaml_warn(
          c, c->key, "%s: litestream 0.5 ignores this 0.3 setting%s; remove it",
          w,
          !strcmp(key, "validation-interval")
              ? " (validation is the global validation.interval now)"
              : " (retention is global now: snapshot.interval, "
                "snapshot.retention, l0-retention)");
  } else if (!strcmp(key, "age")) {
    struct raw_age a = {0};
    r->age_node = c->key;
    dbs_ls_yaml_walk_map(c, v, w, age_field, &a);
    r->nage = a.n;
  } else if (c->rules == DBS_LS_RULES_V05 &&
             (!strcmp(key, "sign-payload") ||
              !strcmp(key, "require-content-md5") ||
              !strcmp(key, "auto-recover") ||
              !strcmp(key, "concurrent-writes"))) {
    int b;
    dbs_ls_yaml_get_bool(c, v, w, &b);
  } else if (c->rules == DBS_LS_RULES_V05 &&
             (!strcmp(key, "max-sync-ltx-files") ||
              !strcmp(key, "concurrency"))) {
    dbs_ls_yaml_check_int(c, v, w);
  }
  /* Unknown keys are ignored, as yaml.v2 does. */
}

static void raw_db_free(struct dbs_ls_raw_db* d) {
  free(d->path);
  free(d->meta_path);
  free(d->dir);
  for (size_t i = 0; i < d->nreplicas; i++)
    raw_replica_free(&d->replicas[i]);
  free(d->replicas);
  raw_replica_free(&d->single);
  free(d->snapshot);
}

static void snapshot_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                           yaml_node_t* v, const char* where) {
  struct dbs_ls_raw_snapshot* sn = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  bool set = false;
  if (!strcmp(key, "interval")) {
    dbs_ls_yaml_get_duration(c, v, w, &sn->interval_ns, &set);
    sn->interval_node = set ? v : NULL;
  } else if (!strcmp(key, "retention")) {
    dbs_ls_yaml_get_duration(c, v, w, &sn->retention_ns, &set);
    sn->retention_node = set ? v : NULL;
  }
}

void dbs_ls_check_snapshot(struct dbs_ls_ctx* c,
                           const struct dbs_ls_raw_snapshot* sn,
                           const char* field) {
  if (sn->interval_node != NULL && sn->interval_ns <= 0)
    dbs_ls_yaml_fail(c, sn->interval_node,
                     "%s.interval: snapshot interval must be greater than 0",
                     field);
  else if (sn->retention_node != NULL && sn->retention_ns <= 0)
    dbs_ls_yaml_fail(c, sn->retention_node,
                     "%s.retention: snapshot retention must be greater than 0",
                     field);
}

/* Decodes one entry of a list into item, a zeroed element. */
typedef void (*read_fn)(struct dbs_ls_ctx* c, yaml_node_t* e, const char* where,
                        void* item);

/*
 * A list field v ("dbs", "dbs[0].replicas"): null is an empty list, else
 * each entry is decoded by fn into a zeroed element of `size` bytes.
 * Returns the array (NULL for null, for a v that is not a list, and on
 * ENOMEM) and its length in *n, which counts an entry that failed.
 */
static void* read_list(struct dbs_ls_ctx* c, yaml_node_t* v, const char* what,
                       size_t size, read_fn fn, size_t* n) {
  *n = 0;
  if (dbs_ls_yaml_is_null(v))
    return NULL;
  if (v->type != YAML_SEQUENCE_NODE) {
    dbs_ls_yaml_fail(c, v,
                     "%s must be a list (each entry starting with '-'), not "
                     "%s",
                     what, dbs_ls_yaml_kind(v));
    return NULL;
  }
  yaml_node_item_t* items = v->data.sequence.items.start;
  size_t len = (size_t)(v->data.sequence.items.top - items);
  char* list = calloc(len ? len : 1, size);
  if (list == NULL) {
    dbs_ls_yaml_oom(c);
    return NULL;
  }
  size_t i = 0;
  while (i < len && c->rc == 0) {
    char w[300];
    snprintf(w, sizeof(w), "%s[%zu]", what, i);
    fn(c, dbs_ls_yaml_node(c, items[i]), w, list + i * size);
    i++;
  }
  *n = i;
  return list;
}

/* Decodes one replica mapping e into r (a zeroed struct
 * dbs_ls_raw_replica). */
static void read_replica(struct dbs_ls_ctx* c, yaml_node_t* e,
                         const char* where, void* item) {
  struct dbs_ls_raw_replica* r = item;
  r->force_path_style = -1;
  r->skip_verify = -1;
  r->node = e;
  if (dbs_ls_yaml_is_null(e)) {
    dbs_ls_yaml_fail(c, e, "%s is empty", where);
    return;
  }
  dbs_ls_yaml_walk_map(c, e, where, replica_field, r);
}

static void db_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                     yaml_node_t* v, const char* where) {
  struct dbs_ls_raw_db* d = obj;
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  bool v05 = c->rules == DBS_LS_RULES_V05;
  if (!strcmp(key, "path")) {
    dbs_ls_yaml_get_str(c, v, w, &d->path, &d->path_node);
  } else if (!strcmp(key, "meta-path")) {
    dbs_ls_yaml_get_str(c, v, w, &d->meta_path, NULL);
  } else if (!strcmp(key, "monitor-interval")) {
    bool set = false;
    dbs_ls_yaml_get_duration(c, v, w, &d->monitor_interval_ns, &set);
    d->monitor_interval_set = set;
  } else if (!strcmp(key, "checkpoint-interval") ||
             (v05 && !strcmp(key, "busy-timeout"))) {
    dbs_ls_yaml_get_duration(c, v, w, NULL, NULL);
  } else if (!strcmp(key, "min-checkpoint-page-count") ||
             (v05 && (!strcmp(key, "truncate-page-n") ||
                      !strcmp(key, "max-sync-wal-bytes")))) {
    dbs_ls_yaml_check_int(c, v, w);
  } else if (!strcmp(key, "max-checkpoint-page-count")) {
    if (v05)
      dbs_ls_yaml_warn(
          c, c->key,
          "%s: litestream 0.5 ignores this 0.3 setting (it has "
          "min-checkpoint-page-count and truncate-page-n); remove it",
          w);
    else
      dbs_ls_yaml_check_int(c, v, w);
  } else if (c->rules != DBS_LS_RULES_V03 && !strcmp(key, "dir")) {
    dbs_ls_yaml_get_str(c, v, w, &d->dir, NULL);
  } else if (v05 && !strcmp(key, "snapshot")) {
    free(d->snapshot);
    d->snapshot = calloc(1, sizeof(*d->snapshot));
    if (d->snapshot == NULL) {
      dbs_ls_yaml_oom(c);
      return;
    }
    dbs_ls_yaml_walk_map(c, v, w, snapshot_field, d->snapshot);
  } else if (!strcmp(key, "replica")) {
    d->replica_node = c->key;
    raw_replica_free(&d->single);
    memset(&d->single, 0, sizeof(d->single));
    if (c->rules != DBS_LS_RULES_V03 && !dbs_ls_yaml_is_null(v))
      read_replica(c, v, w, &d->single);
    else if (dbs_ls_yaml_is_null(v))
      d->replica_node = NULL; /* yaml.v2: a nil *ReplicaConfig */
  } else if (!strcmp(key, "replicas")) {
    d->replicas_node = c->key;
    for (size_t i = 0; i < d->nreplicas; i++)
      raw_replica_free(&d->replicas[i]);
    free(d->replicas);
    d->replicas =
        read_list(c, v, w, sizeof(*d->replicas), read_replica, &d->nreplicas);
  }
}

/* Decodes one dbs entry e into item (a zeroed struct dbs_ls_raw_db). */
static void read_db(struct dbs_ls_ctx* c, yaml_node_t* e, const char* where,
                    void* item) {
  struct dbs_ls_raw_db* d = item;
  d->node = e;
  if (dbs_ls_yaml_is_null(e)) {
    dbs_ls_yaml_fail(c, e, "%s is empty", where);
    return;
  }
  dbs_ls_yaml_walk_map(c, e, where, db_field, d);
}

void dbs_ls_raw_cfg_free(struct dbs_ls_raw_cfg* r) {
  free(r->exec);
  free(r->access_key_id);
  free(r->secret_access_key);
  for (size_t i = 0; i < r->ndbs; i++)
    raw_db_free(&r->dbs[i]);
  free(r->dbs);
  raw_replica_free(&r->global);
}

/* 0.5's ReplicaSettings keys, which the top level may set for every
 * replica (type, name, path and url are per replica only). */
static bool replica_setting(const char* key) {
  static const char* const keys[] = {"sync-interval",
                                     "validation-interval",
                                     "max-sync-ltx-files",
                                     "auto-recover",
                                     "access-key-id",
                                     "secret-access-key",
                                     "region",
                                     "bucket",
                                     "endpoint",
                                     "force-path-style",
                                     "sign-payload",
                                     "require-content-md5",
                                     "skip-verify",
                                     "account-name",
                                     "account-key",
                                     "host",
                                     "user",
                                     "password",
                                     "key-path",
                                     "concurrent-writes",
                                     "age",
                                     NULL};
  for (size_t i = 0; keys[i] != NULL; i++)
    if (!strcmp(key, keys[i]))
      return true;
  return false;
}

static void level_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                        yaml_node_t* v, const char* where) {
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "interval")) {
    int64_t ns = 0;
    dbs_ls_yaml_get_duration(c, v, w, &ns, NULL);
    *(int64_t*)obj = ns;
  }
}

static void retention_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                            yaml_node_t* v, const char* where) {
  char w[256];
  int b;
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "enabled"))
    dbs_ls_yaml_get_bool(c, v, w, &b);
}

static void validation_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                             yaml_node_t* v, const char* where) {
  char w[256];
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "interval"))
    dbs_ls_yaml_get_duration(c, v, w, NULL, NULL);
}

/* 0.5's levels: a list of {interval}, each interval greater than 0. */
static void read_levels(struct dbs_ls_ctx* c, yaml_node_t* v) {
  if (dbs_ls_yaml_is_null(v))
    return;
  if (v->type != YAML_SEQUENCE_NODE) {
    dbs_ls_yaml_fail(c, v, "levels must be a list ('- interval: 5m'), not %s",
                     dbs_ls_yaml_kind(v));
    return;
  }
  size_t i = 0;
  for (yaml_node_item_t* it = v->data.sequence.items.start;
       it < v->data.sequence.items.top && c->rc == 0; it++, i++) {
    yaml_node_t* e = dbs_ls_yaml_node(c, *it);
    char w[64];
    snprintf(w, sizeof(w), "levels[%zu]", i);
    int64_t ns = 0;
    dbs_ls_yaml_walk_map(c, e, w, level_field, &ns);
    if (c->rc == 0 && ns <= 0)
      dbs_ls_yaml_fail(c, e,
                       "levels[%zu].interval: compaction interval must be "
                       "greater than 0",
                       i);
  }
}

/*
 * 0.5's global keys, with the checks of its Validate. Returns false when
 * key is not one of them.
 */
static bool top_field_v05(struct dbs_ls_ctx* c, struct dbs_ls_raw_cfg* r,
                          const char* key, yaml_node_t* v) {
  int64_t ns = 0;
  bool set = false;
  int b;
  if (!strcmp(key, "levels")) {
    read_levels(c, v);
  } else if (!strcmp(key, "snapshot")) {
    dbs_ls_yaml_walk_map(c, v, "snapshot", snapshot_field, &r->snapshot);
    if (c->rc == 0)
      dbs_ls_check_snapshot(c, &r->snapshot, "snapshot");
  } else if (!strcmp(key, "l0-retention")) {
    dbs_ls_yaml_get_duration(c, v, key, &ns, &set);
    if (set && ns < 0)
      dbs_ls_yaml_fail(c, v, "l0-retention: l0 retention must not be negative");
  } else if (!strcmp(key, "l0-retention-check-interval") ||
             !strcmp(key, "shutdown-sync-interval")) {
    dbs_ls_yaml_get_duration(c, v, key, &ns, &set);
    if (set && ns <= 0)
      dbs_ls_yaml_fail(c, v, "%s: must be greater than 0", key);
  } else if (!strcmp(key, "shutdown-sync-timeout")) {
    dbs_ls_yaml_get_duration(c, v, key, &r->shutdown_sync_timeout_ns,
                             &r->shutdown_sync_timeout_set);
    if (r->shutdown_sync_timeout_set && r->shutdown_sync_timeout_ns < 0)
      dbs_ls_yaml_fail(c, v, "shutdown-sync-timeout must be >= 0");
  } else if (!strcmp(key, "heartbeat-interval")) {
    dbs_ls_yaml_get_duration(c, v, key, NULL, NULL);
  } else if (!strcmp(key, "verify-compaction")) {
    dbs_ls_yaml_get_bool(c, v, key, &b);
  } else if (!strcmp(key, "retention")) {
    if (!dbs_ls_yaml_is_null(v) && v->type != YAML_MAPPING_NODE)
      dbs_ls_yaml_fail(c, v,
                       "retention: litestream 0.5 takes 'retention: {enabled: "
                       "true}' here, not a duration (retention times are "
                       "snapshot.retention and l0-retention now)");
    else
      dbs_ls_yaml_walk_map(c, v, "retention", retention_field, NULL);
  } else if (!strcmp(key, "validation")) {
    dbs_ls_yaml_walk_map(c, v, "validation", validation_field, NULL);
  } else if (replica_setting(key) && strcmp(key, "access-key-id") != 0 &&
             strcmp(key, "secret-access-key") != 0) {
    replica_field(c, &r->global, key, v, "litestream.yml");
  } else {
    return false;
  }
  return true;
}

static void logging_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                          yaml_node_t* v, const char* where) {
  char w[256], *tmp = NULL;
  snprintf(w, sizeof(w), "%s.%s", where, key);
  if (!strcmp(key, "level") || !strcmp(key, "type")) {
    dbs_ls_yaml_get_str(c, v, w, &tmp, NULL);
    free(tmp);
  } else if (!strcmp(key, "stderr")) {
    int b;
    dbs_ls_yaml_get_bool(c, v, w, &b);
  }
}

static void top_field(struct dbs_ls_ctx* c, void* obj, const char* key,
                      yaml_node_t* v, const char* where) {
  struct dbs_ls_raw_cfg* r = obj;
  char* tmp = NULL;
  if (c->rules == DBS_LS_RULES_V05 && top_field_v05(c, r, key, v))
    return;
  if (c->rules == DBS_LS_RULES_ANY && replica_setting(key) &&
      strcmp(key, "access-key-id") != 0 &&
      strcmp(key, "secret-access-key") != 0) {
    replica_field(c, &r->global, key, v, "litestream.yml");
    return;
  }
  if (!strcmp(key, "access-key-id")) {
    dbs_ls_yaml_get_str(c, v, key, &r->access_key_id, NULL);
  } else if (!strcmp(key, "secret-access-key")) {
    dbs_ls_yaml_get_str(c, v, key, &r->secret_access_key, NULL);
  } else if (!strcmp(key, "exec")) {
    dbs_ls_yaml_get_str(c, v, key, &r->exec, NULL);
  } else if (!strcmp(key, "addr")) {
    dbs_ls_yaml_get_str(c, v, key, &tmp, NULL);
    free(tmp);
  } else if (!strcmp(key, "logging")) {
    dbs_ls_yaml_walk_map(c, v, "logging", logging_field, NULL);
  } else if (!strcmp(key, "dbs")) {
    for (size_t i = 0; i < r->ndbs; i++)
      raw_db_free(&r->dbs[i]);
    free(r->dbs);
    r->dbs = read_list(c, v, key, sizeof(*r->dbs), read_db, &r->ndbs);
  }
}

void dbs_ls_fields_read(struct dbs_ls_ctx* c, yaml_node_t* root,
                        struct dbs_ls_raw_cfg* raw) {
  raw->global.force_path_style = -1;
  raw->global.skip_verify = -1;
  if (root != NULL)
    dbs_ls_yaml_walk_map(c, root, "litestream.yml", top_field, raw);
}
