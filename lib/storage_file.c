/* The file replica: list and stream objects stored under a local directory. */
#define _GNU_SOURCE
#include "storage_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

/* Read size: 128 KiB keeps each chunk in the L2 cache until the decoder
 * has consumed it (larger reads measured slower, see restore.c). */
#define READ_CHUNK (128u << 10)

struct file_storage {
  struct dbs_storage base;
  char* root;
  char desc[4096 + 8];
};

static int list_push(struct dbs_storage_list* out, size_t* cap, char* key,
                     int64_t size, const struct stat* st, int is_prefix) {
  if (out->n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    struct dbs_storage_entry* e =
        realloc(out->entries, ncap * sizeof(*out->entries));
    if (e == NULL) {
      free(key);
      return -ENOMEM;
    }
    out->entries = e;
    *cap = ncap;
  }
  struct dbs_storage_entry* e = &out->entries[out->n++];
  memset(e, 0, sizeof(*e));
  e->key = key;
  e->size = size;
  e->is_prefix = is_prefix;
  if (st != NULL) {
    e->mtime_ns = dbs_storage_time_ns(st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    e->mtime_ms = e->mtime_ns / 1000000;
  }
  return 0;
}

/* Lists directory keydir (a key prefix ending in '/' or empty) of fs. */
static int list_dir(struct file_storage* fs, const char* keydir,
                    const char* namepfx, int delimiter,
                    struct dbs_storage_list* out, size_t* cap) {
  char* dpath = dbs_path_join(fs->root, keydir);
  if (dpath == NULL)
    return -ENOMEM;
  DIR* d = opendir(dpath);
  if (d == NULL) {
    int e = errno;
    free(dpath);
    if (e == ENOENT || e == ENOTDIR)
      return 0;
    snprintf(fs->base.error, sizeof(fs->base.error), "cannot list %s%s: %s",
             fs->root, keydir, strerror(e));
    return -e;
  }
  int rc = 0;
  size_t plen = strlen(namepfx);
  struct dirent* de;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    const char* name = de->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    if (strncmp(name, namepfx, plen) != 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT)
        continue; /* removed while listing */
      rc = -errno;
      snprintf(fs->base.error, sizeof(fs->base.error), "cannot stat %s/%s: %s",
               dpath, name, strerror(errno));
      break;
    }
    size_t kl = strlen(keydir), nl = strlen(name);
    char* key = malloc(kl + nl + 2);
    if (key == NULL) {
      rc = -ENOMEM;
      break;
    }
    memcpy(key, keydir, kl);
    memcpy(key + kl, name, nl + 1);
    if (S_ISDIR(st.st_mode)) {
      key[kl + nl] = '/';
      key[kl + nl + 1] = '\0';
      if (delimiter) {
        rc = list_push(out, cap, key, -1, &st, 1);
      } else {
        rc = list_dir(fs, key, "", 0, out, cap);
        free(key);
      }
    } else if (S_ISREG(st.st_mode)) {
      rc = list_push(out, cap, key, (int64_t)st.st_size, &st, 0);
    } else {
      free(key);
    }
    if (rc != 0)
      break;
    errno = 0;
  }
  if (rc == 0 && errno != 0) {
    rc = -errno;
    snprintf(fs->base.error, sizeof(fs->base.error), "cannot list %s: %s",
             dpath, strerror(errno));
  }
  closedir(d);
  free(dpath);
  return rc;
}

static int file_list(struct dbs_storage* s, const char* prefix, int delimiter,
                     struct dbs_storage_list* out) {
  struct file_storage* fs = (struct file_storage*)s;
  out->entries = NULL;
  out->n = 0;
  size_t cap = 0;
  /* Split the prefix into the directory to read and a name prefix. */
  const char* slash = strrchr(prefix, '/');
  size_t dlen = slash ? (size_t)(slash - prefix) + 1 : 0;
  char* keydir = strndup(prefix, dlen);
  if (keydir == NULL)
    return -ENOMEM;
  int rc = list_dir(fs, keydir, prefix + dlen, delimiter, out, &cap);
  free(keydir);
  if (rc != 0) {
    dbs_storage_list_free(out);
    return rc;
  }
  dbs_storage_list_sort(out);
  return 0;
}

static int file_get(struct dbs_storage* s, const char* key,
                    dbs_storage_sink sink, void* arg) {
  struct file_storage* fs = (struct file_storage*)s;
  char* path = dbs_path_join(fs->root, key);
  if (path == NULL)
    return -ENOMEM;
  int rc = 0;
  uint8_t* buf = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = errno == ENOENT ? DBS_STORAGE_ENOTFOUND : -errno;
    snprintf(fs->base.error, sizeof(fs->base.error), "cannot open %s: %s", path,
             strerror(errno));
    goto done;
  }
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  buf = aligned_alloc(4096, READ_CHUNK);
  if (buf == NULL) {
    rc = -ENOMEM;
    goto done;
  }
  for (;;) {
    ssize_t n = read(fd, buf, READ_CHUNK);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno;
      snprintf(fs->base.error, sizeof(fs->base.error), "cannot read %s: %s",
               path, strerror(errno));
      break;
    }
    if (n == 0)
      break;
    rc = sink(arg, buf, (size_t)n);
    if (rc != 0)
      break;
  }
done:
  if (fd >= 0)
    close(fd);
  free(buf);
  free(path);
  return rc;
}

static const char* file_describe(struct dbs_storage* s) {
  return ((struct file_storage*)s)->desc;
}

static void file_close(struct dbs_storage* s) {
  struct file_storage* fs = (struct file_storage*)s;
  if (fs == NULL)
    return;
  free(fs->root);
  free(fs);
}

static const struct dbs_storage_ops file_ops = {
    .list = file_list,
    .get = file_get,
    .describe = file_describe,
    .close = file_close,
};

int dbs_storage_file_open(const char* dir, struct dbs_storage** out) {
  *out = NULL;
  if (dir == NULL || dir[0] == '\0')
    return -EINVAL;
  struct file_storage* fs = calloc(1, sizeof(*fs));
  if (fs == NULL)
    return -ENOMEM;
  fs->root = strdup(dir);
  if (fs->root == NULL) {
    free(fs);
    return -ENOMEM;
  }
  fs->base.ops = &file_ops;
  snprintf(fs->desc, sizeof(fs->desc), "file://%s", dir);
  *out = &fs->base;
  return 0;
}
