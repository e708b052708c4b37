/* A growing string buffer, Go's path.Clean for slash-separated paths, hex,
 * UTF-8 and JSON escapes:
 * small string helpers shared by the parsers. */
#ifndef DBS_STRBUF_H
#define DBS_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A NUL-terminated string that grows; zero-initialise it. On allocation
 * failure it sets oom and stops growing. Owns p. */
struct dbs_strbuf {
  char* p;
  size_t len, cap;
  bool oom;
};

/* Appends n bytes of s (or the string s). */
void dbs_strbuf_add(struct dbs_strbuf* b, const char* s, size_t n);
void dbs_strbuf_adds(struct dbs_strbuf* b, const char* s);
void dbs_strbuf_putc(struct dbs_strbuf* b, char c);

/* Returns the string (the caller owns it; "" when nothing was added) and
 * resets b, or NULL when memory ran out (the partial string is freed). */
char* dbs_strbuf_take(struct dbs_strbuf* b);

/* Go's path.Clean: lexical processing of ".", ".." and repeated slashes;
 * "" gives ".". Returns a malloc'd string, or NULL on ENOMEM. */
char* dbs_strbuf_path_clean(const char* p);

/* The value of hex digit c (0-9, a-f, A-F), or -1 for any other c. */
int dbs_strbuf_unhex(int c);

/* Writes the UTF-8 encoding of code point cp (at most 0x10ffff; 1 to 4
 * bytes, no terminator) at *o and advances *o past it. The caller makes
 * room and decides what to do with surrogates and NUL first. */
void dbs_strbuf_put_utf8(char** o, uint32_t cp);

/*
 * Decodes the JSON escape whose letter is at p (just after the backslash,
 * p < end): \n \t \r \b \f give their control character, \uXXXX its
 * code point, a high then a low surrogate in two \u escapes the one code
 * point they encode (a lone surrogate is returned as it is). Sets *next
 * past what was read and returns the code point; returns -1 with *next
 * untouched for any other letter, and for a \u without four hex digits:
 * the caller decides what those mean.
 */
long dbs_strbuf_unescape_json(const char* p, const char* end,
                              const char** next);

#endif
