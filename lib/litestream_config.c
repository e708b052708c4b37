/*
 * Reads litestream.yml the way litestream 0.3.13 or 0.5 does (see the
 * header): the text is expanded (gocompat.c), decoded by yaml.v2's rules
 * (ls_yaml.c) into the keys litestream reads (ls_fields.c), then resolved
 * here, database by database, each replica by ls_replica.c.
 */
#define _GNU_SOURCE
#include "litestream_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "gocompat.h"
#include "litestream_config_internal.h"
#include "ls_yaml.h"
#include "path.h"
#include "strbuf.h"

char* dbs_litestream_config_expand_env(const char* text, size_t len,
                                       size_t* outlen) {
  return dbs_go_expand_env(text, len, outlen, NULL, NULL);
}

void dbs_litestream_config_free(struct dbs_litestream_config* cfg) {
  if (cfg == NULL)
    return;
  free(cfg->file);
  free(cfg->access_key_id);
  free(cfg->secret_access_key);
  free(cfg->exec);
  for (size_t i = 0; i < cfg->ndbs; i++) {
    struct dbs_db_config* d = &cfg->dbs[i];
    free(d->path);
    free(d->meta_path);
    for (size_t k = 0; k < d->nreplicas; k++)
      dbs_replica_config_free(&d->replicas[k]);
    free(d->replicas);
  }
  free(cfg->dbs);
  for (size_t i = 0; i < cfg->nwarnings; i++)
    free(cfg->warnings[i]);
  free(cfg->warnings);
  memset(cfg, 0, sizeof(*cfg));
}

/* ---------------------------------------------------------------------- */
/* Replicas: what they inherit, and the rules across them.                */

/* Copies *dst from src when *dst is unset. Returns false on ENOMEM. */
static bool inherit_str(char** dst, const char* src) {
  if (!dbs_ls_empty(*dst) || dbs_ls_empty(src))
    return true;
  free(*dst);
  *dst = strdup(src);
  return *dst != NULL;
}

/* 0.5's ReplicaSettings.SetDefaults: r takes what it leaves unset from the
 * top level g. Returns false on ENOMEM. */
static bool inherit_settings(struct dbs_ls_raw_replica* r,
                             const struct dbs_ls_raw_replica* g) {
  bool ok = inherit_str(&r->access_key_id, g->access_key_id) &&
            inherit_str(&r->secret_access_key, g->secret_access_key) &&
            inherit_str(&r->region, g->region) &&
            inherit_str(&r->bucket, g->bucket) &&
            inherit_str(&r->endpoint, g->endpoint) &&
            inherit_str(&r->account_name, g->account_name) &&
            inherit_str(&r->account_key, g->account_key) &&
            inherit_str(&r->host, g->host) && inherit_str(&r->user, g->user) &&
            inherit_str(&r->password, g->password) &&
            inherit_str(&r->key_path, g->key_path);
  if (r->bucket_node == NULL)
    r->bucket_node = g->bucket_node;
  if (r->force_path_style < 0)
    r->force_path_style = g->force_path_style;
  if (g->skip_verify > 0)
    r->skip_verify = 1;
  if (r->sync_interval_node == NULL) {
    r->sync_interval_node = g->sync_interval_node;
    r->sync_interval_ns = g->sync_interval_ns;
  }
  if (r->nage == 0) {
    r->nage = g->nage;
    r->age_node = g->age_node;
  }
  return ok;
}

/* What rr takes from the top level raw: the credentials
 * (propagateGlobalSettings, all 0.3 has), and under 0.5 and ANY every
 * replica setting. Returns false on ENOMEM. */
static bool inherit_top(const struct dbs_ls_ctx* c,
                        const struct dbs_ls_raw_cfg* raw,
                        struct dbs_ls_raw_replica* rr) {
  if (dbs_ls_empty(rr->access_key_id) && !dbs_ls_empty(raw->access_key_id) &&
      (rr->access_key_id = strdup(raw->access_key_id)) == NULL)
    return false;
  if (dbs_ls_empty(rr->secret_access_key) &&
      !dbs_ls_empty(raw->secret_access_key) &&
      (rr->secret_access_key = strdup(raw->secret_access_key)) == NULL)
    return false;
  return c->rules == DBS_LS_RULES_V03 || inherit_settings(rr, &raw->global);
}

/*
 * The replica entries of rd by the rules: *list and *n (n may be 0).
 * Raises the errors of the rules about replica:/replicas:.
 */
static void db_replicas(struct dbs_ls_ctx* c, struct dbs_ls_raw_db* rd,
                        size_t i, struct dbs_ls_raw_replica** list, size_t* n) {
  bool single = rd->replica_node != NULL;
  *list = single ? &rd->single : rd->replicas;
  *n = single ? 1 : rd->nreplicas;
  switch (c->rules) {
  case DBS_LS_RULES_V03:
    *list = rd->replicas;
    *n = rd->nreplicas;
    if (single)
      dbs_ls_yaml_fail(
          c, rd->replica_node,
          "dbs[%zu]: 'replica:' is litestream 0.5 syntax, and the "
          "litestream that will run is 0.3, which ignores it: it would "
          "replicate nothing. Write 'replicas:' with a list ('- url: "
          "...'), or run litestream 0.5",
          i);
    break;
  case DBS_LS_RULES_V05:
    if (single && rd->nreplicas > 0)
      dbs_ls_yaml_fail(c, rd->replicas_node,
                       "dbs[%zu]: cannot specify 'replica' and 'replicas' on a "
                       "database (keep 'replica:')",
                       i);
    else if (rd->nreplicas > 1)
      dbs_ls_yaml_fail(
          c, rd->replicas[1].node,
          "dbs[%zu]: multiple replicas on a single database are no "
          "longer supported (litestream 0.5 replicates to one replica: "
          "keep one, as 'replica:')",
          i);
    else if (*n == 0)
      dbs_ls_yaml_fail(
          c, rd->node,
          "dbs[%zu]: must specify replica for database (litestream 0.5 "
          "refuses a database without 'replica:')",
          i);
    break;
  case DBS_LS_RULES_ANY:
    if (single && rd->nreplicas > 0)
      dbs_ls_yaml_fail(c, rd->replicas_node,
                       "dbs[%zu]: cannot specify 'replica' and 'replicas' on a "
                       "database (keep one of them)",
                       i);
    break;
  }
}

/* 0.5's per-database snapshot settings must agree across databases. */
static void check_db_snapshots(struct dbs_ls_ctx* c,
                               struct dbs_ls_raw_cfg* raw) {
  const struct dbs_ls_raw_snapshot *iv = NULL, *rt = NULL;
  for (size_t i = 0; i < raw->ndbs && c->rc == 0; i++) {
    const struct dbs_ls_raw_snapshot* sn = raw->dbs[i].snapshot;
    if (sn == NULL)
      continue;
    char f[64];
    snprintf(f, sizeof(f), "dbs[%zu].snapshot", i);
    dbs_ls_check_snapshot(c, sn, f);
    if (sn->interval_node != NULL) {
      if (iv != NULL && iv->interval_ns != sn->interval_ns &&
          raw->snapshot.interval_node == NULL)
        dbs_ls_yaml_fail(c, sn->interval_node,
                         "%s: conflicting database snapshot intervals "
                         "(litestream 0.5 takes one snapshot interval for "
                         "all databases)",
                         f);
      iv = sn;
    }
    if (sn->retention_node != NULL) {
      if (rt != NULL && rt->retention_ns != sn->retention_ns &&
          raw->snapshot.retention_node == NULL)
        dbs_ls_yaml_fail(c, sn->retention_node,
                         "%s: conflicting database snapshot retentions "
                         "(litestream 0.5 takes one snapshot retention for "
                         "all databases)",
                         f);
      rt = sn;
    }
  }
}

/* An empty bucket is "from the environment" when the line of its bucket:
 * or url: held a $ before expansion. */
static bool bucket_from_env(const struct dbs_ls_ctx* c,
                            const struct dbs_ls_raw_replica* rr) {
  if (!c->expanded)
    return false;
  const yaml_node_t* bn[2] = {rr->url_node, rr->bucket_node};
  for (size_t j = 0; j < 2; j++)
    if (bn[j] != NULL &&
        dbs_ls_yaml_src_line_has_dollar(
            c, dbs_ls_yaml_src_line(c, bn[j]->start_mark.line)))
      return true;
  return false;
}

/* ---------------------------------------------------------------------- */
/* Resolving the raw config, step by step.                                */

/* A duration in ns rounded up to whole ms, without overflowing near
 * INT64_MAX (a saturated duration such as 9223372036854775807 stays the
 * largest value instead of wrapping negative). */
static int64_t ns_to_ms_ceil(int64_t ns) {
  if (ns <= 0)
    return ns / 1000000;
  return ns / 1000000 + (ns % 1000000 != 0);
}

/* Replica k of database i: inherited settings, 0.5's checks, then
 * litestream's rules for its type (ls_replica.c), into d->replicas[k]. */
static void resolve_db_replica(struct dbs_ls_ctx* c, struct dbs_ls_raw_cfg* raw,
                               const struct dbs_ls_raw_db* rd, size_t i,
                               size_t k, struct dbs_ls_raw_replica* rr,
                               struct dbs_db_config* d) {
  bool v05 = c->rules == DBS_LS_RULES_V05;
  char where[64], msg[512];
  if (rd->replica_node != NULL)
    snprintf(where, sizeof(where), "dbs[%zu].replica", i);
  else
    snprintf(where, sizeof(where), "dbs[%zu].replicas[%zu]", i, k);
  if (!inherit_top(c, raw, rr)) {
    dbs_ls_yaml_oom(c);
    return;
  }
  if (v05 && rr->nage > 0) {
    dbs_ls_yaml_fail(c, rr->age_node ? rr->age_node : rr->node,
                     "%s: age encryption is not currently supported, if you "
                     "need encryption please revert back to Litestream v0.3.x",
                     where);
    return;
  }
  if (v05 && rr->sync_interval_node != NULL && rr->sync_interval_ns <= 0) {
    dbs_ls_yaml_fail(c, rr->sync_interval_node,
                     "%s.sync-interval: sync interval must be greater than 0",
                     where);
    return;
  }
  int rc = dbs_ls_replica_resolve(rr, bucket_from_env(c, rr), c->rules,
                                  &d->replicas[k], msg, sizeof(msg));
  if (rc == -ENOMEM) {
    dbs_ls_yaml_oom(c);
    return;
  } else if (rc != 0) {
    dbs_ls_yaml_fail(c, rr->node, "%s: %s", where, msg);
    return;
  }
  d->nreplicas++;
  const char* q = rr->url ? strchr(rr->url, '?') : NULL;
  if (c->rules != DBS_LS_RULES_V03 && d->replicas[k].kind != DBS_REPLICA_FILE &&
      q != NULL && strchr(q, ';') != NULL)
    dbs_ls_yaml_warn(c, rr->url_node ? rr->url_node : rr->node,
                     "%s.url: litestream 0.5 ignores every query option "
                     "holding ';' (Go's url.ParseQuery), and so does dbsetup: "
                     "separate options with '&'",
                     where);
  for (size_t j = 0; j < k; j++) {
    if (strcmp(d->replicas[j].name, d->replicas[k].name) == 0) {
      dbs_ls_yaml_fail(c, rr->node,
                       "%s: duplicate replica name: \"%s\" "
                       "(give each replica its own name:)",
                       where, d->replicas[k].name);
      return;
    }
  }
}

/* Database i's path (litestream's expand()), unique under 0.5, and its
 * meta-path (the default "<dir>/.<name>-litestream" when not written). */
static void resolve_db_paths(struct dbs_ls_ctx* c,
                             const struct dbs_ls_raw_db* rd, size_t i,
                             const struct dbs_litestream_config* out,
                             struct dbs_db_config* d) {
  char msg[512];
  const yaml_node_t* at = rd->path_node ? rd->path_node : rd->node;
  bool stripped = false;
  /* 0.5 takes "sqlite:///data/app.db" as /data/app.db; 0.3.13 as a
   * relative path, a directory named "sqlite:" in its working directory. */
  int rc =
      c->rules == DBS_LS_RULES_V03
          ? dbs_path_litestream_expand(rd->path, &d->path, msg, sizeof(msg))
          : dbs_path_litestream05_expand(rd->path, &d->path, &stripped, msg,
                                         sizeof(msg));
  if (rc == -ENOMEM) {
    dbs_ls_yaml_oom(c);
    return;
  } else if (rc != 0) {
    dbs_ls_yaml_fail(c, at, "dbs[%zu].path: %s", i, msg);
    return;
  }
  if (c->rules == DBS_LS_RULES_V03 && rd->path != NULL &&
      (strncmp(rd->path, "sqlite://", 9) == 0 ||
       strncmp(rd->path, "sqlite3://", 10) == 0))
    dbs_ls_yaml_warn(c, at,
                     "dbs[%zu].path: litestream 0.3 reads %s as the relative "
                     "path %s (only 0.5 strips sqlite:// and sqlite3://): "
                     "write the file's path alone",
                     i, rd->path, d->path);
  else if (stripped)
    dbs_log_debug("dbs[%zu].path: %s is %s (litestream 0.5 strips the "
                  "sqlite connection-string prefix)",
                  i, rd->path, d->path);
  for (size_t j = 0; c->rules == DBS_LS_RULES_V05 && j < i; j++) {
    if (strcmp(out->dbs[j].path, d->path) == 0) {
      dbs_ls_yaml_fail(c, rd->path_node ? rd->path_node : rd->node,
                       "database config #%zu: duplicate path \"%s\" (already "
                       "used by database config #%zu); each database can be "
                       "listed only once",
                       i + 1, rd->path, j + 1);
      return;
    }
  }
  if (!dbs_ls_empty(rd->meta_path) && c->rules != DBS_LS_RULES_V03) {
    /* 0.5 expands it as the path (0.3 uses it as written). */
    rc = dbs_path_litestream05_expand(rd->meta_path, &d->meta_path, NULL, msg,
                                      sizeof(msg));
    if (rc == -ENOMEM) {
      dbs_ls_yaml_oom(c);
    } else if (rc != 0) {
      dbs_ls_yaml_fail(c, rd->node, "dbs[%zu].meta-path: %s", i, msg);
    }
    return;
  } else if (!dbs_ls_empty(rd->meta_path)) {
    d->meta_path = strdup(rd->meta_path);
  } else {
    const char* slash = strrchr(d->path, '/');
    size_t dn = (size_t)(slash - d->path) + 1;
    size_t n = strlen(d->path) + 16;
    d->meta_path = malloc(n);
    if (d->meta_path != NULL)
      snprintf(d->meta_path, n, "%.*s.%s-litestream", (int)dn, d->path,
               slash + 1);
  }
  if (d->meta_path == NULL)
    dbs_ls_yaml_oom(c);
}

/* Database i: what dbsetup refuses, its paths, then its replicas. */
static void resolve_db(struct dbs_ls_ctx* c, struct dbs_ls_raw_cfg* raw,
                       size_t i, const struct dbs_litestream_config* out,
                       struct dbs_db_config* d) {
  struct dbs_ls_raw_db* rd = &raw->dbs[i];
  struct dbs_ls_raw_replica* list;
  size_t nlist;
  if (rd->dir != NULL) {
    dbs_ls_yaml_fail(c, rd->node,
                     "dbs[%zu]: 'dir:' (directory replication) is not "
                     "something dbsetup sets up: it restores and replicates "
                     "one database; write that database as 'path:'",
                     i);
    return;
  }
  if (c->rules == DBS_LS_RULES_V05 && dbs_ls_empty(rd->path)) {
    dbs_ls_yaml_fail(c, rd->node,
                     "database config #%zu: must specify either 'path' or "
                     "'dir'",
                     i + 1);
    return;
  }
  d->monitor_interval_ms =
      rd->monitor_interval_set ? ns_to_ms_ceil(rd->monitor_interval_ns) : -1;
  db_replicas(c, rd, i, &list, &nlist);
  if (c->rc == 0)
    resolve_db_paths(c, rd, i, out, d);
  if (c->rc != 0)
    return;
  d->replicas = calloc(nlist ? nlist : 1, sizeof(*d->replicas));
  if (d->replicas == NULL) {
    dbs_ls_yaml_oom(c);
    return;
  }
  for (size_t k = 0; k < nlist && c->rc == 0; k++)
    resolve_db_replica(c, raw, rd, i, k, &list[k], d);
}

/* Builds the resolved config from the raw one: the top level, then each
 * database in order. */
static void resolve_all(struct dbs_ls_ctx* c, struct dbs_ls_raw_cfg* raw,
                        struct dbs_litestream_config* out) {
  bool oom = false;
  out->access_key_id = dbs_ls_dup_nonempty(raw->access_key_id, &oom);
  out->secret_access_key = dbs_ls_dup_nonempty(raw->secret_access_key, &oom);
  out->exec = dbs_ls_dup_nonempty(raw->exec, &oom);
  dbs_ls_register_secret(raw->access_key_id);
  dbs_ls_register_secret(raw->secret_access_key);
  dbs_ls_register_secret(raw->global.account_key);
  dbs_ls_register_secret(raw->global.password);
  if (oom) {
    dbs_ls_yaml_oom(c);
    return;
  }
  out->shutdown_sync_timeout_ms =
      raw->shutdown_sync_timeout_set
          ? ns_to_ms_ceil(raw->shutdown_sync_timeout_ns)
          : -1;
  if (c->rules == DBS_LS_RULES_V05)
    check_db_snapshots(c, raw);
  out->dbs = calloc(raw->ndbs ? raw->ndbs : 1, sizeof(*out->dbs));
  if (out->dbs == NULL) {
    dbs_ls_yaml_oom(c);
    return;
  }
  for (size_t i = 0; i < raw->ndbs && c->rc == 0; i++)
    resolve_db(c, raw, i, out, &out->dbs[out->ndbs++]);
}

/* ---------------------------------------------------------------------- */
/* Loading.                                                               */

/* The text to decode: text expanded (c gets the line map, which the
 * caller frees as c->linemap) or copied, NUL-terminated, in *x. Returns
 * false on ENOMEM (recorded in c). */
static bool source_text(struct dbs_ls_ctx* c, char** x, size_t* xlen) {
  if (c->expanded) {
    *x = dbs_go_expand_env(c->src, c->srclen, xlen, &c->linemap, &c->nlines);
  } else if ((*x = malloc(c->srclen + 1)) != NULL) {
    memcpy(*x, c->src, c->srclen);
    (*x)[c->srclen] = '\0';
    *xlen = c->srclen;
  }
  if (*x == NULL)
    dbs_ls_yaml_oom(c);
  return *x != NULL;
}

/* libyaml's document of x into *doc (the caller deletes it). Returns
 * false with the parser's error at its source position (or ENOMEM) in
 * c. */
static bool load_document(struct dbs_ls_ctx* c, const char* x, size_t xlen,
                          yaml_document_t* doc) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    dbs_ls_yaml_oom(c);
    return false;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char*)x, xlen);
  bool ok = yaml_parser_load(&parser, doc);
  if (!ok) {
    c->rc = -EINVAL;
    yaml_mark_t m = parser.problem_mark;
    char extra[256] = "";
    if (parser.context != NULL)
      snprintf(extra, sizeof(extra), " (%s at line %u)", parser.context,
               dbs_ls_yaml_src_line(c, parser.context_mark.line) + 1);
    snprintf(c->err, c->errlen, "%s:%u:%zu: %s%s", c->file,
             dbs_ls_yaml_src_line(c, m.line) + 1, m.column + 1,
             parser.problem ? parser.problem : "invalid YAML", extra);
  }
  yaml_parser_delete(&parser);
  return ok;
}

/* Parses text as the file named `file`: expansion, YAML, the keys
 * litestream reads, then resolution. out->file is kept. */
static int parse_named(const char* file, const char* text, size_t len,
                       bool expand_env, enum dbs_ls_rules rules,
                       struct dbs_litestream_config* out, char* err,
                       size_t errlen) {
  char* x = NULL;
  size_t xlen = 0;
  yaml_document_t doc;
  struct dbs_ls_raw_cfg raw = {0};
  struct dbs_ls_ctx c = {.file = file,
                         .rules = rules,
                         .src = text,
                         .srclen = len,
                         .expanded = expand_env,
                         .err = err,
                         .errlen = errlen};
  char* keep_file = out->file;
  memset(out, 0, sizeof(*out));
  out->file = keep_file;
  if (errlen > 0)
    err[0] = '\0';

  if (source_text(&c, &x, &xlen) && load_document(&c, x, xlen, &doc)) {
    c.doc = &doc;
    dbs_ls_fields_read(&c, yaml_document_get_root_node(&doc), &raw);
    if (c.rc == 0)
      resolve_all(&c, &raw, out);
    out->rules = rules;
    out->warnings = c.warnings;
    out->nwarnings = c.nwarnings;
    yaml_document_delete(&doc);
  }
  dbs_ls_raw_cfg_free(&raw);
  free(c.linemap);
  free(x);
  if (c.rc != 0) {
    keep_file = out->file;
    out->file = NULL;
    dbs_litestream_config_free(out);
    out->file = keep_file;
  }
  return c.rc;
}

int dbs_litestream_config_parse_rules(const char* text, size_t len,
                                      bool expand_env, enum dbs_ls_rules rules,
                                      struct dbs_litestream_config* out,
                                      char* err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  return parse_named("litestream.yml", text, len, expand_env, rules, out, err,
                     errlen);
}

int dbs_litestream_config_parse(const char* text, size_t len, bool expand_env,
                                struct dbs_litestream_config* out, char* err,
                                size_t errlen) {
  return dbs_litestream_config_parse_rules(text, len, expand_env,
                                           DBS_LS_RULES_V03, out, err, errlen);
}

int dbs_litestream_config_load(const char* path, bool expand_env,
                               struct dbs_litestream_config* out, char* err,
                               size_t errlen) {
  return dbs_litestream_config_load_rules(path, expand_env, DBS_LS_RULES_ANY,
                                          out, err, errlen);
}

int dbs_litestream_config_load_rules(const char* path, bool expand_env,
                                     enum dbs_ls_rules rules,
                                     struct dbs_litestream_config* out,
                                     char* err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  char* abs = NULL;
  int rc = dbs_path_litestream_expand(path, &abs, err, errlen);
  if (rc != 0)
    return rc;
  FILE* f = fopen(abs, "rb");
  if (f == NULL) {
    rc = -errno;
    if (rc == -ENOENT)
      snprintf(err, errlen, "config file not found: %s", abs);
    else
      snprintf(err, errlen, "cannot read %s: %s", abs, strerror(-rc));
    free(abs);
    return rc;
  }
  struct dbs_strbuf b = {0};
  char chunk[8192];
  size_t n;
  dbs_strbuf_add(&b, "", 0);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    dbs_strbuf_add(&b, chunk, n);
  int rerr = ferror(f);
  fclose(f);
  if (b.oom) {
    free(b.p);
    free(abs);
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (rerr) {
    free(b.p);
    snprintf(err, errlen, "cannot read %s", abs);
    free(abs);
    return -EIO;
  }
  out->file = abs;
  rc = parse_named(abs, b.p, b.len, expand_env, rules, out, err, errlen);
  free(b.p);
  if (rc != 0) { /* nothing of a failed load is left for the caller */
    free(out->file);
    out->file = NULL;
  }
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Matching.                                                              */

/*
 * How a path is compared: litestream's form first (filepath.Abs: the
 * working directory joined, cleaned lexically, so "link/../db" is "db"
 * whatever link points at), then dbs_path_canonical of that, so that
 * symlinks to the same file match too. *lexical and *canon are malloc'd;
 * *canon is NULL when the path cannot be resolved (a file in the way,
 * no permission): then only the lexical form is compared.
 */
static int match_forms(const char* p, char** lexical, char** canon) {
  *canon = NULL;
  if ((*lexical = dbs_path_go_abs(p)) == NULL)
    return -ENOMEM;
  *canon = dbs_path_canonical(*lexical);
  return 0;
}

const struct dbs_db_config*
dbs_litestream_config_find_db(const struct dbs_litestream_config* cfg,
                              const char* db_path) {
  if (cfg == NULL || db_path == NULL)
    return NULL;
  char *want, *want_canon;
  if (match_forms(db_path, &want, &want_canon) != 0)
    return NULL;
  const struct dbs_db_config* found = NULL;
  for (size_t i = 0; i < cfg->ndbs && found == NULL; i++) {
    char *have, *have_canon;
    if (match_forms(cfg->dbs[i].path, &have, &have_canon) != 0)
      break;
    if (strcmp(have, want) == 0 || (have_canon != NULL && want_canon != NULL &&
                                    strcmp(have_canon, want_canon) == 0))
      found = &cfg->dbs[i];
    free(have);
    free(have_canon);
  }
  free(want);
  free(want_canon);
  return found;
}
