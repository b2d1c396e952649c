# Realtime on hot standbys: a standby's serving workers LISTEN on the
# primary (pg_dash.primary_conninfo) and hand a notification to their
# WebSocket clients only once their replay has passed the primary's WAL
# position read after it.  NOTIFY on the primary reaches the clients of both
# standbys in order, exactly once; a live query on a standby shows the row
# whose insert triggered it, also with replay delayed; past
# pg_dash.replay_wait clients are told "lagging"; the primary stopped, they
# are told "missed" and resume when it is back; a promoted standby keeps its
# clients and serves writes and its own notifications.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use lib 't';
use PgDashTest;
use PgDashWs;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
CREATE ROLE dash_link LOGIN;
SELECT pg_dash.grant_link('dash_link');
CREATE TABLE public.items (id serial PRIMARY KEY, v int);
GRANT SELECT ON public.items TO dash_reader;
SELECT pg_dash.define_channel('ticks');
SELECT pg_dash.define_query('items_count', 'SELECT count(*) AS n FROM public.items',
                            refresh_on => '{items_changed}', cache_ttl => 600);
SQL

my ($primary, $pport) = start_node('primary', init => { allows_streaming => 1 },
	setup => $setup, conf => "pg_dash.role = 'dash_reader'\nmax_connections = 40");
my $link = sprintf("host=%s port=%d dbname=postgres user=dash_link", $primary->host, $primary->port);
my ($sa, $aport) = start_standby($primary, 'standby_a', conf => "pg_dash.primary_conninfo = '$link'");
# standby b replays each commit a second late
my ($sb, $bport) = start_standby($primary, 'standby_b',
	conf => "pg_dash.primary_conninfo = '$link'\nrecovery_min_apply_delay = '1s'\npg_dash.replay_wait = '10s'");

sub healthz { return json_decode(http(shift, 'GET', '/healthz')->{body}) }

# Waits until both serving workers of a port have their link to the
# primary: /healthz answers for the worker a connection reaches (each keeps
# its own link), so it is asked until each worker has said so.
sub links_up
{
	my ($port, $timeout) = @_;
	my %up;
	return wait_until(sub {
		my $h = healthz($port);
		$up{ $h->{worker} } = $h->{primary_reachable} ? 1 : 0;
		return $up{0} && $up{1};
	}, $timeout);
}

for my $s ([ 'a', $aport ], [ 'b', $bport ])
{
	ok(links_up($s->[1]), "standby $s->[0]: /healthz says the primary is reachable");
}

# A WebSocket client of a port, subscribed to ticks and watching items_count.
sub client
{
	my ($port) = @_;
	my ($ws) = PgDashWs->open_dash(port => $port);
	$ws->send_json({ type => 'subscribe', channel => 'ticks' });
	$ws->recv_until(sub { $_->{data} =~ /"subscribed"/ }, timeout => 5);
	$ws->send_json({ type => 'watch', id => 'w', name => 'items_count', params => {} });
	$ws->recv_until(sub { $_->{data} =~ /"type":"result"/ }, timeout => 5);
	return $ws;
}

# The JSON messages a client receives within a few seconds (until one
# satisfies $until, when given).
sub messages
{
	my ($ws, $secs, $until) = @_;
	my @m;
	my $deadline = time + $secs;
	while (time < $deadline)
	{
		my $f = $ws->recv_until(sub { $_->{opcode} eq 'text' }, timeout => $deadline - time);
		last unless $f;
		my $m = json_decode($f->{data});
		push @m, $m;
		last if $until && $until->($m);
	}
	return @m;
}

my %ws = (primary => client($pport), a => client($aport), b => client($bport));
# the links LISTEN once the clients subscribed
sleep 1;

# --- NOTIFY on the primary: every client, in order, exactly once
$primary->safe_psql('postgres', "SELECT pg_dash.publish('ticks', jsonb_build_object('n', $_))") for 1 .. 5;
for my $who (qw(primary a b))
{
	my @n = map { $_->{payload}{n} } grep { $_->{type} eq 'notify' }
	  messages($ws{$who}, 4, sub { ($_[0]{payload}{n} // 0) == 5 });
	# nothing more arrives
	push @n, map { $_->{payload}{n} } grep { $_->{type} eq 'notify' } messages($ws{$who}, 0.5);
	is_deeply(\@n, [ 1 .. 5 ], "$who: the five notifications in order, once each");
}

# --- a message over NOTIFY's limit (stored in an UNLOGGED table) too
$primary->safe_psql('postgres', "SELECT pg_dash.publish('ticks', jsonb_build_object('big', repeat('x', 20000)))");
for my $who (qw(primary a b))
{
	my ($m) = grep { $_->{type} eq 'notify' } messages($ws{$who}, 5, sub { $_[0]{type} eq 'notify' });
	is(length($m ? $m->{payload}{big} // '' : ''), 20000, "$who: a 20 kB message arrives whole");
}

# --- promptly: a standby's client hears a notification as soon as the commit
# is replayed (here 100 ms late), not at the loop's next once-a-second tick
$sa->append_conf('postgresql.conf', "recovery_min_apply_delay = '100ms'");
$sa->reload;
sleep 0.5;
my @lat;
for my $i (1 .. 5)
{
	$primary->safe_psql('postgres',
		"BEGIN; INSERT INTO public.items (v) VALUES (0); SELECT pg_dash.publish('ticks', '{\"lat\": $i}'); COMMIT;");
	my $t = time;
	my ($m) = grep { $_->{type} eq 'notify' } messages($ws{a}, 3, sub { ($_[0]{payload}{lat} // 0) == $i });
	push @lat, time - $t if $m;
	sleep 0.3;
}
@lat = sort { $a <=> $b } @lat;
is(scalar @lat, 5, 'standby a: every notification arrives');
cmp_ok($lat[2] // 9, '<', 0.35, 'and the median one within 350 ms of the commit');
$sa->append_conf('postgresql.conf', "recovery_min_apply_delay = 0");
$sa->reload;
$primary->safe_psql('postgres', 'DELETE FROM public.items');
messages($ws{$_}, 0.5) for qw(primary b);

# --- a live query shows the row whose insert triggered it, even replayed late
is(json_decode(http($aport, 'GET', '/api/query/items_count')->{body})->{rows}[0][0], 0,
	'standby a caches items_count (0 rows)');
$primary->safe_psql('postgres', "INSERT INTO public.items (v) VALUES (1); NOTIFY items_changed");
for my $who (qw(a b))
{
	my ($r) = grep { $_->{type} eq 'result' } messages($ws{$who}, 6, sub { $_[0]{type} eq 'result' });
	is($r && $r->{rows}[0][0], 1, "standby $who: the live query's next result has the new row");
}
is(json_decode(http($aport, 'GET', '/api/query/items_count')->{body})->{rows}[0][0], 1,
	"standby a's cache was invalidated after the replay");
my $t0 = time;
$primary->safe_psql('postgres', "INSERT INTO public.items (v) VALUES (2); NOTIFY items_changed");
my ($r) = grep { $_->{type} eq 'result' } messages($ws{b}, 6, sub { $_[0]{type} eq 'result' });
is($r && $r->{rows}[0][0], 2, 'standby b (replay 1 s late): the result has the row');
cmp_ok(time - $t0, '>=', 0.9, 'and came after the delayed replay');
messages($ws{$_}, 0.3) for qw(primary a);

# --- past pg_dash.replay_wait, standby b's clients are told they lag
$sb->append_conf('postgresql.conf', "pg_dash.replay_wait = '100ms'");
$sb->reload;
sleep 0.5;
$primary->safe_psql('postgres', "INSERT INTO public.items (v) VALUES (3); NOTIFY items_changed");
my @m = messages($ws{b}, 4, sub { $_[0]{type} eq 'lagging' });
ok((grep { $_->{type} eq 'lagging' } @m), 'a notification held past replay_wait: lagging');
like((grep { $_->{type} eq 'lagging' } @m)[0]{ms} // '', qr/^\d+$/, 'with how long it waited');
messages($ws{b}, 2);

# --- a notification lost while a link was down outdates the standby's cache
my $cached = json_decode(http($aport, 'GET', '/api/query/items_count')->{body})->{rows}[0][0];
$primary->safe_psql('postgres', q{
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pg_dash listen';
	INSERT INTO public.items (v) VALUES (5);
	NOTIFY items_changed;
});
$primary->wait_for_catchup($sa);
ok(wait_until(sub {
	(json_decode(http($aport, 'GET', '/api/query/items_count')->{body})->{rows}[0][0] // 0) == $cached + 1
}, 10), 'standby a: once its links are back, the cached result is read again');
messages($ws{$_}, 1) for qw(primary a b);

# --- the primary stopped: missed; back: everything resumes on the same sockets
$ws{primary}->close;
$primary->stop('fast');
for my $who (qw(a b))
{
	@m = messages($ws{$who}, 5, sub { $_[0]{type} eq 'missed' });
	ok((grep { $_->{type} eq 'missed' } @m), "standby $who: its clients are told they missed notifications");
	is(healthz($who eq 'a' ? $aport : $bport)->{primary_reachable}, JSON::PP::false(),
		"standby $who: /healthz says the primary is unreachable");
}
$primary->start;
ok(links_up($aport, 15) && links_up($bport, 15), 'both links are back');
$sb->append_conf('postgresql.conf', "pg_dash.replay_wait = '10s'");
$sb->reload;
sleep 0.5;
$primary->safe_psql('postgres', "SELECT pg_dash.publish('ticks', '{\"n\": 6}')");
for my $who (qw(a b))
{
	my @n = map { $_->{payload}{n} } grep { $_->{type} eq 'notify' }
	  messages($ws{$who}, 5, sub { ($_[0]{payload}{n} // 0) == 6 });
	is_deeply(\@n, [6], "standby $who: notifications arrive again without reconnecting");
}

# --- standby a promoted: keeps its client, writes, sends its own notifications
$sa->promote;
ok(wait_until(sub { healthz($aport)->{role} eq 'primary' }), 'promoted: /healthz says primary');
$sa->safe_psql('postgres', "SELECT pg_dash.publish('ticks', '{\"n\": 7}')");
my @n = map { $_->{payload}{n} } grep { $_->{type} eq 'notify' }
  messages($ws{a}, 5, sub { ($_[0]{payload}{n} // 0) == 7 });
is_deeply(\@n, [7], "the promoted server's client gets its NOTIFY on the same socket");
$sa->safe_psql('postgres', "INSERT INTO public.items (v) VALUES (4); NOTIFY items_changed");
($r) = grep { $_->{type} eq 'result' } messages($ws{a}, 5, sub { $_[0]{type} eq 'result' });
is($r && $r->{rows}[0][0], 5, 'and its live query re-runs');
my $put = http($aport, 'PUT', '/api/state/region', body => '"North"',
	headers => ['Content-Type: application/json']);
is($put->{status}, 200, 'it accepts state writes itself (session state starts afresh)');

$_->close for values %ws;
$_->stop for ($primary, $sa, $sb);
done_testing();
