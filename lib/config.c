/* Parses dbsetup's options from its environment, then its command line. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"

enum opt_id {
  OPT_REPLICATE = 1000,
  OPT_STOP_TIMEOUT,
  OPT_REPLICATOR_STOP_TIMEOUT,
  OPT_SIGNAL_CHILD_ONLY,
  OPT_DB,
  OPT_VOLUME,
  OPT_SCHEMA,
  OPT_LITESTREAM_CONFIG,
  OPT_NO_EXPAND_ENV,
  OPT_LITESTREAM,
  OPT_MIGRATE,
  OPT_MIGRATE_FAILURE,
  OPT_SEED,
  OPT_NO_RESTORE,
  OPT_NO_REPLICATE,
  OPT_USER,
  OPT_REPLICA,
  OPT_PARALLELISM,
  OPT_RESTORE_TIMEOUT,
  OPT_VERIFY,
  OPT_PRISMA_MIGRATIONS,
  OPT_PRISMA_CONFIG,
  OPT_LITEFS_REPLICA_WAIT,
  OPT_LOG_LEVEL,
  OPT_VERSION,
  OPT_HELP = 'h',
  OPT_VERBOSE = 'v',
  OPT_QUIET = 'q',
};

struct opt_desc;

/* Stores one option value into cfg: 0, or -EINVAL for a value it refuses.
 * val is NULL for a flag without a value. */
typedef int (*opt_setter)(struct dbs_config* cfg, const struct opt_desc* o,
                          const char* val);

/* One row per option: its flag, its variable, its help text, and how its
 * value is stored (setter, into the field at offset off of dbs_config). */
struct opt_desc {
  const char* name;
  int has_arg;
  int id;
  const char* env;
  const char* arg;
  const char* help;
  opt_setter set; /* NULL: handled by dbs_config_parse (help, version) */
  size_t off;
};

#define FIELD(f) offsetof(struct dbs_config, f)

/* The field of cfg an option row stores into. */
#define AT(cfg, o, type) ((type*)(void*)((char*)(cfg) + (o)->off))

/* A string option: "" is unset. */
static int set_string(struct dbs_config* cfg, const struct opt_desc* o,
                      const char* val) {
  *AT(cfg, o, const char*) = *val ? val : NULL;
  return 0;
}

/* A string option that has a default and no "unset" (--volume). */
static int set_nonempty(struct dbs_config* cfg, const struct opt_desc* o,
                        const char* val) {
  if (*val == '\0')
    return -EINVAL;
  *AT(cfg, o, const char*) = val;
  return 0;
}

static int set_seconds(struct dbs_config* cfg, const struct opt_desc* o,
                       const char* val) {
  return dbs_config_parse_seconds(val, AT(cfg, o, unsigned));
}

/* A flag: no value (on the command line) is true; a variable's value is a
 * boolean. */
static int set_flag(struct dbs_config* cfg, const struct opt_desc* o,
                    const char* val) {
  bool b = true;
  if (val != NULL && dbs_config_parse_bool(val, &b) != 0)
    return -EINVAL;
  *AT(cfg, o, bool) = b;
  return 0;
}

static int set_migrate_failure(struct dbs_config* cfg, const struct opt_desc* o,
                               const char* val) {
  enum dbs_migrate_failure* f = AT(cfg, o, enum dbs_migrate_failure);
  if (strcmp(val, "exit") == 0)
    *f = DBS_MIGRATE_FAILURE_EXIT;
  else if (strcmp(val, "continue") == 0)
    *f = DBS_MIGRATE_FAILURE_CONTINUE;
  else
    return -EINVAL;
  return 0;
}

static int set_parallelism(struct dbs_config* cfg, const struct opt_desc* o,
                           const char* val) {
  return dbs_config_parse_parallelism(val, AT(cfg, o, unsigned));
}

static int set_verify(struct dbs_config* cfg, const struct opt_desc* o,
                      const char* val) {
  return dbs_config_parse_verify(val, AT(cfg, o, enum dbs_verify));
}

static int set_log_level(struct dbs_config* cfg, const struct opt_desc* o,
                         const char* val) {
  (void)cfg;
  (void)o;
  return dbs_config_set_log_level(val);
}

static int set_verbose(struct dbs_config* cfg, const struct opt_desc* o,
                       const char* val) {
  (void)cfg;
  (void)o;
  (void)val;
  dbs_log_set_level(DBS_LOG_DEBUG);
  return 0;
}

static int set_quiet(struct dbs_config* cfg, const struct opt_desc* o,
                     const char* val) {
  (void)cfg;
  (void)o;
  (void)val;
  dbs_log_set_level(DBS_LOG_WARN);
  return 0;
}

static const struct opt_desc opts[] = {
    {"replicate", 1, OPT_REPLICATE, "DBSETUP_REPLICATE", "CMD",
     "replicator command, run with /bin/sh -c (default: litestream replicate "
     "when litestream.yml has the database)",
     set_string, FIELD(replicate)},
    {"stop-timeout", 1, OPT_STOP_TIMEOUT, "DBSETUP_STOP_TIMEOUT", "SECS",
     "time the app gets after a stop signal before SIGKILL, and a running "
     "migration, migrate or seed command to finish (7)",
     set_seconds, FIELD(stop_timeout_ms)},
    {"replicator-stop-timeout", 1, OPT_REPLICATOR_STOP_TIMEOUT,
     "DBSETUP_REPLICATOR_STOP_TIMEOUT", "SECS",
     "time the replicator gets for its final sync after the app is gone "
     "(litestream 0.3: 5; 0.5: its shutdown-sync-timeout, 30 by default, + "
     "2; --replicate: 2)",
     set_seconds, FIELD(replicator_stop_timeout_ms)},
    {"signal-child-only", 0, OPT_SIGNAL_CHILD_ONLY, "DBSETUP_SIGNAL_CHILD_ONLY",
     NULL, "forward signals to the app's pid, not its process group", set_flag,
     FIELD(signal_child_only)},
    {"db", 1, OPT_DB, "DBSETUP_DB", "PATH",
     "the database path the app opens (default: discovered)", set_string,
     FIELD(db)},
    {"volume", 1, OPT_VOLUME, "DBSETUP_VOLUME", "DIR",
     "the persistent volume (/data)", set_nonempty, FIELD(volume)},
    {"schema", 1, OPT_SCHEMA, "DBSETUP_SCHEMA", "PATH",
     "Prisma schema (default: package.json prisma.schema, ./schema.prisma, "
     "./prisma/schema.prisma; prisma.config.ts schema comes first)",
     set_string, FIELD(schema)},
    {"litestream-config", 1, OPT_LITESTREAM_CONFIG, "DBSETUP_LITESTREAM_CONFIG",
     "PATH",
     "litestream.yml (default: $LITESTREAM_CONFIG, ./litestream.yml, "
     "/etc/litestream.yml)",
     set_string, FIELD(litestream_config)},
    {"no-expand-env", 0, OPT_NO_EXPAND_ENV, "DBSETUP_NO_EXPAND_ENV", NULL,
     "do not expand $VARS in litestream.yml", set_flag, FIELD(no_expand_env)},
    {"litestream", 1, OPT_LITESTREAM, "DBSETUP_LITESTREAM", "PATH",
     "the litestream binary (default: PATH, then node_modules/@flydotio/"
     "litestream-linux-<arch>/litestream)",
     set_string, FIELD(litestream)},
    {"migrate", 1, OPT_MIGRATE, "DBSETUP_MIGRATE", "CMD",
     "migration command, run with /bin/sh -c on every boot (default: native "
     "Prisma migrations when prisma/migrations exists)",
     set_string, FIELD(migrate)},
    {"migrate-failure", 1, OPT_MIGRATE_FAILURE, "DBSETUP_MIGRATE_FAILURE",
     "exit|continue",
     "on a failed migration, exit 80 (default) or start the "
     "app anyway so an operator can repair",
     set_migrate_failure, FIELD(migrate_failure)},
    {"seed", 1, OPT_SEED, "DBSETUP_SEED", "CMD",
     "seed command for a fresh database, run with /bin/sh -c (default: "
     "prisma.config.ts migrations.seed, else package.json prisma.seed, run "
     "as prisma db seed runs it: split at spaces, no shell)",
     set_string, FIELD(seed)},
    {"no-restore", 0, OPT_NO_RESTORE, "DBSETUP_NO_RESTORE", NULL,
     "never restore a missing database from its backup", set_flag,
     FIELD(no_restore)},
    {"no-replicate", 0, OPT_NO_REPLICATE, "DBSETUP_NO_REPLICATE", NULL,
     "do not start the replicator", set_flag, FIELD(no_replicate)},
    {"user", 1, OPT_USER, "DBSETUP_USER", "USER[:GROUP]",
     "run migrate, seed, replicator and app as this user (root only)",
     set_string, FIELD(user)},
    {"replica", 1, OPT_REPLICA, "DBSETUP_REPLICA", "NAME",
     "restore from this replica of litestream.yml", set_string, FIELD(replica)},
    {"parallelism", 1, OPT_PARALLELISM, "DBSETUP_PARALLELISM", "N",
     "parallel downloads during restore (8)", set_parallelism,
     FIELD(parallelism)},
    {"restore-timeout", 1, OPT_RESTORE_TIMEOUT, "DBSETUP_RESTORE_TIMEOUT",
     "SECS",
     "give up retrying an unreachable backup after this long without "
     "progress (120)",
     set_seconds, FIELD(restore_timeout_ms)},
    {"verify", 1, OPT_VERIFY, "DBSETUP_VERIFY", "full|quick|none",
     "check a restored database with PRAGMA integrity_check/quick_check "
     "(quick)",
     set_verify, FIELD(verify)},
    {"prisma-migrations", 1, OPT_PRISMA_MIGRATIONS, "DBSETUP_PRISMA_MIGRATIONS",
     "DIR",
     "Prisma migrations folder (default: prisma.config.ts migrations.path, "
     "<schema dir>/migrations)",
     set_string, FIELD(prisma_migrations)},
    {"prisma-config", 1, OPT_PRISMA_CONFIG, "DBSETUP_PRISMA_CONFIG", "PATH",
     "Prisma config file, as prisma --config (default: ./prisma.config.ts "
     "and the other names Prisma looks for)",
     set_string, FIELD(prisma_config)},
    {"litefs-replica-wait", 1, OPT_LITEFS_REPLICA_WAIT,
     "DBSETUP_LITEFS_REPLICA_WAIT", "SECS",
     "under LiteFS, how long a replica waits for the primary's database and "
     "its migrations before it exits 75 (300)",
     set_seconds, FIELD(litefs_replica_wait_ms)},
    {"log-level", 1, OPT_LOG_LEVEL, "DBSETUP_LOG_LEVEL",
     "debug|info|warn|error", "log level (info)", set_log_level, 0},
    {"verbose", 0, OPT_VERBOSE, NULL, NULL, "-v: log level debug", set_verbose,
     0},
    {"quiet", 0, OPT_QUIET, NULL, NULL, "-q: log level warn", set_quiet, 0},
    {"version", 0, OPT_VERSION, NULL, NULL, "print the version and exit", NULL,
     0},
    {"help", 0, OPT_HELP, NULL, NULL, "-h: print this help and exit", NULL, 0},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

int dbs_config_parse_seconds(const char* s, unsigned* ms) {
  char* end;
  size_t digits = 0, dots = 0;
  if (s == NULL || *s == '\0')
    return -EINVAL;
  /* Plain decimal only: strtod alone would take " 5", "0x10", "1e3". */
  for (const char* p = s; *p != '\0'; p++) {
    if (*p >= '0' && *p <= '9')
      digits++;
    else if (*p == '.')
      dots++;
    else
      return -EINVAL;
  }
  if (digits == 0 || dots > 1)
    return -EINVAL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0 || v > 86400)
    return -EINVAL;
  *ms = (unsigned)llround(v * 1000.0);
  return 0;
}

int dbs_config_parse_bool(const char* s, bool* out) {
  static const char* const yes[] = {"1", "true", "yes", "on"};
  static const char* const no[] = {"0", "false", "no", "off", ""};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    if (strcasecmp(s, yes[i]) == 0)
      return *out = true, 0;
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    if (strcasecmp(s, no[i]) == 0)
      return *out = false, 0;
  return -EINVAL;
}

int dbs_config_parse_parallelism(const char* s, unsigned* out) {
  unsigned v = 0;
  if (s == NULL || *s == '\0')
    return -EINVAL;
  for (const char* p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return -EINVAL;
    v = v * 10 + (unsigned)(*p - '0');
    if (v > DBS_CONFIG_PARALLELISM_MAX)
      return -EINVAL;
  }
  if (v < 1)
    return -EINVAL;
  *out = v;
  return 0;
}

int dbs_config_parse_verify(const char* s, enum dbs_verify* out) {
  if (strcmp(s, "quick") == 0)
    *out = DBS_VERIFY_QUICK;
  else if (strcmp(s, "full") == 0)
    *out = DBS_VERIFY_FULL;
  else if (strcmp(s, "none") == 0)
    *out = DBS_VERIFY_NONE;
  else
    return -EINVAL;
  return 0;
}

int dbs_config_set_log_level(const char* s) {
  enum dbs_log_level lvl;
  if (s == NULL || *s == '\0')
    return 0;
  if (dbs_log_parse_level(s, &lvl) != 0)
    return -EINVAL;
  dbs_log_set_level(lvl);
  return 0;
}

/* Applies one option value; from names where it came from for messages. */
static int apply(struct dbs_config* cfg, const struct opt_desc* o,
                 const char* val, const char* from) {
  if (o->set == NULL || o->set(cfg, o, val) == 0)
    return 0;
  const char* expect = o->arg ? o->arg : "1/true/yes/on or 0/false/no/off";
  if (o->set == set_seconds)
    expect = "SECS: a number of seconds from 0 to 86400, e.g. 300 or 0.5";
  dbs_log_errorx("invalid value '%s' for %s%s (expected %s; see dbsetup "
                 "--help)",
                 val ? val : "", from, from[0] == '-' ? o->name : "", expect);
  return -EINVAL;
}

static void set_defaults(struct dbs_config* cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->stop_timeout_ms = 7000;
  cfg->replicator_stop_timeout_ms = DBS_CONFIG_TIMEOUT_AUTO;
  cfg->volume = DBS_CONFIG_DEFAULT_VOLUME;
  cfg->migrate_failure = DBS_MIGRATE_FAILURE_EXIT;
  cfg->parallelism = 8;
  cfg->restore_timeout_ms = 120000;
  cfg->verify = DBS_VERIFY_QUICK;
  cfg->litefs_replica_wait_ms = 300000;
}

bool dbs_config_long_in_full(const char* tok, const char* name) {
  if (tok[0] != '-')
    return false;
  tok += tok[1] == '-' ? 2 : 1;
  size_t len = strcspn(tok, "=");
  return len == strlen(name) && strncmp(tok, name, len) == 0;
}

/* The defaults, then the variables (LITESTREAM_CONFIG first). Returns 0 or
 * -EINVAL after logging the bad variable. */
static int apply_env(struct dbs_config* cfg) {
  set_defaults(cfg);
  /* Litestream's own variable comes before our default search. */
  const char* lsc = getenv("LITESTREAM_CONFIG");
  if (lsc != NULL && *lsc != '\0')
    cfg->litestream_config = lsc;
  for (size_t i = 0; i < NOPTS; i++) {
    const char* val = opts[i].env ? getenv(opts[i].env) : NULL;
    if (val == NULL)
      continue;
    if (apply(cfg, &opts[i], val, opts[i].env) != 0)
      return -EINVAL;
  }
  return 0;
}

/* getopt_long's table for opts (NOPTS + 1 entries, zero-terminated). */
static void make_longopts(struct option* longopts) {
  for (size_t i = 0; i < NOPTS; i++) {
    longopts[i].name = opts[i].name;
    longopts[i].has_arg = opts[i].has_arg ? required_argument : no_argument;
    longopts[i].flag = NULL;
    longopts[i].val = opts[i].id;
  }
  memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));
}

/* Logs what getopt refused ('?' or ':'); bad is the offending token. */
static void log_getopt_error(const char* bad) {
  /* getopt sets optopt to a long option's id when its value is
   * missing, to the letter of an unknown short one, else to 0. */
  if (optopt >= OPT_REPLICATE && strchr(bad, '=') != NULL)
    dbs_log_errorx("option '%.*s' takes no value (see dbsetup --help; "
                   "its variable takes 1/true/yes/on or 0/false/no/off)",
                   (int)strcspn(bad, "="), bad);
  else if (optopt >= OPT_REPLICATE)
    dbs_log_errorx("option '%s' needs a value (see dbsetup --help)", bad);
  else if (optopt != 0)
    dbs_log_errorx("unknown option '-%c' (see dbsetup --help; put the "
                   "app command after --)",
                   optopt);
  else
    dbs_log_errorx("unknown option '%s' (see dbsetup --help; put the app "
                   "command after --)",
                   bad);
}

static const struct opt_desc* opt_by_id(int id) {
  for (size_t i = 0; i < NOPTS; i++)
    if (opts[i].id == id)
      return &opts[i];
  return NULL;
}

int dbs_config_parse(struct dbs_config* cfg, int argc, char** argv) {
  struct option longopts[NOPTS + 1];
  int action = DBS_CONFIG_RUN;

  if (apply_env(cfg) != 0)
    return -EINVAL;
  make_longopts(longopts);
  optind = 0; /* reset getopt, including GNU's internal state */
  opterr = 0;
  for (;;) {
    int longidx = -1;
    int at = optind ? optind : 1; /* the token a long option is read from */
    int c = getopt_long(argc, argv, "+hvq", longopts, &longidx);
    if (c == -1)
      break;
    if (longidx >= 0 && c != '?' && c != ':' &&
        !dbs_config_long_in_full(argv[at], longopts[longidx].name)) {
      dbs_log_errorx("option '%s' is abbreviated: write it in full, --%s "
                     "(see dbsetup --help)",
                     argv[at], longopts[longidx].name);
      return -EINVAL;
    }
    if (c == '?' || c == ':') {
      log_getopt_error(argv[optind - 1]);
      return -EINVAL;
    }
    const struct opt_desc* o = opt_by_id(c);
    if (o == NULL)
      return -EINVAL;
    if (c == OPT_HELP || c == OPT_VERSION) {
      action = c == OPT_HELP ? DBS_CONFIG_HELP : DBS_CONFIG_VERSION;
      continue;
    }
    if (apply(cfg, o, o->has_arg ? optarg : NULL, "--") != 0)
      return -EINVAL;
  }
  cfg->argv = argv + optind;
  if (action == DBS_CONFIG_RUN && cfg->replicate != NULL && cfg->no_replicate) {
    /* Each half of the boot would otherwise read a different one. */
    dbs_log_errorx("--replicate and --no-replicate (or DBSETUP_REPLICATE and "
                   "DBSETUP_NO_REPLICATE) cannot be used together: keep the "
                   "one you mean (see dbsetup --help)");
    return -EINVAL;
  }
  if (action == DBS_CONFIG_RUN && cfg->argv[0] == NULL) {
    dbs_log_errorx("no command given: usage: dbsetup [OPTIONS] [--] COMMAND "
                   "[ARG...] (see dbsetup --help)");
    return -EINVAL;
  }
  return action;
}

/* Prints text word-wrapped at width, each line indented by indent. */
static void print_wrapped(FILE* out, const char* text, int indent, int width) {
  const char* p = text;
  while (*p != '\0') {
    int room = width - indent, len = (int)strlen(p), cut = len;
    if (len > room) {
      cut = room;
      while (cut > 0 && p[cut] != ' ')
        cut--;
      if (cut == 0)
        cut = room;
    }
    fprintf(out, "%*s%.*s\n", indent, "", cut, p);
    p += cut;
    while (*p == ' ')
      p++;
  }
}

void dbs_config_usage(FILE* out) {
  fprintf(
      out,
      "Usage: dbsetup [OPTIONS] [--] COMMAND [ARG...]\n"
      "       dbsetup restore [OPTIONS] DB_PATH|REPLICA_URL\n"
      "       dbsetup generations [OPTIONS] DB_PATH|REPLICA_URL\n"
      "       dbsetup doctor [--json] [--quick-check] [--ignore-lock]\n"
      "                      [--fly-toml F] [OPTIONS] [--] [COMMAND...]\n"
      "       dbsetup migrate [--status] [--schema F] [--db PATH]\n"
      "                       [--prisma-migrations DIR] [--prisma-config F]\n"
      "                       [--litestream-config F]\n\n"
      "Sets up the app's SQLite database (discover, link onto the volume,\n"
      "restore from its Litestream backup, migrate, seed once), then runs\n"
      "COMMAND and its replicator under supervision.\n\nOptions (each also "
      "read from the variable shown; the flag wins):\n");
  for (size_t i = 0; i < NOPTS; i++) {
    char text[512];
    fprintf(out, "  --%s%s%s\n", opts[i].name, opts[i].arg ? " " : "",
            opts[i].arg ? opts[i].arg : "");
    if (opts[i].env)
      snprintf(text, sizeof(text), "%s [%s]", opts[i].help, opts[i].env);
    else
      snprintf(text, sizeof(text), "%s", opts[i].help);
    print_wrapped(out, text, 6, 78);
  }
  fprintf(
      out,
      "\nExit status:\n"
      "  0-255  the app's own exit status\n"
      "  128+N  the app died of signal N, or a stop signal N came during\n"
      "         setup (143 = 128+SIGTERM after docker stop)\n"
      "  64     usage error (bad option or value)\n"
      "  65     a database file that is not SQLite, a symlink or hard link on "
      "the\n"
      "         volume (the database, its -wal/-shm, the lock), or a corrupt\n"
      "         or unsupported (age-encrypted) replica\n"
      "  69     backup storage unreachable or refusing: no fresh database "
      "was created;\n"
      "         or LiteFS's API does not answer\n"
      "  70     internal error\n"
      "  73     the volume or database is not writable\n"
      "  75     another dbsetup holds the volume lock; under LiteFS: the "
      "primary\n"
      "         was lost during a write, or a replica waited in vain\n"
      "  77     --user needs root; dbsetup must not be installed setuid\n"
      "  78     configuration error (litestream.yml, Prisma schema, path "
      "mismatch,\n"
      "         litestream binary missing, a command that does not parse,\n"
      "         a database setup LiteFS would break)\n"
      "  80     migration failed\n"
      "  81     seed failed\n"
      "  126    the command is not executable\n"
      "  127    the command was not found\n");
}
