#!/usr/bin/env bash
# A peer that vanishes mid-transfer gives the application an error, not a
# hang: the kernel's nc against `wirepath run --app tcp-echo:7 --app
# tcp-source:19` on one backend (tap, afpacket or afxdp), wire_impair
# between them passing every frame until it is told to cut the wire.
#   1. nc downloads from tcp-source; the wire is cut. wirepath's data go
#      unacknowledged, its retransmission timer backs off
#      net.ipv4.tcp_retries2 times (set to 3 live, for 0.2+0.4+0.8+1.6 s
#      rather than Linux's ~15 minutes) and gives up: TCPAbortOnTimeout,
#      and the connection is gone from `wirepath stat sockets` while
#      wirepath runs on. (The kernel's nc, a receiver with nothing to
#      send, would wait forever, as it would against any vanished peer.)
#   2. nc uploads through tcp-echo; the wire is cut. Both ends have data
#      in flight: wirepath's echo times out as above, and the kernel's nc
#      (tcp_retries2 3 in its namespace too) times out and exits.
#   3. The wire mended, nc downloads from tcp-source and is killed
#      (SIGKILL) mid-transfer: the kernel resets the connection (unread
#      data), wirepath counts the reset received and frees it.
# At the stop: tcp-source accepted 2, aborted 2; tcp-echo accepted 1,
# aborted 1; the timeouts are calls that failed (errors); nothing left
# open.
#
# Namespaces and devices as in wire_lib.sh; addresses 10.9.18.0/24 (tap),
# 10.9.19.0/24 (afpacket), 10.9.20.0/24 (afxdp), only inside them.
#   usage: test_tcp_vanish.sh PATH/TO/wirepath tap|afpacket|afxdp \
#                             PATH/TO/wire_impair
set -Eeuo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")
backend=$2
impair_exe=$(realpath "$3")
here=$(dirname "$(realpath "$0")")
# shellcheck source=wire_lib.sh
. "$here/wire_lib.sh"

if [ -z "${WP_VANISH_NS:-}" ]; then
	wire_prereqs "$backend" nc sysctl
	said=$(nc -h 2>&1 || true)
	grep -qE '^[[:space:]]+-N[[:space:]]' <<<"$said" || skip "needs OpenBSD netcat (nc -N)"
	WP_VANISH_NS=1 exec unshare --net -- bash "$0" "$@"
fi
wire_init

case "$backend" in
tap) pfx=10.9.18 ;;
afpacket) pfx=10.9.19 ;;
afxdp) pfx=10.9.20 ;;
esac
head -c 50000000 /dev/urandom >"$tmp/random50"

with_relay=1
wire_up "$backend" wpv "$pfx" --stats --app tcp-echo:7 --app tcp-source:19
reach
"$wp" sysctl --ctl "$tmp/wp.ctl" net.ipv4.tcp_retries2=3 >/dev/null
"${ns[@]}" sysctl -qw net.ipv4.tcp_retries2=3

# A TcpExt counter of the running stack (printed only when not 0).
tcpext() { # NAME
	local v
	v=$("$wp" stat netstat --ctl "$tmp/wp.ctl" | sed -n "s/^ *$1: \\([0-9]*\\)\$/\\1/p")
	echo "${v:-0}"
}

# wirepath's connections on PORT, now: TCP sockets and descriptors
# (both tables of stat sockets) other than the listener.
conns() { # PORT
	"$wp" stat sockets --ctl "$tmp/wp.ctl" |
		awk -v a="$addr:$1" '$2 != "LISTEN" && $5 == a' | wc -l
}

# The same counter of the kernel's end (/proc/net/netstat of its namespace).
kernel_tcpext() { # NAME
	"${ns[@]}" cat /proc/net/netstat | awk -v k="$1" '
		$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) if ($i == k) c = i; h = 1; next }
		$1 == "TcpExt:" && h { print $c; exit }'
}

timeouts_are() { [ "$(tcpext TCPAbortOnTimeout)" = "$1" ]; }
no_conns() { [ "$(conns "$1")" = 0 ]; }

grows_past() { # FILE BYTES: wait until FILE has more than BYTES
	for _ in $(seq 1200); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ] && return 0
		alive
		sleep 0.05
	done
	fail "$1 stayed at $(stat -c %s "$1") bytes"
}

# A bounded wait for COMMAND to succeed (run anew each time: a function,
# not a test of values expanded once).
until_true() { # WHAT COMMAND...
	local what=$1
	shift
	for _ in $(seq 300); do
		"$@" && return 0
		alive
		sleep 0.1
	done
	"$wp" stat sockets --ctl "$tmp/wp.ctl" >&2 || true
	"$wp" stat netstat --ctl "$tmp/wp.ctl" >&2 || true
	"$wp" sysctl --ctl "$tmp/wp.ctl" net.ipv4.tcp_retries2 >&2 || true
	cat "$tmp/wp.log" >&2
	fail "$what"
}

# --- 1. the wire cut under a download ----------------------------------------
"${ns[@]}" nc -d "$addr" 19 >"$tmp/dl1" 2>/dev/null &
nc1=$!
pids+=("$nc1")
grows_past "$tmp/dl1" 2000000
[ "$(conns 19)" -gt 0 ] || fail "tcp-source: no connection while downloading"
kill -USR1 "$impair_pid"
until_true "tcp-source's connection did not time out" timeouts_are 1
until_true "the timed-out connection is still listed" no_conns 19
kill "$nc1"
wait "$nc1" 2>/dev/null || true
echo "1. wire cut under a download: wirepath timed out and freed the connection"

# --- 2. the wire cut under an upload through the echo ------------------------
kill -USR2 "$impair_pid"
("${ns[@]}" timeout 300 nc -N "$addr" 7 <"$tmp/random50" >"$tmp/back" 2>"$tmp/nc2.err"; echo $? >"$tmp/nc2.st") &
nc2=$!
pids+=("$nc2")
grows_past "$tmp/back" 2000000
kill -USR1 "$impair_pid"
until_true "tcp-echo's connection did not time out" timeouts_are 2
until_true "the timed-out echo connection is still listed" no_conns 7
# The kernel's end gives up too (its own retransmissions, tcp_retries2 3)
# and nc exits (with 0: OpenBSD nc ends quietly when a write fails).
wait "$nc2" || true
st=$(cat "$tmp/nc2.st")
[ "$st" != 124 ] || fail "nc through the cut wire hung"
[ "$(stat -c %s "$tmp/back")" -lt 50000000 ] || fail "the whole echo came back through a cut wire"
v=$(kernel_tcpext TCPAbortOnTimeout)
[ "${v:-0}" -ge 1 ] || fail "the kernel's side did not time out (TCPAbortOnTimeout ${v:-?})"
echo "2. wire cut under an upload: both ends timed out, nc exited"

# --- 3. the peer killed mid-download -------------------------------------------
kill -USR2 "$impair_pid"
resets0=$("$wp" stat netstat --ctl "$tmp/wp.ctl" | sed -n 's/^ *\([0-9]*\) connection resets received$/\1/p')
"${ns[@]}" nc -d "$addr" 19 >"$tmp/dl3" 2>/dev/null &
nc3=$!
pids+=("$nc3")
grows_past "$tmp/dl3" 2000000
kill -KILL "$nc3"
wait "$nc3" 2>/dev/null || true
until_true "the reset connection is still listed" no_conns 19
resets=$("$wp" stat netstat --ctl "$tmp/wp.ctl" | sed -n 's/^ *\([0-9]*\) connection resets received$/\1/p')
[ "$resets" -gt "$resets0" ] || fail "no reset received ($resets0 before, $resets after)"
echo "3. peer killed mid-download: reset received, connection freed"

stop_wp
stop_impair >/dev/null
v=$(app_counter tcp-source:19 accepted)
[ "$v" = 2 ] || { cat "$tmp/wp.log" >&2; fail "tcp-source accepted ${v:-?}, not 2"; }
v=$(app_counter tcp-source:19 aborted)
[ "$v" = 2 ] || { cat "$tmp/wp.log" >&2; fail "tcp-source aborted ${v:-?}, not 2"; }
v=$(app_counter tcp-source:19 errors)
[ "${v:-0}" -ge 1 ] || { cat "$tmp/wp.log" >&2; fail "tcp-source errors ${v:-?}, none (the timeout)"; }
v=$(app_counter tcp-echo:7 accepted)
[ "$v" = 1 ] || { cat "$tmp/wp.log" >&2; fail "tcp-echo accepted ${v:-?}, not 1"; }
v=$(app_counter tcp-echo:7 aborted)
[ "$v" = 1 ] || { cat "$tmp/wp.log" >&2; fail "tcp-echo aborted ${v:-?}, not 1"; }
v=$(app_counter tcp-echo:7 errors)
[ "${v:-0}" -ge 1 ] || { cat "$tmp/wp.log" >&2; fail "tcp-echo errors ${v:-?}, none (the timeout)"; }
for a in tcp-echo:7 tcp-source:19; do
	v=$(app_counter "$a" active)
	[ "$v" = 0 ] || { cat "$tmp/wp.log" >&2; fail "$a: $v connections still active"; }
done
v=$(sed -n 's/^ *TCPAbortOnTimeout: \([0-9]*\)$/\1/p' "$tmp/wp.log" | head -1)
[ "$v" = 2 ] || { cat "$tmp/wp.log" >&2; fail "TCPAbortOnTimeout ${v:-0}, not 2"; }
wire_down
echo "tcp_vanish $backend: OK"
