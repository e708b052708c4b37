/* Logging to stderr with levels and redaction of registered secrets. */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DBS_LOG_MAX_SECRETS 32

static enum dbs_log_level log_level = DBS_LOG_INFO;
static char* secrets[DBS_LOG_MAX_SECRETS];
static size_t nsecrets;
/* A terminal status line without its newline is on stderr. */
static atomic_bool status_open;

static const char* const level_names[] = {"debug", "info", "warn", "error"};

void dbs_log_set_level(enum dbs_log_level level) {
  log_level = level;
}

enum dbs_log_level dbs_log_get_level(void) {
  return log_level;
}

int dbs_log_parse_level(const char* s, enum dbs_log_level* out) {
  for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum dbs_log_level)i;
      return 0;
    }
  }
  if (strcmp(s, "warning") == 0) {
    *out = DBS_LOG_WARN;
    return 0;
  }
  return -EINVAL;
}

int dbs_log_add_secret(const char* secret) {
  if (secret == NULL || strlen(secret) < 4)
    return 0;
  for (size_t i = 0; i < nsecrets; i++)
    if (strcmp(secrets[i], secret) == 0)
      return 0;
  if (nsecrets == DBS_LOG_MAX_SECRETS)
    return -ENOMEM;
  char* copy = strdup(secret);
  if (copy == NULL)
    return -ENOMEM;
  secrets[nsecrets++] = copy;
  return 0;
}

char* dbs_log_redact(const char* s, char* buf, size_t n) {
  static const char mask[] = "[REDACTED]";
  size_t o = 0;
  if (n == 0)
    return buf;
  while (*s != '\0' && o + 1 < n) {
    size_t matched = 0;
    for (size_t i = 0; i < nsecrets; i++) {
      size_t len = strlen(secrets[i]);
      if (strncmp(s, secrets[i], len) == 0 && len > matched)
        matched = len;
    }
    if (matched > 0) {
      for (size_t k = 0; mask[k] != '\0' && o + 1 < n; k++)
        buf[o++] = mask[k];
      s += matched;
    } else {
      buf[o++] = *s++;
    }
  }
  buf[o] = '\0';
  return buf;
}

void dbs_log_status_open(void) {
  atomic_store(&status_open, true);
}

void dbs_log_status_close(void) {
  if (atomic_exchange(&status_open, false))
    (void)!write(STDERR_FILENO, "\n", 1);
}

void dbs_log_vlog(enum dbs_log_level level, int errnum, const char* fmt,
                  va_list ap) {
  char msg[4096], out[4096 + 64];
  if (level < log_level)
    return;
  int len = vsnprintf(msg, sizeof(msg), fmt, ap);
  if (len < 0)
    return;
  if (errnum != 0) {
    size_t used = strlen(msg);
    snprintf(msg + used, sizeof(msg) - used, ": %s", strerror(errnum));
  }
  char red[4096];
  dbs_log_redact(msg, red, sizeof(red));
  /* A status line left open on the terminal is ended first. */
  const char* nl = atomic_exchange(&status_open, false) ? "\n" : "";
  len = snprintf(out, sizeof(out), "%sdbsetup: %s: %s\n", nl,
                 level_names[level], red);
  if (len > (int)sizeof(out) - 1) {
    len = (int)sizeof(out) - 1;
    out[len - 1] = '\n';
  }
  /* One write per line keeps lines whole when children share stderr. */
  ssize_t off = 0;
  while (off < len) {
    ssize_t w = write(STDERR_FILENO, out + off, (size_t)(len - off));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    off += w;
  }
}

#define DBS_LOG_FN(name, level, use_errno)                                     \
  void name(const char* fmt, ...) {                                            \
    int saved = errno;                                                         \
    va_list ap;                                                                \
    va_start(ap, fmt);                                                         \
    dbs_log_vlog(level, use_errno ? saved : 0, fmt, ap);                       \
    va_end(ap);                                                                \
    errno = saved;                                                             \
  }

DBS_LOG_FN(dbs_log_debug, DBS_LOG_DEBUG, 0)
DBS_LOG_FN(dbs_log_info, DBS_LOG_INFO, 0)
DBS_LOG_FN(dbs_log_warn, DBS_LOG_WARN, 1)
DBS_LOG_FN(dbs_log_warnx, DBS_LOG_WARN, 0)
DBS_LOG_FN(dbs_log_error, DBS_LOG_ERROR, 1)
DBS_LOG_FN(dbs_log_errorx, DBS_LOG_ERROR, 0)

void dbs_fatalx(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  dbs_log_vlog(DBS_LOG_ERROR, 0, fmt, ap);
  va_end(ap);
  exit(status);
}

void dbs_fatal(int status, const char* fmt, ...) {
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  dbs_log_vlog(DBS_LOG_ERROR, saved, fmt, ap);
  va_end(ap);
  exit(status);
}
