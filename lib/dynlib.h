/*
 * libcurl and libcrypto loaded on first use (dlopen), so that a supervisor
 * that never talks to S3 maps neither them nor their ~30 dependencies.
 * The headers still give the types and constants, at compile time only.
 */
#ifndef DBS_DYNLIB_H
#define DBS_DYNLIB_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* The sonames and the Debian packages that install them, for messages. */
#define DBS_DYNLIB_CURL_SONAME "libcurl.so.4"
#define DBS_DYNLIB_CURL_PACKAGE "libcurl4"
#define DBS_DYNLIB_CRYPTO_SONAME "libcrypto.so.3"
#define DBS_DYNLIB_CRYPTO_PACKAGE "libssl3"

/*
 * The libcurl functions dbsetup calls. __typeof__ of the declarations keeps
 * each pointer's type exactly the header's (a function-like macro such as
 * curl's type-checking curl_easy_setopt does not expand without a '(').
 */
struct dbs_dynlib_curl {
  __typeof__(curl_global_init)* global_init;
  __typeof__(curl_easy_init)* easy_init;
  __typeof__(curl_easy_cleanup)* easy_cleanup;
  __typeof__(curl_easy_reset)* easy_reset;
  __typeof__(curl_easy_setopt)* easy_setopt;
  __typeof__(curl_easy_getinfo)* easy_getinfo;
  __typeof__(curl_easy_perform)* easy_perform;
  __typeof__(curl_easy_strerror)* easy_strerror;
  __typeof__(curl_slist_append)* slist_append;
  __typeof__(curl_slist_free_all)* slist_free_all;
};

/* The libcrypto functions dbsetup calls (SHA-256 and HMAC-SHA-256). */
struct dbs_dynlib_crypto {
  __typeof__(EVP_sha256)* evp_sha256;
  __typeof__(EVP_Digest)* evp_digest;
  __typeof__(HMAC)* hmac;
  __typeof__(OPENSSL_cleanse)* cleanse;
};

/*
 * Loads libcurl.so.4 once per process (thread-safe) and resolves every
 * function of struct dbs_dynlib_curl. Sets *out to a table that lives until
 * exit (never freed) and returns 0; or returns -ELIBACC when the library
 * or a symbol is missing, after logging once an error that names the
 * Debian package to install. curl_global_init is the caller's business.
 */
int dbs_dynlib_curl(const struct dbs_dynlib_curl** out);

/* The same for libcrypto.so.3 and struct dbs_dynlib_crypto. */
int dbs_dynlib_crypto(const struct dbs_dynlib_crypto** out);

#endif
