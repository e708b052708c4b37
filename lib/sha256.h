/*
 * SHA-256 (FIPS 180-4) for Prisma migration checksums, so that a boot that
 * only migrates never maps libcrypto: OpenSSL 3 pins itself in memory once
 * loaded (dlclose does not unmap it) and its first digest leaves ~3 MB
 * resident in the supervisor. Not for secrets: SigV4 keeps libcrypto.
 */
#ifndef DBS_SHA256_H
#define DBS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define DBS_SHA256_LEN 32

/* Streaming state; fill with dbs_sha256_init. */
struct dbs_sha256 {
  uint32_t h[8];
  uint64_t len; /* bytes hashed so far */
  unsigned char block[64];
  size_t used; /* bytes waiting in block */
};

/* Starts a digest. */
void dbs_sha256_init(struct dbs_sha256* s);

/* Hashes n more bytes of data. */
void dbs_sha256_update(struct dbs_sha256* s, const void* data, size_t n);

/* Writes the digest of everything hashed into out and clears s. */
void dbs_sha256_final(struct dbs_sha256* s, unsigned char out[DBS_SHA256_LEN]);

/* The digest of n bytes at data, in one call. */
void dbs_sha256(const void* data, size_t n, unsigned char out[DBS_SHA256_LEN]);

#endif
