/*
 * Prints dbsetup's parse of a litestream.yml. Without -v, in the shape of
 * `litestream databases -config FILE` (0.3: path and replica names; 0.5:
 * path and replica type; aligned as Go's tabwriter does), so the two
 * outputs can be compared byte for byte. With -v, every resolved replica
 * field, one "key=value" per line.
 *
 *   lsconfig-dump [-rules 03|05|any] [-no-expand-env] [-v] [-env]
 *                 [-show-key-id] [-find DB] FILE
 *   lsconfig-dump -url URL
 *
 * -rules: whose rules the file is read by (default 03). Warnings go to
 * stderr as "warning: ...".
 * -env applies dbs_litestream_config_apply_env to every replica first.
 * Errors go to stderr and exit 1. Secrets print as registered-redacted.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litestream_config.h"
#include "log.h"

static const char* s(const char* v) {
  return v ? v : "";
}

/* -show-key-id: tests compare the access key id litestream sends. */
static bool show_key_id;

static size_t runes(const char* p) {
  size_t n = 0;
  for (; *p; p++)
    if (((unsigned char)*p & 0xC0) != 0x80)
      n++;
  return n;
}

static void pad(const char* p, size_t width) {
  fputs(p, stdout);
  for (size_t n = runes(p); n < width; n++)
    putchar(' ');
}

static void print_replica(const char* prefix,
                          const struct dbs_replica_config* r) {
  char red[1024];
  printf("%sname=%s\n", prefix, s(r->name));
  printf("%stype=%s\n", prefix, s(r->type));
  printf("%skind=%s\n", prefix,
         r->kind == DBS_REPLICA_FILE ? "file"
         : r->kind == DBS_REPLICA_S3 ? "s3"
                                     : "other");
  printf("%surl=%s\n", prefix, dbs_log_redact(s(r->url), red, sizeof(red)));
  printf("%spath=%s\n", prefix, s(r->path));
  if (r->kind == DBS_REPLICA_S3) {
    printf("%sbucket=%s\n", prefix, s(r->bucket));
    printf("%sbucket_empty=%d\n", prefix, r->bucket_empty);
    printf("%sendpoint=%s\n", prefix, s(r->endpoint));
    printf("%sendpoint_from_env=%d\n", prefix, r->endpoint_from_env);
    printf("%sregion=%s\n", prefix, s(r->region));
    printf("%sforce_path_style=%d\n", prefix, r->force_path_style);
    printf("%sskip_verify=%d\n", prefix, r->skip_verify);
    printf("%saccess_key_id=%s\n", prefix,
           show_key_id        ? s(r->access_key_id)
           : r->access_key_id ? "(set)"
                              : "");
    printf("%ssecret_access_key=%s\n", prefix,
           r->secret_access_key ? "(set)" : "");
    printf("%ssession_token=%s\n", prefix, r->session_token ? "(set)" : "");
  }
  printf("%shas_age=%d\n", prefix, r->has_age);
}

int main(int argc, char** argv) {
  bool expand = true, verbose = false, env = false;
  const char *find = NULL, *url = NULL;
  enum dbs_ls_rules rules = DBS_LS_RULES_V03;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "-no-expand-env"))
      expand = false;
    else if (!strcmp(argv[i], "-v"))
      verbose = true;
    else if (!strcmp(argv[i], "-show-key-id"))
      show_key_id = true;
    else if (!strcmp(argv[i], "-env"))
      env = true;
    else if (!strcmp(argv[i], "-find") && i + 1 < argc)
      find = argv[++i];
    else if (!strcmp(argv[i], "-url") && i + 1 < argc)
      url = argv[++i];
    else if (!strcmp(argv[i], "-rules") && i + 1 < argc) {
      i++;
      rules = !strcmp(argv[i], "05")    ? DBS_LS_RULES_V05
              : !strcmp(argv[i], "any") ? DBS_LS_RULES_ANY
                                        : DBS_LS_RULES_V03;
    } else
      break;
  }
  char err[1024];
  if (url != NULL) {
    struct dbs_replica_config r;
    if (dbs_litestream_config_parse_url(url, &r, err, sizeof(err)) != 0) {
      fprintf(stderr, "error: %s\n", err);
      return 1;
    }
    if (env)
      dbs_litestream_config_apply_env(&r);
    print_replica("", &r);
    dbs_replica_config_free(&r);
    return 0;
  }
  if (i + 1 != argc) {
    fprintf(stderr, "usage: lsconfig-dump [-no-expand-env] [-v] [-env] "
                    "[-find DBPATH] FILE | -url URL\n");
    return 2;
  }
  struct dbs_litestream_config cfg;
  int rc = dbs_litestream_config_load_rules(argv[i], expand, rules, &cfg, err,
                                            sizeof(err));
  if (rc != 0) {
    char red[1024];
    fprintf(stderr, "error: %s\n", dbs_log_redact(err, red, sizeof(red)));
    dbs_litestream_config_free(&cfg);
    return 1;
  }
  for (size_t k = 0; k < cfg.nwarnings; k++)
    fprintf(stderr, "warning: %s\n", cfg.warnings[k]);
  if (find != NULL) {
    const struct dbs_db_config* d = dbs_litestream_config_find_db(&cfg, find);
    printf("%s\n", d ? d->path : "(none)");
    dbs_litestream_config_free(&cfg);
    return d ? 0 : 3;
  }
  if (verbose) {
    for (size_t k = 0; k < cfg.ndbs; k++) {
      const struct dbs_db_config* d = &cfg.dbs[k];
      printf("db[%zu].path=%s\n", k, d->path);
      printf("db[%zu].meta_path=%s\n", k, d->meta_path);
      for (size_t j = 0; j < d->nreplicas; j++) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "db[%zu].replica[%zu].", k, j);
        if (env)
          dbs_litestream_config_apply_env(&d->replicas[j]);
        print_replica(prefix, &d->replicas[j]);
      }
    }
  } else {
    /* Go's tabwriter(minwidth 0, tabwidth 8, padding 2, ' '): widths in
     * UTF-8 characters. */
    size_t w = strlen("path");
    for (size_t k = 0; k < cfg.ndbs; k++)
      if (runes(cfg.dbs[k].path) > w)
        w = runes(cfg.dbs[k].path);
    pad("path", w + 2);
    printf(rules == DBS_LS_RULES_V05 ? "replica\n" : "replicas\n");
    for (size_t k = 0; k < cfg.ndbs; k++) {
      const struct dbs_db_config* d = &cfg.dbs[k];
      pad(d->path, w + 2);
      for (size_t j = 0; j < d->nreplicas; j++)
        printf("%s%s", j ? "," : "",
               rules == DBS_LS_RULES_V05 ? d->replicas[j].type
                                         : d->replicas[j].name);
      printf("\n");
    }
  }
  dbs_litestream_config_free(&cfg);
  return 0;
}
