/*-------------------------------------------------------------------------
 *
 * base64.h
 *		base64url without padding (RFC 4648 section 5), as session tokens
 *		use it, on top of OpenSSL's base64 (EVP_EncodeBlock/EVP_DecodeBlock).
 *
 * OpenSSL speaks only the standard alphabet with padding, and its decoder
 * is lax: it skips surrounding whitespace and accepts '=' anywhere and
 * non-zero unused bits.  This wrapper adds the URL alphabet, drops the
 * padding and decodes strictly: only the 64 characters of the alphabet, and
 * only the one canonical encoding of each byte string is accepted.
 *
 * src/lib/base64.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_BASE64_H
#define PGDASH_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the unpadded base64url encoding of len bytes (no NUL). */
#define BASE64URL_ENCODED_LEN(len) \
	((len) / 3 * 4 + ((len) % 3 == 0 ? 0 : (len) % 3 + 1))

/* The most bytes decoded from len characters. */
#define BASE64URL_DECODED_MAX(len) ((len) / 4 * 3 + 2)

/*
 * Encodes len bytes into out, which must hold BASE64URL_ENCODED_LEN(len) + 1
 * bytes; out is NUL-terminated.  Returns the encoded length.
 */
extern size_t base64url_encode(const void *in, size_t len, char *out);

/*
 * Decodes len characters of unpadded base64url into out, which must hold
 * BASE64URL_DECODED_MAX(len) bytes, and sets *out_len.  Returns false (out
 * contents unspecified) unless the input is the canonical encoding of some
 * byte string.
 */
extern bool base64url_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);

#endif							/* PGDASH_BASE64_H */
