/* Unit tests for log: redaction of registered and environment secrets, and
 * output that never blocks on a stalled reader. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "strbuf.h"

#define ENV_SECRET "EnvS3cret-value/0123456789"
#define ENV_TOKEN "EnvT0ken-value/abcdefghij"
#define ENV_LSKEY "EnvLsK3y-value/klmnopqrst"
#define ENV_EP_PW "EnvEpPw-value99"

/* Runs fn with stderr sent to a file; returns what was written (free it). */
static char* capture_stderr(void (*fn)(void)) {
  char path[] = "/tmp/test_log.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  int saved = dup(STDERR_FILENO);
  assert_true(saved >= 0);
  assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
  fn();
  assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
  close(saved);
  off_t len = lseek(fd, 0, SEEK_END);
  char* buf = calloc(1, (size_t)len + 1);
  assert_non_null(buf);
  assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
  close(fd);
  return buf;
}

/* A case-insensitive strstr: secrets are redacted in any case. */
static bool contains(const char* hay, const char* needle) {
  return strcasestr(hay, needle) != NULL;
}

/* Registered by main() before anything was redacted. */
static void test_env_secrets_registered(void** state) {
  char red[512];
  dbs_log_redact("k=" ENV_SECRET " t=" ENV_TOKEN " l=" ENV_LSKEY
                 " ep=https://u:" ENV_EP_PW "@h",
                 red, sizeof(red));
  assert_string_equal(red, "k=[REDACTED] t=[REDACTED] l=[REDACTED] "
                           "ep=https://u:[REDACTED]@h");
}

/* dbsetup doctor's verdict: the last error line, redacted, without the
 * prefix; warnings and info lines do not replace it; quiet levels still
 * keep it. */
static void log_for_verdict(void) {
  dbs_log_errorx("first error");
  dbs_log_errorx("cannot reach https://u:" ENV_EP_PW "@h with %s", ENV_SECRET);
  dbs_log_warnx("a warning after it");
  dbs_log_info("an info line");
}

static void test_last_error_kept_redacted(void** state) {
  (void)state;
  assert_string_equal(dbs_log_last_error(), "");
  dbs_log_errorx("before remembering");
  assert_string_equal(dbs_log_last_error(), "");
  dbs_log_remember_errors(true);
  enum dbs_log_level lv = dbs_log_get_level();
  dbs_log_set_level(DBS_LOG_ERROR);
  free(capture_stderr(log_for_verdict));
  dbs_log_set_level(lv);
  assert_string_equal(dbs_log_last_error(),
                      "cannot reach https://u:[REDACTED]@h with [REDACTED]");
  dbs_log_remember_errors(false);
  assert_string_equal(dbs_log_last_error(), "");
}

#define CUT_SECRET "S3cret-across-the-cut-0123456789"

static void log_long_line(void) {
  char pad[5000];
  /* The secret straddles the old 4096-byte formatting cut. */
  memset(pad, 'a', 4080);
  pad[4080] = '\0';
  dbs_log_warnx("%s%s and more", pad, CUT_SECRET);
  memset(pad, 'b', sizeof(pad) - 1);
  pad[sizeof(pad) - 1] = '\0';
  dbs_log_errorx("%s%s%s", pad, pad, CUT_SECRET); /* beyond 8 KiB */
  dbs_log_errorx("%s%s%s%s%s", pad, pad, pad, pad, CUT_SECRET); /* cut */
}

static void test_long_message_redacted_whole(void** state) {
  assert_int_equal(dbs_log_add_secret(CUT_SECRET), 0);
  char* out = capture_stderr(log_long_line);
  assert_false(contains(out, "S3cret-acr"));
  assert_false(contains(out, "-0123456789"));
  assert_non_null(strstr(out, "[REDACTED] and more\n"));
  assert_non_null(strstr(out, "b[REDACTED]\n"));
  /* The cut line still ends with a newline, and is cut, not dropped. */
  assert_non_null(strstr(out, "dbsetup: error: bbbb"));
  assert_int_equal(out[strlen(out) - 1], '\n');
  free(out);
}

static void test_redact_part_holds_back_a_possible_secret(void** state) {
  assert_int_equal(dbs_log_add_secret(CUT_SECRET), 0);
  char text[200];
  snprintf(text, sizeof(text), "%s%s%s", "head ", CUT_SECRET, " tail");
  size_t cut = 5 + 10; /* inside the secret */
  struct dbs_strbuf out = {0};
  size_t used = dbs_log_redact_part(text, cut, true, &out);
  assert_true(used <= 5); /* the possible start of a secret is kept */
  char rest[200];
  snprintf(rest, sizeof(rest), "%.*s", (int)(strlen(text) - used), text + used);
  dbs_log_redact_part(rest, strlen(rest), false, &out);
  assert_non_null(out.p);
  assert_string_equal(out.p, "head [REDACTED] tail");
  free(out.p);

  /* Without more, everything is consumed. */
  struct dbs_strbuf all = {0};
  assert_int_equal(dbs_log_redact_part(text, cut, false, &all), cut);
  free(all.p);
}

static void test_no_fixed_limit(void** state) {
  char s[64], red[128];
  for (int i = 0; i < 200; i++) {
    snprintf(s, sizeof(s), "many-secret-%03d-value", i);
    assert_int_equal(dbs_log_add_secret(s), 0);
  }
  for (int i = 0; i < 200; i += 33) {
    snprintf(s, sizeof(s), "x many-secret-%03d-value y", i);
    dbs_log_redact(s, red, sizeof(red));
    assert_string_equal(red, "x [REDACTED] y");
  }
  dbs_log_redact("x many-secret-199-value y", red, sizeof(red));
  assert_string_equal(red, "x [REDACTED] y");
}

static void test_url_secret_any_case_and_decoded(void** state) {
  char red[256];
  assert_int_equal(dbs_log_add_url_secret(
                       "https://EpUser:PaSs%2Fw0rd-Ep@Host.Example:9000/p"),
                   0);
  assert_int_equal(dbs_log_add_url_secret("User2:Pw2-NoScheme@host"), 0);
  dbs_log_redact("at http://epuser:pass%2fw0rd-ep@host.example:9000", red,
                 sizeof(red));
  assert_string_equal(red, "at http://epuser:[REDACTED]@host.example:9000");
  dbs_log_redact("decoded PASS/W0RD-EP", red, sizeof(red));
  assert_string_equal(red, "decoded [REDACTED]");
  dbs_log_redact("pw2-noscheme", red, sizeof(red));
  assert_string_equal(red, "[REDACTED]");
  /* No password, nothing registered: the host stays readable. */
  assert_int_equal(dbs_log_add_url_secret("https://justuser@host2"), 0);
  dbs_log_redact("justuser@host2", red, sizeof(red));
  assert_string_equal(red, "justuser@host2");
}

static void test_redact_cuts_after_redacting(void** state) {
  char red[16];
  assert_int_equal(dbs_log_add_secret("abcdefghijklmnopqrstuvwxyz"), 0);
  /* The output is cut, never the input before redaction. */
  dbs_log_redact("0123abcdefghijklmnopqrstuvwxyz", red, sizeof(red));
  assert_string_equal(red, "0123[REDACTED]");
  dbs_log_redact("0123456789abcdefghijklmnopqrstuvwxyz", red, sizeof(red));
  assert_string_equal(red, "0123456789[REDA");
}

static void on_alarm(int sig) {
  static const char msg[] = "test_log: logging blocked on a full pipe\n";
  (void)!write(1, msg, sizeof(msg) - 1);
  _exit(1);
}

/* Reads what the pipe holds now. */
static size_t drain(int fd, char* buf, size_t n) {
  size_t got = 0;
  ssize_t r;
  while (got < n - 1 && (r = read(fd, buf + got, n - 1 - got)) > 0)
    got += (size_t)r;
  buf[got] = '\0';
  return got;
}

static void test_full_pipe_never_blocks(void** state) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  int saved = dup(STDERR_FILENO);
  assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
  /* Our writes must not make the shared description non-blocking. */
  int fl = fcntl(STDERR_FILENO, F_GETFL);
  signal(SIGALRM, on_alarm);
  alarm(20);
  for (int i = 0; i < 8000; i++) /* ~480 KB into a 64 KiB pipe */
    dbs_log_info("line %05d of a flood nobody reads right now", i);
  alarm(0);
  assert_int_equal(fcntl(STDERR_FILENO, F_GETFL), fl);
  assert_false(dbs_log_flush()); /* still pending */

  /* The reader comes back: pending lines, then the note, then new ones. */
  static char buf[4 << 20];
  size_t got = 0;
  for (int i = 0; i < 100 && !dbs_log_flush(); i++)
    got += drain(p[0], buf + got, sizeof(buf) - got);
  dbs_log_info("after the stall");
  got += drain(p[0], buf + got, sizeof(buf) - got);
  assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
  close(saved);
  close(p[0]);
  close(p[1]);

  assert_non_null(strstr(buf, "line 00000 of"));
  char* note = strstr(buf, "line(s) dropped: stderr was not being read\n");
  assert_non_null(note);
  char* after = strstr(buf, "dbsetup: info: after the stall\n");
  assert_non_null(after);
  assert_true(after > note);
  assert_null(strstr(buf, "line 07999 of")); /* dropped, counted */
  /* Every line came out whole: complete lines only. */
  assert_int_equal(buf[got - 1], '\n');
  for (char* l = buf; *l != '\0'; l = strchr(l, '\n') + 1)
    assert_memory_equal(l, "dbsetup: ", 9);
}

int main(void) {
  /* Before anything is logged or redacted: the scan runs once. */
  setenv("AWS_SECRET_ACCESS_KEY", ENV_SECRET, 1);
  setenv("AWS_SESSION_TOKEN", ENV_TOKEN, 1);
  setenv("LITESTREAM_SECRET_ACCESS_KEY", ENV_LSKEY, 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://EpUser:" ENV_EP_PW "@127.0.0.1:1", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_env_secrets_registered),
      cmocka_unit_test(test_last_error_kept_redacted),
      cmocka_unit_test(test_long_message_redacted_whole),
      cmocka_unit_test(test_redact_part_holds_back_a_possible_secret),
      cmocka_unit_test(test_no_fixed_limit),
      cmocka_unit_test(test_url_secret_any_case_and_decoded),
      cmocka_unit_test(test_redact_cuts_after_redacting),
      cmocka_unit_test(test_full_pipe_never_blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
