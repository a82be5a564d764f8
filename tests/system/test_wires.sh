#!/usr/bin/env bash
# Real wires: the Linux kernel pings a running `wirepath run` over a TAP
# device (created by wirepath, then an existing multi-queue one) and over
# AF_PACKET on a veth pair whose other end is in another namespace, with
# 56- and 1472-byte payloads (the second fills a 1500-byte MTU, DF set).
# Bad input is refused with the fix named, a non-zero exit and nothing
# left behind.
#
# Everything happens in network namespaces this script creates: it runs
# itself in a fresh one (unshare), and the veth peer lives in another one
# held by a child process. When the script ends, however it ends, they go
# and every device in them with them. Addresses: 10.9.0.0/24 (tap) and
# 10.9.1.0/24 (veth), only inside these namespaces.
#   usage: test_wires.sh PATH/TO/wirepath
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")

if [ -z "${WP_WIRES_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "not root: needs CAP_NET_ADMIN and CAP_NET_RAW"
	for c in ip ping unshare nsenter setpriv; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
	"$wp" run --help >/dev/null 2>&1 || skip "wirepath has no run command"
	unshare --net true 2>/dev/null || skip "cannot create a network namespace"
	WP_WIRES_NS=1 exec unshare --net -- bash "$0" "$@"
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip link set lo up

wp_pid=
# Start `wirepath run ARGS` in the background, its stderr in $tmp/wp.log.
start_wp() {
	"$wp" run "$@" >"$tmp/wp.out" 2>"$tmp/wp.log" &
	wp_pid=$!
	pids+=("$wp_pid")
}

# SIGINT: a clean stop with exit 0, the summary and --stats on stderr.
stop_wp() {
	local st=0
	kill -INT "$wp_pid"
	wait "$wp_pid" || st=$?
	[ "$st" = 0 ] || { cat "$tmp/wp.log" >&2; fail "wirepath run exited $st"; }
}

wait_link_up() { # NAME [NETNS-PID]
	local ns=()
	[ -n "${2:-}" ] && ns=(nsenter -t "$2" -n)
	for _ in $(seq 100); do
		grep -q '[<,]UP[,>]' <<<"$("${ns[@]}" ip -o link show "$1" 2>/dev/null)" &&
			return 0
		kill -0 "$wp_pid" 2>/dev/null ||
			{ cat "$tmp/wp.log" >&2; fail "wirepath run died"; }
		sleep 0.05
	done
	fail "$1 never came up"
}

# ping from the kernel side: every echo answered, at both sizes.
# ping -c 3 -w D stops once 3 replies came; under load a late reply
# makes it send a fourth first, answered or not by the time it stops:
# at least 3 received.
answered3() { # PING-OUTPUT
	local rx
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$1")
	[ "${rx:-0}" -ge 3 ]
}

pings() { # ADDR [NETNS-PID]
	local ns=() out
	[ -n "${2:-}" ] && ns=(nsenter -t "$2" -n)
	# The first one may wait on ARP; give the stack a moment to start.
	for _ in $(seq 20); do
		"${ns[@]}" ping -c 1 -W 1 "$1" >/dev/null 2>&1 && break
	done
	out=$("${ns[@]}" ping -c 3 -i 0.2 -w 10 "$1") ||
		{ echo "$out" >&2; fail "ping $1 (56 bytes)"; }
	answered3 "$out" || fail "ping $1: $out"
	grep -q '^64 bytes from' <<<"$out" || fail "ping $1: $out"
	out=$("${ns[@]}" ping -c 3 -i 0.2 -w 10 -s 1472 -M do "$1") ||
		{ echo "$out" >&2; fail "ping $1 (1472 bytes)"; }
	answered3 "$out" || fail "ping -s 1472 $1: $out"
	grep -q '^1480 bytes from' <<<"$out" || fail "ping -s 1472: $out"
}

# At least n echo requests answered, per the stack's own counters.
echoes_answered() { # N
	local n
	n=$(sed -n 's/^ *echo replies: \([0-9]*\)/\1/p' "$tmp/wp.log" | head -1)
	[ "${n:-0}" -ge "$1" ] || { cat "$tmp/wp.log" >&2; fail "echo replies ${n:-0} < $1"; }
}

gone() { ! ip link show "$1" >/dev/null 2>&1 || fail "$1 was left behind"; }

# --- tap: a device wirepath creates, and removes when it stops ---------------
start_wp --backend tap --if wptest0 --addr 10.9.0.2/24 --stats
wait_link_up wptest0
grep -q ' mtu 1500 ' <<<"$(ip -o link show wptest0)" || fail "wptest0: MTU is not 1500"
ip addr add 10.9.0.1/24 dev wptest0
pings 10.9.0.2
# The stack's MAC, as the kernel learnt it by ARP: locally administered
# and not the device's own.
mac=$(ip neigh show 10.9.0.2 dev wptest0 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
dev_mac=$(ip -o link show wptest0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$mac" ] && [ "$mac" != "$dev_mac" ] || fail "stack MAC '$mac' vs device '$dev_mac'"
(( 0x${mac:0:2} & 2 )) || fail "stack MAC $mac is not locally administered"
stop_wp
echoes_answered 6
gone wptest0

# Same command, same seed: the same MAC (the kernel's ARP cache stays
# right across restarts).
start_wp --backend tap --if wptest0 --addr 10.9.0.2/24
wait_link_up wptest0
ip addr add 10.9.0.1/24 dev wptest0
pings 10.9.0.2
mac2=$(ip neigh show 10.9.0.2 dev wptest0 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
[ "$mac2" = "$mac" ] || fail "MAC changed across runs: $mac then $mac2"
stop_wp
gone wptest0

# --- tap: an existing multi-queue device, two queues, a given MAC -------------
ip tuntap add dev wptest1 mode tap multi_queue
start_wp --backend tap --if wptest1 --addr 10.9.0.2/24 --queues 2 --cores 2 \
	--mac 02:77:70:00:00:02 --mtu 1500
wait_link_up wptest1
ip addr add 10.9.0.1/24 dev wptest1
pings 10.9.0.2
grep -q 'lladdr 02:77:70:00:00:02' <<<"$(ip neigh show 10.9.0.2 dev wptest1)" ||
	fail "the given MAC is not the one ARP answered with"
stop_wp
ip link show wptest1 >/dev/null 2>&1 || fail "an existing TAP was removed"
ip tuntap del dev wptest1 mode tap multi_queue
gone wptest1

# --- afpacket: a veth pair, the peer in its own namespace ---------------------
unshare --net sleep 3600 &
peer=$!
pids+=("$peer")
for _ in $(seq 100); do
	[ "$(readlink /proc/$peer/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.02
done
ip link add wpv1 type veth peer name wpv0 netns "$peer"
ip link set wpv1 up
nsenter -t "$peer" -n ip link set lo up
nsenter -t "$peer" -n ip addr add 10.9.1.1/24 dev wpv0
nsenter -t "$peer" -n ip link set wpv0 up
start_wp --backend afpacket --if wpv1 --addr 10.9.1.2/24 --queues 2 --cores 2 --stats
wait_link_up wpv0 "$peer"
pings 10.9.1.2 "$peer"
# Without --mac the stack answers ARP with the interface's own address.
mac=$(nsenter -t "$peer" -n ip neigh show 10.9.1.2 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
dev_mac=$(ip -o link show wpv1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ "$mac" = "$dev_mac" ] || fail "afpacket: ARP said $mac, wpv1 is $dev_mac"
stop_wp
echoes_answered 6
# The peer's namespace goes with its last process, the pair with it.
kill "$peer"
wait "$peer" 2>/dev/null || true
for _ in $(seq 100); do
	ip link show wpv1 >/dev/null 2>&1 || break
	sleep 0.02
done
gone wpv1

# --- bad input: the fix named, a non-zero exit, nothing left behind -----------
expect_fail() { # STATUS TEXT ARGS...
	local want=$1 text=$2 st=0
	shift 2
	"$wp" run "$@" >/dev/null 2>"$tmp/err" || st=$?
	[ "$st" = "$want" ] || { cat "$tmp/err" >&2; fail "run $*: exit $st, not $want"; }
	grep -qF -- "$text" "$tmp/err" || { cat "$tmp/err" >&2; fail "run $*: no '$text'"; }
}
expect_fail 1 "no interface wpnosuch0: create it first or use --backend tap" \
	--backend afpacket --if wpnosuch0 --addr 10.9.1.2/24
expect_fail 1 "lo exists and is not a TAP device" \
	--backend tap --if lo --addr 10.9.0.2/24
expect_fail 2 "--mac" --backend tap --if wptest0 --addr 10.9.0.2/24 --mac 02:zz:00:00:00:01
gone wptest0
expect_fail 2 "--if" --backend tap --addr 10.9.0.2/24
st=0
setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$wp" run --backend tap --if wptest0 --addr 10.9.0.2/24 2>"$tmp/err" || st=$?
[ "$st" = 1 ] || { cat "$tmp/err" >&2; fail "unprivileged tap: exit $st"; }
grep -q "needs CAP_NET_ADMIN: run as root" "$tmp/err" || fail "unprivileged: $(cat "$tmp/err")"
gone wptest0
ip link add wpv1 type veth peer name wpv0
st=0
setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$wp" run --backend afpacket --if wpv1 --addr 10.9.1.2/24 2>"$tmp/err" || st=$?
[ "$st" = 1 ] || { cat "$tmp/err" >&2; fail "unprivileged afpacket: exit $st"; }
grep -q "needs CAP_NET_RAW: run as root" "$tmp/err" || fail "unprivileged: $(cat "$tmp/err")"
ip link del wpv1

# Nothing but loopback is left in our namespace.
left=$(ip -o link | grep -cv ': lo:' || true)
[ "$left" = 0 ] || fail "links left behind: $(ip -o link)"
echo "wires: OK"
