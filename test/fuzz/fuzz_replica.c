/*
 * The Litestream v0.3 replica format: object names, the listing of
 * generations (dbs_replica_load over a storage whose listing the input
 * writes), the choice of generation and the restore plan.
 *
 * Input, text lines:
 *   1: the replica path (litestream.yml's path:)
 *   2: the target: "<generation|-> <index|-> <timestamp ns|->"
 *   then one object per line: "<key>\t<size>\t<mtime ms>"
 * Checked: a plan holds every index from its snapshot's to its last, in
 * order, each starting at offset 0 with increasing offsets, within the
 * target, its byte total adding up; the names it yields parse back.
 */
#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "replica.h"
#include "storage.h"

#define MAX_OBJECTS 4096

struct mock {
  struct dbs_storage base;
  struct dbs_storage_entry* e;
  size_t n;
};

static int ent_cmp(const void* a, const void* b) {
  return strcmp(((const struct dbs_storage_entry*)a)->key,
                ((const struct dbs_storage_entry*)b)->key);
}

/* As S3 lists: keys below prefix, rolled up at the next '/' with a
 * delimiter, sorted, each common prefix once. */
static int mock_list(struct dbs_storage* st, const char* prefix, int delimiter,
                     struct dbs_storage_list* out) {
  struct mock* m = (struct mock*)st;
  size_t pl = strlen(prefix);
  out->entries = calloc(m->n + 1, sizeof(*out->entries));
  out->n = 0;
  FUZZ_CHECK(out->entries != NULL);
  for (size_t i = 0; i < m->n; i++) {
    const struct dbs_storage_entry* e = &m->e[i];
    if (strncmp(e->key, prefix, pl) != 0)
      continue;
    const char* slash = delimiter ? strchr(e->key + pl, '/') : NULL;
    struct dbs_storage_entry c = *e;
    if (slash != NULL) {
      c.key = strndup(e->key, (size_t)(slash - e->key) + 1);
      c.size = -1;
      c.mtime_ms = 0;
      c.is_prefix = 1;
    } else {
      c.key = strdup(e->key);
    }
    FUZZ_CHECK(c.key != NULL);
    out->entries[out->n++] = c;
  }
  qsort(out->entries, out->n, sizeof(*out->entries), ent_cmp);
  size_t w = 0; /* a key is listed once */
  for (size_t i = 0; i < out->n; i++) {
    if (w > 0 && strcmp(out->entries[w - 1].key, out->entries[i].key) == 0)
      free(out->entries[i].key);
    else
      out->entries[w++] = out->entries[i];
  }
  out->n = w;
  return 0;
}

static int mock_get(struct dbs_storage* st, const char* key,
                    dbs_storage_sink sink, void* arg) {
  (void)st;
  (void)key;
  (void)sink;
  (void)arg;
  return DBS_STORAGE_ENOTFOUND;
}

static const char* mock_describe(struct dbs_storage* st) {
  (void)st;
  return "fuzz";
}

static void mock_close(struct dbs_storage* st) {
  (void)st;
}

static const struct dbs_storage_ops mock_ops = {mock_list, mock_get,
                                                mock_describe, mock_close};

static int64_t field(const char* s, bool* has) {
  *has = s != NULL && strcmp(s, "-") != 0 && s[0] != '\0';
  return *has ? strtoll(s, NULL, 0) : -1;
}

static void check_plan(const struct dbs_replica_listing* l,
                       const struct dbs_replica_generation* g,
                       const struct dbs_restore_target* t) {
  struct dbs_restore_plan p;
  char err[512] = "";
  int rc = dbs_replica_plan(l, g, t, &p, err, sizeof(err));
  if (rc != 0) {
    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(err[0] != '\0');
    dbs_restore_plan_free(&p);
    return;
  }
  FUZZ_CHECK(strcmp(p.generation, g->name) == 0);
  FUZZ_CHECK(p.gen_root != NULL);
  if (t->index >= 0)
    FUZZ_CHECK((int64_t)p.snapshot.index <= t->index);
  if (t->has_timestamp && t->index < 0)
    FUZZ_CHECK(p.snapshot.time_ns <= t->timestamp_ns);
  int64_t total = p.snapshot.size;
  bool overflow = false;
  size_t seg = 0;
  for (size_t k = 0; k < p.nindexes; k++) {
    const struct dbs_plan_index* pi = &p.indexes[k];
    FUZZ_CHECK(pi->index == p.snapshot.index + k);
    FUZZ_CHECK(pi->first == seg);
    FUZZ_CHECK(pi->n > 0);
    FUZZ_CHECK(pi->first + pi->n <= p.nsegments);
    for (size_t j = pi->first; j < pi->first + pi->n; j++) {
      const struct dbs_replica_segment* s = &p.segments[j];
      FUZZ_CHECK(s->index == pi->index);
      FUZZ_CHECK(j == pi->first ? s->offset == 0
                                : s->offset > p.segments[j - 1].offset);
      if (t->index >= 0)
        FUZZ_CHECK((int64_t)s->index <= t->index);
      if (t->has_timestamp)
        FUZZ_CHECK(s->time_ns <= t->timestamp_ns);
      overflow |= __builtin_add_overflow(total, s->size, &total);
    }
    seg += pi->n;
  }
  FUZZ_CHECK(seg == p.nsegments);
  if (!overflow)
    FUZZ_CHECK(total == p.total_bytes);
  /* The keys the restore will fetch name the same objects. */
  char* k = dbs_replica_snapshot_key(p.gen_root, p.snapshot.index);
  FUZZ_CHECK(k != NULL);
  uint32_t idx, off;
  FUZZ_CHECK(dbs_replica_parse_snapshot_name(strrchr(k, '/') + 1, &idx) == 0);
  FUZZ_CHECK(idx == p.snapshot.index);
  free(k);
  if (p.nsegments > 0) {
    const struct dbs_replica_segment* s = &p.segments[p.nsegments - 1];
    k = dbs_replica_segment_key(p.gen_root, s->index, s->offset);
    FUZZ_CHECK(k != NULL);
    FUZZ_CHECK(dbs_replica_parse_wal_name(strrchr(k, '/') + 1, &idx, &off) ==
               0);
    FUZZ_CHECK(idx == s->index && off == s->offset);
    free(k);
  }
  dbs_restore_plan_free(&p);
}

FUZZ_INITIALIZE(fuzz_no_setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char* text = strndup((const char*)data, size);
  FUZZ_CHECK(text != NULL);
  char* rest = text;
  char* path = strsep(&rest, "\n");
  char* target = rest ? strsep(&rest, "\n") : NULL;
  struct mock m = {.base = {.ops = &mock_ops}};
  m.e = calloc(MAX_OBJECTS, sizeof(*m.e));
  FUZZ_CHECK(m.e != NULL);
  for (char* line; m.n < MAX_OBJECTS && (line = strsep(&rest, "\n"));) {
    if (line[0] == '\0')
      continue;
    char* s1 = strchr(line, '\t');
    char* s2 = s1 ? strchr(s1 + 1, '\t') : NULL;
    struct dbs_storage_entry* e = &m.e[m.n++];
    if (s1)
      *s1 = '\0';
    if (s2)
      *s2 = '\0';
    e->key = line;
    e->size = s1 ? strtoll(s1 + 1, NULL, 10) : 0;
    e->mtime_ms = s2 ? strtoll(s2 + 1, NULL, 10) : 0;
  }

  /* The name parsers on every base name. */
  for (size_t i = 0; i < m.n; i++) {
    const char* b = strrchr(m.e[i].key, '/');
    b = b ? b + 1 : m.e[i].key;
    uint32_t idx, off;
    if (dbs_replica_parse_snapshot_name(b, &idx) == 0)
      FUZZ_CHECK(strlen(b) == 21);
    if (dbs_replica_parse_wal_name(b, &idx, &off) == 0)
      FUZZ_CHECK(strlen(b) == 25);
    (void)dbs_replica_is_generation_name(b);
  }

  struct dbs_replica_listing l;
  int rc = dbs_replica_load(&m.base, path ? path : "", &l);
  FUZZ_CHECK(rc == 0);
  FUZZ_CHECK(l.root != NULL);
  size_t rl = strlen(l.root);
  FUZZ_CHECK(rl >= 12 && strcmp(l.root + rl - 12, "generations/") == 0);

  struct dbs_restore_target t = {.index = -1};
  char gen[64] = "";
  if (target != NULL) {
    char* f[3] = {NULL, NULL, NULL};
    char* s2 = NULL;
    f[0] = strtok_r(target, " ", &s2);
    f[1] = f[0] ? strtok_r(NULL, " ", &s2) : NULL;
    f[2] = f[1] ? strtok_r(NULL, " ", &s2) : NULL;
    bool has;
    if (f[0] && strcmp(f[0], "-") != 0) {
      snprintf(gen, sizeof(gen), "%s", f[0]);
      t.generation = gen;
    }
    int64_t v = field(f[1], &has);
    t.index = has && v >= 0 && v <= DBS_REPLICA_MAX_INDEX ? v : -1;
    v = field(f[2], &has);
    t.has_timestamp = has;
    t.timestamp_ns = v;
  }

  for (size_t i = 0; i < l.ngens; i++) {
    const struct dbs_replica_generation* g = &l.gens[i];
    FUZZ_CHECK(dbs_replica_is_generation_name(g->name));
    for (size_t j = 1; j < g->nsnapshots; j++)
      FUZZ_CHECK(g->snapshots[j - 1].index <= g->snapshots[j].index);
    for (size_t j = 1; j < g->nsegments; j++)
      FUZZ_CHECK(g->segments[j - 1].index < g->segments[j].index ||
                 (g->segments[j - 1].index == g->segments[j].index &&
                  g->segments[j - 1].offset <= g->segments[j].offset));
    FUZZ_CHECK(g->created_ns <= g->updated_ns);
    struct dbs_restore_target latest = {.index = -1};
    check_plan(&l, g, &latest);
  }
  long c = dbs_replica_choose(&l, &t);
  FUZZ_CHECK(c >= -1 && c < (long)l.ngens);
  if (c >= 0) {
    if (t.generation)
      FUZZ_CHECK(strcmp(l.gens[c].name, t.generation) == 0);
    check_plan(&l, &l.gens[c], &t);
  }
  dbs_replica_listing_free(&l);
  free(m.e);
  free(text);
  return 0;
}
