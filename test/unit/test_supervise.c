/* Unit tests for supervise: backoff, exit-status mapping, state machine. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitcode.h"
#include "proc.h"
#include "supervise.h"

static void test_backoff_doubles_to_60s(void** state) {
  struct dbs_backoff b;
  static const unsigned want[] = {1000,  2000,  4000,  8000, 16000,
                                  32000, 60000, 60000, 60000};
  dbs_supervise_backoff_init(&b);
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    assert_int_equal(dbs_supervise_backoff_next(&b, 10), want[i]);
}

static void test_backoff_resets_after_60s_uptime(void** state) {
  struct dbs_backoff b;
  dbs_supervise_backoff_init(&b);
  for (int i = 0; i < 5; i++)
    dbs_supervise_backoff_next(&b, 500);
  assert_int_equal(dbs_supervise_backoff_next(&b, 59999), 32000); /* no reset */
  assert_int_equal(dbs_supervise_backoff_next(&b, 60000), 1000);  /* reset */
  assert_int_equal(dbs_supervise_backoff_next(&b, 0), 2000);
  assert_int_equal(dbs_supervise_backoff_next(&b, 3600000), 1000);
}

static void test_exit_code_mapping(void** state) {
  for (int code = 0; code <= 255; code++)
    assert_int_equal(dbs_proc_exit_code(W_EXITCODE(code, 0)), code);
  for (int sig = 1; sig < 65; sig++)
    assert_int_equal(dbs_proc_exit_code(W_EXITCODE(0, sig)), 128 + sig);
  assert_int_equal(dbs_proc_exit_code(W_STOPCODE(SIGSTOP)), DBS_EXIT_SOFTWARE);
  assert_int_equal(dbs_proc_spawn_exit_code(-ENOENT), DBS_EXIT_NOTFOUND);
  assert_int_equal(dbs_proc_spawn_exit_code(-EACCES), DBS_EXIT_NOEXEC);
  assert_int_equal(dbs_proc_spawn_exit_code(-ENOEXEC), DBS_EXIT_NOEXEC);
  assert_int_equal(dbs_proc_spawn_exit_code(-EISDIR), DBS_EXIT_NOEXEC);
}

/* Feeds events in order; checks the states and actions along the way. */
struct step {
  enum dbs_child_event ev;
  enum dbs_child_state want_state;
  enum dbs_child_action want_act;
};

static void run_steps(bool restart, const struct step* steps, size_t n) {
  enum dbs_child_state s = DBS_CHILD_DOWN;
  for (size_t i = 0; i < n; i++) {
    enum dbs_child_action act = (enum dbs_child_action) - 1;
    s = dbs_supervise_transition(s, steps[i].ev, restart, &act);
    assert_int_equal(s, steps[i].want_state);
    assert_int_equal(act, steps[i].want_act);
  }
}

#define RUN(restart, ...)                                                      \
  do {                                                                         \
    const struct step st[] = {__VA_ARGS__};                                    \
    run_steps(restart, st, sizeof(st) / sizeof(st[0]));                        \
  } while (0)

static void test_app_lifecycles(void** state) {
  /* Exits by itself. */
  RUN(false, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_TIMER, DBS_CHILD_UP, DBS_ACT_NONE},
      {DBS_EV_EXIT, DBS_CHILD_DOWN, DBS_ACT_EXITED},
      {DBS_EV_STOP, DBS_CHILD_DOWN, DBS_ACT_NONE},
      {DBS_EV_EXIT, DBS_CHILD_DOWN, DBS_ACT_NONE});
  /* Stop signal, exits in time. */
  RUN(false, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_STOP, DBS_CHILD_STOPPING, DBS_ACT_SIGNAL},
      {DBS_EV_EXIT, DBS_CHILD_DOWN, DBS_ACT_EXITED});
  /* Stop signal, --stop-timeout runs out. */
  RUN(false, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_STOP, DBS_CHILD_STOPPING, DBS_ACT_SIGNAL},
      {DBS_EV_TIMER, DBS_CHILD_KILLED, DBS_ACT_KILL},
      {DBS_EV_STOP, DBS_CHILD_KILLED, DBS_ACT_NONE},
      {DBS_EV_EXIT, DBS_CHILD_DOWN, DBS_ACT_EXITED});
  /* A second stop signal escalates at once. */
  RUN(false, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_STOP, DBS_CHILD_STOPPING, DBS_ACT_SIGNAL},
      {DBS_EV_STOP, DBS_CHILD_KILLED, DBS_ACT_KILL},
      {DBS_EV_TIMER, DBS_CHILD_KILLED, DBS_ACT_NONE},
      {DBS_EV_EXIT, DBS_CHILD_DOWN, DBS_ACT_EXITED});
}

static void test_replicator_lifecycles(void** state) {
  /* Dies while the app runs: backoff, restart, dies again. */
  RUN(true, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_EXIT, DBS_CHILD_BACKOFF, DBS_ACT_RETRY},
      {DBS_EV_EXIT, DBS_CHILD_BACKOFF, DBS_ACT_NONE},
      {DBS_EV_TIMER, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_EXIT, DBS_CHILD_BACKOFF, DBS_ACT_RETRY},
      /* The app goes away during the backoff: no restart. */
      {DBS_EV_STOP, DBS_CHILD_DOWN, DBS_ACT_CANCEL},
      {DBS_EV_TIMER, DBS_CHILD_DOWN, DBS_ACT_NONE});
  /* Stopped: its shell exits first, litestream behind it later. */
  RUN(true, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_STOP, DBS_CHILD_STOPPING, DBS_ACT_SIGNAL},
      {DBS_EV_EXIT, DBS_CHILD_DRAINING, DBS_ACT_EXITED},
      {DBS_EV_EXIT, DBS_CHILD_DRAINING, DBS_ACT_NONE},
      {DBS_EV_EMPTY, DBS_CHILD_DOWN, DBS_ACT_DRAINED});
  /* Its group outlives --replicator-stop-timeout. */
  RUN(true, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_STOP, DBS_CHILD_STOPPING, DBS_ACT_SIGNAL},
      {DBS_EV_EXIT, DBS_CHILD_DRAINING, DBS_ACT_EXITED},
      {DBS_EV_TIMER, DBS_CHILD_DRAINING, DBS_ACT_KILL},
      {DBS_EV_EMPTY, DBS_CHILD_DOWN, DBS_ACT_DRAINED});
  /* Killed after the timeout, then its group empties. */
  RUN(true, {DBS_EV_START, DBS_CHILD_UP, DBS_ACT_SPAWN},
      {DBS_EV_STOP, DBS_CHILD_STOPPING, DBS_ACT_SIGNAL},
      {DBS_EV_TIMER, DBS_CHILD_KILLED, DBS_ACT_KILL},
      {DBS_EV_EXIT, DBS_CHILD_DRAINING, DBS_ACT_EXITED},
      {DBS_EV_EMPTY, DBS_CHILD_DOWN, DBS_ACT_DRAINED});
}

/* Properties of the whole table, for both kinds of child. */
static void test_table_invariants(void** state) {
  for (int restart = 0; restart <= 1; restart++) {
    for (int s = 0; s < DBS_CHILD_NSTATES; s++) {
      for (int e = 0; e < DBS_EV_NEVENTS; e++) {
        enum dbs_child_action act;
        enum dbs_child_state n = dbs_supervise_transition(s, e, restart, &act);
        assert_in_range(n, 0, DBS_CHILD_NSTATES - 1);
        /* Only a start, or a restart timer, ever spawns. */
        if (act == DBS_ACT_SPAWN)
          assert_true((s == DBS_CHILD_DOWN && e == DBS_EV_START) ||
                      (restart && s == DBS_CHILD_BACKOFF && e == DBS_EV_TIMER));
        /* A stop request never leaves a child running unsignalled. */
        if (e == DBS_EV_STOP)
          assert_true(n != DBS_CHILD_UP && n != DBS_CHILD_BACKOFF);
        /* The app is never restarted. */
        if (!restart)
          assert_true(n != DBS_CHILD_BACKOFF || s == DBS_CHILD_BACKOFF);
        /* Whatever stops a stopping child is SIGKILL. */
        if ((s == DBS_CHILD_STOPPING || s == DBS_CHILD_DRAINING) &&
            (e == DBS_EV_STOP || e == DBS_EV_TIMER) &&
            (restart || s != DBS_CHILD_DRAINING))
          assert_int_equal(act, DBS_ACT_KILL);
      }
    }
  }
}

/*
 * lib/ checks its invariants with assert() in every build type, the
 * RelWithDebInfo and Release ones included (lib/README.md, "Errors";
 * CMakeLists.txt drops CMake's -DNDEBUG): an out-of-range state given to
 * the transition table aborts instead of reading past it.
 */
static void test_asserts_are_on(void** state) {
#ifdef NDEBUG
  fail_msg("NDEBUG is defined: assert() is compiled out of this build");
#endif
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGABRT, SIG_DFL);
    enum dbs_child_action act;
    (void)dbs_supervise_transition(DBS_CHILD_NSTATES, DBS_EV_START, false,
                                   &act);
    _exit(0); /* the assert did not fire */
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGABRT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backoff_doubles_to_60s),
      cmocka_unit_test(test_backoff_resets_after_60s_uptime),
      cmocka_unit_test(test_exit_code_mapping),
      cmocka_unit_test(test_app_lifecycles),
      cmocka_unit_test(test_replicator_lifecycles),
      cmocka_unit_test(test_table_invariants),
      cmocka_unit_test(test_asserts_are_on),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
