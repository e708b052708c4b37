/* The Litestream 0.5 replica layout: LTX listings and restore plans. */
#define _GNU_SOURCE
#include "ltx_replica.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* n hex digits in lower case, as litestream writes and parses them. */
static int parse_hex(const char* s, size_t n, uint64_t* out) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    int h = s[i] >= 'A' && s[i] <= 'F' ? -1 : dbs_strbuf_unhex(s[i]);
    if (h < 0)
      return -EINVAL;
    v = v << 4 | (uint64_t)h;
  }
  *out = v;
  return 0;
}

int dbs_ltx_parse_filename(const char* name, uint64_t* min, uint64_t* max) {
  if (strlen(name) != 37 || name[16] != '-' || strcmp(name + 33, ".ltx") != 0)
    return -EINVAL;
  if (parse_hex(name, 16, min) != 0 || parse_hex(name + 17, 16, max) != 0)
    return -EINVAL;
  return 0;
}

/* The prefix of the replica's own keys: "" or "<path>/". */
static char* base_prefix(const char* path) {
  char* p = NULL;
  if (path == NULL || path[0] == '\0')
    return strdup("");
  size_t n = strlen(path);
  if (asprintf(&p, "%s%s", path, path[n - 1] == '/' ? "" : "/") < 0)
    return NULL;
  return p;
}

static char* level_prefix_in(const char* base, bool s3, int level) {
  char* p = NULL;
  int rc = s3 ? asprintf(&p, "%s%04x/", base, (unsigned)level)
              : asprintf(&p, "%sltx/%d/", base, level);
  return rc < 0 ? NULL : p;
}

char* dbs_ltx_level_prefix(const char* path, bool s3, int level) {
  char* base = base_prefix(path);
  if (base == NULL)
    return NULL;
  char* p = level_prefix_in(base, s3, level);
  free(base);
  return p;
}

int dbs_ltx_listing_add(struct dbs_ltx_listing* l, const char* key, int level,
                        uint64_t min, uint64_t max, int64_t size,
                        int64_t time_ns) {
  if ((l->n & (l->n - 1)) == 0 || l->n == 0) {
    size_t cap = l->n ? l->n * 2 : 16;
    struct dbs_ltx_file* f = realloc(l->files, cap * sizeof(*f));
    if (f == NULL)
      return -ENOMEM;
    l->files = f;
  }
  struct dbs_ltx_file* f = &l->files[l->n];
  f->key = strdup(key);
  if (f->key == NULL)
    return -ENOMEM;
  f->level = level;
  f->min_txid = min;
  f->max_txid = max;
  f->size = size;
  f->time_ns = time_ns;
  l->n++;
  return 0;
}

static int file_cmp(const void* a, const void* b) {
  const struct dbs_ltx_file *x = a, *y = b;
  if (x->level != y->level)
    return x->level < y->level ? -1 : 1;
  if (x->min_txid != y->min_txid)
    return x->min_txid < y->min_txid ? -1 : 1;
  if (x->max_txid != y->max_txid)
    return x->max_txid < y->max_txid ? -1 : 1;
  return strcmp(x->key, y->key);
}

void dbs_ltx_listing_sort(struct dbs_ltx_listing* l) {
  if (l->n > 1)
    qsort(l->files, l->n, sizeof(*l->files), file_cmp);
}

void dbs_ltx_listing_free(struct dbs_ltx_listing* l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->files[i].key);
  free(l->files);
  for (size_t i = 0; i < l->nunknown && i < 8; i++)
    free(l->unknown[i]);
  free(l->legacy);
  memset(l, 0, sizeof(*l));
}

int64_t dbs_ltx_listing_updated_ns(const struct dbs_ltx_listing* l) {
  int64_t t = 0;
  for (size_t i = 0; i < l->n; i++)
    if (l->files[i].time_ns > t)
      t = l->files[i].time_ns;
  return t;
}

static int note_unknown(struct dbs_ltx_listing* l, const char* key) {
  if (l->nunknown < 8) {
    l->unknown[l->nunknown] = strdup(key);
    if (l->unknown[l->nunknown] == NULL)
      return -ENOMEM;
  }
  l->nunknown++;
  return 0;
}

/* Lists the files of one level directory into l. */
static int load_level(struct dbs_storage* s, const char* prefix, int level,
                      struct dbs_ltx_listing* l) {
  struct dbs_storage_list ls = {0};
  int rc = s->ops->list(s, prefix, 1, &ls);
  if (rc != 0)
    return rc;
  size_t pl = strlen(prefix);
  for (size_t i = 0; i < ls.n && rc == 0; i++) {
    const struct dbs_storage_entry* e = &ls.entries[i];
    uint64_t min, max;
    if (e->is_prefix || strncmp(e->key, prefix, pl) != 0 ||
        dbs_ltx_parse_filename(e->key + pl, &min, &max) != 0) {
      rc = note_unknown(l, e->key);
      continue;
    }
    rc = dbs_ltx_listing_add(l, e->key, level, min, max, e->size,
                             dbs_storage_entry_time_ns(e));
  }
  dbs_storage_list_free(&ls);
  return rc;
}

/* "%04x/" with a level 0..9, or -1. */
static int s3_level_of(const char* rest) {
  if (strlen(rest) != 5 || rest[4] != '/' || strncmp(rest, "000", 3) != 0)
    return -1;
  return rest[3] >= '0' && rest[3] <= '9' ? rest[3] - '0' : -1;
}

/* Scans one base prefix: its entries, and the levels found under it. */
static int load_base(struct dbs_storage* s, const char* base, bool s3, bool top,
                     struct dbs_ltx_listing* l) {
  struct dbs_storage_list root = {0}, sub = {0};
  int rc = s->ops->list(s, base, 1, &root);
  if (rc != 0)
    return rc;
  size_t bl = strlen(base);
  for (size_t i = 0; i < root.n && rc == 0; i++) {
    const struct dbs_storage_entry* e = &root.entries[i];
    if (strncmp(e->key, base, bl) != 0) {
      rc = note_unknown(l, e->key);
      continue;
    }
    const char* rest = e->key + bl;
    if (e->is_prefix && strcmp(rest, "generations/") == 0)
      continue; /* v0.3: listed by replica.c */
    if (s3 && e->is_prefix) {
      int level = s3_level_of(rest);
      if (level >= 0) {
        rc = load_level(s, e->key, level, l);
        continue;
      }
      if (strcmp(rest, "ltx/") == 0) {
        /* litestream v0.5.0-beta1 wrote <path>/ltx/<level>/ on S3 too. */
        free(l->legacy);
        l->legacy = strdup(e->key);
        rc = l->legacy ? 0 : -ENOMEM;
        continue;
      }
      /* s3://bucket: litestream 0.5 cleans "" to "." and joins with '/'. */
      if (top && bl == 0 &&
          (strcmp(rest, "./") == 0 || strcmp(rest, "/") == 0)) {
        rc = load_base(s, e->key, s3, false, l);
        continue;
      }
    }
    if (!s3 && e->is_prefix && strcmp(rest, "ltx/") == 0) {
      rc = s->ops->list(s, e->key, 1, &sub);
      for (size_t j = 0; j < sub.n && rc == 0; j++) {
        const struct dbs_storage_entry* le = &sub.entries[j];
        const char* lv = le->key + strlen(e->key);
        if (le->is_prefix && strlen(lv) == 2 && lv[0] >= '0' && lv[0] <= '9' &&
            lv[1] == '/')
          rc = load_level(s, le->key, lv[0] - '0', l);
        else
          rc = note_unknown(l, le->key);
      }
      dbs_storage_list_free(&sub);
      continue;
    }
    rc = note_unknown(l, e->key);
  }
  dbs_storage_list_free(&root);
  return rc;
}

int dbs_ltx_load(struct dbs_storage* s, const char* path, bool s3,
                 struct dbs_ltx_listing* out) {
  memset(out, 0, sizeof(*out));
  out->s3 = s3;
  char* base = base_prefix(path);
  if (base == NULL)
    return -ENOMEM;
  int rc = load_base(s, base, s3, true, out);
  free(base);
  if (rc != 0) {
    dbs_ltx_listing_free(out);
    return rc;
  }
  dbs_ltx_listing_sort(out);
  return 0;
}

/* ---- the plan -------------------------------------------------------- */

/* litestream's restoreCandidateBetter(curr, next). */
static bool better(const struct dbs_ltx_file* cur,
                   const struct dbs_ltx_file* next) {
  if (next->max_txid != cur->max_txid)
    return next->max_txid > cur->max_txid;
  if (next->min_txid != cur->min_txid)
    return next->min_txid < cur->min_txid;
  if (next->level != cur->level)
    return next->level > cur->level;
  return next->time_ns < cur->time_ns;
}

static bool eligible(const struct dbs_ltx_file* f,
                     const struct dbs_ltx_target* t) {
  if (t->txid != 0 && f->max_txid > t->txid)
    return false;
  if (t->has_timestamp && !(f->time_ns < t->timestamp_ns))
    return false;
  return true;
}

/* One level's files [pos, end) not yet evaluated, and its candidate. */
struct cursor {
  size_t pos, end;
  const struct dbs_ltx_file* cand;
};

static void refresh(const struct dbs_ltx_listing* l, struct cursor* c,
                    uint64_t cur, const struct dbs_ltx_target* t) {
  if (c->cand != NULL && c->cand->max_txid <= cur)
    c->cand = NULL;
  while (c->pos < c->end) {
    const struct dbs_ltx_file* f = &l->files[c->pos];
    if (f->min_txid > cur + 1)
      return;
    c->pos++;
    if (f->max_txid <= cur || !eligible(f, t))
      continue;
    if (c->cand == NULL || better(c->cand, f))
      c->cand = f;
  }
}

static int plan_push(struct dbs_ltx_plan* p, const struct dbs_ltx_file* f) {
  if ((p->n & (p->n - 1)) == 0 || p->n == 0) {
    size_t cap = p->n ? p->n * 2 : 16;
    const struct dbs_ltx_file** a = realloc(p->files, cap * sizeof(*a));
    if (a == NULL)
      return -ENOMEM;
    p->files = a;
  }
  p->files[p->n++] = f;
  p->total_bytes += f->size;
  return 0;
}

/* Each level's range [lo, hi) in the sorted listing. */
static void level_ranges(const struct dbs_ltx_listing* l,
                         size_t lo[DBS_LTX_NLEVELS],
                         size_t hi[DBS_LTX_NLEVELS]) {
  for (int lv = 0; lv < DBS_LTX_NLEVELS; lv++)
    lo[lv] = hi[lv] = 0;
  for (size_t i = 0; i < l->n; i++) {
    int lv = l->files[i].level;
    if (lv < 0 || lv >= DBS_LTX_NLEVELS)
      continue;
    if (hi[lv] == lo[lv])
      lo[lv] = i;
    hi[lv] = i + 1;
  }
}

/* The newest eligible snapshot in [lo, hi), in list order; NULL if none. */
static const struct dbs_ltx_file*
newest_snapshot(const struct dbs_ltx_listing* l, size_t lo, size_t hi,
                const struct dbs_ltx_target* t) {
  const struct dbs_ltx_file* snap = NULL;
  for (size_t i = lo; i < hi; i++)
    if (eligible(&l->files[i], t))
      snap = &l->files[i];
  return snap;
}

/* Extends the plan from TXID *cur with the best candidate of the levels
 * cs (8 down to 0) until none continues it or t->txid is reached. 0 or
 * -ENOMEM. */
static int plan_chain(const struct dbs_ltx_listing* l,
                      const struct dbs_ltx_target* t, struct cursor* cs,
                      uint64_t* cur, struct dbs_ltx_plan* plan) {
  if (t->txid != 0 && *cur >= t->txid)
    return 0;
  for (;;) {
    struct cursor* next = NULL;
    for (int k = 0; k < DBS_LTX_SNAPSHOT_LEVEL; k++) {
      refresh(l, &cs[k], *cur, t);
      if (cs[k].cand == NULL)
        continue;
      if (next == NULL || better(next->cand, cs[k].cand))
        next = &cs[k];
    }
    if (next == NULL)
      return 0;
    if (next->cand->max_txid <= *cur) {
      next->cand = NULL;
      continue;
    }
    if (plan_push(plan, next->cand) != 0)
      return -ENOMEM;
    *cur = next->cand->max_txid;
    next->cand = NULL;
    if (t->txid != 0 && *cur >= t->txid)
      return 0;
  }
}

/* The eligible file past TXID cur that starts lowest among those the
 * chain left in cs; NULL if none. */
static const struct dbs_ltx_file* first_beyond(const struct dbs_ltx_listing* l,
                                               const struct cursor* cs,
                                               uint64_t cur,
                                               const struct dbs_ltx_target* t) {
  const struct dbs_ltx_file* beyond = NULL;
  for (int k = 0; k < DBS_LTX_SNAPSHOT_LEVEL; k++)
    for (size_t i = cs[k].pos; i < cs[k].end; i++) {
      const struct dbs_ltx_file* f = &l->files[i];
      if (f->max_txid > cur && eligible(f, t) &&
          (beyond == NULL || f->min_txid < beyond->min_txid))
        beyond = f;
    }
  return beyond;
}

int dbs_ltx_plan_calc(const struct dbs_ltx_listing* l,
                      const struct dbs_ltx_target* t, struct dbs_ltx_plan* plan,
                      char* err, size_t errlen) {
  memset(plan, 0, sizeof(*plan));
  err[0] = '\0';
  size_t lo[DBS_LTX_NLEVELS], hi[DBS_LTX_NLEVELS];
  level_ranges(l, lo, hi);
  const struct dbs_ltx_file* snap = newest_snapshot(
      l, lo[DBS_LTX_SNAPSHOT_LEVEL], hi[DBS_LTX_SNAPSHOT_LEVEL], t);
  uint64_t cur = 0;
  if (snap != NULL) {
    if (plan_push(plan, snap) != 0)
      goto nomem;
    cur = snap->max_txid;
  }
  struct cursor cs[DBS_LTX_SNAPSHOT_LEVEL];
  for (int k = 0; k < DBS_LTX_SNAPSHOT_LEVEL; k++) {
    int lv = DBS_LTX_SNAPSHOT_LEVEL - 1 - k; /* 8 down to 0 */
    cs[k] = (struct cursor){lo[lv], hi[lv], NULL};
  }
  if (plan_chain(l, t, cs, &cur, plan) != 0)
    goto nomem;
  /*
   * Stricter than litestream, which checks this for "latest" only: an
   * eligible file that the chain cannot reach means TXIDs are missing
   * before the target, and a restore that silently stops short of them
   * would return older data than asked for.
   */
  bool reached = t->txid != 0 && cur >= t->txid;
  const struct dbs_ltx_file* beyond =
      reached ? NULL : first_beyond(l, cs, cur, t);
  if (beyond != NULL) {
    snprintf(err, errlen,
             "non-contiguous ltx files: the backup has TXIDs up to "
             "%016" PRIx64 " but the next file, %s, starts at %016" PRIx64
             ": TXIDs %016" PRIx64 "-%016" PRIx64 " are missing",
             cur, beyond->key, beyond->min_txid, cur + 1, beyond->min_txid - 1);
    dbs_ltx_plan_free(plan);
    return -EBADMSG;
  }
  if (plan->n == 0) {
    snprintf(err, errlen, "no matching backup files available");
    return -ENOENT;
  }
  if (t->txid != 0 && cur < t->txid) {
    snprintf(err, errlen,
             "no matching backup files available: no file ends at TXID "
             "%016" PRIx64 " (the chain reaches %016" PRIx64 ")",
             t->txid, cur);
    dbs_ltx_plan_free(plan);
    return -ENOENT;
  }
  return 0;
nomem:
  dbs_ltx_plan_free(plan);
  snprintf(err, errlen, "out of memory");
  return -ENOMEM;
}

void dbs_ltx_plan_free(struct dbs_ltx_plan* plan) {
  free(plan->files);
  memset(plan, 0, sizeof(*plan));
}
