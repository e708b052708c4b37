/* `dbsetup migrate`: native Prisma migrations from the command line. */
#ifndef DBS_MIGRATE_CLI_H
#define DBS_MIGRATE_CLI_H

/*
 * `dbsetup migrate [--status] [--schema F] [--db PATH]
 * [--prisma-migrations DIR] [--prisma-config F] [--litestream-config F]
 * [-q|-v]`; argv[0] is "migrate". Environment: DBSETUP_DB, DBSETUP_SCHEMA,
 * DBSETUP_PRISMA_MIGRATIONS, DBSETUP_PRISMA_CONFIG,
 * DBSETUP_LITESTREAM_CONFIG (then LITESTREAM_CONFIG, ./litestream.yml,
 * /etc/litestream.yml), DBSETUP_NO_EXPAND_ENV, DBSETUP_VOLUME,
 * DBSETUP_STOP_TIMEOUT, DBSETUP_LOG_LEVEL, DATABASE_URL. The database and
 * the folder are found by dbs_discover_run as at boot; a non-sqlite
 * datasource is refused unless --db is given. Returns the exit status: 0,
 * DBS_EXIT_USAGE, DBS_EXIT_CONFIG, DBS_EXIT_DATAERR (not an SQLite file),
 * DBS_EXIT_CANTCREAT (database cannot be created/opened) or
 * DBS_EXIT_MIGRATE (a Prisma error, or --status finding failed or pending
 * migrations); 128+N when signal N stopped the deploy.
 */
int dbs_migrate_cli_main(int argc, char** argv);

#endif
