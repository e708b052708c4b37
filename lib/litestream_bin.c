/* Locating the litestream binary (never the npm wrapper) and its config. */
#include "litestream_bin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"

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
