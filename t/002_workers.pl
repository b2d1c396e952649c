# Worker lifecycle: pg_stat_activity, SIGHUP reload on a live connection,
# restart after termination, SIGTERM and pg_ctl stop.
use strict;
use warnings;

use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;

my ($node, $port) = start_node('workers');

my $rows = $node->safe_psql('postgres',
	"SELECT application_name FROM pg_stat_activity WHERE backend_type = 'pg_dash' ORDER BY 1");
is($rows, "pg_dash worker 0\npg_dash worker 1", 'both workers visible in pg_stat_activity');

# SIGHUP: a new www_dir takes effect on an open keep-alive connection
my $dir = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$dir/index.html" or die;
print $fh "<html>reloaded page</html>\n";
close $fh;
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
  or die "connect: $!";
$sock->autoflush(1);

# reads one response with a Content-Length from the socket
my $read_response = sub {
	my $buf = '';
	while ($buf !~ /\r\n\r\n/) { sysread($sock, $buf, 65536, length $buf) or last }
	my ($len) = $buf =~ /Content-Length: (\d+)/i;
	while (length($buf) < index($buf, "\r\n\r\n") + 4 + $len)
	{
		sysread($sock, $buf, 65536, length $buf) or last;
	}
	return $buf;
};
print $sock "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
unlike($read_response->(), qr/reloaded page/, 'installed start page before reload');
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.www_dir = '$dir'");
$node->reload;
my $ok = wait_until(sub {
	print $sock "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	return $read_response->() =~ /reloaded page/;
}, 10);
ok($ok, 'reloaded www_dir served on the same keep-alive connection');
close $sock;
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.www_dir");
$node->reload;

# a terminated worker is restarted and serves again
my $pids = worker_pids($node);
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pids->{0})");
ok(wait_until(sub {
	my $now = worker_pids($node);
	return defined $now->{0} && $now->{0} != $pids->{0};
}, 15), 'terminated worker restarted by the postmaster');
my %seen;
wait_until(sub {
	my $r = http($port, 'GET', '/healthz');
	$seen{ json_decode($r->{body})->{pid} } = 1 if $r->{status} == 200;
	return keys %seen >= 2;
}, 15);
my $new = worker_pids($node);
ok($seen{ $new->{0} }, 'restarted worker serves requests');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the database kept running');

# SIGTERM ends a worker within a second
$pids = worker_pids($node);
my $t0 = time;
kill 'TERM', $pids->{1};
ok(wait_until(sub { !kill(0, $pids->{1}) }, 5), 'worker ended after SIGTERM');
cmp_ok(time - $t0, '<', 1.0, 'SIGTERM handled within a second');
ok(wait_until(sub { (worker_pids($node)->{1} // 0) > 0 }, 15), 'worker restarted after SIGTERM');

# an idle keep-alive connection is closed after pg_dash.idle_timeout
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.idle_timeout = '1s'");
$node->reload;
sleep 0.5;
$sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') or die;
print $sock "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
$read_response->();
my $t_idle = time;
my $eof = '';
my $n = sysread($sock, $eof, 10);
ok(defined $n && $n == 0, 'an idle keep-alive connection is closed');
cmp_ok(time - $t_idle, '<', 5, 'after about pg_dash.idle_timeout');
close $sock;
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.idle_timeout");
$node->reload;

# past pg_dash.max_connections (per worker) a connection gets 503 and is closed
# (the per-address cap, half of it by default, is lifted to test this one alone)
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.max_connections = 2");
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.max_connections_per_ip = 0");
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.workers = 1");
$node->restart;
wait_for_workers($node, $port, 1);
my @held = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') } 1 .. 2;
sleep 0.3;
my $over = raw_request($port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
like($over, qr{^HTTP/1\.1 503}, 'a connection over pg_dash.max_connections gets 503');
like($over, qr/too many connections/, 'with the reason');
close $_ for @held;
ok(wait_until(sub { http($port, 'GET', '/healthz')->{status} == 200 }, 5), 'served again once connections close');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.max_connections");
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.max_connections_per_ip");
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.workers");
$node->restart;
wait_for_workers($node, $port, 2);

# a second cluster configured with the same port does not take a share of
# its connections (SO_REUSEPORT would let it): it refuses to start pg_dash
my $other = PostgreSQL::Test::Cluster->new('other');
$other->init;
$other->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_dash'\npg_dash.port = $port\n"
	  . "pg_dash.listen_addresses = '127.0.0.1'\n");
$other->start;
ok(wait_until(sub { slurp_file($other->logfile) =~ /pg_dash\.port $port is already used by another PostgreSQL cluster/ }, 10),
	'a second cluster on the same port is refused with a warning');
is($other->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_dash'"),
	'0', 'and starts no pg_dash workers');
my %ours = map { $_ => 1 } values %{ worker_pids($node) };
my $foreign = grep { !$ours{ json_decode(http($port, 'GET', '/healthz')->{body})->{pid} } } 1 .. 20;
is($foreign, 0, 'every connection still reaches the first cluster');
$other->stop;

# a clean stop does not hang, even with a client connected
$sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
$t0 = time;
$node->stop('fast');
cmp_ok(time - $t0, '<', 10, 'pg_ctl stop -m fast finishes promptly');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 1),
	'port closed after stop');

done_testing();
