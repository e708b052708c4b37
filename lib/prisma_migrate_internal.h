/*
 * prisma_migrate's internals shared with migrate_cli.c (the `dbsetup
 * migrate` command). Not for other modules.
 */
#ifndef DBS_PRISMA_MIGRATE_INTERNAL_H
#define DBS_PRISMA_MIGRATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The remedy Prisma documents (https://pris.ly/d/migrate-resolve); %s is the
 * migration name, twice. */
#define DBS_PRISMA_RESOLVE_HINT                                                \
  "fix the database by hand, then run `npx prisma migrate resolve "            \
  "--rolled-back %s` (its changes are undone: the next deploy runs it "        \
  "again) or `npx prisma migrate resolve --applied %s` (its changes are "      \
  "complete)"

/* The signal of the first stop request (dbs_prisma_migrate_request_stop),
 * or 0 when none came. */
int dbs_prisma_migrate_stop_signal(void);

/* Its name: "SIGINT" or "SIGTERM". */
const char* dbs_prisma_migrate_stop_name(void);

/* Formats a Unix-ms time as chrono prints a DateTime<Utc>:
 * "2024-01-01 12:34:56.789 UTC" (fraction only when non-zero). */
void dbs_prisma_format_ms(int64_t ms, char* out, size_t n);

#endif
