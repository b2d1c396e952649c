# WebSocket fan-out under load: clients on both workers get every
# notification once and in order; 1,000 clients each get a burst of 200.
use strict;
use warnings;

use IO::Select;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

my $nclients = 1000;

# each client is a socket in this process, plus a few for psql and curl
my $nofile = `sh -c 'ulimit -n'`;
chomp $nofile;
BAIL_OUT("ulimit -n is $nofile; this test holds $nclients sockets, raise it above "
	  . ($nclients + 100))
  if $nofile ne 'unlimited' && $nofile < $nclients + 100;

my ($node, $port) = start_node('wsload',
	setup => "SELECT pg_dash.define_channel('news'); SELECT pg_dash.define_channel('load');",
	conf => "pg_dash.max_connections = 2000");

# Opens a client and reads its hello; returns ($ws, $worker).
sub ws_open
{
	my ($ws, $hello) = PgDashWs->open_dash(port => $port, timeout => 10);
	return ($ws, $hello->{worker});
}

# Polls many clients until $done->() is true or the timeout passes; calls
# $on_msg->($index, $message) for every message.
sub poll_clients
{
	my ($clients, $on_msg, $done, $timeout) = @_;
	my %by_fd;
	my $sel = IO::Select->new;
	for my $i (0 .. $#$clients)
	{
		my $sock = $clients->[$i]->socket or next;
		$by_fd{ fileno($sock) } = $i;
		$sel->add($sock);
	}
	my $deadline = time + $timeout;
	while (!$done->() && time < $deadline)
	{
		for my $sock ($sel->can_read(0.2))
		{
			my $i = $by_fd{ fileno($sock) };
			for my $m ($clients->[$i]->pending_messages)
			{
				$on_msg->($i, $m);
				$sel->remove($sock) if $m->{opcode} eq 'eof';
			}
		}
	}
	return $done->();
}

# Subscribes every client to a channel and waits for all acknowledgements.
sub subscribe_all
{
	my ($clients, $channel) = @_;
	my $acks = 0;
	my @bad;
	$_->send_json({ type => 'subscribe', channel => $channel }) for @$clients;
	poll_clients($clients, sub {
		my ($i, $m) = @_;
		if ($m->{opcode} eq 'text' && $m->{data} =~ /"type":"subscribed"/) { $acks++ }
		elsif ($m->{opcode} ne 'pong') { push @bad, "client $i: " . PgDashWs::describe($m) }
	}, sub { $acks == @$clients || @bad }, 30);
	diag(join("\n", @bad[ 0 .. ($#bad < 4 ? $#bad : 4) ])) if @bad;
	return $acks;
}

# Collects the "seq" of every notify each client gets, until each has $n.
sub collect_seqs
{
	my ($clients, $n, $timeout) = @_;
	my @seqs = map { [] } @$clients;
	my @other = map { [] } @$clients;
	my $complete = 0;
	poll_clients($clients, sub {
		my ($i, $m) = @_;
		if ($m->{opcode} eq 'text' && $m->{data} =~ /^\{"type":"notify".*"seq"\s*:\s*(\d+)/)
		{
			push @{ $seqs[$i] }, $1;
			$complete++ if @{ $seqs[$i] } == $n;
		}
		else
		{
			push @{ $other[$i] }, PgDashWs::describe($m);
		}
	}, sub { $complete == @$clients }, $timeout);
	# anything extra that is already on its way
	poll_clients($clients, sub {
		my ($i, $m) = @_;
		push @{ $seqs[$i] }, $1
		  if $m->{opcode} eq 'text' && $m->{data} =~ /^\{"type":"notify".*"seq"\s*:\s*(\d+)/;
	}, sub { 0 }, 0.5);
	return (\@seqs, \@other);
}

# Sums up which clients did not get exactly 1..$n in order.
sub check_seqs
{
	my ($seqs, $other, $n, $name) = @_;
	my $want = join(',', 1 .. $n);
	my @wrong = grep { join(',', @{ $seqs->[$_] }) ne $want } 0 .. $#$seqs;
	my @counts = map { scalar @{ $seqs->[$_] } } 0 .. $#$seqs;
	my @not_n = grep { $_ != $n } @counts;
	is(scalar(@not_n), 0, "$name: every client received exactly $n notifications")
	  or diag(scalar(@not_n) . ' clients got another count, e.g. '
		  . join(', ', map { "client $_: " . scalar @{ $seqs->[$_] } } @wrong[ 0 .. ($#wrong < 4 ? $#wrong : 4) ]));
	is(scalar(@wrong), 0, "$name: every client received 1..$n in order, each once")
	  or do
	{
		my $i = $wrong[0];
		my @s = @{ $seqs->[$i] };
		diag("client $i got " . scalar(@s) . ": " . join(',', @s[ 0 .. ($#s < 40 ? $#s : 40) ]));
		diag("client $i other messages: " . join(', ', @{ $other->[$i] }[ 0 .. 4 ])) if @{ $other->[$i] };
	};
}

# --- two workers: every message once, in order, to clients on both ----------------

my (@pair, %on_worker);
for (1 .. 60)
{
	my ($ws, $worker) = ws_open();
	next if ($on_worker{$worker} // 0) >= 3;
	push @pair, $ws;
	$on_worker{$worker}++;
	last if keys %on_worker >= 2 && !grep { $_ < 3 } values %on_worker;
}
is_deeply([ sort keys %on_worker ], [ 0, 1 ], 'clients connected to both workers (hello frame "worker")');
is(subscribe_all(\@pair, 'news'), scalar @pair, 'all clients subscribed to news');

$node->safe_psql('postgres',
	q{BEGIN; SELECT pg_notify('news', json_build_object('seq', i)::text) FROM generate_series(1, 100) i; COMMIT;});
$node->safe_psql('postgres',
	join("\n", map { "SELECT pg_notify('news', '{\"seq\": $_}');" } 101 .. 300));
my ($seqs, $other) = collect_seqs(\@pair, 300, 20);
check_seqs($seqs, $other, 300, '2 workers, 100 in one transaction + 200 separate');
$_->disconnect for @pair;

# --- 1,000 clients, a burst of 200 ----------------------------------------------------

my $t0 = time;
my (@clients, %per_worker);
for (1 .. $nclients)
{
	my ($ws, $worker) = ws_open();
	push @clients, $ws;
	$per_worker{$worker}++;
}
is(scalar @clients, $nclients, sprintf("$nclients clients connected in %.1f s (%s)", time - $t0,
	join(', ', map { "worker $_: $per_worker{$_}" } sort keys %per_worker)));
is(scalar(keys %per_worker), 2, 'the clients are spread over both workers');
is(subscribe_all(\@clients, 'load'), $nclients, "all $nclients clients subscribed");

$t0 = time;
$node->safe_psql('postgres',
	join("\n", map { "SELECT pg_notify('load', '{\"seq\": $_}');" } 1 .. 200));
($seqs, $other) = collect_seqs(\@clients, 200, 30);
my $elapsed = time - $t0;
check_seqs($seqs, $other, 200, "$nclients clients, burst of 200");
note(sprintf('%d messages received in %.1f s', $nclients * 200, $elapsed));
my $r = http($port, 'GET', '/metrics');
my ($slow) = $r->{body} =~ /^pg_dash_ws_slow_clients_closed_total(?:\{[^}]*\})? (\d+)/m;
is($slow // 0, 0, 'no client was closed as too slow');

$_->disconnect for @clients;

$node->stop('fast');
done_testing();
