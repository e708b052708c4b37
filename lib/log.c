/* Logging to stderr with levels and redaction of registered secrets. */
#define _GNU_SOURCE /* memrchr */
#include "log.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
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
static bool secret_starts[256]; /* lower-cased first bytes of the secrets */
static bool secrets_lost;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
/* A terminal status line without its newline is on stderr. */
static atomic_bool status_open;

static const char* const level_names[] = {"debug", "info", "warn", "error"};
static const char mask[] = "[REDACTED]";
static const char withheld[] = "[line withheld: a secret could not be "
                               "registered for redaction (out of memory)]";

void dbs_log_set_level(enum dbs_log_level level) {
  assert(level >= DBS_LOG_DEBUG && level <= DBS_LOG_ERROR);
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
  secret_starts[tolower((unsigned char)copy[0])] = true;
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
    if (!secret_starts[tolower((unsigned char)s[i])]) {
      i++; /* no secret starts with this byte: the common case */
      continue;
    }
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

/* ---- Output: never blocking on a stalled reader ------------------------
 *
 * dbsetup's event loop writes its own lines and relays the replicator's.
 * When stderr's reader stalls (a blocking log driver, a paused terminal, a
 * stopped pipe reader) a blocking write would freeze supervision: no
 * signal forwarded, no stop timeout, nothing reaped. So lines are written
 * without blocking, kept in a bounded buffer when the reader is behind,
 * and dropped (counted) when the buffer is full; a note saying how many
 * were dropped goes out in their place once there is room again.
 *
 * How to write without blocking: fd 2's open file description is shared
 * with the children (the app writes its own output there), and O_NONBLOCK
 * belongs to the description, so setting it on fd 2 would make the app's
 * writes fail with EAGAIN. Instead:
 *  - a pipe, FIFO, terminal or other character device is opened again
 *    through /proc/self/fd/2 with O_NONBLOCK: a new description of the same
 *    pipe or device, ours alone (it is close-on-exec);
 *  - a socket (journald, some log drivers) gets send(MSG_DONTWAIT), a
 *    per-call flag;
 *  - a regular file or block device never stalls on a reader: plain write;
 *  - when the reopen fails (no /proc, no permission), a write goes out only
 *    when poll() says fd 2 has room, and at most PIPE_BUF bytes at once,
 *    which the kernel then takes whole (only another writer filling the
 *    pipe between the two calls could still block it).
 * A writer thread would also avoid the flag, but it would reorder lines
 * against the restore's progress output and complicate fork().
 */
#define OUT_PENDING_MAX (256u * 1024u)
#define OUT_EXIT_FLUSH_MS 500

enum out_mode {
  OUT_UNSET,
  OUT_DIRECT, /* regular file: blocking writes to fd 2 */
  OUT_OWN,    /* our own O_NONBLOCK open of stderr */
  OUT_SOCKET, /* send(MSG_DONTWAIT) on fd 2 */
  OUT_POLL,   /* poll, then at most PIPE_BUF bytes to fd 2 */
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  enum out_mode mode;
  int fd;    /* where lines go */
  dev_t dev; /* fd 2's identity when set up: a new stderr (a test's */
  ino_t ino; /* dup2) is set up anew */
  pid_t pid; /* a forked child sets up its own, keeping nothing */
  char* buf; /* pending bytes: buf[off, off + len) */
  size_t off, len;
  unsigned long dropped; /* lines dropped since the last note */
  bool exit_hook;
} out = {.fd = -1};

static void lock_all(void) {
  pthread_mutex_lock(&secrets_lock);
  pthread_mutex_lock(&out_lock);
}

static void unlock_all(void) {
  pthread_mutex_unlock(&out_lock);
  pthread_mutex_unlock(&secrets_lock);
}

/* A fork while another thread logs must not leave the child a held lock. */
__attribute__((constructor)) static void log_atfork(void) {
  pthread_atfork(lock_all, unlock_all, unlock_all);
}

static void flush_at_exit(void);

/* Sets out up for the current fd 2. Caller holds out_lock. */
static void out_setup_locked(void) {
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0) {
    memset(&st, 0, sizeof(st));
    st.st_mode = S_IFREG; /* closed: writes fail and are ignored */
  }
  if (out.mode != OUT_UNSET && out.pid == getpid() && st.st_dev == out.dev &&
      st.st_ino == out.ino)
    return;
  if (out.mode == OUT_OWN)
    close(out.fd);
  out.off = out.len = 0; /* a parent's pending lines are its own to write */
  out.dropped = 0;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.pid = getpid();
  out.fd = STDERR_FILENO;
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    out.mode = OUT_DIRECT;
  } else if (S_ISSOCK(st.st_mode)) {
    out.mode = OUT_SOCKET;
  } else {
    struct stat own;
    int fd =
        open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0 && fd <= 2) {
      /* 0 or 1 was closed: our description must not take its place (the
       * children would get it as their stdin or stdout). */
      int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
      close(fd);
      fd = hi;
    }
    if (fd >= 0 && fstat(fd, &own) == 0 && own.st_dev == st.st_dev &&
        own.st_ino == st.st_ino) {
      out.mode = OUT_OWN;
      out.fd = fd;
    } else {
      if (fd >= 0)
        close(fd);
      out.mode = OUT_POLL;
    }
  }
  if (!out.exit_hook) {
    out.exit_hook = true;
    atexit(flush_at_exit);
  }
}

/*
 * Writes what it can of p[0, len) without blocking (but in OUT_DIRECT).
 * Returns the bytes taken, or -1 when the reader is behind (nothing taken).
 * A dead reader (EPIPE, EBADF, ...) takes everything: there is nobody to
 * wait for.
 */
static ssize_t out_try_write(const char* p, size_t len) {
  for (;;) {
    ssize_t n;
    switch (out.mode) {
    case OUT_SOCKET:
      n = send(out.fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
      break;
    case OUT_POLL: {
      struct pollfd pfd = {.fd = out.fd, .events = POLLOUT};
      if (poll(&pfd, 1, 0) == 0)
        return -1;
      n = write(out.fd, p, len < PIPE_BUF ? len : PIPE_BUF);
      break;
    }
    default:
      n = write(out.fd, p, len);
      break;
    }
    if (n >= 0)
      return n;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return -1;
    return (ssize_t)len;
  }
}

/* Appends to the pending buffer (room was checked). Caller holds out_lock. */
static void out_append(const char* p, size_t len) {
  assert(out.len + len <= OUT_PENDING_MAX);
  if (out.buf == NULL && (out.buf = malloc(OUT_PENDING_MAX)) == NULL)
    return;
  if (out.off + out.len + len > OUT_PENDING_MAX) {
    memmove(out.buf, out.buf + out.off, out.len);
    out.off = 0;
  }
  memcpy(out.buf + out.off + out.len, p, len);
  out.len += len;
}

/* Queues the "lines dropped" note if it fits with extra bytes after it. */
static bool out_note_locked(size_t extra) {
  char note[128];
  int n = snprintf(note, sizeof(note),
                   "dbsetup: warn: %lu line(s) dropped: stderr was not "
                   "being read\n",
                   out.dropped);
  if (out.len + (size_t)n + extra > OUT_PENDING_MAX)
    return false;
  out_append(note, (size_t)n);
  out.dropped = 0;
  return true;
}

/* Writes pending bytes until done or the reader is behind. Returns true
 * when nothing is left. Caller holds out_lock. */
static bool out_flush_locked(void) {
  for (;;) {
    while (out.len > 0) {
      /* Whole lines of at most PIPE_BUF bytes: the kernel writes those to a
       * pipe in one piece, never interleaved with the app's output. */
      const char* p = out.buf + out.off;
      size_t chunk = out.len;
      if (chunk > PIPE_BUF) {
        const char* nl = memrchr(p, '\n', PIPE_BUF);
        chunk = nl != NULL ? (size_t)(nl - p) + 1 : PIPE_BUF;
      }
      ssize_t n = out_try_write(p, chunk);
      if (n < 0)
        return false;
      out.off += (size_t)n;
      out.len -= (size_t)n;
    }
    out.off = 0;
    if (out.dropped == 0)
      return true;
    out_note_locked(0);
  }
}

/* Writes one whole line, or queues it, or drops it. */
static void write_line(const char* p, size_t len) {
  pthread_mutex_lock(&out_lock);
  out_setup_locked();
  if (out_flush_locked()) {
    ssize_t n = out_try_write(p, len);
    if (n < 0)
      n = 0;
    p += n; /* the rest of a partly written line must follow it */
    len -= (size_t)n;
    if (len > 0)
      out_append(p, len);
  } else if (out.dropped > 0 ? out_note_locked(len)
                             : out.len + len <= OUT_PENDING_MAX) {
    out_append(p, len);
  } else {
    out.dropped++;
  }
  pthread_mutex_unlock(&out_lock);
}

bool dbs_log_flush(void) {
  pthread_mutex_lock(&out_lock);
  bool done =
      out.mode == OUT_UNSET || out.pid != getpid() || out_flush_locked();
  pthread_mutex_unlock(&out_lock);
  return done;
}

/* At exit: a reader that is merely slow gets the last lines, a stalled one
 * delays the exit by OUT_EXIT_FLUSH_MS at most. */
static void flush_at_exit(void) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (!dbs_log_flush()) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms =
        (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
    if (ms >= OUT_EXIT_FLUSH_MS)
      return;
    struct pollfd pfd = {.fd = out.fd, .events = POLLOUT};
    if (poll(&pfd, 1, (int)(OUT_EXIT_FLUSH_MS - ms)) < 0 && errno != EINTR)
      return;
  }
}

void dbs_log_status_open(void) {
  atomic_store(&status_open, true);
}

void dbs_log_status_close(void) {
  if (atomic_exchange(&status_open, false))
    write_line("\n", 1);
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

/* The last error line, redacted, for dbsetup doctor's verdict. */
static bool remember_errors;
static char last_error[LOG_LINE_MAX];

void dbs_log_remember_errors(bool on) {
  remember_errors = on;
  last_error[0] = '\0';
}

const char* dbs_log_last_error(void) {
  return last_error;
}

void dbs_log_vlog(enum dbs_log_level level, int errnum, const char* fmt,
                  va_list ap) {
  char small[1024], *msg = small;
  assert(level >= DBS_LOG_DEBUG && level <= DBS_LOG_ERROR);
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
  if (remember_errors && level >= DBS_LOG_ERROR && !m.oom)
    dbs_log_redact(m.p, last_error, sizeof(last_error));
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
