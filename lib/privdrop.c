/* --user: resolve USER[:GROUP] and switch a child to that identity. */
#define _GNU_SOURCE /* O_PATH */
#include "privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/*
 * Parses a decimal id. Returns 0; -EINVAL when s is not a number (so it is
 * a name); -ERANGE for a number that is no valid id (-1 is "no change" to
 * setuid, so 2^32-1 is refused too).
 */
static int parse_id(const char* s, unsigned long* out) {
  char* end;
  if (*s < '0' || *s > '9')
    return -EINVAL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0')
    return -EINVAL;
  if (errno != 0 || v >= (unsigned long)UINT_MAX)
    return -ERANGE;
  *out = v;
  return 0;
}

int dbs_privdrop_resolve(const char* spec, struct dbs_creds* out) {
  char user[256], *group = NULL;
  unsigned long id = 0;
  struct passwd* pw;
  int have_gid = 0;

  memset(out, 0, sizeof(*out));
  if (spec == NULL || *spec == '\0' || strlen(spec) >= sizeof(user))
    goto malformed;
  strcpy(user, spec);
  char* colon = strchr(user, ':');
  if (colon != NULL) {
    *colon = '\0';
    group = colon + 1;
    if (*group == '\0' || *user == '\0' || strchr(group, ':') != NULL)
      goto malformed;
  }

  int urc = parse_id(user, &id);
  unsigned long gid_num = 0;
  int grc = group != NULL ? parse_id(group, &gid_num) : -EINVAL;
  if (urc == -ERANGE || grc == -ERANGE)
    goto malformed;
  if (urc == 0) {
    out->uid = (uid_t)id;
    pw = getpwuid(out->uid);
  } else {
    pw = getpwnam(user);
    if (pw == NULL) {
      dbs_log_errorx("--user: no user named '%s' in /etc/passwd (use a "
                     "numeric uid or add the user to the image)",
                     user);
      return -ENOENT;
    }
    out->uid = pw->pw_uid;
  }
  if (pw != NULL) {
    out->gid = pw->pw_gid;
    have_gid = 1;
    out->home = strdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
    out->name = strdup(pw->pw_name);
  } else {
    out->home = strdup("/");
    char buf[32];
    snprintf(buf, sizeof(buf), "%lu", (unsigned long)out->uid);
    out->name = strdup(buf);
  }
  if (out->home == NULL || out->name == NULL)
    goto nomem;

  if (group != NULL) {
    if (grc == 0) {
      out->gid = (gid_t)gid_num;
    } else {
      struct group* gr = getgrnam(group);
      if (gr == NULL) {
        dbs_log_errorx("--user: no group named '%s' in /etc/group (use a "
                       "numeric gid)",
                       group);
        dbs_privdrop_free(out);
        return -ENOENT;
      }
      out->gid = gr->gr_gid;
    }
    have_gid = 1;
  }
  if (!have_gid)
    out->gid = (gid_t)out->uid; /* never fall back to gid 0 */

  /* Supplementary groups only come with a passwd entry and no explicit
   * group: an explicit group means exactly that group. */
  if (pw != NULL && group == NULL) {
    int n = 32;
    for (;;) {
      gid_t* g = calloc((size_t)n, sizeof(gid_t));
      if (g == NULL)
        goto nomem;
      int got = n;
      if (getgrouplist(out->name, out->gid, g, &got) >= 0) {
        out->groups = g;
        out->ngroups = (size_t)got;
        break;
      }
      free(g);
      if (got <= n || got > 65536)
        break;
      n = got;
    }
  }
  return 0;
malformed:
  dbs_log_errorx("--user '%s': expected USER[:GROUP], names or numeric ids "
                 "(e.g. --user node or --user 1000:1000)",
                 spec ? spec : "");
  return -EINVAL;
nomem:
  dbs_privdrop_free(out);
  return -ENOMEM;
}

void dbs_privdrop_free(struct dbs_creds* creds) {
  free(creds->groups);
  free(creds->home);
  free(creds->name);
  memset(creds, 0, sizeof(*creds));
}

int dbs_privdrop_apply(const struct dbs_creds* creds) {
  gid_t one = creds->gid;
  const gid_t* groups = creds->ngroups > 0 ? creds->groups : &one;
  size_t n = creds->ngroups > 0 ? creds->ngroups : 1;
  /* Not root and already that identity: nothing to drop (setgroups would
   * fail with EPERM). */
  if (geteuid() != 0 && getuid() == creds->uid && geteuid() == creds->uid &&
      getgid() == creds->gid && getegid() == creds->gid)
    return 0;
  if (setgroups(n, groups) != 0)
    return -errno;
  if (setgid(creds->gid) != 0)
    return -errno;
  if (setuid(creds->uid) != 0)
    return -errno;
  if (getuid() != creds->uid || geteuid() != creds->uid ||
      getgid() != creds->gid || getegid() != creds->gid)
    return -EPERM;
  /* A dropped root must not be able to come back. */
  if (creds->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
    return -EPERM;
  if (creds->uid != 0 && creds->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
    return -EPERM;
  return 0;
}

int dbs_privdrop_check(const struct dbs_creds* creds) {
  if (geteuid() == 0)
    return 0;
  if (getuid() == creds->uid && getgid() == creds->gid)
    return 0;
  dbs_log_errorx("--user %s needs root: dbsetup runs as uid %ld gid %ld and "
                 "cannot switch to uid %ld gid %ld (start the container as "
                 "root, or drop --user and set the image's USER instead)",
                 creds->name ? creds->name : "?", (long)getuid(),
                 (long)getgid(), (long)creds->uid, (long)creds->gid);
  return -EPERM;
}

int dbs_privdrop_open_std_fds(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
      continue;
    /* The lowest free fd: this one, as every lower one is open. */
    int nfd = open("/dev/null", O_RDWR | O_NOCTTY);
    if (nfd < 0)
      nfd = open("/", O_PATH | O_DIRECTORY);
    if (nfd < 0)
      return -errno;
    if (nfd != fd) {
      int rc = dup2(nfd, fd) < 0 ? -errno : 0;
      close(nfd);
      if (rc < 0)
        return rc;
    }
  }
  return 0;
}

#define SELF_EXE "/proc/self/exe"

/* True when the executable's mode makes exec switch ids (setgid without
 * group execute is the old mandatory-locking mark, not setgid). */
static bool exe_mode_setid(mode_t m) {
  return (m & S_ISUID) != 0 || (m & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
}

int dbs_privdrop_check_not_setuid(void) {
  /* AT_SECURE also covers file capabilities and setgid. */
  if (getuid() != geteuid() || getgid() != getegid() ||
      getauxval(AT_SECURE) != 0)
    return -EPERM;
  /* Root running a setuid-root copy: the ids agree, the file is still a
   * way in for everybody else. Without /proc the check above must do. */
  struct stat st;
  if (stat(SELF_EXE, &st) == 0 && exe_mode_setid(st.st_mode))
    return -EPERM;
  return 0;
}

void dbs_privdrop_log_setuid(void) {
  char path[PATH_MAX] = "the dbsetup binary";
  struct stat st;
  ssize_t n = readlink(SELF_EXE, path, sizeof(path) - 1);
  if (n > 0)
    path[n] = '\0';
  if (stat(SELF_EXE, &st) == 0 && exe_mode_setid(st.st_mode))
    dbs_log_errorx("%s is installed setuid or setgid (mode %04o): refusing "
                   "to run, subcommands included (remove the setuid bit: "
                   "chmod u-s,g-s %s; use --user to run the app as another "
                   "user)",
                   path, (unsigned)(st.st_mode & 07777), path);
  else
    dbs_log_errorx("dbsetup runs with other effective ids than its real ones "
                   "(installed setuid or setgid, or with file capabilities): "
                   "refusing to run, subcommands included (remove the setuid "
                   "bit: chmod u-s,g-s %s, and its capabilities: setcap -r "
                   "%s; use --user to run the app as another user)",
                   path, path);
}
