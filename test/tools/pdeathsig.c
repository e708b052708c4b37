/* Test app: prints its parent-death signal, real and effective uid/gid. */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void) {
  int sig = -1;
  if (prctl(PR_GET_PDEATHSIG, &sig) != 0) {
    perror("prctl");
    return 98;
  }
  printf("pdeathsig=%d uid=%d euid=%d gid=%d\n", sig, (int)getuid(),
         (int)geteuid(), (int)getgid());
  return 0;
}
