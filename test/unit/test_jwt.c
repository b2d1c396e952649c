/*
 * test_jwt.c
 *		Unit tests for JWT verification (jwt.c): tokens signed here with
 *		OpenSSL for HS256, RS256 and ES256, the claims checks, and the
 *		attacks a verifier must refuse (alg none, HS/RS confusion, a
 *		tampered payload, malformed tokens).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base64.h"
#include "jwt.h"
#include "unit.h"

#define NOW 1800000000LL

static const char secret[] = "0123456789abcdef0123456789abcdef-secret";

/* Appends the base64url of len bytes to out. */
static void
b64(char *out, const void *in, size_t len)
{
	base64url_encode(in, len, out + strlen(out));
}

/* header.payload in out, from JSON texts. */
static void
signing_input(char *out, const char *header, const char *payload)
{
	out[0] = '\0';
	b64(out, header, strlen(header));
	strcat(out, ".");
	b64(out, payload, strlen(payload));
}

/* A token signed with HMAC-SHA256 under key. */
static char *
hs256(const char *header, const char *payload, const char *key, size_t key_len)
{
	static char tok[8192];
	unsigned char mac[32];
	unsigned int mac_len;

	signing_input(tok, header, payload);
	HMAC(EVP_sha256(), key, (int) key_len, (unsigned char *) tok, strlen(tok), mac, &mac_len);
	strcat(tok, ".");
	b64(tok, mac, mac_len);
	return tok;
}

/* A token signed with a private key (RSA PKCS#1 v1.5, or ECDSA as R||S). */
static char *
pkey_sign(const char *header, const char *payload, EVP_PKEY *key, bool ecdsa)
{
	static char tok[8192];
	unsigned char sig[1024];
	size_t		sig_len = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	signing_input(tok, header, payload);
	EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *) tok, strlen(tok));
	EVP_MD_CTX_free(ctx);
	strcat(tok, ".");
	if (ecdsa)
	{
		const unsigned char *p = sig;
		ECDSA_SIG  *es = d2i_ECDSA_SIG(NULL, &p, (long) sig_len);
		unsigned char rs[64];

		BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
		ECDSA_SIG_free(es);
		b64(tok, rs, 64);
	}
	else
		b64(tok, sig, sig_len);
	return tok;
}

/* The PEM of a key's public half. */
static char *
public_pem(EVP_PKEY *key, size_t *len)
{
	BIO		   *bio = BIO_new(BIO_s_mem());
	char	   *data;
	char	   *copy;

	PEM_write_bio_PUBKEY(bio, key);
	*len = (size_t) BIO_get_mem_data(bio, &data);
	copy = malloc(*len + 1);
	memcpy(copy, data, *len);
	copy[*len] = '\0';
	BIO_free(bio);
	return copy;
}

static JwtCheck check = {NOW, 30, NULL, NULL, "role"};

/* Verifies tok and returns whether it passed, the role in role. */
static bool
verify(const JwtKey *key, const char *tok, char *role)
{
	char		why[256];

	return jwt_verify(key, &check, tok, strlen(tok), role, NULL, why, sizeof(why));
}

/* Verifies tok, expecting a refusal whose reason mentions want. */
static void
refused(const JwtKey *key, const char *tok, const char *want)
{
	char		why[256];
	char		role[JWT_MAX_ROLE + 1];

	CHECK(!jwt_verify(key, &check, tok, strlen(tok), role, NULL, why, sizeof(why)));
	if (strstr(why, want) == NULL)
		fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", why, want);
	CHECK(strstr(why, want) != NULL);
	CHECK_STR(role, "");
}

static const char *hdr_hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char *ok_payload = "{\"role\":\"app_reader\",\"exp\":1800000100}";

/* HS256: valid, wrong secret, claims. */
static void
test_hs256(void)
{
	JwtKey		key = {JWT_HS256, (const uint8_t *) secret, strlen(secret), NULL};
	char		role[JWT_MAX_ROLE + 1];
	char		buf[512];

	CHECK(verify(&key, hs256(hdr_hs, ok_payload, secret, strlen(secret)), role));
	CHECK_STR(role, "app_reader");
	{
		const char *tok = hs256(hdr_hs, ok_payload, secret, strlen(secret));
		char		why[256];
		int64_t		expires = 0;

		/* the expiry comes out too: a WebSocket is closed when it passes */
		CHECK(jwt_verify(&key, &check, tok, strlen(tok), role, &expires, why, sizeof(why)));
		CHECK(expires == 1800000100LL);
	}
	refused(&key, hs256(hdr_hs, ok_payload, "another-secret-of-32-bytes-or-more!!", 36), "signature");

	/* exp: passed beyond the leeway, within it, missing */
	refused(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1799999960}", secret, strlen(secret)), "expired");
	CHECK(verify(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1799999980}", secret, strlen(secret)), role));
	refused(&key, hs256(hdr_hs, "{\"role\":\"r\"}", secret, strlen(secret)), "exp");
	refused(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":\"soon\"}", secret, strlen(secret)), "exp");

	/* nbf: in the future beyond the leeway, within it */
	refused(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1800000100,\"nbf\":1800000040}", secret, strlen(secret)), "not valid yet");
	CHECK(verify(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1800000100,\"nbf\":1800000020}", secret, strlen(secret)), role));

	/* iss and aud */
	check.issuer = "https://id.example.com";
	check.audience = "pg_dash";
	refused(&key, hs256(hdr_hs, ok_payload, secret, strlen(secret)), "issuer");
	refused(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1800000100,\"iss\":\"https://evil.example\",\"aud\":\"pg_dash\"}",
						secret, strlen(secret)), "issuer");
	refused(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1800000100,\"iss\":\"https://id.example.com\",\"aud\":\"other\"}",
						secret, strlen(secret)), "audience");
	CHECK(verify(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1800000100,\"iss\":\"https://id.example.com\",\"aud\":\"pg_dash\"}",
							 secret, strlen(secret)), role));
	CHECK(verify(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1800000100,\"iss\":\"https://id.example.com\",\"aud\":[\"x\",\"pg_dash\"]}",
							 secret, strlen(secret)), role));
	check.issuer = NULL;
	check.audience = NULL;

	/* the role claim: nested, quoted names, wrong types, too long */
	check.role_claim = "\"https://example.com/claims\".db.role";
	CHECK(verify(&key, hs256(hdr_hs, "{\"exp\":1800000100,\"https://example.com/claims\":{\"db\":{\"role\":\"nested\"}}}",
							 secret, strlen(secret)), role));
	CHECK_STR(role, "nested");
	refused(&key, hs256(hdr_hs, ok_payload, secret, strlen(secret)), "role claim");
	check.role_claim = "role";
	refused(&key, hs256(hdr_hs, "{\"role\":7,\"exp\":1800000100}", secret, strlen(secret)), "role claim");
	refused(&key, hs256(hdr_hs, "{\"role\":\"\",\"exp\":1800000100}", secret, strlen(secret)), "role claim");
	snprintf(buf, sizeof(buf), "{\"role\":\"%064d\",\"exp\":1800000100}", 0);
	refused(&key, hs256(hdr_hs, buf, secret, strlen(secret)), "longer");

	/* a secret shorter than the hash is never accepted */
	key.secret_len = 16;
	refused(&key, hs256(hdr_hs, ok_payload, secret, 16), "signature");
}

/* alg none, another algorithm, crit, malformed tokens. */
static void
test_refusals(void)
{
	JwtKey		key = {JWT_HS256, (const uint8_t *) secret, strlen(secret), NULL};
	char		tok[1024];

	signing_input(tok, "{\"alg\":\"none\"}", ok_payload);
	strcat(tok, ".");
	refused(&key, tok, "empty");
	strcat(tok, "AAAA");
	refused(&key, tok, "HS256");
	refused(&key, hs256("{\"alg\":\"hs256\"}", ok_payload, secret, strlen(secret)), "HS256");
	refused(&key, hs256("{\"typ\":\"JWT\"}", ok_payload, secret, strlen(secret)), "HS256");
	refused(&key, hs256("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", ok_payload, secret, strlen(secret)), "crit");
	refused(&key, hs256("[\"HS256\"]", ok_payload, secret, strlen(secret)), "header");
	refused(&key, hs256("{\"alg\":\"HS256\"} x", ok_payload, secret, strlen(secret)), "header");
	refused(&key, hs256(hdr_hs, "[1]", secret, strlen(secret)), "payload");
	refused(&key, hs256(hdr_hs, "{\"role\":\"r\",\"exp\":1800000100", secret, strlen(secret)), "payload");
	refused(&key, "abc.def", "three");
	refused(&key, "a.b.c.d", "three");
	refused(&key, "..", "empty");
	refused(&key, "e30.e30.a+b/", "base64url");
	refused(&key, "", "three");

	/* a tampered payload keeps a signature that no longer matches */
	strcpy(tok, hs256(hdr_hs, ok_payload, secret, strlen(secret)));
	{
		char		forged[1024];
		char	   *dot = strchr(tok, '.');
		char	   *dot2 = strchr(dot + 1, '.');

		forged[0] = '\0';
		strncat(forged, tok, (size_t) (dot - tok) + 1);
		b64(forged, "{\"role\":\"postgres\",\"exp\":1800000100}", strlen("{\"role\":\"postgres\",\"exp\":1800000100}"));
		strcat(forged, dot2);
		refused(&key, forged, "signature");
	}
}

/* RS256 and ES256, the key checks, and HS/RS confusion. */
static void
test_public_keys(void)
{
	EVP_PKEY   *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	EVP_PKEY   *rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
	EVP_PKEY   *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY   *ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	size_t		rsa_len,
				small_len,
				ec_len,
				ec384_len;
	char	   *rsa_pem = public_pem(rsa, &rsa_len);
	char	   *small_pem = public_pem(rsa_small, &small_len);
	char	   *ec_pem = public_pem(ec, &ec_len);
	char	   *ec384_pem = public_pem(ec384, &ec384_len);
	char		why[256];
	char		role[JWT_MAX_ROLE + 1];
	JwtKey		rs = {JWT_RS256, NULL, 0, NULL};
	JwtKey		es = {JWT_ES256, NULL, 0, NULL};
	JwtKey		hs_with_pem = {JWT_HS256, (const uint8_t *) rsa_pem, 0, NULL};
	const char *hdr_rs = "{\"alg\":\"RS256\"}";
	const char *hdr_es = "{\"alg\":\"ES256\"}";
	char	   *tok;

	rs.public_key = jwt_load_public_key(JWT_RS256, rsa_pem, rsa_len, why, sizeof(why));
	CHECK(rs.public_key != NULL);
	es.public_key = jwt_load_public_key(JWT_ES256, ec_pem, ec_len, why, sizeof(why));
	CHECK(es.public_key != NULL);
	CHECK(jwt_load_public_key(JWT_RS256, small_pem, small_len, why, sizeof(why)) == NULL);
	CHECK(strstr(why, "2048") != NULL);
	CHECK(jwt_load_public_key(JWT_RS256, ec_pem, ec_len, why, sizeof(why)) == NULL);
	CHECK(jwt_load_public_key(JWT_ES256, ec384_pem, ec384_len, why, sizeof(why)) == NULL);
	CHECK(strstr(why, "P-256") != NULL);
	CHECK(jwt_load_public_key(JWT_ES256, rsa_pem, rsa_len, why, sizeof(why)) == NULL);
	CHECK(jwt_load_public_key(JWT_RS256, "not a key", 9, why, sizeof(why)) == NULL);
	CHECK(jwt_load_public_key(JWT_HS256, rsa_pem, rsa_len, why, sizeof(why)) == NULL);

	CHECK(verify(&rs, pkey_sign(hdr_rs, ok_payload, rsa, false), role));
	CHECK_STR(role, "app_reader");
	CHECK(verify(&es, pkey_sign(hdr_es, ok_payload, ec, true), role));
	CHECK_STR(role, "app_reader");

	/* a signature by another key */
	{
		EVP_PKEY   *other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

		refused(&rs, pkey_sign(hdr_rs, ok_payload, other, false), "signature");
		EVP_PKEY_free(other);
	}
	/* ES256 with a DER signature (what OpenSSL makes) instead of R||S */
	refused(&es, pkey_sign(hdr_es, ok_payload, ec, false), "signature");

	/*
	 * HS/RS confusion: a token saying HS256, its MAC keyed with the RSA
	 * public key's PEM (which an attacker knows), against an RS256
	 * verifier: refused before any MAC is computed.
	 */
	tok = hs256("{\"alg\":\"HS256\"}", ok_payload, rsa_pem, rsa_len);
	refused(&rs, tok, "RS256");
	/* the same token would pass a verifier that trusted the header */
	hs_with_pem.secret_len = rsa_len;
	CHECK(verify(&hs_with_pem, tok, role));
	/* and the other way round: an RS256 token against an HS256 verifier */
	{
		JwtKey		hs = {JWT_HS256, (const uint8_t *) secret, strlen(secret), NULL};

		refused(&hs, pkey_sign(hdr_rs, ok_payload, rsa, false), "HS256");
	}
	/* an ES256 token against RS256 */
	refused(&rs, pkey_sign(hdr_es, ok_payload, ec, true), "RS256");

	jwt_free_public_key(rs.public_key);
	jwt_free_public_key(es.public_key);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_small);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec384);
	free(rsa_pem);
	free(small_pem);
	free(ec_pem);
	free(ec384_pem);
}

int
main(void)
{
	test_hs256();
	test_refusals();
	test_public_keys();
	UNIT_DONE();
}
