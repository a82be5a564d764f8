#!/usr/bin/env bash
# Kernel bypass: the Linux kernel pings a running `wirepath run --backend
# afxdp` across a veth pair whose other end is in another namespace, with
# 56- and 1472-byte payloads (the second fills a 1500-byte MTU, DF set).
# While it runs an XDP program is attached to the interface; after it
# stops (SIGINT) or is killed (SIGKILL), none is. Bad input is refused with
# the fix named, a non-zero exit and nothing left behind.
#
# Everything happens in network namespaces this script creates: it runs
# itself in a fresh one (unshare), and the veth peer lives in another one
# held by a child process. When the script ends, however it ends, they go
# and every device in them with them. Addresses: 10.9.2.0/24, only inside
# these namespaces.
#   usage: test_afxdp.sh PATH/TO/wirepath
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")

if [ -z "${WP_AFXDP_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "not root: needs CAP_NET_ADMIN and CAP_BPF"
	for c in ip ping unshare nsenter setpriv; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	# (Outputs go to variables first: with pipefail, grep -q closing a
	# pipe early would fail the pipeline.)
	help=$("$wp" run --help 2>&1 || true)
	grep -q -- --zerocopy <<<"$help" || skip "wirepath run has no afxdp options"
	# No such interface: refused before anything is opened.
	said=$("$wp" run --backend afxdp --if wpnosuch0 --addr 10.9.2.2/24 2>&1 || true)
	! grep -q "built without libxdp" <<<"$said" ||
		skip "wirepath was built without the afxdp backend (libxdp, libbpf)"
	unshare --net true 2>/dev/null || skip "cannot create a network namespace"
	WP_AFXDP_NS=1 exec unshare --net -- bash "$0" "$@"
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
start_wp() {
	"$wp" run "$@" >"$tmp/wp.out" 2>"$tmp/wp.log" &
	wp_pid=$!
	pids+=("$wp_pid")
}

stop_wp() {
	local st=0
	kill -INT "$wp_pid"
	wait "$wp_pid" || st=$?
	[ "$st" = 0 ] || { cat "$tmp/wp.log" >&2; fail "wirepath run exited $st"; }
}

# The backend says its mode once it is open: wait for that line.
wait_open() {
	for _ in $(seq 100); do
		grep -q 'afxdp backend: note: wpx1 queue' "$tmp/wp.log" && return 0
		kill -0 "$wp_pid" 2>/dev/null ||
			{ cat "$tmp/wp.log" >&2; fail "wirepath run died"; }
		sleep 0.05
	done
	cat "$tmp/wp.log" >&2
	fail "the afxdp backend never opened"
}

xdp_on() {
	local l
	l=$(ip -d link show dev wpx1)
	grep -q xdp <<<"$l"
}

# ping from the peer's namespace: every echo answered, at both sizes.
# -w (a deadline), not -W: once one reply is in, -W waits only two round
# trips for the rest, which a loaded machine (a parallel test run, ASan)
# can exceed without losing anything.
# ping -c 3 -w D stops once 3 replies came; under load a late reply
# makes it send a fourth first, answered or not by the time it stops:
# at least 3 received.
answered3() { # PING-OUTPUT
	local rx
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$1")
	[ "${rx:-0}" -ge 3 ]
}

pings() { # ADDR NETNS-PID
	local ns=(nsenter -t "$2" -n) out
	for _ in $(seq 20); do
		"${ns[@]}" ping -c 1 -W 1 "$1" >/dev/null 2>&1 && break
	done
	out=$("${ns[@]}" ping -c 3 -i 0.2 -w 10 "$1") ||
		{ echo "$out" >&2; cat "$tmp/wp.log" >&2; fail "ping $1 (56 bytes)"; }
	answered3 "$out" || fail "ping $1: $out"
	grep -q '^64 bytes from' <<<"$out" || fail "ping $1: $out"
	out=$("${ns[@]}" ping -c 3 -i 0.2 -w 10 -s 1472 -M do "$1") ||
		{ echo "$out" >&2; fail "ping $1 (1472 bytes)"; }
	answered3 "$out" || fail "ping -s 1472 $1: $out"
	grep -q '^1480 bytes from' <<<"$out" || fail "ping -s 1472: $out"
}

echoes_answered() { # N
	local n
	n=$(sed -n 's/^ *echo replies: \([0-9]*\)/\1/p' "$tmp/wp.log" | head -1)
	[ "${n:-0}" -ge "$1" ] || { cat "$tmp/wp.log" >&2; fail "echo replies ${n:-0} < $1"; }
}

# --- the peer: its own namespace, the other end of the pair ------------------
unshare --net sleep 3600 &
peer=$!
pids+=("$peer")
for _ in $(seq 100); do
	[ "$(readlink /proc/$peer/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.02
done
ip link add wpx1 type veth peer name wpx0 netns "$peer"
ip link set wpx1 up
nsenter -t "$peer" -n ip link set lo up
nsenter -t "$peer" -n ip addr add 10.9.2.1/24 dev wpx0
nsenter -t "$peer" -n ip link set wpx0 up

# --- ping through AF_XDP -------------------------------------------------------
start_wp --backend afxdp --if wpx1 --addr 10.9.2.2/24 --stats
wait_open
grep -q 'wpx1 queue 0: xdp-native copy' "$tmp/wp.log" ||
	{ cat "$tmp/wp.log" >&2; fail "veth should give xdp-native copy"; }
xdp_on || fail "no XDP program on wpx1 while running"
pings 10.9.2.2 "$peer"
mac=$(nsenter -t "$peer" -n ip neigh show 10.9.2.2 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
dev_mac=$(ip -o link show wpx1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ "$mac" = "$dev_mac" ] || fail "afxdp: ARP said $mac, wpx1 is $dev_mac"
stop_wp
echoes_answered 6
! xdp_on || fail "an XDP program was left on wpx1 after SIGINT"

# --- copy mode asked for, a queue given, busy polling ---------------------------
start_wp --backend afxdp --if wpx1 --queue 0 --copy --busy-poll --addr 10.9.2.2/24
wait_open
pings 10.9.2.2 "$peer"
stop_wp
! xdp_on || fail "an XDP program was left on wpx1"

# --- killed: the link dies with the process, the program with the link ---------
start_wp --backend afxdp --if wpx1 --addr 10.9.2.2/24
wait_open
xdp_on || fail "no XDP program on wpx1 while running"
kill -KILL "$wp_pid"
wait "$wp_pid" 2>/dev/null || true
for _ in $(seq 100); do
	xdp_on || break
	sleep 0.02
done
! xdp_on || fail "an XDP program was left on wpx1 after SIGKILL"

# --- bad input: the fix named, a non-zero exit, nothing left behind -------------
expect_fail() { # STATUS TEXT ARGS...
	local want=$1 text=$2 st=0
	shift 2
	"$wp" run "$@" >/dev/null 2>"$tmp/err" || st=$?
	[ "$st" = "$want" ] || { cat "$tmp/err" >&2; fail "run $*: exit $st, not $want"; }
	grep -qF -- "$text" "$tmp/err" || { cat "$tmp/err" >&2; fail "run $*: no '$text'"; }
	! xdp_on || fail "run $*: an XDP program was left on wpx1"
}
expect_fail 1 "no interface wpnosuch0" \
	--backend afxdp --if wpnosuch0 --addr 10.9.2.2/24
expect_fail 1 "no zero-copy AF_XDP" \
	--backend afxdp --if wpx1 --zerocopy --addr 10.9.2.2/24
expect_fail 1 "no such queue" \
	--backend afxdp --if wpx1 --queue 5 --addr 10.9.2.2/24
expect_fail 2 "--if" --backend afxdp --addr 10.9.2.2/24
expect_fail 2 "--queue" --backend afpacket --if wpx1 --queue 1 --addr 10.9.2.2/24
expect_fail 2 "--copy" --backend afxdp --if wpx1 --copy --zerocopy --addr 10.9.2.2/24

# The queue is taken while another wirepath holds it.
start_wp --backend afxdp --if wpx1 --addr 10.9.2.2/24
wait_open
st=0
"$wp" run --backend afxdp --if wpx1 --addr 10.9.2.3/24 >/dev/null 2>"$tmp/err" || st=$?
[ "$st" = 1 ] || { cat "$tmp/err" >&2; fail "a second run on queue 0: exit $st"; }
grep -q "queue 0 of wpx1 is taken" "$tmp/err" || fail "taken: $(cat "$tmp/err")"
pings 10.9.2.2 "$peer" # the first one runs on
stop_wp
! xdp_on || fail "an XDP program was left on wpx1"

st=0
setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$wp" run --backend afxdp --if wpx1 --addr 10.9.2.2/24 2>"$tmp/err" || st=$?
[ "$st" = 1 ] || { cat "$tmp/err" >&2; fail "unprivileged afxdp: exit $st"; }
grep -q "needs CAP_NET_ADMIN and CAP_BPF" "$tmp/err" &&
	grep -q "run as root" "$tmp/err" || fail "unprivileged: $(cat "$tmp/err")"
! xdp_on || fail "an XDP program was left on wpx1"

kill "$peer"
wait "$peer" 2>/dev/null || true
for _ in $(seq 100); do
	ip link show wpx1 >/dev/null 2>&1 || break
	sleep 0.02
done
! ip link show wpx1 >/dev/null 2>&1 || fail "wpx1 was left behind"
left=$(ip -o link | grep -cv ': lo:' || true)
[ "$left" = 0 ] || fail "links left behind: $(ip -o link)"
echo "afxdp: OK"
