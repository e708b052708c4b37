/*
 * litefs-probe [CONFIG]: prints what lib/litefs.c detects, one fact a line:
 *   mount DIR allow_other=0|1     (each LiteFS mount in our mountinfo)
 *   config PATH fuse=DIR data=DIR http=ADDR lease=TYPE candidate=0|1
 *   api HOST:PORT
 *   info isPrimary=0|1 candidate=0|1 primary=HOSTNAME
 * or "error: ..." lines; exits 0 when /info answered, 1 otherwise.
 * litefs-probe --import NAME FILE CONFIG: POST /import of FILE as NAME to
 * the API of CONFIG's http.addr (dbs_litefs_import); prints "import ok" or
 * "import rc=-ERRNO: message"; exits 0 or 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "litefs.h"

static int import(const char* name, const char* file, const char* config) {
  struct dbs_litefs_config c;
  char err[1024], api[128];
  if (dbs_litefs_config_load(config, &c, err, sizeof(err)) != 0) {
    printf("error: %s\n", err);
    return 1;
  }
  int rc = dbs_litefs_api_addr(c.http_addr, api, sizeof(api));
  dbs_litefs_config_free(&c);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (rc != 0 || fd < 0) {
    printf("error: no API address or no %s\n", file);
    return 1;
  }
  rc = dbs_litefs_import(api, name, fd, 60000, err, sizeof(err));
  close(fd);
  if (rc == 0)
    printf("import ok\n");
  else
    printf("import rc=%d: %s\n", rc, err);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  struct dbs_litefs_mount* v;
  struct dbs_litefs_config c;
  struct dbs_litefs_info info;
  char err[512], api[128];
  size_t n;
  int rc;

  if (argc == 5 && strcmp(argv[1], "--import") == 0)
    return import(argv[2], argv[3], argv[4]);
  if ((rc = dbs_litefs_mounts(NULL, &v, &n)) != 0) {
    printf("error: mountinfo: %d\n", rc);
    return 1;
  }
  for (size_t i = 0; i < n; i++)
    printf("mount %s allow_other=%d\n", v[i].dir, v[i].allow_other);
  dbs_litefs_mounts_free(v, n);
  if (dbs_litefs_config_load(argc > 1 ? argv[1] : NULL, &c, err, sizeof(err)) !=
      0) {
    printf("error: %s\n", err);
    return 1;
  }
  printf("config %s fuse=%s data=%s http=%s lease=%s candidate=%d\n", c.path,
         c.fuse_dir, c.data_dir, c.http_addr, c.lease_type, c.candidate);
  rc = dbs_litefs_api_addr(c.http_addr, api, sizeof(api));
  dbs_litefs_config_free(&c);
  if (rc != 0) {
    printf("error: http.addr is not numeric\n");
    return 1;
  }
  printf("api %s\n", api);
  if (dbs_litefs_get_info(api, 2000, &info, err, sizeof(err)) != 0) {
    printf("error: %s\n", err);
    return 1;
  }
  printf("info isPrimary=%d candidate=%d primary=%s\n", info.is_primary,
         info.candidate, info.primary_hostname);
  return 0;
}
