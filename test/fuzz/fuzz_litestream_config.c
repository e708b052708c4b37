/*
 * litestream.yml: environment expansion, the YAML walk, replica URLs and
 * the environment's credentials and endpoint (dbs_litestream_config_*).
 *
 * Input: one flag byte, then the file's text. Flag bit 0: expand the
 * environment (litestream's default); bit 1: also parse the first line
 * alone as a replica URL.
 */
#include <string.h>

#include "fuzz.h"
#include "litestream_config.h"

/* "An empty value is always NULL, never """ (litestream_config.h). */
static void check_str(const char* s) {
  FUZZ_CHECK(s == NULL || s[0] != '\0');
}

static void check_replica(const struct dbs_replica_config* r) {
  check_str(r->name);
  check_str(r->type);
  check_str(r->url);
  check_str(r->path);
  check_str(r->bucket);
  check_str(r->endpoint);
  check_str(r->region);
  check_str(r->access_key_id);
  check_str(r->secret_access_key);
  check_str(r->session_token);
  if (r->kind == DBS_REPLICA_FILE)
    FUZZ_CHECK(r->path != NULL && r->path[0] == '/');
  if (r->endpoint != NULL)
    FUZZ_CHECK(strstr(r->endpoint, "://") != NULL);
}

static void setup(void) {
  /* Values that the seeds' ${...} expand to, so that expansion reaches the
   * URL and path rules with real text. */
  setenv("BUCKET_NAME", "fuzz-bucket", 1);
  setenv("LITESTREAM_REPLICA_URL", "s3://fuzz-bucket/db", 1);
  setenv("DB_PATH", "/data/app.db", 1);
  setenv("EMPTY", "", 1);
  setenv("MULTI", "a\nb: c", 1);
  setenv("AWS_ACCESS_KEY_ID", "AKIAFUZZFUZZFUZZ", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "fuzz-secret-value", 1);
  setenv("AWS_SESSION_TOKEN", "fuzz-session-token", 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", 1);
}

FUZZ_INITIALIZE(setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  unsigned flags = data[0];
  const char* text = (const char*)data + 1;
  size_t len = size - 1;
  char err[1024];

  size_t outlen = 0;
  char* x = dbs_litestream_config_expand_env(text, len, &outlen);
  FUZZ_CHECK(x != NULL);
  FUZZ_CHECK(x[outlen] == '\0');
  if (memchr(text, '\0', len) == NULL)
    FUZZ_CHECK(strlen(x) == outlen);
  free(x);

  struct dbs_litestream_config cfg;
  memset(err, 0, sizeof(err));
  int rc =
      dbs_litestream_config_parse(text, len, flags & 1, &cfg, err, sizeof(err));
  FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
  if (rc != 0) {
    FUZZ_CHECK(err[0] != '\0');
    FUZZ_CHECK(cfg.ndbs == 0);
  } else {
    check_str(cfg.access_key_id);
    check_str(cfg.secret_access_key);
    for (size_t i = 0; i < cfg.ndbs; i++) {
      const struct dbs_db_config* db = &cfg.dbs[i];
      FUZZ_CHECK(db->path != NULL && db->path[0] == '/');
      check_str(db->meta_path);
      for (size_t j = 0; j < db->nreplicas; j++) {
        struct dbs_replica_config* r = &db->replicas[j];
        check_replica(r);
        if (r->kind == DBS_REPLICA_S3) {
          FUZZ_CHECK(dbs_litestream_config_apply_env(r) == 0);
          check_replica(r);
          FUZZ_CHECK(r->region != NULL);
        }
      }
      FUZZ_CHECK(dbs_litestream_config_find_db(&cfg, db->path) != NULL);
    }
  }
  dbs_litestream_config_free(&cfg);

  if (flags & 2) {
    const char* nl = memchr(text, '\n', len);
    size_t n = nl != NULL ? (size_t)(nl - text) : len;
    char* url = strndup(text, n);
    FUZZ_CHECK(url != NULL);
    struct dbs_replica_config r;
    memset(err, 0, sizeof(err));
    rc = dbs_litestream_config_parse_url(url, &r, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc == 0)
      check_replica(&r);
    else
      FUZZ_CHECK(err[0] != '\0');
    dbs_replica_config_free(&r);
    free(url);
  }
  return 0;
}
