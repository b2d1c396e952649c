#!/bin/sh
# Installs the Debian packages pg_dash needs to build, test and run its demo.
# Runs apt-get only for what is missing, so a second run is quick.  Needs
# root (or sudo).  Usage: deps.sh [build|test|bench|demo]
set -eu
what=${1:-build}

pkgs="postgresql-15 postgresql-server-dev-15 postgresql-client-15 libwebsockets-dev
libcjson-dev libpq-dev libssl-dev libkrb5-dev zlib1g-dev make gcc pkg-config curl ca-certificates"
case "$what" in
	test) pkgs="$pkgs libipc-run-perl libio-socket-ssl-perl nginx openssl clang libclang-rt-14-dev chromium fonts-noto-cjk" ;;
	bench) pkgs="$pkgs libipc-run-perl wrk nginx haproxy python3-tornado python3-asyncpg python3-websockets chromium" ;;
	demo) pkgs="$pkgs haproxy" ;;
esac
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
