/*
 * Test launcher: runs a command on a new pseudo-terminal (its controlling
 * terminal, stdin/stdout/stderr), copies its output to our stdout and,
 * once FILE exists, types Ctrl-C into the terminal. With -z, types
 * Ctrl-Z instead and, like a shell's `fg`, continues the command with
 * SIGCONT once it has stopped (printing "ptyrun: stopped" and "ptyrun:
 * continued" to stderr). Exits with the command's exit status (128+N for
 * signal N), 99 on timeout.
 *   ptyrun [-w FILE] [-z] [-T SECS] -- COMMAND [ARG...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* wait_file = NULL;
  int timeout = 20, c, master, st;
  bool sent = false, ctrl_z = false;

  while ((c = getopt(argc, argv, "+w:zT:")) != -1) {
    switch (c) {
    case 'w':
      wait_file = optarg;
      break;
    case 'z':
      ctrl_z = true;
      break;
    case 'T':
      timeout = atoi(optarg);
      break;
    default:
      return 2;
    }
  }
  if (optind >= argc)
    return 2;
  pid_t pid = forkpty(&master, NULL, NULL, NULL);
  if (pid < 0) {
    perror("forkpty");
    return 98;
  }
  if (pid == 0) {
    execvp(argv[optind], argv + optind);
    perror(argv[optind]);
    _exit(127);
  }
  time_t deadline = time(NULL) + timeout;
  for (;;) {
    struct pollfd p = {master, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      char buf[4096];
      ssize_t n = read(master, buf, sizeof(buf));
      if (n > 0)
        fwrite(buf, 1, (size_t)n, stdout), fflush(stdout);
    }
    if (!sent && wait_file != NULL && access(wait_file, F_OK) == 0) {
      if (write(master, ctrl_z ? "\x1a" : "\x03", 1) != 1)
        perror("write ^C/^Z");
      sent = true;
      fprintf(stderr, "ptyrun: typed %s\n", ctrl_z ? "^Z" : "^C");
    }
    pid_t r = waitpid(pid, &st, WNOHANG | WUNTRACED);
    if (r == pid && WIFSTOPPED(st)) {
      fprintf(stderr, "ptyrun: stopped\n");
      usleep(300000);
      kill(pid, SIGCONT);
      fprintf(stderr, "ptyrun: continued\n");
      continue;
    }
    if (r == pid)
      break;
    if (time(NULL) > deadline) {
      fprintf(stderr, "ptyrun: timeout\n");
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      return 99;
    }
  }
  /* Drain what is left. */
  for (;;) {
    struct pollfd p = {master, POLLIN, 0};
    char buf[4096];
    ssize_t n;
    if (poll(&p, 1, 0) <= 0 || (n = read(master, buf, sizeof(buf))) <= 0)
      break;
    fwrite(buf, 1, (size_t)n, stdout);
  }
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}
