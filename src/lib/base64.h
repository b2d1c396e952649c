/*-------------------------------------------------------------------------
 *
 * base64.h
 *		Base64 and base64url encoding and decoding (RFC 4648), pure C.
 *
 * base64 uses the standard alphabet with '=' padding (RFC 4648 section 4);
 * base64url uses the URL and filename safe alphabet without padding
 * (section 5), as used for session tokens.  Decoders are strict: no
 * whitespace, no characters outside the alphabet, and the unused bits of the
 * last character must be zero, so every byte string has exactly one accepted
 * encoding.
 *
 * src/lib/base64.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_BASE64_H
#define PGDASH_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the padded base64 encoding of len bytes (no NUL); SIZE_MAX on overflow. */
extern size_t base64_encoded_len(size_t len);

/* Length of the unpadded base64url encoding of len bytes (no NUL); SIZE_MAX on overflow. */
extern size_t base64url_encoded_len(size_t len);

/* An upper bound on the bytes decoded from len characters (either alphabet). */
extern size_t base64_decoded_max(size_t len);

/*
 * Encodes len bytes into out, which must hold base64_encoded_len(len) + 1
 * bytes; out is NUL-terminated.  Returns the encoded length.
 */
extern size_t base64_encode(const void *in, size_t len, char *out);

/* As base64_encode, with the base64url alphabet and no padding. */
extern size_t base64url_encode(const void *in, size_t len, char *out);

/*
 * Decodes len characters of padded base64 into out, which must hold
 * base64_decoded_max(len) bytes; sets *out_len.  Returns false (out
 * contents unspecified) if the input is not canonical padded base64.
 */
extern bool base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);

/* As base64_decode, for unpadded base64url ('=' is rejected). */
extern bool base64url_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);

/*
 * Returns a malloc'd, NUL-terminated encoding of len bytes (base64url without
 * padding if url, else padded base64), or NULL if allocation fails.  The
 * caller frees it.
 */
extern char *base64_encode_alloc(const void *in, size_t len, bool url);

#endif							/* PGDASH_BASE64_H */
