/*
 * s3probe: drives the S3 storage backend from test scripts.
 *   s3probe [options] list PREFIX        one line per entry:
 *                                        "P key" or "F key size mtime_ms"
 *   s3probe [options] get KEY [FILE]     object to FILE (default stdout)
 *   s3probe [options] getall DIR KEY...  keys fetched in parallel threads
 *                                        into DIR/<last path element>
 *   s3probe [options] restore OUTPUT     the native restore (restore.h) of
 *                                        the replica at --path into OUTPUT;
 *                                        prints "result: NAME", exits with
 *                                        dbs_restore_exit_status
 * Options: --bucket B --endpoint URL --region R --path-style --vhost
 *   --skip-verify --delimiter --timeout-ms N --stall-ms N --max-keys N
 *   --list-max-pages N --list-max-keys N
 *   --parallelism N --ca FILE --connect-to SPEC -v (debug log)
 *   restore: --path PREFIX --generation G --index N --timestamp RFC3339
 * Credentials as litestream reads them from the environment:
 * LITESTREAM_ACCESS_KEY_ID/LITESTREAM_SECRET_ACCESS_KEY, else
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; AWS_SESSION_TOKEN; AWS_REGION;
 * AWS_ENDPOINT_URL_S3.
 * Exit: 0 ok, 2 not found, 3 unavailable, 4 denied, 5 corrupt, 1 other.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "restore.h"
#include "restore_cli.h"
#include "storage.h"
#include "storage_s3.h"

static int exit_for(int rc) {
  switch (rc) {
  case 0:
    return 0;
  case DBS_STORAGE_ENOTFOUND:
    return 2;
  case DBS_STORAGE_EUNAVAILABLE:
    return 3;
  case DBS_STORAGE_EDENIED:
    return 4;
  case DBS_STORAGE_ECORRUPT:
    return 5;
  default:
    return 1;
  }
}

static const char* class_name(int rc) {
  switch (rc) {
  case DBS_STORAGE_ENOTFOUND:
    return "notfound";
  case DBS_STORAGE_EUNAVAILABLE:
    return "unavailable";
  case DBS_STORAGE_EDENIED:
    return "denied";
  case DBS_STORAGE_ECORRUPT:
    return "corrupt";
  default:
    return "error";
  }
}

static int write_sink(void* arg, const uint8_t* buf, size_t len) {
  int fd = *(int*)arg;
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

struct job {
  struct dbs_storage* st;
  const char* key;
  const char* dir;
  int rc;
};

static void* get_one(void* arg) {
  struct job* j = arg;
  const char* base = strrchr(j->key, '/');
  base = base ? base + 1 : j->key;
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", j->dir, base);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    j->rc = -errno;
    return NULL;
  }
  j->rc = j->st->ops->get(j->st, j->key, write_sink, &fd);
  close(fd);
  return NULL;
}

static const char* result_name(enum dbs_restore_result r) {
  static const char* const names[] = {
      "restored", "no-backup", "unsupported-type", "corrupt", "encrypted",
      "storage",  "usage",     "target",           "internal"};
  return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* The restore engine over this backend, as dbsetup's boot would run it. */
static int restore(const struct dbs_replica_config* r,
                   const struct dbs_s3_options* so,
                   const struct dbs_restore_target* t, const char* output) {
  struct dbs_restore_opts o = {.parallelism = so->parallelism,
                               .verify = DBS_VERIFY_QUICK,
                               .timeout_ms = so->timeout_ms};
  struct dbs_restore_error e = {0};
  struct dbs_storage* st = NULL;
  /* Opened here rather than by dbs_restore_open_storage so that the test
   * options (stall, page size, CA, connect-to) apply. */
  int rc = dbs_storage_s3_open(r, so, &st);
  if (rc != 0) {
    printf("result: %s\n", result_name(DBS_RESTORE_ESTORAGE));
    return DBS_EXIT_UNAVAILABLE;
  }
  struct dbs_restore_source src = {"s3", st, r->path ? r->path : ""};
  enum dbs_restore_result res = dbs_restore_run(&src, 1, t, output, &o, &e);
  printf("result: %s\n", result_name(res));
  if (res != DBS_RESTORE_RESTORED)
    fprintf(stderr, "s3probe: restore: %s\n", e.msg);
  st->ops->close(st);
  return dbs_restore_exit_status(res);
}

static const char* env2(const char* a, const char* b) {
  const char* v = getenv(a);
  if (v && *v)
    return v;
  v = getenv(b);
  return v && *v ? v : NULL;
}

int main(int argc, char** argv) {
  struct dbs_replica_config r = {0};
  struct dbs_s3_options o = {0};
  int delimiter = 0, i;
  r.name = "s3probe";
  r.type = "s3";
  r.kind = DBS_REPLICA_S3;
  r.endpoint = getenv("AWS_ENDPOINT_URL_S3");
  r.region = getenv("AWS_REGION");
  r.access_key_id =
      (char*)env2("LITESTREAM_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID");
  r.secret_access_key =
      (char*)env2("LITESTREAM_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY");
  o.session_token = getenv("AWS_SESSION_TOKEN");
  int path_style = -1;
  struct dbs_restore_target target = {.index = -1};
  for (i = 1; i < argc && argv[i][0] == '-'; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
    if (ARG("--bucket"))
      r.bucket = (char*)v;
    else if (ARG("--endpoint"))
      r.endpoint = (char*)v;
    else if (ARG("--region"))
      r.region = (char*)v;
    else if (ARG("--timeout-ms"))
      o.timeout_ms = (unsigned)strtoul(v, NULL, 10);
    else if (ARG("--stall-ms"))
      o.stall_timeout_ms = (unsigned)strtoul(v, NULL, 10);
    else if (ARG("--list-max-pages"))
      o.list_max_pages = (unsigned)strtoul(v, NULL, 10);
    else if (ARG("--list-max-keys"))
      o.list_max_keys = (unsigned)strtoul(v, NULL, 10);
    else if (ARG("--max-keys"))
      o.max_keys = (unsigned)strtoul(v, NULL, 10);
    else if (ARG("--parallelism"))
      o.parallelism = (unsigned)strtoul(v, NULL, 10);
    else if (ARG("--path"))
      r.path = (char*)v;
    else if (ARG("--generation"))
      target.generation = v;
    else if (ARG("--index"))
      target.index = strtoll(v, NULL, 16);
    else if (ARG("--timestamp")) {
      if (dbs_restore_cli_parse_time(v, &target.timestamp_ns) != 0) {
        fprintf(stderr, "s3probe: bad timestamp %s\n", v);
        return 64;
      }
      target.has_timestamp = true;
    } else if (ARG("--ca"))
      o.ca_file = v;
    else if (ARG("--connect-to"))
      o.connect_to = v;
    else if (strcmp(a, "--path-style") == 0)
      path_style = 1;
    else if (strcmp(a, "--vhost") == 0)
      path_style = 0;
    else if (strcmp(a, "--skip-verify") == 0)
      r.skip_verify = true;
    else if (strcmp(a, "--delimiter") == 0)
      delimiter = 1;
    else if (strcmp(a, "-v") == 0)
      dbs_log_set_level(DBS_LOG_DEBUG);
    else {
      fprintf(stderr, "s3probe: unknown option %s\n", a);
      return 64;
    }
#undef ARG
  }
  /* litestream: path style with an endpoint unless told otherwise. */
  r.force_path_style = path_style >= 0 ? path_style : r.endpoint != NULL;
  if (i >= argc) {
    fprintf(stderr, "usage: s3probe [options] list|get|getall ...\n");
    return 64;
  }
  const char* cmd = argv[i++];
  if (strcmp(cmd, "restore") == 0 && i < argc)
    return restore(&r, &o, &target, argv[i]);
  struct dbs_storage* st;
  int rc = dbs_storage_s3_open(&r, &o, &st);
  if (rc) {
    fprintf(stderr, "s3probe: open: %s\n", strerror(-rc));
    return 1;
  }
  if (strcmp(cmd, "list") == 0 && i < argc) {
    struct dbs_storage_list l;
    rc = st->ops->list(st, argv[i], delimiter, &l);
    if (rc == 0) {
      for (size_t k = 0; k < l.n; k++) {
        if (l.entries[k].is_prefix)
          printf("P %s\n", l.entries[k].key);
        else
          printf("F %s %lld %lld\n", l.entries[k].key,
                 (long long)l.entries[k].size,
                 (long long)l.entries[k].mtime_ms);
      }
      dbs_storage_list_free(&l);
    }
  } else if (strcmp(cmd, "get") == 0 && i < argc) {
    int fd = 1;
    if (i + 1 < argc) {
      fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        perror(argv[i + 1]);
        st->ops->close(st);
        return 1;
      }
    }
    rc = st->ops->get(st, argv[i], write_sink, &fd);
    if (fd != 1)
      close(fd);
  } else if (strcmp(cmd, "getall") == 0 && i + 1 < argc) {
    const char* dir = argv[i++];
    int n = argc - i;
    struct job* jobs = calloc((size_t)n, sizeof(*jobs));
    pthread_t* th = calloc((size_t)n, sizeof(*th));
    if (jobs == NULL || th == NULL)
      return 1;
    for (int k = 0; k < n; k++) {
      jobs[k] = (struct job){st, argv[i + k], dir, 0};
      pthread_create(&th[k], NULL, get_one, &jobs[k]);
    }
    for (int k = 0; k < n; k++) {
      pthread_join(th[k], NULL);
      if (jobs[k].rc && rc == 0)
        rc = jobs[k].rc;
    }
    free(jobs);
    free(th);
  } else {
    fprintf(stderr, "s3probe: bad command\n");
    st->ops->close(st);
    return 64;
  }
  if (rc)
    fprintf(stderr, "s3probe: %s: %s\n", class_name(rc), st->error);
  st->ops->close(st);
  return exit_for(rc);
}
