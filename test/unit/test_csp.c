/*
 * test_csp.c
 *		Unit tests of the frame-ancestors check: what a CSP source list may
 *		hold, and every way of breaking out of the header refused.
 */
#include "csp.h"
#include "unit.h"

/* True when the value is accepted. */
static bool
ok(const char *value)
{
	const char *reason;
	bool		valid = csp_ancestors_valid(value, &reason);

	return valid && reason == NULL;
}

/* True when the value is refused with a reason. */
static bool
refused(const char *value)
{
	const char *reason;

	return !csp_ancestors_valid(value, &reason) && reason != NULL && reason[0] != '\0';
}

int
main(void)
{
	char		big[CSP_ANCESTORS_MAX_LEN + 2];

	CHECK(ok("'none'"));
	CHECK(ok("'NONE'"));
	CHECK(ok("'self'"));
	CHECK(ok("  'self'  "));
	CHECK(ok("'self' https://intranet.example.com"));
	CHECK(ok("https:"));
	CHECK(ok("https://*.example.com:8443"));
	CHECK(ok("http://localhost:*"));
	CHECK(ok("example.com"));
	CHECK(ok("*"));
	CHECK(ok("https://portal.example.com/dashboards/"));
	CHECK(ok("https://portal.example.com/a%20b"));
	CHECK(ok("'self' https://a.example https://b.example:443"));

	/* header and policy injection */
	CHECK(refused("'self'; script-src *"));
	CHECK(refused("'self', script-src *"));
	CHECK(refused("'self'\r\nSet-Cookie: x=1"));
	CHECK(refused("'self'\nX: y"));
	CHECK(refused("'self'\ttab"));
	CHECK(refused("'self' \x01"));
	CHECK(refused("'self' h\xc3\xa9.example"));
	CHECK(refused("'self' \x7f"));

	/* grammar */
	CHECK(refused(""));
	CHECK(refused("   "));
	CHECK(refused(NULL));
	CHECK(refused("'none' 'self'"));
	CHECK(refused("'self' 'none'"));
	CHECK(refused("'unsafe-inline'"));
	CHECK(refused("'self"));
	CHECK(refused("none"));
	CHECK(refused("self"));
	CHECK(refused("\"self\""));
	CHECK(refused("https://"));
	CHECK(refused("https://exa mple.com:99999999"));
	CHECK(refused("https://example.com:"));
	CHECK(refused("https://example.com:123456"));
	CHECK(refused("https://[::1]"));
	CHECK(refused("https://user@example.com"));
	CHECK(refused("https://example.com/a%2"));
	CHECK(refused("https://example.com/<x>"));
	CHECK(refused("https://example.com?x"));
	CHECK(refused("https://.example.com"));
	CHECK(refused("*.*.example.com"));
	CHECK(refused("1https:"));

	memset(big, 'a', sizeof(big));
	big[CSP_ANCESTORS_MAX_LEN] = '\0';
	CHECK(ok(big));
	big[CSP_ANCESTORS_MAX_LEN] = 'a';
	big[CSP_ANCESTORS_MAX_LEN + 1] = '\0';
	CHECK(refused(big));
	UNIT_DONE();
}
