/* package.json's prisma.schema and prisma.seed, read as YAML event by event
 * (JSON is YAML) without building a tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "discover_internal.h"
#include "log.h"
#include "path.h"

void dbs_discover_pkg_free(struct dbs_discover_pkg* pkg) {
  free(pkg->path);
  free(pkg->dir);
  free(pkg->schema);
  free(pkg->seed);
  memset(pkg, 0, sizeof(*pkg));
}

struct pkg_walk {
  yaml_parser_t parser;
  const char* path;
  char* err;
  size_t errlen;
};

/* Next event, or -EINVAL with libyaml's problem and its position in err. */
static int pw_next(struct pkg_walk* w, yaml_event_t* ev) {
  if (yaml_parser_parse(&w->parser, ev))
    return 0;
  const yaml_parser_t* p = &w->parser;
  const char* problem = p->problem != NULL ? p->problem : "unreadable";
  const char* hint = "";
  if (p->error == YAML_READER_ERROR)
    hint = " (the file must be UTF-8)";
  else if (strstr(problem, "Unicode") != NULL)
    hint = " (\\ud800-\\udfff surrogate escapes are not supported: write "
           "the character itself in UTF-8)";
  return dbs_discover_seterr(
      w->err, w->errlen,
      "%s:%zu:%zu: cannot read package.json: %s%s%s%s; fix the "
      "JSON, or pass --schema and --seed so that dbsetup does "
      "not need it",
      w->path, p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
      hint, p->context != NULL ? ", " : "",
      p->context != NULL ? p->context : "");
}

/* Skips the node that starts with *first (consumed and deleted). */
static int pw_skip(struct pkg_walk* w, yaml_event_t* first) {
  int depth = first->type == YAML_MAPPING_START_EVENT ||
                      first->type == YAML_SEQUENCE_START_EVENT
                  ? 1
                  : 0;
  yaml_event_delete(first);
  while (depth > 0) {
    yaml_event_t ev;
    int rc = pw_next(w, &ev);
    if (rc < 0)
      return rc;
    if (ev.type == YAML_MAPPING_START_EVENT ||
        ev.type == YAML_SEQUENCE_START_EVENT)
      depth++;
    else if (ev.type == YAML_MAPPING_END_EVENT ||
             ev.type == YAML_SEQUENCE_END_EVENT)
      depth--;
    yaml_event_delete(&ev);
  }
  return 0;
}

/*
 * Reads the value of prisma.<key> into *out (replacing an earlier one, as
 * JSON.parse does with duplicate keys). It must be a JSON string.
 */
static int pw_string(struct pkg_walk* w, const char* key, char** out,
                     unsigned* line) {
  yaml_event_t ev;
  int rc = pw_next(w, &ev);
  if (rc < 0)
    return rc;
  if (ev.type != YAML_SCALAR_EVENT ||
      ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
    rc = dbs_discover_seterr(
        w->err, w->errlen,
        "%s:%zu: \"prisma\": {\"%s\": ...} must be a string; fix "
        "package.json or pass --%s",
        w->path, ev.start_mark.line + 1, key, key);
    yaml_event_delete(&ev);
    return rc;
  }
  free(*out);
  *out = strndup((const char*)ev.data.scalar.value, ev.data.scalar.length);
  if (line != NULL)
    *line = (unsigned)ev.start_mark.line + 1;
  yaml_event_delete(&ev);
  return *out != NULL ? 0 : -ENOMEM;
}

/* Walks a mapping (its start already read), calling on_key for each key. */
static int pw_mapping(struct pkg_walk* w, struct dbs_discover_pkg* pkg,
                      bool top) {
  for (;;) {
    yaml_event_t key;
    int rc = pw_next(w, &key);
    if (rc < 0)
      return rc;
    if (key.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&key);
      return 0;
    }
    if (key.type != YAML_SCALAR_EVENT) {
      rc = dbs_discover_seterr(
          w->err, w->errlen,
          "%s:%zu: package.json has a key that is not a string; "
          "fix the JSON, or pass --schema and --seed",
          w->path, key.start_mark.line + 1);
      yaml_event_delete(&key);
      return rc;
    }
    const char* k = (const char*)key.data.scalar.value;
    if (top && strcmp(k, "prisma") == 0) {
      yaml_event_delete(&key);
      yaml_event_t val;
      rc = pw_next(w, &val);
      if (rc < 0)
        return rc;
      if (val.type == YAML_MAPPING_START_EVENT) {
        yaml_event_delete(&val);
        rc = pw_mapping(w, pkg, false);
      } else {
        rc = pw_skip(w, &val); /* not an object: Prisma ignores it too */
      }
    } else if (!top && strcmp(k, "schema") == 0) {
      yaml_event_delete(&key);
      rc = pw_string(w, "schema", &pkg->schema, &pkg->schema_line);
    } else if (!top && strcmp(k, "seed") == 0) {
      yaml_event_delete(&key);
      rc = pw_string(w, "seed", &pkg->seed, NULL);
    } else {
      yaml_event_delete(&key);
      yaml_event_t val;
      rc = pw_next(w, &val);
      if (rc == 0)
        rc = pw_skip(w, &val);
    }
    if (rc < 0)
      return rc;
  }
}

/*
 * Parses pkg->path for prisma.schema and prisma.seed without building a
 * tree (a real app's package.json can be large). Every event of the file
 * is read, so a broken file is reported even past the "prisma" key.
 */
static int pkg_parse(struct dbs_discover_pkg* pkg, char* err, size_t errlen) {
  struct pkg_walk w = {.path = pkg->path, .err = err, .errlen = errlen};
  yaml_event_t ev;
  int rc = 0;
  bool done = false, seen_doc = false;
  FILE* f = fopen(pkg->path, "rb");
  if (f == NULL)
    return dbs_discover_seterr(
        err, errlen,
        "cannot read %s: %s; fix its permissions, or pass --schema "
        "and --seed so that dbsetup does not need it",
        pkg->path, strerror(errno));
  if (!yaml_parser_initialize(&w.parser)) {
    fclose(f);
    return -ENOMEM;
  }
  yaml_parser_set_input_file(&w.parser, f);
  while (!done) {
    rc = pw_next(&w, &ev);
    if (rc < 0)
      break;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = true;
      yaml_event_delete(&ev);
      break;
    case YAML_MAPPING_START_EVENT:
      yaml_event_delete(&ev);
      seen_doc = true;
      rc = pw_mapping(&w, pkg, true);
      break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
      rc = dbs_discover_seterr(
          err, errlen,
          "%s:%zu: package.json is not a JSON object; fix it, or "
          "pass --schema and --seed",
          pkg->path, ev.start_mark.line + 1);
      yaml_event_delete(&ev);
      break;
    case YAML_DOCUMENT_START_EVENT:
      if (seen_doc)
        rc = dbs_discover_seterr(
            err, errlen,
            "%s:%zu: package.json holds more than one document; fix "
            "it, or pass --schema and --seed",
            pkg->path, ev.start_mark.line + 1);
      yaml_event_delete(&ev);
      break;
    default:
      yaml_event_delete(&ev);
      break;
    }
    if (rc < 0)
      break;
  }
  if (rc == 0 && !seen_doc)
    rc = dbs_discover_seterr(
        err, errlen,
        "%s: package.json is empty; fix it, or pass --schema and "
        "--seed",
        pkg->path);
  yaml_parser_delete(&w.parser);
  fclose(f);
  return rc;
}

/* Finds the nearest package.json, from the working directory upward. */
int dbs_discover_pkg_load(const char* cwd, struct dbs_discover_pkg* pkg,
                          char* err, size_t errlen) {
  char* dir = strdup(cwd);
  int rc = 0;
  if (dir == NULL)
    return -ENOMEM;
  for (;;) {
    char* candidate = dbs_path_node_resolve(dir, "package.json");
    if (candidate == NULL) {
      rc = -ENOMEM;
      break;
    }
    if (dbs_discover_is_file(candidate)) {
      pkg->path = candidate;
      pkg->dir = dir;
      dir = NULL;
      break;
    }
    free(candidate);
    if (strcmp(dir, "/") == 0)
      break;
    char* up = dbs_path_dirname(dir);
    free(dir);
    dir = up;
    if (dir == NULL) {
      rc = -ENOMEM;
      break;
    }
  }
  free(dir);
  if (rc == 0 && pkg->path != NULL) {
    dbs_log_debug("reading %s", pkg->path);
    rc = pkg_parse(pkg, err, errlen);
  }
  return rc;
}
