/* Test app: prints the SigBlk and SigIgn lines of its /proc/self/status. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  FILE *f = fopen("/proc/self/status", "r");
  FILE *o = argc > 1 ? fopen(argv[1], "w") : stdout;
  char line[512];
  if (f == NULL || o == NULL) {
    perror("sigstate");
    return 98;
  }
  while (fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
      fputs(line, o);
  fclose(f);
  return fclose(o) == 0 ? 0 : 98;
}
