/* Logging to stderr with levels and redaction of registered secrets. */
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "strbuf.h"

extern char** environ;

/* The longest line written, after redaction; the rest is cut. */
#define LOG_LINE_MAX 16384

/* One registered secret; len cached for the scan. */
struct secret {
  char* s;
  size_t len;
};

static enum dbs_log_level log_level = DBS_LOG_INFO;
/*
 * The registered secrets: grown as needed, never a fixed limit. A
 * registration that failed (out of memory) leaves secrets_lost set, and
 * from then on every line is withheld rather than printed with a secret
 * nobody could mask. secrets_lock guards all four: threads log while
 * others register (the restore's downloads).
 */
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct secret* secrets;
static size_t nsecrets, secrets_cap, secret_maxlen;
static bool secrets_lost;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
/* A terminal status line without its newline is on stderr. */
static atomic_bool status_open;

static const char* const level_names[] = {"debug", "info", "warn", "error"};
static const char mask[] = "[REDACTED]";
static const char withheld[] = "[line withheld: a secret could not be "
                               "registered for redaction (out of memory)]";

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

static int add_secret_len(const char* secret, size_t len) {
  int rc = 0;
  if (secret == NULL || len < 4)
    return 0;
  pthread_mutex_lock(&secrets_lock);
  for (size_t i = 0; i < nsecrets; i++)
    if (secrets[i].len == len && strncasecmp(secrets[i].s, secret, len) == 0)
      goto out;
  if (nsecrets == secrets_cap) {
    size_t cap = secrets_cap ? 2 * secrets_cap : 16;
    struct secret* v = realloc(secrets, cap * sizeof(*v));
    if (v == NULL)
      goto oom;
    secrets = v;
    secrets_cap = cap;
  }
  char* copy = strndup(secret, len);
  if (copy == NULL)
    goto oom;
  secrets[nsecrets].s = copy;
  secrets[nsecrets].len = len;
  nsecrets++;
  if (len > secret_maxlen)
    secret_maxlen = len;
  goto out;
oom:
  secrets_lost = true; /* fail closed: see withheld */
  rc = -ENOMEM;
out:
  pthread_mutex_unlock(&secrets_lock);
  return rc;
}

int dbs_log_add_secret(const char* secret) {
  return secret == NULL ? 0 : add_secret_len(secret, strlen(secret));
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char)tolower((unsigned char)c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int dbs_log_add_url_secret(const char* url) {
  if (url == NULL)
    return 0;
  const char* a = strstr(url, "://");
  a = a != NULL ? a + 3 : url; /* an endpoint may come without a scheme */
  size_t an = strcspn(a, "/?#");
  const char* at = NULL;
  for (size_t i = 0; i < an; i++)
    if (a[i] == '@')
      at = a + i; /* the last '@' ends the userinfo, as Go's url.Parse */
  if (at == NULL)
    return 0;
  const char* colon = memchr(a, ':', (size_t)(at - a));
  if (colon == NULL)
    return 0;
  const char* pw = colon + 1;
  size_t len = (size_t)(at - pw);
  int rc = add_secret_len(pw, len);
  /* Its percent-decoded form, as a client would send and print it. */
  char* dec = malloc(len + 1);
  if (dec == NULL) {
    pthread_mutex_lock(&secrets_lock);
    secrets_lost = true;
    pthread_mutex_unlock(&secrets_lock);
    return -ENOMEM;
  }
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    int h, l;
    if (pw[i] == '%' && i + 2 < len && (h = hexval(pw[i + 1])) >= 0 &&
        (l = hexval(pw[i + 2])) >= 0) {
      dec[o++] = (char)(h * 16 + l);
      i += 2;
    } else {
      dec[o++] = pw[i];
    }
  }
  if (o != len && rc == 0)
    rc = add_secret_len(dec, o);
  free(dec);
  return rc;
}

/*
 * The environment's credentials, whoever reads them: litestream.yml's
 * replicas name some, but a custom --replicate or litestream itself reads
 * them from the environment directly, and prints what it likes.
 */
static void add_env_secrets(void) {
  static const char* const names[] = {
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SECRET_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_SECURITY_TOKEN",
      "LITESTREAM_SECRET_ACCESS_KEY",
      "LITESTREAM_AZURE_ACCOUNT_KEY",
      "AZURE_STORAGE_KEY",
      "AZURE_STORAGE_ACCOUNT_KEY",
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    (void)dbs_log_add_secret(getenv(names[i]));
  /* A password in any URL-valued variable (AWS_ENDPOINT_URL_S3, ...). */
  for (char** e = environ; *e != NULL; e++) {
    const char* v = strchr(*e, '=');
    if (v != NULL && strstr(v, "://") != NULL)
      (void)dbs_log_add_url_secret(v + 1);
  }
}

void dbs_log_add_env_secrets(void) {
  pthread_once(&env_once, add_env_secrets);
}

/*
 * The redaction scan over s[0, len): appends to out, replacing each
 * registered secret (the longest at a position, any letter case, since
 * messages may have lower-cased a host's userinfo). With more set, stops
 * at the first position where a secret could begin without ending inside
 * s and returns it. Caller holds secrets_lock.
 */
static size_t redact_locked(const char* s, size_t len, bool more,
                            struct dbs_strbuf* out) {
  size_t i = 0, lit = 0; /* s[lit, i) is copied as it is */
  if (secrets_lost) {
    dbs_strbuf_adds(out, withheld);
    return len;
  }
  while (i < len) {
    if (more && len - i < secret_maxlen)
      break;
    size_t matched = 0;
    for (size_t k = 0; k < nsecrets; k++) {
      size_t l = secrets[k].len;
      if (l > matched && l <= len - i &&
          strncasecmp(s + i, secrets[k].s, l) == 0)
        matched = l;
    }
    if (matched == 0) {
      i++;
      continue;
    }
    dbs_strbuf_add(out, s + lit, i - lit);
    dbs_strbuf_adds(out, mask);
    i += matched;
    lit = i;
  }
  dbs_strbuf_add(out, s + lit, i - lit);
  return i;
}

size_t dbs_log_redact_part(const char* s, size_t len, bool more,
                           struct dbs_strbuf* out) {
  dbs_log_add_env_secrets();
  pthread_mutex_lock(&secrets_lock);
  size_t n = redact_locked(s, len, more, out);
  pthread_mutex_unlock(&secrets_lock);
  return n;
}

char* dbs_log_redact(const char* s, char* buf, size_t n) {
  struct dbs_strbuf b = {0};
  if (n == 0)
    return buf;
  dbs_log_redact_part(s, strlen(s), false, &b);
  const char* r = b.oom ? withheld : b.p != NULL ? b.p : "";
  size_t len = strlen(r);
  if (len > n - 1)
    len = n - 1; /* cut after redaction: no secret is cut in two */
  memcpy(buf, r, len);
  buf[len] = '\0';
  free(b.p);
  return buf;
}

void dbs_log_status_open(void) {
  atomic_store(&status_open, true);
}

void dbs_log_status_close(void) {
  if (atomic_exchange(&status_open, false))
    (void)!write(STDERR_FILENO, "\n", 1);
}

/* Writes one whole line to stderr. */
static void write_line(const char* p, size_t len) {
  /* One write per line keeps lines whole when children share stderr. */
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(STDERR_FILENO, p + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    off += (size_t)w;
  }
}

/* Writes prefix + redact(s[0, len)) + "\n" as one line of at most
 * LOG_LINE_MAX bytes. */
static void emit(const char* prefix, const char* s, size_t len) {
  struct dbs_strbuf b = {0};
  dbs_strbuf_adds(&b, prefix);
  dbs_log_redact_part(s, len, false, &b);
  if (b.oom) {
    static const char oom[] = "dbsetup: error: out of memory writing a log "
                              "line\n";
    free(b.p);
    write_line(oom, sizeof(oom) - 1);
    return;
  }
  if (b.len > LOG_LINE_MAX - 1)
    b.len = LOG_LINE_MAX - 1; /* cut after redaction */
  b.p[b.len++] = '\n';
  write_line(b.p, b.len);
  free(b.p);
}

void dbs_log_line(const char* prefix, const char* s, size_t len) {
  emit(prefix, s, len);
}

void dbs_log_vlog(enum dbs_log_level level, int errnum, const char* fmt,
                  va_list ap) {
  char small[1024], *msg = small;
  if (level < log_level)
    return;
  va_list aq;
  va_copy(aq, ap);
  int len = vsnprintf(small, sizeof(small), fmt, ap);
  if (len < 0) {
    va_end(aq);
    return;
  }
  /* The whole message, however long: it is redacted before any cut. */
  if ((size_t)len >= sizeof(small) && (msg = malloc((size_t)len + 1)) != NULL)
    vsnprintf(msg, (size_t)len + 1, fmt, aq);
  va_end(aq);
  if (msg == NULL) {
    msg = small;
    len = (int)strlen(small);
  }
  struct dbs_strbuf m = {0};
  dbs_strbuf_add(&m, msg, (size_t)len);
  if (errnum != 0) {
    dbs_strbuf_adds(&m, ": ");
    dbs_strbuf_adds(&m, strerror(errnum));
  }
  if (msg != small)
    free(msg);
  char prefix[64];
  /* A status line left open on the terminal is ended first. */
  snprintf(prefix, sizeof(prefix),
           "%sdbsetup: %s: ", atomic_exchange(&status_open, false) ? "\n" : "",
           level_names[level]);
  if (m.oom)
    emit(prefix, "out of memory formatting a log line", 35);
  else
    emit(prefix, m.p, m.len);
  free(m.p);
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
