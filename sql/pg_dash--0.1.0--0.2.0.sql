-- pg_dash 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_dash UPDATE.
\echo Use "ALTER EXTENSION pg_dash UPDATE TO '0.2.0'" to load this file. \quit

-- How this file grows: every change made to sql/parts/*.sql for 0.2.0 adds
-- here the statements that bring an installed 0.1.0 to the same state, so
-- that an updated install equals a new one: the same objects, columns in the
-- same order, defaults, constraints, comments and grants (t/060_backup.pl
-- compares the two object by object).  Append one section per change,
-- headed by a comment saying what changes and why.  A new column goes last
-- in its CREATE TABLE in sql/parts too, since ALTER TABLE ADD COLUMN appends.
-- A new table that holds definitions is marked with
-- pg_extension_config_dump() in both places.
--
-- The library is replaced before this script runs, so C code must also work
-- with the 0.1.0 objects until then: a C function whose SQL declaration
-- gains arguments checks PG_NARGS(), code that uses a new column checks that
-- it exists (as src/query_registry.c does for param_types).
