/*
 * test_sql_params.c
 *		Unit tests of the :name to $n rewriting of named queries.
 */
#include "sql_params.h"
#include "unit.h"

/* Rewrites s and returns the text (or the error message). */
static const char *
rw(const char *s, SqlParams *p)
{
	static char buf[1024];

	if (sql_params_rewrite(s, strlen(s), p))
	{
		snprintf(buf, sizeof(buf), "%s", p->sql);
		sql_params_free(p);
	}
	else
		snprintf(buf, sizeof(buf), "ERROR@%d: %s", p->error_offset, p->error);
	return buf;
}

int
main(void)
{
	SqlParams	p;

	CHECK_STR(rw("SELECT 1", &p), "SELECT 1");
	CHECK_INT(p.count, 0);
	CHECK_STR(rw("SELECT * FROM t WHERE region = :region AND ts > :since", &p),
			  "SELECT * FROM t WHERE region = $1 AND ts > $2");
	CHECK_INT(p.count, 2);
	CHECK_STR(p.names[0], "region");
	CHECK_STR(p.names[1], "since");
	CHECK_STR(rw("SELECT :a, :b, :a", &p), "SELECT $1, $2, $1");
	CHECK_INT(p.count, 2);
	/* casts are not parameters, a cast after a parameter is kept */
	CHECK_STR(rw("SELECT x::int, :d::date", &p), "SELECT x::int, $1::date");
	CHECK_INT(p.count, 1);
	/* literals, identifiers, comments and dollar quotes are skipped */
	CHECK_STR(rw("SELECT ':no', \"a:b\", $$ :no $$, $t$ :x $t$ -- :c\n, :yes /* :d /* :e */ */", &p),
			  "SELECT ':no', \"a:b\", $$ :no $$, $t$ :x $t$ -- :c\n, $1 /* :d /* :e */ */");
	CHECK_STR(p.names[0], "yes");
	CHECK_STR(rw("SELECT 'it''s :x', E'\\' :y', :z", &p), "SELECT 'it''s :x', E'\\' :y', $1");
	CHECK_STR(p.names[0], "z");
	/* array slices with numbers are not parameters */
	CHECK_STR(rw("SELECT a[1:2] FROM t", &p), "SELECT a[1:2] FROM t");
	/* identifiers containing $ are fine */
	CHECK_STR(rw("SELECT a$1 FROM t", &p), "SELECT a$1 FROM t");
	/* UTF-8 names */
	CHECK_STR(rw("SELECT :地區", &p), "SELECT $1");
	CHECK_STR(p.names[0], "地區");
	/* errors */
	CHECK_STR(rw("SELECT $1", &p), "ERROR@7: positional parameters ($1) are not allowed; name them (:name)");
	CHECK_STR(rw("SELECT 'open", &p), "ERROR@7: unterminated string literal");
	CHECK_STR(rw("SELECT \"open", &p), "ERROR@7: unterminated quoted identifier");
	CHECK_STR(rw("SELECT /* open", &p), "ERROR@7: unterminated comment");
	CHECK_STR(rw("SELECT $x$ open", &p), "ERROR@7: unterminated dollar-quoted string");
	{
		char		big[300];

		memset(big, 'a', sizeof(big));
		memcpy(big, "SELECT :", 8);
		big[sizeof(big) - 1] = '\0';
		CHECK_STR(rw(big, &p), "ERROR@7: parameter name is longer than 63 bytes");
	}
	UNIT_DONE();
}
