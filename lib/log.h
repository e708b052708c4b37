/* Logging to stderr, one line per event: "dbsetup: LEVEL: message". */
#ifndef DBS_LOG_H
#define DBS_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum dbs_log_level {
  DBS_LOG_DEBUG = 0,
  DBS_LOG_INFO = 1,
  DBS_LOG_WARN = 2,
  DBS_LOG_ERROR = 3,
};

/* Sets the lowest level that is printed (default DBS_LOG_INFO). */
void dbs_log_set_level(enum dbs_log_level level);
enum dbs_log_level dbs_log_get_level(void);

/* Parses "debug", "info", "warn" or "error". Returns 0 or -EINVAL. */
int dbs_log_parse_level(const char* s, enum dbs_log_level* out);

/*
 * Registers a secret (an access key, a password in a URL). Every later log
 * line has each registered secret replaced by "[REDACTED]". The string is
 * copied; empty strings and strings shorter than 4 bytes are ignored.
 * Returns 0 or -ENOMEM.
 */
int dbs_log_add_secret(const char* secret);

/*
 * Copies s into buf (size n, always NUL-terminated) with every registered
 * secret replaced. Returns buf.
 */
char* dbs_log_redact(const char* s, char* buf, size_t n);

void dbs_log_debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void dbs_log_info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/* dbs_log_warn appends ": strerror(errno)"; dbs_log_warnx does not. */
void dbs_log_warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void dbs_log_warnx(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void dbs_log_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void dbs_log_errorx(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void dbs_log_vlog(enum dbs_log_level level, int errnum, const char* fmt,
                  va_list ap);

/*
 * A status line (the restore's progress on a terminal: "\r...", no
 * newline) is about to be written to stderr: the next log line, from any
 * thread, ends it first, so that it does not land at the end of the
 * status. dbs_log_status_close ends it now if it is still open.
 */
void dbs_log_status_open(void);
void dbs_log_status_close(void);

/* Logs at error level and exits with status. Start-up phases only. */
void dbs_fatalx(int status, const char* fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* As dbs_fatalx, appending ": strerror(errno)". */
void dbs_fatal(int status, const char* fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
