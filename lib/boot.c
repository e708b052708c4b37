/* The boot phases before supervision: discover, lock, link, restore,
 * migrate, seed; then the supervisor with the replicator they chose. */
#define _GNU_SOURCE
#include "boot.h"

#include <assert.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "litefs.h"
#include "litefs_boot.h"
#include "litestream_bin.h"
#include "log.h"
#include "prisma_migrate.h"
#include "proc.h"
#include "restore.h"
#include "seedcmd.h"
#include "supervise.h"
#include "volume.h"

#define ERRLEN 1024

void dbs_boot_init(struct dbs_boot* b, const struct dbs_config* cfg) {
  memset(b, 0, sizeof(*b));
  b->cfg = cfg;
  /* Setup commands (migrate, seed, litestream restore) get as long after a
   * stop signal as the app would. */
  dbs_proc_set_stop_timeout(cfg->stop_timeout_ms);
}

bool dbs_boot_has_db(const struct dbs_boot* b) {
  return b->disc.source != DBS_DB_NONE && b->disc.db_path != NULL;
}

/* Appends s to buf as one single-quoted shell word. Returns 0 or -ENOSPC. */
static int shell_quote_append(char* buf, size_t n, const char* s) {
  size_t o = strlen(buf);
  if (o > 0 && o + 1 < n)
    buf[o++] = ' ';
  if (o + 1 >= n)
    return -ENOSPC;
  buf[o++] = '\'';
  for (; *s; s++) {
    if (*s == '\'') {
      if (o + 4 >= n)
        return -ENOSPC;
      memcpy(buf + o, "'\\''", 4);
      o += 4;
    } else {
      if (o + 1 >= n)
        return -ENOSPC;
      buf[o++] = *s;
    }
  }
  if (o + 2 > n)
    return -ENOSPC;
  buf[o++] = '\'';
  buf[o] = '\0';
  return 0;
}

/* Builds a shell command line from argv words. Caller frees. */
static char* shell_join(const char* const* words) {
  size_t n = 64;
  for (size_t i = 0; words[i]; i++)
    n += strlen(words[i]) * 4 + 3;
  char* buf = calloc(1, n);
  if (buf == NULL)
    return NULL;
  for (size_t i = 0; words[i]; i++)
    if (shell_quote_append(buf, n, words[i]) != 0) {
      free(buf);
      return NULL;
    }
  return buf;
}

/* Looks for the litestream binary once. Returns 0 (found or not) or an
 * exit status. */
static int find_bin(struct dbs_boot* b) {
  char err[ERRLEN] = "";
  if (b->bin_searched)
    return 0;
  b->bin_searched = true;
  int rc = dbs_litestream_bin_find(b->cfg->litestream, &b->litestream_bin, err,
                                   sizeof(err));
  if (rc == -ENOMEM)
    return DBS_EXIT_SOFTWARE;
  if (rc != 0 && (b->cfg->litestream != NULL || rc == -ENOEXEC)) {
    dbs_log_errorx("%s", err);
    return DBS_EXIT_CONFIG;
  }
  if (rc != 0)
    dbs_log_debug("%s", err);
  return 0;
}

/*
 * The rules litestream.yml is read by: those of the litestream that
 * dbsetup will start as the replicator (asked with `litestream version`
 * on every boot), else both syntaxes (restore only). Returns 0 or an
 * exit status.
 */
static int choose_rules(struct dbs_boot* b, enum dbs_ls_rules* rules) {
  char err[ERRLEN] = "";
  *rules = DBS_LS_RULES_ANY;
  if (b->cfg->replicate != NULL || b->cfg->no_replicate)
    return 0;
  int rc = find_bin(b);
  if (rc != 0 || b->litestream_bin == NULL)
    return rc;
  rc = dbs_litestream_bin_version(b->litestream_bin, &b->ls_ver, err,
                                  sizeof(err));
  if (rc == -EINTR)
    return DBS_EXIT_SIGNAL_BASE + dbs_proc_stop_signal();
  if (rc != 0) {
    dbs_log_errorx("the replicator: %s", err);
    return DBS_EXIT_CONFIG;
  }
  b->have_ls_ver = true;
  *rules = b->ls_ver.rules;
  dbs_log_info("replicator: %s is litestream %s", b->litestream_bin,
               b->ls_ver.text);
  return 0;
}

int dbs_boot_discover(struct dbs_boot* b) {
  const struct dbs_config* cfg = b->cfg;
  char err[ERRLEN] = "";
  char* lspath = NULL;
  enum dbs_ls_rules rules = DBS_LS_RULES_ANY;
  int rc = dbs_litestream_bin_find_config(cfg->litestream_config, &lspath, err,
                                          sizeof(err));
  if (rc == -ENOENT && cfg->litestream_config != NULL) {
    dbs_log_errorx("%s", err);
    return DBS_EXIT_CONFIG;
  }
  if (rc == -ENOMEM)
    return DBS_EXIT_SOFTWARE;
  if (rc == 0 && (rc = choose_rules(b, &rules)) != 0) {
    free(lspath);
    return rc;
  }
  if (lspath != NULL) {
    rc = dbs_litestream_config_load_rules(lspath, !cfg->no_expand_env, rules,
                                          &b->ls, err, sizeof(err));
    free(lspath);
    if (rc != 0) {
      dbs_log_errorx("%s", err);
      return rc == -ENOMEM ? DBS_EXIT_SOFTWARE : DBS_EXIT_CONFIG;
    }
    b->have_ls = true;
    dbs_log_debug("read %s", b->ls.file);
    for (size_t i = 0; i < b->ls.nwarnings; i++)
      dbs_log_warnx("%s", b->ls.warnings[i]);
    if (b->ls.exec != NULL) {
      dbs_log_errorx("%s sets exec: %s, but dbsetup runs the app itself "
                     "(litestream replicate would start it a second time): "
                     "remove exec from %s",
                     b->ls.file, b->ls.exec, b->ls.file);
      return DBS_EXIT_CONFIG;
    }
  }

  if (dbs_discover(cfg, b->have_ls ? &b->ls : NULL, &b->disc, err,
                   sizeof(err)) != 0) {
    dbs_log_errorx("%s", err);
    return DBS_EXIT_CONFIG;
  }
  if (b->disc.set_env_name != NULL) {
    if (setenv(b->disc.set_env_name, b->disc.set_env_value, 1) != 0)
      dbs_fatal(DBS_EXIT_SOFTWARE, "setenv %s", b->disc.set_env_name);
    dbs_log_info("%s is not set: using %s=%s for every child (the schema "
                 "says url = env(\"%s\"))",
                 b->disc.set_env_name, b->disc.set_env_name,
                 b->disc.set_env_value, b->disc.set_env_name);
  }
  if (!dbs_boot_has_db(b)) {
    if (b->disc.provider != NULL)
      dbs_log_info("the Prisma datasource provider is %s, not sqlite: no "
                   "database setup, running as a plain init",
                   b->disc.provider);
    else
      dbs_log_info("no database configured or found (--db, DATABASE_URL, "
                   "prisma/schema.prisma, litestream.yml): running as a "
                   "plain init");
  }
  return 0;
}

int dbs_boot_user(struct dbs_boot* b) {
  if (b->cfg->user == NULL)
    return 0;
  int rc = dbs_privdrop_resolve(b->cfg->user, &b->creds);
  if (rc == -ENOMEM)
    return DBS_EXIT_SOFTWARE;
  if (rc != 0)
    return DBS_EXIT_USAGE; /* resolve logged the spec and the fix */
  b->have_creds = true;
  if (dbs_privdrop_check(&b->creds) != 0)
    return DBS_EXIT_NOPERM;
  /* Every child runs as the user: give them its home and name, as login
   * and su do. */
  if (setenv("HOME", b->creds.home, 1) != 0 ||
      setenv("USER", b->creds.name, 1) != 0 ||
      setenv("LOGNAME", b->creds.name, 1) != 0)
    return DBS_EXIT_SOFTWARE;
  return 0;
}

static int check_setup(struct dbs_boot* b);
static int check_replication(struct dbs_boot* b);

/* nftw callback: removes a directory once its entries are gone (rmdir
 * fails, harmlessly, on one that is not empty). */
static int rmdir_empty(const char* path, const struct stat* st, int flag,
                       struct FTW* ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    (void)rmdir(path);
  return 0;
}

int dbs_boot_lock(struct dbs_boot* b) {
  char err[ERRLEN] = "";
  struct stat st;

  /* Check before you change: what needs no target first, then what does,
   * undoing the volume directory prepare created for it on a refusal.
   * First the database setups LiteFS would break (litefs.h). */
  int rc = dbs_litefs_check_setup(b->disc.db_path, b->cfg->volume,
                                  dbs_litefs_in_charge(), b->have_creds);
  if (rc == 0)
    rc = check_setup(b);
  if (rc != 0)
    return rc;
  bool had_volume = stat(b->cfg->volume, &st) == 0;
  b->target = b->plan != NULL
                  ? dbs_volume_prepare_check(b->cfg->volume, b->disc.db_path,
                                             &b->plan->volume, err, sizeof(err))
                  : dbs_volume_prepare(b->cfg->volume, b->disc.db_path, err,
                                       sizeof(err));
  if (b->target != NULL && dbs_litefs_on()) { /* <fuse.dir>/<name> */
    free(b->target);
    b->target = strdup(dbs_litefs_target());
  }
  if (b->target == NULL) {
    dbs_log_errorx("%s", err);
    return errno == EINVAL   ? DBS_EXIT_USAGE
           : errno == ENOMEM ? DBS_EXIT_SOFTWARE
                             : DBS_EXIT_CANTCREAT;
  }
  rc = check_replication(b);
  if (rc == 0)
    rc = dbs_litefs_check_litestream(b);
  if (rc != 0) {
    if (!had_volume &&
        b->plan == NULL) { /* empty directories only: it was made just now */
      (void)nftw(b->cfg->volume, rmdir_empty, 16, FTW_DEPTH | FTW_PHYS);
      if (stat(b->cfg->volume, &st) != 0)
        dbs_log_info("removed the volume directory %s again (it did not "
                     "exist before this boot)",
                     b->cfg->volume);
    }
    return rc;
  }
  if (b->plan != NULL) {
    b->plan->lock_checked = true;
    rc = dbs_volume_lock_check(b->cfg->volume, &b->plan->lock_holder, err,
                               sizeof(err));
    if (rc == -ENOSYS) { /* cannot tell: the boot's flock will */
      dbs_log_warnx("%s", err);
      rc = 0;
    }
    if (rc == -EWOULDBLOCK && b->plan->ignore_lock)
      rc = 0; /* reported; the rest is checked as if it were free */
  } else {
    /* The holder's pid is in the message already. */
    rc = dbs_volume_lock(b->cfg->volume, &(pid_t){0}, err, sizeof(err));
  }
  if (rc != 0) {
    dbs_log_errorx("%s", err);
    if (rc == -EWOULDBLOCK)
      return DBS_EXIT_TEMPFAIL;
    return rc == -ELOOP || rc == -EINVAL || rc == -EMLINK ? DBS_EXIT_DATAERR
                                                          : DBS_EXIT_CANTCREAT;
  }
  return 0;
}

int dbs_boot_link(struct dbs_boot* b) {
  char err[ERRLEN] = "";
  assert(b->target != NULL); /* dbs_boot_lock returned 0 */
  int rc = b->plan != NULL
               ? dbs_volume_link_check(b->disc.db_path, b->target,
                                       &b->plan->link, err, sizeof(err))
               : dbs_volume_link(b->disc.db_path, b->target, err, sizeof(err));
  if (rc != 0) {
    dbs_log_errorx("%s", err);
    return rc == -ENOMEM   ? DBS_EXIT_SOFTWARE
           : rc == -EILSEQ ? DBS_EXIT_DATAERR
                           : DBS_EXIT_CANTCREAT;
  }
  return 0;
}

/* With --user: the volume, database and litestream's files belong to the
 * user the children run as. */
static int chown_for_user(struct dbs_boot* b) {
  char err[ERRLEN] = "";
  if (!b->have_creds || geteuid() != 0 || dbs_litefs_on()) /* FUSE: no-op */
    return 0;
  int rc =
      b->plan != NULL
          ? dbs_volume_chown_check(b->cfg->volume, b->target, err, sizeof(err))
          : dbs_volume_chown(b->cfg->volume, b->target, b->creds.uid,
                             b->creds.gid, err, sizeof(err));
  if (rc != 0) {
    dbs_log_errorx("%s", err);
    return rc == -EMLINK   ? DBS_EXIT_DATAERR
           : rc == -ENOMEM ? DBS_EXIT_SOFTWARE
                           : DBS_EXIT_CANTCREAT;
  }
  return 0;
}

/* How long dbsetup waits beyond --stop-timeout for a native migration
 * that interrupts itself at that timeout, before it kills the child. */
#define MIGRATE_KILL_GRACE_MS 2000

/*
 * Runs fn(arg) in a forked child and returns its result (0-255), or -1 when
 * the child could not run or died of a signal (logged). Restores and native
 * migrations run this way: libcurl and libcrypto (OpenSSL 3 never unloads)
 * and the restore's threads and buffers live and die with the child, so
 * the supervisor that stays up for the app's lifetime stays small; the
 * child also dies with dbsetup (parent-death signal). A stop signal is
 * passed on to the child. Without on_stop the child dies of it at once (the
 * caller checks dbs_proc_stop_signal and cleans up): a docker stop or fly
 * deploy during a long restore does not wait for it to end, even with
 * dbsetup as PID 1. With on_stop (a migration) the child handles TERM and
 * INT with it, ignores HUP, and gets SIGKILL only when it still runs
 * kill_after_ms after the stop signal, or at a second one; *killed tells.
 */
static int run_in_child(const char* what, int (*fn)(struct dbs_boot*),
                        struct dbs_boot* b, void (*on_stop)(int),
                        unsigned kill_after_ms, bool* killed) {
  pid_t parent = getpid();
  sigset_t old;
  if (killed != NULL)
    *killed = false;
  dbs_proc_hold_signals(&old);
  pid_t pid = fork();
  if (pid < 0) {
    dbs_log_error("%s: cannot fork", what);
    dbs_proc_release_signals(&old);
    return -1;
  }
  if (pid == 0) {
    /* Dies of a stop signal even if dbsetup was started ignoring it. */
    static const int dfl[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
      signal(dfl[i], SIG_DFL);
    if (on_stop != NULL) {
      struct sigaction sa;
      memset(&sa, 0, sizeof(sa));
      sigemptyset(&sa.sa_mask);
      sa.sa_handler = on_stop;
      sigaction(SIGTERM, &sa, NULL);
      sigaction(SIGINT, &sa, NULL);
      signal(SIGHUP, SIG_IGN);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(DBS_EXIT_SOFTWARE);
    if (dbs_proc_stop_signal() != 0) /* one came before the fork */
      _exit(DBS_EXIT_SIGNAL_BASE + dbs_proc_stop_signal());
    _exit(fn(b) & 0xff);
  }
  int st;
  char who[64];
  snprintf(who, sizeof(who), "the %s", what);
  dbs_proc_set_stop_timeout(on_stop != NULL ? kill_after_ms : 0);
  int k = dbs_proc_wait_forwarding(pid, false, who, &st);
  dbs_proc_set_stop_timeout(b->cfg->stop_timeout_ms);
  if (killed != NULL)
    *killed = k != 0;
  dbs_proc_release_signals(&old);
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (dbs_proc_stop_signal() == 0)
    dbs_log_errorx("%s: the child process died of signal %d", what,
                   WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return -1;
}

/* Finds the litestream.yml entry of the target; a config naming another
 * database is a mismatch (exit 78), never silently ignored. */
static int find_ls_entry(struct dbs_boot* b) {
  if (!b->have_ls || b->ls.ndbs == 0)
    return 0;
  b->ls_db = dbs_litestream_config_find_db(&b->ls, b->target);
  if (b->ls_db == NULL)
    b->ls_db = dbs_litestream_config_find_db(&b->ls, b->disc.db_path);
  if (b->ls_db != NULL) {
    /* Credentials, endpoint and region from the environment, as
     * litestream takes them (LITESTREAM_* on Fly). */
    for (size_t i = 0; i < b->ls_db->nreplicas; i++)
      if (dbs_litestream_config_apply_env(&b->ls_db->replicas[i]) != 0)
        return DBS_EXIT_SOFTWARE;
    return 0;
  }
  if (b->cfg->no_restore && b->cfg->no_replicate)
    return 0;
  dbs_log_errorx("%s replicates %s but the app's database is %s (on the "
                 "volume: %s): fix dbs[].path in %s or set --db (nothing was "
                 "changed)",
                 b->ls.file, b->ls.dbs[0].path, b->disc.db_path, b->target,
                 b->ls.file);
  return DBS_EXIT_CONFIG;
}

static bool replica_bucket_empty(const struct dbs_db_config* db) {
  for (size_t i = 0; i < db->nreplicas; i++)
    if (db->replicas[i].bucket_empty)
      return true;
  return false;
}

static int stopped_during_setup(struct dbs_boot* b, const char* what);

/* Restores through the litestream binary (replica types we do not read
 * ourselves). Returns 0 (restored or no backup) or an exit status. */
static int restore_external(struct dbs_boot* b) {
  if (b->litestream_bin == NULL) {
    dbs_log_errorx("the replica of %s needs the litestream binary to "
                   "restore, and none was found (set --litestream)",
                   b->target);
    return DBS_EXIT_UNAVAILABLE;
  }
  const char* words[16];
  size_t n = 0;
  words[n++] = b->litestream_bin;
  words[n++] = "restore";
  words[n++] = "-config";
  words[n++] = b->ls.file;
  if (b->cfg->no_expand_env)
    words[n++] = "-no-expand-env";
  if (b->cfg->replica != NULL) {
    words[n++] = "-replica";
    words[n++] = b->cfg->replica;
  }
  words[n++] = "-if-replica-exists";
  words[n++] = "-o";
  words[n++] = b->target;
  words[n++] = b->ls_db->path;
  words[n] = NULL;
  char* cmd = shell_join(words);
  if (cmd == NULL)
    return DBS_EXIT_SOFTWARE;
  int status = 0;
  dbs_log_info("restoring %s with %s restore", b->target, b->litestream_bin);
  int rc =
      dbs_proc_run_shell(cmd, NULL, b->have_creds ? &b->creds : NULL, &status);
  free(cmd);
  if (dbs_proc_stop_signal() != 0) /* discards what it wrote (fresh) */
    return stopped_during_setup(b, "the litestream restore");
  if (rc != 0 || dbs_proc_exit_code(status) != 0) {
    dbs_log_errorx("litestream restore of %s failed (exit %d): the backup "
                   "storage may be unreachable; not starting with a fresh "
                   "database",
                   b->target, rc != 0 ? -1 : dbs_proc_exit_code(status));
    dbs_volume_remove_db(b->target);
    return DBS_EXIT_UNAVAILABLE;
  }
  return 0;
}

/*
 * What restore_child exits with besides an exit status of exitcode.h
 * (1-199; 128+N for a stop signal N): the restore's outcomes that are not
 * failures, above every exit status so that run_in_child's result tells
 * them apart (lib/README.md, "Errors"). Never dbsetup's own exit status.
 */
enum child_result {
  CHILD_RESTORED = 200,
  CHILD_NO_BACKUP = 201,
  CHILD_UNSUPPORTED = 202,
};
_Static_assert(DBS_EXIT_SIGNAL_BASE + 64 < CHILD_RESTORED,
               "child results above every exit status");

static int restore_child(struct dbs_boot* b) {
  enum dbs_restore_result res = DBS_RESTORE_EINTERNAL;
  assert(b->ls_db != NULL && b->ls_db->nreplicas > 0);
  int rc = dbs_restore_boot(b->ls_db->replicas, b->ls_db->nreplicas,
                            b->cfg->replica, b->target, &b->restore_opts, &res);
  if (b->plan != NULL)
    b->plan->restore = res;
  if (rc != 0)
    return rc;
  switch (res) {
  case DBS_RESTORE_RESTORED:
    return CHILD_RESTORED;
  case DBS_RESTORE_NO_BACKUP:
    return CHILD_NO_BACKUP;
  case DBS_RESTORE_UNSUPPORTED_TYPE:
    return CHILD_UNSUPPORTED;
  default:
    return DBS_EXIT_SOFTWARE;
  }
}

/* Sets *state to the state of the database at the target (enum
 * dbs_db_state). Returns 0, or an exit status after logging why it cannot
 * be used. A dry run reports an empty file, which the boot removes, as
 * missing. */
static int target_state(struct dbs_boot* b, int* state) {
  char err[ERRLEN] = "";
  int st = b->plan != NULL ? dbs_volume_db_check(b->target, err, sizeof(err))
                           : dbs_volume_db_state(b->target, err, sizeof(err));
  if (b->plan != NULL) {
    b->plan->db_state = st;
    if (st == DBS_DB_EMPTY) /* the boot removes it: missing */
      st = DBS_DB_MISSING;
  }
  *state = st;
  if (st >= 0)
    return 0;
  dbs_log_errorx("%s", err);
  return st == -EILSEQ || st == -EISDIR || st == -EINVAL || st == -ELOOP ||
                 st == -EMLINK
             ? DBS_EXIT_DATAERR
             : DBS_EXIT_CANTCREAT;
}

/* Missing: a stale WAL beside it would be replayed into the restore.
 * Removes it (a dry run notes it). Returns 0 or an exit status. */
static int clear_stale(struct dbs_boot* b) {
  if (b->plan != NULL) {
    static const char* const sc[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 3 && !b->plan->stale; i++) {
      char* p = NULL;
      if (asprintf(&p, "%s%s", b->target, sc[i]) < 0)
        return DBS_EXIT_SOFTWARE;
      b->plan->stale = lstat(p, &(struct stat){0}) == 0;
      free(p);
    }
  } else if (dbs_volume_remove_stale(b->target) != 0) {
    dbs_log_error("cannot remove stale -wal/-shm beside %s", b->target);
    return DBS_EXIT_CANTCREAT;
  }
  return 0;
}

/* Runs the native restore: in a child, or in-process as a dry run that
 * lists and plans only. Returns restore_child's result (or -1). */
static int run_restore(struct dbs_boot* b) {
  struct dbs_restore_opts ro = {
      .parallelism = b->cfg->parallelism,
      .verify = b->cfg->verify,
      .progress = true,
      .timeout_ms = b->cfg->restore_timeout_ms,
  };
  b->restore_opts = ro;
  if (b->plan == NULL)
    return run_in_child("restore", restore_child, b, NULL, 0, NULL);
  /* The restore's own choice, listing and planning only, in-process. */
  b->restore_opts.dry_run = true;
  b->restore_opts.progress = false;
  b->restore_opts.summary = &b->plan->restore_point;
  b->plan->restore_tried = true;
  return restore_child(b);
}

/* A replica type the native restore does not read: litestream restores
 * it (a dry run only checks that it could). Returns 0 or an exit status. */
static int restore_unsupported(struct dbs_boot* b) {
  char err[ERRLEN] = "";
  if (b->plan != NULL) {
    if (b->litestream_bin == NULL)
      return restore_external(b);     /* refuses before running anything */
    b->plan->restore_external = true; /* its outcome is not predicted */
    b->fresh = false;
    b->restored = true;
    return 0;
  }
  int rc = restore_external(b);
  if (rc != 0)
    return rc;
  /* litestream restore -if-replica-exists exits 0 without a database
   * only when its listing found no backup. */
  b->fresh = dbs_volume_db_state(b->target, err, sizeof(err)) != DBS_DB_EXISTS;
  b->restored = !b->fresh;
  b->no_backup = b->fresh;
  return 0;
}

/* Acts on the restore's result rc (run_restore). Returns 0 or an exit
 * status. */
static int restore_outcome(struct dbs_boot* b, int rc) {
  switch (rc) {
  case CHILD_RESTORED:
    b->fresh = false;
    b->restored = true;
    return 0;
  case CHILD_NO_BACKUP:
    dbs_log_info("no backup of %s exists: starting with a new database",
                 b->target);
    b->no_backup = true;
    return 0;
  case CHILD_UNSUPPORTED:
    return restore_unsupported(b);
  default:
    /* The restore logged why and left nothing at the target; a child that
     * died may have left a partial .tmp, which the next restore removes. */
    if (b->plan == NULL)
      dbs_volume_remove_db(b->target);
    return rc > 0 && rc < CHILD_RESTORED ? rc : DBS_EXIT_SOFTWARE;
  }
}

static int restore_db(struct dbs_boot* b);

int dbs_boot_restore(struct dbs_boot* b) {
  return dbs_litefs_on() ? dbs_litefs_boot_restore(b, restore_db)
                         : restore_db(b);
}

/* Restores a missing b->target from its backup. */
static int restore_db(struct dbs_boot* b) {
  int state;
  assert(b->target != NULL);
  int rc = target_state(b, &state);
  if (rc != 0)
    return rc;
  if (state == DBS_DB_EXISTS) {
    dbs_log_info("database %s exists", b->target);
    return chown_for_user(b);
  }
  if ((rc = clear_stale(b)) != 0)
    return rc;
  b->fresh = true;
  if (b->cfg->no_restore || b->ls_db == NULL || b->replication_off ||
      b->ls_db->nreplicas == 0) {
    dbs_log_info("database %s is new%s", b->target,
                 b->cfg->no_restore ? " (--no-restore)" : "");
    return chown_for_user(b);
  }
  rc = run_restore(b);
  if (dbs_proc_stop_signal() != 0) {
    /* Stopped: a finished restore stays; a cut one leaves nothing. */
    if (rc == CHILD_RESTORED)
      b->fresh = false;
    else if (dbs_restore_remove_leftovers(b->target) != 0)
      dbs_log_error("cannot remove the leftovers of the interrupted "
                    "restore beside %s (the next restore does)",
                    b->target);
    return stopped_during_setup(b, "the restore");
  }
  rc = restore_outcome(b, rc);
  return rc != 0 ? rc : chown_for_user(b);
}

/* The directory holding node_modules/.bin, absolute, or NULL. */
static char* node_bin_dir(void) {
  char cwd[PATH_MAX], *p = NULL;
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    return NULL;
  if (asprintf(&p, "%s/node_modules/.bin", cwd) < 0)
    return NULL;
  return p;
}

/* Runs a setup command; returns its exit code, or -1 if it did not start. */
static int run_setup_command(struct dbs_boot* b, const char* what,
                             const char* cmd) {
  char* bin = node_bin_dir();
  int status = 0;
  dbs_log_info("%s: running %s", what, cmd);
  int rc =
      dbs_proc_run_shell(cmd, bin, b->have_creds ? &b->creds : NULL, &status);
  free(bin);
  if (rc != 0) {
    errno = -rc;
    dbs_log_error("%s: cannot start /bin/sh", what);
    return -1;
  }
  return dbs_proc_exit_code(status);
}

/* The seed from the Prisma config or package.json, run as `prisma db seed`
 * runs it: split at spaces, no shell (seedcmd.h). Returns its exit code, or
 * -1 if it did not start. */
static int run_prisma_seed(struct dbs_boot* b, const char* cmd) {
  char** argv = NULL;
  size_t argc = 0;
  int status = 0;
  if (dbs_seedcmd_split(cmd, &argv, &argc) != 0) {
    dbs_log_errorx("seed: out of memory");
    return -1;
  }
  if (argc == 0) {
    free(argv);
    dbs_log_info("seed: %s is empty: no seed", b->disc.seed_from);
    return 0;
  }
  char* bin = node_bin_dir();
  dbs_log_info("seed: running %s (from %s, as prisma db seed runs it: no "
               "shell)",
               cmd, b->disc.seed_from);
  int rc = dbs_proc_run_argv(argv, cmd, bin, b->have_creds ? &b->creds : NULL,
                             &status);
  free(bin);
  free(argv);
  if (rc != 0) {
    errno = -rc;
    dbs_log_error("seed: cannot start %s", cmd);
    return -1;
  }
  return dbs_proc_exit_code(status);
}

/* A fresh database whose migrate or seed failed must not survive: the
 * next boot starts fresh again and nothing half-made reaches the backup. */
static void discard_fresh(struct dbs_boot* b, const char* why) {
  if (!b->fresh || b->plan != NULL)
    return;
  if (dbs_volume_remove_db(b->target) == 0)
    dbs_log_warnx("%s: removed the new database %s so the next boot starts "
                  "fresh",
                  why, b->target);
  else
    dbs_log_error("%s: cannot remove the new database %s", why, b->target);
}

/* A stop signal (docker stop, fly deploy) came during a setup phase: not
 * the phase's fault. A fresh database is discarded as after any failure;
 * dbsetup exits 128+N as if the app had been stopped. */
static int stopped_during_setup(struct dbs_boot* b, const char* what) {
  int sig = dbs_proc_stop_signal();
  char name[16];
  dbs_proc_signal_name(sig, name);
  dbs_log_warnx("%s interrupted by signal %d (%s): stopping before the app "
                "starts; exit status %d is 128+%s, the usual status of a "
                "stopped container",
                what, sig, name, DBS_EXIT_SIGNAL_BASE + sig, name);
  discard_fresh(b, "stopped during setup");
  return DBS_EXIT_SIGNAL_BASE + sig;
}

/* Native Prisma migrations; runs in a child (run_in_child). Returns 0,
 * DBS_EXIT_CONFIG, DBS_EXIT_CANTCREAT, DBS_EXIT_MIGRATE, or 128+N after a
 * stop signal N that came between migrations (see dbs_boot_migrate). */
static int migrate_child(struct dbs_boot* b) {
  char err[ERRLEN * 4] = "";
  if (b->have_creds && geteuid() == 0) {
    int rc = dbs_privdrop_apply(&b->creds);
    if (rc != 0) {
      errno = -rc;
      dbs_log_error("migrate: cannot switch to --user %s", b->cfg->user);
      return DBS_EXIT_NOPERM;
    }
  }
  dbs_prisma_migrate_set_stop_timeout(b->cfg->stop_timeout_ms);
  int rc = dbs_prisma_migrate_deploy(b->target, b->disc.migrations_dir, NULL,
                                     err, sizeof(err));
  if (rc == 0)
    return 0;
  if (rc == -EINTR) {
    dbs_log_info("%s", err);
    return DBS_EXIT_SIGNAL_BASE + SIGTERM;
  }
  if (rc == -ETIMEDOUT && b->fresh)
    dbs_log_warnx("a migration of the new database %s was still running at "
                  "the stop timeout: interrupted it",
                  b->target);
  else
    dbs_log_errorx("%s", err);
  if (rc == -ENOENT || rc == -ENOTDIR)
    return DBS_EXIT_CONFIG;
  if (rc == -EACCES || rc == -EROFS)
    return DBS_EXIT_CANTCREAT;
  return DBS_EXIT_MIGRATE;
}

/* The child of a native migration was killed while stopping (a second
 * stop signal, or it ignored the stop timeout): a migration it had
 * started is recorded as failed. Names it and the way out. */
static void explain_killed_migration(struct dbs_boot* b) {
  char names[512] = "";
  if (b->fresh)
    return; /* the new database is discarded: nothing to resolve */
  int n = dbs_prisma_migrate_unfinished(b->target, names, sizeof(names));
  if (n <= 0)
    return;
  dbs_log_errorx("migration %s was killed while it ran: it is recorded as "
                 "failed and its finished statements stay applied, so the "
                 "next boot exits 80 (P3009) until it is resolved: undo its "
                 "partial changes, then `npx prisma migrate resolve "
                 "--rolled-back %s` (the next boot runs it again), or "
                 "complete them and `npx prisma migrate resolve --applied "
                 "%s`",
                 names, names, names);
}

/* A --migrate command was killed at the stop timeout: say what that may
 * have left. */
static void explain_killed_command(void) {
  dbs_log_errorx("the migrate command was killed before it finished: its "
                 "migration may be half-applied. Check with `npx prisma "
                 "migrate status` (or your tool's equivalent) and resolve "
                 "it (`npx prisma migrate resolve --rolled-back NAME`), or "
                 "give it a longer --stop-timeout");
}

/* The migrate phase of a dry run: reads the state a native deploy would
 * start from (the database opened read-only, and only when no -wal, -shm
 * or -journal is beside it: opening it then could create or change one),
 * and predicts P3009 for a failed migration. */
static int dry_migrate(struct dbs_boot* b) {
  struct dbs_boot_plan* pl = b->plan;
  char err[ERRLEN * 4] = "";
  if (b->cfg->migrate != NULL || b->disc.migrations_dir == NULL)
    return 0;
  if (b->restored) {
    pl->migrate_after_restore = true;
    return 0;
  }
  static const char* const sc[] = {"-wal", "-shm", "-journal"};
  for (size_t i = 0; i < 3 && !b->fresh; i++) {
    char* p = NULL;
    if (asprintf(&p, "%s%s", b->target, sc[i]) < 0)
      return DBS_EXIT_SOFTWARE;
    bool there = lstat(p, &(struct stat){0}) == 0;
    free(p);
    if (there) {
      snprintf(pl->migrate_note, sizeof(pl->migrate_note),
               "not read: %s%s exists (the database is in use, or was not "
               "closed cleanly), and reading it could change it",
               b->target, sc[i]);
      return 0;
    }
  }
  struct dbs_prisma_status st;
  /* A database the boot creates is missing or empty: all pending. */
  int rc = dbs_prisma_migrate_status(b->target, b->disc.migrations_dir, &st,
                                     err, sizeof(err));
  if (rc == -ENOMEM)
    return DBS_EXIT_SOFTWARE;
  if (rc != 0) {
    snprintf(pl->migrate_note, sizeof(pl->migrate_note), "not read: %.900s",
             err);
    return 0;
  }
  pl->migrate_read = true;
  pl->napplied = st.napplied;
  pl->npending = st.npending;
  pl->nfailed = st.nfailed;
  char names[512] = "";
  for (size_t i = 0; i < st.n; i++)
    if (st.entries[i].state == DBS_PRISMA_FAILED &&
        strlen(names) + strlen(st.entries[i].name) + 3 < sizeof(names))
      snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
               names[0] ? ", " : "", st.entries[i].name);
  dbs_prisma_status_free(&st);
  if (pl->nfailed == 0)
    return 0;
  if (b->cfg->migrate_failure == DBS_MIGRATE_FAILURE_CONTINUE) {
    pl->migrate_continue = true;
    dbs_log_warnx("migration %s is recorded as failed: the migration would "
                  "fail (P3009) and the app start anyway "
                  "(--migrate-failure=continue)",
                  names);
    return 0;
  }
  dbs_log_errorx("migration %s is recorded as failed in %s, so the "
                 "migration would fail (P3009): undo its partial changes, "
                 "then `npx prisma migrate resolve --rolled-back %s` (the "
                 "boot runs it again), or complete them and `npx prisma "
                 "migrate resolve --applied %s`",
                 names, b->target, names, names);
  return DBS_EXIT_MIGRATE;
}

int dbs_boot_migrate(struct dbs_boot* b) {
  const struct dbs_config* cfg = b->cfg;
  int code;
  assert(b->target != NULL);

  if (dbs_litefs_skip("migration"))
    return 0;
  if (b->plan != NULL)
    return dry_migrate(b);
  if (cfg->migrate != NULL) {
    code = run_setup_command(b, "migrate", cfg->migrate);
    if (code != 0 && dbs_litefs_lost_primary("the migration"))
      return DBS_EXIT_TEMPFAIL;
    if (dbs_proc_stop_signal() != 0) {
      if (code == DBS_EXIT_SIGNAL_BASE + SIGKILL)
        explain_killed_command();
      return stopped_during_setup(b, "the migrate command");
    }
  } else if (b->disc.migrations_dir != NULL) {
    /* In a child, as the --user, like any other migration command. A stop
     * lets the running migration script finish (up to --stop-timeout,
     * after which the child interrupts it itself), then stops. */
    bool killed = false;
    int rc = run_in_child(
        "migrate", migrate_child, b, dbs_prisma_migrate_request_stop,
        cfg->stop_timeout_ms + MIGRATE_KILL_GRACE_MS, &killed);
    if (rc != 0 && dbs_litefs_lost_primary("the migration"))
      return DBS_EXIT_TEMPFAIL;
    if (dbs_proc_stop_signal() != 0) {
      if (killed)
        explain_killed_migration(b);
      return stopped_during_setup(b, "the migration phase");
    }
    if (rc == DBS_EXIT_CONFIG)
      return rc;
    if (rc == DBS_EXIT_CANTCREAT || rc == DBS_EXIT_NOPERM) {
      discard_fresh(b, "migration failed");
      return rc;
    }
    code = rc == 0 ? 0 : DBS_EXIT_MIGRATE;
    if (rc == 0 && (rc = chown_for_user(b)) != 0)
      return rc;
  } else {
    return 0;
  }
  if (code == 0)
    return 0;
  if (b->fresh) {
    dbs_log_errorx("migration failed (status %d) on a new database", code);
    discard_fresh(b, "migration failed");
    return DBS_EXIT_MIGRATE;
  }
  if (cfg->migrate_failure == DBS_MIGRATE_FAILURE_CONTINUE) {
    dbs_log_warnx("MIGRATION FAILED (status %d) — starting the app anyway "
                  "because --migrate-failure=continue: repair the database "
                  "and redeploy",
                  code);
    return 0;
  }
  dbs_log_errorx("migration failed (status %d); the database %s is left as "
                 "it was after the failed step (use --migrate-failure="
                 "continue to start the app for a repair)",
                 code, b->target);
  return DBS_EXIT_MIGRATE;
}

int dbs_boot_seed(struct dbs_boot* b) {
  const char* seed = b->cfg->seed ? b->cfg->seed : b->disc.seed;
  if (seed != NULL && !b->fresh && b->restored)
    dbs_log_info("seed: skipped, the database was restored from its backup "
                 "(a seed runs only for a new database)");
  else if (seed != NULL && !b->fresh)
    dbs_log_debug("seed: skipped, the database exists");
  if (!b->fresh || seed == NULL)
    return 0;
  if (b->plan != NULL) {
    b->plan->seed_runs = true;
    return 0;
  }
  if (dbs_proc_stop_signal() != 0) /* it came during the migration */
    return stopped_during_setup(b, "setup (before the seed)");
  int code = b->cfg->seed ? run_setup_command(b, "seed", seed)
                          : run_prisma_seed(b, seed);
  if (code == 0) {
    dbs_log_info("seed: done");
    return 0;
  }
  if (dbs_proc_stop_signal() != 0)
    return stopped_during_setup(b, "the seed");
  if (dbs_litefs_lost_primary("the seed"))
    return DBS_EXIT_TEMPFAIL;
  dbs_log_errorx("seed failed (status %d): %s", code, seed);
  discard_fresh(b, "seed failed");
  return DBS_EXIT_SEED;
}

/* ---- checks before the first change ------------------------------------ */

/* Finds the litestream binary when this boot will need it: to replicate
 * the database (litestream replicate), or to restore a missing one from a
 * replica type dbsetup does not read. Returns 0 or an exit status. */
static int check_litestream(struct dbs_boot* b) {
  const struct dbs_config* cfg = b->cfg;
  int rc = find_bin(b);
  if (rc != 0)
    return rc;
  if (b->ls_db != NULL && replica_bucket_empty(b->ls_db)) {
    dbs_log_warnx("%s: the replica bucket is empty after expanding the "
                  "environment (BUCKET_NAME unset?): restore and "
                  "replication are OFF for %s",
                  b->ls.file, b->target);
    b->replication_off = true;
  }
  if (b->litestream_bin != NULL || b->ls_db == NULL || b->replication_off ||
      b->ls_db->nreplicas == 0)
    return 0;
  if (cfg->replicate == NULL && !cfg->no_replicate) {
    dbs_log_errorx("%s replicates %s but no litestream binary was found: "
                   "install it, set --litestream, or pass --no-replicate "
                   "(nothing was changed)",
                   b->ls.file, b->target);
    return DBS_EXIT_CONFIG;
  }
  struct stat st;
  bool missing = stat(b->target, &st) != 0 || st.st_size == 0;
  for (size_t i = 0; i < b->ls_db->nreplicas && missing && !cfg->no_restore;
       i++)
    if (b->ls_db->replicas[i].kind == DBS_REPLICA_OTHER) {
      dbs_log_errorx("the replica %s of %s is of type %s, which only the "
                     "litestream binary restores, and none was found: "
                     "install it, set --litestream, or pass --no-restore "
                     "(nothing was changed)",
                     b->ls_db->replicas[i].name, b->target,
                     b->ls_db->replicas[i].type);
      return DBS_EXIT_CONFIG;
    }
  return 0;
}

/* True when word names an executable file: a path, or a name found in
 * dir (may be NULL) or PATH. */
static bool executable_found(const char* word, const char* dir) {
  if (strchr(word, '/') != NULL)
    return access(word, X_OK) == 0;
  const char* path = getenv("PATH");
  char* list = NULL;
  if (asprintf(&list, "%s:%s", dir ? dir : "",
               path && *path ? path : "/usr/local/bin:/usr/bin:/bin") < 0)
    return true; /* cannot tell: the command's start will */
  bool found = false;
  for (char *save = NULL, *d = strtok_r(list, ":", &save); d && !found;
       d = strtok_r(NULL, ":", &save)) {
    char* p = NULL;
    struct stat st;
    if (*d == '\0' || asprintf(&p, "%s/%s", d, word) < 0)
      continue;
    found = stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
    free(p);
  }
  free(list);
  return found;
}

/* Runs /bin/sh -n (parse only) on cmd; true when sh accepts it. sh prints
 * the syntax error itself. */
static bool shell_parses(const char* cmd) {
  char* argv[] = {"/bin/sh", "-n", "-c", (char*)cmd, NULL};
  struct dbs_proc_opts o = {
      .argv = argv, .stdin_null = true, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid;
  int st;
  if (dbs_proc_spawn(&o, &pid) != 0)
    return true; /* cannot tell: running it will */
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* A setup command (a /bin/sh -c string): it must parse, and a plain first
 * word must be a builtin or found in node_modules/.bin or PATH. what names
 * it and where it came from. Returns 0 or an exit status. */
static int check_shell_command(const char* what, const char* cmd) {
  if (!shell_parses(cmd)) {
    dbs_log_errorx("%s is not a valid /bin/sh command: %s (fix its syntax; "
                   "nothing was changed)",
                   what, cmd);
    return DBS_EXIT_CONFIG;
  }
  size_t n = strspn(cmd, " \t\n");
  const char* w = cmd + n;
  size_t len = strcspn(w, " \t\n;&|<>()");
  char word[256];
  if (len == 0 || len >= sizeof(word))
    return 0;
  memcpy(word, w, len);
  word[len] = '\0';
  /* Only a plain command name: not an assignment, quoting or expansion. */
  if (strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_./+-") != len)
    return 0;
  static const char* const builtins[] = {
      "break",  "cd",     "command", "continue", "eval",  "exec",
      "exit",   "export", "false",   "getopts",  "if",    "for",
      "while",  "until",  "case",    "local",    "read",  "readonly",
      "return", "set",    "shift",   "test",     "times", "trap",
      "true",   "type",   "ulimit",  "umask",    "unset", "wait",
      "echo",   "printf", "pwd",     "alias",    "!",     "."};
  for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
    if (strcmp(word, builtins[i]) == 0)
      return 0;
  char* bin = node_bin_dir();
  bool found = executable_found(word, bin);
  free(bin);
  if (found)
    return 0;
  dbs_log_errorx("%s: '%s' not found (looked in ./node_modules/.bin and "
                 "PATH): install it or fix the command (nothing was "
                 "changed): %s",
                 what, word, cmd);
  return DBS_EXIT_NOTFOUND;
}

/* The app command, run with execvp: it must exist and be executable. */
static int check_app_command(const struct dbs_boot* b) {
  const char* cmd = b->cfg->argv[0];
  if (b->plan != NULL && b->plan->no_app)
    return 0;
  if (executable_found(cmd, NULL))
    return 0;
  bool exists = strchr(cmd, '/') != NULL && access(cmd, F_OK) == 0;
  dbs_log_errorx("cannot run the app '%s': %s (nothing was changed)", cmd,
                 exists ? "not executable (chmod +x it)"
                        : "command not found (check its name and PATH)");
  return exists ? DBS_EXIT_NOEXEC : DBS_EXIT_NOTFOUND;
}

/*
 * Check before you change: dbs_boot_lock runs these before its first change
 * to the volume or the app's path (the lock file, the link, a baked
 * database moved aside, a restore); --user and the configuration files
 * were checked before. check_setup: the migrations folder and its
 * migration_lock.toml, the migrate, seed and replicate commands (they
 * parse, their first word is found), and the app command. check_replication
 * (needs the target): litestream.yml against the database, and the
 * litestream binary when replication or a restore needs it. Each returns 0
 * or the exit status, after logging the problem and the fix.
 */
static int check_replication(struct dbs_boot* b) {
  int rc = find_ls_entry(b);
  return rc != 0 ? rc : check_litestream(b);
}

/* Prisma runs its seed without a shell: shell syntax in it is passed to
 * the command as arguments. Say so before anything runs. */
static void warn_shell_seed(const char* from, const char* seed) {
  char** argv = NULL;
  size_t argc = 0;
  if (dbs_seedcmd_split(seed, &argv, &argc) != 0)
    return;
  char msg[ERRLEN * 2];
  if (dbs_seedcmd_shell_warning(from, seed, argv, msg, sizeof(msg)))
    dbs_log_warnx("%s", msg);
  free(argv);
}

static int check_setup(struct dbs_boot* b) {
  const struct dbs_config* cfg = b->cfg;
  char err[ERRLEN * 2] = "";
  int rc;
  if (cfg->migrate == NULL && b->disc.migrations_dir != NULL) {
    rc = dbs_prisma_migrate_check(b->disc.migrations_dir, err, sizeof(err));
    if (rc != 0) {
      dbs_log_errorx("%s (nothing was changed)", err);
      return rc == -EPROTO   ? DBS_EXIT_MIGRATE
             : rc == -ENOMEM ? DBS_EXIT_SOFTWARE
                             : DBS_EXIT_CONFIG;
    }
  }
  const char* seed = cfg->seed ? cfg->seed : b->disc.seed;
  if (cfg->migrate != NULL &&
      (rc = check_shell_command("the migrate command (--migrate)",
                                cfg->migrate)) != 0)
    return rc;
  if (cfg->seed != NULL && !shell_parses(cfg->seed)) {
    dbs_log_errorx("the seed command (--seed) is not a valid /bin/sh "
                   "command: %s (fix its syntax; nothing was changed)",
                   cfg->seed);
    return DBS_EXIT_CONFIG;
  }
  if (cfg->seed == NULL && seed != NULL)
    warn_shell_seed(b->disc.seed_from, seed);
  if (cfg->replicate != NULL && !cfg->no_replicate &&
      (rc = check_shell_command("the replicator command (--replicate)",
                                cfg->replicate)) != 0)
    return rc;
  return check_app_command(b);
}

bool dbs_boot_replicates(const struct dbs_boot* b) {
  const struct dbs_config* cfg = b->cfg;
  return cfg->replicate != NULL ||
         (!cfg->no_replicate && b->ls_db != NULL && b->ls_db->nreplicas > 0 &&
          !b->replication_off);
}

/* Chooses the replicator: --replicate, else litestream replicate for a
 * litestream.yml that has this database. Returns 0 or an exit status. */
static int choose_replicator(struct dbs_boot* b) {
  const struct dbs_config* cfg = b->cfg;
  if (cfg->replicate != NULL || !dbs_boot_replicates(b))
    return 0;
  if (b->litestream_bin == NULL) {
    dbs_log_errorx("%s replicates %s but no litestream binary was found: "
                   "install it, set --litestream, or pass --no-replicate",
                   b->ls.file, b->target);
    return DBS_EXIT_CONFIG;
  }
  /*
   * litestream 0.5 started on a new database while its replica holds a
   * backup makes the empty database the backup's latest state (it uploads
   * it as the next TXID; doc litestream-0.5.md §6). So it starts only on a
   * database that existed, was restored, or is new because the restore
   * found that no backup exists: never after --no-restore on a new one.
   */
  if (b->fresh && !b->no_backup && b->have_ls_ver &&
      b->ls_ver.rules == DBS_LS_RULES_V05) {
    dbs_log_errorx("%s is a new database that was not restored%s: litestream "
                   "%s would upload it over any backup at its replica as the "
                   "latest state. Not starting: let dbsetup restore first "
                   "(drop --no-restore), or pass --no-replicate",
                   b->target, b->cfg->no_restore ? " (--no-restore)" : "",
                   b->ls_ver.text);
    discard_fresh(b, "not replicating");
    return DBS_EXIT_CONFIG;
  }
  const char* words[] = {b->litestream_bin,
                         "replicate",
                         "-config",
                         b->ls.file,
                         cfg->no_expand_env ? "-no-expand-env" : NULL,
                         NULL};
  for (size_t i = 0; i < b->ls_db->nreplicas; i++)
    if (b->ls_db->replicas[i].endpoint_from_env)
      dbs_log_warnx("replica %s: the endpoint comes from AWS_ENDPOINT_URL_S3, "
                    "which litestream 0.3 replicate ignores (it would write "
                    "to AWS): add 'endpoint: $AWS_ENDPOINT_URL_S3' to %s",
                    b->ls_db->replicas[i].name, b->ls.file);
  /* exec: litestream itself is the replicator's pid, not a shell. */
  char* joined = shell_join(words);
  if (joined == NULL || asprintf(&b->replicate, "exec %s", joined) < 0) {
    free(joined);
    b->replicate = NULL;
    return DBS_EXIT_SOFTWARE;
  }
  free(joined);
  return 0;
}

/*
 * The replicator's final sync, measured with litestream 0.5.18 and 0.3.13
 * on a file replica and on S3 (local s3rver), from the stop signal to its
 * exit: 5-40 ms for a few rows, 0.2-1.2 s for 10 MB written just before,
 * 0.75-2.2 s for 50 MB. 0.3 makes one attempt: it gets 5 s. 0.5 retries a
 * failed upload every shutdown-sync-interval for shutdown-sync-timeout
 * (30 s) and exits by itself when done: it gets that plus 2 s (its last WAL
 * sync and exit), so that a storage hiccup at stop time does not lose the
 * last writes. Other replicators (--replicate) get 2 s.
 */
#define REPLICATOR_STOP_DEFAULT_MS 2000u
#define REPLICATOR_STOP_LS03_MS 5000u
#define REPLICATOR_STOP_MARGIN_MS 2000u

/*
 * The stop timing of the litestream replicate dbsetup starts (see above).
 * Either version is stopped no sooner than one monitor-interval plus 1 s
 * after it started: it uploads nothing, not even on shutdown, before its
 * first sync.
 */
static void replicator_timing(struct dbs_boot* b,
                              struct dbs_supervise_opts* sup) {
  if (sup->replicator_stop_timeout_ms == DBS_CONFIG_TIMEOUT_AUTO) {
    sup->replicator_stop_timeout_ms = REPLICATOR_STOP_LS03_MS;
    if (b->have_ls_ver && b->ls_ver.rules == DBS_LS_RULES_V05) {
      long long sync = b->ls.shutdown_sync_timeout_ms >= 0
                           ? b->ls.shutdown_sync_timeout_ms
                           : DBS_LS05_SHUTDOWN_SYNC_TIMEOUT_MS;
      if (sync > 3600000)
        sync = 3600000;
      sup->replicator_stop_timeout_ms =
          (unsigned)sync + REPLICATOR_STOP_MARGIN_MS;
    }
    dbs_log_debug("the replicator gets %.1f s for its final sync",
                  sup->replicator_stop_timeout_ms / 1000.0);
  }
  long long mon = b->ls_db->monitor_interval_ms;
  if (mon > 1000 && mon < 3600000)
    sup->replicator_first_sync_ms = (unsigned)mon + 1000u;
}

int dbs_boot_supervise(struct dbs_boot* b) {
  bool lfs_replica = dbs_boot_has_db(b) && dbs_litefs_skip("replicator");
  int rc = dbs_boot_has_db(b) && !lfs_replica ? choose_replicator(b) : 0;
  if (rc == 0 && b->plan != NULL && !dbs_boot_has_db(b))
    rc = check_app_command(b); /* the supervisor's exec would fail */
  if (rc != 0)
    return rc;
  struct dbs_supervise_opts sup = {
      .app_argv = b->cfg->argv,
      .replicate = lfs_replica         ? NULL
                   : b->cfg->replicate ? b->cfg->replicate
                                       : b->replicate,
      .stop_timeout_ms = b->cfg->stop_timeout_ms,
      .replicator_stop_timeout_ms = b->cfg->replicator_stop_timeout_ms,
      .signal_child_only = b->cfg->signal_child_only,
      .creds = b->have_creds ? &b->creds : NULL,
  };
  if (b->replicate != NULL && b->cfg->replicate == NULL)
    replicator_timing(b, &sup);
  else if (sup.replicator_stop_timeout_ms == DBS_CONFIG_TIMEOUT_AUTO)
    sup.replicator_stop_timeout_ms = REPLICATOR_STOP_DEFAULT_MS;
  if (b->plan != NULL) {
    b->plan->stop_timeout_ms = sup.stop_timeout_ms;
    b->plan->replicator_stop_timeout_ms = sup.replicator_stop_timeout_ms;
    b->plan->replicator_first_sync_ms = sup.replicator_first_sync_ms;
    return 0;
  }
  return dbs_supervise_run(&sup);
}

void dbs_boot_free(struct dbs_boot* b) {
  if (b->have_ls)
    dbs_litestream_config_free(&b->ls);
  dbs_discover_free(&b->disc);
  free(b->target);
  if (b->have_creds)
    dbs_privdrop_free(&b->creds);
  free(b->litestream_bin);
  free(b->replicate);
  memset(b, 0, sizeof(*b));
}
