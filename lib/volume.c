/* The volume: link the app's DB path onto it, lock it, check the DB file. */
#define _GNU_SOURCE /* renameat2, nftw */
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "path.h"

#define LOCK_NAME ".dbsetup.lock"
#define ASIDE_SUFFIX ".in-image"
#define ASIDE_MAX 1000

static const char sqlite_header[16] = "SQLite format 3";
static const char* const sidecars[] = {"-wal", "-shm", "-journal"};
#define NSIDECARS (sizeof(sidecars) / sizeof(sidecars[0]))

static int lock_fd = -1;

/* Writes a message into err (if any). */
__attribute__((format(printf, 3, 4))) static void
set_err(char* err, size_t errlen, const char* fmt, ...) {
  if (err == NULL || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Returns malloc'd a + b (+ c), or NULL. */
static char* cat3(const char* a, const char* b, const char* c) {
  size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
  char* s = malloc(la + lb + lc + 1);
  if (s == NULL)
    return NULL;
  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  if (c != NULL)
    memcpy(s + la + lb, c, lc);
  s[la + lb + lc] = '\0';
  return s;
}

/* Splits an absolute, slash-normalized path: *dir (malloc'd), base points
 * into path. Returns 0 or -errno. */
static int split(const char* path, char** dir, const char** base) {
  *base = dbs_path_basename(path);
  *dir = dbs_path_dirname(path);
  return *dir == NULL ? -ENOMEM : 0;
}

/*
 * True when dir (canonical) is on a mounted filesystem other than the
 * container's root: the longest mount point in /proc/self/mountinfo that
 * contains dir is not "/". A volume may be a mount point or lie below one.
 * Without mountinfo: dir is on another device than "/".
 */
static bool on_mounted_volume(const char* dir) {
  FILE* f = fopen("/proc/self/mountinfo", "re");
  char *line = NULL, *best = NULL;
  size_t cap = 0;
  while (f != NULL && getline(&line, &cap, f) > 0) {
    /* id parent major:minor root mount-point ...; octal escapes (\040). */
    char* field = line;
    for (int i = 0; i < 4 && field != NULL; i++) {
      field = strchr(field, ' ');
      if (field != NULL)
        field++;
    }
    if (field == NULL)
      continue;
    char* o = field;
    for (char* i = field; *i != '\0' && *i != ' ' && *i != '\n'; i++) {
      if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' &&
          i[2] <= '7' && i[3] >= '0' && i[3] <= '7') {
        *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
        i += 3;
      } else {
        *o++ = *i;
      }
    }
    *o = '\0';
    if (dbs_path_is_within(dir, field) &&
        (best == NULL || strlen(field) > strlen(best))) {
      free(best);
      best = strdup(field);
    }
  }
  free(line);
  if (f != NULL)
    fclose(f);
  if (best != NULL) {
    bool mounted = strcmp(best, "/") != 0;
    free(best);
    return mounted;
  }
  struct stat st, rst;
  return stat(dir, &st) == 0 && stat("/", &rst) == 0 && st.st_dev != rst.st_dev;
}

/* prepare, step 1: the arguments name a volume and a file. Returns 0 or
 * -EINVAL with a message in err. */
static int check_paths(const char* volume, const char* app_path, char* err,
                       size_t errlen) {
  if (volume == NULL || *volume == '\0' || app_path == NULL ||
      *app_path == '\0') {
    set_err(err, errlen, "no volume or database path given");
    return -EINVAL;
  }
  size_t alen = strlen(app_path);
  if (app_path[alen - 1] == '/') {
    set_err(err, errlen,
            "database path %s ends with '/': it must name a file (e.g. "
            "--db %sdev.db)",
            app_path, app_path);
    return -EINVAL;
  }
  const char* base = dbs_path_basename(app_path);
  if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
    set_err(err, errlen, "database path %s does not name a file", app_path);
    return -EINVAL;
  }
  return 0;
}

/* prepare, step 2: the volume vol (absolute) is a directory; a missing one
 * is created (0755) with a warning, or with info only checked, and
 * *created says so. Returns 0 or -errno with a message in err. */
static int ensure_volume(const char* vol, const struct dbs_volume_info* info,
                         bool* created, char* err, size_t errlen) {
  struct stat st;
  int rc;
  *created = false;
  if (stat(vol, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return 0;
    set_err(err, errlen,
            "volume %s is not a directory (mount a volume there or set "
            "--volume)",
            vol);
    return -ENOTDIR;
  }
  if (errno != ENOENT) {
    rc = -errno;
    set_err(err, errlen,
            "volume %s cannot be used: %s (mount a writable volume there "
            "or set --volume)",
            vol, strerror(-rc));
    return rc;
  }
  if ((rc = info ? dbs_path_mkdir_p_check(vol) : dbs_path_mkdir_p(vol, 0755)) <
      0) {
    set_err(err, errlen,
            "volume %s does not exist and cannot be created: %s (mount a "
            "writable volume there or set --volume)",
            vol, strerror(-rc));
    return rc;
  }
  *created = true;
  if (info == NULL)
    dbs_log_warnx("volume %s did not exist: created it, but the database "
                  "there will not outlive this container (mount a volume at "
                  "%s, e.g. fly.toml [mounts] destination = \"%s\")",
                  vol, vol, vol);
  return 0;
}

/* prepare, step 3: the volume's real path into *real, with a warning when
 * it is not on a mounted volume, checked writable (unless it is still to
 * be created: info). Returns 0 or -errno with a message in err. */
static int resolve_volume(const char* vol, bool created,
                          struct dbs_volume_info* info, char** real, char* err,
                          size_t errlen) {
  int rc;
  if (info != NULL) {
    info->exists = !created;
    info->mounted = !created && on_mounted_volume(vol);
  }
  if ((*real = created && info ? dbs_path_canonical(vol)
                               : realpath(vol, NULL)) == NULL) {
    rc = -errno;
    set_err(err, errlen, "cannot resolve volume %s: %s", vol, strerror(-rc));
    return rc;
  }
  if (info == NULL && !created && !on_mounted_volume(*real))
    dbs_log_warnx("volume %s is not a mount point (nor inside one): the "
                  "database there will be lost with this container (mount a "
                  "volume at %s)",
                  vol, vol);
  /* access() honours read-only mounts for root too, and we never run
   * setuid, so the real ids are the ones that matter. */
  if ((info != NULL && created) || access(*real, W_OK | X_OK) == 0)
    return 0;
  rc = -errno;
  if (rc == -EROFS)
    set_err(err, errlen, "volume %s is not writable: %s (mount it read-write)",
            vol, strerror(-rc));
  else
    set_err(err, errlen,
            "volume %s is not writable by uid %d: %s (mount it "
            "read-write, or chown it to uid %d, or run dbsetup as root "
            "with --user)",
            vol, (int)getuid(), strerror(-rc), (int)getuid());
  return rc;
}

/* prepare, step 4: the target into *target: in the app's directory when
 * that is inside the volume real (created there if missing, or with info
 * only checked), else real/base. Returns 0 or -errno with a message. */
static int place_target(const char* app, const char* dir, const char* base,
                        const char* real, struct dbs_volume_info* info,
                        char** target, char* err, size_t errlen) {
  struct stat st;
  int rc;
  char* cdir = dbs_path_canonical(dir);
  if (cdir == NULL) {
    rc = -errno;
    set_err(err, errlen, "cannot resolve the directory of %s: %s", app,
            strerror(-rc));
    return rc;
  }
  if (!dbs_path_is_within(cdir, real)) {
    *target = dbs_path_join(real, base);
  } else {
    if (info != NULL && stat(cdir, &st) != 0)
      info->target_dir_missing = true;
    if ((rc = info ? dbs_path_mkdir_p_check(cdir)
                   : dbs_path_mkdir_p(cdir, 0755)) < 0) {
      set_err(err, errlen, "cannot create %s on the volume: %s", cdir,
              strerror(-rc));
      free(cdir);
      return rc;
    }
    *target = dbs_path_join(cdir, base);
  }
  free(cdir);
  if (*target == NULL) {
    set_err(err, errlen, "out of memory");
    return -ENOMEM;
  }
  return 0;
}

/*
 * dbs_volume_prepare, or with info (dry run) its checks only: nothing is
 * created or logged, and what it would do goes into *info.
 */
static char* prepare(const char* volume, const char* app_path,
                     struct dbs_volume_info* info, char* err, size_t errlen) {
  char *vol = NULL, *real = NULL, *app = NULL, *dir = NULL, *target = NULL;
  const char* base = NULL;
  bool created = false;
  int rc = check_paths(volume, app_path, err, errlen);
  if (rc == 0 && ((vol = dbs_path_absolute(volume)) == NULL ||
                  (app = dbs_path_absolute(app_path)) == NULL ||
                  split(app, &dir, &base) < 0)) {
    set_err(err, errlen, "out of memory");
    rc = -ENOMEM;
  }
  if (rc == 0)
    rc = ensure_volume(vol, info, &created, err, errlen);
  if (rc == 0)
    rc = resolve_volume(vol, created, info, &real, err, errlen);
  if (rc == 0)
    rc = place_target(app, dir, base, real, info, &target, err, errlen);
  free(vol);
  free(real);
  free(app);
  free(dir);
  if (rc < 0)
    errno = -rc;
  return target;
}

char* dbs_volume_prepare(const char* volume, const char* app_path, char* err,
                         size_t errlen) {
  return prepare(volume, app_path, NULL, err, errlen);
}

char* dbs_volume_prepare_check(const char* volume, const char* app_path,
                               struct dbs_volume_info* info, char* err,
                               size_t errlen) {
  memset(info, 0, sizeof(*info));
  return prepare(volume, app_path, info, err, errlen);
}

/* Atomically makes path a symlink to target (temporary link + rename). */
static int replace_link(const char* path, const char* dir, const char* base,
                        const char* target) {
  char name[NAME_MAX + 1];
  int n =
      snprintf(name, sizeof(name), ".%.200s.dbsetup-%ld", base, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof(name))
    return -ENAMETOOLONG;
  char* tmp = dbs_path_join(dir, name);
  if (tmp == NULL)
    return -ENOMEM;
  int rc = 0;
  if (unlink(tmp) != 0 && errno != ENOENT)
    rc = -errno;
  else if (symlink(target, tmp) != 0)
    rc = -errno;
  else if (rename(tmp, path) != 0) {
    rc = -errno;
    unlink(tmp);
  }
  free(tmp);
  return rc;
}

/* Returns the text of an existing symlink (malloc'd) or NULL with errno. */
static char* read_link(const char* path) {
  for (size_t cap = 256; cap <= 65536; cap *= 2) {
    char* buf = malloc(cap);
    if (buf == NULL)
      return NULL;
    ssize_t n = readlink(path, buf, cap);
    if (n < 0) {
      int saved = errno;
      free(buf);
      errno = saved;
      return NULL;
    }
    if ((size_t)n < cap) {
      buf[n] = '\0';
      return buf;
    }
    free(buf);
  }
  errno = ENAMETOOLONG;
  return NULL;
}

/* The message for a symlink where the database belongs (-ELOOP). */
static void refuse_symlink(const char* target, char* err, size_t errlen) {
  char* to = read_link(target);
  set_err(err, errlen,
          "%s is a symbolic link%s%s, but the database file itself belongs "
          "there: dbsetup does not follow it (the app's user could point it "
          "at any file) and touches nothing. Remove the link and put the "
          "database file at %s, or set --volume/--db to where it is",
          target, to ? " to " : "", to ? to : "", target);
  free(to);
}

/*
 * Hard links: with --user the app's user owns the volume and, where
 * fs.protected_hardlinks=0, can give a file of root's a second name there;
 * root writing or chowning that name would write or give away root's file.
 * Returns -EMLINK with a message in err for a regular file with other
 * names, else 0. what names the file's role; fix says how to repair it.
 */
static int refuse_hardlink(const char* path, const struct stat* st,
                           const char* what, const char* fix, char* err,
                           size_t errlen) {
  if (!S_ISREG(st->st_mode) || st->st_nlink <= 1)
    return 0;
  set_err(err, errlen,
          "%s (%s) has %lu hard links: its data has other names, and "
          "dbsetup, running as root, refuses to write or chown it (the app's "
          "user could have linked a file of root's there). %s; `find / -xdev "
          "-samefile %s` lists the other names",
          path, what, (unsigned long)st->st_nlink, fix, path);
  return -EMLINK;
}

/* True when a symlink in dir with text link points at target. */
static bool link_points_to(const char* dir, const char* link,
                           const char* target) {
  if (strcmp(link, target) == 0)
    return true;
  char* full = link[0] == '/' ? strdup(link) : dbs_path_join(dir, link);
  if (full == NULL)
    return false;
  char* c = dbs_path_canonical(full);
  bool same = c != NULL && strcmp(c, target) == 0;
  free(full);
  free(c);
  return same;
}

/* Renames old to new unless new exists. Returns 0 or -errno. */
static int rename_noreplace(const char* from, const char* to) {
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -errno;
  /* A filesystem without RENAME_NOREPLACE: link() never replaces. */
  if (link(from, to) != 0)
    return -errno;
  if (unlink(from) != 0)
    return -errno;
  return 0;
}

/*
 * Moves the regular file at path (size bytes, named base) and its sidecars
 * aside to <path>.in-image[.N], warning about it. Stores the chosen name
 * (malloc'd) in *aside.
 */
static int move_aside(const char* path, const char* base, long long size,
                      const char* target, bool dry, char** aside, char* err,
                      size_t errlen) {
  char suffix[32];
  struct stat st;
  int rc = -EEXIST;
  *aside = NULL;
  for (int n = 0; n < ASIDE_MAX && rc == -EEXIST; n++) {
    if (n == 0)
      snprintf(suffix, sizeof(suffix), "%s", ASIDE_SUFFIX);
    else
      snprintf(suffix, sizeof(suffix), "%s.%d", ASIDE_SUFFIX, n);
    char* a = cat3(path, suffix, NULL);
    if (a == NULL)
      return -ENOMEM;
    bool taken = lstat(a, &st) == 0;
    for (size_t i = 0; i < NSIDECARS && !taken; i++) {
      char* s = cat3(a, sidecars[i], NULL);
      if (s == NULL) {
        free(a);
        return -ENOMEM;
      }
      taken = lstat(s, &st) == 0;
      free(s);
    }
    if (taken) {
      free(a);
      continue;
    }
    rc = dry ? 0 : rename_noreplace(path, a);
    if (rc == 0)
      *aside = a;
    else
      free(a);
  }
  if (rc < 0) {
    set_err(err, errlen, "cannot move %s aside: %s", path, strerror(-rc));
    return rc;
  }
  if (dry)
    return 0;
  dbs_log_warnx("%s is a database file baked into the image (%lld bytes): "
                "moved it aside to %s so the app uses %s on the volume; keep "
                "it out of the image by adding '**/%s*' to .dockerignore",
                path, size, *aside, target, base);
  for (size_t i = 0; i < NSIDECARS; i++) {
    char* from = cat3(path, sidecars[i], NULL);
    char* to = cat3(*aside, sidecars[i], NULL);
    if (from == NULL || to == NULL) {
      rc = -ENOMEM;
    } else if (lstat(from, &st) == 0) {
      rc = rename_noreplace(from, to);
      if (rc == 0)
        dbs_log_warnx("also moved %s aside to %s", from, to);
      else
        set_err(err, errlen, "cannot move %s aside to %s: %s", from, to,
                strerror(-rc));
    }
    free(from);
    free(to);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/*
 * Only a database baked into the image (SQLite header) or an empty file is
 * moved aside: anything else at the app's path (a config file named by a
 * wrong DATABASE_URL) is left alone. Returns 0, or -EILSEQ (or -errno)
 * with a message in err.
 */
static int check_baked_db(const char* app, char* err, size_t errlen) {
  unsigned char head[16];
  struct stat st;
  int rc = 0;
  int fd = open(app, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    rc = -errno;
    set_err(err, errlen, "cannot read %s to see whether it is a database: %s",
            app, strerror(-rc));
    return rc;
  }
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    set_err(err, errlen, "cannot stat %s: %s", app, strerror(-rc));
  } else if (st.st_size > 0) {
    ssize_t n = pread(fd, head, sizeof(head), 0);
    if (n < 0) {
      rc = -errno;
      set_err(err, errlen, "cannot read %s: %s", app, strerror(-rc));
    } else if ((size_t)n != sizeof(head) ||
               memcmp(head, sqlite_header, sizeof(head)) != 0) {
      rc = -EILSEQ;
      set_err(err, errlen,
              "%s is where the app opens its database, but it is not an "
              "SQLite database (first bytes do not match; %lld bytes): "
              "dbsetup leaves it untouched. Is DATABASE_URL (or --db) naming "
              "the wrong file? Set it to the database's path (e.g. "
              "file:./dev.db), or remove %s from the image",
              app, (long long)st.st_size, app);
    }
  }
  close(fd);
  return rc;
}

/* 0 when this process could create an entry in dir (made by mkdir_p if
 * missing), else -errno. Creates nothing. */
static int can_create_in(const char* dir) {
  struct stat st;
  if (stat(dir, &st) != 0)
    return dbs_path_mkdir_p_check(dir);
  if (!S_ISDIR(st.st_mode))
    return -ENOTDIR;
  return access(dir, W_OK | X_OK) == 0 ? 0 : -errno;
}

/* The message for a link that cannot be made where the image's filesystem
 * may be read-only. */
static void link_failed(const char* app, const char* target, int rc, char* err,
                        size_t errlen) {
  set_err(err, errlen,
          "cannot link %s -> %s: %s (if the image's filesystem is "
          "read-only, point --db and the app at a path inside the "
          "volume)",
          app, target, strerror(-rc));
}

/*
 * link_impl, nothing at app: create its directory and the link (with
 * plan: check that they could be). Returns 0 when done, 1 when something
 * appeared at app meanwhile (*st describes it), or -errno with a message.
 */
static int link_missing(const char* app, const char* dir, const char* target,
                        struct dbs_link_plan* plan, struct stat* st, char* err,
                        size_t errlen) {
  int rc;
  if (plan != NULL) {
    plan->action = DBS_LINK_CREATE;
    if ((rc = can_create_in(dir)) < 0)
      link_failed(app, target, rc, err, errlen);
    return rc;
  }
  if ((rc = dbs_path_mkdir_p(dir, 0755)) < 0) {
    set_err(err, errlen,
            "cannot create %s to link %s -> %s: %s (if the image's "
            "filesystem is read-only, point --db and the app at a path "
            "inside the volume)",
            dir, app, target, strerror(-rc));
    return rc;
  }
  if (symlink(target, app) == 0) {
    dbs_log_info("linked %s -> %s", app, target);
    return 0;
  }
  if (errno != EEXIST) {
    rc = -errno;
    link_failed(app, target, rc, err, errlen);
    return rc;
  }
  /* Appeared meanwhile: look again. */
  if (lstat(app, st) != 0) {
    rc = -errno;
    set_err(err, errlen, "cannot look at %s: %s", app, strerror(-rc));
    return rc;
  }
  return 1;
}

/* link_impl, a symlink at app: kept when it reaches target, else replaced
 * (with plan: checked). Returns 0 or -errno with a message in err. */
static int relink(const char* app, const char* dir, const char* base,
                  const char* target, struct dbs_link_plan* plan, char* err,
                  size_t errlen) {
  int rc = 0;
  char* old = read_link(app);
  if (old == NULL) {
    rc = -errno;
    set_err(err, errlen, "cannot read the symlink %s: %s", app, strerror(-rc));
    return rc;
  }
  if (link_points_to(dir, old, target)) {
    if (plan != NULL)
      plan->action = DBS_LINK_KEEP;
    else
      dbs_log_debug("%s already links to %s", app, target);
    free(old);
    return 0;
  }
  struct stat tst;
  bool dangling = stat(app, &tst) != 0;
  if (plan != NULL) {
    plan->action = DBS_LINK_REPLACE;
    plan->dangling = dangling;
    plan->old = old;
    if ((rc = can_create_in(dir)) < 0)
      set_err(err, errlen, "cannot replace the symlink %s -> %s: %s", app,
              plan->old, strerror(-rc));
    return rc;
  }
  if ((rc = replace_link(app, dir, base, target)) < 0)
    set_err(err, errlen, "cannot replace the symlink %s -> %s: %s", app, old,
            strerror(-rc));
  else
    dbs_log_warnx("%s was a %s symlink to %s: replaced it with a link to %s",
                  app, dangling ? "dangling" : "wrong", old, target);
  free(old);
  return rc;
}

/* link_impl, something else at app: a directory (-EISDIR) or a fifo,
 * socket or device (-EINVAL) is refused; a regular file is 0. */
static int refuse_non_file(const char* app, const struct stat* st, char* err,
                           size_t errlen) {
  if (S_ISDIR(st->st_mode)) {
    set_err(err, errlen,
            "%s is a directory, but it is where the app opens its database "
            "(remove that directory from the image, or set --db to the "
            "database file)",
            app);
    return -EISDIR;
  }
  if (!S_ISREG(st->st_mode)) {
    set_err(err, errlen,
            "%s is not a regular file (a fifo, socket or device), but it is "
            "where the app opens its database (remove it from the image, or "
            "set --db)",
            app);
    return -EINVAL;
  }
  return 0;
}

/* link_impl, a regular file at app (st): a database baked into the image
 * is moved aside and replaced by the link (with plan: checked). Returns 0
 * or -errno with a message in err. */
static int link_over_file(const char* app, const char* dir, const char* base,
                          const char* target, const struct stat* st,
                          struct dbs_link_plan* plan, char* err,
                          size_t errlen) {
  char* aside = NULL;
  int rc;
  if ((rc = check_baked_db(app, err, errlen)) < 0)
    return rc;
  if ((rc = move_aside(app, base, (long long)st->st_size, target, plan != NULL,
                       &aside, err, errlen)) < 0)
    return rc;
  if (plan != NULL) {
    plan->action = DBS_LINK_MOVE_ASIDE;
    plan->size = (long long)st->st_size;
    plan->aside = aside;
    if ((rc = can_create_in(dir)) < 0)
      set_err(err, errlen, "cannot move %s aside: %s", app, strerror(-rc));
    return rc;
  }
  free(aside);
  if ((rc = replace_link(app, dir, base, target)) < 0) {
    set_err(err, errlen, "cannot link %s -> %s: %s", app, target,
            strerror(-rc));
    return rc;
  }
  dbs_log_info("linked %s -> %s", app, target);
  return 0;
}

/* *same: base in dir already is target (nothing to link). Returns 0 or
 * -ENOMEM. */
static int is_target(const char* dir, const char* base, const char* target,
                     bool* same) {
  *same = false;
  char* cdir = dbs_path_canonical(dir);
  if (cdir == NULL)
    return 0;
  char* self = dbs_path_join(cdir, base);
  free(cdir);
  if (self == NULL)
    return -ENOMEM;
  *same = strcmp(self, target) == 0;
  free(self);
  return 0;
}

/* dbs_volume_link, or with plan (dry run) its checks only: nothing is
 * created, moved or logged, and what it would do goes into *plan. */
static int link_impl(const char* app_path, const char* target,
                     struct dbs_link_plan* plan, char* err, size_t errlen) {
  char *app = NULL, *dir = NULL;
  const char* base;
  struct stat st;
  bool same = false;
  int rc = 0;

  if ((app = dbs_path_absolute(app_path)) == NULL ||
      split(app, &dir, &base) < 0 || is_target(dir, base, target, &same) < 0) {
    set_err(err, errlen, "out of memory");
    rc = -ENOMEM;
  } else if (same) {
    if (plan != NULL)
      plan->action = DBS_LINK_SAME;
  } else {
    rc = lstat(app, &st) == 0 ? 1 : -errno;
    if (rc == -ENOENT)
      rc = link_missing(app, dir, target, plan, &st, err, errlen);
    else if (rc < 0)
      set_err(err, errlen, "cannot look at %s: %s", app, strerror(-rc));
    if (rc == 1 && S_ISLNK(st.st_mode))
      rc = relink(app, dir, base, target, plan, err, errlen);
    else if (rc == 1 && (rc = refuse_non_file(app, &st, err, errlen)) == 0)
      rc = link_over_file(app, dir, base, target, &st, plan, err, errlen);
  }
  free(app);
  free(dir);
  return rc;
}

int dbs_volume_link(const char* app_path, const char* target, char* err,
                    size_t errlen) {
  return link_impl(app_path, target, NULL, err, errlen);
}

int dbs_volume_link_check(const char* app_path, const char* target,
                          struct dbs_link_plan* plan, char* err,
                          size_t errlen) {
  memset(plan, 0, sizeof(*plan));
  return link_impl(app_path, target, plan, err, errlen);
}

void dbs_volume_link_plan_free(struct dbs_link_plan* plan) {
  free(plan->old);
  free(plan->aside);
  memset(plan, 0, sizeof(*plan));
}

/* Parses "<pid> <hostname>" (buf, NUL-terminated, modified): returns the
 * pid, 0 if there is none, and copies the hostname (maybe empty) into
 * host. */
static pid_t parse_holder(char* buf, char* host, size_t hostlen) {
  char* end;
  long pid = strtol(buf, &end, 10);
  if (pid <= 0 || pid > INT_MAX)
    return 0;
  if (*end == ' ') {
    end++;
    end[strcspn(end, "\n")] = '\0';
    snprintf(host, hostlen, "%s", end);
  }
  return (pid_t)pid;
}

/*
 * Reads "<pid> <hostname>" from an open lock file: returns the pid (0 if
 * none yet) and copies the hostname (maybe empty) into host.
 */
static pid_t read_holder(int fd, char* host, size_t hostlen) {
  char buf[128];
  host[0] = '\0';
  for (int tries = 0; tries < 20; tries++) {
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n > 0) {
      buf[n] = '\0';
      pid_t pid = parse_holder(buf, host, hostlen);
      if (pid > 0)
        return pid;
    }
    /* The holder may be between flock() and write(). */
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

/* The message for a volume lock held by another dbsetup: holder (from the
 * file; else pid, from /proc/locks; else unknown) on host. */
static void held_err(pid_t holder, const char* host, long pid,
                     const char* volume, const char* path, char* err,
                     size_t errlen) {
  char who[128] = "pid unknown";
  if (holder > 0 && host[0] != '\0')
    snprintf(who, sizeof(who), "pid %ld on host %s", (long)holder, host);
  else if (holder > 0)
    snprintf(who, sizeof(who), "pid %ld", (long)holder);
  else if (pid > 0)
    snprintf(who, sizeof(who), "pid %ld", pid);
  set_err(err, errlen,
          "another dbsetup (%s) is using the volume %s: it holds %s. "
          "Only one dbsetup may run per volume; stop the other one first",
          who, volume, path);
}

/* The message for a volume lock that cannot be opened (-errno rc). */
static void lock_open_err(const char* path, int rc, char* err, size_t errlen) {
  set_err(
      err, errlen, "cannot open the volume lock %s: %s%s", path, strerror(-rc),
      (rc == -EACCES || rc == -EROFS) ? " (mount the volume read-write)" : "");
}

/* The message for a volume lock that is a symlink; returns -ELOOP. */
static int lock_symlink_err(const char* path, char* err, size_t errlen) {
  set_err(err, errlen,
          "the volume lock %s is a symbolic link: dbsetup does not "
          "follow it (remove it: dbsetup creates the lock itself)",
          path);
  return -ELOOP;
}

/* The volume lock at path (st from lstat or an O_NOFOLLOW fstat) is a
 * regular file with one name: 0, else -ELOOP, -EINVAL or -EMLINK with a
 * message in err. */
static int check_lock_file(const char* path, const struct stat* st, char* err,
                           size_t errlen) {
  if (S_ISLNK(st->st_mode))
    return lock_symlink_err(path, err, errlen);
  if (!S_ISREG(st->st_mode)) {
    set_err(err, errlen,
            "the volume lock %s is not a regular file (remove it: dbsetup "
            "creates the lock itself)",
            path);
    return -EINVAL;
  }
  return refuse_hardlink(path, st, "the volume lock",
                         "Remove it (dbsetup creates the lock itself)", err,
                         errlen);
}

int dbs_volume_lock(const char* volume, pid_t* holder, char* err,
                    size_t errlen) {
  int fd = -1, rc;
  char* path = dbs_path_join(volume, LOCK_NAME);
  *holder = 0;
  if (path == NULL) {
    set_err(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (lock_fd >= 0) {
    rc = -EALREADY;
    set_err(err, errlen, "this process already holds a volume lock");
    goto fail;
  }
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
  struct stat st;
  if (fd < 0) {
    rc = -errno;
    if (rc == -ELOOP)
      lock_symlink_err(path, err, errlen);
    else
      lock_open_err(path, rc, err, errlen);
    goto fail;
  }
  /* Checked before it is locked, truncated or written. */
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    set_err(err, errlen, "cannot stat the volume lock %s: %s", path,
            strerror(-rc));
    goto fail;
  }
  if ((rc = check_lock_file(path, &st, err, errlen)) < 0)
    goto fail;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    rc = -errno;
    if (rc == -EWOULDBLOCK) {
      char host[64];
      *holder = read_holder(fd, host, sizeof(host));
      held_err(*holder, host, 0, volume, path, err, errlen);
    } else {
      set_err(err, errlen, "cannot lock %s: %s", path, strerror(-rc));
    }
    goto fail;
  }
  /* The hostname tells containers apart: each may be pid 1. */
  char buf[128], host[65] = "";
  if (gethostname(host, sizeof(host) - 1) != 0)
    host[0] = '\0';
  int n = snprintf(buf, sizeof(buf), "%ld%s%s\n", (long)getpid(),
                   host[0] ? " " : "", host);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
    rc = errno ? -errno : -EIO;
    set_err(err, errlen, "cannot write our pid into %s: %s", path,
            strerror(-rc));
    goto fail;
  }
  lock_fd = fd;
  dbs_log_debug("locked %s", path);
  free(path);
  return 0;
fail:
  if (fd >= 0)
    close(fd);
  free(path);
  return rc;
}

/*
 * Who holds a flock on the file st describes, from /proc/locks (flock
 * locks are invisible to fcntl F_GETLK): the pid (> 0), 0 when nobody
 * does, -1 when held by a pid this namespace cannot see, -2 when
 * /proc/locks cannot be read.
 */
static long flock_holder(const struct stat* st) {
  FILE* f = fopen("/proc/locks", "re");
  char line[256];
  long found = 0;
  if (f == NULL)
    return -2;
  while (found == 0 && fgets(line, sizeof(line), f) != NULL) {
    /* "N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE START END"; blocked
     * waiters are "N: -> FLOCK ..." and are skipped. */
    char type[16], kind[16], mode[16];
    long pid;
    unsigned maj, min;
    unsigned long ino;
    const char* q = strchr(line, ':');
    if (q == NULL || strstr(q, "->") != NULL)
      continue;
    if (sscanf(q + 1, " %15s %15s %15s %ld %x:%x:%lu", type, kind, mode, &pid,
               &maj, &min, &ino) != 7 ||
        strcmp(type, "FLOCK") != 0)
      continue;
    if (maj == major(st->st_dev) && min == minor(st->st_dev) &&
        ino == (unsigned long)st->st_ino)
      found = pid > 0 ? pid : -1;
  }
  fclose(f);
  return found;
}

int dbs_volume_lock_check(const char* volume, pid_t* holder, char* err,
                          size_t errlen) {
  struct stat st;
  int rc = 0;
  char* path = dbs_path_join(volume, LOCK_NAME);
  *holder = 0;
  if (path == NULL) {
    set_err(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (lstat(path, &st) != 0) {
    rc = errno == ENOENT ? 0 : -errno; /* created by the boot */
    if (rc != 0)
      set_err(err, errlen, "cannot open the volume lock %s: %s", path,
              strerror(-rc));
    goto out;
  }
  if ((rc = check_lock_file(path, &st, err, errlen)) < 0)
    goto out;
  if (access(path, R_OK | W_OK) != 0) {
    rc = -errno;
    lock_open_err(path, rc, err, errlen);
    goto out;
  }
  long pid = flock_holder(&st);
  if (pid == -2) {
    rc = -ENOSYS;
    set_err(err, errlen,
            "cannot read /proc/locks: whether %s is held is "
            "unknown",
            path);
    goto out;
  }
  if (pid == 0)
    goto out;
  char host[64] = "";
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd >= 0) {
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    if (n > 0) {
      buf[n] = '\0';
      *holder = parse_holder(buf, host, sizeof(host));
    }
  }
  rc = -EWOULDBLOCK;
  held_err(*holder, host, pid, volume, path, err, errlen);
out:
  free(path);
  return rc;
}

void dbs_volume_unlock(void) {
  if (lock_fd >= 0)
    close(lock_fd);
  lock_fd = -1;
}

/* db_state, step 1: the open file fd at target (st) is a regular file
 * with one name. Returns 0 or -errno with a message in err. */
static int check_db_file(const char* target, int fd, struct stat* st, char* err,
                         size_t errlen) {
  int rc;
  if (fstat(fd, st) != 0) {
    rc = -errno;
    set_err(err, errlen, "cannot stat the database %s: %s", target,
            strerror(-rc));
    return rc;
  }
  if (S_ISDIR(st->st_mode)) {
    set_err(err, errlen,
            "the database %s is a directory (move it away, or set --db to a "
            "file name)",
            target);
    return -EISDIR;
  }
  if (!S_ISREG(st->st_mode)) {
    set_err(err, errlen, "the database %s is not a regular file (move it away)",
            target);
    return -EINVAL;
  }
  /* Before a byte is read: the file may be anybody's. */
  return refuse_hardlink(
      target, st, "the database",
      "Give the database a file of its own (cp -p it to a new name, "
      "then mv that over it) or remove the other names",
      err, errlen);
}

/* db_state, step 2a: a zero-byte database is removed (a missing one) unless
 * its -wal has data; with dry it is DBS_DB_EMPTY, left as it is. */
static int empty_db_state(const char* target, bool dry, char* err,
                          size_t errlen) {
  int rc;
  char* wal = cat3(target, "-wal", NULL);
  struct stat wst;
  if (wal == NULL)
    return -ENOMEM;
  bool wal_has_data = stat(wal, &wst) == 0 && wst.st_size > 0;
  free(wal);
  if (wal_has_data) {
    set_err(err, errlen,
            "the database %s is empty but %s-wal beside it is not: SQLite "
            "may still read data from it, so dbsetup touches neither "
            "(inspect them; remove both to start fresh or restore)",
            target, target);
    return -EILSEQ;
  }
  if (dry)
    return DBS_DB_EMPTY;
  if (unlink(target) != 0) {
    rc = -errno;
    set_err(err, errlen, "cannot remove the empty database %s: %s", target,
            strerror(-rc));
    return rc;
  }
  dbs_log_warnx("the database %s was empty (0 bytes): removed it and "
                "treating the database as missing",
                target);
  return DBS_DB_MISSING;
}

/* db_state, step 2b: a database with bytes starts with the SQLite header
 * (DBS_DB_EXISTS), else -EILSEQ with a message in err. */
static int header_db_state(const char* target, int fd, const struct stat* st,
                           char* err, size_t errlen) {
  unsigned char head[16];
  ssize_t n = pread(fd, head, sizeof(head), 0);
  if (n < 0) {
    int rc = -errno;
    set_err(err, errlen, "cannot read the database %s: %s", target,
            strerror(-rc));
    return rc;
  }
  if ((size_t)n == sizeof(head) &&
      memcmp(head, sqlite_header, sizeof(head)) == 0)
    return DBS_DB_EXISTS;
  /* The bytes themselves are never shown: they may be anybody's. */
  set_err(err, errlen,
          "%s is not an SQLite database (first bytes do not match; %lld "
          "bytes): dbsetup will not touch it (move it away, or set --db to "
          "the real database)",
          target, (long long)st->st_size);
  return -EILSEQ;
}

/* dbs_volume_db_state; with dry, an empty file is DBS_DB_EMPTY, left as
 * it is. */
static int db_state(const char* target, bool dry, char* err, size_t errlen) {
  struct stat st;
  int rc;
  /* Never through a symlink: with --user the app user owns the volume and
   * could point the target at any file root can read. */
  int fd =
      open(target, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT)
      return DBS_DB_MISSING;
    rc = -errno;
    if (rc == -ELOOP)
      refuse_symlink(target, err, errlen);
    else
      set_err(err, errlen, "cannot read the database %s: %s", target,
              strerror(-rc));
    return rc;
  }
  if ((rc = check_db_file(target, fd, &st, err, errlen)) == 0)
    rc = st.st_size == 0 ? empty_db_state(target, dry, err, errlen)
                         : header_db_state(target, fd, &st, err, errlen);
  close(fd);
  return rc;
}

int dbs_volume_db_state(const char* target, char* err, size_t errlen) {
  return db_state(target, false, err, errlen);
}

int dbs_volume_db_check(const char* target, char* err, size_t errlen) {
  return db_state(target, true, err, errlen);
}

/* Removes path if present, logging why. Returns 0 or -errno. */
static int remove_logged(const char* path, const char* why) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? 0 : -errno;
  if (unlink(path) != 0)
    return errno == ENOENT ? 0 : -errno;
  dbs_log_info("removed %s (%lld bytes) %s", path, (long long)st.st_size, why);
  return 0;
}

/* Removes target's -wal/-shm/-journal (remove_logged with why), logging
 * "cannot remove <what><path>" for each failure. Returns 0, the first
 * -errno, or -ENOMEM. */
static int remove_sidecars(const char* target, const char* why,
                           const char* what, int rc) {
  for (size_t i = 0; i < NSIDECARS; i++) {
    char* p = cat3(target, sidecars[i], NULL);
    if (p == NULL)
      return -ENOMEM;
    int r = remove_logged(p, why);
    if (r < 0) {
      dbs_log_errorx("cannot remove %s%s: %s", what, p, strerror(-r));
      if (rc == 0)
        rc = r;
    }
    free(p);
  }
  return rc;
}

int dbs_volume_remove_stale(const char* target) {
  struct stat st;
  /* stat, as dbs_volume_db_state: a dangling link is a missing DB. */
  if (stat(target, &st) == 0)
    return -EEXIST;
  if (errno != ENOENT)
    return -errno;
  return remove_sidecars(target, "left beside a missing database", "the stale ",
                         0);
}

int dbs_volume_remove_db(const char* target) {
  int rc = remove_logged(target, "so that the next boot starts fresh");
  if (rc < 0)
    dbs_log_errorx("cannot remove %s: %s", target, strerror(-rc));
  return remove_sidecars(target, "with its database", "", rc);
}

/* nftw has no user pointer: the ids for chown_entry, whether it only
 * checks, and the hard-linked file it found. */
static uid_t walk_uid;
static gid_t walk_gid;
static bool walk_check_only;
static int walk_errno;
static char walk_path[PATH_MAX];
static struct stat walk_st;

static int chown_entry(const char* path, const struct stat* st, int flag,
                       struct FTW* ftw) {
  (void)ftw;
  if (flag == FTW_F && S_ISREG(st->st_mode) && st->st_nlink > 1) {
    snprintf(walk_path, sizeof(walk_path), "%s", path);
    walk_st = *st;
    walk_errno = EMLINK;
    return 1;
  }
  if (walk_check_only)
    return 0;
  if (lchown(path, walk_uid, walk_gid) != 0 && errno != ENOENT) {
    walk_errno = errno;
    return 1;
  }
  return 0;
}

/* lchown path if it exists. Returns 0 or -errno. */
static int lchown_if(const char* path, uid_t uid, gid_t gid) {
  if (lchown(path, uid, gid) != 0 && errno != ENOENT)
    return -errno;
  return 0;
}

#define OWN_FILE_FIX                                                           \
  "Give it a file of its own (cp -p it to a new name, then mv that over "      \
  "it) or remove the other names"

/*
 * Refuses (-EMLINK, message in err) when the database, a sidecar or a file
 * below litestream's metadata directory meta has other names. Runs before
 * the first chown, so a refusal changes nothing.
 */
static int check_hardlinks(const char* tgt, const char* meta, char* err,
                           size_t errlen) {
  struct stat st;
  int rc = 0;
  if (lstat(tgt, &st) == 0 &&
      (rc = refuse_hardlink(tgt, &st, "the database", OWN_FILE_FIX, err,
                            errlen)) < 0)
    return rc;
  for (size_t i = 0; i < NSIDECARS; i++) {
    char* p = cat3(tgt, sidecars[i], NULL);
    if (p == NULL)
      return -ENOMEM;
    if (lstat(p, &st) == 0)
      rc = refuse_hardlink(p, &st, "a file of the database", OWN_FILE_FIX, err,
                           errlen);
    free(p);
    if (rc < 0)
      return rc;
  }
  if (lstat(meta, &st) == 0 && S_ISDIR(st.st_mode)) {
    walk_check_only = true;
    walk_errno = 0;
    int w = nftw(meta, chown_entry, 16, FTW_PHYS);
    walk_check_only = false;
    if (w != 0 && walk_errno == EMLINK)
      return refuse_hardlink(walk_path, &walk_st, "litestream's metadata",
                             "Remove it (litestream makes it again) or the "
                             "other names",
                             err, errlen);
  }
  return 0;
}

/* dbs_volume_chown; with dry, its refusals only (nothing chowned). */
static int chown_impl(const char* volume, const char* target, uid_t uid,
                      gid_t gid, bool dry, char* err, size_t errlen) {
  char *real = NULL, *tgt = NULL, *dir = NULL, *meta = NULL, *p = NULL;
  const char *base, *failed = volume;
  struct stat st;
  int rc;

  if ((real = realpath(volume, NULL)) == NULL) {
    rc = -errno;
    if (dry && rc == -ENOENT) /* the boot creates it, empty */
      rc = 0;
    if (dry)
      goto out;
    goto fail;
  }
  failed = real;
  if ((tgt = dbs_path_absolute(target)) == NULL || split(tgt, &dir, &base) < 0)
    goto nomem;
  /* litestream keeps its shadow WAL in <dir>/.<name>-litestream. */
  if ((p = cat3(".", base, "-litestream")) == NULL ||
      (meta = dbs_path_join(dir, p)) == NULL)
    goto nomem;
  if ((rc = check_hardlinks(tgt, meta, err, errlen)) < 0) {
    if (rc == -ENOMEM)
      goto nomem;
    goto out;
  }
  if (dry)
    goto out; /* rc is 0 */
  if (chown(real, uid, gid) != 0) {
    rc = -errno;
    goto fail;
  }
  /* Directories between the volume and the target, each lchown'd. */
  if (dbs_path_is_within(dir, real) && strcmp(dir, real) != 0) {
    for (char* s = dir + strlen(real) + 1;; s++) {
      if (*s != '/' && *s != '\0')
        continue;
      char c = *s;
      *s = '\0';
      failed = dir;
      if ((rc = lchown_if(dir, uid, gid)) < 0)
        goto fail;
      *s = c;
      if (c == '\0')
        break;
    }
  }
  failed = tgt;
  if ((rc = lchown_if(tgt, uid, gid)) < 0)
    goto fail;
  for (size_t i = 0; i < NSIDECARS; i++) {
    free(p);
    if ((p = cat3(tgt, sidecars[i], NULL)) == NULL)
      goto nomem;
    failed = p;
    if ((rc = lchown_if(p, uid, gid)) < 0)
      goto fail;
  }
  if (lstat(meta, &st) == 0 && S_ISDIR(st.st_mode)) {
    walk_uid = uid;
    walk_gid = gid;
    walk_errno = 0;
    failed = meta;
    if (nftw(meta, chown_entry, 16, FTW_PHYS) != 0) {
      rc = walk_errno ? -walk_errno : -EIO;
      if (rc == -EMLINK) { /* appeared since the check */
        refuse_hardlink(walk_path, &walk_st, "litestream's metadata",
                        "Remove it (litestream makes it again) or the other "
                        "names",
                        err, errlen);
        goto out;
      }
      goto fail;
    }
  }
  dbs_log_debug("chowned %s and the database files to %ld:%ld", real, (long)uid,
                (long)gid);
  rc = 0;
  goto out;
nomem:
  rc = -ENOMEM;
  set_err(err, errlen, "out of memory");
  goto out;
fail:
  set_err(err, errlen, "cannot chown %s to %ld:%ld: %s", failed, (long)uid,
          (long)gid, strerror(-rc));
out:
  free(real);
  free(tgt);
  free(dir);
  free(meta);
  free(p);
  return rc;
}

int dbs_volume_chown(const char* volume, const char* target, uid_t uid,
                     gid_t gid, char* err, size_t errlen) {
  return chown_impl(volume, target, uid, gid, false, err, errlen);
}

int dbs_volume_chown_check(const char* volume, const char* target, char* err,
                           size_t errlen) {
  return chown_impl(volume, target, 0, 0, true, err, errlen);
}
