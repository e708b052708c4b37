/*
 * litestream.yml, read as the litestream that will run reads it: v0.3.13
 * (replicas[], top-level credentials only) or v0.5 (replica: or a
 * one-entry replicas:, every replica setting inheritable from the top
 * level, the new global keys). Environment expansion of the whole text,
 * dbs[].path resolution, the url/bucket/path/endpoint/region rules.
 */
#ifndef DBS_LITESTREAM_CONFIG_H
#define DBS_LITESTREAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Whose rules a litestream.yml is read by. */
enum dbs_ls_rules {
  DBS_LS_RULES_ANY, /* no litestream will run (restore only): both
                     * syntaxes are read, replica: and replicas:, several
                     * replicas, settings inherited from the top level */
  DBS_LS_RULES_V03, /* litestream 0.3.x replicate will run */
  DBS_LS_RULES_V05, /* litestream 0.5.x replicate will run */
};

enum dbs_replica_type {
  DBS_REPLICA_FILE,
  DBS_REPLICA_S3,
  DBS_REPLICA_OTHER, /* gcs, abs, sftp...: restored by the litestream binary */
};

/*
 * One replicas[] entry, fully resolved. All strings owned; an empty value
 * is always NULL, never "".
 */
struct dbs_replica_config {
  char* name; /* name:, default the type string ("s3", "file") */
  char* type; /* "file", "s3", "gcs", "abs" or "sftp" */
  enum dbs_replica_type kind;
  char* url; /* url: as written (after env expansion) */
  /*
   * file: the replica directory, absolute (~ and relative resolved).
   * s3: the key prefix, cleaned like Go's path.Clean; NULL for the bucket
   * root. From a url it has no leading '/'; a config `path: /db` keeps it
   * (keys are then "/db/generations/..."), as litestream does.
   */
  char* path;
  /* s3: */
  char* bucket;
  bool bucket_empty;      /* s3 only: bucket and url host came out empty after
                           * env expansion (BUCKET_NAME unset). The parse does
                           * not fail; litestream itself would refuse this
                           * config ("bucket required for s3 replica"), so the
                           * caller must warn that restore and replication are
                           * off and run neither. A bucket that is simply not
                           * written is an error, not this. */
  char* endpoint;         /* "scheme://host[:port]" ("https://" added when the
                           * config has no scheme, as aws-sdk does) or NULL
                           * for AWS */
  bool endpoint_from_env; /* set by apply_env from AWS_ENDPOINT_URL_S3, which
                           * litestream 0.3.13 itself ignores */
  char* region;           /* NULL: decided at connect time (see storage_s3) */
  bool force_path_style;
  bool force_path_style_explicit; /* force-path-style: written in config */
  bool skip_verify;
  char* access_key_id;
  char* secret_access_key;
  char* session_token; /* only from AWS_SESSION_TOKEN (apply_env) */
  bool has_age;        /* age: identities/recipients (restore refuses it) */
};

struct dbs_db_config {
  char* path;      /* absolute, ~ expanded (home from passwd, as Go's
                    * os/user does, not $HOME) */
  char* meta_path; /* meta-path: as written, else the default
                    * "<dir>/.<name>-litestream" */
  struct dbs_replica_config* replicas;
  size_t nreplicas;
  /* monitor-interval in ms, or -1 when not written (1 s in 0.3 and 0.5):
   * litestream's first sync comes one interval after it starts. */
  long long monitor_interval_ms;
};

struct dbs_litestream_config {
  char* file;          /* absolute path of the file read, or NULL */
  char* access_key_id; /* top level */
  char* secret_access_key;
  /*
   * exec: as written, or NULL. `litestream replicate -config` runs it as
   * its child, so a caller that supervises the app itself must not let
   * litestream start it a second time.
   */
  char* exec;
  struct dbs_db_config* dbs;
  size_t ndbs;
  enum dbs_ls_rules rules; /* the rules it was read by */
  /*
   * shutdown-sync-timeout: in ms (0.5: how long litestream retries its
   * final upload after SIGTERM/SIGINT; 0 is a single attempt), or -1 when
   * the file does not set it (litestream 0.5's default is 30 s).
   */
  long long shutdown_sync_timeout_ms;
  /*
   * Keys the running litestream silently ignores (0.3-only keys under
   * 0.5), each as "FILE:LINE:COLUMN: what and the fix"; the caller logs
   * them. Owned.
   */
  char** warnings;
  size_t nwarnings;
};

/* litestream 0.5's default shutdown-sync-timeout (DefaultShutdownSyncTimeout).
 */
#define DBS_LS05_SHUTDOWN_SYNC_TIMEOUT_MS 30000

/*
 * Reads and parses path by the rules of `rules`. expand_env mirrors
 * litestream's default (true) and -no-expand-env. Relative dbs[].path
 * values resolve against the working directory, as litestream does.
 * Top-level settings are copied into replicas that lack them (0.3: only
 * the credentials; 0.5 and ANY: every replica setting). Secrets are
 * registered with dbs_log_add_secret. Every replica error litestream
 * raises when it builds its replicas is raised here too, with dbsetup's
 * stricter additions:
 * - V03: a singular `replica:` (0.5 syntax, which 0.3 ignores: no replica)
 *   is an error naming both fixes; unknown replica types are an error;
 * - V05: 0.5's own refusals ('replica' and 'replicas' together, several
 *   replicas, a database without one, age:, the validation of the global
 *   durations), and warnings (cfg->warnings) for the 0.3-only keys 0.5
 *   ignores (retention, retention-check-interval, snapshot-interval,
 *   validation-interval per replica; max-checkpoint-page-count);
 * - ANY: 'replica' and 'replicas' together is an error.
 * On error writes "FILE:LINE:COLUMN: problem" (line and
 * column 1-based; the line is the line in the file before expansion, the
 * column counts in the expanded text) into
 * err (size errlen) and returns -EINVAL (malformed), -ENOENT (missing),
 * -ENOMEM or another -errno from reading the file; *out is then empty. The
 * caller frees *out with dbs_litestream_config_free, on success and on failure.
 */
int dbs_litestream_config_load_rules(const char* path, bool expand_env,
                                     enum dbs_ls_rules rules,
                                     struct dbs_litestream_config* out,
                                     char* err, size_t errlen);

/* dbs_litestream_config_load_rules with DBS_LS_RULES_ANY (restore only). */
int dbs_litestream_config_load(const char* path, bool expand_env,
                               struct dbs_litestream_config* out, char* err,
                               size_t errlen);

/*
 * As dbs_litestream_config_load_rules, from text in memory (for tests).
 * Errors name the file "litestream.yml".
 */
int dbs_litestream_config_parse_rules(const char* text, size_t len,
                                      bool expand_env, enum dbs_ls_rules rules,
                                      struct dbs_litestream_config* out,
                                      char* err, size_t errlen);

/* dbs_litestream_config_parse_rules with DBS_LS_RULES_V03. */
int dbs_litestream_config_parse(const char* text, size_t len, bool expand_env,
                                struct dbs_litestream_config* out, char* err,
                                size_t errlen);

/*
 * Expands $VAR and ${VAR} in text exactly as Go's os.ExpandEnv: unset is
 * empty, ${VAR:-x} looks up the name "VAR:-x", $$ $1 $* ${1} are empty,
 * "${}" vanishes, an unterminated "${" is dropped, a '$' followed by
 * anything else (or at the end) stays. Returns a NUL-terminated string the
 * caller frees, its length in *outlen; NULL on ENOMEM.
 */
char* dbs_litestream_config_expand_env(const char* text, size_t len,
                                       size_t* outlen);

/*
 * Parses a replica URL (s3://bucket/path, file:///dir, abs://...) into r
 * with litestream's provider-host rules, as litestream's URL mode does
 * (a replica with only url: set). r is overwritten; free it with
 * dbs_replica_config_free. Returns 0 or -EINVAL / -ENOMEM with a message
 * in err.
 */
int dbs_litestream_config_parse_url(const char* url,
                                    struct dbs_replica_config* r, char* err,
                                    size_t errlen);

/*
 * Finds the dbs entry that is db_path: equal as litestream compares them
 * (filepath.Abs of both: lexical, "link/../db" is "db"), or equal after
 * dbs_path_canonical of those (symlinks resolved as far as the path
 * exists, so a link to the same file or a path through a symlinked
 * directory matches). Returns the first matching entry or NULL.
 */
const struct dbs_db_config*
dbs_litestream_config_find_db(const struct dbs_litestream_config* cfg,
                              const char* db_path);

/*
 * Fills in what the file leaves to the environment, for s3 replicas only:
 * - credentials, when the config has neither key (litestream's order: the
 *   config's keys are used as they are, with no session token; otherwise
 *   AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, each replaced by its
 *   LITESTREAM_ counterpart only when the AWS_ variable is unset, then
 *   AWS_ACCESS_KEY/AWS_SECRET_KEY; both needed; AWS_SESSION_TOKEN with them);
 * - endpoint from AWS_ENDPOINT_URL_S3 when the config has none (sets
 *   endpoint_from_env); path style is then on unless force-path-style is
 *   written in the config, the rule litestream applies to a configured
 *   endpoint;
 * - region from AWS_REGION when the config has none, else "us-east-1" when
 *   there is an endpoint (litestream's default for custom endpoints).
 * Registers secrets. Returns 0 or -ENOMEM.
 */
int dbs_litestream_config_apply_env(struct dbs_replica_config* r);

void dbs_replica_config_free(struct dbs_replica_config* r);
void dbs_litestream_config_free(struct dbs_litestream_config* cfg);

#endif
