#!/usr/bin/env bash
# iperf3 TCP tests against `wirepath run --app iperf3:5201` (AF_PACKET on
# a veth pair) still complete over an impaired path: on the peer's side,
# tc netem with 5 ms delay, 1% loss and reordering both ways; where the
# kernel has no netem (CONFIG_NET_SCH_NETEM), nftables drops 1% of the
# packets each way instead (loss and the retransmissions it brings, no
# delay: said so in the output). iperf3's JSON must say no error and
# bytes moved, forward and reverse; wirepath's retransmission counter
# must have moved. (That the bytes arrive intact is tested elsewhere.)
#
# Namespaces as in test_iperf3.sh; addresses 10.9.9.0/24 only inside them.
#   usage: test_iperf3_impaired.sh PATH/TO/wirepath
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")
here=$(dirname "$(realpath "$0")")

if [ -z "${WP_IMPAIRED_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "not root: needs CAP_NET_ADMIN and CAP_NET_RAW"
	for c in ip ping unshare nsenter ethtool iperf3 timeout tc; do
		command -v "$c" >/dev/null || skip "needs $c (scripts/deps.sh)"
	done
	[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"
	help=$("$wp" run --help 2>&1 || true)
	grep -q "iperf3:PORT" <<<"$help" || skip "wirepath run has no iperf3 app"
	unshare --net true 2>/dev/null || skip "cannot create a network namespace"
	WP_IMPAIRED_NS=1 exec unshare --net -- bash "$0" "$@"
fi
# shellcheck source=perf_lib.sh
. "$here/perf_lib.sh"

new_peer
ip link add wpi1 type veth peer name wpi0 netns "$peer"
ip link set wpi1 up
nsenter -t "$peer" -n ip addr add 10.9.9.1/24 dev wpi0
nsenter -t "$peer" -n ip link set wpi0 up
no_offload "$peer" wpi0

# The impairment, on the peer's side only (wirepath's end is untouched).
ns=(nsenter -t "$peer" -n)
if "${ns[@]}" tc qdisc add dev wpi0 root netem delay 5ms loss 1% \
	reorder 25% 50% 2>/dev/null; then
	# The way in too: an ifb would need a module; netem on the way out
	# delays, drops and reorders what the peer sends (data or ACKs).
	how="netem delay 5ms loss 1% reorder 25% 50% (peer egress)"
elif command -v nft >/dev/null &&
	"${ns[@]}" nft -f - <<'EOF' 2>/dev/null
table inet wpimpair {
	chain out { type filter hook output priority 0; oifname "wpi0" numgen random mod 100 < 1 counter drop; }
	chain in { type filter hook input priority 0; iifname "wpi0" numgen random mod 100 < 1 counter drop; }
}
EOF
then
	how="nftables: 1% loss each way (this kernel has no netem: no delay, no reordering)"
else
	skip "neither tc netem (CONFIG_NET_SCH_NETEM) nor nft is available"
fi
echo "impairment: $how"

start_wp --backend afpacket --if wpi1 --addr 10.9.9.2/24 --stats \
	--app iperf3:5201 --app sockperf:11111
wait_listening
reach 10.9.9.2 "$peer"
iperf3_ok "$peer" 10.9.9.2 -t 3
iperf3_ok "$peer" 10.9.9.2 -t 3 -R
iperf3_ok "$peer" 10.9.9.2 -t 3 -P 2
stop_wp
iperf3_tests 3
# Losses were there, and wirepath repaired them.
rtx=$(sed -n 's/^ *\([0-9]*\) segments retransmitted/\1/p' "$tmp/wp.log" | head -1)
[ "${rtx:-0}" -gt 0 ] || { cat "$tmp/wp.log" >&2; fail "no retransmission: was anything lost?"; }
echo "wirepath retransmitted $rtx segments"
if "${ns[@]}" nft list table inet wpimpair >/dev/null 2>&1; then
	echo "dropped by the impairment: $("${ns[@]}" nft list table inet wpimpair | grep -o 'packets [0-9]*' | tr '\n' ' ')"
fi
# The pair goes with its end here (the peer's namespace may outlive its
# last process for a while: the kernel cleans namespaces up lazily).
ip link del wpi1
kill "$peer"
wait "$peer" 2>/dev/null || true
! ip link show wpi1 >/dev/null 2>&1 || fail "wpi1 was left behind"
echo "iperf3 impaired: OK"
