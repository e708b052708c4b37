/* `dbsetup restore` and `dbsetup generations`: litestream's commands, natively.
 */
#ifndef DBS_RESTORE_CLI_H
#define DBS_RESTORE_CLI_H

#include <stdint.h>

/*
 * dbsetup restore [--litestream-config F] [-o PATH] [--replica NAME]
 *   [--generation ID] [--index N] [--timestamp RFC3339]
 *   [--txid TXID] [--dry-run] [--force]
 *   [--if-db-not-exists] [--if-replica-exists] [--parallelism N]
 *   [--verify|--integrity-check full|quick|none] [--no-expand-env]
 *   DB_PATH|REPLICA_URL
 * argv[0] is the subcommand name. Options may be written with one dash
 * as litestream spells them. Returns the exit status: 0, 1 ("no matching
 * backups found"), 64 usage, 65 corrupt/encrypted replica, 69 storage,
 * 73 target, 78 litestream.yml, 70 internal.
 */
int dbs_restore_cli_main(int argc, char** argv);

/*
 * dbsetup generations [--litestream-config F] [--replica NAME]
 *   DB_PATH|REPLICA_URL: one line per generation with litestream's
 * columns (name, generation, lag, start, end) plus the snapshot count and
 * WAL index range. Returns the exit status as dbs_restore_cli_main.
 */
int dbs_restore_cli_generations(int argc, char** argv);

/*
 * Parses a time as Go's time.Parse(time.RFC3339, s) does for litestream
 * ("2000-01-01T00:00:00Z"; a fraction after '.' or ','; "Z" or a zone
 * "+hh:mm"; impossible dates such as November 31st refused) into Unix ns,
 * saturated outside 1677..2262. Returns 0 or -EINVAL.
 */
int dbs_restore_cli_parse_time(const char* s, int64_t* ns);

#endif
