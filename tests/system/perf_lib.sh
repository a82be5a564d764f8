# Helpers of the measuring tests (test_iperf3.sh, test_iperf3_impaired.sh):
# a wirepath run with the iperf3 and sockperf applications on a wire, a
# Linux peer in a namespace of its own running stock iperf3 and sockperf
# against it, and checks of what iperf3 says in its JSON (-J).
# Sourced; the caller has set -euo pipefail, defined skip/fail, $wp, and
# runs in a network namespace of its own.

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

# SIGINT: a clean stop, exit 0; the applications' counters in the log.
stop_wp() {
	local st=0
	kill -INT "$wp_pid"
	wait "$wp_pid" || st=$?
	[ "$st" = 0 ] || { cat "$tmp/wp.log" >&2; fail "wirepath run exited $st"; }
}

# The applications are listening once the run says so.
wait_listening() {
	for _ in $(seq 200); do
		grep -q 'sockperf listening' "$tmp/wp.log" && return 0
		kill -0 "$wp_pid" 2>/dev/null ||
			{ cat "$tmp/wp.log" >&2; fail "wirepath run died"; }
		sleep 0.05
	done
	cat "$tmp/wp.log" >&2
	fail "the applications never started"
}

# A namespace for the Linux peer, held by a child process; its pid in $peer.
new_peer() {
	unshare --net sleep 3600 &
	peer=$!
	pids+=("$peer")
	for _ in $(seq 100); do
		[ "$(readlink /proc/$peer/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.02
	done
	nsenter -t "$peer" -n ip link set lo up
}

# Until ping answers (ARP, a stack still starting), bounded.
reach() { # ADDR [NETNS-PID]
	local ns=()
	[ -n "${2:-}" ] && ns=(nsenter -t "$2" -n)
	for _ in $(seq 30); do
		"${ns[@]}" ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
	done
	cat "$tmp/wp.log" >&2
	fail "$1 does not answer ping"
}

# iperf3 -c ADDR -J ARGS..., from the peer's namespace (or ours): it must
# finish (bounded in time), report no error, and the bytes the receiver
# counted must be more than 0. Prints "mode: N Mbit/s".
iperf3_ok() { # NETNS-PID|- ADDR ARGS...
	local ns=() addr=$2 out=$tmp/iperf3.json st=0
	[ "$1" != - ] && ns=(nsenter -t "$1" -n)
	shift 2
	timeout 120 "${ns[@]}" iperf3 -c "$addr" -J --connect-timeout 10000 "$@" \
		>"$out" 2>"$tmp/iperf3.err" || st=$?
	/usr/bin/python3 - "$out" "$st" "$*" <<'EOF' || { cat "$tmp/wp.log" >&2; fail "iperf3 -c $addr $*"; }
import json, sys
path, st, args = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    j = json.load(open(path))
except ValueError as e:
    print("iperf3 %s: no JSON (exit %d): %s" % (args, st, open(path).read()[:500]))
    sys.exit(1)
if "error" in j:
    print("iperf3 %s: error: %s" % (args, j["error"]))
    sys.exit(1)
end = j["end"]
if "sum_received" in end:      # TCP
    s = end["sum_received"]
    got, sent = s["bytes"], end["sum_sent"]["bytes"]
else:                          # UDP: packets the receiver did not lose
    s = end["sum"]
    got = s["bytes"] if s["lost_packets"] < s["packets"] else 0
    sent = s["packets"]
if st != 0 or got <= 0 or sent <= 0:
    print("iperf3 %s: exit %d, received %d bytes, sent %d" % (args, st, got, sent))
    sys.exit(1)
print("iperf3 %s: %.1f Mbit/s, %d bytes" % (args or "(forward)",
      got * 8 / s["seconds"] / 1e6, got))
EOF
}

# A counter of the iperf3 application, as printed at the stop.
app_counter() { # APP NAME
	sed -n "s/^$1:[0-9]* .* $2 \([0-9]*\).*/\1/p" "$tmp/wp.log" | head -1
}

# The iperf3 server saw n whole tests and no bad control message.
iperf3_tests() { # N
	local n
	n=$(app_counter iperf3 tests)
	[ "${n:-0}" -ge "$1" ] || { cat "$tmp/wp.log" >&2; fail "iperf3 tests ${n:-0} < $1"; }
	for c in bad_message bad_params bad_results bad_cookie unsupported; do
		[ "$(app_counter iperf3 $c)" = 0 ] ||
			{ cat "$tmp/wp.log" >&2; fail "iperf3 counted $c"; }
	done
}

# Without TSO/GSO and checksum offload on the peer's end, frames on the
# veth are what a wire would carry (see docs/backend-afpacket.md).
no_offload() { # NETNS-PID DEV
	nsenter -t "$1" -n ethtool -K "$2" tso off gso off tx off >/dev/null 2>&1 || true
}
