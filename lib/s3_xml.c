/* S3's XML answers (expat): ListObjects pages, error bodies, locations. */
#define _GNU_SOURCE /* strptime, timegm */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_internal.h"
#include "storage_s3.h"

/* Parses "2013-09-17T18:07:53.000Z" into Unix ms; 0 when malformed. */
static int64_t parse_iso8601_ms(const char* s) {
  struct tm tm = {0};
  int ms = 0;
  char* end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == NULL)
    return 0;
  if (*end == '.') {
    int scale = 100;
    for (end++; isdigit((unsigned char)*end); end++) {
      ms += (*end - '0') * scale;
      scale /= 10;
    }
  }
  return (int64_t)timegm(&tm) * 1000 + ms;
}

static void xml_start(void* ud, const XML_Char* name, const XML_Char** atts) {
  struct dbs_s3_xml* x = ud;
  (void)atts;
  x->depth++;
  if (x->depth <= 4)
    snprintf(x->path[x->depth - 1], sizeof(x->path[0]), "%s", name);
  x->textlen = 0;
  x->text[0] = '\0';
  x->overflow = false;
  if (x->kind == DBS_S3_XML_LIST && x->depth == 2 &&
      (strcmp(name, "Contents") == 0 || strcmp(name, "CommonPrefixes") == 0)) {
    free(x->cur.key);
    memset(&x->cur, 0, sizeof(x->cur));
    x->cur.size = -1;
    x->cur.is_prefix = strcmp(name, "CommonPrefixes") == 0;
  }
  if (x->kind == DBS_S3_XML_LOCATION && x->depth == 1 &&
      strcmp(name, "LocationConstraint") == 0)
    x->saw_location = true;
}

static void xml_chars(void* ud, const XML_Char* s, int len) {
  struct dbs_s3_xml* x = ud;
  if (x->textlen + (size_t)len >= sizeof(x->text)) {
    x->overflow = true;
    return;
  }
  memcpy(x->text + x->textlen, s, (size_t)len);
  x->textlen += (size_t)len;
  x->text[x->textlen] = '\0';
}

void dbs_s3_copy_cut(char* dst, size_t n, const char* src) {
  size_t l = strlen(src);
  if (l >= n)
    l = n - 1;
  memcpy(dst, src, l);
  dst[l] = '\0';
}

static void copy_text(char* dst, size_t n, const struct dbs_s3_xml* x) {
  dbs_s3_copy_cut(dst, n, x->text);
}

/* The end of a Contents or CommonPrefixes entry: it joins the page. */
static void list_push(struct dbs_s3_xml* x) {
  if (x->cur.key == NULL) {
    x->bad = true;
    return;
  }
  if (x->max_entries != 0 && x->n >= x->max_entries) {
    x->too_many = x->bad = true;
    return;
  }
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64;
    void* p = realloc(x->entries, cap * sizeof(*x->entries));
    if (p == NULL) {
      x->bad = true;
      return;
    }
    x->entries = p;
    x->cap = cap;
  }
  if (!x->cur.is_prefix && x->cur.size < 0)
    x->bad = true;
  x->entries[x->n++] = x->cur;
  memset(&x->cur, 0, sizeof(x->cur));
}

/* An element directly below ListBucketResult ends. */
static void list_top_end(struct dbs_s3_xml* x, const char* name) {
  if (strcmp(name, "IsTruncated") == 0) {
    x->truncated = strcmp(x->text, "true") == 0;
  } else if (strcmp(name, "NextMarker") == 0) {
    free(x->next_marker);
    x->next_marker = strdup(x->text);
    if (x->next_marker == NULL)
      x->bad = true;
  } else if (strcmp(name, "Contents") == 0 ||
             strcmp(name, "CommonPrefixes") == 0) {
    list_push(x);
  }
}

/* A field of a Contents or CommonPrefixes entry ends. */
static void list_field_end(struct dbs_s3_xml* x, const char* name) {
  if (x->overflow) {
    x->bad = true;
    return;
  }
  bool contents = strcmp(x->path[1], "Contents") == 0;
  bool prefixes = strcmp(x->path[1], "CommonPrefixes") == 0;
  if ((contents && strcmp(name, "Key") == 0) ||
      (prefixes && strcmp(name, "Prefix") == 0)) {
    free(x->cur.key);
    x->cur.key = strdup(x->text);
    if (x->cur.key == NULL)
      x->bad = true;
  } else if (contents && strcmp(name, "Size") == 0) {
    char* end;
    errno = 0;
    long long v = strtoll(x->text, &end, 10);
    if (errno || end == x->text || *end != '\0' || v < 0)
      x->bad = true;
    else
      x->cur.size = v;
  } else if (contents && strcmp(name, "LastModified") == 0) {
    x->cur.mtime_ms = parse_iso8601_ms(x->text);
  }
}

static void list_end(struct dbs_s3_xml* x, const char* name) {
  if (strcmp(x->path[0], "ListBucketResult") != 0)
    return;
  if (x->depth == 2)
    list_top_end(x, name);
  else if (x->depth == 3)
    list_field_end(x, name);
}

static void error_end(struct dbs_s3_xml* x, const char* name) {
  if (x->depth != 2 || strcmp(x->path[0], "Error") != 0)
    return;
  if (strcmp(name, "Code") == 0)
    copy_text(x->code, sizeof(x->code), x);
  else if (strcmp(name, "Message") == 0)
    copy_text(x->message, sizeof(x->message), x);
  else if (strcmp(name, "Region") == 0)
    copy_text(x->region, sizeof(x->region), x);
  else if (strcmp(name, "Endpoint") == 0)
    copy_text(x->endpoint, sizeof(x->endpoint), x);
  else if (strcmp(name, "BucketName") == 0)
    copy_text(x->bucket, sizeof(x->bucket), x);
}

static void xml_end(void* ud, const XML_Char* name) {
  struct dbs_s3_xml* x = ud;
  switch (x->kind) {
  case DBS_S3_XML_LIST:
    list_end(x, name);
    break;
  case DBS_S3_XML_ERROR:
    error_end(x, name);
    break;
  case DBS_S3_XML_LOCATION:
    if (x->depth == 1 && strcmp(name, "LocationConstraint") == 0)
      copy_text(x->location, sizeof(x->location), x);
    break;
  }
  x->textlen = 0;
  x->text[0] = '\0';
  x->depth--;
}

void dbs_s3_xml_free(struct dbs_s3_xml* x) {
  for (size_t i = 0; i < x->n; i++)
    free(x->entries[i].key);
  free(x->entries);
  free(x->cur.key);
  free(x->next_marker);
  memset(x, 0, sizeof(*x));
}

/* A parser feeding x, or NULL when out of memory. */
static XML_Parser parser_new(struct dbs_s3_xml* x) {
  XML_Parser p = XML_ParserCreate(NULL);
  if (p != NULL) {
    XML_SetUserData(p, x);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_chars);
  }
  return p;
}

int dbs_s3_xml_parse_all(struct dbs_s3_xml* x, const char* buf, size_t len) {
  XML_Parser p = parser_new(x);
  if (p == NULL)
    return -ENOMEM;
  int ok = XML_Parse(p, buf, (int)len, 1) == XML_STATUS_OK;
  XML_ParserFree(p);
  return ok ? 0 : -EBADMSG;
}

void dbs_s3_xml_begin(struct dbs_s3_xfer* x) {
  assert(x->mode == DBS_S3_BODY_XML && x->xml != NULL && x->xp == NULL);
  enum dbs_s3_xml_kind kind = x->xml->kind;
  size_t max_entries = x->xml->max_entries;
  dbs_s3_xml_free(x->xml);
  x->xml->kind = kind;
  x->xml->max_entries = max_entries;
  x->xml_failed = false;
  x->xp = parser_new(x->xml);
  if (x->xp == NULL)
    x->xml_failed = true;
}

void dbs_s3_xml_feed(struct dbs_s3_xfer* x, const char* buf, size_t len) {
  if (!x->xml_failed && XML_Parse(x->xp, buf, (int)len, 0) != XML_STATUS_OK)
    x->xml_failed = true;
}

void dbs_s3_xml_end(struct dbs_s3_xfer* x) {
  if (x->xp) {
    if (!x->xml_failed && XML_Parse(x->xp, "", 0, 1) != XML_STATUS_OK)
      x->xml_failed = true;
    XML_ParserFree(x->xp);
    x->xp = NULL;
  }
}

/* Feeds body to p in pieces of chunk bytes (0: at once), then ends it. */
static int parse_chunked(XML_Parser p, const char* body, size_t len,
                         size_t chunk) {
  for (size_t off = 0; off < len;) {
    size_t n = chunk == 0 || len - off < chunk ? len - off : chunk;
    if (XML_Parse(p, body + off, (int)n, 0) != XML_STATUS_OK)
      return -EBADMSG;
    off += n;
  }
  return XML_Parse(p, "", 0, 1) == XML_STATUS_OK ? 0 : -EBADMSG;
}

/* Test hook for test/fuzz (storage_s3.h). */
int dbs_storage_s3_parse_answer(int what, const char* body, size_t len,
                                size_t chunk, struct dbs_storage_list* out,
                                char* text, size_t textlen) {
  struct dbs_s3_xml x = {.kind = what == 0   ? DBS_S3_XML_LIST
                                 : what == 1 ? DBS_S3_XML_ERROR
                                             : DBS_S3_XML_LOCATION};
  XML_Parser p = parser_new(&x);
  int rc = p == NULL ? -ENOMEM : parse_chunked(p, body, len, chunk);
  if (p != NULL)
    XML_ParserFree(p);
  out->entries = NULL;
  out->n = 0;
  if (rc == 0 && x.bad)
    rc = -EBADMSG;
  if (x.kind == DBS_S3_XML_LIST) {
    dbs_s3_fmt(text, textlen, "%s|%s", x.truncated ? "true" : "false",
               x.next_marker ? x.next_marker : "");
    if (rc == 0) { /* the keys now belong to out */
      out->entries = x.entries;
      out->n = x.n;
      x.entries = NULL;
      x.n = 0;
    }
  } else if (x.kind == DBS_S3_XML_ERROR) {
    dbs_s3_fmt(text, textlen, "%s|%s|%s|%s|%s", x.code, x.message, x.region,
               x.endpoint, x.bucket);
  } else {
    dbs_s3_fmt(text, textlen, "%s", x.saw_location ? x.location : "");
  }
  dbs_s3_xml_free(&x);
  return rc;
}
