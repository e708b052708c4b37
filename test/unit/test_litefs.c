/* Unit tests for lib/litefs.c: mountinfo lines, litefs.yml search and
 * expansion, /info JSON, the API address, and GET /info's failures on
 * real loopback sockets (the real LiteFS answers it in the integration
 * test litefs_detect). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "litefs.h"

static char tmp[256];

static void write_file(const char* path, const char* text) {
  FILE* fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static int setup(void** state) {
  (void)state;
  snprintf(tmp, sizeof(tmp), "/tmp/dbs-litefs-unit.XXXXXX");
  assert_non_null(mkdtemp(tmp));
  return 0;
}

static int teardown(void** state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
  assert_int_equal(system(cmd), 0);
  return 0;
}

/* ---- mountinfo ---- */

static void test_mountinfo_litefs(void** state) {
  (void)state;
  char* dir;
  bool ao;
  /* As LiteFS v0.5.14 mounts through fusermount3 (seen on this machine). */
  assert_int_equal(dbs_litefs_mountinfo_line(
                       "1071 28 0:93 / /litefs rw,nosuid,nodev,relatime "
                       "shared:611 - fuse litefs rw,user_id=0,group_id=0\n",
                       &dir, &ao),
                   1);
  assert_string_equal(dir, "/litefs");
  assert_false(ao);
  free(dir);
  assert_int_equal(
      dbs_litefs_mountinfo_line("52 28 0:50 / /my\\040dir/mnt rw - fuse litefs "
                                "rw,user_id=0,group_id=0,allow_other",
                                &dir, &ao),
      1);
  assert_string_equal(dir, "/my dir/mnt");
  assert_true(ao);
  free(dir);
  /* No optional fields; the subtype form. */
  assert_int_equal(dbs_litefs_mountinfo_line(
                       "52 28 0:50 / /x rw - fuse.litefs /src rw", &dir, &ao),
                   1);
  assert_string_equal(dir, "/x");
  free(dir);
}

static void test_mountinfo_other(void** state) {
  (void)state;
  char* dir;
  bool ao;
  assert_int_equal(dbs_litefs_mountinfo_line(
                       "52 28 0:50 / /data rw - ext4 /dev/sda1 rw", &dir, &ao),
                   0);
  assert_null(dir);
  /* bindfs of a directory called litefs: source is the path. */
  assert_int_equal(dbs_litefs_mountinfo_line(
                       "52 28 0:50 / /b rw - fuse /srv/litefs rw", &dir, &ao),
                   0);
  /* "litefs" as a mount point or option is not the source. */
  assert_int_equal(dbs_litefs_mountinfo_line(
                       "52 28 0:50 / litefs rw - fuse sshfs litefs", &dir, &ao),
                   0);
  assert_int_equal(dbs_litefs_mountinfo_line("garbage", &dir, &ao), -EINVAL);
  /* No super options after the source (found by fuzz_litefs: it read past
   * the fields it had). */
  assert_int_equal(dbs_litefs_mountinfo_line(
                       "52 28 0:50 / /x rw - fuse.litefs /s", &dir, &ao),
                   -EINVAL);
  assert_int_equal(dbs_litefs_mountinfo_line("1 2 3 4 5 6 7 8 9", &dir, &ao),
                   -EINVAL);
}

static void test_mounts_file(void** state) {
  (void)state;
  char path[300];
  struct dbs_litefs_mount* v;
  size_t n;
  snprintf(path, sizeof(path), "%s/mountinfo", tmp);
  write_file(path, "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                   "30 22 0:40 / /a/mnt rw shared:1 - fuse litefs rw\n"
                   "31 22 0:41 / /b/mnt rw - fuse litefs rw,allow_other\n");
  assert_int_equal(dbs_litefs_mounts(path, &v, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(v[0].dir, "/a/mnt");
  assert_false(v[0].allow_other);
  assert_string_equal(v[1].dir, "/b/mnt");
  assert_true(v[1].allow_other);
  dbs_litefs_mounts_free(v, n);
  snprintf(path, sizeof(path), "%s/none", tmp);
  assert_int_equal(dbs_litefs_mounts(path, &v, &n), -ENOENT);
  /* This process's own table parses (whatever it holds). */
  assert_int_equal(dbs_litefs_mounts(NULL, &v, &n), 0);
  dbs_litefs_mounts_free(v, n);
}

/* ---- expansion ---- */

static void expect_expand(const char* in, const char* want) {
  char* got = dbs_litefs_expand_env(in);
  assert_non_null(got);
  if (strcmp(got, want) != 0)
    fail_msg("expand [%s]: got [%s], want [%s]", in, got, want);
  free(got);
}

static void test_expand(void** state) {
  (void)state;
  setenv("LFS_A", "iad", 1);
  setenv("LFS_B", "iad", 1);
  setenv("LFS_C", "ord", 1);
  unsetenv("LFS_UNSET");
  expect_expand("dir: $LFS_A/x", "dir: iad/x");
  expect_expand("${LFS_A}x", "iadx");
  expect_expand("[$LFS_UNSET]", "[]");
  expect_expand("${LFS_A == LFS_B}", "true");
  expect_expand("${LFS_A == LFS_C}", "false");
  expect_expand("${LFS_A != LFS_C}", "true");
  expect_expand("${ LFS_A == \"iad\" }", "true");
  expect_expand("${LFS_A=='ord'}", "false");
  expect_expand("${LFS_A != 'ord'}", "true");
  expect_expand("${LFS_UNSET == LFS_UNSET2}", "true"); /* "" == "" */
  /* Not a comparison: looked up as a (missing) variable name. */
  expect_expand("${LFS_A == b c}", "");
  /* Go's os.Expand edge cases. */
  expect_expand("cost $", "cost $");
  expect_expand("a $ b", "a $ b");
  expect_expand("a $/b", "a $/b");
  expect_expand("x${}y", "xy");
  expect_expand("x${LFS_A", "xLFS_A");
  expect_expand("$$", "");
  expect_expand("${1}", "");
  expect_expand("$1x", "x");
  expect_expand("no dollars", "no dollars");
}

/* ---- litefs.yml ---- */

static void test_config_explicit(void** state) {
  (void)state;
  char path[300], err[512];
  struct dbs_litefs_config c;
  snprintf(path, sizeof(path), "%s/l.yml", tmp);
  setenv("LFS_REGION", "iad", 1);
  setenv("LFS_PRIMARY", "ord", 1);
  write_file(path, "fuse:\n  dir: \"${LFS_DIR_UNSET}/litefs\"\n"
                   "  allow-other: yes\n"
                   "data: { dir: /data/litefs }\n"
                   "http: { addr: \"127.0.0.1:20203\" }\n"
                   "lease:\n  type: static\n"
                   "  candidate: ${LFS_REGION == LFS_PRIMARY}\n"
                   "exec:\n  - cmd: \"dbsetup -- npm start\"\n");
  assert_int_equal(dbs_litefs_config_load(path, &c, err, sizeof(err)), 0);
  assert_string_equal(c.path, path);
  assert_string_equal(c.fuse_dir, "/litefs");
  assert_true(c.allow_other);
  assert_string_equal(c.data_dir, "/data/litefs");
  assert_string_equal(c.http_addr, "127.0.0.1:20203");
  assert_string_equal(c.lease_type, "static");
  assert_false(c.candidate);
  assert_false(c.skip_sync);
  dbs_litefs_config_free(&c);

  /* Defaults: LiteFS's own. */
  write_file(path, "lease: { type: consul }\n");
  assert_int_equal(dbs_litefs_config_load(path, &c, err, sizeof(err)), 0);
  assert_string_equal(c.fuse_dir, "/litefs");
  assert_string_equal(c.data_dir, "/var/lib/litefs");
  assert_string_equal(c.http_addr, ":20202");
  assert_true(c.candidate);
  assert_false(c.allow_other);
  dbs_litefs_config_free(&c);

  write_file(path, "lease: { candidate: maybe }\n");
  assert_int_equal(dbs_litefs_config_load(path, &c, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "lease.candidate is not true or false"));
  assert_non_null(strstr(err, path));
  write_file(path, "fuse: [1, 2\n");
  assert_int_equal(dbs_litefs_config_load(path, &c, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "not YAML"));
  write_file(path, "- a\n");
  assert_int_equal(dbs_litefs_config_load(path, &c, err, sizeof(err)), -EINVAL);
  snprintf(path, sizeof(path), "%s/missing.yml", tmp);
  assert_int_equal(dbs_litefs_config_load(path, &c, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "missing.yml"));
}

static void test_config_search(void** state) {
  (void)state;
  char old[PATH_MAX], path[300], err[512];
  struct dbs_litefs_config c;
  assert_non_null(getcwd(old, sizeof(old)));
  assert_int_equal(chdir(tmp), 0);
  snprintf(path, sizeof(path), "%s/litefs.yml", tmp);
  write_file(path, "fuse: { dir: /from-cwd }\n");
  assert_int_equal(dbs_litefs_config_load(NULL, &c, err, sizeof(err)), 0);
  assert_string_equal(c.fuse_dir, "/from-cwd");
  assert_string_equal(c.path, path); /* absolute, as LiteFS reports it */
  dbs_litefs_config_free(&c);
  assert_int_equal(chdir(old), 0);
}

/* ---- /info ---- */

static void test_parse_info(void** state) {
  (void)state;
  struct dbs_litefs_info i;
  /* LiteFS v0.5.14's bodies (primary, then replica). */
  const char* p = "{\"clusterID\":\"LFSC1234\",\"isPrimary\":true,"
                  "\"candidate\":true,\"path\":\"/a/mnt\","
                  "\"primary\":{\"hostname\":\"node-a\"}}\n";
  assert_int_equal(dbs_litefs_parse_info(p, strlen(p), &i), 0);
  assert_true(i.is_primary);
  assert_true(i.candidate);
  assert_string_equal(i.primary_hostname, "node-a");
  const char* r = "{\n  \"isPrimary\": false, \"candidate\": false,\n"
                  "  \"path\": \"/x \\\"isPrimary\\\":true\", \"primary\": "
                  "{}, \"more\": [1, {\"a\": null}, -2.5e3]\n}";
  assert_int_equal(dbs_litefs_parse_info(r, strlen(r), &i), 0);
  assert_false(i.is_primary);
  assert_false(i.candidate);
  assert_string_equal(i.primary_hostname, "");
  const char* bad[] = {"",
                       "{}",
                       "{\"x\":{\"isPrimary\":true}}",
                       "{\"isPrimary\":\"true\"}",
                       "{\"isPrimary\":true} x",
                       "{\"isPrimary\":true",
                       "[true]",
                       NULL};
  for (int k = 0; bad[k] != NULL; k++)
    if (dbs_litefs_parse_info(bad[k], strlen(bad[k]), &i) != -EINVAL)
      fail_msg("accepted [%s]", bad[k]);
}

static void expect_addr(const char* in, const char* want) {
  char buf[128];
  assert_int_equal(dbs_litefs_api_addr(in, buf, sizeof(buf)), 0);
  assert_string_equal(buf, want);
}

static void test_api_addr(void** state) {
  (void)state;
  char buf[128];
  expect_addr(":20202", "127.0.0.1:20202");
  expect_addr("0.0.0.0:1", "127.0.0.1:1");
  expect_addr("[::]:20202", "127.0.0.1:20202");
  expect_addr("localhost:8", "127.0.0.1:8");
  expect_addr("127.0.0.2:20203", "127.0.0.2:20203");
  expect_addr("[::1]:20202", "[::1]:20202");
  assert_int_equal(dbs_litefs_api_addr("20202", buf, sizeof(buf)), -EINVAL);
  assert_int_equal(dbs_litefs_api_addr(":", buf, sizeof(buf)), -EINVAL);
  assert_int_equal(dbs_litefs_api_addr(":99999", buf, sizeof(buf)), -EINVAL);
  assert_int_equal(
      dbs_litefs_api_addr("myhost.internal:20202", buf, sizeof(buf)), -EINVAL);
}

/* A listening socket on 127.0.0.1; its port in *port. */
static int listen_loopback(int* port, bool listening) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof(a);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr*)&a, sizeof(a)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr*)&a, &l), 0);
  if (listening)
    assert_int_equal(listen(fd, 4), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

static void test_get_info_failures(void** state) {
  (void)state;
  struct dbs_litefs_info i;
  char addr[64], err[256];
  int port;
  /* Bound, not listening: refused. */
  int fd = listen_loopback(&port, false);
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  assert_int_equal(dbs_litefs_get_info(addr, 1000, &i, err, sizeof(err)),
                   -ECONNREFUSED);
  assert_non_null(strstr(err, "/info"));
  close(fd);
  /* Listening, never answering: the deadline holds. */
  fd = listen_loopback(&port, true);
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  assert_int_equal(dbs_litefs_get_info(addr, 200, &i, err, sizeof(err)),
                   -ETIMEDOUT);
  assert_non_null(strstr(err, "timed out"));
  close(fd);
  assert_int_equal(dbs_litefs_get_info("nonsense", 200, &i, err, sizeof(err)),
                   -EINVAL);
}

/* ---- refusals ---- */

static void test_refuse_setup(void** state) {
  (void)state;
  char err[2048];
  struct dbs_litefs_mount m = {.dir = "/litefs"};
  struct dbs_litefs_config c = {.path = "/etc/litefs.yml",
                                .fuse_dir = "/litefs",
                                .data_dir = "/var/lib/litefs"};
  /* Nothing LiteFS: nothing refused. */
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite", "/data", false,
                                           NULL, 0, NULL, err, sizeof(err)),
                   0);
  /* litefs.yml in the image, no mount, DB elsewhere: a dev setup. */
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite", "/data", false,
                                           NULL, 0, &c, err, sizeof(err)),
                   0);
  /* A LiteFS mount for something else, dbsetup not under litefs. */
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite", "/data", false, &m,
                                           1, NULL, err, sizeof(err)),
                   0);
  assert_int_equal(dbs_litefs_refuse_setup("/var/lib/litefs/dbs/x/database",
                                           "/data", true, &m, 1, &c, err,
                                           sizeof(err)),
                   78);
  assert_non_null(strstr(err, "inside LiteFS's data.dir /var/lib/litefs"));
  assert_non_null(strstr(err, "/litefs/database"));
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite", "/litefs/v", false,
                                           &m, 1, NULL, err, sizeof(err)),
                   78);
  assert_non_null(strstr(err, "the volume /litefs/v is inside the LiteFS"));
  assert_int_equal(dbs_litefs_refuse_setup("/litefs", "/litefs", false, NULL, 0,
                                           &c, err, sizeof(err)),
                   78);
  /* dbsetup as litefs's exec command with a database: served by the mount
   * (linked there). */
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite", "/data", true, &m,
                                           1, &c, err, sizeof(err)),
                   0);
  assert_string_equal(dbs_litefs_serving("/app/db.sqlite", true, &m, 1, &c),
                      "/litefs");
  assert_null(dbs_litefs_serving("/app/db.sqlite", false, &m, 1, &c));
  /* The DB in the mount, whoever the parent is. */
  assert_int_equal(dbs_litefs_refuse_setup("/litefs/db.sqlite", "/data", false,
                                           &m, 1, NULL, err, sizeof(err)),
                   0);
  assert_string_equal(
      dbs_litefs_serving("/litefs/db.sqlite", false, &m, 1, NULL), "/litefs");
  /* LiteFS is flat; names it keeps or takes for side files. */
  assert_int_equal(dbs_litefs_refuse_setup("/litefs/d/db.sqlite", "/data",
                                           false, &m, 1, NULL, err,
                                           sizeof(err)),
                   78);
  assert_non_null(strstr(err, "in a subdirectory of the LiteFS mount"));
  static const char* const bad[] = {
      "/app/x-wal",  "/app/x-shm",    "/app/x-journal", "/app/x-pos",
      "/app/x-lock", "/app/.primary", "/app/.lag"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(dbs_litefs_refuse_setup(bad[i], "/data", true, &m, 1, &c,
                                             err, sizeof(err)),
                     78);
  assert_int_equal(dbs_litefs_check_name("x-walrus", err, sizeof(err)), 0);
  assert_int_equal(dbs_litefs_check_name(".lagoon", err, sizeof(err)), 0);
  /* Not served: any name is the app's business. */
  assert_int_equal(dbs_litefs_refuse_setup("/app/x-wal", "/data", false, &m, 1,
                                           &c, err, sizeof(err)),
                   0);
  /* The volume (lock, temporary files) in data.dir/dbs. */
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite",
                                           "/var/lib/litefs/dbs", true, &m, 1,
                                           &c, err, sizeof(err)),
                   78);
  assert_non_null(strstr(err, "inside /var/lib/litefs/dbs"));
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite", "/var/lib/litefs",
                                           true, &m, 1, &c, err, sizeof(err)),
                   0);
  /* Two mounts, litefs.yml naming neither. */
  struct dbs_litefs_mount two[] = {{.dir = "/l1"}, {.dir = "/l2"}};
  assert_int_equal(dbs_litefs_refuse_setup("/app/db.sqlite", "/data", true, two,
                                           2, &c, err, sizeof(err)),
                   78);
  /* A LiteFS mount elsewhere does not hide that fuse.dir is not mounted. */
  struct dbs_litefs_mount other = {.dir = "/elsewhere"};
  assert_int_equal(dbs_litefs_refuse_setup("/litefs/db.sqlite", "/data", false,
                                           &other, 1, &c, err, sizeof(err)),
                   78);
  assert_non_null(strstr(err, "LiteFS is not mounted there"));
  /* fuse.dir but no mount: dbsetup runs before LiteFS. */
  assert_int_equal(dbs_litefs_refuse_setup("/litefs/db.sqlite", "/data", false,
                                           NULL, 0, &c, err, sizeof(err)),
                   78);
  assert_non_null(strstr(err, "LiteFS is not mounted there"));
  /* Lexical containment: /litefs2 is not inside /litefs. */
  assert_int_equal(dbs_litefs_refuse_setup("/litefs2/db.sqlite", "/data", false,
                                           &m, 1, &c, err, sizeof(err)),
                   0);
  assert_int_equal(dbs_litefs_refuse_setup("/litefs/../app/db.sqlite", "/data",
                                           false, NULL, 0, &c, err,
                                           sizeof(err)),
                   0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mountinfo_litefs),
      cmocka_unit_test(test_mountinfo_other),
      cmocka_unit_test_setup_teardown(test_mounts_file, setup, teardown),
      cmocka_unit_test(test_expand),
      cmocka_unit_test_setup_teardown(test_config_explicit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_config_search, setup, teardown),
      cmocka_unit_test(test_parse_info),
      cmocka_unit_test(test_api_addr),
      cmocka_unit_test(test_get_info_failures),
      cmocka_unit_test(test_refuse_setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
