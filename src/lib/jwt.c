/*
 * jwt.c
 *		Verifies JSON Web Tokens (compact JWS) with OpenSSL's libcrypto.
 *
 * The algorithm is the caller's, never the token's: the header's "alg"
 * must name exactly the configured one, so a token saying "none", or "HS256"
 * to have an RSA public key used as an HMAC secret, is refused before any
 * cryptography runs.  The signature is checked before the claims are read.
 * No cryptography is written here: HMAC, RSA PKCS#1 v1.5 and ECDSA are
 * OpenSSL's; the comparison of MACs is constant-time (CRYPTO_memcmp).
 * Buffers are fixed (tokens are bounded by JWT_MAX_TOKEN), so nothing is
 * left to free when a caller's error handling unwinds.
 */
#include "jwt.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base64.h"

#define JWT_MAX_PART (JWT_MAX_TOKEN / 4 * 3 + 3)

/* Writes a reason and returns false. */
static bool
jwt_fail(char *why, size_t why_size, const char *fmt, const char *arg)
{
	snprintf(why, why_size, fmt, arg ? arg : "");
	return false;
}

/* The algorithm's name in a token's header. */
const char *
jwt_alg_name(JwtAlg alg)
{
	switch (alg)
	{
		case JWT_HS256:
			return "HS256";
		case JWT_RS256:
			return "RS256";
		case JWT_ES256:
			return "ES256";
	}
	return "?";
}

/* Parses exactly len bytes of JSON (nothing after it); NULL when it is not JSON. */
static cJSON *
jwt_parse_json(const char *text, size_t len)
{
	const char *end = NULL;
	cJSON	   *json = cJSON_ParseWithLengthOpts(text, len, &end, false);

	if (json == NULL)
		return NULL;
	while (end != NULL && end < text + len &&
		   (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != text + len)
	{
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

/* Verifies an HMAC-SHA256 signature in constant time. */
static bool
jwt_verify_hs256(const JwtKey *key, const char *input, size_t input_len,
				 const uint8_t *sig, size_t sig_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (key->secret == NULL || key->secret_len < JWT_MIN_SECRET)
		return false;
	if (HMAC(EVP_sha256(), key->secret, (int) key->secret_len,
			 (const unsigned char *) input, input_len, mac, &mac_len) == NULL)
		return false;
	return mac_len == sig_len && CRYPTO_memcmp(mac, sig, mac_len) == 0;
}

/* Verifies an SHA-256 signature (DER for ECDSA) with a public key. */
static bool
jwt_verify_pkey(EVP_PKEY *pkey, const char *input, size_t input_len,
				const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool		ok;

	if (ctx == NULL)
		return false;
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
		EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *) input, input_len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/*
 * Verifies an ES256 signature: JWS writes it as R and S, 32 bytes each,
 * which OpenSSL wants as a DER ECDSA-Sig-Value.
 */
static bool
jwt_verify_es256(EVP_PKEY *pkey, const char *input, size_t input_len,
				 const uint8_t *sig, size_t sig_len)
{
	ECDSA_SIG  *es;
	BIGNUM	   *r;
	BIGNUM	   *s;
	unsigned char *der = NULL;
	int			der_len;
	bool		ok;

	if (sig_len != 64)
		return false;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
	{
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return false;
	}
	der_len = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (der_len <= 0)
		return false;
	ok = jwt_verify_pkey(pkey, input, input_len, der, (size_t) der_len);
	OPENSSL_free(der);
	return ok;
}

/* Verifies the signature over header.payload with the configured algorithm. */
static bool
jwt_signature_ok(const JwtKey *key, const char *input, size_t input_len,
				 const uint8_t *sig, size_t sig_len)
{
	switch (key->alg)
	{
		case JWT_HS256:
			return jwt_verify_hs256(key, input, input_len, sig, sig_len);
		case JWT_RS256:
			return key->public_key != NULL &&
				jwt_verify_pkey(key->public_key, input, input_len, sig, sig_len);
		case JWT_ES256:
			return key->public_key != NULL &&
				jwt_verify_es256(key->public_key, input, input_len, sig, sig_len);
	}
	return false;
}

/*
 * Follows a claim path ("role", "app.role", "\"https://x.example/c\".role")
 * from the payload; NULL when a step is missing or the path is malformed.
 */
static const cJSON *
jwt_claim_at(const cJSON *payload, const char *path)
{
	const cJSON *node = payload;
	const char *p = path;
	char		name[256];

	if (p == NULL || *p == '\0')
		return NULL;
	for (;;)
	{
		size_t		n = 0;

		if (*p == '"')
		{
			p++;
			while (*p && *p != '"' && n < sizeof(name) - 1)
				name[n++] = *p++;
			if (*p != '"')
				return NULL;
			p++;
		}
		else
		{
			while (*p && *p != '.' && n < sizeof(name) - 1)
				name[n++] = *p++;
		}
		name[n] = '\0';
		if (n == 0 || (*p != '\0' && *p != '.') || !cJSON_IsObject(node))
			return NULL;
		node = cJSON_GetObjectItemCaseSensitive(node, name);
		if (node == NULL)
			return NULL;
		if (*p == '\0')
			return node;
		p++;
	}
}

/* True when "aud" (a string or an array of strings) holds the audience. */
static bool
jwt_audience_ok(const cJSON *aud, const char *audience)
{
	const cJSON *item;

	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, audience) == 0;
	if (!cJSON_IsArray(aud))
		return false;
	cJSON_ArrayForEach(item, aud)
	{
		if (cJSON_IsString(item) && strcmp(item->valuestring, audience) == 0)
			return true;
	}
	return false;
}

/* Checks the registered claims and copies the role; false with why. */
static bool
jwt_claims_ok(const cJSON *payload, const JwtCheck *check, char *role,
			  int64_t *expires, char *why, size_t why_size)
{
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(payload, "exp");
	const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(payload, "nbf");
	const cJSON *claim;

	if (!cJSON_IsNumber(exp))
		return jwt_fail(why, why_size, "The token has no \"exp\" (expiry) claim.", NULL);
	if ((double) check->now > exp->valuedouble + check->leeway)
		return jwt_fail(why, why_size, "The token has expired.", NULL);
	if (expires != NULL)
		*expires = exp->valuedouble >= (double) INT64_MAX ? INT64_MAX : (int64_t) exp->valuedouble;
	if (nbf != NULL)
	{
		if (!cJSON_IsNumber(nbf))
			return jwt_fail(why, why_size, "The token's \"nbf\" claim is not a number.", NULL);
		if ((double) check->now + check->leeway < nbf->valuedouble)
			return jwt_fail(why, why_size, "The token is not valid yet (\"nbf\").", NULL);
	}
	if (check->issuer != NULL && check->issuer[0] != '\0')
	{
		const cJSON *iss = cJSON_GetObjectItemCaseSensitive(payload, "iss");

		if (!cJSON_IsString(iss) || strcmp(iss->valuestring, check->issuer) != 0)
			return jwt_fail(why, why_size, "The token's issuer (\"iss\") is not \"%s\".", check->issuer);
	}
	if (check->audience != NULL && check->audience[0] != '\0' &&
		!jwt_audience_ok(cJSON_GetObjectItemCaseSensitive(payload, "aud"), check->audience))
		return jwt_fail(why, why_size, "The token's audience (\"aud\") does not include \"%s\".", check->audience);
	claim = jwt_claim_at(payload, check->role_claim);
	if (!cJSON_IsString(claim) || claim->valuestring[0] == '\0')
		return jwt_fail(why, why_size, "The token has no role claim \"%s\" that is a string.", check->role_claim);
	if (strlen(claim->valuestring) > JWT_MAX_ROLE)
		return jwt_fail(why, why_size, "The token's role claim is longer than a role name can be.", NULL);
	strcpy(role, claim->valuestring);
	return true;
}

/* Decodes one base64url part into out (JWT_MAX_PART bytes); false when it is not base64url. */
static bool
jwt_decode_part(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
	if (len == 0 || BASE64URL_DECODED_MAX(len) > JWT_MAX_PART)
		return false;
	return base64url_decode(in, len, out, out_len);
}

/* Verifies a compact token (jwt.h). */
bool
jwt_verify(const JwtKey *key, const JwtCheck *check, const char *token, size_t len,
		   char *role, int64_t *expires, char *why, size_t why_size)
{
	uint8_t		header_raw[JWT_MAX_PART + 1];
	uint8_t		payload_raw[JWT_MAX_PART + 1];
	uint8_t		sig[JWT_MAX_PART];
	size_t		header_len;
	size_t		payload_len;
	size_t		sig_len;
	const char *dot1;
	const char *dot2;
	cJSON	   *header;
	cJSON	   *payload;
	const cJSON *alg;
	bool		ok;

	role[0] = '\0';
	if (len > JWT_MAX_TOKEN)
		return jwt_fail(why, why_size, "The token is longer than pg_dash reads.", NULL);
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t) (dot1 + 1 - token)) : NULL;
	if (dot1 == NULL || dot2 == NULL ||
		memchr(dot2 + 1, '.', len - (size_t) (dot2 + 1 - token)) != NULL)
		return jwt_fail(why, why_size, "The token is not three base64url parts separated by dots.", NULL);
	if (!jwt_decode_part(token, (size_t) (dot1 - token), header_raw, &header_len) ||
		!jwt_decode_part(dot1 + 1, (size_t) (dot2 - dot1 - 1), payload_raw, &payload_len) ||
		!jwt_decode_part(dot2 + 1, len - (size_t) (dot2 + 1 - token), sig, &sig_len))
		return jwt_fail(why, why_size, "A part of the token is empty or not base64url.", NULL);

	header = jwt_parse_json((const char *) header_raw, header_len);
	if (!cJSON_IsObject(header))
	{
		cJSON_Delete(header);
		return jwt_fail(why, why_size, "The token's header is not a JSON object.", NULL);
	}
	alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
	ok = cJSON_IsString(alg) && strcmp(alg->valuestring, jwt_alg_name(key->alg)) == 0;
	if (!ok)
	{
		cJSON_Delete(header);
		return jwt_fail(why, why_size, "The token is not signed with %s, the algorithm pg_dash is configured for.",
						jwt_alg_name(key->alg));
	}
	if (cJSON_GetObjectItemCaseSensitive(header, "crit") != NULL)
	{
		cJSON_Delete(header);
		return jwt_fail(why, why_size, "The token's header names critical extensions (\"crit\") pg_dash does not know.", NULL);
	}
	cJSON_Delete(header);

	if (!jwt_signature_ok(key, token, (size_t) (dot2 - token), sig, sig_len))
		return jwt_fail(why, why_size, "The token's signature is not valid.", NULL);

	payload = jwt_parse_json((const char *) payload_raw, payload_len);
	if (!cJSON_IsObject(payload))
	{
		cJSON_Delete(payload);
		return jwt_fail(why, why_size, "The token's payload is not a JSON object.", NULL);
	}
	ok = jwt_claims_ok(payload, check, role, expires, why, why_size);
	cJSON_Delete(payload);
	return ok;
}

/* Reads a PEM public key fit for the algorithm (jwt.h). */
void *
jwt_load_public_key(JwtAlg alg, const char *pem, size_t len, char *why, size_t why_size)
{
	BIO		   *bio = BIO_new_mem_buf(pem, (int) len);
	EVP_PKEY   *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	char		group[64];
	size_t		group_len = 0;

	BIO_free(bio);
	if (pkey == NULL)
	{
		jwt_fail(why, why_size, "The file is not a PEM public key (\"-----BEGIN PUBLIC KEY-----\").", NULL);
		return NULL;
	}
	if (alg == JWT_RS256 &&
		(EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) < 2048))
	{
		EVP_PKEY_free(pkey);
		jwt_fail(why, why_size, "RS256 needs an RSA public key of at least 2048 bits.", NULL);
		return NULL;
	}
	if (alg == JWT_ES256 &&
		(EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
		 EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) != 1 ||
		 (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)))
	{
		EVP_PKEY_free(pkey);
		jwt_fail(why, why_size, "ES256 needs an EC public key on the P-256 curve.", NULL);
		return NULL;
	}
	if (alg == JWT_HS256)
	{
		EVP_PKEY_free(pkey);
		jwt_fail(why, why_size, "HS256 takes a secret, not a public key.", NULL);
		return NULL;
	}
	return pkey;
}

/* Frees a key from jwt_load_public_key. */
void
jwt_free_public_key(void *key)
{
	EVP_PKEY_free((EVP_PKEY *) key);
}
