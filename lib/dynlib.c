/* libcurl and libcrypto loaded with dlopen on first use (see dynlib.h). */
#include "dynlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include "log.h"

/* A symbol name and where in the table its address goes. */
struct sym {
  const char* name;
  size_t offset;
};

/* One library: loaded once, its table filled, rc remembered. */
struct lib {
  const char* soname;
  const char* package;
  const char* user; /* what needs it, for the message */
  const struct sym* syms;
  size_t nsyms;
  void* table;
  pthread_once_t once;
  int rc;
};

#define SYM(type, field, name)                                                 \
  { name, offsetof(type, field) }

static const struct sym curl_syms[] = {
    SYM(struct dbs_dynlib_curl, global_init, "curl_global_init"),
    SYM(struct dbs_dynlib_curl, easy_init, "curl_easy_init"),
    SYM(struct dbs_dynlib_curl, easy_cleanup, "curl_easy_cleanup"),
    SYM(struct dbs_dynlib_curl, easy_reset, "curl_easy_reset"),
    SYM(struct dbs_dynlib_curl, easy_setopt, "curl_easy_setopt"),
    SYM(struct dbs_dynlib_curl, easy_getinfo, "curl_easy_getinfo"),
    SYM(struct dbs_dynlib_curl, easy_perform, "curl_easy_perform"),
    SYM(struct dbs_dynlib_curl, easy_strerror, "curl_easy_strerror"),
    SYM(struct dbs_dynlib_curl, slist_append, "curl_slist_append"),
    SYM(struct dbs_dynlib_curl, slist_free_all, "curl_slist_free_all"),
};

static const struct sym crypto_syms[] = {
    SYM(struct dbs_dynlib_crypto, evp_sha256, "EVP_sha256"),
    SYM(struct dbs_dynlib_crypto, evp_digest, "EVP_Digest"),
    SYM(struct dbs_dynlib_crypto, hmac, "HMAC"),
    SYM(struct dbs_dynlib_crypto, cleanse, "OPENSSL_cleanse"),
};

static struct dbs_dynlib_curl curl_table;
static struct dbs_dynlib_crypto crypto_table;

static struct lib curl_lib = {
    .soname = DBS_DYNLIB_CURL_SONAME,
    .package = DBS_DYNLIB_CURL_PACKAGE,
    .user = "S3 replicas need libcurl",
    .syms = curl_syms,
    .nsyms = sizeof(curl_syms) / sizeof(curl_syms[0]),
    .table = &curl_table,
    .once = PTHREAD_ONCE_INIT,
};

static struct lib crypto_lib = {
    .soname = DBS_DYNLIB_CRYPTO_SONAME,
    .package = DBS_DYNLIB_CRYPTO_PACKAGE,
    .user = "S3 signing and Prisma migration checksums need libcrypto",
    .syms = crypto_syms,
    .nsyms = sizeof(crypto_syms) / sizeof(crypto_syms[0]),
    .table = &crypto_table,
    .once = PTHREAD_ONCE_INIT,
};

/* Fills l->table, or logs why not; never unloads what it loaded, since the
 * table handed out must stay valid until exit. */
static void load(struct lib* l) {
  void* h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char* why = dlerror();
    dbs_log_errorx("%s: cannot load %s (%s): install %s (Debian)", l->user,
                   l->soname, why ? why : "not found", l->package);
    l->rc = -ELIBACC;
    return;
  }
  for (size_t i = 0; i < l->nsyms; i++) {
    void* f = dlsym(h, l->syms[i].name);
    if (f == NULL) {
      dbs_log_errorx("%s: %s has no %s (too old?): install a current %s "
                     "(Debian)",
                     l->user, l->soname, l->syms[i].name, l->package);
      l->rc = -ELIBACC;
      return; /* h stays open: harmless, and dlclose could run its
                 destructors half-initialised */
    }
    /* POSIX guarantees a data pointer from dlsym converts to a function
     * pointer; copy the representation into the table's slot. */
    *(void**)((char*)l->table + l->syms[i].offset) = f;
  }
  l->rc = 0;
}

static void load_curl(void) {
  load(&curl_lib);
}
static void load_crypto(void) {
  load(&crypto_lib);
}

int dbs_dynlib_curl(const struct dbs_dynlib_curl** out) {
  pthread_once(&curl_lib.once, load_curl);
  *out = curl_lib.rc == 0 ? &curl_table : NULL;
  return curl_lib.rc;
}

int dbs_dynlib_crypto(const struct dbs_dynlib_crypto** out) {
  pthread_once(&crypto_lib.once, load_crypto);
  *out = crypto_lib.rc == 0 ? &crypto_table : NULL;
  return crypto_lib.rc;
}
