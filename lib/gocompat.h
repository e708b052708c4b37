/*
 * Go standard library behaviour that litestream's config reading relies on,
 * rewritten in C so that dbsetup reads a litestream.yml byte for byte as
 * litestream does: os.ExpandEnv, net/url's Parse, URL.EscapedPath,
 * PathUnescape and Values.Get, net.SplitHostPort, time.ParseDuration.
 * Each function names the Go function it mirrors and where it differs.
 * (Go's path.Clean is dbs_strbuf_path_clean.)
 */
#ifndef DBS_GOCOMPAT_H
#define DBS_GOCOMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * os.ExpandEnv on s[0..n) (any bytes, NUL included): $VAR and ${VAR}
 * expand to the variable, unset is empty, ${VAR:-x} looks up the name
 * "VAR:-x", $$ $1 $* ${1} are empty, "${}" vanishes, an unterminated "${"
 * is dropped, a '$' followed by anything else (or at the end) stays.
 * Returns a NUL-terminated string the caller frees, its length in *outlen
 * (outlen may be NULL); NULL on ENOMEM. When linemap is not NULL, also
 * returns in *linemap (malloc'd, the caller frees it) for each of the
 * *nlines output lines the input line it came from, both 0-based.
 */
char* dbs_go_expand_env(const char* s, size_t n, size_t* outlen,
                        unsigned** linemap, size_t* nlines);

/* net/url's URL, reduced to what replica URLs use. All strings owned. */
struct dbs_go_url {
  char* scheme;  /* lowercased, or NULL */
  char* user;    /* userinfo before '@', raw, or NULL */
  char* host;    /* host[:port], decoded, or NULL */
  char* path;    /* decoded path ("" when none); NULL for an opaque URL */
  char* rawpath; /* path as written; NULL for an opaque URL */
  char* opaque;  /* for "scheme:opaque", else NULL */
  char* query;   /* raw query after '?', or NULL */
};

/*
 * url.Parse of s, with the same refusals and messages ("parse URL:
 * net/url: invalid control character in URL", "invalid URL escape ...",
 * "invalid port ..." and so on, without Go's quoting of the URL). The
 * fragment is checked and dropped. Returns 0, -EINVAL with a message in
 * err (size errlen), or -ENOMEM; on failure *u is empty. The caller frees
 * *u with dbs_go_url_free, on success and on failure.
 */
int dbs_go_url_parse(const char* s, struct dbs_go_url* u, char* err,
                     size_t errlen);

/* Frees what u holds and zeroes it. */
void dbs_go_url_free(struct dbs_go_url* u);

/*
 * URL.EscapedPath of a parsed, non-opaque u: the path as written when it
 * is a valid encoding of the path, else the decoded path escaped again.
 * Returns a string the caller frees, or NULL on ENOMEM.
 */
char* dbs_go_url_escaped_path(const struct dbs_go_url* u);

/*
 * url.PathUnescape of s[0..n): %XX decoded, '+' kept. Returns a string the
 * caller frees; NULL with *bad set on a bad escape, NULL alone on ENOMEM.
 */
char* dbs_go_url_unescape(const char* s, size_t n, bool* bad);

/*
 * url.ParseQuery(q).Get(key) as Go 1.17 and later give it (litestream
 * 0.3.13 and 0.5.x are built with such a Go; 0.3 does not read the query):
 * pairs are separated by '&' only, a pair holding ';' is dropped whole,
 * keys and values are decoded ('+' is a space, %XX), a pair with a bad
 * escape is dropped, a query of more than 10,000 pairs is dropped whole
 * (Go 1.24 and later). Returns the first value of key, or NULL when there
 * is none or it is empty (litestream 0.5 treats both alike). Returns a
 * string the caller frees; NULL with *oom set on ENOMEM.
 */
char* dbs_go_query_get(const char* q, const char* key, bool* oom);

/*
 * net.SplitHostPort of hostport: "host:port" or "[host]:port" into *host
 * and *port (both owned by the caller). Returns 0, -EINVAL when hostport
 * is not of that form (no port, too many colons; *host and *port NULL),
 * or -ENOMEM.
 */
int dbs_go_split_host_port(const char* hostport, char** host, char** port);

/*
 * time.ParseDuration of s into *ns, saturating at INT64_MAX instead of
 * Go's overflow error (no sane config reaches it). Returns false when s is
 * not a duration.
 */
bool dbs_go_parse_duration(const char* s, int64_t* ns);

#endif
