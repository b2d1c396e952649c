/*
 * bearer.c
 *		Authorization: Bearer <JWT>: applications call the API as the role
 *		their identity provider's token names.
 *
 * The token is verified by src/lib/jwt.c with the algorithm and key of the
 * settings (pg_dash.jwt_algorithm with pg_dash.jwt_secret for HS256, or
 * pg_dash.jwt_public_key_file for RS256/ES256): never with what the token's
 * header says.  Its "exp" must not have passed and its "nbf" must have, with
 * pg_dash.jwt_leeway seconds of clock skew; pg_dash.jwt_issuer and
 * pg_dash.jwt_audience, when set, must match.  The claim at
 * pg_dash.jwt_role_claim names the role; the request pipeline then checks
 * that role as it checks pg_dash.role (it exists, is no superuser, holds no
 * privilege that bypasses GRANTs or RLS) and that it may sign in
 * (auth_role_refusal, as a password sign-in), in the request's transaction.
 *
 * A token travels only over a secure connection (TLS to pg_dash or to a
 * trusted proxy, or from this machine).  A request with a token has no
 * cookie session: cookies are ignored, none is set, and it needs no CSRF
 * token (nothing ambient authorizes it).  The token is verified in the
 * serving worker, so a bad one is refused without an executor, and again in
 * the executor, which trusts nothing it did not check itself.
 *
 * A WebSocket opened with a token (GET /ws) keeps its role: every message
 * of the connection runs as it (bearer_enter), its queries too, in the
 * executors, and the connection is closed when the token expires.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "storage/fd.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bearer.h"
#include "headers.h"
#include "http_response.h"
#include "jwt.h"
#include "transport.h"

static int	bearer_algorithm = JWT_HS256;
static char *bearer_secret = NULL;
static char *bearer_key_file = NULL;
static char *bearer_issuer = NULL;
static char *bearer_audience = NULL;
static char *bearer_role_claim = NULL;
static int	bearer_leeway = 30;

static const struct config_enum_entry bearer_algorithms[] = {
	{"HS256", JWT_HS256, false},
	{"RS256", JWT_RS256, false},
	{"ES256", JWT_ES256, false},
	{NULL, 0, false}
};

/* The current request's role, when it carried a valid token, and its expiry. */
static char bearer_role[JWT_MAX_ROLE + 1];
static bool bearer_active = false;
static TimestampTz bearer_expires = 0;

/* The public key read from pg_dash.jwt_public_key_file, and what it was read from. */
static void *bearer_key = NULL;
static char *bearer_key_path = NULL;
static int	bearer_key_alg = -1;
static struct timespec bearer_key_mtime;

/* check_hook of pg_dash.jwt_secret: empty, or at least as long as the hash. */
static bool
bearer_check_secret(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0' || strlen(*newval) >= JWT_MIN_SECRET)
		return true;
	GUC_check_errdetail("An HS256 secret must be at least %d bytes long.", JWT_MIN_SECRET);
	GUC_check_errhint("Use a random secret, e.g. the output of: openssl rand -base64 48");
	return false;
}

/* Defines the settings of bearer tokens. */
void
bearer_define_gucs(void)
{
	DefineCustomEnumVariable("pg_dash.jwt_algorithm",
							 "The algorithm bearer tokens must be signed with: HS256, RS256 or ES256.",
							 "The token's own header never chooses it.",
							 &bearer_algorithm,
							 JWT_HS256, bearer_algorithms,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.jwt_secret",
							   "The HS256 secret of bearer tokens (at least 32 bytes); empty: no HS256 tokens.",
							   NULL,
							   &bearer_secret,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   bearer_check_secret, NULL, NULL);

	DefineCustomStringVariable("pg_dash.jwt_public_key_file",
							   "PEM public key that RS256 or ES256 bearer tokens are verified with.",
							   "Relative paths are relative to the data directory; the file is read again when it changes.",
							   &bearer_key_file,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.jwt_issuer",
							   "The \"iss\" bearer tokens must have; empty: not checked.",
							   NULL,
							   &bearer_issuer,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.jwt_audience",
							   "A value the \"aud\" of bearer tokens must hold; empty: not checked.",
							   NULL,
							   &bearer_audience,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.jwt_role_claim",
							   "Path of the claim that names the role, e.g. role or \"https://example.com/claims\".db_role.",
							   NULL,
							   &bearer_role_claim,
							   "role",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.jwt_leeway",
							"Seconds of clock skew allowed when checking a token's exp and nbf.",
							NULL,
							&bearer_leeway,
							30, 0, 600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* Ends the current request's token. */
void
bearer_forget(void)
{
	bearer_active = false;
	bearer_role[0] = '\0';
	bearer_expires = 0;
}

/* The role the current request's token names, or NULL. */
const char *
bearer_request_role(void)
{
	return bearer_active ? bearer_role : NULL;
}

/* When the current request's token expires (bearer.h). */
TimestampTz
bearer_request_expires(void)
{
	return bearer_active ? bearer_expires : 0;
}

/* What runs next runs as a role a verified token named (bearer.h). */
void
bearer_enter(const char *role, TimestampTz expires)
{
	strlcpy(bearer_role, role, sizeof(bearer_role));
	bearer_expires = expires;
	bearer_active = true;
}

/*
 * The public key of pg_dash.jwt_public_key_file, read again when the
 * setting, the algorithm or the file's modification time changed; NULL with
 * *why when it cannot be read or does not fit the algorithm.
 */
static void *
bearer_public_key(const char **why)
{
	struct stat st;
	char		reason[256];
	char	   *pem;
	FILE	   *fp;
	size_t		len;

	if (bearer_key_file == NULL || bearer_key_file[0] == '\0')
	{
		*why = "pg_dash.jwt_public_key_file is not set.";
		return NULL;
	}
	if (stat(bearer_key_file, &st) != 0)
	{
		*why = psprintf("Could not read pg_dash.jwt_public_key_file \"%s\": %m.", bearer_key_file);
		return NULL;
	}
	if (bearer_key != NULL && bearer_key_alg == bearer_algorithm &&
		strcmp(bearer_key_path, bearer_key_file) == 0 &&
		st.st_mtim.tv_sec == bearer_key_mtime.tv_sec && st.st_mtim.tv_nsec == bearer_key_mtime.tv_nsec)
		return bearer_key;
	if (st.st_size > 64 * 1024)
	{
		*why = psprintf("pg_dash.jwt_public_key_file \"%s\" is larger than a public key.", bearer_key_file);
		return NULL;
	}
	fp = AllocateFile(bearer_key_file, "r");
	if (fp == NULL)
	{
		*why = psprintf("Could not open pg_dash.jwt_public_key_file \"%s\": %m.", bearer_key_file);
		return NULL;
	}
	pem = palloc(st.st_size + 1);
	len = fread(pem, 1, st.st_size, fp);
	FreeFile(fp);
	if (bearer_key != NULL)
		jwt_free_public_key(bearer_key);
	bearer_key = jwt_load_public_key(bearer_algorithm, pem, len, reason, sizeof(reason));
	if (bearer_key == NULL)
	{
		*why = psprintf("pg_dash.jwt_public_key_file \"%s\": %s", bearer_key_file, reason);
		return NULL;
	}
	if (bearer_key_path)
		pfree(bearer_key_path);
	bearer_key_path = MemoryContextStrdup(TopMemoryContext, bearer_key_file);
	bearer_key_alg = bearer_algorithm;
	bearer_key_mtime = st.st_mtim;
	return bearer_key;
}

/* Answers 401 with the challenge of RFC 6750; why becomes error_description. */
static void
bearer_refuse(Conn *conn, HttpRequest *req, const char *error, const char *message,
			  const char *why, const char *hint)
{
	HeaderList	headers;
	char		description[200];
	int			n = 0;

	/* error_description is a quoted-string: keep it to plain text */
	for (const char *p = why; *p && n < (int) sizeof(description) - 1; p++)
		description[n++] = (*p == '"' || *p == '\\' || (unsigned char) *p < 0x20 ||
							(unsigned char) *p >= 0x7f) ? '\'' : *p;
	description[n] = '\0';
	header_list_init(&headers);
	header_addf(&headers, "WWW-Authenticate", "Bearer error=\"%s\", error_description=\"%s\"",
				error, description);
	http_reply_error_with(conn, req, 401, &headers, "unauthorized", message, why, hint);
}

/* Reads and verifies the request's bearer token (bearer.h). */
bool
bearer_authenticate(Conn *conn, HttpRequest *req)
{
	size_t		len;
	const char *value = http_request_header(req, "Authorization", &len);
	JwtKey		key;
	JwtCheck	check;
	const char *why = NULL;
	char		reason[256];
	int64		expires;

	bearer_forget();
	if (value == NULL)
		return true;
	if (len < 7 || pg_strncasecmp(value, "Bearer ", 7) != 0)
	{
		bearer_refuse(conn, req, "invalid_request", "only bearer tokens are accepted",
					  "The Authorization header does not hold \"Bearer <token>\".",
					  "Send Authorization: Bearer <JWT>, or no Authorization header for anonymous access.");
		return false;
	}
	if (!transport_connection_is_secure(&conn->transport))
	{
		bearer_refuse(conn, req, "invalid_request", "a bearer token must travel over HTTPS",
					  "The request came over plain HTTP from another machine, where the token could be read on the way.",
					  "Use HTTPS (pg_dash.ssl, or a TLS proxy listed in pg_dash.trusted_proxies that sends X-Forwarded-Proto).");
		return false;
	}

	memset(&key, 0, sizeof(key));
	key.alg = (JwtAlg) bearer_algorithm;
	if (key.alg == JWT_HS256)
	{
		if (bearer_secret == NULL || bearer_secret[0] == '\0')
			why = "pg_dash.jwt_secret is not set.";
		key.secret = (const uint8_t *) bearer_secret;
		key.secret_len = bearer_secret ? strlen(bearer_secret) : 0;
	}
	else
		key.public_key = bearer_public_key(&why);
	if (why != NULL)
	{
		ereport(LOG,
				(errmsg("pg_dash refused a bearer token because bearer tokens are not configured"),
				 errdetail("%s", why)));
		bearer_refuse(conn, req, "invalid_token", "bearer tokens are not enabled on this server",
					  "The server has no key to verify tokens with.",
					  "The administrator sets pg_dash.jwt_algorithm and pg_dash.jwt_secret or pg_dash.jwt_public_key_file.");
		return false;
	}

	check.now = (int64_t) (GetCurrentTimestamp() / USECS_PER_SEC) +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	check.leeway = bearer_leeway;
	check.issuer = bearer_issuer;
	check.audience = bearer_audience;
	check.role_claim = bearer_role_claim;
	value += 7;
	len -= 7;
	while (len > 0 && *value == ' ')
		value++, len--;
	if (!jwt_verify(&key, &check, value, len, bearer_role, &expires, reason, sizeof(reason)))
	{
		bearer_refuse(conn, req, "invalid_token", "invalid bearer token", pstrdup(reason),
					  "Get a fresh token from the identity provider; pg_dash checks its signature, exp, nbf, iss and aud.");
		return false;
	}
	/* "exp" plus the leeway on PostgreSQL's clock (a year beyond 9999 is 9999) */
	expires = Min(expires, INT64CONST(253402300799)) + check.leeway;
	bearer_expires = (TimestampTz) (expires - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) *
		USECS_PER_SEC;
	bearer_active = true;
	return true;
}
