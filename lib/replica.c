/* The Litestream v0.3 replica format: names, listings and restore plans. */
#define _GNU_SOURCE
#include "replica.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"

/* A hex digit in lower case, as litestream writes and parses them. */
static int lower_unhex(char c) {
  return c >= 'A' && c <= 'F' ? -1 : dbs_strbuf_unhex(c);
}

static bool hex8(const char* s, uint32_t* out) {
  uint32_t v = 0;
  for (int i = 0; i < 8; i++) {
    int h = lower_unhex(s[i]);
    if (h < 0)
      return false;
    v = v << 4 | (uint32_t)h;
  }
  *out = v;
  return true;
}

bool dbs_replica_is_generation_name(const char* s) {
  if (strlen(s) != 16)
    return false;
  for (int i = 0; i < 16; i++)
    if (lower_unhex(s[i]) < 0)
      return false;
  return true;
}

int dbs_replica_parse_snapshot_name(const char* name, uint32_t* index) {
  if (strlen(name) != 8 + strlen(".snapshot.lz4") ||
      strcmp(name + 8, ".snapshot.lz4") != 0 || !hex8(name, index))
    return -EINVAL;
  return 0;
}

int dbs_replica_parse_wal_name(const char* name, uint32_t* index,
                               uint32_t* offset) {
  if (strlen(name) != 17 + strlen(".wal.lz4") || name[8] != '_' ||
      strcmp(name + 17, ".wal.lz4") != 0 || !hex8(name, index) ||
      !hex8(name + 9, offset))
    return -EINVAL;
  return 0;
}

char* dbs_replica_generations_prefix(const char* path) {
  /* path.Join(path, "generations") + "/"; an empty path drops out. */
  size_t n = strlen(path);
  char* joined = malloc(n + sizeof("/generations"));
  if (joined == NULL)
    return NULL;
  if (n == 0)
    strcpy(joined, "generations");
  else
    sprintf(joined, "%s/generations", path);
  char* clean = dbs_strbuf_path_clean(joined);
  free(joined);
  if (clean == NULL)
    return NULL;
  size_t cl = strlen(clean);
  char* out = realloc(clean, cl + 2);
  if (out == NULL) {
    free(clean);
    return NULL;
  }
  out[cl] = '/';
  out[cl + 1] = '\0';
  return out;
}

char* dbs_replica_snapshot_key(const char* gen_root, uint32_t index) {
  char* k = NULL;
  if (asprintf(&k, "%ssnapshots/%08x.snapshot.lz4", gen_root, index) < 0)
    return NULL;
  return k;
}

char* dbs_replica_segment_key(const char* gen_root, uint32_t index,
                              uint32_t offset) {
  char* k = NULL;
  if (asprintf(&k, "%swal/%08x_%08x.wal.lz4", gen_root, index, offset) < 0)
    return NULL;
  return k;
}

static const char* base_name(const char* key) {
  const char* s = strrchr(key, '/');
  return s ? s + 1 : key;
}

static void bound(struct dbs_replica_generation* g, int64_t t) {
  if (g->created_ns == 0 || t < g->created_ns)
    g->created_ns = t;
  if (g->updated_ns == 0 || t > g->updated_ns)
    g->updated_ns = t;
}

static int snap_cmp(const void* a, const void* b) {
  const struct dbs_replica_snapshot *x = a, *y = b;
  return (x->index > y->index) - (x->index < y->index);
}

static int seg_cmp(const void* a, const void* b) {
  const struct dbs_replica_segment *x = a, *y = b;
  if (x->index != y->index)
    return (x->index > y->index) - (x->index < y->index);
  return (x->offset > y->offset) - (x->offset < y->offset);
}

int dbs_replica_listing_add(struct dbs_replica_listing* l, const char* gen,
                            const struct dbs_storage_entry* snapshots,
                            size_t nsnap, const struct dbs_storage_entry* wal,
                            size_t nwal) {
  struct dbs_replica_generation* gens =
      realloc(l->gens, (l->ngens + 1) * sizeof(*l->gens));
  if (gens == NULL)
    return -ENOMEM;
  l->gens = gens;
  struct dbs_replica_generation* g = &gens[l->ngens];
  memset(g, 0, sizeof(*g));
  snprintf(g->name, sizeof(g->name), "%s", gen);
  g->snapshots = calloc(nsnap ? nsnap : 1, sizeof(*g->snapshots));
  g->segments = calloc(nwal ? nwal : 1, sizeof(*g->segments));
  if (g->snapshots == NULL || g->segments == NULL) {
    free(g->snapshots);
    free(g->segments);
    return -ENOMEM;
  }
  l->ngens++;
  for (size_t i = 0; i < nsnap; i++) {
    uint32_t idx;
    if (snapshots[i].is_prefix ||
        dbs_replica_parse_snapshot_name(base_name(snapshots[i].key), &idx) != 0)
      continue;
    struct dbs_replica_snapshot* s = &g->snapshots[g->nsnapshots++];
    s->index = idx;
    s->size = snapshots[i].size;
    s->time_ns = dbs_storage_entry_time_ns(&snapshots[i]);
    bound(g, s->time_ns);
  }
  for (size_t i = 0; i < nwal; i++) {
    uint32_t idx, off;
    if (wal[i].is_prefix ||
        dbs_replica_parse_wal_name(base_name(wal[i].key), &idx, &off) != 0)
      continue;
    struct dbs_replica_segment* s = &g->segments[g->nsegments++];
    s->index = idx;
    s->offset = off;
    s->size = wal[i].size;
    s->time_ns = dbs_storage_entry_time_ns(&wal[i]);
    bound(g, s->time_ns);
  }
  /* Litestream sorts by index (and offset); so do we, since some
   * providers list out of key order. */
  qsort(g->snapshots, g->nsnapshots, sizeof(*g->snapshots), snap_cmp);
  qsort(g->segments, g->nsegments, sizeof(*g->segments), seg_cmp);
  return 0;
}

/* Lists <root><gen>/<sub> (one level) into *out. 0 or the list error. */
static int list_sub(struct dbs_storage* s, const char* root, const char* gen,
                    const char* sub, struct dbs_storage_list* out) {
  char* pfx = NULL;
  if (asprintf(&pfx, "%s%s/%s", root, gen, sub) < 0)
    return -ENOMEM;
  int rc = s->ops->list(s, pfx, 1, out);
  free(pfx);
  return rc;
}

int dbs_replica_load(struct dbs_storage* s, const char* path,
                     struct dbs_replica_listing* out) {
  memset(out, 0, sizeof(*out));
  struct dbs_storage_list gl = {0}, sl = {0}, wl = {0};
  int rc;
  out->root = dbs_replica_generations_prefix(path);
  if (out->root == NULL)
    return -ENOMEM;
  rc = s->ops->list(s, out->root, 1, &gl);
  if (rc != 0)
    goto fail;
  for (size_t i = 0; i < gl.n; i++) {
    const struct dbs_storage_entry* e = &gl.entries[i];
    if (!e->is_prefix)
      continue;
    size_t rl = strlen(out->root), kl = strlen(e->key);
    if (kl != rl + 17 || strncmp(e->key, out->root, rl) != 0)
      continue;
    char gen[17];
    memcpy(gen, e->key + rl, 16);
    gen[16] = '\0';
    if (!dbs_replica_is_generation_name(gen))
      continue;
    if ((rc = list_sub(s, out->root, gen, "snapshots/", &sl)) != 0 ||
        (rc = list_sub(s, out->root, gen, "wal/", &wl)) != 0)
      goto fail;
    rc = dbs_replica_listing_add(out, gen, sl.entries, sl.n, wl.entries, wl.n);
    if (rc != 0)
      goto fail;
    dbs_storage_list_free(&sl);
    dbs_storage_list_free(&wl);
  }
  dbs_storage_list_free(&gl);
  return 0;
fail:
  dbs_storage_list_free(&gl);
  dbs_storage_list_free(&sl);
  dbs_storage_list_free(&wl);
  dbs_replica_listing_free(out);
  return rc;
}

void dbs_replica_listing_free(struct dbs_replica_listing* l) {
  for (size_t i = 0; i < l->ngens; i++) {
    free(l->gens[i].snapshots);
    free(l->gens[i].segments);
  }
  free(l->gens);
  free(l->root);
  memset(l, 0, sizeof(*l));
}

long dbs_replica_choose(const struct dbs_replica_listing* l,
                        const struct dbs_restore_target* t) {
  long best = -1;
  int64_t best_updated = 0;
  for (size_t i = 0; i < l->ngens; i++) {
    const struct dbs_replica_generation* g = &l->gens[i];
    if (t->generation != NULL && strcmp(t->generation, g->name) != 0)
      continue;
    if (t->has_timestamp &&
        (t->timestamp_ns < g->created_ns || t->timestamp_ns > g->updated_ns))
      continue;
    /* litestream: skip unless updatedAt is strictly after the best so far,
     * starting from the zero time (so an empty generation never wins). */
    if (!(g->updated_ns > best_updated))
      continue;
    best = (long)i;
    best_updated = g->updated_ns;
  }
  return best;
}

/* ns since the epoch as "2006-01-02T15:04:05Z", "?" if out of range. */
static void fmt_when(int64_t ns, char* when, size_t len) {
  time_t sec = (time_t)(ns / 1000000000);
  struct tm tm;
  snprintf(when, len, "?");
  if (gmtime_r(&sec, &tm) != NULL)
    strftime(when, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The plan's snapshot in g for t: its position in *snap, or -ENOENT with
 * err naming why there is none. */
static int plan_snapshot(const struct dbs_replica_generation* g,
                         const struct dbs_restore_target* t, long* snap,
                         char* err, size_t errlen) {
  *snap = -1;
  if (t->index >= 0) {
    /* SnapshotIndexByIndex: the last listed one at or below the index. */
    for (size_t i = 0; i < g->nsnapshots; i++)
      if ((int64_t)g->snapshots[i].index <= t->index)
        *snap = (long)i;
  } else {
    /* SnapshotIndexAt: the newest at or before the timestamp; ties go to
     * the first listed. */
    for (size_t i = 0; i < g->nsnapshots; i++) {
      const struct dbs_replica_snapshot* s = &g->snapshots[i];
      if (t->has_timestamp && s->time_ns > t->timestamp_ns)
        continue;
      if (*snap < 0 || s->time_ns > g->snapshots[*snap].time_ns)
        *snap = (long)i;
    }
  }
  if (*snap >= 0)
    return 0;
  if (g->nsnapshots == 0) {
    snprintf(err, errlen,
             "cannot find snapshot index%s: no snapshots available"
             " in generation %s",
             t->index >= 0 ? "" : " by timestamp", g->name);
  } else if (t->index >= 0) {
    snprintf(err, errlen,
             "no snapshot at or below index %08x in generation %s (its "
             "lowest is %08x)",
             (unsigned)t->index, g->name, g->snapshots[0].index);
  } else {
    /* Only a timestamp can exclude every snapshot. */
    int64_t first = g->snapshots[0].time_ns;
    for (size_t i = 1; i < g->nsnapshots; i++)
      if (g->snapshots[i].time_ns < first)
        first = g->snapshots[i].time_ns;
    char when[40];
    fmt_when(first, when, sizeof(when));
    snprintf(err, errlen,
             "no snapshot at or before the requested time in generation %s "
             "(its first snapshot was written at %s)",
             g->name, when);
  }
  return -ENOENT;
}

/* walSegmentMap: segments in order up to the first one past the
 * timestamp or index; every index starts at offset 0. Sets *nseg (the
 * segments [0, nseg) taken) and *max_wal (the last one's index, -1 for
 * none). Returns 0, -EBADMSG or -ERANGE with err filled in. */
static int plan_segments(const struct dbs_replica_listing* l,
                         const struct dbs_replica_generation* g,
                         const struct dbs_restore_target* t, uint32_t min_index,
                         size_t* nseg, int64_t* max_wal, char* err,
                         size_t errlen) {
  int64_t max_index = t->index >= 0 ? t->index : DBS_REPLICA_MAX_INDEX;
  *nseg = 0;
  *max_wal = -1;
  for (size_t i = 0; i < g->nsegments; i++) {
    const struct dbs_replica_segment* s = &g->segments[i];
    if (t->has_timestamp && s->time_ns > t->timestamp_ns)
      break;
    if ((int64_t)s->index > max_index)
      break;
    bool first = i == 0 || g->segments[i - 1].index != s->index;
    if (first && s->offset != 0) {
      snprintf(err, errlen,
               "missing initial wal segment: generation=%s "
               "index=%08x offset=%u (object %s%s/wal/%08x_%08x.wal.lz4)",
               g->name, s->index, s->offset, l->root ? l->root : "", g->name,
               s->index, s->offset);
      return -EBADMSG;
    }
    if (!first && s->offset <= g->segments[i - 1].offset) {
      snprintf(err, errlen,
               "wal segments out of order: generation=%s "
               "index=%08x offsets=(%u,%u)",
               g->name, s->index, g->segments[i - 1].offset, s->offset);
      return -EBADMSG;
    }
    *nseg = i + 1;
    *max_wal = s->index;
  }
  if (t->index >= 0 && *max_wal < t->index && (int64_t)min_index < t->index) {
    snprintf(err, errlen,
             "unable to locate index %08x in generation %s, "
             "highest index was %08x",
             (unsigned)t->index, g->name,
             (unsigned)(*max_wal > (int64_t)min_index ? *max_wal : min_index));
    return -ERANGE;
  }
  return 0;
}

/* Every index from the snapshot's to the last must be listed. Checked
 * before anything is allocated: the names are untrusted, so the number
 * of indexes is counted from the segments listed, never taken from the
 * distance between two names (00000000 and 7fffffff would be 2^31).
 * Segments [i0, nseg) hold the indexes from min_index on; their count in
 * *nidx. Returns 0 or -EBADMSG with err filled in. */
static int plan_count_indexes(const struct dbs_replica_generation* g,
                              const char* gen_root, uint32_t min_index,
                              size_t i0, size_t nseg, size_t* nidx, char* err,
                              size_t errlen) {
  uint32_t want = min_index;
  *nidx = 0;
  for (size_t i = i0; i < nseg; i++) {
    uint32_t idx = g->segments[i].index;
    if (i > i0 && idx == g->segments[i - 1].index)
      continue;
    if (idx != want) {
      if (idx - want == 1)
        snprintf(err, errlen,
                 "missing WAL index: %s/%08x (no object %swal/"
                 "%08x_00000000.wal.lz4)",
                 g->name, want, gen_root, want);
      else
        snprintf(err, errlen,
                 "missing WAL indexes: %s/%08x..%08x (%u indexes: after %s "
                 "%08x the next object listed is %swal/%08x_00000000.wal.lz4)",
                 g->name, want, idx - 1, idx - want,
                 want == min_index ? "snapshot" : "WAL index",
                 want == min_index ? min_index : want - 1, gen_root, idx);
      return -EBADMSG;
    }
    (*nidx)++;
    want++;
  }
  return 0;
}

/* Fills plan's nidx indexes from the segments [i0, nseg) of g, summing
 * their sizes into total_bytes. Returns 0, -ENOMEM or -EBADMSG with err
 * filled in. */
static int plan_fill_indexes(const struct dbs_replica_generation* g,
                             uint32_t min_index, size_t i0, size_t nseg,
                             size_t nidx, struct dbs_restore_plan* plan,
                             char* err, size_t errlen) {
  plan->indexes = calloc(nidx, sizeof(*plan->indexes));
  plan->segments = calloc(nseg - i0, sizeof(*plan->segments));
  if (plan->indexes == NULL || plan->segments == NULL) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  size_t i = i0;
  for (size_t k = 0; k < nidx; k++) {
    struct dbs_plan_index* pi = &plan->indexes[plan->nindexes++];
    pi->index = min_index + (uint32_t)k;
    pi->first = plan->nsegments;
    while (i < nseg && g->segments[i].index == pi->index) {
      const struct dbs_replica_segment* sg = &g->segments[i];
      /* Sizes come from the listing: a hostile or broken endpoint can
       * claim anything, so the sum is checked. */
      if (sg->size < 0 || __builtin_add_overflow(plan->total_bytes, sg->size,
                                                 &plan->total_bytes)) {
        snprintf(err, errlen,
                 "absurd replica metadata: %swal/%08x_%08x.wal.lz4 is "
                 "listed with %lld bytes, and the objects to restore would "
                 "add up to more than 2^63 bytes",
                 plan->gen_root, sg->index, sg->offset, (long long)sg->size);
        return -EBADMSG;
      }
      plan->segments[plan->nsegments++] = *sg;
      i++;
    }
    pi->n = plan->nsegments - pi->first;
  }
  return 0;
}

int dbs_replica_plan(const struct dbs_replica_listing* l,
                     const struct dbs_replica_generation* g,
                     const struct dbs_restore_target* t,
                     struct dbs_restore_plan* plan, char* err, size_t errlen) {
  memset(plan, 0, sizeof(*plan));
  snprintf(err, errlen, "no error");
  snprintf(plan->generation, sizeof(plan->generation), "%s", g->name);
  long snap;
  int rc = plan_snapshot(g, t, &snap, err, errlen);
  if (rc != 0)
    return rc;
  plan->snapshot = g->snapshots[snap];
  uint32_t min_index = plan->snapshot.index;
  size_t nseg;
  int64_t max_wal;
  rc = plan_segments(l, g, t, min_index, &nseg, &max_wal, err, errlen);
  if (rc != 0)
    return rc;
  if (asprintf(&plan->gen_root, "%s%s/", l->root ? l->root : "", g->name) < 0) {
    plan->gen_root = NULL;
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (plan->snapshot.size < 0) {
    snprintf(err, errlen,
             "absurd replica metadata: %ssnapshots/%08x.snapshot.lz4 "
             "is listed with %lld bytes",
             plan->gen_root, plan->snapshot.index,
             (long long)plan->snapshot.size);
    dbs_restore_plan_free(plan);
    return -EBADMSG;
  }
  plan->total_bytes = plan->snapshot.size;
  if (max_wal < (int64_t)min_index)
    return 0; /* snapshot only (v0.3.13 panics when max < min; #688) */
  size_t i0 = 0, nidx;
  while (i0 < nseg && g->segments[i0].index < min_index)
    i0++;
  rc = plan_count_indexes(g, plan->gen_root, min_index, i0, nseg, &nidx, err,
                          errlen);
  if (rc == 0)
    rc = plan_fill_indexes(g, min_index, i0, nseg, nidx, plan, err, errlen);
  if (rc != 0)
    dbs_restore_plan_free(plan);
  return rc;
}

void dbs_replica_bounds(const struct dbs_replica_listing* l,
                        int64_t* created_ns, int64_t* updated_ns) {
  *created_ns = *updated_ns = 0;
  for (size_t i = 0; i < l->ngens; i++) {
    const struct dbs_replica_generation* g = &l->gens[i];
    if (g->updated_ns == 0)
      continue; /* no objects */
    if (*created_ns == 0 || g->created_ns < *created_ns)
      *created_ns = g->created_ns;
    if (g->updated_ns > *updated_ns)
      *updated_ns = g->updated_ns;
  }
}

/* One snapshot of one generation, for litestream 0.5's choice. */
struct v05_snap {
  int64_t time_ns;
  size_t gen, snap;
};

/* Up to this many snapshots are ordered exactly as litestream 0.5's O(n^2)
 * swap sort orders them (it decides which of several snapshots with the
 * same time comes last); beyond, ties go to the last listed. */
#define V05_EXACT_SORT_MAX 4096

int dbs_replica_plan_v05(const struct dbs_replica_listing* l,
                         const struct dbs_restore_target* t, size_t* gen,
                         struct dbs_restore_plan* plan, char* err,
                         size_t errlen) {
  memset(plan, 0, sizeof(*plan));
  size_t n = 0;
  for (size_t g = 0; g < l->ngens; g++)
    n += l->gens[g].nsnapshots;
  if (n == 0) {
    snprintf(err, errlen,
             "no snapshots available in any litestream v0.3 generation%s",
             l->ngens ? "" : " (there is none)");
    return -ENOENT;
  }
  /* Generations in name order, each's snapshots in index order: the order
   * in which litestream 0.5 gathers them. */
  struct v05_snap* c = calloc(n, sizeof(*c));
  if (c == NULL) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  size_t k = 0;
  for (size_t g = 0; g < l->ngens; g++)
    for (size_t i = 0; i < l->gens[g].nsnapshots; i++)
      c[k++] = (struct v05_snap){l->gens[g].snapshots[i].time_ns, g, i};
  long best = -1;
  if (n <= V05_EXACT_SORT_MAX) {
    /* sortSnapshotsV3ByCreatedAt, then findBestSnapshotV3: the last one
     * at or before the timestamp. */
    for (size_t i = 0; i + 1 < n; i++)
      for (size_t j = i + 1; j < n; j++)
        if (c[i].time_ns > c[j].time_ns) {
          struct v05_snap x = c[i];
          c[i] = c[j];
          c[j] = x;
        }
    for (size_t i = n; i-- > 0;)
      if (!t->has_timestamp || c[i].time_ns <= t->timestamp_ns) {
        best = (long)i;
        break;
      }
  } else {
    for (size_t i = 0; i < n; i++)
      if ((!t->has_timestamp || c[i].time_ns <= t->timestamp_ns) &&
          (best < 0 || c[i].time_ns >= c[best].time_ns))
        best = (long)i;
  }
  if (best < 0) {
    int64_t first = c[0].time_ns;
    for (size_t i = 1; i < n; i++)
      if (c[i].time_ns < first)
        first = c[i].time_ns;
    free(c);
    char when[40];
    fmt_when(first, when, sizeof(when));
    snprintf(err, errlen,
             "no litestream v0.3 snapshot at or before the requested time "
             "(the first was written at %s)",
             when);
    return -ENOENT;
  }
  const struct dbs_replica_generation* g = &l->gens[c[best].gen];
  const struct dbs_replica_snapshot* snap = &g->snapshots[c[best].snap];
  *gen = c[best].gen;
  free(c);

  /* filterWALSegmentsV3: index at or above the snapshot's and, with a
   * timestamp, not written after it. The rest is dbs_replica_plan's
   * checks on a generation holding just that snapshot and segments. */
  struct dbs_replica_generation fg = *g;
  fg.snapshots = (struct dbs_replica_snapshot*)snap;
  fg.nsnapshots = 1;
  fg.nsegments = 0;
  fg.segments = calloc(g->nsegments ? g->nsegments : 1, sizeof(*fg.segments));
  if (fg.segments == NULL) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  for (size_t i = 0; i < g->nsegments; i++) {
    const struct dbs_replica_segment* sg = &g->segments[i];
    if (sg->index < snap->index)
      continue;
    if (t->has_timestamp && sg->time_ns > t->timestamp_ns)
      continue;
    fg.segments[fg.nsegments++] = *sg;
  }
  struct dbs_restore_target latest = {.index = -1};
  int rc = dbs_replica_plan(l, &fg, &latest, plan, err, errlen);
  free(fg.segments);
  return rc;
}

void dbs_restore_plan_free(struct dbs_restore_plan* plan) {
  free(plan->gen_root);
  free(plan->segments);
  free(plan->indexes);
  memset(plan, 0, sizeof(*plan));
}
