/*
 * jwt.h
 *		Verifying a JSON Web Token (RFC 7519, compact JWS) with OpenSSL's
 *		libcrypto: HS256, RS256 or ES256, the algorithm fixed by the caller,
 *		never taken from the token.
 *
 * PostgreSQL-independent (libc, libcrypto, cJSON): unit-tested and fuzzed
 * on its own.  cJSON allocates through whatever hooks the process installed.
 */
#ifndef PGDASH_JWT_H
#define PGDASH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum
{
	JWT_HS256,
	JWT_RS256,
	JWT_ES256
} JwtAlg;

/* The longest token read; longer ones are refused before any parsing. */
#define JWT_MAX_TOKEN 16384

/* The longest role name a claim may give (PostgreSQL's NAMEDATALEN - 1). */
#define JWT_MAX_ROLE 63

/* How a token must be signed: the algorithm and its key. */
typedef struct JwtKey
{
	JwtAlg		alg;
	const uint8_t *secret;		/* HS256: the shared secret */
	size_t		secret_len;
	void	   *public_key;		/* RS256/ES256: an EVP_PKEY from jwt_load_public_key */
} JwtKey;

/* What the claims must say. */
typedef struct JwtCheck
{
	int64_t		now;			/* seconds since the epoch */
	int			leeway;			/* seconds of clock skew allowed for exp and nbf */
	const char *issuer;			/* "iss" must equal it; NULL or "": not checked */
	const char *audience;		/* "aud" (a string or an array) must hold it;
								 * NULL or "": not checked */
	const char *role_claim;		/* path of the role claim: names separated by
								 * dots, a name in double quotes may hold dots
								 * ("https://example.com/claims".role) */
} JwtCheck;

/* The HS256 secret's minimum length (RFC 7518 3.2: at least the hash size). */
#define JWT_MIN_SECRET 32

/*
 * Verifies a compact token: three base64url parts, a header whose "alg" is
 * exactly the key's algorithm (so "none" and HS/RS confusion are refused)
 * and that names no "crit" extension, a valid signature, an "exp" that has
 * not passed, an "nbf" that has, the issuer and audience asked for, and a
 * role claim that is a non-empty string of at most JWT_MAX_ROLE bytes,
 * copied into role; *expires (when not NULL) gets its "exp" in seconds
 * since the epoch.  False with why (a sentence) otherwise.
 */
extern bool jwt_verify(const JwtKey *key, const JwtCheck *check,
					   const char *token, size_t len,
					   char *role, int64_t *expires, char *why, size_t why_size);

/*
 * Reads a PEM public key ("BEGIN PUBLIC KEY") for the algorithm: an RSA key
 * of at least 2048 bits for RS256, a P-256 key for ES256.  NULL with why
 * otherwise.  jwt_free_public_key() frees it.
 */
extern void *jwt_load_public_key(JwtAlg alg, const char *pem, size_t len,
								 char *why, size_t why_size);
extern void jwt_free_public_key(void *key);

/* The algorithm's name in a token's header ("HS256", ...). */
extern const char *jwt_alg_name(JwtAlg alg);

#endif							/* PGDASH_JWT_H */
