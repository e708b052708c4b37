/*
 * Test helper: calls dbs_restore_boot for one replica given on the command
 * line and prints the result. Usage: restore_boot TYPE PATH TARGET [NAME]
 * (TYPE file, s3 or another word). Exits with dbs_restore_boot's status.
 */
#include <stdio.h>
#include <string.h>

#include "restore.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: restore_boot TYPE PATH TARGET [NAME]\n");
    return 2;
  }
  static const char* const names[] = {
      "RESTORED", "NO_BACKUP", "UNSUPPORTED_TYPE", "ECORRUPT", "EENCRYPTED",
      "ESTORAGE", "EUSAGE",    "ETARGET",          "EINTERNAL"};
  struct dbs_replica_config r = {0};
  r.type = argv[1];
  r.name = argv[1];
  r.path = argv[2];
  r.kind = strcmp(argv[1], "file") == 0 ? DBS_REPLICA_FILE
           : strcmp(argv[1], "s3") == 0 ? DBS_REPLICA_S3
                                        : DBS_REPLICA_OTHER;
  struct dbs_restore_opts o = {.parallelism = 4, .verify = DBS_VERIFY_QUICK};
  enum dbs_restore_result res;
  int st =
      dbs_restore_boot(&r, 1, argc > 4 ? argv[4] : NULL, argv[3], &o, &res);
  printf("%s\n", names[res]);
  return st;
}
