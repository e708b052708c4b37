/*
 * Test app: prints every signal it receives with a timestamp; optionally
 * exits on TERM/INT with a code, writes a stop timestamp, spawns a
 * grandchild in its process group or orphans that dbsetup must reap.
 *
 *   print-signals [-o OUT] [-r READY] [-e CODE] [-I] [-d MS] [-s STAMP]
 *                 [-g GRANDCHILD_OUT] [-O N] [-L N] [-x CODE] [-T SECS]
 *   -o OUT     append "SECONDS.NANOS SIGNAME" lines to OUT (default stdout)
 *   -r READY   create READY once every signal is being caught
 *   -e CODE    exit with CODE on SIGTERM or SIGINT (default 0)
 *   -I         print SIGTERM/SIGINT but keep running (test SIGKILL escalation)
 *   -d MS      on a stop signal, wait MS before exiting (a final sync)
 *   -s STAMP   on a stop signal, write the CLOCK_REALTIME ns to STAMP
 *              just before exiting
 *   -g FILE    start a grandchild print-signals -I -o FILE -r FILE.ready
 *              in our process group
 *   -O N       create N orphans that exit after 200 ms
 *   -L N       create N orphans that live (sleep) until killed
 *   -x CODE    exit with CODE after setup (after -O/-L), no signal loop
 *   -T SECS    give up after SECS (exit 99; default 30)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void signame(int sig, char* buf, size_t n) {
  const char* a = sigabbrev_np(sig);
  if (a != NULL)
    snprintf(buf, n, "SIG%s", a);
  else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, n, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, n, "SIG%d", sig);
}

static void touch(const char* path, const char* content) {
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (f == NULL) {
    perror(tmp);
    exit(98);
  }
  fputs(content, f);
  fclose(f);
  rename(tmp, path); /* readers never see it half-written */
}

static void make_orphans(int n, int ms) {
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p < 0) {
      perror("fork");
      exit(98);
    }
    if (p == 0) {
      if (fork() == 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        _exit(0);
      }
      _exit(0); /* the grandchild is now an orphan */
    }
    while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
      ;
  }
}

int main(int argc, char** argv) {
  const char *out = NULL, *ready = NULL, *stamp = NULL, *gfile = NULL;
  int code = 0, delay_ms = 0, orphans = 0, lingerers = 0, timeout = 30;
  int exit_now = -1;
  bool ignore_stop = false;
  int c;

  while ((c = getopt(argc, argv, "o:r:e:Id:s:g:O:L:x:T:")) != -1) {
    switch (c) {
    case 'o':
      out = optarg;
      break;
    case 'r':
      ready = optarg;
      break;
    case 'e':
      code = atoi(optarg);
      break;
    case 'I':
      ignore_stop = true;
      break;
    case 'd':
      delay_ms = atoi(optarg);
      break;
    case 's':
      stamp = optarg;
      break;
    case 'g':
      gfile = optarg;
      break;
    case 'O':
      orphans = atoi(optarg);
      break;
    case 'L':
      lingerers = atoi(optarg);
      break;
    case 'x':
      exit_now = atoi(optarg);
      break;
    case 'T':
      timeout = atoi(optarg);
      break;
    default:
      return 2;
    }
  }
  FILE* o = stdout;
  if (out != NULL && (o = fopen(out, "a")) == NULL) {
    perror(out);
    return 98;
  }
  setvbuf(o, NULL, _IOLBF, 0);

  if (gfile != NULL && fork() == 0) {
    char ready_path[4096];
    snprintf(ready_path, sizeof(ready_path), "%s.ready", gfile);
    execl("/proc/self/exe", "print-signals", "-I", "-o", gfile, "-r",
          ready_path, "-T", "20", (char*)NULL);
    _exit(97);
  }
  make_orphans(orphans, 200);
  make_orphans(lingerers, 60000);
  if (exit_now >= 0)
    return exit_now;

  /* Every signal is taken synchronously: no handler races. */
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGCHLD);
  sigprocmask(SIG_SETMASK, &all, NULL);
  if (ready != NULL)
    touch(ready, "ready\n");

  long long deadline = now_ns() + (long long)timeout * 1000000000LL;
  for (;;) {
    long long left = deadline - now_ns();
    if (left <= 0) {
      fprintf(o, "%lld timeout\n", now_ns());
      return 99;
    }
    struct timespec ts = {left / 1000000000LL, left % 1000000000LL};
    int sig = sigtimedwait(&all, NULL, &ts);
    if (sig < 0)
      continue;
    char name[32];
    signame(sig, name, sizeof(name));
    fprintf(o, "%lld %s\n", now_ns(), name);
    if ((sig == SIGTERM || sig == SIGINT) && !ignore_stop) {
      if (delay_ms > 0) {
        struct timespec d = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
      }
      if (stamp != NULL) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%lld\n", now_ns());
        touch(stamp, buf);
      }
      return code;
    }
  }
}
