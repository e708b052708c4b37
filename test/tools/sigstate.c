/*
 * Test app: prints the SigBlk and SigIgn lines of its /proc/self/status
 * (to OUT or stdout), then waits up to 10 s for WAITFILE to exist.
 *   sigstate [OUT [WAITFILE]]
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  FILE* f = fopen("/proc/self/status", "r");
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", argc > 1 ? argv[1] : "");
  FILE* o = argc > 1 ? fopen(tmp, "w") : stdout; /* renamed when complete */
  char line[512];
  if (f == NULL || o == NULL) {
    perror("sigstate");
    return 98;
  }
  while (fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
      fputs(line, o);
  fclose(f);
  if (fclose(o) != 0 || (argc > 1 && rename(tmp, argv[1]) != 0))
    return 98;
  for (int i = 0; argc > 2 && i < 500 && access(argv[2], F_OK) != 0; i++)
    usleep(20000);
  return 0;
}
