/*
 * Logging to stderr, one line per event: "dbsetup: LEVEL: message". Lines
 * are never written with a blocking call that a stalled reader could hold
 * up: when stderr's reader is behind they wait in a bounded buffer (256
 * KiB), then are dropped and counted ("dbsetup: warn: N line(s) dropped"),
 * and at exit the buffer gets at most 0.5 s to drain.
 *
 * What a failing function returns, and who logs it, is lib/README.md's
 * "Errors" paragraph (the one error convention); its "Map" lists the
 * modules and their layers.
 */
#ifndef DBS_LOG_H
#define DBS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
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

struct dbs_strbuf;

/*
 * Registers a secret (an access key, a password in a URL). Every later log
 * line has each registered secret replaced by "[REDACTED]", in any letter
 * case. The string is copied; NULL and strings shorter than 4 bytes are
 * ignored. There is no limit on their number. Returns 0 or -ENOMEM; after
 * a failed registration every line is withheld (fail closed) rather than
 * printed with a secret that could not be masked.
 */
int dbs_log_add_secret(const char* secret);

/*
 * Registers the password of a URL's userinfo ("https://user:pw@host",
 * scheme optional), as written and percent-decoded. Returns 0 or -ENOMEM.
 */
int dbs_log_add_url_secret(const char* url);

/*
 * Registers the credentials the environment holds (AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, LITESTREAM_SECRET_ACCESS_KEY, ..., and the password
 * of every URL-valued variable), whoever reads them. Runs once; every
 * redaction runs it first.
 */
void dbs_log_add_env_secrets(void);

/*
 * Copies s into buf (size n, always NUL-terminated) with every registered
 * secret replaced; the whole of s is redacted before the result is cut to
 * fit. Returns buf.
 */
char* dbs_log_redact(const char* s, char* buf, size_t n);

/*
 * Redacts s[0, len) and appends it to out. When more is set, s is the
 * start of a longer text: the scan stops where a registered secret could
 * begin without ending inside s, and returns how many bytes were consumed
 * (the caller keeps the rest and calls again with what follows). Returns
 * len when more is false.
 */
size_t dbs_log_redact_part(const char* s, size_t len, bool more,
                           struct dbs_strbuf* out);

/*
 * Writes prefix, then s[0, len) redacted, as one line on stderr (a relayed
 * child's line: "[replicator] ...").
 */
void dbs_log_line(const char* prefix, const char* s, size_t len);

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
 * From dbs_log_remember_errors(true) on, the text of the last line logged
 * at error level (redacted, without the "dbsetup: error: " prefix) is kept
 * for dbs_log_last_error ("" before any). dbsetup doctor names the reason
 * of its verdict with it.
 */
void dbs_log_remember_errors(bool on);
const char* dbs_log_last_error(void);

/*
 * Writes what is pending for stderr as far as its reader takes it now.
 * Returns true when nothing is left pending. The supervisor calls it
 * while lines are pending (any later log line also tries first).
 */
bool dbs_log_flush(void);

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
