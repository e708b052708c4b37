/* Test app: prints its open file descriptors, one per line (or to argv[1]). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  FILE *o = argc > 1 ? fopen(argv[1], "w") : stdout;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
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
  return fclose(o) == 0 ? 0 : 98;
}
