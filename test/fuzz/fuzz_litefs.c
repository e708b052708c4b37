/*
 * What lib/litefs.c reads from outside: mountinfo lines, litefs.yml (with
 * LiteFS's $VAR / ${A == B} expansion) and the JSON body of LiteFS's
 * GET /info.
 *
 * Input: NUL-separated sections: a mountinfo line, a litefs.yml, an /info
 * body, a string to expand (0x01 stands for NUL in the file). Checked: the
 * documented results only; a LiteFS mount has a non-empty directory no
 * longer than the line; a loaded config has every string set; an accepted
 * /info leaves primary_hostname terminated; the expansion of a string
 * without '$' is the string itself.
 */
#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "litefs.h"

static void setup(void) {
  fuzz_scratch_dir("litefs");
  setenv("FUZZ_A", "iad", 1);
  setenv("FUZZ_B", "iad", 1);
}

FUZZ_INITIALIZE(setup)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 16))
    return 0;
  struct fuzz_parts parts;
  fuzz_split(data, size, &parts);

  const char* line = fuzz_part(&parts, 0);
  char* dir = NULL;
  bool ao;
  int r = dbs_litefs_mountinfo_line(line, &dir, &ao);
  FUZZ_CHECK(r == 0 || r == 1 || r == -EINVAL || r == -ENOMEM);
  if (r == 1) {
    FUZZ_CHECK(dir != NULL && strlen(dir) <= strlen(line));
    FUZZ_CHECK(dir[0] != '\0');
  } else {
    FUZZ_CHECK(dir == NULL);
  }
  free(dir);

  if (parts.n > 1) {
    fuzz_soh_to_nul(parts.p[1], parts.len[1]);
    fuzz_write_file("litefs.yml", parts.p[1], parts.len[1]);
    struct dbs_litefs_config c;
    char err[1024];
    r = dbs_litefs_config_load("litefs.yml", &c, err, sizeof(err));
    FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM || r == -EIO);
    if (r == 0) {
      FUZZ_CHECK(c.path != NULL && c.fuse_dir != NULL && c.data_dir != NULL &&
                 c.http_addr != NULL && c.lease_type != NULL);
      char api[128];
      (void)dbs_litefs_api_addr(c.http_addr, api, sizeof(api));
      char derr[2048];
      (void)dbs_litefs_refuse_setup("/litefs/db", "/data", true, NULL, 0, &c,
                                    derr, sizeof(derr));
      dbs_litefs_config_free(&c);
    } else if (r == -EINVAL) {
      FUZZ_CHECK(err[0] != '\0');
    }
  }

  const char* info = fuzz_part(&parts, 2);
  struct dbs_litefs_info i;
  r = dbs_litefs_parse_info(info, parts.n > 2 ? parts.len[2] : 0, &i);
  FUZZ_CHECK(r == 0 || r == -EINVAL);
  if (r == 0)
    FUZZ_CHECK(memchr(i.primary_hostname, '\0', sizeof(i.primary_hostname)) !=
               NULL);

  const char* s = fuzz_part(&parts, 3);
  char* e = dbs_litefs_expand_env(s);
  FUZZ_CHECK(e != NULL);
  if (strchr(s, '$') == NULL)
    FUZZ_CHECK(strcmp(e, s) == 0);
  free(e);
  fuzz_parts_free(&parts);
  return 0;
}
