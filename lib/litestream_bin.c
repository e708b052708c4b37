/* Locating the litestream binary (never the npm wrapper) and its config. */
#define _GNU_SOURCE
#include "litestream_bin.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

bool dbs_litestream_bin_is_wrapper(const char* path) {
  char line[512];
  FILE* f = fopen(path, "rb");
  if (f == NULL)
    return false;
  size_t n = fread(line, 1, sizeof(line) - 1, f);
  fclose(f);
  line[n] = '\0';
  if (n < 2 || line[0] != '#' || line[1] != '!')
    return false;
  line[strcspn(line, "\n")] = '\0';
  return strstr(line, "node") != NULL;
}

/* path made absolute against the working directory (not resolved). */
static char* absolute(const char* path) {
  if (path[0] == '/')
    return strdup(path);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    return NULL;
  const char* p = path;
  while (p[0] == '.' && p[1] == '/')
    p += 2;
  size_t n = strlen(cwd) + strlen(p) + 2;
  char* out = malloc(n);
  if (out != NULL)
    snprintf(out, n, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, p);
  return out;
}

static bool is_exec_file(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * Looks name up in PATH. Wrappers are skipped (warned about when
 * warn_wrappers). Returns a malloc'd absolute path, or NULL (errno ENOENT
 * or ENOMEM).
 */
static char* path_lookup(const char* name, bool warn_wrappers) {
  const char* path = getenv("PATH");
  if (path == NULL)
    path = "/usr/local/bin:/usr/bin:/bin";
  const char* p = path;
  for (;;) {
    size_t len = strcspn(p, ":");
    char cand[PATH_MAX];
    int w;
    if (len == 0)
      w = snprintf(cand, sizeof(cand), "./%s", name);
    else
      w = snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, p, name);
    if (w > 0 && (size_t)w < sizeof(cand) && is_exec_file(cand)) {
      if (dbs_litestream_bin_is_wrapper(cand)) {
        if (warn_wrappers)
          dbs_log_warnx("ignoring %s: it is the npm litestream wrapper, "
                        "which exits 0 on failure and forwards no signals",
                        cand);
      } else {
        char* abs = absolute(cand);
        if (abs == NULL)
          errno = ENOMEM;
        return abs;
      }
    }
    if (p[len] == '\0')
      break;
    p += len + 1;
  }
  errno = ENOENT;
  return NULL;
}

/* The npm package's directory name for this machine, or NULL. */
static const char* npm_arch(void) {
  struct utsname u;
  if (uname(&u) != 0)
    return NULL;
  if (strcmp(u.machine, "x86_64") == 0)
    return "x64";
  if (strcmp(u.machine, "aarch64") == 0 || strcmp(u.machine, "arm64") == 0)
    return "arm64";
  return NULL;
}

int dbs_litestream_bin_find(const char* explicit_path, char** out, char* err,
                            size_t errlen) {
  *out = NULL;
  if (errlen > 0)
    err[0] = '\0';
  if (explicit_path != NULL && explicit_path[0] != '\0') {
    char* found;
    if (strchr(explicit_path, '/') == NULL) {
      found = path_lookup(explicit_path, false);
      if (found == NULL && errno == ENOMEM)
        return -ENOMEM;
      if (found == NULL) {
        snprintf(err, errlen,
                 "--litestream %s: not found in PATH (or only the npm "
                 "wrapper was; give the path of the real binary)",
                 explicit_path);
        return -ENOENT;
      }
    } else {
      found = absolute(explicit_path);
      if (found == NULL)
        return -ENOMEM;
      struct stat st;
      if (stat(found, &st) != 0) {
        snprintf(err, errlen, "--litestream %s: %s", explicit_path,
                 strerror(errno));
        free(found);
        return -ENOENT;
      }
      if (!S_ISREG(st.st_mode) || access(found, X_OK) != 0) {
        snprintf(err, errlen,
                 "--litestream %s: not an executable file (chmod +x it or "
                 "give the real binary)",
                 explicit_path);
        free(found);
        return -ENOEXEC;
      }
      if (dbs_litestream_bin_is_wrapper(found)) {
        snprintf(err, errlen,
                 "--litestream %s is the npm litestream wrapper, which exits "
                 "0 when litestream fails and forwards no signals; use the "
                 "real binary, e.g. node_modules/@flydotio/"
                 "litestream-linux-%s/litestream",
                 explicit_path, npm_arch() ? npm_arch() : "<arch>");
        free(found);
        return -ENOEXEC;
      }
    }
    *out = found;
    return 0;
  }

  char* found = path_lookup("litestream", true);
  if (found == NULL && errno == ENOMEM)
    return -ENOMEM;
  if (found != NULL) {
    *out = found;
    return 0;
  }
  const char* arch = npm_arch();
  if (arch != NULL) {
    char rel[128];
    snprintf(rel, sizeof(rel),
             "node_modules/@flydotio/litestream-linux-%s/litestream", arch);
    if (is_exec_file(rel) && !dbs_litestream_bin_is_wrapper(rel)) {
      *out = absolute(rel);
      return *out ? 0 : -ENOMEM;
    }
  }
  snprintf(err, errlen,
           "no litestream binary: not in PATH, not in "
           "node_modules/@flydotio/litestream-linux-%s/ (set --litestream)",
           arch ? arch : "<arch>");
  return -ENOENT;
}

/* As dbs_litestream_bin_find_config with a list of default places. */
static int find_config_in(const char* explicit_path,
                          const char* const* defaults, char** out, char* err,
                          size_t errlen) {
  *out = NULL;
  if (errlen > 0)
    err[0] = '\0';
  if (explicit_path != NULL && explicit_path[0] != '\0') {
    char* abs = absolute(explicit_path);
    if (abs == NULL)
      return -ENOMEM;
    struct stat st;
    if (stat(abs, &st) != 0) {
      snprintf(err, errlen, "litestream config %s: %s", abs, strerror(errno));
      free(abs);
      return -ENOENT;
    }
    *out = abs;
    return 0;
  }
  for (size_t i = 0; defaults[i] != NULL; i++) {
    struct stat st;
    if (stat(defaults[i], &st) == 0) {
      *out = absolute(defaults[i]);
      return *out ? 0 : -ENOMEM;
    }
  }
  snprintf(err, errlen, "no litestream.yml in the working directory or /etc");
  return -ENOENT;
}

int dbs_litestream_bin_find_config(const char* explicit_path, char** out,
                                   char* err, size_t errlen) {
  static const char* const defaults[] = {"litestream.yml",
                                         "/etc/litestream.yml", NULL};
  return find_config_in(explicit_path, defaults, out, err, errlen);
}

/* ---- litestream version ---------------------------------------------- */

#define VERSION_TIMEOUT_MS 10000

/* The first line of out, at most n-1 bytes, into first. */
static void first_line(const char* out, char* first, size_t n) {
  size_t l = strcspn(out, "\r\n");
  if (l >= n)
    l = n - 1;
  memcpy(first, out, l);
  first[l] = '\0';
}

int dbs_litestream_bin_parse_version(const char* line,
                                     struct dbs_litestream_version* v) {
  memset(v, 0, sizeof(*v));
  first_line(line, v->text, sizeof(v->text));
  v->major = v->minor = v->patch = -1;
  if (strncmp(v->text, "(development build", 18) == 0)
    return 1;
  const char* p = v->text;
  if (*p == 'v')
    p++;
  int a, b, c, n = 0;
  if (!isdigit((unsigned char)*p) ||
      sscanf(p, "%d.%d.%d%n", &a, &b, &c, &n) != 3 ||
      (p[n] != '\0' && p[n] != '-' && p[n] != '+'))
    return -EIO;
  v->major = a;
  v->minor = b;
  v->patch = c;
  if (a == 0 && b == 3)
    v->rules = DBS_LS_RULES_V03;
  else if (a > 0 || b >= 5)
    v->rules = DBS_LS_RULES_V05;
  else
    return -ENOTSUP;
  return 0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when TERM or INT is pending (held by dbs_proc_hold_signals). */
static bool stop_pending(void) {
  sigset_t p;
  return sigpending(&p) == 0 &&
         (sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1);
}

/*
 * Runs `bin word`, collecting stdout and stderr into out (NUL-terminated,
 * truncated). Returns 0 with the wait status in *status, -ETIMEDOUT,
 * -EINTR (a stop signal is pending) or -errno of the start.
 */
static int run_capture(const char* bin, const char* word, char* out,
                       size_t outlen, int* status) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return -errno;
  char* argv[] = {(char*)bin, (char*)word, NULL};
  struct dbs_proc_opts o = {.argv = argv,
                            .stdin_null = true,
                            .stdout_fd = fds[1],
                            .stderr_fd = fds[1],
                            .new_pgroup = true};
  pid_t pid;
  int rc = dbs_proc_spawn(&o, &pid);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return rc;
  }
  size_t len = 0;
  int64_t deadline = now_ms() + VERSION_TIMEOUT_MS;
  rc = 0;
  for (;;) {
    if (stop_pending()) {
      rc = -EINTR;
      break;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      rc = -ETIMEDOUT;
      break;
    }
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    int n = poll(&pfd, 1, left < 100 ? (int)left : 100);
    if (n < 0 && errno != EINTR) {
      rc = -errno;
      break;
    }
    if (n <= 0)
      continue;
    char buf[4096];
    ssize_t r = read(fds[0], buf, sizeof(buf));
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (r <= 0)
      break; /* EOF: it is exiting */
    size_t take = (size_t)r;
    if (len + take >= outlen)
      take = outlen - 1 - len;
    memcpy(out + len, buf, take);
    len += take;
  }
  out[len] = '\0';
  close(fds[0]);
  if (rc != 0)
    kill(-pid, SIGKILL);
  while (waitpid(pid, status, 0) < 0 && errno == EINTR)
    ;
  return rc;
}

/* Describes a failed run for err. */
static void describe(const char* bin, const char* word, int rc, int status,
                     const char* out, char* err, size_t errlen) {
  char first[256];
  first_line(out, first, sizeof(first));
  if (rc == -ETIMEDOUT)
    snprintf(err, errlen, "%s %s did not answer within %d s", bin, word,
             VERSION_TIMEOUT_MS / 1000);
  else if (rc != 0)
    snprintf(err, errlen, "cannot run %s %s: %s", bin, word, strerror(-rc));
  else if (WIFSIGNALED(status))
    snprintf(err, errlen, "%s %s died of signal %d", bin, word,
             WTERMSIG(status));
  else
    snprintf(err, errlen, "%s %s exited with status %d%s%s%s", bin, word,
             WEXITSTATUS(status), first[0] ? " (\"" : "", first,
             first[0] ? "\")" : "");
}

int dbs_litestream_bin_version(const char* bin,
                               struct dbs_litestream_version* v, char* err,
                               size_t errlen) {
  char out[8192];
  int status = 0;
  sigset_t old;
  memset(v, 0, sizeof(*v));
  if (errlen > 0)
    err[0] = '\0';
  dbs_proc_hold_signals(&old);
  int rc = run_capture(bin, "version", out, sizeof(out), &status);
  if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    rc = dbs_litestream_bin_parse_version(out, v);
    if (rc == 1) {
      /* A development build: 0.5 has the ltx command, 0.3 does not. */
      rc = run_capture(bin, "help", out, sizeof(out), &status);
      if (rc == 0 && WIFEXITED(status)) {
        bool ltx =
            strstr(out, "\n\tltx ") != NULL || strstr(out, "\n  ltx ") != NULL;
        bool gen = strstr(out, "\n\tgenerations ") != NULL;
        if (ltx || gen) {
          v->rules = ltx ? DBS_LS_RULES_V05 : DBS_LS_RULES_V03;
          dbs_proc_release_signals(&old);
          dbs_log_info("%s is a development build with%s the ltx command: "
                       "reading litestream.yml as litestream %s does",
                       bin, ltx ? "" : "out", ltx ? "0.5" : "0.3");
          return 0;
        }
        snprintf(err, errlen,
                 "%s is a development build whose help lists neither ltx "
                 "(0.5) nor generations (0.3): cannot tell which "
                 "litestream.yml rules apply (use a released litestream)",
                 bin);
        dbs_proc_release_signals(&old);
        return -EIO;
      }
      describe(bin, "help", rc, status, out, err, errlen);
    } else if (rc == -EIO) {
      char first[128];
      first_line(out, first, sizeof(first));
      snprintf(err, errlen,
               "%s version printed \"%s\", not a litestream version: is it "
               "litestream? (set --litestream to the real binary)",
               bin, first);
    } else if (rc == -ENOTSUP) {
      snprintf(err, errlen,
               "%s is litestream %s: dbsetup supervises litestream 0.3 and "
               "0.5 or later (install one of them, or set --litestream)",
               bin, v->text);
    }
  } else if (rc != -EINTR) {
    describe(bin, "version", rc, status, out, err, errlen);
    rc = -EIO;
  }
  dbs_proc_release_signals(&old);
  if (rc == -EINTR)
    snprintf(err, errlen, "%s version: interrupted by a stop signal", bin);
  return rc;
}
