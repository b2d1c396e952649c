/*
 * test_identifier.c
 *		Unit tests of the name checks of queries, channels and actions.
 */
#include "identifier.h"
#include "unit.h"

int
main(void)
{
	char		long_name[80];

	CHECK(identifier_valid("sales", ""));
	CHECK(identifier_valid("_x9", ""));
	CHECK(identifier_valid("Sales_By_Hour", ""));
	CHECK(identifier_valid("by-region", "-"));
	CHECK(!identifier_valid("by-region", ""));
	CHECK(!identifier_valid("-x", "-"));
	CHECK(!identifier_valid("9lives", ""));
	CHECK(!identifier_valid("", ""));
	CHECK(!identifier_valid(NULL, ""));
	CHECK(!identifier_valid("a b", ""));
	CHECK(!identifier_valid("a;drop", ""));
	CHECK(!identifier_valid("地區", ""));
	memset(long_name, 'a', sizeof(long_name));
	long_name[IDENTIFIER_MAX_LEN] = '\0';
	CHECK(identifier_valid(long_name, ""));
	long_name[IDENTIFIER_MAX_LEN] = 'a';
	long_name[IDENTIFIER_MAX_LEN + 1] = '\0';
	CHECK(!identifier_valid(long_name, ""));
	UNIT_DONE();
}
