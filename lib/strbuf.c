/* A growing string buffer and Go's path.Clean. */
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

void dbs_strbuf_add(struct dbs_strbuf* b, const char* s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
      cap *= 2;
    char* p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void dbs_strbuf_adds(struct dbs_strbuf* b, const char* s) {
  dbs_strbuf_add(b, s, strlen(s));
}

void dbs_strbuf_putc(struct dbs_strbuf* b, char c) {
  dbs_strbuf_add(b, &c, 1);
}

char* dbs_strbuf_take(struct dbs_strbuf* b) {
  char* p = b->p;
  bool oom = b->oom;
  memset(b, 0, sizeof(*b));
  if (oom) {
    free(p);
    return NULL;
  }
  return p ? p : strdup("");
}

char* dbs_strbuf_path_clean(const char* p) {
  if (p == NULL || *p == '\0')
    return strdup(".");
  size_t n = strlen(p);
  bool rooted = p[0] == '/';
  char* out = malloc(n + 2);
  if (out == NULL)
    return NULL;
  size_t w = 0, r = 0, dotdot = 0;
  if (rooted) {
    out[w++] = '/';
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (p[r] == '/') {
      r++;
    } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
      r++;
    } else if (p[r] == '.' && p[r + 1] == '.' &&
               (r + 2 == n || p[r + 2] == '/')) {
      r += 2;
      if (w > dotdot) {
        w--;
        while (w > dotdot && out[w] != '/')
          w--;
      } else if (!rooted) {
        if (w > 0)
          out[w++] = '/';
        out[w++] = '.';
        out[w++] = '.';
        dotdot = w;
      }
    } else {
      if ((rooted && w != 1) || (!rooted && w != 0))
        out[w++] = '/';
      for (; r < n && p[r] != '/'; r++)
        out[w++] = p[r];
    }
  }
  if (w == 0)
    out[w++] = '.';
  out[w] = '\0';
  return out;
}
