/* A growing string buffer, Go's path.Clean, and the hex, UTF-8 and JSON
 * escape pieces the parsers share. */
#include "strbuf.h"

#include <assert.h>
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

int dbs_strbuf_unhex(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

void dbs_strbuf_put_utf8(char** o, uint32_t cp) {
  assert(cp <= 0x10ffff); /* the caller's precondition */
  unsigned char* u = (unsigned char*)*o;
  if (cp < 0x80) {
    *u++ = (unsigned char)cp;
  } else if (cp < 0x800) {
    *u++ = (unsigned char)(0xc0 | (cp >> 6));
    *u++ = (unsigned char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *u++ = (unsigned char)(0xe0 | (cp >> 12));
    *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    *u++ = (unsigned char)(0x80 | (cp & 0x3f));
  } else {
    *u++ = (unsigned char)(0xf0 | (cp >> 18));
    *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    *u++ = (unsigned char)(0x80 | (cp & 0x3f));
  }
  *o = (char*)u;
}

/* Four hex digits at p (p <= end), or -1. */
static long hex4(const char* p, const char* end) {
  long v = 0;
  if (end - p < 4)
    return -1;
  for (int i = 0; i < 4; i++) {
    int h = dbs_strbuf_unhex((unsigned char)p[i]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  return v;
}

long dbs_strbuf_unescape_json(const char* p, const char* end,
                              const char** next) {
  long v, lo;
  assert(p < end);
  switch (*p) {
  case 'n':
    v = '\n';
    break;
  case 't':
    v = '\t';
    break;
  case 'r':
    v = '\r';
    break;
  case 'b':
    v = '\b';
    break;
  case 'f':
    v = '\f';
    break;
  case 'u':
    if ((v = hex4(p + 1, end)) < 0)
      return -1;
    p += 4;
    if (v >= 0xd800 && v < 0xdc00 && end - p >= 7 && p[1] == '\\' &&
        p[2] == 'u' && (lo = hex4(p + 3, end)) >= 0xdc00 && lo < 0xe000) {
      v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
      p += 6;
    }
    break;
  default:
    return -1;
  }
  *next = p + 1;
  return v;
}
