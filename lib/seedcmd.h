/*
 * The seed command as Prisma runs it. `prisma db seed` (Prisma 5, 6.19 and
 * 7.10 alike) hands the configured string (prisma.config.ts
 * migrations.seed, package.json prisma.seed) to execa's execaCommand: no
 * shell; the string is trimmed, split at runs of spaces (only U+0020: a tab
 * stays inside its word), and a word ending in a backslash is joined to the
 * next with one space (the backslash dropped). Quotes, $VARIABLES, globs,
 * &&, | and > are ordinary characters of the words.
 */
#ifndef DBS_SEEDCMD_H
#define DBS_SEEDCMD_H

#include <stddef.h>

/*
 * Splits cmd as above into a NULL-terminated argv (*argv, one allocation:
 * free(*argv) frees it all). *argc is its length: 0 when cmd is empty or
 * only whitespace (Prisma then has no seed command, or fails to start "").
 * Returns 0 or -ENOMEM.
 */
int dbs_seedcmd_split(const char* cmd, char*** argv, size_t* argc);

/*
 * The first word of argv a shell would have treated as syntax (&&, ||, ;,
 * |, >, <, a word starting with $ or a quote left open), or NULL: such a
 * word reaches the command as an argument.
 */
const char* dbs_seedcmd_shell_word(char* const argv[]);

/*
 * The warning the boot logs (and doctor shows) for a seed from `from`
 * (where it was configured, e.g. "package.json prisma.seed") whose split
 * argv holds a shell word: written into out (size outlen, truncated).
 * Returns 1 when argv has such a word, else 0 (out is then ""); argv is
 * dbs_seedcmd_split(seed).
 */
int dbs_seedcmd_shell_warning(const char* from, const char* seed,
                              char* const argv[], char* out, size_t outlen);

#endif
