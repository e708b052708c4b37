/*
 * Helpers shared by the libFuzzer targets: splitting an input into
 * sections, a scratch directory, and the check that reports a broken
 * invariant as a crash (libFuzzer then saves the input).
 */
#ifndef DBS_FUZZ_H
#define DBS_FUZZ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* A broken invariant: print what and where, then abort (a crash). */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,     \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define FUZZ_MAX_PARTS 16

/*
 * The input cut at every NUL byte into at most FUZZ_MAX_PARTS sections
 * (the last one keeps any further NULs), each a NUL-terminated copy.
 */
struct fuzz_parts {
  char* p[FUZZ_MAX_PARTS];
  size_t len[FUZZ_MAX_PARTS];
  size_t n;
};

static inline void fuzz_split(const uint8_t* data, size_t size,
                              struct fuzz_parts* out) {
  size_t start = 0;
  out->n = 0;
  for (size_t i = 0; i <= size && out->n < FUZZ_MAX_PARTS; i++) {
    int last = out->n == FUZZ_MAX_PARTS - 1;
    if (i < size && (data[i] != 0 || last))
      continue;
    size_t len = (last ? size : i) - start;
    char* s = malloc(len + 1);
    if (s == NULL)
      abort();
    memcpy(s, data + start, len);
    s[len] = '\0';
    out->p[out->n] = s;
    out->len[out->n++] = len;
    start = i + 1;
    if (last)
      break;
  }
}

static inline void fuzz_parts_free(struct fuzz_parts* parts) {
  for (size_t i = 0; i < parts->n; i++)
    free(parts->p[i]);
  parts->n = 0;
}

/* Section i, or "" when the input has fewer. */
static inline const char* fuzz_part(const struct fuzz_parts* parts, size_t i) {
  return i < parts->n ? parts->p[i] : "";
}

/* File contents cannot hold the NUL that separates sections: 0x01 in
 * them stands for NUL. */
static inline void fuzz_soh_to_nul(char* s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (s[i] == 1)
      s[i] = 0;
}

/* Only errors are logged: a target runs millions of inputs. */
static inline void fuzz_quiet(void) {
  dbs_log_set_level(DBS_LOG_ERROR);
}

/*
 * libFuzzer's entry points. FUZZ_INITIALIZE(setup) defines
 * LLVMFuzzerInitialize: only errors are logged (fuzz_quiet), then
 * setup(), the target's own one-time preparation (fuzz_no_setup: none).
 */
int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static inline void fuzz_no_setup(void) {}

#define FUZZ_INITIALIZE(setup)                                                 \
  int LLVMFuzzerInitialize(int* argc, char*** argv) {                          \
    (void)argc;                                                                \
    (void)argv;                                                                \
    fuzz_quiet();                                                              \
    setup();                                                                   \
    return 0;                                                                  \
  }

/*
 * A fresh private directory under $TMPDIR (else /dev/shm, else /tmp: the
 * targets write files for every input), made the working
 * directory; the target's cleanup at exit removes it (fuzz_remove_scratch_dir).
 * Returns its path (static storage).
 */
static inline const char* fuzz_scratch_dir(const char* name) {
  static char dir[256];
  const char* tmp = getenv("TMPDIR");
  if (tmp == NULL || tmp[0] == '\0')
    tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(dir, sizeof(dir), "%s/dbs-%s-XXXXXX", tmp, name);
  if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
    perror(dir);
    abort();
  }
  return dir;
}

/* Leaves the working directory (a scratch directory the caller has
 * emptied) for "/" and removes it: for a target's cleanup at exit. */
static inline void fuzz_remove_scratch_dir(void) {
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) != NULL && chdir("/") == 0)
    rmdir(cwd);
}

/* Writes len bytes of s to path (relative to the working directory). */
static inline void fuzz_write_file(const char* path, const char* s,
                                   size_t len) {
  FILE* f = fopen(path, "wb");
  if (f == NULL) {
    perror(path);
    abort();
  }
  if (len > 0 && fwrite(s, 1, len, f) != len)
    abort();
  fclose(f);
}

/*
 * Every secret a parsed config names is registered for redaction, for the
 * life of the process: over millions of inputs the registry would grow
 * without bound (and each registration scans it). Targets built with
 * FUZZ_WRAP_SECRETS link with -Wl,--wrap for the two registering calls:
 * the first FUZZ_MAX_SECRETS registrations go through, later ones are only
 * checked to be strings.
 */
#ifdef FUZZ_WRAP_SECRETS
#define FUZZ_MAX_SECRETS 256
int __real_dbs_log_add_secret(const char* secret);
int __real_dbs_log_add_url_secret(const char* url);
int __wrap_dbs_log_add_secret(const char* secret);
int __wrap_dbs_log_add_url_secret(const char* url);
static unsigned fuzz_nsecrets;

int __wrap_dbs_log_add_secret(const char* secret) {
  if (fuzz_nsecrets >= FUZZ_MAX_SECRETS) {
    if (secret != NULL)
      (void)strlen(secret); /* a string, or ASan says so */
    return 0;
  }
  fuzz_nsecrets++;
  return __real_dbs_log_add_secret(secret);
}

int __wrap_dbs_log_add_url_secret(const char* url) {
  if (fuzz_nsecrets >= FUZZ_MAX_SECRETS) {
    if (url != NULL)
      (void)strlen(url);
    return 0;
  }
  fuzz_nsecrets++;
  return __real_dbs_log_add_url_secret(url);
}
#endif

#endif
