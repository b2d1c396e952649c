# pg_dash's own TLS: HTTPS and WSS with a self-signed certificate, on a
# port of its own beside plain HTTP and on pg_dash.port itself, the
# redirect-only listener, Secure cookies and HSTS only over TLS, and the
# certificate reloaded on SIGHUP (a broken one leaves the old in place).
use strict;
use warnings;

use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use lib 't';
use PgDashTest;
use PgDashWs;

my $dir = PostgreSQL::Test::Utils::tempdir();

# A self-signed certificate for 127.0.0.1 that is its own CA.
sub make_cert
{
	my ($name, $cn) = @_;
	my ($out, $err);
	IPC::Run::run([ 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
		'-subj', "/CN=$cn", '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
		'-keyout', "$dir/$name.key", '-out', "$dir/$name.crt" ], '>', \$out, '2>', \$err)
	  or die "openssl: $err";
	chmod 0600, "$dir/$name.key";
	return "$dir/$name.crt";
}

# The subject of the certificate a TLS port presents.
sub served_subject
{
	my ($port) = @_;
	my ($out, $err, $subject);
	IPC::Run::run([ 'openssl', 's_client', '-connect', "127.0.0.1:$port", '-servername', 'localhost' ],
		'<', \'', '>', \$out, '2>', \$err);
	IPC::Run::run([ 'openssl', 'x509', '-noout', '-subject' ], '<', \$out, '>', \$subject, '2>', \$err);
	return $subject // '';
}

my $ca1 = make_cert('one', 'pg-dash-test-one');
system("cp $dir/one.crt $dir/served.crt && cp $dir/one.key $dir/served.key") == 0 or die;
chmod 0600, "$dir/served.key";
my $tls_port = PostgreSQL::Test::Cluster::get_free_port();
my $redirect_port = PostgreSQL::Test::Cluster::get_free_port();

# HTTPS on pg_dash.ssl_port beside plain HTTP, the certificate from pg_dash's settings
my ($node, $port) = start_node('tls',
	conf => join("\n",
		"pg_dash.ssl = on",
		"pg_dash.ssl_port = $tls_port",
		"pg_dash.redirect_port = $redirect_port",
		"pg_dash.ssl_cert_file = '$dir/served.crt'",
		"pg_dash.ssl_key_file = '$dir/served.key'",
		"pg_dash.header_timeout = 2",
		"pg_dash.role = 'dash_reader'"),
	setup => <<'SQL');
CREATE ROLE dash_reader;
GRANT USAGE ON SCHEMA pg_dash TO dash_reader;
SELECT pg_dash.define_query('one', 'SELECT 1 AS one');
SQL

my $r = http($tls_port, 'GET', '/healthz', https => $ca1);
is($r->{status}, 200, 'HTTPS answers with the configured certificate');
like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=31536000$/, 'HSTS over HTTPS');
$r = http($port, 'GET', '/healthz');
is($r->{status}, 200, 'plain HTTP stays on pg_dash.port');
ok(!exists $r->{headers}{'strict-transport-security'}, 'no HSTS over plain HTTP');

# Secure cookies only over TLS, whatever a client claims
$r = http($tls_port, 'PUT', '/api/state/k', https => $ca1, body => '"v"',
	headers => ['Content-Type: application/json']);
is($r->{status}, 200, 'state write over HTTPS');
like($r->{cookies}{pg_dash_session} // '', qr/; Secure$/, 'session cookie is Secure over HTTPS');
like($r->{cookies}{pg_dash_csrf} // '', qr/; Secure$/, 'CSRF cookie is Secure over HTTPS');
$r = http($port, 'PUT', '/api/state/k', body => '"v"',
	headers => [ 'Content-Type: application/json', 'X-Forwarded-Proto: https' ]);
is($r->{status}, 200, 'state write over HTTP');
ok(($r->{cookies}{pg_dash_session} // 'none') !~ /Secure/,
	'no Secure over HTTP, even when an untrusted client says X-Forwarded-Proto: https');
ok(!exists $r->{headers}{'strict-transport-security'}, 'nor HSTS');

# an API request runs in an executor: the answer still goes through TLS
$r = http($tls_port, 'GET', '/api/query/one', https => $ca1);
is($r->{status}, 200, 'a named query over HTTPS');
like($r->{body}, qr/"rows":\[\[1\]\]/, 'its result');
like($r->{headers}{'strict-transport-security'} // '', qr/max-age/, 'HSTS on an executor\'s answer');

# a large static file through TLS, byte for byte what plain HTTP serves
my $plain = http($port, 'GET', '/vendor/echarts.min.js');
my $tls = http($tls_port, 'GET', '/vendor/echarts.min.js', https => $ca1);
ok(length($plain->{body}) > 500_000, 'a large file');
ok($tls->{body} eq $plain->{body}, 'arrives whole over TLS');

# plain HTTP to the TLS port gets nothing, and the worker carries on
$r = http($tls_port, 'GET', '/healthz');
is($r->{status}, 0, 'plain HTTP on the TLS port is not answered');
$r = raw_request($tls_port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout => 2);
unlike($r, qr/HTTP\/1\.1 200/, 'not even raw');
is(http($tls_port, 'GET', '/healthz', https => $ca1)->{status}, 200, 'HTTPS still served');

# a client that never finishes its handshake is closed at pg_dash.header_timeout
{
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tls_port, Proto => 'tcp')
	  or die "connect: $!";
	my $t0 = time;
	my $n = sysread($sock, my $buf, 100);
	my $waited = time - $t0;
	ok(!$n && $waited > 1.5 && $waited < 8, "a silent TLS client is closed after the header timeout (${waited}s)");
	close $sock;
}

# WSS: the WebSocket protocol over TLS
my $ws = PgDashWs->connect(port => $tls_port, protocol => 'pg_dash.v1', tls => { SSL_ca_file => $ca1 });
my $hello = $ws->recv_json;
is($hello->{type}, 'hello', 'WSS handshake and hello');
$ws->send_json({ type => 'query', id => 'q', name => 'one', params => {} });
my $res = $ws->recv_json;
is_deeply($res->{rows}, [ [1] ], 'a query over WSS');
$ws->send_json({ type => 'ping', id => 'p' });
is($ws->recv_json->{type}, 'pong', 'ping over WSS');
$ws->close;

# the redirect listener only redirects, to the same URL over HTTPS
$r = http($redirect_port, 'GET', '/p/sales?region=North');
is($r->{status}, 308, 'redirect listener answers 308');
is($r->{headers}{location}, "https://127.0.0.1:$tls_port/p/sales?region=North", 'to the HTTPS URL');
$r = http($redirect_port, 'GET', '/api/query/one');
is($r->{status}, 308, 'the API is not served there either');
$r = http($redirect_port, 'GET', '/healthz', headers => ['Host: evil.example']);
is($r->{status}, 421, 'no redirect to a host that is not ours');

# SIGHUP: a new certificate is served to new connections
like(served_subject($tls_port), qr/pg-dash-test-one/, 'the first certificate is served');
my $ca2 = make_cert('two', 'pg-dash-test-two');
system("cp $dir/two.crt $dir/served.crt && cp $dir/two.key $dir/served.key") == 0 or die;
$node->reload;
ok(wait_until(sub { served_subject($tls_port) =~ /pg-dash-test-two/ }, 10),
	'after SIGHUP the new certificate is served');
is(http($tls_port, 'GET', '/healthz', https => $ca2)->{status}, 200, 'and verifies');

# a key that does not match: the served certificate stays, with a warning
my $log_offset = -s $node->logfile;
system("cp $dir/one.key $dir/served.key") == 0 or die;
$node->reload;
ok(wait_until(sub { slurp_file($node->logfile, $log_offset) =~ /keeps its previous certificate/ }, 10),
	'a mismatched key is refused with a warning');
like(served_subject($tls_port), qr/pg-dash-test-two/, 'the previous certificate is still served');
is(http($tls_port, 'GET', '/healthz', https => $ca2)->{status}, 200, 'HTTPS still works');
$node->stop;

# HTTPS on pg_dash.port itself, with PostgreSQL's own ssl_cert_file and ssl_key_file
my $ca3 = make_cert('pg', 'pg-dash-test-pg');
my ($node2, $port2) = start_node('tls_same_port',
	https => $ca3,
	conf => join("\n",
		"pg_dash.ssl = on",
		"ssl_cert_file = '$dir/pg.crt'",
		"ssl_key_file = '$dir/pg.key'"));
$r = http($port2, 'GET', '/healthz', https => $ca3);
is($r->{status}, 200, 'HTTPS on pg_dash.port with PostgreSQL\'s certificate');
is(http($port2, 'GET', '/healthz')->{status}, 0, 'and no plain HTTP there');
$ws = PgDashWs->connect(port => $port2, protocol => 'pg_dash.v1', tls => { SSL_ca_file => $ca3 });
is($ws->recv_json->{type}, 'hello', 'WSS on pg_dash.port');
$ws->close;
$node2->stop;

# a certificate that cannot be loaded is a clear error in the log
my $node3 = PostgreSQL::Test::Cluster->new('tls_missing');
my $port3 = PostgreSQL::Test::Cluster::get_free_port();
$node3->init;
$node3->append_conf('postgresql.conf', join("\n",
	"shared_preload_libraries = 'pg_dash'", "pg_dash.port = $port3", "pg_dash.workers = 1",
	"pg_dash.listen_addresses = '127.0.0.1'", "pg_dash.ssl = on",
	"pg_dash.ssl_cert_file = '$dir/missing.crt'", ''));
$node3->start;
ok(wait_until(sub { slurp_file($node3->logfile) =~ /cannot serve HTTPS: could not load the certificate file ".*missing\.crt"/ }, 20),
	'a missing certificate file is named in the log');
$node3->stop;

done_testing();
