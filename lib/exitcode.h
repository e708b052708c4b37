/* dbsetup's exit statuses: one table, documented in README and --help. */
#ifndef DBS_EXITCODE_H
#define DBS_EXITCODE_H

/* 0-255 not listed here: the app's own exit status is passed through. */
enum dbs_exit {
  DBS_EXIT_USAGE = 64,   /* bad command line or option value */
  DBS_EXIT_DATAERR = 65, /* not an SQLite file, corrupt/unsupported replica */
  DBS_EXIT_UNAVAILABLE = 69, /* backup storage unreachable or refusing */
  DBS_EXIT_SOFTWARE = 70,    /* internal error */
  DBS_EXIT_CANTCREAT = 73,   /* volume or database not writable */
  DBS_EXIT_TEMPFAIL = 75,    /* another dbsetup holds the volume lock */
  DBS_EXIT_NOPERM = 77,      /* --user needs root, or installed setuid */
  DBS_EXIT_CONFIG = 78,      /* bad litestream.yml / schema / config mismatch */
  DBS_EXIT_MIGRATE = 80,     /* migration failed */
  DBS_EXIT_SEED = 81,        /* seed failed */
  DBS_EXIT_NOEXEC = 126,     /* command found but not executable */
  DBS_EXIT_NOTFOUND = 127,   /* command not found */
  DBS_EXIT_SIGNAL_BASE = 128 /* 128+N: the app died of signal N */
};

#endif
