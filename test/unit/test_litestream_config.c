/* Unit tests for litestream_config: every rule litestream 0.3.13 applies. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "litestream_config.h"
#include "log.h"

static char err[1024];

static void clear_env(void) {
  static const char* const vars[] = {"AWS_ACCESS_KEY_ID",
                                     "AWS_SECRET_ACCESS_KEY",
                                     "AWS_SESSION_TOKEN",
                                     "AWS_ACCESS_KEY",
                                     "AWS_SECRET_KEY",
                                     "AWS_REGION",
                                     "AWS_ENDPOINT_URL_S3",
                                     "LITESTREAM_ACCESS_KEY_ID",
                                     "BUCKET_NAME",
                                     "LITESTREAM_SECRET_ACCESS_KEY",
                                     "FOO",
                                     "EMPTY",
                                     "MULTI",
                                     NULL};
  for (size_t i = 0; vars[i]; i++)
    unsetenv(vars[i]);
}

static char* xp(const char* in) {
  size_t n;
  char* o = dbs_litestream_config_expand_env(in, strlen(in), &n);
  assert_non_null(o);
  assert_int_equal(n, strlen(o));
  return o;
}

#define EXPECT_EXPAND(in, want)                                                \
  do {                                                                         \
    char* o_ = xp(in);                                                         \
    assert_string_equal(o_, want);                                             \
    free(o_);                                                                  \
  } while (0)

static void test_expand_go_rules(void** state) {
  (void)state;
  clear_env();
  setenv("FOO", "foo", 1);
  setenv("EMPTY", "", 1);
  EXPECT_EXPAND("$FOO", "foo");
  EXPECT_EXPAND("${FOO}", "foo");
  EXPECT_EXPAND("a$FOO.b", "afoo.b");
  EXPECT_EXPAND("$FOO_x", ""); /* name is FOO_x */
  EXPECT_EXPAND("${FOO}_x", "foo_x");
  EXPECT_EXPAND("$UNSET_VAR|", "|");
  EXPECT_EXPAND("$EMPTY|", "|");
  EXPECT_EXPAND("${FOO:-default}", ""); /* looks up "FOO:-default" */
  EXPECT_EXPAND("$$", "");
  EXPECT_EXPAND("$1x", "x");
  EXPECT_EXPAND("$*x", "x");
  EXPECT_EXPAND("${1}x", "x");
  EXPECT_EXPAND("${}x", "x"); /* eaten */
  EXPECT_EXPAND("a${", "a");  /* unterminated: "${" eaten */
  EXPECT_EXPAND("a${FOO", "aFOO");
  EXPECT_EXPAND("a$", "a$");     /* at the end: kept */
  EXPECT_EXPAND("a$/b", "a$/b"); /* not a name: kept */
  EXPECT_EXPAND("a$%b", "a$%b");
  EXPECT_EXPAND("a$ b", "a$ b");
  EXPECT_EXPAND("${A=B}", ""); /* '=' in a name: never set */
  EXPECT_EXPAND("# $FOO in a comment", "# foo in a comment");
  EXPECT_EXPAND("no dollars", "no dollars");
  EXPECT_EXPAND("", "");
  /* A "${" runs across lines to the next '}'. */
  EXPECT_EXPAND("x${FOO\ny}z", "xz");
}

static int parse(const char* yml, struct dbs_litestream_config* c) {
  return dbs_litestream_config_parse(yml, strlen(yml), true, c, err,
                                     sizeof(err));
}

static const char* home(void) {
  return getpwuid(getuid())->pw_dir;
}

static void test_db_paths(void** state) {
  (void)state;
  clear_env();
  char cwd[PATH_MAX], want[PATH_MAX + 64];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  struct dbs_litestream_config c;
  setenv("HOME", "/nonexistent-home", 1);
  assert_int_equal(parse("dbs:\n"
                         "  - path: ~/a.db\n"
                         "  - path: rel/../b.db\n"
                         "  - path: /x//y/./c.db\n"
                         "  - path: ~\n" /* YAML null: the working dir */
                         "  - path: /m.db\n"
                         "    meta-path: /meta\n",
                         &c),
                   0);
  assert_int_equal(c.ndbs, 5);
  snprintf(want, sizeof(want), "%s/a.db", strcmp(home(), "/") ? home() : "");
  assert_string_equal(c.dbs[0].path, want);
  snprintf(want, sizeof(want), "%s/b.db", cwd);
  assert_string_equal(c.dbs[1].path, want);
  assert_string_equal(c.dbs[2].path, "/x/y/c.db");
  assert_string_equal(c.dbs[3].path, cwd);
  snprintf(want, sizeof(want), "%s/.b.db-litestream", cwd);
  assert_string_equal(c.dbs[1].meta_path, want);
  assert_string_equal(c.dbs[4].meta_path, "/meta");
  assert_int_equal(c.dbs[0].nreplicas, 0);
  dbs_litestream_config_free(&c);
}

static void test_replica_types_and_names(void** state) {
  (void)state;
  clear_env();
  struct dbs_litestream_config c;
  assert_int_equal(parse("dbs:\n"
                         "  - path: /a.db\n"
                         "    replicas:\n"
                         "      - url: s3://bucket/p\n"
                         "      - path: /backup\n"
                         "      - url: gcs://g/p\n"
                         "        type: s3\n" /* the scheme wins */
                         "      - type: s3\n"
                         "        bucket: b\n"
                         "        name: named\n"
                         "      - url: sftp://u@h/p\n",
                         &c),
                   0);
  struct dbs_db_config* d = &c.dbs[0];
  assert_int_equal(d->nreplicas, 5);
  assert_string_equal(d->replicas[0].name, "s3");
  assert_int_equal(d->replicas[0].kind, DBS_REPLICA_S3);
  assert_string_equal(d->replicas[1].name, "file");
  assert_int_equal(d->replicas[1].kind, DBS_REPLICA_FILE);
  assert_string_equal(d->replicas[1].path, "/backup");
  assert_string_equal(d->replicas[2].type, "gcs");
  assert_int_equal(d->replicas[2].kind, DBS_REPLICA_OTHER);
  assert_string_equal(d->replicas[3].name, "named");
  assert_string_equal(d->replicas[4].type, "sftp");
  dbs_litestream_config_free(&c);
}

static void test_s3_fields_and_path_style(void** state) {
  (void)state;
  clear_env();
  struct dbs_litestream_config c;
  assert_int_equal(parse("dbs:\n"
                         "  - path: /a.db\n"
                         "    replicas:\n"
                         "      - name: aws\n"
                         "        url: s3://bkt//x/./y/\n"
                         "      - name: endpoint\n"
                         "        type: s3\n"
                         "        bucket: b\n"
                         "        path: /lead/\n"
                         "        endpoint: minio:9000\n"
                         "        region: auto\n"
                         "        skip-verify: yes\n"
                         "      - name: explicit-off\n"
                         "        type: s3\n"
                         "        bucket: b\n"
                         "        endpoint: http://m:1\n"
                         "        force-path-style: Off\n"
                         "      - name: provider-forces\n"
                         "        url: s3://b.localhost:9000/\n"
                         "        force-path-style: false\n"
                         "      - name: root\n"
                         "        url: s3://b\n",
                         &c),
                   0);
  struct dbs_replica_config* r = c.dbs[0].replicas;
  assert_string_equal(r[0].bucket, "bkt");
  assert_string_equal(r[0].path, "x/y");
  assert_null(r[0].endpoint);
  assert_null(r[0].region);
  assert_false(r[0].force_path_style);
  assert_string_equal(r[1].path, "/lead");
  assert_string_equal(r[1].endpoint, "https://minio:9000");
  assert_string_equal(r[1].region, "auto");
  assert_true(r[1].force_path_style);
  assert_false(r[1].force_path_style_explicit);
  assert_true(r[1].skip_verify);
  assert_false(r[2].force_path_style);
  assert_true(r[2].force_path_style_explicit);
  assert_string_equal(r[2].endpoint, "http://m:1");
  assert_true(r[3].force_path_style);
  assert_string_equal(r[3].endpoint, "http://localhost:9000");
  assert_string_equal(r[3].region, "us-east-1");
  assert_null(r[3].path);
  assert_null(r[4].path);
  assert_string_equal(r[4].bucket, "b");
  dbs_litestream_config_free(&c);
}

static void test_parse_url_providers(void** state) {
  (void)state;
  static const struct {
    const char *url, *bucket, *endpoint, *region, *path;
    bool path_style;
  } cases[] = {
      {"s3://b.s3.us-west-002.backblazeb2.com/db", "b",
       "https://s3.us-west-002.backblazeb2.com", "us-west-002", "db", true},
      {"s3://b.s3.filebase.com/db", "b", "https://s3.filebase.com", NULL, "db",
       true},
      {"s3://my.b.nyc3.digitaloceanspaces.com/a/b", "my.b",
       "https://nyc3.digitaloceanspaces.com", "nyc3", "a/b", true},
      {"s3://b.s3.fr-par.scw.cloud/db", "b", "https://s3.fr-par.scw.cloud",
       "fr-par", "db", true},
      {"s3://b.us-east-1.linodeobjects.com/db", "b",
       "https://us-east-1.linodeobjects.com", "us-east-1", "db", true},
      {"s3://b.localhost:9000/db", "b", "http://localhost:9000", "us-east-1",
       "db", true},
      {"s3://minio:9000/bkt/db", "minio", NULL, NULL, "bkt/db", false},
      {"S3://Bkt/Db%20x?query=1#frag", "Bkt", NULL, NULL, "Db x", false},
      {"s3://key:secret@b/p", "b", NULL, NULL, "p", false},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct dbs_replica_config r;
    assert_int_equal(
        dbs_litestream_config_parse_url(cases[i].url, &r, err, sizeof(err)), 0);
    assert_int_equal(r.kind, DBS_REPLICA_S3);
    assert_string_equal(r.bucket, cases[i].bucket);
    if (cases[i].endpoint)
      assert_string_equal(r.endpoint, cases[i].endpoint);
    else
      assert_null(r.endpoint);
    if (cases[i].region)
      assert_string_equal(r.region, cases[i].region);
    else
      assert_null(r.region);
    assert_string_equal(r.path, cases[i].path);
    assert_int_equal(r.force_path_style, cases[i].path_style);
    dbs_replica_config_free(&r);
  }
  char red[128];
  dbs_log_redact("s3://key:secret@b/p", red, sizeof(red));
  assert_null(strstr(red, "secret"));

  struct dbs_replica_config r;
  assert_int_equal(dbs_litestream_config_parse_url("file:///var/x/../bk", &r,
                                                   err, sizeof(err)),
                   0);
  assert_int_equal(r.kind, DBS_REPLICA_FILE);
  assert_string_equal(r.path, "/var/bk");
  dbs_replica_config_free(&r);
  assert_int_equal(
      dbs_litestream_config_parse_url("s3://localhost/p", &r, err, sizeof(err)),
      -EINVAL);
  assert_non_null(strstr(err, "bucket required for s3 replica"));
  assert_int_equal(
      dbs_litestream_config_parse_url("s3://b:port/p", &r, err, sizeof(err)),
      -EINVAL);
  assert_non_null(strstr(err, "invalid port"));
  assert_int_equal(
      dbs_litestream_config_parse_url("/no/scheme", &r, err, sizeof(err)),
      -EINVAL);
  assert_non_null(strstr(err, "scheme required"));
}

static void test_credentials_and_secrets(void** state) {
  (void)state;
  clear_env();
  struct dbs_litestream_config c;
  assert_int_equal(parse("access-key-id: TOPKEYID1\n"
                         "secret-access-key: topsecret$NOPE-tail\n"
                         "dbs:\n"
                         "  - path: /a.db\n"
                         "    replicas:\n"
                         "      - url: s3://b/p\n"
                         "      - url: s3://c/p\n"
                         "        name: own\n"
                         "        secret-access-key: \"own$secret\"\n",
                         &c),
                   0);
  struct dbs_replica_config* r = c.dbs[0].replicas;
  assert_string_equal(r[0].access_key_id, "TOPKEYID1");
  /* "$NOPE" is expanded away, "-tail" stays: Go's rules, no escape. */
  assert_string_equal(r[0].secret_access_key, "topsecret-tail");
  assert_string_equal(r[1].access_key_id, "TOPKEYID1");
  assert_string_equal(r[1].secret_access_key, "own"); /* $secret unset */
  char red[256];
  dbs_log_redact("key topsecret-tail id TOPKEYID1", red, sizeof(red));
  assert_string_equal(red, "key [REDACTED] id [REDACTED]");
  dbs_litestream_config_free(&c);

  /* Without expansion the '$' survives. */
  const char* yml = "dbs:\n  - path: /a.db\n    replicas:\n"
                    "      - url: s3://b/p\n"
                    "        secret-access-key: pa$$w0rd$X\n";
  assert_int_equal(dbs_litestream_config_parse(yml, strlen(yml), false, &c, err,
                                               sizeof(err)),
                   0);
  assert_string_equal(c.dbs[0].replicas[0].secret_access_key, "pa$$w0rd$X");
  dbs_log_redact("pa$$w0rd$X", red, sizeof(red));
  assert_string_equal(red, "[REDACTED]");
  dbs_litestream_config_free(&c);
}

static void test_bucket_empty(void** state) {
  (void)state;
  clear_env();
  struct dbs_litestream_config c;
  const char* yml = "dbs:\n  - path: /a.db\n    replicas:\n"
                    "      - type: s3\n        bucket: $BUCKET_NAME\n"
                    "        path: db\n";
  assert_int_equal(parse(yml, &c), 0);
  assert_true(c.dbs[0].replicas[0].bucket_empty);
  assert_null(c.dbs[0].replicas[0].bucket);
  dbs_litestream_config_free(&c);
  setenv("BUCKET_NAME", "real", 1);
  assert_int_equal(parse(yml, &c), 0);
  assert_false(c.dbs[0].replicas[0].bucket_empty);
  assert_string_equal(c.dbs[0].replicas[0].bucket, "real");
  dbs_litestream_config_free(&c);
  unsetenv("BUCKET_NAME");
  /* Via the url's host. */
  assert_int_equal(parse("dbs:\n  - path: /a.db\n    replicas:\n"
                         "      - url: s3://${BUCKET_NAME}/db\n",
                         &c),
                   0);
  assert_true(c.dbs[0].replicas[0].bucket_empty);
  dbs_litestream_config_free(&c);
  /* type: s3 with url: $REPLICA_URL unset. */
  assert_int_equal(parse("dbs:\n  - path: /a.db\n    replicas:\n"
                         "      - type: s3\n        url: $REPLICA_URL\n",
                         &c),
                   0);
  assert_true(c.dbs[0].replicas[0].bucket_empty);
  dbs_litestream_config_free(&c);
  /* No bucket written at all: an error, as in litestream. */
  assert_int_equal(parse("dbs:\n  - path: /a.db\n    replicas:\n"
                         "      - type: s3\n        path: $FOO\n",
                         &c),
                   -EINVAL);
  assert_non_null(strstr(err, "bucket required for s3 replica"));
  assert_non_null(strstr(err, "litestream.yml:4:9:"));
}

#define EXPECT_ERR(yml, needle)                                                \
  do {                                                                         \
    struct dbs_litestream_config c_;                                           \
    assert_int_equal(parse(yml, &c_), -EINVAL);                                \
    if (strstr(err, needle) == NULL)                                           \
      fail_msg("error [%s] lacks [%s]", err, needle);                          \
    assert_int_equal(c_.ndbs, 0);                                              \
    dbs_litestream_config_free(&c_);                                           \
  } while (0)

static void test_errors(void** state) {
  (void)state;
  clear_env();
  EXPECT_ERR("dbs:\n  - path: /a.db\n   replicas: x\n",
             "litestream.yml:3:4: did not find expected");
  EXPECT_ERR("dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n",
             "litestream.yml:3:5: dbs[0]: 'replica:' is litestream 0.5");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{path: 's3://b/p'}]}]",
             "replica path cannot be a url, please use the 'url' field");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{url: 's3://b/p', path: x}]}]",
             "cannot specify url & path for s3 replica");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{url: 's3://b/p', bucket: x}]}]",
             "cannot specify url & bucket for s3 replica");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{path: /x}, {path: /y}]}]",
             "duplicate replica name: \"file\"");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{type: ftp, path: /x}]}]",
             "unknown replica type in config: \"ftp\"");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{type: s3, bucket: b, "
             "force-path-style: 'true'}]}]",
             "force-path-style must be true or false");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{path: /x, retention: 3days}]}]",
             "retention must be a duration");
  EXPECT_ERR("dbs: [{path: /a, max-checkpoint-page-count: '9'}]",
             "max-checkpoint-page-count must be an unquoted number");
  EXPECT_ERR("dbs: {path: /a}", "dbs must be a list");
  EXPECT_ERR("dbs: [{path: [x]}]", "dbs[0].path must be a string");
  EXPECT_ERR("dbs: [~]", "dbs[0] is empty");
  EXPECT_ERR("- x", "must be a mapping");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{url: 's3://b/%zz'}]}]",
             "invalid URL escape");
  EXPECT_ERR("dbs: [{path: /a, replicas: [{<<: 5}]}]", "map merge requires");
  EXPECT_ERR("dbs: [&a {path: /x, <<: *a}]", "contains itself");
  EXPECT_ERR("a: &a {k: v}\n"
             "b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n"
             "c: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\n"
             "d: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}\n"
             "e: &e {<<: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n"
             "f: &f {<<: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]}\n"
             "dbs: [{<<: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]}]\n",
             "excessive aliasing");

  /* Lines are those of the file before expansion. */
  setenv("MULTI", "a\nb\nc", 1);
  EXPECT_ERR("x: \"$MULTI\"\ndbs: [{path: /a, replicas: [{type: ftp}]}]\n",
             "litestream.yml:2:");
  unsetenv("MULTI");

  struct dbs_litestream_config c;
  assert_int_equal(dbs_litestream_config_load("/nonexistent/ls.yml", true, &c,
                                              err, sizeof(err)),
                   -ENOENT);
  assert_string_equal(err, "config file not found: /nonexistent/ls.yml");
  dbs_litestream_config_free(&c);
}

static int parse_r(const char* yml, enum dbs_ls_rules r,
                   struct dbs_litestream_config* c) {
  return dbs_litestream_config_parse_rules(yml, strlen(yml), true, r, c, err,
                                           sizeof(err));
}

#define EXPECT_ERR_R(rules, yml, needle)                                       \
  do {                                                                         \
    struct dbs_litestream_config c_;                                           \
    assert_int_equal(parse_r(yml, rules, &c_), -EINVAL);                       \
    if (strstr(err, needle) == NULL)                                           \
      fail_msg("error [%s] lacks [%s]", err, needle);                          \
    assert_int_equal(c_.ndbs, 0);                                              \
    assert_int_equal(c_.nwarnings, 0);                                         \
    dbs_litestream_config_free(&c_);                                           \
  } while (0)

/* litestream 0.5's rules, and "any" (both syntaxes, restore only). */
static void test_rules_v05_and_any(void** state) {
  (void)state;
  clear_env();
  struct dbs_litestream_config c;
  const char* single = "bucket: top\n"
                       "endpoint: http://e:1\n"
                       "access-key-id: K\n"
                       "secret-access-key: S\n"
                       "shutdown-sync-timeout: 1m30s\n"
                       "dbs:\n"
                       "  - path: /a.db\n"
                       "    monitor-interval: 2500ms\n"
                       "    replica:\n"
                       "      type: s3\n"
                       "      path: p\n";
  assert_int_equal(parse_r(single, DBS_LS_RULES_V05, &c), 0);
  assert_int_equal(c.rules, DBS_LS_RULES_V05);
  assert_int_equal(c.dbs[0].nreplicas, 1);
  assert_string_equal(c.dbs[0].replicas[0].bucket, "top");
  assert_string_equal(c.dbs[0].replicas[0].endpoint, "http://e:1");
  assert_true(c.dbs[0].replicas[0].force_path_style);
  assert_string_equal(c.dbs[0].replicas[0].access_key_id, "K");
  assert_int_equal(c.shutdown_sync_timeout_ms, 90000);
  assert_int_equal(c.dbs[0].monitor_interval_ms, 2500);
  assert_int_equal(c.nwarnings, 0);
  dbs_litestream_config_free(&c);
  /* "any" reads it too; 0.3 does not (replica: is 0.5 syntax). */
  assert_int_equal(parse_r(single, DBS_LS_RULES_ANY, &c), 0);
  assert_string_equal(c.dbs[0].replicas[0].bucket, "top");
  dbs_litestream_config_free(&c);
  EXPECT_ERR_R(DBS_LS_RULES_V03, single,
               "litestream.yml:9:5: dbs[0]: 'replica:' is litestream 0.5 "
               "syntax, and the litestream that will run is 0.3");
  /* Unset: -1 (litestream's default applies). */
  assert_int_equal(
      parse_r("dbs: [{path: /a, replica: {path: /b}}]", DBS_LS_RULES_V05, &c),
      0);
  assert_int_equal(c.shutdown_sync_timeout_ms, -1);
  assert_int_equal(c.dbs[0].monitor_interval_ms, -1);
  dbs_litestream_config_free(&c);
  /* The largest duration (a bare integer is nanoseconds, as in yaml.v2)
   * rounds up to whole ms without wrapping negative (the fuzzer's find). */
  assert_int_equal(
      parse_r("shutdown-sync-timeout: 9223372036854775807\n"
              "dbs: [{path: /a, monitor-interval: 9223372036854775807, "
              "replica: {path: /b}}]",
              DBS_LS_RULES_V05, &c),
      0);
  assert_int_equal(c.shutdown_sync_timeout_ms, 9223372036855LL);
  assert_int_equal(c.dbs[0].monitor_interval_ms, 9223372036855LL);
  dbs_litestream_config_free(&c);

  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "dbs: [{path: /a, replica: {path: /b}, replicas: [{path: /c}]}]",
               "cannot specify 'replica' and 'replicas' on a database");
  EXPECT_ERR_R(DBS_LS_RULES_ANY,
               "dbs: [{path: /a, replica: {path: /b}, replicas: [{path: /c}]}]",
               "cannot specify 'replica' and 'replicas' on a database");
  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "dbs: [{path: /a, replicas: [{path: /b}, {path: /c}]}]",
               "multiple replicas on a single database are no longer");
  EXPECT_ERR_R(DBS_LS_RULES_V05, "dbs: [{path: /a}]",
               "must specify replica for database");
  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "age: {recipients: [r]}\ndbs: [{path: /a, replica: {path: /b}}]",
               "age encryption is not currently supported");
  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "dbs: [{path: /a, replica: {type: gcs, bucket: b}}]",
               "unknown replica type in config: \"gcs\"");
  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "retention: 24h\ndbs: [{path: /a, replica: {path: /b}}]",
               "litestream.yml:1:12: retention: litestream 0.5 takes");
  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "shutdown-sync-timeout: -2s\ndbs: [{path: /a, replica: {path: "
               "/b}}]",
               "shutdown-sync-timeout must be >= 0");
  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "dbs: [{path: /a, replica: {path: /b}}, {path: /a, replica: "
               "{path: /c}}]",
               "duplicate path");
  EXPECT_ERR_R(DBS_LS_RULES_V05, "dbs: [{dir: /d, pattern: '*.db'}]",
               "'dir:' (directory replication)");
  /* 0.3 with several replicas and no replica at all stays valid. */
  assert_int_equal(parse_r("dbs: [{path: /a, replicas: [{path: /b}, {name: c, "
                           "path: /c}]}, {path: /d}]",
                           DBS_LS_RULES_V03, &c),
                   0);
  assert_int_equal(c.dbs[0].nreplicas, 2);
  assert_int_equal(c.dbs[1].nreplicas, 0);
  dbs_litestream_config_free(&c);

  /* 0.5 reads s3 options from the URL's query; 0.3 ignores the query. */
  const char* q = "dbs: [{path: /a, replica: {url: "
                  "'s3://bkt/p/db?endpoint=127.0.0.1:9000&region=eu-2&"
                  "skipVerify=true'}}]";
  assert_int_equal(parse_r(q, DBS_LS_RULES_V05, &c), 0);
  assert_string_equal(c.dbs[0].replicas[0].bucket, "bkt");
  assert_string_equal(c.dbs[0].replicas[0].path, "p/db");
  assert_string_equal(c.dbs[0].replicas[0].endpoint, "http://127.0.0.1:9000");
  assert_string_equal(c.dbs[0].replicas[0].region, "eu-2");
  assert_true(c.dbs[0].replicas[0].force_path_style);
  assert_true(c.dbs[0].replicas[0].skip_verify);
  dbs_litestream_config_free(&c);
  q = "dbs: [{path: /a, replica: {url: "
      "'s3://bkt/p?endpoint=s3.example.com&forcePathStyle=false'}}]";
  assert_int_equal(parse_r(q, DBS_LS_RULES_ANY, &c), 0);
  assert_string_equal(c.dbs[0].replicas[0].endpoint, "https://s3.example.com");
  assert_false(c.dbs[0].replicas[0].force_path_style);
  dbs_litestream_config_free(&c);
  q = "dbs: [{path: /a, replicas: [{url: 's3://bkt/p?endpoint=e:1'}]}]";
  assert_int_equal(parse_r(q, DBS_LS_RULES_V03, &c), 0);
  assert_null(c.dbs[0].replicas[0].endpoint);
  dbs_litestream_config_free(&c);

  /* The 0.3-only keys 0.5 ignores: warnings with their positions. */
  assert_int_equal(parse_r("dbs:\n"
                           "  - path: /a\n"
                           "    max-checkpoint-page-count: 5\n"
                           "    replicas:\n"
                           "      - path: /b\n"
                           "        retention: 1h\n"
                           "        snapshot-interval: 1h\n",
                           DBS_LS_RULES_V05, &c),
                   0);
  assert_int_equal(c.nwarnings, 3);
  assert_non_null(strstr(c.warnings[0], "litestream.yml:3:5: "
                                        "dbs[0].max-checkpoint-page-count"));
  assert_non_null(strstr(c.warnings[1], "litestream.yml:6:9: "));
  assert_non_null(strstr(c.warnings[2], "snapshot-interval: litestream 0.5 "
                                        "ignores this 0.3 setting"));
  dbs_litestream_config_free(&c);
  assert_int_equal(parse_r("dbs: [{path: /a, replicas: [{path: /b, retention: "
                           "1h}]}]",
                           DBS_LS_RULES_V03, &c),
                   0);
  assert_int_equal(c.nwarnings, 0);
  dbs_litestream_config_free(&c);
}

/* litestream 0.5's expand() strips sqlite:// and sqlite3:// from
 * dbs[].path; 0.3.13 keeps them, a relative path, and dbsetup warns. (A
 * replica path: that looks like a URL is refused by 0.5 before.) */
static void test_sqlite_prefix(void** state) {
  (void)state;
  struct dbs_litestream_config c;
  const char* y = "dbs:\n"
                  "  - path: sqlite:///data/app.db\n"
                  "    replica: {path: /backup/app}\n"
                  "  - path: sqlite3:///data/b.db\n"
                  "    replica: {path: /backup/b}\n";
  assert_int_equal(parse_r(y, DBS_LS_RULES_V05, &c), 0);
  assert_string_equal(c.dbs[0].path, "/data/app.db");
  assert_string_equal(c.dbs[0].replicas[0].path, "/backup/app");
  assert_string_equal(c.dbs[1].path, "/data/b.db");
  assert_int_equal(c.nwarnings, 0);
  assert_ptr_equal(dbs_litestream_config_find_db(&c, "/data/app.db"),
                   &c.dbs[0]);
  dbs_litestream_config_free(&c);
  /* Both are /data/app.db for 0.5: a duplicate. */
  EXPECT_ERR_R(DBS_LS_RULES_V05,
               "dbs: [{path: 'sqlite:///data/app.db', replica: {path: /b}}, "
               "{path: /data/app.db, replica: {path: /c}}]",
               "duplicate path");
  assert_int_equal(parse_r(y, DBS_LS_RULES_ANY, &c), 0);
  assert_string_equal(c.dbs[0].path, "/data/app.db");
  dbs_litestream_config_free(&c);

  char cwd[4096], want[4200];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(parse_r("dbs: [{path: 'sqlite:///data/app.db', replicas: "
                           "[{path: /b}]}]",
                           DBS_LS_RULES_V03, &c),
                   0);
  snprintf(want, sizeof(want), "%s/sqlite:/data/app.db",
           strcmp(cwd, "/") ? cwd : "");
  assert_string_equal(c.dbs[0].path, want);
  assert_null(dbs_litestream_config_find_db(&c, "/data/app.db"));
  assert_int_equal(c.nwarnings, 1);
  assert_non_null(strstr(c.warnings[0], "litestream.yml:1:14: dbs[0].path: "
                                        "litestream 0.3 reads"));
  dbs_litestream_config_free(&c);
}

/* meta-path: expanded by 0.5 as the path is (sqlite://, ~, relative:
 * real 0.5.18 creates meta-path "sqlite://mm" as ./mm), used as written by
 * 0.3.13 (which creates ./sqlite:/mm). */
static void test_meta_path_v05(void** state) {
  (void)state;
  struct dbs_litestream_config c;
  char cwd[4096], want[4200];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  const char* m;
  m = "dbs: [{path: /a.db, meta-path: 'sqlite://m/../meta', "
      "replica: {path: /b}}, {path: /c.db, meta-path: '~/m', "
      "replica: {path: /d}}]";
  assert_int_equal(parse_r(m, DBS_LS_RULES_V05, &c), 0);
  snprintf(want, sizeof(want), "%s/meta", strcmp(cwd, "/") ? cwd : "");
  assert_string_equal(c.dbs[0].meta_path, want);
  snprintf(want, sizeof(want), "%s/m", strcmp(home(), "/") ? home() : "");
  assert_string_equal(c.dbs[1].meta_path, want);
  dbs_litestream_config_free(&c);
  assert_int_equal(parse_r(m, DBS_LS_RULES_ANY, &c), 0);
  assert_string_equal(c.dbs[1].meta_path, want);
  dbs_litestream_config_free(&c);
  m = "dbs: [{path: /a.db, meta-path: 'sqlite://m/../meta', "
      "replicas: [{path: /b}]}]";
  assert_int_equal(parse_r(m, DBS_LS_RULES_V03, &c), 0);
  assert_string_equal(c.dbs[0].meta_path, "sqlite://m/../meta");
  dbs_litestream_config_free(&c);
}

/* A query pair holding ';' is dropped, as Go (litestream 0.5) drops it. */
static void test_url_query_semicolon(void** state) {
  (void)state;
  struct dbs_litestream_config c;
  const char* q = "dbs: [{path: /a, replica: {url: "
                  "'s3://bkt/p?region=eu-2;endpoint=127.0.0.1:9000'}}]";
  assert_int_equal(parse_r(q, DBS_LS_RULES_V05, &c), 0);
  assert_null(c.dbs[0].replicas[0].endpoint);
  assert_null(c.dbs[0].replicas[0].region);
  assert_int_equal(c.nwarnings, 1);
  assert_non_null(strstr(c.warnings[0], "dbs[0].replica.url: litestream 0.5 "
                                        "ignores every query option holding "
                                        "';'"));
  dbs_litestream_config_free(&c);
  q = "dbs: [{path: /a, replica: {url: 's3://bkt/p?a=1;endpoint=127.0.0.1:1&"
      "endpoint=127.0.0.1:9000'}}]";
  assert_int_equal(parse_r(q, DBS_LS_RULES_ANY, &c), 0);
  assert_string_equal(c.dbs[0].replicas[0].endpoint, "http://127.0.0.1:9000");
  dbs_litestream_config_free(&c);
  /* 0.3 reads no query at all: no warning either. */
  q = "dbs: [{path: /a, replicas: [{url: 's3://bkt/p?region=x;b=y'}]}]";
  assert_int_equal(parse_r(q, DBS_LS_RULES_V03, &c), 0);
  assert_int_equal(c.nwarnings, 0);
  dbs_litestream_config_free(&c);
}

static void test_yaml_details(void** state) {
  (void)state;
  clear_env();
  struct dbs_litestream_config c;
  assert_int_equal(parse("", &c), 0);
  assert_int_equal(c.ndbs, 0);
  dbs_litestream_config_free(&c);
  assert_int_equal(parse("exec: npm run start\naddr: ':9090'\n", &c), 0);
  assert_string_equal(c.exec, "npm run start");
  dbs_litestream_config_free(&c);
  assert_int_equal(parse("exec: ~\n", &c), 0);
  assert_null(c.exec);
  dbs_litestream_config_free(&c);
  assert_int_equal(parse("dbs:\n"
                         "  - path: /first\n"
                         "    path: /second\n" /* later key wins */
                         "    unknown: {ignored: true}\n"
                         "    replicas:\n"
                         "      - &b {type: s3, bucket: anchored, region: r1}\n"
                         "      - <<: *b\n"
                         "        name: merged\n"
                         "      - <<: [{name: listed}, *b]\n"
                         "      - age:\n"
                         "          identities: [AGE-SECRET-KEY-1XYZ]\n"
                         "        path: /age\n",
                         &c),
                   0);
  struct dbs_db_config* d = &c.dbs[0];
  assert_string_equal(d->path, "/second");
  assert_int_equal(d->nreplicas, 4);
  assert_string_equal(d->replicas[1].bucket, "anchored");
  assert_string_equal(d->replicas[1].name, "merged");
  assert_string_equal(d->replicas[2].name, "listed");
  assert_string_equal(d->replicas[2].region, "r1");
  assert_false(d->replicas[0].has_age);
  assert_true(d->replicas[3].has_age);
  dbs_litestream_config_free(&c);
}

static void test_find_db(void** state) {
  (void)state;
  char dir[] = "/tmp/lsc-unit.XXXXXX", real[256], link[256], yml[1024];
  assert_non_null(mkdtemp(dir));
  snprintf(real, sizeof(real), "%s/real", dir);
  snprintf(link, sizeof(link), "%s/link", dir);
  assert_int_equal(mkdir(real, 0700), 0);
  assert_int_equal(symlink(real, link), 0);
  snprintf(yml, sizeof(yml),
           "dbs:\n  - path: %s/other.db\n  - path: %s/app.db\n", real, link);
  struct dbs_litestream_config c;
  assert_int_equal(parse(yml, &c), 0);
  char q[PATH_MAX + 16];
  snprintf(q, sizeof(q), "%s/app.db", real); /* missing file, linked dir */
  assert_ptr_equal(dbs_litestream_config_find_db(&c, q), &c.dbs[1]);
  snprintf(q, sizeof(q), "%s/other.db", link);
  assert_ptr_equal(dbs_litestream_config_find_db(&c, q), &c.dbs[0]);
  snprintf(q, sizeof(q), "%s/nope.db", real);
  assert_null(dbs_litestream_config_find_db(&c, q));
  /* A symlinked file resolves to its target. */
  char f[PATH_MAX + 16], fl[PATH_MAX + 16];
  snprintf(f, sizeof(f), "%s/other.db", real);
  snprintf(fl, sizeof(fl), "%s/file-link.db", dir);
  FILE* fp = fopen(f, "w");
  assert_non_null(fp);
  fclose(fp);
  assert_int_equal(symlink(f, fl), 0);
  assert_ptr_equal(dbs_litestream_config_find_db(&c, fl), &c.dbs[0]);
  dbs_litestream_config_free(&c);
  unlink(fl);
  unlink(f);
  unlink(link);
  rmdir(real);
  rmdir(dir);
}

static struct dbs_replica_config s3_replica(const char* yml_replica) {
  char yml[1024];
  snprintf(yml, sizeof(yml), "dbs:\n  - path: /a.db\n    replicas:\n%s",
           yml_replica);
  struct dbs_litestream_config c;
  assert_int_equal(parse(yml, &c), 0);
  struct dbs_replica_config r = c.dbs[0].replicas[0];
  memset(&c.dbs[0].replicas[0], 0, sizeof(r));
  dbs_litestream_config_free(&c);
  return r;
}

static void test_apply_env(void** state) {
  (void)state;
  clear_env();
  /* Nothing set: no credentials, no endpoint, region left to storage. */
  struct dbs_replica_config r = s3_replica("      - url: s3://b/p\n");
  assert_int_equal(dbs_litestream_config_apply_env(&r), 0);
  assert_null(r.access_key_id);
  assert_null(r.endpoint);
  assert_null(r.region);
  dbs_replica_config_free(&r);

  /* LITESTREAM_* only when AWS_* is unset. */
  setenv("LITESTREAM_ACCESS_KEY_ID", "LSKEYID", 1);
  setenv("LITESTREAM_SECRET_ACCESS_KEY", "lssecret", 1);
  r = s3_replica("      - url: s3://b/p\n");
  dbs_litestream_config_apply_env(&r);
  assert_string_equal(r.access_key_id, "LSKEYID");
  assert_string_equal(r.secret_access_key, "lssecret");
  assert_null(r.session_token);
  dbs_replica_config_free(&r);
  setenv("AWS_ACCESS_KEY_ID", "AWSKEYID", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "awssecret", 1);
  setenv("AWS_SESSION_TOKEN", "awstoken", 1);
  r = s3_replica("      - url: s3://b/p\n");
  dbs_litestream_config_apply_env(&r);
  assert_string_equal(r.access_key_id, "AWSKEYID");
  assert_string_equal(r.secret_access_key, "awssecret");
  assert_string_equal(r.session_token, "awstoken");
  char red[128];
  dbs_log_redact("awstoken", red, sizeof(red));
  assert_string_equal(red, "[REDACTED]");
  dbs_replica_config_free(&r);
  /* Keys in the config win, with no session token. */
  r = s3_replica("      - url: s3://b/p\n        access-key-id: CFGKEYID\n");
  dbs_litestream_config_apply_env(&r);
  assert_string_equal(r.access_key_id, "CFGKEYID");
  assert_null(r.secret_access_key);
  assert_null(r.session_token);
  dbs_replica_config_free(&r);

  /* Endpoint from AWS_ENDPOINT_URL_S3: path style unless written. */
  setenv("AWS_ENDPOINT_URL_S3", "https://fly.storage.tigris.dev", 1);
  r = s3_replica("      - url: s3://b/p\n");
  dbs_litestream_config_apply_env(&r);
  assert_string_equal(r.endpoint, "https://fly.storage.tigris.dev");
  assert_true(r.endpoint_from_env);
  assert_true(r.force_path_style);
  assert_string_equal(r.region, "us-east-1");
  dbs_replica_config_free(&r);
  r = s3_replica("      - url: s3://b/p\n        force-path-style: false\n");
  dbs_litestream_config_apply_env(&r);
  assert_false(r.force_path_style);
  dbs_replica_config_free(&r);
  /* The config's endpoint wins over the variable. */
  r = s3_replica("      - type: s3\n        bucket: b\n"
                 "        endpoint: http://mine:1\n");
  dbs_litestream_config_apply_env(&r);
  assert_string_equal(r.endpoint, "http://mine:1");
  assert_false(r.endpoint_from_env);
  dbs_replica_config_free(&r);
  /* Region: config, then AWS_REGION. */
  setenv("AWS_REGION", "auto", 1);
  r = s3_replica("      - url: s3://b/p\n");
  dbs_litestream_config_apply_env(&r);
  assert_string_equal(r.region, "auto");
  dbs_replica_config_free(&r);
  r = s3_replica("      - url: s3://b/p\n        region: eu-west-3\n");
  dbs_litestream_config_apply_env(&r);
  assert_string_equal(r.region, "eu-west-3");
  dbs_replica_config_free(&r);
  /* File replicas are left alone. */
  r = s3_replica("      - path: /x\n");
  dbs_litestream_config_apply_env(&r);
  assert_null(r.access_key_id);
  dbs_replica_config_free(&r);
  clear_env();
}

/*
 * Random documents from YAML and litestream.yml tokens: every one must
 * parse or fail cleanly (run under ASan in CI), and a failure must say
 * where.
 */
static void test_random_documents(void** state) {
  (void)state;
  static const char* const tok[] = {
      "dbs:",
      "\n",
      "\n  ",
      "\n    ",
      "\n      ",
      "- ",
      "path: ",
      "/a.db",
      "~/x",
      "rel",
      "replicas:",
      "replica:",
      "url: ",
      "s3://b/p",
      "file:///r",
      "s3://b.localhost:9/x",
      "type: ",
      "s3",
      "file",
      "bucket: ",
      "$X",
      "${X}",
      "${",
      "$",
      "}",
      "&a ",
      "*a",
      "<<: ",
      "{",
      "}",
      "[",
      "]",
      ", ",
      ": ",
      "\"",
      "'",
      "#",
      "age: {identities: [k]}",
      "~",
      "name: ",
      "n",
      "force-path-style: ",
      "yes",
      "\"true\"",
      "retention: ",
      "24h",
      "endpoint: ",
      "http://e:1",
      "%",
      "\t",
      "---\n",
      "? ",
      "!!str ",
      "replica: {path: /x}",
      "snapshot: {interval: 1h, retention: 0s}",
      "shutdown-sync-timeout: 5s",
      "levels: [{interval: 10s}, {interval: 0}]",
      "l0-retention: -1s",
      "max-checkpoint-page-count: 9",
      "dir: /d",
  };
  const size_t ntok = sizeof(tok) / sizeof(tok[0]);
  unsigned seed = 12345, nok = 0, nrepl = 0;
  setenv("X", "val", 1);
  for (int i = 0; i < 20000; i++) {
    char doc[512];
    size_t n = 0;
    if (i % 2 == 0) {
      /* Replica entries built from real key/value lines, with junk. */
      static const char* const kv[] = {
          "url: s3://b/p",
          "url: s3://$X/p",
          "url: file:///r",
          "url: gcs://g/p",
          "url: s3://b.localhost:9/x",
          "url: ${X}",
          "type: s3",
          "type: file",
          "type: sftp",
          "bucket: $X",
          "bucket: b",
          "path: /x",
          "path: ~/x",
          "path: s3://no",
          "name: n$X",
          "name: same",
          "endpoint: e:1",
          "region: ${X}",
          "force-path-style: yes",
          "skip-verify: on",
          "age: {identities: [k]}",
          "access-key-id: ${X}x",
          "retention: 1h",
          "host: h",
          "user: u",
          "<<: {bucket: m}",
          "replica: {}",
          "sync-interval: 0s",
          "snapshot-interval: 1h",
          "url: gs://g/p",
      };
      n = (size_t)snprintf(doc, sizeof(doc),
                           "dbs:\n  - path: /a.db\n    replicas:\n");
      int nrep = 1 + (int)(rand_r(&seed) % 3);
      for (int r = 0; r < nrep; r++) {
        int nkv = 1 + (int)(rand_r(&seed) % 4);
        for (int k = 0; k < nkv; k++) {
          const char* t =
              rand_r(&seed) % 10 == 0
                  ? tok[rand_r(&seed) % ntok]
                  : kv[rand_r(&seed) % (sizeof(kv) / sizeof(kv[0]))];
          int w = snprintf(doc + n, sizeof(doc) - n, "      %s%s\n",
                           k == 0 ? "- " : "  ", t);
          if (w < 0 || (size_t)w >= sizeof(doc) - n)
            break;
          n += (size_t)w;
        }
      }
    } else {
      int len = 1 + (int)(rand_r(&seed) % 24);
      for (int k = 0; k < len; k++) {
        const char* t = tok[rand_r(&seed) % ntok];
        size_t tl = strlen(t);
        if (n + tl >= sizeof(doc))
          break;
        memcpy(doc + n, t, tl);
        n += tl;
      }
    }
    doc[n] = '\0';
    struct dbs_litestream_config c;
    /* Each document under the rules of 0.3, 0.5 and "any" in turn. */
    static const enum dbs_ls_rules rules[] = {
        DBS_LS_RULES_V03, DBS_LS_RULES_V05, DBS_LS_RULES_ANY};
    int rc = dbs_litestream_config_parse_rules(
        doc, n, (i & 1) == 0, rules[(i / 2) % 3], &c, err, sizeof(err));
    if (rc != 0) {
      assert_int_equal(rc, -EINVAL);
      assert_non_null(strstr(err, "litestream.yml:"));
      assert_int_equal(c.ndbs, 0);
    } else {
      nok++;
      for (size_t d = 0; d < c.ndbs; d++)
        nrepl += (unsigned)c.dbs[d].nreplicas;
    }
    dbs_litestream_config_free(&c);
  }
  unsetenv("X");
  print_message("random documents: %u of 20000 parsed, %u replicas\n", nok,
                nrepl);
  assert_true(nok > 1000);
  assert_true(nrepl > 500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expand_go_rules),
      cmocka_unit_test(test_db_paths),
      cmocka_unit_test(test_replica_types_and_names),
      cmocka_unit_test(test_s3_fields_and_path_style),
      cmocka_unit_test(test_parse_url_providers),
      cmocka_unit_test(test_credentials_and_secrets),
      cmocka_unit_test(test_bucket_empty),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_rules_v05_and_any),
      cmocka_unit_test(test_sqlite_prefix),
      cmocka_unit_test(test_meta_path_v05),
      cmocka_unit_test(test_url_query_semicolon),
      cmocka_unit_test(test_yaml_details),
      cmocka_unit_test(test_find_db),
      cmocka_unit_test(test_apply_env),
      cmocka_unit_test(test_random_documents),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
