/* Times dbs_prisma_migrate_deploy in-process, as a boot runs it inside the
 * already running dbsetup: prints the first (cold) call and the mean of the
 * next N calls in microseconds. Usage: prisma-deploy-timer DB DIR N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "prisma_migrate.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char** argv) {
  char err[4096];
  if (argc != 4) {
    fprintf(stderr, "usage: prisma-deploy-timer DB DIR N\n");
    return 64;
  }
  int n = atoi(argv[3]);
  dbs_log_set_level(DBS_LOG_WARN);
  double t0 = now_us();
  if (dbs_prisma_migrate_deploy(argv[1], argv[2], NULL, err, sizeof(err))) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  double t1 = now_us();
  for (int i = 0; i < n; i++) {
    if (dbs_prisma_migrate_deploy(argv[1], argv[2], NULL, err, sizeof(err))) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
  }
  double t2 = now_us();
  printf("%.1f %.1f\n", t1 - t0, n > 0 ? (t2 - t1) / n : 0.0);
  return 0;
}
