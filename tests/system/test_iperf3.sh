#!/usr/bin/env bash
# Stock iperf3 and sockperf clients against `wirepath run --app iperf3:5201
# --app sockperf:11111`, over a TAP device, over AF_PACKET and over AF_XDP
# (when built with it) on a veth pair whose peer is in another namespace:
# TCP forward and reverse (-R), two parallel streams (-P 2), UDP at a
# bit rate forward and reverse; iperf3's JSON must report no error and
# bytes moved; sockperf ping-pong and under-load must get their replies.
# At each stop the server's counters say how many tests it completed and
# that it saw no bad control message.
#
# Everything happens in network namespaces this script creates (as
# test_wires.sh): it runs itself in a fresh one, the veth peer lives in
# another held by a child process, and all go when the script ends, with
# every device in them. Addresses: 10.9.6.0/24 (tap), 10.9.7.0/24 (veth),
# 10.9.8.0/24 (AF_XDP), only inside these namespaces.
#   usage: test_iperf3.sh PATH/TO/wirepath
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")
here=$(dirname "$(realpath "$0")")

if [ -z "${WP_IPERF3_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "not root: needs CAP_NET_ADMIN and CAP_NET_RAW"
	for c in ip ping unshare nsenter ethtool iperf3 sockperf timeout; do
		command -v "$c" >/dev/null || skip "needs $c (scripts/deps.sh)"
	done
	[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"
	[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
	help=$("$wp" run --help 2>&1 || true)
	grep -q "iperf3:PORT" <<<"$help" || skip "wirepath run has no iperf3 app"
	unshare --net true 2>/dev/null || skip "cannot create a network namespace"
	WP_IPERF3_NS=1 exec unshare --net -- bash "$0" "$@"
fi
# shellcheck source=perf_lib.sh
. "$here/perf_lib.sh"

apps=(--app iperf3:5201 --app sockperf:11111)

# sockperf for a few seconds: replies came, none lost.
sockperf_ok() { # NETNS-PID|- ADDR ARGS...
	local ns=() addr=$2 out
	[ "$1" != - ] && ns=(nsenter -t "$1" -n)
	shift 2
	out=$(timeout 60 "${ns[@]}" sockperf "$@" -i "$addr" -p 11111 -t 2 2>&1) ||
		{ echo "$out" >&2; fail "sockperf $*"; }
	grep -q 'ReceivedMessages=[1-9]' <<<"$out" ||
		{ echo "$out" >&2; fail "sockperf $*: no replies"; }
	echo "sockperf $*: $(grep -o 'percentile 50.000 = *[0-9.]*' <<<"$out" | head -1) usec"
}

# The TCP and UDP runs every backend gets.
iperf3_runs() { # NETNS-PID|- ADDR
	iperf3_ok "$1" "$2" -t 2
	iperf3_ok "$1" "$2" -t 2 -R
	iperf3_ok "$1" "$2" -t 2 -P 2
}

# --- tap: the kernel is the peer in our own namespace ---------------------------
start_wp --backend tap --if wpperf0 --addr 10.9.6.2/24 "${apps[@]}"
wait_listening
ip addr add 10.9.6.1/24 dev wpperf0
ip link set wpperf0 up
reach 10.9.6.2
iperf3_runs - 10.9.6.2
iperf3_ok - 10.9.6.2 -t 2 -u -b 20M
sockperf_ok - 10.9.6.2 ping-pong
stop_wp
iperf3_tests 4

# --- afpacket: a veth pair, the peer in its own namespace -----------------------
new_peer
ip link add wpv1 type veth peer name wpv0 netns "$peer"
ip link set wpv1 up
nsenter -t "$peer" -n ip addr add 10.9.7.1/24 dev wpv0
nsenter -t "$peer" -n ip link set wpv0 up
no_offload "$peer" wpv0
start_wp --backend afpacket --if wpv1 --addr 10.9.7.2/24 "${apps[@]}"
wait_listening
reach 10.9.7.2 "$peer"
iperf3_runs "$peer" 10.9.7.2
iperf3_ok "$peer" 10.9.7.2 -t 2 -P 2 -R
iperf3_ok "$peer" 10.9.7.2 -t 2 -u -b 20M
iperf3_ok "$peer" 10.9.7.2 -t 2 -u -b 20M -R
sockperf_ok "$peer" 10.9.7.2 ping-pong
sockperf_ok "$peer" 10.9.7.2 ping-pong --tcp
sockperf_ok "$peer" 10.9.7.2 under-load --mps 2000
stop_wp
iperf3_tests 6
[ "$(app_counter sockperf bad_message)" = 0 ] || fail "sockperf counted bad messages"
ip link del wpv1
kill "$peer"
wait "$peer" 2>/dev/null || true

# --- afxdp: the same over AF_XDP, when wirepath has it --------------------------
said=$("$wp" run --backend afxdp --if wpnosuch0 --addr 10.9.8.2/24 2>&1 || true)
if grep -q "built without libxdp" <<<"$said"; then
	echo "afxdp: not built (libxdp, libbpf): that part is left out"
else
	new_peer
	ip link add wpx1 type veth peer name wpx0 netns "$peer"
	ip link set wpx1 up
	nsenter -t "$peer" -n ip addr add 10.9.8.1/24 dev wpx0
	nsenter -t "$peer" -n ip link set wpx0 up
	no_offload "$peer" wpx0
	start_wp --backend afxdp --if wpx1 --addr 10.9.8.2/24 "${apps[@]}"
	wait_listening
	reach 10.9.8.2 "$peer"
	iperf3_runs "$peer" 10.9.8.2
	sockperf_ok "$peer" 10.9.8.2 ping-pong
	stop_wp
	iperf3_tests 3
	ip link del wpx1
	kill "$peer"
	wait "$peer" 2>/dev/null || true
fi

for _ in $(seq 100); do
	left=$(ip -o link | grep -cv ': lo:' || true)
	[ "$left" = 0 ] && break
	sleep 0.05
done
[ "$left" = 0 ] || fail "links left behind: $(ip -o link)"
echo "iperf3: OK"
