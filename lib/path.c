/* Paths: join, split, mkdir -p, the canonical form, Go's and Node's rules. */
#define _GNU_SOURCE /* asprintf */
#include "path.h"

#include <assert.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

char* dbs_path_join(const char* dir, const char* name) {
  assert(dir != NULL && name != NULL);
  size_t ld = strlen(dir), ln = strlen(name);
  bool slash = ln > 0 && !(ld > 0 && dir[ld - 1] == '/');
  char* s = malloc(ld + slash + ln + 1);
  if (s == NULL)
    return NULL;
  memcpy(s, dir, ld);
  if (slash)
    s[ld] = '/';
  memcpy(s + ld + slash, name, ln + 1);
  return s;
}

char* dbs_path_dirname(const char* path) {
  assert(path != NULL);
  const char* slash = strrchr(path, '/');
  if (slash == NULL)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

const char* dbs_path_basename(const char* path) {
  assert(path != NULL);
  const char* slash = strrchr(path, '/');
  return slash == NULL ? path : slash + 1;
}

char* dbs_path_absolute(const char* path) {
  assert(path != NULL);
  char* s;
  if (path[0] == '/') {
    s = strdup(path);
  } else {
    char* cwd = getcwd(NULL, 0);
    if (cwd == NULL)
      return NULL;
    s = dbs_path_join(cwd, path);
    free(cwd);
  }
  if (s == NULL)
    return NULL;
  char* o = s;
  for (const char* i = s; *i != '\0'; i++)
    if (!(*i == '/' && o > s && o[-1] == '/'))
      *o++ = *i;
  *o = '\0';
  while (o - s > 1 && o[-1] == '/')
    *--o = '\0';
  return s;
}

/* Cuts the last component off an absolute path in place ("/a" → "/"). */
static void cut_last(char* p) {
  char* slash = strrchr(p, '/');
  assert(slash != NULL);
  if (slash == p)
    slash[1] = '\0';
  else
    *slash = '\0';
}

/* Appends the not yet existing components of tail to the resolved real
 * ("." dropped, ".." cutting one). Frees real on failure. */
static char* append_missing(char* real, char* tail) {
  char* save = NULL;
  for (char* c = tail ? strtok_r(tail, "/", &save) : NULL; c != NULL;
       c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0) {
      cut_last(real);
      continue;
    }
    char* r = dbs_path_join(real, c);
    free(real);
    if ((real = r) == NULL)
      return NULL;
  }
  return real;
}

char* dbs_path_canonical(const char* path) {
  char* head = dbs_path_absolute(path);
  char* tail = NULL;
  char* real = NULL;
  if (head == NULL)
    return NULL;
  /* The longest existing prefix: drop components until realpath works. */
  while ((real = realpath(head, NULL)) == NULL) {
    if (errno != ENOENT || strcmp(head, "/") == 0)
      goto fail;
    const char* base = dbs_path_basename(head);
    char* t;
    if (tail == NULL)
      t = strdup(base);
    else if (asprintf(&t, "%s/%s", base, tail) < 0)
      t = NULL;
    if (t == NULL)
      goto fail;
    free(tail);
    tail = t;
    cut_last(head);
  }
  free(head);
  head = NULL;
  real = append_missing(real, tail);
  if (real == NULL)
    goto fail;
  free(tail);
  return real;
fail:;
  int saved = errno;
  free(head);
  free(tail);
  free(real);
  errno = saved;
  return NULL;
}

bool dbs_path_is_within(const char* path, const char* dir) {
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0)
    return true;
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int dbs_path_mkdir_p(const char* path, mode_t mode) {
  assert(path != NULL && path[0] == '/');
  char* p = strdup(path);
  int rc = 0;
  struct stat st;
  if (p == NULL)
    return -ENOMEM;
  for (char* s = p + 1;; s++) {
    if (*s != '/' && *s != '\0')
      continue;
    char c = *s;
    *s = '\0';
    if (mkdir(p, mode) != 0 && errno != EEXIST) {
      rc = -errno;
      break;
    }
    if (stat(p, &st) != 0) {
      rc = -errno;
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      rc = -ENOTDIR;
      break;
    }
    *s = c;
    if (c == '\0')
      break;
  }
  free(p);
  return rc;
}

int dbs_path_mkdir_p_check(const char* path) {
  char* p = strdup(path);
  struct stat st;
  int rc = 0;
  if (p == NULL)
    return -ENOMEM;
  bool missing = false;
  for (;;) {
    if (stat(p, &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        rc = -ENOTDIR;
      else if (missing && access(p, W_OK | X_OK) != 0)
        rc = -errno;
      break;
    }
    if (errno != ENOENT) {
      rc = -errno;
      break;
    }
    missing = true;
    char* slash = strrchr(p, '/');
    if (slash == NULL || slash == p)
      break; /* "/" exists */
    *slash = '\0';
  }
  free(p);
  return rc;
}

char* dbs_path_go_clean(const char* path) {
  return dbs_strbuf_path_clean(path);
}

char* dbs_path_go_abs(const char* path) {
  assert(path != NULL);
  if (path[0] == '/')
    return dbs_path_go_clean(path);
  char* cwd = getcwd(NULL, 0);
  if (cwd == NULL)
    return NULL;
  char* j = dbs_path_join(cwd, path);
  free(cwd);
  if (j == NULL)
    return NULL;
  char* c = dbs_path_go_clean(j);
  free(j);
  return c;
}

int dbs_path_litestream_expand(const char* s, char** out, char* err,
                               size_t errlen) {
  const char* in = s ? s : "";
  *out = NULL;
  if (strcmp(in, "~") != 0 && strncmp(in, "~/", 2) != 0) {
    *out = dbs_path_go_abs(in);
    return *out ? 0 : -ENOMEM;
  }
  struct passwd* pw = getpwuid(getuid());
  if (pw == NULL) {
    snprintf(err, errlen,
             "cannot expand %s: uid %u has no passwd entry (litestream "
             "needs one for ~; write the path in full)",
             in, (unsigned)getuid());
    return -ENOENT;
  }
  if (pw->pw_dir == NULL || pw->pw_dir[0] == '\0') {
    snprintf(err, errlen, "cannot expand path %s, no home directory available",
             in);
    return -ENOENT;
  }
  char* j = dbs_path_join(pw->pw_dir, in[1] ? in + 2 : "");
  if (j == NULL)
    return -ENOMEM;
  *out = dbs_path_go_clean(j);
  free(j);
  return *out ? 0 : -ENOMEM;
}

int dbs_path_litestream05_expand(const char* s, char** out, bool* stripped,
                                 char* err, size_t errlen) {
  static const char* const prefixes[] = {"sqlite3://", "sqlite://"};
  const char* in = s ? s : "";
  bool cut = false;
  for (size_t i = 0; i < 2 && !cut; i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(in, prefixes[i], n) == 0) {
      in += n;
      cut = true;
    }
  }
  if (stripped != NULL)
    *stripped = cut;
  return dbs_path_litestream_expand(in, out, err, errlen);
}

/* Cleans an absolute path in place, lexically, as Node's path.resolve
 * does: repeated slashes, "." and ".." segments and a trailing slash go. */
static void node_clean(char* p) {
  size_t w = 0, r = 0;
  while (p[r] != '\0') {
    while (p[r] == '/')
      r++;
    size_t s = r;
    while (p[r] != '\0' && p[r] != '/')
      r++;
    size_t len = r - s;
    if (len == 0 || (len == 1 && p[s] == '.'))
      continue;
    if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
      while (w > 0 && p[w - 1] != '/')
        w--;
      if (w > 0)
        w--;
      continue;
    }
    p[w++] = '/';
    memmove(p + w, p + s, len);
    w += len;
  }
  if (w == 0)
    p[w++] = '/';
  p[w] = '\0';
}

char* dbs_path_node_resolve(const char* dir, const char* rel) {
  assert(dir != NULL && dir[0] == '/' && rel != NULL);
  char* p = rel[0] == '/' ? strdup(rel) : dbs_path_join(dir, rel);
  if (p != NULL)
    node_clean(p);
  return p;
}
