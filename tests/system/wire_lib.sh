# shellcheck shell=bash
# Helpers of the tests that put the kernel and `wirepath run` on the two
# ends of a real wire (test_udp_nc.sh, test_tcp_impaired.sh,
# test_tcp_vanish.sh). Sourced; the caller has set -Eeuo pipefail,
# defined skip/fail and $wp, and runs in a network namespace of its own
# (unshare --net), so every device made here goes with it however the
# script ends; cleanup removes them at once as well (the kernel tears a
# dead namespace down lazily, slowly under load).
#
# The wire, by backend (TAG names the devices, PREFIX the /24):
#
#   tap        wirepath makes TAG"t0"; the kernel is this namespace, at
#              PREFIX.1 on it
#   afpacket,  a veth pair: wirepath on TAG"w1" here, the kernel at
#   afxdp      PREFIX.1 on TAG"w0" in a peer namespace
#
# and with a bad wire (wire_impair between the two, impair=(OPTIONS)):
#
#   wirepath on TAG"t0" (tap) or TAG"w1" (veth to TAG"w0", here)
#     <- wire_impair TAG"t0"|TAG"w0"  TAG"k0" ->
#   TAG"k0" -- veth -- TAG"k1" in the peer namespace, the kernel at PREFIX.1
#
# wirepath is always PREFIX.2; its control socket $tmp/wp.ctl.

# Called once in the script's own namespace, before anything else.
wire_init() {
	tmp=$(mktemp -d)
	pids=()
	links=()
	trap cleanup EXIT
	# A step that fails under set -e says where, with what wirepath said.
	trap 'st=$?; echo "FAIL: line $LINENO: exit $st" >&2; tail -20 "$tmp/wp.log" >&2 2>/dev/null' ERR
	ip link set lo up
	# No IPv6 chatter (router solicitations, MLD) on the wire.
	sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for l in "${links[@]}"; do
		ip link del "$l" 2>/dev/null || true
	done
	rm -rf "$tmp"
}

wp_pid=
start_wp() {
	"$wp" run "$@" --ctl "$tmp/wp.ctl" >"$tmp/wp.out" 2>"$tmp/wp.log" &
	wp_pid=$!
	pids+=("$wp_pid")
}

# SIGINT: a clean stop, exit 0; the counters in $tmp/wp.log.
stop_wp() {
	local st=0
	kill -INT "$wp_pid"
	wait "$wp_pid" || st=$?
	[ "$st" = 0 ] || { cat "$tmp/wp.log" >&2; fail "wirepath run exited $st"; }
}

alive() {
	kill -0 "$wp_pid" 2>/dev/null || { cat "$tmp/wp.log" >&2; fail "wirepath run died"; }
}

# The value of counter KEY of application APP ("tcp-sink:9") in the stop
# summary.
app_counter() { # APP KEY
	sed -n "s/^$1 \\(.* \\)\\?$2 \\([0-9]*\\).*/\\2/p" "$tmp/wp.log" | head -1
}

# A netstat -s line of the stop summary (--stats): "   12 TEXT".
netstat_counter() { # TEXT
	sed -n "s/^ *\\([0-9]*\\) $1\$/\\1/p" "$tmp/wp.log" | head -1
}

# The same, live, from the control socket.
live_netstat() { # TEXT
	"$wp" stat netstat --ctl "$tmp/wp.ctl" 2>/dev/null |
		sed -n "s/^ *\\([0-9]*\\) $1\$/\\1/p" | head -1
}

peer_ns() { # a namespace for the other end of a veth, held by a child
	unshare --net sleep 3600 &
	peer=$!
	pids+=("$peer")
	for _ in $(seq 100); do
		[ "$(readlink /proc/$peer/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.02
	done
	nsenter -t "$peer" -n ip link set lo up
	nsenter -t "$peer" -n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# The kernel's end sends what a real wire carries: no TSO/GSO frames
# longer than the MTU and no partial checksums (a veth hands frames over
# with only the pseudo-header summed; AF_XDP and wire_impair have no way
# to finish them).
peer_end() { # DEV PREFIX
	nsenter -t "$peer" -n ethtool -K "$1" tx off tso off gso off >/dev/null ||
		fail "ethtool -K $1 tx off tso off gso off"
	nsenter -t "$peer" -n ip addr add "$2.1/24" dev "$1"
	nsenter -t "$peer" -n ip link set "$1" up
}

# A device of ours that frames only pass through: whole frames, as sent.
plain() { # DEV
	ethtool -K "$1" gro off lro off >/dev/null 2>&1 || true
	ip link set "$1" up
}

wait_tap() { # NAME
	for _ in $(seq 200); do
		alive
		grep -q '[<,]UP[,>]' <<<"$(ip -o link show "$1" 2>/dev/null || true)" && return 0
		sleep 0.05
	done
	fail "$1 never came up"
}

impair=()
impair_pid=
start_impair() { # IF-A IF-B
	"$impair_exe" "${impair[@]}" "$1" "$2" >"$tmp/impair.out" 2>"$tmp/impair.err" &
	impair_pid=$!
	pids+=("$impair_pid")
	for _ in $(seq 200); do
		grep -q '^wire_impair: ready' "$tmp/impair.out" && return 0
		kill -0 "$impair_pid" 2>/dev/null ||
			{ cat "$tmp/impair.err" >&2; fail "wire_impair died"; }
		sleep 0.05
	done
	fail "wire_impair never got ready"
}

# Stop the relay; its counters, both directions summed: "lost 12 ...".
stop_impair() {
	kill -TERM "$impair_pid"
	wait "$impair_pid" || { cat "$tmp/impair.err" >&2; fail "wire_impair failed"; }
	cat "$tmp/impair.out"
}

impair_total() { # KEY: summed over both directions
	sed -n "s/^wire_impair .* $1 \\([0-9]*\\).*/\\1/p" "$tmp/impair.out" |
		awk '{ s += $1 } END { print s + 0 }'
}

# Bring up the wire for BACKEND and start `wirepath run` on it with
# ARGS (its applications). Sets $addr (wirepath's) and ns (the prefix
# that runs a command where the kernel's end is). With impair=(...) set,
# wire_impair sits in the middle.
wire_up() { # BACKEND TAG PREFIX ARGS...
	local b=$1 tag=$2 pfx=$3
	shift 3
	addr=$pfx.2
	ns=()
	if [ ${#impair[@]} -gt 0 ] || [ -n "${with_relay:-}" ]; then
		peer_ns
		ip link add "${tag}k0" type veth peer name "${tag}k1" netns "$peer"
		links+=("${tag}k0")
		plain "${tag}k0"
		peer_end "${tag}k1" "$pfx"
		ns=(nsenter -t "$peer" -n)
		if [ "$b" = tap ]; then
			start_wp --backend tap --if "${tag}t0" --addr "$addr/24" "$@"
			wait_tap "${tag}t0"
			plain "${tag}t0"
			start_impair "${tag}t0" "${tag}k0"
		else
			ip link add "${tag}w1" type veth peer name "${tag}w0"
			links+=("${tag}w1")
			plain "${tag}w0"
			plain "${tag}w1"
			start_impair "${tag}w0" "${tag}k0"
			start_wp --backend "$b" --if "${tag}w1" --addr "$addr/24" "$@"
		fi
		return 0
	fi
	if [ "$b" = tap ]; then
		start_wp --backend tap --if "${tag}t0" --addr "$addr/24" "$@"
		wait_tap "${tag}t0"
		ip addr add "$pfx.1/24" dev "${tag}t0"
		return 0
	fi
	peer_ns
	ip link add "${tag}w1" type veth peer name "${tag}w0" netns "$peer"
	links+=("${tag}w1")
	plain "${tag}w1"
	peer_end "${tag}w0" "$pfx"
	ns=(nsenter -t "$peer" -n)
	start_wp --backend "$b" --if "${tag}w1" --addr "$addr/24" "$@"
}

# Until the stack answers ping from the kernel's end (ARP, a stack still
# starting), bounded.
reach() {
	for _ in $(seq 60); do
		alive
		"${ns[@]}" ping -c 1 -W 1 "$addr" >/dev/null 2>&1 && return 0
	done
	cat "$tmp/wp.log" >&2
	fail "$addr does not answer ping"
}

# After the stop: the pair goes with its end here, the peer's namespace
# with its last process; nothing but loopback may be left.
wire_down() {
	local l
	for l in "${links[@]}"; do
		ip link del "$l" 2>/dev/null || true
	done
	links=()
	if [ -n "${peer:-}" ]; then
		kill "$peer"
		wait "$peer" 2>/dev/null || true
	fi
	for _ in $(seq 100); do
		[ "$(ip -o link | grep -cv ': lo:' || true)" = 0 ] && break
		sleep 0.02
	done
	l=$(ip -o link | grep -cv ': lo:' || true)
	[ "$l" = 0 ] || fail "links left behind: $(ip -o link)"
}

# Checks before the namespace is made: root, tools, the backend.
wire_prereqs() { # BACKEND TOOLS...
	local b=$1 said
	shift
	case "$b" in
	tap | afpacket | afxdp) ;;
	*) fail "unknown backend '$b'" ;;
	esac
	[ "$(id -u)" = 0 ] || skip "not root: needs CAP_NET_ADMIN and CAP_NET_RAW"
	for c in ip ping unshare nsenter ethtool timeout "$@"; do
		command -v "$c" >/dev/null || skip "needs $c (scripts/deps.sh)"
	done
	if [ "$b" = tap ]; then
		[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
	fi
	if [ "$b" = afxdp ]; then
		said=$("$wp" run --backend afxdp --if wpnosuch0 --addr 10.9.6.2/24 2>&1 || true)
		! grep -q "built without libxdp" <<<"$said" ||
			skip "wirepath was built without the afxdp backend (libxdp, libbpf)"
	fi
	unshare --net true 2>/dev/null || skip "cannot create a network namespace"
}

# The RFC 864 stream, N bytes, into FILE (what tcp-source sends): one
# period (95 lines of 72 characters and CRLF, line k starting at
# character k of ' '..'~'), doubled until long enough, cut.
chargen() { # N FILE
	local ring="" line k
	for k in $(seq 32 126); do ring+=$(printf "\\x$(printf %x "$k")"); done
	ring+="$ring"
	: >"$tmp/period"
	for k in $(seq 0 94); do
		line=${ring:k:72}
		printf '%s\r\n' "$line" >>"$tmp/period"
	done
	[ "$(stat -c %s "$tmp/period")" = 7030 ] || fail "chargen period is not 7030 bytes"
	cp "$tmp/period" "$tmp/big"
	while [ "$(stat -c %s "$tmp/big")" -lt "$1" ]; do
		cat "$tmp/big" "$tmp/big" >"$tmp/big2"
		mv "$tmp/big2" "$tmp/big"
	done
	head -c "$1" "$tmp/big" >"$2"
	rm -f "$tmp/big"
	[ "$(head -c 8 "$2")" = ' !"#$%&'"'" ] || fail "chargen starts wrong"
}
