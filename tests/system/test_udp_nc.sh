#!/usr/bin/env bash
# UDP echo over a real wire with the stock tool: the kernel's `nc -u`
# against `wirepath run --app udp-echo:7` on one backend (tap, afpacket
# or afxdp). One nc sends datagrams one at a time (1, 64, 512, 1000,
# 1472, 3000, 8000 and 1472 bytes of random data); each echo must come
# back whole, byte for byte, before the next goes. 1472 bytes fill a
# 1500-byte MTU; 3000 and 8000 do not fit, so the kernel fragments them
# on the way in, wirepath reassembles them, and fragments its echo on the
# way out for the kernel to reassemble. wirepath's own counters must
# agree: every datagram and byte echoed, the reassemblies and the
# fragments it made, no error.
#
# Namespaces and devices as in wire_lib.sh; addresses 10.9.12.0/24 (tap),
# 10.9.13.0/24 (afpacket), 10.9.14.0/24 (afxdp), only inside them.
#   usage: test_udp_nc.sh PATH/TO/wirepath tap|afpacket|afxdp
set -Eeuo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")
backend=$2
here=$(dirname "$(realpath "$0")")
# shellcheck source=wire_lib.sh
. "$here/wire_lib.sh"

if [ -z "${WP_UDPNC_NS:-}" ]; then
	wire_prereqs "$backend" nc mkfifo cmp
	# OpenBSD netcat (the one with -N): one datagram per read of its
	# input. (Outputs go to variables first: with pipefail, grep -q
	# closing a pipe early would fail the pipeline.)
	said=$(nc -h 2>&1 || true)
	grep -qE '^[[:space:]]+-N[[:space:]]' <<<"$said" || skip "needs OpenBSD netcat"
	WP_UDPNC_NS=1 exec unshare --net -- bash "$0" "$@"
fi
wire_init

case "$backend" in
tap) pfx=10.9.12 ;;
afpacket) pfx=10.9.13 ;;
afxdp) pfx=10.9.14 ;;
esac
wire_up "$backend" wpu "$pfx" --stats --app udp-echo:7
reach

sizes=(1 64 512 1000 1472 3000 8000 1472)
mkfifo "$tmp/in"
"${ns[@]}" nc -u "$addr" 7 <"$tmp/in" >"$tmp/out" 2>"$tmp/nc.err" &
nc_pid=$!
pids+=("$nc_pid")
# The writing end, open for the whole run: nc sees its input end only
# when we are done. Each datagram is one write of at most PIPE_BUF...
# except 8000, which nc still reads whole (one read of what the pipe
# holds, its buffer is 16 KiB) because nothing else is written until its
# echo is back.
exec 3>"$tmp/in"
: >"$tmp/sent"
total=0
for i in "${!sizes[@]}"; do
	n=${sizes[$i]}
	head -c "$n" /dev/urandom >"$tmp/d$i"
	cat "$tmp/d$i" >>"$tmp/sent"
	# One write(2) of the whole datagram (dd with one block).
	dd if="$tmp/d$i" bs="$n" count=1 status=none >&3
	total=$((total + n))
	got=0
	for _ in $(seq 600); do
		got=$(stat -c %s "$tmp/out")
		[ "$got" -ge "$total" ] && break
		alive
		kill -0 "$nc_pid" 2>/dev/null || { cat "$tmp/nc.err" >&2; fail "nc -u exited"; }
		sleep 0.05
	done
	[ "$got" = "$total" ] ||
		{ cat "$tmp/wp.log" >&2; fail "datagram $i ($n bytes): $got bytes back in all, not $total"; }
	cmp "$tmp/out" "$tmp/sent" || fail "datagram $i ($n bytes): the echo differs"
done
exec 3>&-
kill "$nc_pid" 2>/dev/null || true
wait "$nc_pid" 2>/dev/null || true
stop_wp

count=${#sizes[@]}
v=$(app_counter udp-echo:7 handled)
[ "$v" = "$count" ] || { cat "$tmp/wp.log" >&2; fail "udp-echo handled ${v:-?}, not $count"; }
v=$(app_counter udp-echo:7 replies)
[ "$v" = "$count" ] || { cat "$tmp/wp.log" >&2; fail "udp-echo replied ${v:-?}, not $count"; }
for k in rx_bytes tx_bytes; do
	v=$(app_counter udp-echo:7 $k)
	[ "$v" = "$total" ] || { cat "$tmp/wp.log" >&2; fail "udp-echo $k ${v:-?}, not $total"; }
done
v=$(app_counter udp-echo:7 errors)
[ "$v" = 0 ] || { cat "$tmp/wp.log" >&2; fail "udp-echo errors ${v:-?}"; }
# 3000 and 8000 bytes of payload: 3 and 6 fragments each way (1480
# bytes of IP payload per fragment at MTU 1500).
v=$(netstat_counter "packets reassembled ok")
[ "${v:-0}" = 2 ] || { cat "$tmp/wp.log" >&2; fail "reassembled ${v:-0}, not 2"; }
v=$(netstat_counter "fragments created")
[ "${v:-0}" = 9 ] || { cat "$tmp/wp.log" >&2; fail "fragments created ${v:-0}, not 9"; }
wire_down
echo "udp_nc $backend: OK ($count datagrams, $total bytes, echoed intact)"
