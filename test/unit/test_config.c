/* Unit tests for config: options, environment variables, precedence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

static const char* const env_vars[] = {
    "DBSETUP_REPLICATE",
    "DBSETUP_STOP_TIMEOUT",
    "DBSETUP_REPLICATOR_STOP_TIMEOUT",
    "DBSETUP_SIGNAL_CHILD_ONLY",
    "DBSETUP_LOG_LEVEL",
    "DBSETUP_VOLUME",
    "DBSETUP_LITESTREAM_CONFIG",
    "LITESTREAM_CONFIG",
    "DBSETUP_PARALLELISM",
    "DBSETUP_VERIFY",
    "DBSETUP_MIGRATE_FAILURE",
    "DBSETUP_NO_RESTORE",
    "DBSETUP_USER",
    "DBSETUP_LITEFS_REPLICA_WAIT",
    "DBSETUP_NO_REPLICATE",
};

static int reset(void** state) {
  for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
    unsetenv(env_vars[i]);
  dbs_log_set_level(DBS_LOG_INFO);
  return 0;
}

/* Parses a NULL-terminated list of arguments (argv[0] is added). */
#define PARSE(cfg, ...)                                                        \
  parse_args(cfg, (const char*[]){"dbsetup", __VA_ARGS__, NULL})

static char* argbuf[64];
static int parse_args(struct dbs_config* cfg, const char** args) {
  int argc = 0;
  while (args[argc] != NULL) {
    argbuf[argc] = (char*)args[argc];
    argc++;
  }
  argbuf[argc] = NULL;
  return dbs_config_parse(cfg, argc, argbuf);
}

static void test_defaults(void** state) {
  struct dbs_config c;
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_string_equal(c.argv[0], "app");
  assert_null(c.argv[1]);
  assert_null(c.replicate);
  assert_int_equal(c.stop_timeout_ms, 7000);
  assert_int_equal(c.replicator_stop_timeout_ms, DBS_CONFIG_TIMEOUT_AUTO);
  assert_false(c.signal_child_only);
  assert_string_equal(c.volume, "/data");
  assert_int_equal(c.parallelism, 8);
  assert_int_equal(c.verify, DBS_VERIFY_QUICK);
  assert_int_equal(c.migrate_failure, DBS_MIGRATE_FAILURE_EXIT);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_INFO);
}

static void test_supervision_flags(void** state) {
  struct dbs_config c;
  assert_int_equal(PARSE(&c, "--replicate", "litestream replicate",
                         "--stop-timeout", "0.5", "--replicator-stop-timeout=3",
                         "--signal-child-only", "--", "npm", "run", "start"),
                   DBS_CONFIG_RUN);
  assert_string_equal(c.replicate, "litestream replicate");
  assert_int_equal(c.stop_timeout_ms, 500);
  assert_int_equal(c.replicator_stop_timeout_ms, 3000);
  assert_true(c.signal_child_only);
  assert_string_equal(c.argv[0], "npm");
  assert_string_equal(c.argv[2], "start");
  assert_null(c.argv[3]);
}

static void test_stops_at_first_non_option(void** state) {
  struct dbs_config c;
  assert_int_equal(PARSE(&c, "--stop-timeout", "3", "node", "server.js",
                         "--stop-timeout", "9", "-v"),
                   DBS_CONFIG_RUN);
  assert_int_equal(c.stop_timeout_ms, 3000);
  assert_string_equal(c.argv[0], "node");
  assert_string_equal(c.argv[2], "--stop-timeout");
  assert_string_equal(c.argv[4], "-v");
  assert_int_equal(dbs_log_get_level(), DBS_LOG_INFO); /* the app's -v */
  /* "--" lets the command itself start with a dash. */
  assert_int_equal(PARSE(&c, "--", "-weird"), DBS_CONFIG_RUN);
  assert_string_equal(c.argv[0], "-weird");
}

static void test_env_and_flag_precedence(void** state) {
  struct dbs_config c;
  setenv("DBSETUP_STOP_TIMEOUT", "1.25", 1);
  setenv("DBSETUP_REPLICATOR_STOP_TIMEOUT", "4", 1);
  setenv("DBSETUP_SIGNAL_CHILD_ONLY", "1", 1);
  setenv("DBSETUP_REPLICATE", "from-env", 1);
  assert_int_equal(PARSE(&c, "--stop-timeout", "2", "app"), DBS_CONFIG_RUN);
  assert_int_equal(c.stop_timeout_ms, 2000);            /* the flag wins */
  assert_int_equal(c.replicator_stop_timeout_ms, 4000); /* env */
  assert_true(c.signal_child_only);
  assert_string_equal(c.replicate, "from-env");
  assert_int_equal(PARSE(&c, "--replicate", "", "app"), DBS_CONFIG_RUN);
  assert_null(c.replicate); /* empty means none */
  setenv("DBSETUP_SIGNAL_CHILD_ONLY", "off", 1);
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_false(c.signal_child_only);
  setenv("DBSETUP_SIGNAL_CHILD_ONLY", "maybe", 1);
  assert_int_equal(PARSE(&c, "app"), -EINVAL);
}

/* --litefs-replica-wait / DBSETUP_LITEFS_REPLICA_WAIT: 300 s by default,
 * the flag wins, 0 to 86400 s, anything else refused. */
static void test_litefs_replica_wait(void** state) {
  struct dbs_config c;
  (void)state;
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_int_equal(c.litefs_replica_wait_ms, 300000);
  setenv("DBSETUP_LITEFS_REPLICA_WAIT", "2", 1);
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_int_equal(c.litefs_replica_wait_ms, 2000);
  assert_int_equal(PARSE(&c, "--litefs-replica-wait", "0", "app"),
                   DBS_CONFIG_RUN);
  assert_int_equal(c.litefs_replica_wait_ms, 0); /* the flag wins */
  assert_int_equal(PARSE(&c, "--litefs-replica-wait=86400", "app"),
                   DBS_CONFIG_RUN);
  assert_int_equal(c.litefs_replica_wait_ms, 86400000);
  static const char* const bad[] = {"", "-1", "86401", "2s", "abc", " 5"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(PARSE(&c, "--litefs-replica-wait", bad[i], "app"),
                     -EINVAL);
  setenv("DBSETUP_LITEFS_REPLICA_WAIT", "soon", 1);
  assert_int_equal(PARSE(&c, "--litefs-replica-wait", "5", "app"), -EINVAL);
}

static void test_litestream_config_precedence(void** state) {
  struct dbs_config c;
  setenv("LITESTREAM_CONFIG", "/etc/ls.yml", 1);
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_string_equal(c.litestream_config, "/etc/ls.yml");
  setenv("DBSETUP_LITESTREAM_CONFIG", "/app/ls.yml", 1);
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_string_equal(c.litestream_config, "/app/ls.yml");
  assert_int_equal(PARSE(&c, "--litestream-config", "/x.yml", "app"),
                   DBS_CONFIG_RUN);
  assert_string_equal(c.litestream_config, "/x.yml");
}

static void test_log_levels(void** state) {
  struct dbs_config c;
  setenv("DBSETUP_LOG_LEVEL", "error", 1);
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_ERROR);
  assert_int_equal(PARSE(&c, "-v", "app"), DBS_CONFIG_RUN);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_DEBUG);
  assert_int_equal(PARSE(&c, "--quiet", "app"), DBS_CONFIG_RUN);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_WARN);
  setenv("DBSETUP_LOG_LEVEL", "loud", 1);
  assert_int_equal(PARSE(&c, "app"), -EINVAL);
}

static void test_usage_errors(void** state) {
  struct dbs_config c;
  assert_int_equal(parse_args(&c, (const char*[]){"dbsetup", NULL}), -EINVAL);
  assert_int_equal(PARSE(&c, "--stop-timeout", "3"), -EINVAL); /* no app */
  assert_int_equal(PARSE(&c, "--no-such-option", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "-x", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "app", "--stop-timeout"), DBS_CONFIG_RUN);
  assert_int_equal(PARSE(&c, "--stop-timeout"), -EINVAL); /* missing value */
  static const char* const bad_secs[] = {"",    "-1",  "abc",  "86401", "1s",
                                         "nan", "inf", "0x10", "1e3",   " 5"};
  for (size_t i = 0; i < sizeof(bad_secs) / sizeof(bad_secs[0]); i++)
    assert_int_equal(PARSE(&c, "--stop-timeout", bad_secs[i], "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--parallelism", "0", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--parallelism", "65", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--verify", "sometimes", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--migrate-failure", "ignore", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--volume", "", "app"), -EINVAL);
  /* Long options are written in full: getopt's prefixes are refused. */
  assert_int_equal(PARSE(&c, "--stop", "3", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--stop=3", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--verb", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--stop-timeout=3", "--verbose", "app"),
                   DBS_CONFIG_RUN);
  assert_int_equal(c.stop_timeout_ms, 3000);
  assert_true(dbs_config_long_in_full("--db", "db"));
  assert_true(dbs_config_long_in_full("--db=x.db", "db"));
  assert_true(dbs_config_long_in_full("-config", "config"));
  assert_false(dbs_config_long_in_full("--d", "db"));
  assert_false(dbs_config_long_in_full("--dbx", "db"));
  assert_false(dbs_config_long_in_full("-conf=x", "config"));
  assert_false(dbs_config_long_in_full("db", "db"));
}

/* --replicate CMD and --no-replicate contradict each other, from flags or
 * variables alike: one is refused, not read one way here and one way there. */
static void test_replicate_conflict(void** state) {
  struct dbs_config c;
  assert_int_equal(PARSE(&c, "--replicate", "ls r", "--no-replicate", "app"),
                   -EINVAL);
  setenv("DBSETUP_NO_REPLICATE", "1", 1);
  assert_int_equal(PARSE(&c, "--replicate", "ls r", "app"), -EINVAL);
  assert_int_equal(PARSE(&c, "--help"), DBS_CONFIG_HELP);
  unsetenv("DBSETUP_NO_REPLICATE");
  setenv("DBSETUP_REPLICATE", "ls r", 1);
  assert_int_equal(PARSE(&c, "--no-replicate", "app"), -EINVAL);
  unsetenv("DBSETUP_REPLICATE");
  assert_int_equal(PARSE(&c, "--no-replicate", "app"), DBS_CONFIG_RUN);
  assert_int_equal(PARSE(&c, "--replicate", "ls r", "app"), DBS_CONFIG_RUN);
}

static void test_help_and_version(void** state) {
  struct dbs_config c;
  assert_int_equal(PARSE(&c, "--help"), DBS_CONFIG_HELP);
  assert_int_equal(PARSE(&c, "-h"), DBS_CONFIG_HELP);
  assert_int_equal(PARSE(&c, "--version"), DBS_CONFIG_VERSION);
  char* text = NULL;
  size_t len = 0;
  FILE* f = open_memstream(&text, &len);
  assert_non_null(f);
  dbs_config_usage(f);
  fclose(f);
  /* Every supervision option with its variable, and the exit statuses. */
  assert_non_null(strstr(text, "--stop-timeout SECS"));
  assert_non_null(strstr(text, "[DBSETUP_STOP_TIMEOUT]"));
  assert_non_null(strstr(text, "[DBSETUP_REPLICATOR_STOP_TIMEOUT]"));
  assert_non_null(strstr(text, "[DBSETUP_SIGNAL_CHILD_ONLY]"));
  assert_non_null(strstr(text, "[DBSETUP_REPLICATE]"));
  assert_non_null(strstr(text, "[DBSETUP_LOG_LEVEL]"));
  assert_non_null(strstr(text, "128+N"));
  assert_non_null(strstr(text, "126"));
  assert_non_null(strstr(text, "127"));
  assert_non_null(strstr(text, "64 "));
  assert_non_null(strstr(text, "70 "));
  free(text);
}

static void test_seconds_and_bools(void** state) {
  unsigned ms;
  bool b;
  assert_int_equal(dbs_config_parse_seconds("0", &ms), 0);
  assert_int_equal(ms, 0);
  assert_int_equal(dbs_config_parse_seconds("0.5", &ms), 0);
  assert_int_equal(ms, 500);
  assert_int_equal(dbs_config_parse_seconds("86400", &ms), 0);
  assert_int_equal(ms, 86400000);
  assert_int_equal(dbs_config_parse_seconds("7.", &ms), 0);
  assert_int_equal(ms, 7000);
  assert_int_equal(dbs_config_parse_seconds(".25", &ms), 0);
  assert_int_equal(ms, 250);
  assert_int_equal(dbs_config_parse_seconds(".", &ms), -EINVAL);
  assert_int_equal(dbs_config_parse_seconds(NULL, &ms), -EINVAL);
  static const char* const yes[] = {"1", "true", "YES", "on"};
  static const char* const no[] = {"0", "False", "no", "off", ""};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(dbs_config_parse_bool(yes[i], &b), 0);
    assert_true(b);
  }
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(dbs_config_parse_bool(no[i], &b), 0);
    assert_false(b);
  }
  assert_int_equal(dbs_config_parse_bool("2", &b), -EINVAL);
}

/* The value parsers every CLI (boot, restore, generations, migrate)
 * shares: one rule each. */
static void test_shared_value_parsers(void** state) {
  (void)state;
  unsigned n = 0;
  static const char* const good[] = {"1", "8", "64", "064"};
  static const unsigned want[] = {1, 8, 64, 64};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    assert_int_equal(dbs_config_parse_parallelism(good[i], &n), 0);
    assert_int_equal(n, want[i]);
  }
  /* 65..256 were accepted by dbsetup restore before: one bound now. */
  static const char* const bad[] = {
      "0",  "65", "256", "",     "+5",
      " 5", "5x", "-1",  "0x10", "99999999999999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    n = 7;
    assert_int_equal(dbs_config_parse_parallelism(bad[i], &n), -EINVAL);
    assert_int_equal(n, 7);
  }
  enum dbs_verify v = DBS_VERIFY_NONE;
  assert_int_equal(dbs_config_parse_verify("full", &v), 0);
  assert_int_equal(v, DBS_VERIFY_FULL);
  assert_int_equal(dbs_config_parse_verify("quick", &v), 0);
  assert_int_equal(v, DBS_VERIFY_QUICK);
  assert_int_equal(dbs_config_parse_verify("none", &v), 0);
  assert_int_equal(v, DBS_VERIFY_NONE);
  assert_int_equal(dbs_config_parse_verify("Full", &v), -EINVAL);
  assert_int_equal(dbs_config_parse_verify("", &v), -EINVAL);
  assert_int_equal(v, DBS_VERIFY_NONE);
  dbs_log_set_level(DBS_LOG_INFO);
  assert_int_equal(dbs_config_set_log_level("warning"), 0);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_WARN);
  assert_int_equal(dbs_config_set_log_level(""), 0); /* unset: unchanged */
  assert_int_equal(dbs_config_set_log_level(NULL), 0);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_WARN);
  assert_int_equal(dbs_config_set_log_level("loud"), -EINVAL);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_WARN);
  assert_string_equal(DBS_CONFIG_DEFAULT_VOLUME, "/data");
}

/* An empty DBSETUP_LOG_LEVEL is an unset one, as for dbsetup restore and
 * dbsetup migrate (the boot refused it with exit 64 on 807b48e). */
static void test_empty_log_level_env(void** state) {
  (void)state;
  struct dbs_config c;
  setenv("DBSETUP_LOG_LEVEL", "", 1);
  assert_int_equal(PARSE(&c, "app"), DBS_CONFIG_RUN);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_INFO);
  assert_int_equal(PARSE(&c, "-q", "app"), DBS_CONFIG_RUN);
  assert_int_equal(dbs_log_get_level(), DBS_LOG_WARN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_defaults, reset),
      cmocka_unit_test_setup(test_supervision_flags, reset),
      cmocka_unit_test_setup(test_stops_at_first_non_option, reset),
      cmocka_unit_test_setup(test_env_and_flag_precedence, reset),
      cmocka_unit_test_setup(test_litefs_replica_wait, reset),
      cmocka_unit_test_setup(test_litestream_config_precedence, reset),
      cmocka_unit_test_setup(test_log_levels, reset),
      cmocka_unit_test_setup(test_usage_errors, reset),
      cmocka_unit_test_setup(test_replicate_conflict, reset),
      cmocka_unit_test_setup(test_help_and_version, reset),
      cmocka_unit_test_setup(test_seconds_and_bools, reset),
      cmocka_unit_test_setup(test_shared_value_parsers, reset),
      cmocka_unit_test_setup(test_empty_log_level_env, reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
