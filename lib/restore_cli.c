/* The restore and generations subcommands, with litestream's flags and
 * messages. */
#define _GNU_SOURCE
#include "restore_cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "litestream_bin.h"
#include "litestream_config.h"
#include "log.h"
#include "ltx_replica.h"
#include "path.h"
#include "restore.h"

#define EXIT_NO_BACKUP 1 /* litestream's status for "no matching backups" */

/* n decimal digits at s, or -1. */
static int digits(const char* s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

static int days_in(int month, int year) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : d[month - 1];
}

/*
 * As Go's time.Parse(time.RFC3339, s), which litestream 0.3.13 calls (Go's
 * src/time/format.go, func parse, for the layout 2006-01-02T15:04:05Z07:00):
 * a 4-digit year, 2-digit month and day (the day checked against the
 * month, leap years included), an hour of 1 or 2 digits below 24, 2-digit
 * minutes and seconds below 60, an optional fraction after '.' or ','
 * (any number of digits, the first 9 count), then "Z" or a zone
 * "+hh:mm"/"-hh:mm" with hh <= 24 and mm <= 60, and nothing after it.
 */
/* "2006-01-02T" at s into tm (the day checked later, against the month).
 * Returns the rest, or NULL. */
static const char* parse_date(const char* s, struct tm* tm) {
  int year = digits(s, 4);
  if (year < 0 || s[4] != '-')
    return NULL;
  int month = digits(s + 5, 2);
  if (month < 1 || month > 12 || s[7] != '-')
    return NULL;
  int day = digits(s + 8, 2);
  if (day < 0 || s[10] != 'T')
    return NULL;
  tm->tm_year = year - 1900;
  tm->tm_mon = month - 1;
  tm->tm_mday = day;
  return s + 11;
}

/* "15:04:05" (the hour of 1 or 2 digits) at p into tm. Returns the rest,
 * or NULL. */
static const char* parse_clock(const char* p, struct tm* tm) {
  if (!isdigit((unsigned char)p[0]))
    return NULL;
  int hour = *p++ - '0';
  if (isdigit((unsigned char)p[0]))
    hour = hour * 10 + (*p++ - '0');
  if (hour > 23 || *p++ != ':')
    return NULL;
  int min = digits(p, 2);
  if (min < 0 || min > 59 || p[2] != ':')
    return NULL;
  p += 3;
  int sec = digits(p, 2);
  if (sec < 0 || sec > 59)
    return NULL;
  tm->tm_hour = hour;
  tm->tm_min = min;
  tm->tm_sec = sec;
  return p + 2;
}

/* An optional fraction after '.' or ',' at p (the first 9 digits count)
 * into *frac in ns. Returns the rest. */
static const char* parse_frac(const char* p, int64_t* frac) {
  *frac = 0;
  if (!((p[0] == '.' || p[0] == ',') && isdigit((unsigned char)p[1])))
    return p;
  int n = 0;
  for (p++; isdigit((unsigned char)*p); p++)
    if (n < 9) {
      *frac = *frac * 10 + (*p - '0');
      n++;
    }
  for (; n < 9; n++)
    *frac *= 10;
  return p;
}

/* "Z" or "+hh:mm"/"-hh:mm" at p into *off in seconds east. Returns the
 * rest, or NULL. */
static const char* parse_zone(const char* p, int64_t* off) {
  *off = 0;
  if (*p == 'Z')
    return p + 1;
  if (strlen(p) < 6 || (p[0] != '+' && p[0] != '-') || p[3] != ':')
    return NULL;
  int hh = digits(p + 1, 2), mm = digits(p + 4, 2);
  if (hh < 0 || mm < 0 || hh > 24 || mm > 60)
    return NULL;
  *off = (int64_t)(hh * 60 + mm) * 60;
  if (p[0] == '-')
    *off = -*off;
  return p + 6;
}

int dbs_restore_cli_parse_time(const char* s, int64_t* ns) {
  struct tm tm = {0};
  int64_t frac, off;
  const char* p = parse_date(s, &tm);
  if (p != NULL)
    p = parse_clock(p, &tm);
  if (p != NULL)
    p = parse_zone(parse_frac(p, &frac), &off);
  if (p == NULL || *p != '\0' || tm.tm_mday < 1 ||
      tm.tm_mday > days_in(tm.tm_mon + 1, tm.tm_year + 1900))
    return -EINVAL;
  time_t t = timegm(&tm);
  /* Years 0000..1677 and 2262..9999 lie outside int64 ns: saturated,
   * they still order before or after every object. */
  *ns = dbs_storage_time_ns((int64_t)t - off, frac);
  return 0;
}

/*
 * A -index value as litestream 0.3.13 reads it: Go's
 * strconv.ParseInt(s, 16, 32), an optional sign then hex digits only (no
 * "0x", no spaces, no '_'), within int32. Returns 0, or -EINVAL (not that
 * syntax, "invalid hexadecimal format" in litestream) or -ERANGE (a
 * negative index, which litestream accepts and then finds no snapshot for).
 */
static int parse_index(const char* s, int64_t* out) {
  bool neg = false;
  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  if (*s == '\0')
    return -EINVAL;
  int64_t v = 0;
  for (; *s; s++) {
    int d;
    if (*s >= '0' && *s <= '9')
      d = *s - '0';
    else if (*s >= 'a' && *s <= 'f')
      d = *s - 'a' + 10;
    else if (*s >= 'A' && *s <= 'F')
      d = *s - 'A' + 10;
    else
      return -EINVAL;
    v = v * 16 + d;
    if (v > (int64_t)INT32_MAX + 1)
      return -EINVAL;
  }
  if (!neg && v > INT32_MAX)
    return -EINVAL;
  if (neg && v != 0)
    return -ERANGE;
  *out = v;
  return 0;
}

/* "^\w+://" */
static bool is_url(const char* s) {
  const char* p = s;
  while (isalnum((unsigned char)*p) || *p == '_')
    p++;
  return p > s && strncmp(p, "://", 3) == 0;
}

/* The -o path: ~ and ~/x from the home directory, else absolute (the
 * kernel resolves "." and ".." when the file is created). */
static char* output_path(const char* s) {
  char* out = NULL;
  if (strcmp(s, "~") == 0 || strncmp(s, "~/", 2) == 0) {
    const char* home = getenv("HOME");
    if (home == NULL || home[0] == '\0') {
      struct passwd* pw = getpwuid(getuid());
      home = pw ? pw->pw_dir : NULL;
    }
    if (home == NULL)
      return NULL;
    if (asprintf(&out, "%s%s", home, s + 1) < 0)
      return NULL;
    return out;
  }
  if (s[0] == '/')
    return strdup(s);
  char* cwd = getcwd(NULL, 0);
  if (cwd == NULL)
    return NULL;
  out = dbs_path_join(cwd, s);
  free(cwd);
  return out;
}

/* A replica from a URL: file:// here, others through the config parser. */
static int replica_from_url(const char* url, struct dbs_replica_config* r) {
  memset(r, 0, sizeof(*r));
  if (strncmp(url, "file://", 7) == 0) {
    const char* p = url + 7;
    char* raw = NULL;
    /* Go: path.Clean of the URL without its scheme; a host becomes the
     * first path element. */
    if (asprintf(&raw, "%s%s", p[0] == '/' ? "" : "/", p) < 0)
      return -ENOMEM;
    r->kind = DBS_REPLICA_FILE;
    r->type = strdup("file");
    r->name = strdup("file");
    r->url = strdup(url);
    r->path = raw;
    if (r->type == NULL || r->name == NULL || r->url == NULL)
      return -ENOMEM;
    return 0;
  }
  char err[256] = "";
  int rc = dbs_litestream_config_parse_url(url, r, err, sizeof(err));
  if (rc != 0)
    dbs_log_errorx("%s", err[0] ? err : "invalid replica URL");
  return rc;
}

struct cli {
  const char* config;
  bool no_expand_env;
  const char* output;
  const char* replica;
  const char* generation;
  int64_t index;
  const char* timestamp;
  bool if_db_not_exists, if_replica_exists;
  uint64_t txid; /* litestream 0.5's -txid; 0: none */
  bool dry_run, force;
  unsigned parallelism;
  enum dbs_verify verify;
  unsigned timeout_ms; /* storage retry budget; 0: the default */
  const char* arg;
};

enum {
  OPT_CONFIG = 256,
  OPT_NO_EXPAND,
  OPT_REPLICA,
  OPT_GENERATION,
  OPT_INDEX,
  OPT_TIMESTAMP,
  OPT_IF_DB,
  OPT_IF_REPLICA,
  OPT_PARALLELISM,
  OPT_VERIFY,
  OPT_TIMEOUT,
  OPT_TXID,
  OPT_INTEGRITY,
  OPT_DRY_RUN,
  OPT_FORCE,
};

static const struct option restore_opts[] = {
    {"litestream-config", required_argument, NULL, OPT_CONFIG},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"no-expand-env", no_argument, NULL, OPT_NO_EXPAND},
    {"replica", required_argument, NULL, OPT_REPLICA},
    {"generation", required_argument, NULL, OPT_GENERATION},
    {"index", required_argument, NULL, OPT_INDEX},
    {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
    {"if-db-not-exists", no_argument, NULL, OPT_IF_DB},
    {"if-replica-exists", no_argument, NULL, OPT_IF_REPLICA},
    {"parallelism", required_argument, NULL, OPT_PARALLELISM},
    {"verify", required_argument, NULL, OPT_VERIFY},
    {"restore-timeout", required_argument, NULL, OPT_TIMEOUT},
    {"txid", required_argument, NULL, OPT_TXID},
    {"integrity-check", required_argument, NULL, OPT_INTEGRITY},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"force", no_argument, NULL, OPT_FORCE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Where the config comes from when no flag names it, as at boot. */
#define CONFIG_DEFAULT                                                         \
  "(default $DBSETUP_LITESTREAM_CONFIG,\n"                                     \
  "                            $LITESTREAM_CONFIG, ./litestream.yml,\n"        \
  "                            /etc/litestream.yml)\n"

static void generations_usage(FILE* f) {
  fprintf(f,
          "usage: dbsetup generations [options] DB_PATH|REPLICA_URL\n"
          "Lists each generation of each replica: first and last timestamps, "
          "lag,\nsnapshot count and WAL index range; for litestream 0.5 (LTX) "
          "replicas each\nlevel's files, TXID range, bytes and times.\n"
          "  --litestream-config PATH  litestream.yml " CONFIG_DEFAULT
          "  --no-expand-env           do not expand $VARS in the config\n"
          "  --replica NAME            list this replica only\n"
          "environment: DBSETUP_LITESTREAM_CONFIG, DBSETUP_NO_EXPAND_ENV, "
          "DBSETUP_RESTORE_TIMEOUT,\n"
          "DBSETUP_LOG_LEVEL\n"
          "exit: 0 ok, 64 usage, 65 corrupt replica, 69 storage "
          "unavailable, 78 litestream.yml\n");
}

static void restore_usage(FILE* f) {
  fprintf(f, "usage: dbsetup restore [options] DB_PATH|REPLICA_URL\n"
             "  --litestream-config PATH  litestream.yml " CONFIG_DEFAULT
             "  --no-expand-env           do not expand $VARS in the config\n"
             "  -o PATH                   output path (required with a URL)\n"
             "  --replica NAME            restore from this replica only\n"
             "  --generation ID           restore from this generation\n"
             "  --index N                 restore up to this hex WAL index\n"
             "  --timestamp RFC3339       restore to this point in time\n"
             "  --txid TXID               litestream 0.5 (LTX) replicas: "
             "restore up\n"
             "                            to this transaction (16 hex "
             "digits)\n"
             "  --integrity-check none|quick|full  the same as --verify\n"
             "  --dry-run                 print the restore plan, restore "
             "nothing\n"
             "  --force                   replace an existing output (and "
             "its\n"
             "                            -wal/-shm/-journal) once restored\n"
             "  --if-db-not-exists        exit 0 if the output already exists\n"
             "  --if-replica-exists       exit 0 if no backup is found\n"
             "  --parallelism N           WAL downloads at once (default 8)\n"
             "  --verify full|quick|none  integrity check (default quick)\n"
             "  --restore-timeout SECS    retry unreachable storage this long "
             "without\n"
             "                            progress (default 120)\n"
             "environment: DBSETUP_LITESTREAM_CONFIG, DBSETUP_NO_EXPAND_ENV, "
             "DBSETUP_RESTORE_TIMEOUT,\n"
             "DBSETUP_LOG_LEVEL\n"
             "exit: 0 ok, 1 no matching backups, 64 usage, 65 corrupt or "
             "encrypted replica, 69 storage unavailable, 73 output not "
             "writable or exists, 78 litestream.yml\n");
}

/* The variables dbsetup's boot reads apply here too (flags win). Returns 0
 * or DBS_EXIT_USAGE. */
static int parse_env(struct cli* c) {
  const char* env = getenv("DBSETUP_LOG_LEVEL");
  if (dbs_config_set_log_level(env) != 0) {
    dbs_log_errorx("invalid DBSETUP_LOG_LEVEL %s: use debug, info, warn or "
                   "error",
                   env);
    return DBS_EXIT_USAGE;
  }
  env = getenv("DBSETUP_NO_EXPAND_ENV");
  if (env != NULL && dbs_config_parse_bool(env, &c->no_expand_env) != 0) {
    dbs_log_errorx("invalid value '%s' for DBSETUP_NO_EXPAND_ENV (expected "
                   "1/true/yes/on or 0/false/no/off)",
                   env);
    return DBS_EXIT_USAGE;
  }
  env = getenv("DBSETUP_RESTORE_TIMEOUT");
  if (env != NULL && *env != '\0' &&
      dbs_config_parse_seconds(env, &c->timeout_ms) != 0) {
    dbs_log_errorx("invalid DBSETUP_RESTORE_TIMEOUT %s: seconds", env);
    return DBS_EXIT_USAGE;
  }
  return 0;
}

/* One option's value into c: 0 or DBS_EXIT_USAGE (after logging). ch is
 * the option's id, v its value (NULL for a flag). */
typedef int (*cli_setter)(struct cli* c, int ch, const char* v);

static int set_config(struct cli* c, int ch, const char* v) {
  (void)ch;
  c->config = v;
  return 0;
}

static int set_no_expand(struct cli* c, int ch, const char* v) {
  (void)ch;
  (void)v;
  c->no_expand_env = true;
  return 0;
}

static int set_replica(struct cli* c, int ch, const char* v) {
  (void)ch;
  c->replica = v;
  return 0;
}

static int set_output(struct cli* c, int ch, const char* v) {
  (void)ch;
  c->output = v;
  return 0;
}

static int set_generation(struct cli* c, int ch, const char* v) {
  (void)ch;
  c->generation = v;
  return 0;
}

static int set_index(struct cli* c, int ch, const char* v) {
  (void)ch;
  int irc = parse_index(v, &c->index);
  if (irc == -ERANGE) {
    dbs_log_errorx("invalid -index %s: WAL indexes start at 0", v);
    return DBS_EXIT_USAGE;
  }
  if (irc != 0) {
    dbs_log_errorx("invalid -index %s: invalid hexadecimal format "
                   "(hex digits only, e.g. -index 0000002a, at most "
                   "7fffffff)",
                   v);
    return DBS_EXIT_USAGE;
  }
  return 0;
}

static int set_timestamp(struct cli* c, int ch, const char* v) {
  (void)ch;
  c->timestamp = v;
  return 0;
}

static int set_if_db(struct cli* c, int ch, const char* v) {
  (void)ch;
  (void)v;
  c->if_db_not_exists = true;
  return 0;
}

static int set_if_replica(struct cli* c, int ch, const char* v) {
  (void)ch;
  (void)v;
  c->if_replica_exists = true;
  return 0;
}

static int set_parallelism(struct cli* c, int ch, const char* v) {
  (void)ch;
  if (dbs_config_parse_parallelism(v, &c->parallelism) != 0) {
    dbs_log_errorx("invalid --parallelism %s: use 1 to %d", v,
                   DBS_CONFIG_PARALLELISM_MAX);
    return DBS_EXIT_USAGE;
  }
  return 0;
}

static int set_timeout(struct cli* c, int ch, const char* v) {
  (void)ch;
  if (dbs_config_parse_seconds(v, &c->timeout_ms) != 0) {
    dbs_log_errorx("invalid --restore-timeout %s: seconds", v);
    return DBS_EXIT_USAGE;
  }
  return 0;
}

static int set_txid(struct cli* c, int ch, const char* v) {
  (void)ch;
  /* ltx.ParseTXID: exactly 16 hex digits. */
  bool okx = strlen(v) == 16;
  for (size_t i = 0; okx && i < 16; i++)
    okx = isxdigit((unsigned char)v[i]) != 0;
  if (!okx) {
    dbs_log_errorx("invalid -txid %s: must be 16 hex digits, e.g. "
                   "00000000000004d2",
                   v);
    return DBS_EXIT_USAGE;
  }
  c->txid = strtoull(v, NULL, 16);
  return 0;
}

static int set_dry_run(struct cli* c, int ch, const char* v) {
  (void)ch;
  (void)v;
  c->dry_run = true;
  return 0;
}

static int set_force(struct cli* c, int ch, const char* v) {
  (void)ch;
  (void)v;
  c->force = true;
  return 0;
}

/* --verify and its litestream 0.5 name --integrity-check. */
static int set_verify(struct cli* c, int ch, const char* v) {
  if (dbs_config_parse_verify(v, &c->verify) != 0) {
    dbs_log_errorx("invalid -%s %s: use full, quick or none",
                   ch == OPT_INTEGRITY ? "integrity-check" : "-verify", v);
    return DBS_EXIT_USAGE;
  }
  return 0;
}

/* The options by id; restore_only ones are unknown to generations. */
static const struct {
  int id;
  bool restore_only;
  cli_setter set;
} cli_setters[] = {
    {OPT_CONFIG, false, set_config},
    {OPT_NO_EXPAND, false, set_no_expand},
    {OPT_REPLICA, false, set_replica},
    {'o', true, set_output},
    {OPT_GENERATION, true, set_generation},
    {OPT_INDEX, true, set_index},
    {OPT_TIMESTAMP, true, set_timestamp},
    {OPT_IF_DB, true, set_if_db},
    {OPT_IF_REPLICA, true, set_if_replica},
    {OPT_PARALLELISM, true, set_parallelism},
    {OPT_TIMEOUT, true, set_timeout},
    {OPT_TXID, true, set_txid},
    {OPT_DRY_RUN, true, set_dry_run},
    {OPT_FORCE, true, set_force},
    {OPT_INTEGRITY, true, set_verify},
    {OPT_VERIFY, true, set_verify},
};

/*
 * Applies what getopt returned for one option (not -h): its setter, or
 * the usage error for a missing value or an option this command does not
 * take. tok is the option's token. Returns 0 or DBS_EXIT_USAGE.
 */
static int take_option(struct cli* c, int ch, const char* tok, bool restore,
                       char** argv) {
  cli_setter set = NULL;
  bool restore_only = false;
  for (size_t i = 0; i < sizeof(cli_setters) / sizeof(cli_setters[0]); i++)
    if (cli_setters[i].id == ch) {
      set = cli_setters[i].set;
      restore_only = cli_setters[i].restore_only;
    }
  if (set != NULL && !restore_only)
    return set(c, ch, optarg);
  if (ch == '?' && optopt != 0 && optopt != '?' &&
      (optopt >= OPT_CONFIG || optopt == 'o')) {
    dbs_log_errorx("option '%s' needs a value (see dbsetup %s --help)",
                   argv[optind - 1], argv[0]);
    return DBS_EXIT_USAGE;
  }
  if (!restore || ch == '?' || ch == ':') {
    if (ch == '?' && optopt != 0)
      dbs_log_errorx("unknown option '-%c' (see dbsetup %s --help)", optopt,
                     argv[0]);
    else
      dbs_log_errorx("unknown option '%s' (see dbsetup %s --help)",
                     ch == '?' ? argv[optind - 1] : tok, argv[0]);
    return DBS_EXIT_USAGE;
  }
  if (set == NULL) {
    dbs_log_errorx("unknown option '%s' (see dbsetup %s --help)",
                   argv[optind - 1], argv[0]);
    return DBS_EXIT_USAGE;
  }
  return set(c, ch, optarg);
}

/* Parses the shared options; returns 0, or an exit status to stop with
 * (-1 for help). */
static int parse(struct cli* c, int argc, char** argv, bool restore) {
  memset(c, 0, sizeof(*c));
  c->index = -1;
  c->parallelism = 8;
  c->verify = DBS_VERIFY_QUICK;
  int rc = parse_env(c);
  if (rc != 0)
    return rc;
  optind = 1;
  opterr = 0;
  int ch, longidx = -1, at = optind;
  while ((ch = getopt_long_only(argc, argv, restore ? "+o:h" : "+h",
                                restore_opts, &longidx)) != -1) {
    if (longidx >= 0 && ch != '?' && ch != ':' &&
        !dbs_config_long_in_full(argv[at], restore_opts[longidx].name)) {
      dbs_log_errorx("option '%s' is abbreviated: write it in full, -%s "
                     "(see dbsetup %s --help)",
                     argv[at], restore_opts[longidx].name, argv[0]);
      return DBS_EXIT_USAGE;
    }
    const char* tok = argv[at < argc ? at : argc - 1]; /* this option */
    longidx = -1;
    at = optind;
    if (ch == 'h') {
      if (restore)
        restore_usage(stdout);
      else
        generations_usage(stdout);
      return -1;
    }
    if ((rc = take_option(c, ch, tok, restore, argv)) != 0)
      return rc;
  }
  if (optind >= argc || argv[optind][0] == '\0') {
    dbs_log_errorx("database path or replica URL required");
    return DBS_EXIT_USAGE;
  }
  if (optind + 1 < argc) {
    dbs_log_errorx("too many arguments");
    return DBS_EXIT_USAGE;
  }
  c->arg = argv[optind];
  return 0;
}

/* The replicas to use: from the URL, or the config's entry for the DB. */
struct replicas {
  struct dbs_litestream_config cfg;
  bool have_cfg;
  struct dbs_replica_config url;
  bool have_url;
  const struct dbs_replica_config* list;
  size_t n;
  char* db_path;
  const struct dbs_db_config* db;
};

static void replicas_free(struct replicas* r) {
  if (r->have_cfg)
    dbs_litestream_config_free(&r->cfg);
  if (r->have_url)
    dbs_replica_config_free(&r->url);
  free(r->db_path);
}

static int load_replicas(struct cli* c, struct replicas* r) {
  memset(r, 0, sizeof(*r));
  if (is_url(c->arg)) {
    if (c->config != NULL) {
      dbs_log_errorx("cannot specify a replica URL and the -config flag");
      return DBS_EXIT_USAGE;
    }
    int rc = replica_from_url(c->arg, &r->url);
    r->have_url = true;
    if (rc != 0)
      return rc == -ENOMEM ? DBS_EXIT_SOFTWARE : DBS_EXIT_USAGE;
    dbs_litestream_config_apply_env(&r->url);
    r->list = &r->url;
    r->n = 1;
    return 0;
  }
  /* As at boot: the flag, DBSETUP_LITESTREAM_CONFIG, LITESTREAM_CONFIG,
   * then ./litestream.yml and /etc/litestream.yml. */
  const char* explicit = c->config;
  const char* env = getenv("DBSETUP_LITESTREAM_CONFIG");
  if (explicit == NULL && env != NULL && env[0] != '\0')
    explicit = env;
  env = getenv("LITESTREAM_CONFIG");
  if (explicit == NULL && env != NULL && env[0] != '\0')
    explicit = env;
  char err[512] = "";
  char* path = NULL;
  int rc = dbs_litestream_bin_find_config(explicit, &path, err, sizeof(err));
  if (rc == -ENOMEM)
    return DBS_EXIT_SOFTWARE;
  if (rc != 0) {
    dbs_log_errorx("config file not found: %s",
                   explicit ? explicit
                            : "no --litestream-config, no "
                              "DBSETUP_LITESTREAM_CONFIG or LITESTREAM_CONFIG, "
                              "no ./litestream.yml or /etc/litestream.yml");
    return DBS_EXIT_CONFIG;
  }
  rc = dbs_litestream_config_load(path, !c->no_expand_env, &r->cfg, err,
                                  sizeof(err));
  free(path);
  if (rc != 0) {
    dbs_log_errorx("%s", err[0] ? err : "cannot read litestream.yml");
    return DBS_EXIT_CONFIG;
  }
  r->have_cfg = true;
  /* The warnings the boot prints for the same file (settings litestream
   * ignores silently), once. */
  for (size_t i = 0; i < r->cfg.nwarnings; i++)
    dbs_log_warnx("%s", r->cfg.warnings[i]);
  /* As litestream: the argument expanded as the config's paths are. */
  char xerr[256] = "";
  if (dbs_path_litestream_expand(c->arg, &r->db_path, xerr, sizeof(xerr)) !=
      0) {
    if (xerr[0] != '\0')
      dbs_log_errorx("%s", xerr);
    else
      dbs_log_errorx("cannot resolve %s", c->arg);
    return DBS_EXIT_USAGE;
  }
  r->db = dbs_litestream_config_find_db(&r->cfg, r->db_path);
  if (r->db == NULL) {
    dbs_log_errorx("database not found in config: %s", r->db_path);
    return DBS_EXIT_CONFIG;
  }
  for (size_t i = 0; i < r->db->nreplicas; i++)
    dbs_litestream_config_apply_env(&r->db->replicas[i]);
  r->list = r->db->replicas;
  r->n = r->db->nreplicas;
  return 0;
}

/* Opens the storages of the (filtered) replicas. */
static int open_sources(struct cli* c, struct replicas* r,
                        const struct dbs_restore_opts* o,
                        struct dbs_restore_source** out, size_t* nout) {
  struct dbs_restore_source* s = calloc(r->n ? r->n : 1, sizeof(*s));
  *out = s;
  *nout = 0;
  if (s == NULL)
    return DBS_EXIT_SOFTWARE;
  for (size_t i = 0; i < r->n; i++) {
    const struct dbs_replica_config* rc = &r->list[i];
    if (c->replica != NULL && r->have_cfg &&
        (rc->name == NULL || strcmp(rc->name, c->replica) != 0))
      continue;
    if (rc->has_age) {
      dbs_log_errorx("replica %s uses age encryption, which the native restore "
                     "does not support (use litestream restore)",
                     rc->name);
      return DBS_EXIT_DATAERR;
    }
    struct dbs_restore_error e = {0};
    const char* path = "";
    if (dbs_restore_open_storage(rc, o, &s[*nout].storage, &path, &e) != 0) {
      dbs_log_errorx("replica %s: %s%s", rc->name ? rc->name : "?", e.msg,
                     e.result == DBS_RESTORE_UNSUPPORTED_TYPE
                         ? " (use litestream restore for it)"
                         : "");
      int st = dbs_restore_exit_status(e.result);
      return st ? st : DBS_EXIT_USAGE;
    }
    s[*nout].name = rc->name;
    s[*nout].path = path;
    (*nout)++;
  }
  if (*nout == 0 && c->replica != NULL) {
    dbs_log_errorx("replica \"%s\" not found for database \"%s\"", c->replica,
                   r->db_path ? r->db_path : c->arg);
    return DBS_EXIT_USAGE;
  }
  return 0;
}

static void close_sources(struct dbs_restore_source* s, size_t n) {
  for (size_t i = 0; i < n; i++)
    s[i].storage->ops->close(s[i].storage);
  free(s);
}

int dbs_restore_cli_main(int argc, char** argv) {
  struct cli c;
  int st = parse(&c, argc, argv, true);
  if (st != 0)
    return st < 0 ? 0 : st;
  struct dbs_restore_target t = {
      .generation = c.generation, .index = c.index, .txid = c.txid};
  if (c.timestamp != NULL && c.timestamp[0] != '\0') {
    if (dbs_restore_cli_parse_time(c.timestamp, &t.timestamp_ns) != 0) {
      dbs_log_errorx("invalid -timestamp, must specify in ISO 8601 format "
                     "(e.g. 2000-01-01T00:00:00Z)");
      return DBS_EXIT_USAGE;
    }
    t.has_timestamp = true;
  }
  if (t.index >= 0 && t.has_timestamp) {
    dbs_log_errorx("cannot specify index & timestamp to restore");
    return DBS_EXIT_USAGE;
  }
  if (t.txid != 0 && t.has_timestamp) {
    dbs_log_errorx("cannot specify txid & timestamp to restore");
    return DBS_EXIT_USAGE;
  }
  if (t.txid != 0 && (t.index >= 0 || t.generation != NULL)) {
    dbs_log_errorx("-txid is litestream 0.5's flag (LTX replicas) and "
                   "-generation/-index are litestream v0.3's: use one kind");
    return DBS_EXIT_USAGE;
  }
  if (is_url(c.arg) && c.output == NULL && c.config == NULL) {
    dbs_log_errorx("output path required");
    return DBS_EXIT_USAGE;
  }
  struct replicas r;
  struct dbs_restore_source* srcs = NULL;
  size_t ns = 0;
  char* output = NULL;
  st = load_replicas(&c, &r);
  if (st != 0)
    goto done;
  output = c.output ? output_path(c.output) : strdup(r.db_path);
  if (output == NULL) {
    st = DBS_EXIT_SOFTWARE;
    goto done;
  }
  struct stat sb;
  if (c.if_db_not_exists && lstat(output, &sb) == 0) {
    dbs_log_info("database already exists, skipping");
    st = 0;
    goto done;
  }
  struct dbs_restore_opts o = {.parallelism = c.parallelism,
                               .verify = c.verify,
                               .progress = !c.dry_run,
                               .timeout_ms = c.timeout_ms,
                               .dry_run = c.dry_run,
                               .force = c.force,
                               .url_mode = r.have_url};
  st = open_sources(&c, &r, &o, &srcs, &ns);
  if (st != 0)
    goto done;
  struct dbs_restore_error e;
  enum dbs_restore_result res = dbs_restore_run(srcs, ns, &t, output, &o, &e);
  if (res == DBS_RESTORE_RESTORED) {
    st = 0;
  } else if (res == DBS_RESTORE_NO_BACKUP &&
             strcmp(e.msg, "no matching backups found") != 0) {
    /* A generation matched but does not reach the requested point: as in
     * litestream, -if-replica-exists does not cover it. */
    dbs_log_errorx("no matching backups found: %s", e.msg);
    st = EXIT_NO_BACKUP;
  } else if (res == DBS_RESTORE_NO_BACKUP) {
    if (c.if_replica_exists) {
      dbs_log_info("no matching backups found");
      st = 0;
    } else {
      dbs_log_errorx("no matching backups found");
      st = EXIT_NO_BACKUP;
    }
  } else {
    dbs_log_errorx("%s", e.msg);
    st = dbs_restore_exit_status(res);
    if (st == 0)
      st = DBS_EXIT_SOFTWARE;
  }
done:
  close_sources(srcs, ns);
  free(output);
  replicas_free(&r);
  return st;
}

static void fmt_time(int64_t ns, char* buf, size_t len) {
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void fmt_lag(int64_t ns, char* buf, size_t len) {
  int64_t s = ns / 1000000000;
  const char* sign = s < 0 ? "-" : "";
  if (s < 0)
    s = -s;
  if (s >= 3600)
    snprintf(buf, len, "%s%lldh%lldm%llds", sign, (long long)(s / 3600),
             (long long)(s / 60 % 60), (long long)(s % 60));
  else if (s >= 60)
    snprintf(buf, len, "%s%lldm%llds", sign, (long long)(s / 60),
             (long long)(s % 60));
  else
    snprintf(buf, len, "%s%llds", sign, (long long)s);
}

/* litestream's DB.UpdatedAt: the later mtime of the db and its -wal. */
static int64_t db_updated_ns(const char* db) {
  struct stat st;
  int64_t t = 0;
  if (stat(db, &st) == 0)
    t = dbs_storage_time_ns(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  char* w = NULL;
  if (asprintf(&w, "%s-wal", db) >= 0) {
    if (stat(w, &st) == 0) {
      int64_t tw = dbs_storage_time_ns(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
      if (tw > t)
        t = tw;
    }
    free(w);
  }
  return t;
}

/* Prints the LTX files of one replica by level, like `litestream ltx`
 * summed up: files, TXID range, bytes, first and last time. */
static void print_ltx_levels(const char* name,
                             const struct dbs_ltx_listing* l) {
  printf("%-8s  %-5s  %-5s  %-16s  %-16s  %-12s  %-20s  %s\n", "name", "level",
         "files", "min_txid", "max_txid", "bytes", "first", "last");
  for (int lv = DBS_LTX_SNAPSHOT_LEVEL; lv >= 0; lv--) {
    size_t nf = 0;
    uint64_t lo = 0, hi = 0;
    int64_t bytes = 0, t0 = 0, t1 = 0;
    for (size_t i = 0; i < l->n; i++) {
      const struct dbs_ltx_file* f = &l->files[i];
      if (f->level != lv)
        continue;
      if (nf == 0 || f->min_txid < lo)
        lo = f->min_txid;
      if (f->max_txid > hi)
        hi = f->max_txid;
      if (nf == 0 || f->time_ns < t0)
        t0 = f->time_ns;
      if (f->time_ns > t1)
        t1 = f->time_ns;
      bytes += f->size;
      nf++;
    }
    if (nf == 0)
      continue;
    char a[32], b[32];
    fmt_time(t0, a, sizeof(a));
    fmt_time(t1, b, sizeof(b));
    printf("%-8s  L%-4d  %-5zu  %016llx  %016llx  %-12lld  %-20s  %s\n", name,
           lv, nf, (unsigned long long)lo, (unsigned long long)hi,
           (long long)bytes, a, b);
  }
}

int dbs_restore_cli_generations(int argc, char** argv) {
  struct cli c;
  int st = parse(&c, argc, argv, false);
  if (st != 0)
    return st < 0 ? 0 : st;
  struct replicas r;
  struct dbs_restore_source* srcs = NULL;
  size_t ns = 0;
  st = load_replicas(&c, &r);
  if (st != 0)
    goto done;
  struct dbs_restore_opts o = {.parallelism = 1, .timeout_ms = c.timeout_ms};
  st = open_sources(&c, &r, &o, &srcs, &ns);
  if (st != 0)
    goto done;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t ref = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  if (r.db_path != NULL)
    ref = db_updated_ns(r.db_path);
  bool header = false;
  for (size_t i = 0; i < ns; i++) {
    struct dbs_storage* sto = srcs[i].storage;
    struct dbs_replica_listing l;
    struct dbs_ltx_listing lx;
    int rc = dbs_replica_load(sto, srcs[i].path, &l);
    if (rc == 0) {
      rc = dbs_ltx_load(sto, srcs[i].path, dbs_restore_storage_is_s3(sto), &lx);
      if (rc != 0)
        dbs_replica_listing_free(&l);
    }
    if (rc != 0) {
      dbs_log_errorx("cannot list the backups of replica %s (%s): %s",
                     srcs[i].name, sto->ops->describe(sto),
                     sto->error[0] ? sto->error : strerror(-rc));
      st = rc == DBS_STORAGE_ECORRUPT ? DBS_EXIT_DATAERR : DBS_EXIT_UNAVAILABLE;
      continue;
    }
    int64_t v3_updated = 0;
    for (size_t g = 0; g < l.ngens; g++) {
      const struct dbs_replica_generation* gen = &l.gens[g];
      char start[32], end[32], lag[32], wal[32];
      if (!header) {
        printf("%-8s  %-16s  %-9s  %-20s  %-20s  %-9s  %s\n", "name",
               "generation", "lag", "start", "end", "snapshots", "wal");
        header = true;
      }
      fmt_time(gen->created_ns, start, sizeof(start));
      fmt_time(gen->updated_ns, end, sizeof(end));
      int64_t lag_ns;
      if (__builtin_sub_overflow(ref, gen->updated_ns, &lag_ns))
        lag_ns = ref < gen->updated_ns ? INT64_MIN : INT64_MAX;
      fmt_lag(lag_ns, lag, sizeof(lag));
      if (gen->nsegments > 0)
        snprintf(wal, sizeof(wal), "%08x-%08x", gen->segments[0].index,
                 gen->segments[gen->nsegments - 1].index);
      else
        snprintf(wal, sizeof(wal), "-");
      printf("%-8s  %-16s  %-9s  %-20s  %-20s  %-9zu  %s\n", srcs[i].name,
             gen->name, lag, start, end, gen->nsnapshots, wal);
      if (gen->updated_ns > v3_updated)
        v3_updated = gen->updated_ns;
    }
    if (lx.n > 0) {
      if (header)
        printf("\n");
      print_ltx_levels(srcs[i].name, &lx);
      header = true;
    }
    if (lx.legacy != NULL)
      printf("%s: %s holds litestream v0.5.0-beta1 files (legacy LTX v1), "
             "which no restore reads\n",
             srcs[i].name, lx.legacy);
    if (lx.n > 0 && l.ngens > 0) {
      int64_t ltx_updated = dbs_ltx_listing_updated_ns(&lx);
      char a[32], b[32];
      fmt_time(v3_updated, a, sizeof(a));
      fmt_time(ltx_updated, b, sizeof(b));
      printf("%s: both layouts: v0.3 generations last written %s, LTX files "
             "last written %s: a restore without -txid uses the %s (the "
             "most recently written, as litestream 0.5 chooses)\n",
             srcs[i].name, a, b,
             dbs_restore_prefers_v3(v3_updated, ltx_updated)
                 ? "v0.3 generations"
                 : "LTX files");
    }
    dbs_ltx_listing_free(&lx);
    dbs_replica_listing_free(&l);
  }
  if (!header)
    printf("%-8s  %-16s  %-9s  %-20s  %-20s  %-9s  %s\n", "name", "generation",
           "lag", "start", "end", "snapshots", "wal");
done:
  close_sources(srcs, ns);
  replicas_free(&r);
  return st;
}
