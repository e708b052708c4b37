/*
 * litestream.yml's YAML decoding rules: those of gopkg.in/yaml.v2, which
 * litestream decodes its config with, on top of libyaml's document tree.
 * Which plain scalars are null, bools, numbers; how strings, *bool and
 * time.Duration fields decode; merge keys; and errors and warnings that
 * name the line of the file before environment expansion. Internal to
 * the litestream_config module (ls_fields.c and litestream_config.c).
 */
#ifndef DBS_LS_YAML_H
#define DBS_LS_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "litestream_config.h"

/* One decoding of one file: where errors go and what was read. */
struct dbs_ls_ctx {
  const char* file; /* the name errors start with */
  yaml_document_t* doc;
  unsigned* linemap; /* expanded line -> source line, or NULL */
  size_t nlines;
  const char* src; /* text before expansion */
  size_t srclen;
  bool expanded; /* the environment was expanded */
  char* err;
  size_t errlen;
  int rc;           /* the first error: 0, -EINVAL or -ENOMEM */
  yaml_node_t* key; /* the key whose value is being decoded */
  unsigned depth;   /* walk_map nesting, to stop self-merging anchors */
  unsigned walks;   /* walk_map calls, to stop alias bombs */
  enum dbs_ls_rules rules;
  char** warnings; /* see dbs_litestream_config.warnings; owned */
  size_t nwarnings;
};

/* The source line (0-based) that expanded line `line` came from. */
unsigned dbs_ls_yaml_src_line(const struct dbs_ls_ctx* c, size_t line);

/* True when source line l (0-based) holds a '$' (an env reference). */
bool dbs_ls_yaml_src_line_has_dollar(const struct dbs_ls_ctx* c, unsigned l);

/*
 * Records the first error of c: c->rc = -EINVAL and "FILE:LINE:COLUMN:
 * message" (n's position; "FILE: message" when n is NULL) in c->err. Later
 * errors are dropped.
 */
void dbs_ls_yaml_fail(struct dbs_ls_ctx* c, const yaml_node_t* n,
                      const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records -ENOMEM as c's error (unless one is there). */
void dbs_ls_yaml_oom(struct dbs_ls_ctx* c);

/* Appends the warning "FILE:LINE:COLUMN: message" at n (not NULL) to
 * c->warnings, unless c has failed. */
void dbs_ls_yaml_warn(struct dbs_ls_ctx* c, const yaml_node_t* n,
                      const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "a mapping", "a list" or "a value", for messages. */
const char* dbs_ls_yaml_kind(const yaml_node_t* n);

/* The node with id `id` in c's document. */
yaml_node_t* dbs_ls_yaml_node(struct dbs_ls_ctx* c, int id);

/* The text of scalar n. */
const char* dbs_ls_yaml_str(const yaml_node_t* n);

/*
 * yaml.v2's null: NULL, a plain "", "~", "null", "Null", "NULL", or an
 * explicit !!null tag. (libyaml's document API gives an untagged plain
 * scalar the !!str tag, so an explicit !!str on a plain scalar cannot be
 * told apart and resolves as plain.)
 */
bool dbs_ls_yaml_is_null(const yaml_node_t* n);

/* yaml.v2's bool words (y, yes, on, true... in three cases): 1 true,
 * 0 false, -1 not a plain bool. */
int dbs_ls_yaml_bool(const yaml_node_t* n);

/* A plain scalar yaml.v2 resolves to an int or a float. */
bool dbs_ls_yaml_is_number(const yaml_node_t* n);

/*
 * Decodes a string field: *out (freed first) becomes NULL for null or "",
 * else a copy of the scalar; *where (if not NULL) is set to n. Any other
 * node is an error "WHAT must be a string, not ...".
 */
void dbs_ls_yaml_get_str(struct dbs_ls_ctx* c, yaml_node_t* n, const char* what,
                         char** out, yaml_node_t** where);

/* Decodes a *bool field into *out: -1 unset (null), 0, 1. */
void dbs_ls_yaml_get_bool(struct dbs_ls_ctx* c, yaml_node_t* n,
                          const char* what, int* out);

/*
 * Decodes a time.Duration field as yaml.v2 does: null leaves *ns and *set
 * alone; a number is nanoseconds; else a Go duration string, which sets
 * *ns and *set = true. ns and set may be NULL when only the check matters.
 */
void dbs_ls_yaml_get_duration(struct dbs_ls_ctx* c, yaml_node_t* n,
                              const char* what, int64_t* ns, bool* set);

/* Checks that n decodes as an int field (null or an unquoted number). */
void dbs_ls_yaml_check_int(struct dbs_ls_ctx* c, yaml_node_t* n,
                           const char* what);

/* Checks that n decodes as a []string; returns its length (0 for null). */
size_t dbs_ls_yaml_check_str_list(struct dbs_ls_ctx* c, yaml_node_t* n,
                                  const char* what);

/* Receives one key/value of a mapping; where names the mapping. */
typedef void (*dbs_ls_field_fn)(struct dbs_ls_ctx* c, void* obj,
                                const char* key, yaml_node_t* val,
                                const char* where);

/*
 * Feeds every key/value of mapping n to fn(c, obj, ...) in document order,
 * with c->key set to the key node, and yaml.v2's merge keys ("<<": a
 * mapping or a list of mappings, the first listed winning). A null node is
 * an empty mapping; anything else that is not a mapping is an error
 * naming `where`. Stops at c's first error.
 */
void dbs_ls_yaml_walk_map(struct dbs_ls_ctx* c, yaml_node_t* n,
                          const char* where, dbs_ls_field_fn fn, void* obj);

#endif
