/* A growing string buffer, and Go's path.Clean for slash-separated paths:
 * small string helpers shared by the parsers. */
#ifndef DBS_STRBUF_H
#define DBS_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
