/*
 * Test app: prints its open file descriptors, one per line (to OUT or
 * stdout), then waits up to 10 s for WAITFILE to exist.
 *   fd-lister [OUT [WAITFILE]]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", argc > 1 ? argv[1] : "");
  FILE* o = argc > 1 ? fopen(tmp, "w") : stdout; /* renamed when complete */
  DIR* d = opendir("/proc/self/fd");
  struct dirent* de;
  if (o == NULL || d == NULL) {
    perror("fd-lister");
    return 98;
  }
  int own = dirfd(d), ofd = o == stdout ? -1 : fileno(o);
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    int fd = atoi(de->d_name);
    if (fd != own && fd != ofd)
      fprintf(o, "%d\n", fd);
  }
  closedir(d);
  if (fclose(o) != 0 || (argc > 1 && rename(tmp, argv[1]) != 0))
    return 98;
  for (int i = 0; argc > 2 && i < 500 && access(argv[2], F_OK) != 0; i++)
    usleep(20000);
  return 0;
}
