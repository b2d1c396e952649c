/*
 * fuzz_jwt.c
 *		libFuzzer target for JWT verification: any input, as a token for an
 *		HS256 and an ES256 verifier, never crashes or reads past its end; a
 *		refusal always says why and leaves no role; nothing unsigned passes.
 *		The input is also signed here as a payload, so that the claims
 *		checks run on whatever the fuzzer makes: an accepted one has a role
 *		of 1 to JWT_MAX_ROLE bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base64.h"
#include "jwt.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzzing-secret-of-at-least-32-bytes!!";

/* An ES256 key made once. */
static void *
es_key(void)
{
	static void *key = NULL;

	if (key == NULL)
	{
		EVP_PKEY   *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		BIO		   *bio = BIO_new(BIO_s_mem());
		char	   *pem;
		long		len;
		char		why[256];

		PEM_write_bio_PUBKEY(bio, pkey);
		len = BIO_get_mem_data(bio, &pem);
		key = jwt_load_public_key(JWT_ES256, pem, (size_t) len, why, sizeof(why));
		BIO_free(bio);
		EVP_PKEY_free(pkey);
		if (key == NULL)
			__builtin_trap();
	}
	return key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *token = malloc(size ? size : 1);
	JwtKey		hs = {JWT_HS256, (const uint8_t *) secret, sizeof(secret) - 1, NULL};
	JwtKey		es = {JWT_ES256, NULL, 0, es_key()};
	JwtCheck	check = {1800000000LL, 30, "iss", "aud", "a.\"b.c\".role"};
	char		role[JWT_MAX_ROLE + 1];
	char		why[256];

	if (token == NULL)
		return 0;
	memcpy(token, data, size);
	for (int i = 0; i < 2; i++)
	{
		why[0] = '\0';
		if (jwt_verify(i == 0 ? &hs : &es, &check, token, size, role, NULL, why, sizeof(why)))
			__builtin_trap();	/* a forged signature: cannot happen */
		if (why[0] == '\0' || role[0] != '\0')
			__builtin_trap();
	}
	free(token);

	/* the input as the payload of a correctly signed HS256 token */
	if (size < 4096)
	{
		static const char header[] = "eyJhbGciOiJIUzI1NiJ9";	/* {"alg":"HS256"} */
		char	   *signed_tok = malloc(sizeof(header) + BASE64URL_ENCODED_LEN(size) + 64);
		unsigned char mac[32];
		unsigned int mac_len;
		size_t		n;

		if (signed_tok == NULL)
			return 0;
		strcpy(signed_tok, header);
		n = strlen(signed_tok);
		signed_tok[n++] = '.';
		n += base64url_encode(data, size, signed_tok + n);
		HMAC(EVP_sha256(), secret, sizeof(secret) - 1, (unsigned char *) signed_tok, n, mac, &mac_len);
		signed_tok[n++] = '.';
		n += base64url_encode(mac, mac_len, signed_tok + n);
		check.issuer = NULL;
		check.audience = size % 2 ? "aud" : NULL;
		if (jwt_verify(&hs, &check, signed_tok, n, role, NULL, why, sizeof(why)))
		{
			if (role[0] == '\0' || strlen(role) > JWT_MAX_ROLE)
				__builtin_trap();
		}
		else if (why[0] == '\0' || role[0] != '\0')
			__builtin_trap();
		free(signed_tok);
	}
	return 0;
}
