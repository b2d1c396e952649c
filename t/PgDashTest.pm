# PgDashTest: helpers shared by pg_dash's TAP tests.
#
# start_node() creates a cluster that preloads pg_dash on a free port and
# waits until every worker answers; http() sends one request with curl;
# raw_request() sends bytes over a plain socket for what curl will not send.
package PgDashTest;

use strict;
use warnings;

use Exporter 'import';
use Digest::SHA qw(hmac_sha256 sha256_hex);
use IO::Socket::INET;
use IO::Select;
use IPC::Run;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time sleep);

our @EXPORT = qw(start_node start_standby http raw_request wait_for_workers json_decode
  worker_pids wait_until csrf_of jwt_hs256);

# Creates, configures and starts a node with pg_dash; returns ($node, $http_port).
# Options: workers, conf (postgresql.conf lines), setup (SQL run once the
# extension exists), create_extension => 0 (setup creates it, or a restore),
# https => CA file (pg_dash.port serves TLS), wait_port (the port to poll).
# init (options of PostgreSQL::Test::Cluster's init: allows_streaming => 1).
sub start_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $workers = $opts{workers} // 2;
	$node->init(%{ $opts{init} // {} });
	$node->append_conf('postgresql.conf', join("\n",
		"shared_preload_libraries = 'pg_dash'",
		"pg_dash.port = $port",
		"pg_dash.workers = $workers",
		"pg_dash.listen_addresses = '127.0.0.1'",
		($opts{conf} // ''), ''));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_dash') if $opts{create_extension} // 1;
	$node->safe_psql('postgres', $opts{setup}) if $opts{setup};
	wait_for_workers($node, $opts{wait_port} // $port, $workers, $opts{https});
	return ($node, $port);
}

# Creates and starts a streaming hot standby of a primary made by start_node
# (init => { allows_streaming => 1 }) from its backup (taken once, named
# 'pg_dash'), with pg_dash on a port of its own; returns ($node, $http_port).
# Options: workers, conf (postgresql.conf lines).
sub start_standby
{
	my ($primary, $name, %opts) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $workers = $opts{workers} // 2;
	$primary->backup('pg_dash') unless -d $primary->backup_dir . '/pg_dash';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init_from_backup($primary, 'pg_dash', has_streaming => 1);
	$node->append_conf('postgresql.conf', join("\n",
		"pg_dash.port = $port", "pg_dash.workers = $workers", ($opts{conf} // ''), ''));
	$node->start;
	wait_for_workers($node, $port, $workers);
	return ($node, $port);
}

# Polls until a condition holds or the timeout (seconds) passes.
sub wait_until
{
	my ($cond, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	while (time < $deadline)
	{
		return 1 if $cond->();
		sleep 0.05;
	}
	return 0;
}

# Waits until n workers run and the port answers /healthz.
sub wait_for_workers
{
	my ($node, $port, $n, $https) = @_;
	wait_until(sub {
		my $count = $node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_dash'");
		return 0 unless $count == $n;
		my $r = http($port, 'GET', '/healthz', https => $https);
		return $r->{status} == 200;
	}, 30) or die "pg_dash workers did not come up";
}

# The pids of the running workers, by worker number.
sub worker_pids
{
	my ($node) = @_;
	my %pids;
	for my $line (split /\n/, $node->safe_psql('postgres',
		"SELECT application_name, pid FROM pg_stat_activity WHERE backend_type = 'pg_dash'"))
	{
		my ($app, $pid) = split /\|/, $line;
		$pids{$1} = $pid if $app =~ /worker (\d+)/;
	}
	return \%pids;
}

sub json_decode { return JSON::PP->new->utf8->allow_nonref->decode(shift) }

# The CSRF token of a session cookie's value (docs/api.md): what the server
# sets in the pg_dash_csrf cookie and wants back in X-CSRF-Token.
sub csrf_of { return sha256_hex('pg_dash csrf:' . shift) }

# A bearer token (JWT) for pg_dash.jwt_secret $secret with these claims, HS256.
sub jwt_hs256
{
	my ($secret, %claims) = @_;
	my $input = encode_base64url(encode_json({ alg => 'HS256', typ => 'JWT' })) . '.'
	  . encode_base64url(encode_json(\%claims));
	return "$input." . encode_base64url(hmac_sha256($input, $secret));
}

# One request with curl: returns {status, headers => {lc name => value}, body}.
sub http
{
	my ($port, $method, $path, %opts) = @_;
	my @cmd = ('curl', '-s', '-i', '--max-time', ($opts{timeout} // 10), '-X', $method);
	push @cmd, '--http1.1';
	for my $h (@{ $opts{headers} // [] }) { push @cmd, '-H', $h }
	if (defined $opts{body})
	{
		push @cmd, '--data-binary', '@-';
	}
	push @cmd, '--compressed' if $opts{compressed};
	# https => CA file: the request goes over TLS, checked against that CA
	push @cmd, '--cacert', $opts{https} if $opts{https};
	push @cmd, ($opts{https} ? 'https' : 'http') . "://127.0.0.1:$port$path";
	my ($out, $err);
	IPC::Run::run(\@cmd, '<', \($opts{body} // ''), '>', \$out, '2>', \$err);
	return parse_response($out);
}

# Splits a raw HTTP response into status, headers and body.
sub parse_response
{
	my ($raw) = @_;
	my %r = (status => 0, headers => {}, body => '', raw => $raw // '');
	return \%r unless defined $raw && length $raw;
	# skip interim 100 Continue responses
	$raw =~ s/^HTTP\/1\.1 100[^\r\n]*\r?\n\r?\n//;
	my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
	my @lines = split /\r?\n/, $head;
	my $status_line = shift @lines;
	($r{status}) = $status_line =~ m{^HTTP/\S+ (\d+)};
	for (@lines)
	{
		my ($k, $v) = split /:\s*/, $_, 2;
		$r{headers}{ lc $k } = $v;
		# every Set-Cookie, by cookie name (headers keeps the last one)
		$r{cookies}{$1} = $v if lc $k eq 'set-cookie' && $v =~ /^([^=;\s]+)=/;
	}
	$r{body} = $body // '';
	return \%r;
}

# Sends raw bytes and reads until the server closes or the timeout passes.
sub raw_request
{
	my ($port, $bytes, %opts) = @_;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
		Proto => 'tcp', Timeout => 5) or die "connect: $!";
	$sock->autoflush(1);
	print $sock $bytes;
	my $sel = IO::Select->new($sock);
	my $resp = '';
	my $deadline = time + ($opts{timeout} // 5);
	while (time < $deadline)
	{
		last unless $sel->can_read($deadline - time);
		my $n = sysread($sock, my $buf, 65536);
		last unless $n;
		$resp .= $buf;
		last if $opts{until} && $resp =~ $opts{until};
	}
	close $sock;
	return $resp;
}

1;
