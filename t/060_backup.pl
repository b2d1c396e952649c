# Backup, export and upgrade.  pg_dump + pg_restore (custom format) and a
# plain SQL dump bring every channel, named query, action and page into a
# fresh cluster, and the pages serve, including a query whose parameter has
# an enum type with another OID there; sessions and stored messages are not
# dumped.  pg_dash.export() run on one node and executed on another recreates
# the same definitions.  ALTER EXTENSION pg_dash UPDATE from 0.1.0 keeps the
# definitions served and leaves the same objects as a new install.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;

my $conf = "pg_dash.role = 'dash_reader'";

# What belongs to the user, not to pg_dash: a schema with an enum, a table and
# an action function.
my $app = <<'SQL';
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE app.people (name text PRIMARY KEY, mood app.mood NOT NULL);
INSERT INTO app.people VALUES ('ann', 'happy'), ('bob', 'sad'), ('cy', 'happy');
GRANT USAGE ON SCHEMA app TO dash_reader;
GRANT SELECT ON app.people TO dash_reader;
CREATE FUNCTION app.cheer(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_object('cheered', payload -> 'who') $$;
SQL

# One definition of each kind, with every option, quotes and backslashes.
my $defs = <<'SQL';
SELECT pg_dash.define_channel('alerts', 'Alerts for the team');
SELECT pg_dash.define_channel('quiet');
SELECT pg_dash.define_query('by_mood', 'SELECT name FROM app.people WHERE mood = :mood ORDER BY name',
    description => 'People in a mood', cache_ttl => 30, refresh_on => ARRAY['people', 'moods']);
SELECT pg_dash.define_query('everyone',
    $q$SELECT name, mood::text AS mood, 'it''s \ fine' AS note FROM app.people ORDER BY name$q$);
SELECT pg_dash.define_action('cheer', 'app.cheer(jsonb, jsonb)', 'Cheers someone up');
SELECT pg_dash.define_page('team', E'# Team\n<|{mood}|selector|lov=sad;ok;happy|>\n'
    '<|{by_mood}|table|>\n<|Cheer|button|on_action=cheer|>\n', description => 'Who is happy');
SELECT pg_dash.define_page('team/all', E'<|{everyone}|table|>\n', title => 'Everyone''s "list"');
SQL

# Every definition as text; with timestamps when $exact (a restore keeps them).
sub definitions
{
	my ($node, $db, $exact) = @_;
	my $ts = $exact ? "|| format(' %s %s', created_at, updated_at)" : '';
	my $cts = $exact ? "|| format(' %s', created_at)" : '';
	return $node->safe_psql($db // 'postgres', <<"SQL");
SELECT d FROM (
    SELECT format('channel %s %s', name, description) $cts FROM pg_dash.channels
    UNION ALL
    SELECT format('query %s %s %s %s %s %s %s %s %s %s', name, sql, statement, params, param_types,
                  columns, description, cache_ttl, refresh_on, reads_state) $ts
    FROM pg_dash.queries
    UNION ALL
    SELECT format('action %s %s %s', name, function, description) $ts FROM pg_dash.actions
    UNION ALL
    SELECT format('page %s %s %s %s %s %s %s', path, title, description, source, tree, bindings,
                  actions) $ts
    FROM pg_dash.pages
) AS defs (d) ORDER BY d COLLATE "C"
SQL
}

# One request; the decoded JSON body in {json}.
sub req
{
	my ($port, $method, $path, %o) = @_;
	my @h = @{ $o{headers} // [] };
	push @h, "Cookie: pg_dash_session=$o{token}" if defined $o{token};
	push @h, 'X-CSRF-Token: ' . csrf_of($o{token}) if defined $o{token} && $method !~ /^(GET|HEAD)$/;
	push @h, 'Content-Type: application/json' if defined $o{body};
	my $r = http($port, $method, $path, headers => \@h, body => $o{body});
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

# Checks over HTTP that the definitions serve: the enum-typed query, both
# pages, the action; and that the channels are open.
sub check_served
{
	my ($node, $port, $what) = @_;
	my $r = req($port, 'GET', '/api/query/by_mood?mood=happy');
	is($r->{status}, 200, "$what: the query with an enum parameter answers")
	  or diag($r->{body});
	is_deeply([ map { $_->[0] } @{ $r->{json}{rows} // [] } ], [ 'ann', 'cy' ],
		"$what: the enum parameter selects the rows");
	$r = req($port, 'GET', '/api/query/by_mood?mood=angry');
	is($r->{status}, 400, "$what: a value outside the enum is refused");
	$r = req($port, 'GET', '/api/query/everyone');
	is($r->{json}{rows}[0][2], q{it's \ fine}, "$what: a query with quotes and a backslash");
	$r = req($port, 'GET', '/api/page/team');
	is($r->{status}, 200, "$what: the page serves");
	is($r->{json}{title}, 'Team', "$what: the page's title");
	is_deeply($r->{json}{tree}{bindings}, [ 'mood', 'by_mood' ], "$what: the page's bindings");
	is(req($port, 'GET', '/p/team')->{status}, 200, "$what: the page view serves");
	is(req($port, 'GET', '/api/page/team/all')->{json}{title}, q{Everyone's "list"},
		"$what: a nested page with its own title");
	$r = req($port, 'GET', '/api/state');
	my ($token) = ($r->{headers}{'set-cookie'} // '') =~ /^pg_dash_session=([A-Za-z0-9_-]+);/;
	$r = req($port, 'POST', '/api/action/cheer', token => $token,
		body => '{"payload":{"who":"bob"}}');
	is($r->{status}, 200, "$what: the action runs") or diag($r->{body});
	like($r->{body}, qr/"cheered":\s*"bob"/, "$what: the action calls its function");
	is($node->safe_psql('postgres',
		"SELECT pg_dash.channel_allowed('alerts') AND pg_dash.channel_allowed('quiet')"),
		't', "$what: the channels are open");
}

my $dir = PostgreSQL::Test::Utils::tempdir;

# --- the source: a node with definitions and transient rows
# The dropped table uses up OIDs, so that app.mood gets another OID in the
# restored cluster (checked below): a type kept by OID would not be found.
my ($source, $source_port) = start_node('source', workers => 1, conf => $conf,
	setup => "CREATE ROLE dash_reader;\nCREATE TABLE burn (a int, b int); DROP TABLE burn;\n$app$defs");
check_served($source, $source_port, 'source');
$source->safe_psql('postgres', <<'SQL');
INSERT INTO pg_dash.session_state (id, data, expires_at) VALUES ('s1', '{"k": 1}', now() + interval '1 day');
SELECT pg_dash.publish('alerts', jsonb_build_object('big', repeat('x', 9000)));
SQL
my $transient = "SELECT format('%s sessions, %s messages', "
  . "(SELECT count(*) FROM pg_dash.session_state WHERE id = 's1'), (SELECT count(*) FROM pg_dash.messages))";
is($source->safe_psql('postgres', $transient), '1 sessions, 1 messages',
	'the source has a session and a stored message');
my $source_defs = definitions($source, 'postgres', 1);

$source->command_ok([ 'pg_dump', '-Fc', '-f', "$dir/custom.dump", '-d', 'postgres' ],
	'pg_dump in the custom format');
$source->command_ok([ 'pg_dump', '-f', "$dir/plain.sql", '-d', 'postgres' ],
	'pg_dump as plain SQL');

# --- (a) restore into a fresh cluster that preloads pg_dash; roles are
# cluster-wide and not in a database's dump (pg_dumpall --globals-only)
my ($restored, $restored_port) = start_node('restored', workers => 1, conf => $conf,
	create_extension => 0, setup => 'CREATE ROLE dash_reader');
$restored->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', 'postgres', "$dir/custom.dump" ],
	'pg_restore into a fresh cluster');
is(definitions($restored, 'postgres', 1), $source_defs,
	'pg_restore brings back every definition as it was');
isnt($restored->safe_psql('postgres', "SELECT 'app.mood'::regtype::oid"),
	$source->safe_psql('postgres', "SELECT 'app.mood'::regtype::oid"),
	'the enum has another OID in the restored cluster');
is($restored->safe_psql('postgres', $transient), '0 sessions, 0 messages',
	'sessions and stored messages are not dumped');
check_served($restored, $restored_port, 'restored');

$restored->safe_psql('postgres', 'CREATE DATABASE plain');
$restored->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'plain', '-f', "$dir/plain.sql" ],
	'a plain SQL dump runs in a fresh database');
is(definitions($restored, 'plain', 1), $source_defs,
	'the plain SQL dump brings back every definition as it was');
is($restored->safe_psql('plain',
	"SELECT param_types = ARRAY['app.mood'::regtype] FROM pg_dash.queries WHERE name = 'by_mood'"),
	't', 'the parameter type is the enum of the restored database');

# --- (b) export() on one node, run on another
my $export = $source->safe_psql('postgres', 'SELECT pg_dash.export()');
like($export, qr/^SELECT pg_dash\.define_query\(\n    name => 'by_mood',/m,
	'export() writes define_query() calls with named arguments');
like($export, qr/define_channel.*define_query.*define_action.*define_page/s,
	'export() writes channels, queries, actions, pages in that order');
my $err = '';
$source->psql('postgres', 'SET ROLE dash_reader; SELECT pg_dash.export()', stderr => \$err);
like($err, qr/permission denied for function export/, 'export() is refused to other roles');

my ($copy, $copy_port) = start_node('copy', workers => 1, conf => $conf,
	setup => "CREATE ROLE dash_reader;\n$app");
$copy->safe_psql('postgres', $export);
is(definitions($copy), definitions($source), 'the exported script recreates every definition');
$copy->safe_psql('postgres', $export);
is(definitions($copy), definitions($source), 'running it again changes nothing');
is($copy->safe_psql('postgres', 'SELECT pg_dash.export()'), $export,
	'the copy exports the same script');
check_served($copy, $copy_port, 'exported');

# --- (c) upgrade from 0.1.0 with definitions in place
my ($old, $old_port) = start_node('upgrade', workers => 1, conf => $conf,
	create_extension => 0,
	setup => "CREATE EXTENSION pg_dash VERSION '0.1.0';\nCREATE ROLE dash_reader;\n$app$defs");
is($old->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_dash'"),
	'0.1.0', 'version 0.1.0 installed');
check_served($old, $old_port, '0.1.0');

# what 0.1.0 and 0.2.0 both have
my $kept = <<'SQL';
SELECT format('%s %s %s %s %s %s %s %s %s %s %s', name, sql, statement,
              (SELECT jsonb_agg(p - 'type_oid') FROM jsonb_array_elements(params) p), columns,
              description, cache_ttl, refresh_on, reads_state, created_at, updated_at)
FROM pg_dash.queries
UNION ALL SELECT format('%s', to_jsonb(c) - 'access') FROM pg_dash.channels c
UNION ALL SELECT format('%s', to_jsonb(a) - 'access') FROM pg_dash.actions a
UNION ALL SELECT format('%s', to_jsonb(p) - 'access') FROM pg_dash.pages p
ORDER BY 1
SQL
my $before = $old->safe_psql('postgres', $kept);
$old->safe_psql('postgres', 'ALTER EXTENSION pg_dash UPDATE');
is($old->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_dash'"),
	'0.2.0', 'ALTER EXTENSION pg_dash UPDATE reaches 0.2.0');
is($old->safe_psql('postgres', $kept), $before, 'the update keeps every definition');
is(definitions($old), definitions($source), 'updated definitions equal new ones');
check_served($old, $old_port, 'updated');
is($old->safe_psql('postgres', 'SELECT pg_dash.export()'), $export,
	'the updated install exports the same script as a new one');

# The objects of the updated install against a new one in another database:
# each extension member with its definition, columns, constraints, indexes,
# triggers, comments and grants, and the configuration tables.
my $describe = <<'SQL';
WITH ext AS (SELECT oid, extversion, extconfig, extcondition FROM pg_extension WHERE extname = 'pg_dash'),
member AS (
    SELECT d.classid, d.objid
    FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
)
SELECT format('extension %s, configuration tables %s, conditions %s', extversion,
              (SELECT array_agg(c::regclass::text ORDER BY c::regclass::text) FROM unnest(extconfig) c),
              extcondition)
FROM ext
UNION ALL
SELECT * FROM (
    SELECT pg_describe_object(m.classid, m.objid, 0)
        || coalesce(E'\n  comment: ' || obj_description(m.objid, m.classid::regclass::name), '')
        || coalesce(E'\n  initial privileges: ' || (SELECT i.initprivs::text FROM pg_init_privs i
                                                   WHERE i.classoid = m.classid AND i.objoid = m.objid
                                                     AND i.objsubid = 0), '')
        || E'\n  ' || CASE m.classid
        WHEN 'pg_proc'::regclass THEN
            (SELECT format('acl %s; ', p.proacl)
                 || CASE WHEN p.prokind = 'a'
                         THEN format('aggregate (%s) sfunc %s stype %s final %s',
                                     pg_get_function_arguments(p.oid), a.aggtransfn::regprocedure,
                                     format_type(a.aggtranstype, NULL), a.aggfinalfn::regprocedure)
                         ELSE pg_get_functiondef(p.oid) END
             FROM pg_proc p LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid WHERE p.oid = m.objid)
        WHEN 'pg_class'::regclass THEN
            (SELECT format('kind %s, persistence %s, options %s, acl %s', c.relkind, c.relpersistence,
                           c.reloptions, c.relacl)
                 || coalesce(E'\n  view: ' || pg_get_viewdef(c.oid), '')
                 || coalesce(E'\n  columns: ' || (
                        SELECT string_agg(format('%s %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                                 CASE WHEN a.attnotnull THEN ' not null' END,
                                                 ' default ' || pg_get_expr(ad.adbin, ad.adrelid),
                                                 ' comment ' || col_description(c.oid, a.attnum)),
                                          ', ' ORDER BY a.attnum)
                        FROM pg_attribute a
                        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
                 || coalesce(E'\n  constraints: ' || (
                        SELECT string_agg(co.conname || ' ' || pg_get_constraintdef(co.oid), ', '
                                          ORDER BY co.conname)
                        FROM pg_constraint co WHERE co.conrelid = c.oid), '')
                 || coalesce(E'\n  indexes: ' || (
                        SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY 1)
                        FROM pg_index i WHERE i.indrelid = c.oid), '')
                 || coalesce(E'\n  triggers: ' || (
                        SELECT string_agg(pg_get_triggerdef(t.oid), ', ' ORDER BY t.tgname)
                        FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '')
             FROM pg_class c WHERE c.oid = m.objid)
        WHEN 'pg_namespace'::regclass THEN
            (SELECT format('acl %s', n.nspacl) FROM pg_namespace n WHERE n.oid = m.objid)
        ELSE '' END
    FROM member m
    ORDER BY 1
) AS members
SQL
# Each object's description by its first line, so that a difference names it.
sub objects
{
	my ($text) = @_;
	return { map { (split /\n/, $_, 2)[0] => $_ } split /\n(?=\S)/, $text };
}
$old->safe_psql('postgres', 'CREATE DATABASE fresh');
$old->safe_psql('fresh', 'CREATE EXTENSION pg_dash');
my $fresh_objects = objects($old->safe_psql('fresh', $describe));
ok(exists $fresh_objects->{'function pg_dash.export()'}, 'the description lists the members');
is_deeply(objects($old->safe_psql('postgres', $describe)), $fresh_objects,
	'an updated install has the same objects as a new one');

# a definition made after the update
$old->safe_psql('postgres',
	"SELECT pg_dash.define_query('sad', 'SELECT count(*) AS n FROM app.people WHERE mood = :m')");
my $r = req($old_port, 'GET', '/api/query/sad?m=sad');
is_deeply($r->{json}{rows}, [ [1] ], 'a query defined after the update answers');

done_testing();
