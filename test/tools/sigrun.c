/*
 * Test launcher: sets up an unusual start state, then execs a command.
 *   sigrun [-b SIG]... [-i SIG]... [-f FD]... -- COMMAND [ARG...]
 *   -b SIG  block signal number SIG      -i SIG  ignore signal number SIG
 *   -f FD   open /dev/null at FD, inheritable (a leak dbsetup must stop)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  sigset_t set;
  int c;
  sigemptyset(&set);
  while ((c = getopt(argc, argv, "+b:i:f:")) != -1) {
    switch (c) {
    case 'b':
      sigaddset(&set, atoi(optarg));
      break;
    case 'i':
      signal(atoi(optarg), SIG_IGN);
      break;
    case 'f': {
      int fd = open("/dev/null", O_RDONLY);
      if (fd < 0 || dup2(fd, atoi(optarg)) < 0) {
        perror("sigrun");
        return 98;
      }
      if (fd != atoi(optarg))
        close(fd);
      break;
    }
    default:
      return 2;
    }
  }
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (optind >= argc)
    return 2;
  execvp(argv[optind], argv + optind);
  perror(argv[optind]);
  return 127;
}
