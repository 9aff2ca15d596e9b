#!/bin/sh
# make deps: check every build and test dependency; when something is
# missing and we are root with apt-get, install the Debian packages,
# otherwise print the exact install line and fail.
PKGS="libjansson-dev libcurl4-openssl-dev libsqlite3-dev libpcre2-dev
libutf8proc-dev libxml2-dev libssl-dev pkg-config bats bats-assert
bats-support mandoc sqlite3 jq python3 tmux zsh man-db gcc make curl bc
procps less openssl vim-tiny systemd"
missing=""

need_pc() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_dir() { [ -d "$1" ] || missing="$missing $2"; }

need_cmd pkg-config pkg-config
need_cmd cc gcc
need_pc jansson libjansson-dev
need_pc libcurl libcurl4-openssl-dev
need_pc sqlite3 libsqlite3-dev
need_pc libpcre2-8 libpcre2-dev
need_pc libutf8proc libutf8proc-dev
need_pc libxml-2.0 libxml2-dev
need_pc libcrypto libssl-dev
need_cmd bats bats
need_dir /usr/lib/bats/bats-assert bats-assert
need_dir /usr/lib/bats/bats-support bats-support
need_cmd mandoc mandoc
need_cmd sqlite3 sqlite3
need_cmd jq jq
need_cmd python3 python3
need_cmd tmux tmux
need_cmd zsh zsh
need_cmd man man-db
# what the tests drive besides our binaries: curl talks to the fake
# servers, bc checks sums, pgrep finds processes, less is the pager,
# openssl makes a test certificate, vi is the editor a forced command
# must never open, systemd-analyze checks the example units
need_cmd curl curl
need_cmd bc bc
need_cmd pgrep procps
need_cmd less less
need_cmd openssl openssl
need_cmd vi vim-tiny
need_cmd systemd-analyze systemd

[ -z "$missing" ] && exit 0

# ca-certificates rides along: a fresh image may lack it and fetching over
# https would then fail in a way that looks like our bug.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null &&
	apt-get install -y -qq --no-install-recommends $missing \
	    ca-certificates >/dev/null || {
		echo "deps: apt-get install failed" >&2
		exit 1
	}
	exit 0
fi
echo "deps: missing:$missing" >&2
echo "deps: install them with:" >&2
echo "  apt-get install -y $(echo $PKGS)" >&2
exit 1
