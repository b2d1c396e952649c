# PgDashWs.pm
#	A small WebSocket (RFC 6455) client for pg_dash's TAP tests.
#
# Pure Perl, core modules only.  One object is one connection; it can be
# driven with blocking calls (recv, recv_json, recv_until) or, when a test
# holds many connections, polled with IO::Select on $ws->socket and drained
# with $ws->pending_messages, which never blocks.
#
# Messages are hashrefs:
#	{ opcode => 'text'|'binary'|'close'|'ping'|'pong'|'eof',
#	  opnum => 1|2|8|9|10 (undef for eof),
#	  data => raw payload bytes (reassembled across fragments),
#	  text => data decoded from UTF-8 (text messages; undef if invalid),
#	  close_code => code or undef, close_reason => reason bytes or '' (close),
#	  rsv => RSV bits of the (first) frame, masked => 1 if the server masked }
#
# Server pings are answered with pongs automatically and not returned unless
# connect(keep_pings => 1).  A server close frame is echoed automatically
# (unless connect(auto_close => 0)) and returned.  'eof' means the peer
# closed the TCP connection; recv keeps returning it afterwards.
package PgDashWs;

use strict;
use warnings;

use Carp;
use Digest::SHA qw(sha1);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);

use constant GUID => '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

my %OPNAME = (0 => 'cont', 1 => 'text', 2 => 'binary', 8 => 'close', 9 => 'ping', 10 => 'pong');
my %OPNUM = reverse %OPNAME;

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# Opens a TCP connection and performs the upgrade handshake.
#	host, port, path ('/ws'), headers ({name => value}; overrides the default
#	handshake headers case-insensitively, undef removes one), protocol
#	(Sec-WebSocket-Protocol), timeout (5), key (Sec-WebSocket-Key), version
#	(13), keep_pings (0), auto_close (1), tls ({IO::Socket::SSL options}:
#	WebSocket over TLS, e.g. { SSL_ca_file => 'ca.crt' }).
# Dies with the status line and body if the upgrade is refused.
sub connect
{
	my ($class, %args) = @_;
	my $host = $args{host} // '127.0.0.1';
	my $port = $args{port} // croak 'PgDashWs->connect: port is required';
	my $path = $args{path} // '/ws';
	my $timeout = $args{timeout} // 5;
	my $deadline = time + $timeout;

	my $sock = IO::Socket::INET->new(
		PeerAddr => $host,
		PeerPort => $port,
		Proto => 'tcp',
		Timeout => $timeout)
	  or die "PgDashWs: cannot connect to $host:$port: $@\n";
	if ($args{tls})
	{
		require IO::Socket::SSL;
		IO::Socket::SSL->start_SSL($sock, SSL_hostname => $host, %{ $args{tls} })
		  or die "PgDashWs: TLS handshake with $host:$port failed: "
		  . IO::Socket::SSL::errstr() . "\n";
	}
	binmode $sock;
	$sock->autoflush(1);
	$sock->blocking(0);

	my $self = bless {
		sock => $sock,
		host => $host,
		port => $port,
		timeout => $timeout,
		keep_pings => $args{keep_pings} // 0,
		auto_close => $args{auto_close} // 1,
		rbuf => '',
		queue => [],
		frag_op => undef,
		frag_data => '',
		frag_rsv => 0,
		eof => 0,
		eof_reported => 0,
		close_sent => 0,
		close_received => 0,
		error => undef,
		protocol_errors => [],
	}, $class;

	my $key = $args{key} // encode_base64(join('', map { chr(int(rand(256))) } 1 .. 16), '');
	my @hdrs = (
		[ 'Host', "$host:$port" ],
		[ 'Upgrade', 'websocket' ],
		[ 'Connection', 'Upgrade' ],
		[ 'Sec-WebSocket-Key', $key ],
		[ 'Sec-WebSocket-Version', $args{version} // 13 ],
	);
	push @hdrs, [ 'Sec-WebSocket-Protocol', $args{protocol} ]
	  if defined $args{protocol};
	my $extra = $args{headers} // {};
	for my $name (sort keys %$extra)
	{
		@hdrs = grep { lc($_->[0]) ne lc($name) } @hdrs;
		push @hdrs, [ $name, $extra->{$name} ] if defined $extra->{$name};
	}
	my $req = "GET $path HTTP/1.1\r\n"
	  . join('', map { "$_->[0]: $_->[1]\r\n" } @hdrs) . "\r\n";
	$self->_write_all($req, $deadline)
	  or die "PgDashWs: sending the handshake failed: $self->{error}\n";

	# read the response head
	my $end;
	while (($end = index($self->{rbuf}, "\r\n\r\n")) < 0)
	{
		my $r = $self->_fill($deadline);
		die "PgDashWs: timeout waiting for the handshake response\n"
		  . "got: $self->{rbuf}\n"
		  if $r == 0;
		die "PgDashWs: connection closed during the handshake\n"
		  . "got: $self->{rbuf}\n"
		  if $r < 0;
	}
	my $head = substr($self->{rbuf}, 0, $end);
	substr($self->{rbuf}, 0, $end + 4) = '';
	my ($status_line, @lines) = split /\r\n/, $head;
	my %rh;
	for my $l (@lines)
	{
		next unless $l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/;
		my $n = lc $1;
		$rh{$n} = exists $rh{$n} ? "$rh{$n}, $2" : $2;
	}
	$self->{status_line} = $status_line;
	$self->{response_headers} = \%rh;
	my ($status) = $status_line =~ m{^HTTP/1\.[01] (\d{3})};

	if (!defined $status || $status != 101)
	{
		my $body = $self->_read_body(\%rh, $deadline);
		CORE::close($sock);
		die "PgDashWs: upgrade refused: $status_line\n$body\n";
	}

	my $want = encode_base64(sha1($key . GUID), '');
	my $got = $rh{'sec-websocket-accept'} // '(none)';
	if ($got ne $want)
	{
		CORE::close($sock);
		die "PgDashWs: bad Sec-WebSocket-Accept: got $got, want $want\n";
	}
	if (lc($rh{upgrade} // '') ne 'websocket'
		|| ($rh{connection} // '') !~ /\bupgrade\b/i)
	{
		CORE::close($sock);
		die "PgDashWs: 101 response without Upgrade: websocket / Connection: Upgrade\n";
	}
	return $self;
}

# Reads the body of a refused handshake (Content-Length or until EOF).
sub _read_body
{
	my ($self, $rh, $deadline) = @_;
	my $cl = $rh->{'content-length'};
	my $limit = time + 1 < $deadline ? time + 1 : $deadline;

	if (defined $cl && $cl =~ /^\d+$/)
	{
		while (length($self->{rbuf}) < $cl)
		{
			last if $self->_fill($deadline) <= 0;
		}
		return substr($self->{rbuf}, 0, $cl);
	}
	while (1)
	{
		last if $self->_fill($limit) <= 0;
	}
	return $self->{rbuf};
}

# Reads what the socket has into rbuf, waiting until deadline (undef: do not
# wait).  Returns 1 if bytes arrived, 0 on timeout, -1 on EOF or error.
sub _fill
{
	my ($self, $deadline) = @_;
	return -1 if $self->{eof} || !$self->{sock};
	my $sel = IO::Select->new($self->{sock});
	while (1)
	{
		my $wait = defined $deadline ? $deadline - time : 0;
		$wait = 0 if $wait < 0;
		# bytes TLS already decrypted are not seen by select
		my $pending = $self->{sock}->can('pending') && $self->{sock}->pending;
		my @ready = $pending ? ($self->{sock}) : $sel->can_read($wait);
		if (!@ready)
		{
			return 0 if !defined $deadline || time >= $deadline;
			next;				# EINTR
		}
		my $n = sysread($self->{sock}, my $chunk, 65536);
		if (!defined $n)
		{
			next if $! == EINTR;
			if ($! == EAGAIN || $! == EWOULDBLOCK)
			{
				return 0 if !defined $deadline || time >= $deadline;
				next;
			}
			$self->{error} = "read: $!";
			$self->{eof} = 1;
			return -1;
		}
		if ($n == 0)
		{
			$self->{eof} = 1;
			return -1;
		}
		$self->{rbuf} .= $chunk;
		return 1;
	}
}

# Writes all of $data, waiting for the socket up to deadline.  Returns true
# on success; on failure sets $self->{error} and returns false.
sub _write_all
{
	my ($self, $data, $deadline) = @_;
	local $SIG{PIPE} = 'IGNORE';
	if (!$self->{sock})
	{
		$self->{error} = 'not connected';
		return 0;
	}
	$deadline //= time + $self->{timeout};
	my $sel = IO::Select->new($self->{sock});
	my $off = 0;
	while ($off < length $data)
	{
		my $n = syswrite($self->{sock}, $data, length($data) - $off, $off);
		if (!defined $n)
		{
			next if $! == EINTR;
			if ($! == EAGAIN || $! == EWOULDBLOCK)
			{
				my $wait = $deadline - time;
				if ($wait <= 0)
				{
					$self->{error} = 'write timeout';
					return 0;
				}
				$sel->can_write($wait);
				next;
			}
			$self->{error} = "write: $!";
			return 0;
		}
		$off += $n;
	}
	return 1;
}

# Sends one raw frame.  Arguments: opcode (number or name), payload (''),
# fin (1), mask (1), rsv (0..7, the three RSV bits), mask_key (4 bytes),
# len_form (7, 16 or 64: force a length encoding), length (declared length,
# to lie about it).  Returns true on success.
sub send_frame
{
	my ($self, %a) = @_;
	my $op = $a{opcode} // croak 'send_frame: opcode is required';
	$op = $OPNUM{$op} // croak "send_frame: unknown opcode $op" if $op !~ /^\d+$/;
	my $payload = '' . ($a{payload} // '');	# a string, never a number, for ^
	croak 'send_frame: payload has wide characters' if utf8::is_utf8($payload) && !utf8::downgrade($payload, 1);
	my $fin = $a{fin} // 1;
	my $mask = $a{mask} // 1;
	my $rsv = $a{rsv} // 0;
	my $len = $a{length} // length $payload;
	my $form = $a{len_form} // ($len <= 125 ? 7 : $len <= 0xFFFF ? 16 : 64);

	my $frame = chr(($fin ? 0x80 : 0) | (($rsv & 7) << 4) | ($op & 0x0F));
	my $mbit = $mask ? 0x80 : 0;
	if ($form == 7) { $frame .= chr($mbit | $len); }
	elsif ($form == 16) { $frame .= chr($mbit | 126) . pack('n', $len); }
	else { $frame .= chr($mbit | 127) . pack('NN', int($len / 4294967296), $len % 4294967296); }
	if ($mask)
	{
		my $key = $a{mask_key} // pack('N', int(rand(4294967296)));
		$frame .= $key;
		my $km = substr($key x (int(length($payload) / 4) + 1), 0, length $payload);
		$payload = $payload ^ $km;
	}
	$frame .= $payload;
	return $self->_write_all($frame);
}

# Encodes a Perl string as UTF-8 bytes unless it already is a byte string.
sub _bytes
{
	my ($s) = @_;
	$s //= '';
	utf8::encode($s) if utf8::is_utf8($s);
	return $s;
}

# Sends a text message (characters are encoded as UTF-8).
sub send_text
{
	my ($self, $str, %a) = @_;
	return $self->send_frame(%a, opcode => 1, payload => _bytes($str));
}

# Sends a data structure as a JSON text message.
sub send_json
{
	my ($self, $ref) = @_;
	return $self->send_frame(opcode => 1, payload => $JSON->encode($ref));
}

# Sends a binary message.
sub send_binary
{
	my ($self, $bytes, %a) = @_;
	return $self->send_frame(%a, opcode => 2, payload => $bytes);
}

# Sends a ping.
sub send_ping
{
	my ($self, $data) = @_;
	return $self->send_frame(opcode => 9, payload => _bytes($data));
}

# Sends a pong.
sub send_pong
{
	my ($self, $data) = @_;
	return $self->send_frame(opcode => 10, payload => _bytes($data));
}

# Sends a close frame (no payload if $code is undef); the socket stays open
# so the server's reply can be read with recv.
sub close
{
	my ($self, $code, $reason) = @_;
	my $payload = defined $code ? pack('n', $code) . _bytes($reason) : '';
	$self->{close_sent} = 1;
	return $self->send_frame(opcode => 8, payload => $payload);
}

# Closes the TCP connection at once (no close frame).
sub disconnect
{
	my ($self) = @_;
	if ($self->{sock})
	{
		CORE::close($self->{sock});
		$self->{sock} = undef;
	}
	$self->{eof} = 1;
}

# Parses every complete frame in rbuf into the message queue.
sub _parse
{
	my ($self) = @_;
	while (length($self->{rbuf}) >= 2)
	{
		my ($b0, $b1) = unpack('CC', $self->{rbuf});
		my $fin = $b0 & 0x80;
		my $rsv = ($b0 >> 4) & 7;
		my $op = $b0 & 0x0F;
		my $masked = $b1 & 0x80;
		my $len = $b1 & 0x7F;
		my $hlen = 2;
		if ($len == 126)
		{
			last if length($self->{rbuf}) < 4;
			$len = unpack('n', substr($self->{rbuf}, 2, 2));
			$hlen = 4;
		}
		elsif ($len == 127)
		{
			last if length($self->{rbuf}) < 10;
			my ($hi, $lo) = unpack('NN', substr($self->{rbuf}, 2, 8));
			$len = $hi * 4294967296 + $lo;
			$hlen = 10;
		}
		$hlen += 4 if $masked;
		last if length($self->{rbuf}) < $hlen + $len;

		my $payload = substr($self->{rbuf}, $hlen, $len);
		if ($masked)
		{
			my $key = substr($self->{rbuf}, $hlen - 4, 4);
			$payload ^= substr($key x (int($len / 4) + 1), 0, $len);
			push @{ $self->{protocol_errors} }, 'server frame is masked';
		}
		substr($self->{rbuf}, 0, $hlen + $len) = '';
		push @{ $self->{protocol_errors} }, "RSV bits $rsv set" if $rsv;

		if ($op == 0)
		{
			if (!defined $self->{frag_op})
			{
				push @{ $self->{protocol_errors} }, 'continuation without a message';
				next;
			}
			$self->{frag_data} .= $payload;
			if ($fin)
			{
				$self->_deliver($self->{frag_op}, $self->{frag_data}, $self->{frag_rsv}, $masked);
				$self->{frag_op} = undef;
				$self->{frag_data} = '';
			}
		}
		elsif ($op == 1 || $op == 2)
		{
			push @{ $self->{protocol_errors} }, 'new message inside a fragmented one'
			  if defined $self->{frag_op};
			if ($fin)
			{
				$self->_deliver($op, $payload, $rsv, $masked);
			}
			else
			{
				$self->{frag_op} = $op;
				$self->{frag_data} = $payload;
				$self->{frag_rsv} = $rsv;
			}
		}
		elsif ($op == 9)
		{
			$self->send_pong($payload) unless $self->{close_sent};
			$self->_deliver($op, $payload, $rsv, $masked) if $self->{keep_pings};
		}
		elsif ($op == 8)
		{
			$self->{close_received} = 1;
			if ($self->{auto_close} && !$self->{close_sent})
			{
				$self->{close_sent} = 1;
				$self->send_frame(opcode => 8, payload => length($payload) >= 2 ? substr($payload, 0, 2) : '');
			}
			$self->_deliver($op, $payload, $rsv, $masked);
		}
		else
		{
			push @{ $self->{protocol_errors} }, "opcode $op" if $op != 10;
			$self->_deliver($op, $payload, $rsv, $masked);
		}
	}
}

# Queues one complete message.
sub _deliver
{
	my ($self, $op, $data, $rsv, $masked) = @_;
	my %m = (
		opcode => $OPNAME{$op} // "op$op",
		opnum => $op,
		data => $data,
		rsv => $rsv,
		masked => $masked ? 1 : 0);
	if ($op == 1)
	{
		my $t = $data;
		$m{text} = utf8::decode($t) ? $t : undef;
	}
	if ($op == 8)
	{
		if (length($data) >= 2)
		{
			$m{close_code} = unpack('n', $data);
			$m{close_reason} = substr($data, 2);
		}
		else
		{
			$m{close_code} = undef;
			$m{close_reason} = '';
		}
	}
	push @{ $self->{queue} }, \%m;
}

# Opens a pg_dash.v1 connection (connect's arguments) and reads its hello
# frame; returns ($ws, $hello).  Dies when no hello comes within timeout.
sub open_dash
{
	my ($class, %args) = @_;
	my $ws = $class->connect(protocol => 'pg_dash.v1', %args);
	my $hello = $ws->recv_json(timeout => $args{timeout} // 5);
	croak 'no hello frame' unless $hello && $hello->{type} eq 'hello';
	return ($ws, $hello);
}

# Returns the next message, waiting up to timeout (2) seconds; undef on
# timeout; {opcode => 'eof'} once the peer closed the TCP connection.
sub recv
{
	my ($self, %a) = @_;
	my $deadline = time + ($a{timeout} // 2);
	while (1)
	{
		$self->_parse;
		return shift @{ $self->{queue} } if @{ $self->{queue} };
		if ($self->{eof})
		{
			$self->{eof_reported} = 1;
			return { opcode => 'eof', opnum => undef, data => '' };
		}
		return undef if $self->_fill($deadline) == 0;
	}
}

# Returns the next text message decoded as JSON, skipping pongs; undef on
# timeout.  Dies if the message is not text or not JSON.
sub recv_json
{
	my ($self, %a) = @_;
	my $deadline = time + ($a{timeout} // 2);
	while (1)
	{
		my $left = $deadline - time;
		my $m = $self->recv(timeout => $left > 0 ? $left : 0);
		return undef unless $m;
		next if $m->{opcode} eq 'pong' || $m->{opcode} eq 'ping';
		croak 'recv_json: expected a text message, got ' . describe($m)
		  if $m->{opcode} ne 'text';
		my $v = eval { $JSON->decode($m->{data}) };
		croak "recv_json: not JSON ($@): $m->{data}" if $@;
		return $v;
	}
}

# Returns the first message for which $pred->($msg) is true, skipping
# others; undef on timeout (5 s) or if the connection ends first.
sub recv_until
{
	my ($self, $pred, %a) = @_;
	my $deadline = time + ($a{timeout} // 5);
	while (1)
	{
		my $left = $deadline - time;
		my $m = $self->recv(timeout => $left > 0 ? $left : 0);
		return undef unless $m;
		{
			local $_ = $m;
			return $m if $pred->($m);
		}
		$self->{last_skipped} = $m;
		return undef if $m->{opcode} eq 'eof';
	}
}

# The next JSON text message of a pg_dash.v1 type (e.g. 'page_changed'),
# decoded; others are skipped; undef after timeout (5) seconds.
sub recv_type
{
	my ($self, $type, %a) = @_;
	my $m = $self->recv_until(sub {
		$_->{opcode} eq 'text' && $_->{data} =~ /"type":"\Q$type\E"/;
	}, timeout => $a{timeout} // 5);
	return $m ? JSON::PP->new->utf8->decode($m->{data}) : undef;
}

# Reads whatever has arrived without blocking and returns the complete
# messages (an 'eof' message once, when the peer has closed).
sub pending_messages
{
	my ($self) = @_;
	while (!$self->{eof} && $self->_fill(undef) > 0)
	{
	}
	$self->_parse;
	my @m = @{ $self->{queue} };
	$self->{queue} = [];
	if ($self->{eof} && !$self->{eof_reported})
	{
		$self->{eof_reported} = 1;
		push @m, { opcode => 'eof', opnum => undef, data => '' };
	}
	return @m;
}

# A one-line description of a message, for test diagnostics.
sub describe
{
	my ($m) = @_;
	return 'undef (timeout)' unless $m;
	return 'eof' if $m->{opcode} eq 'eof';
	return "close(" . ($m->{close_code} // 'none') . ", '$m->{close_reason}')"
	  if $m->{opcode} eq 'close';
	my $d = $m->{data};
	$d = substr($d, 0, 200) . '...' if length $d > 200;
	return "$m->{opcode}($d)";
}

# The underlying socket, for IO::Select.
sub socket { return $_[0]->{sock}; }

# Response headers of the handshake (lower-cased names).
sub response_headers { return $_[0]->{response_headers}; }

# Status line of the handshake response.
sub status_line { return $_[0]->{status_line}; }

# Whether the peer has closed the TCP connection.
sub eof { return $_[0]->{eof}; }

# Whether a close frame was received.
sub close_received { return $_[0]->{close_received}; }

# Things the server did that RFC 6455 forbids (masked frames, RSV bits...).
sub protocol_errors { return @{ $_[0]->{protocol_errors} }; }

# The last write or read error, if any.
sub error { return $_[0]->{error}; }

sub DESTROY
{
	my ($self) = @_;
	CORE::close($self->{sock}) if $self->{sock};
}

1;
