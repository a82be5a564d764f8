#!/usr/bin/env bash
# wirepath against the Linux kernel on the same kind of wire, in one run:
#
#   client ns --veth-- wirepath run --backend B (sockperf, udp-sink, iperf3)
#   client ns --veth-- server ns (the kernel: sockperf server,
#                      wire_udp_peer sink, iperf3 -s)
#
# (with --backend tap the wirepath side is a TAP device wirepath makes,
# the client in the bench's own namespace; the kernel's side stays a
# veth pair). The clients are the same programs with the same offloads
# off on their side (TSO, GSO, checksum: frames as a wire carries them,
# see docs/backend-afpacket.md). wirepath runs only while its own figures
# are taken (a busy-polling wirepath would otherwise take the CPUs the
# kernel's figures need). Measured, for each server:
#
#   UDP latency     sockperf ping-pong --full-rtt -m 64 -t S: round trip
#                   p50 and p99 in µs, one message in flight; wirepath
#                   with --busy-poll (the kernel: its defaults)
#   UDP receive     wire_udp_peer send (sendmmsg, 18-byte payloads: 64-byte
#   rate            frames on a real wire) for S seconds; datagrams the
#                   receiver got per second: wirepath's udp-sink
#                   (interrupt mode, its count at the stop) against
#                   wire_udp_peer sink (recvmmsg, batches of 64)
#   TCP             iperf3 -c -t S, one flow, forward (the client sends)
#                   and -R: Gbit/s, and CPU time per 1448-byte segment:
#                   the server process's (wirepath's whole process: its
#                   stack, firmware and application threads; the kernel's
#                   iperf3 -s, whose stack work is softirq) and the
#                   machine's softirq time (/proc/stat: the veth's and the
#                   kernel stack's work, both ends of the wire, the
#                   client's too), and their sum, the figure to compare
#
# The AF_XDP mode wirepath got (xdp_mode) and the load average are
# printed with the figures. Everything runs in network namespaces the
# script makes (unshare) and goes with it; 10.9.10.0/24 and 10.9.11.0/24
# only inside them. Root needed. Not a test: it judges nothing, it prints
# figures (docs/benchmarks.md keeps them).
#
#   usage: bench/wire.sh PATH/TO/wirepath [afpacket|tap|afxdp] [SECONDS]
set -euo pipefail
usage() {
	echo "usage: bench/wire.sh PATH/TO/wirepath [afpacket|tap|afxdp] [SECONDS]" >&2
	exit 2
}
die() { echo "wire.sh: $*" >&2; exit 1; }
if [ $# -lt 1 ] || [ $# -gt 3 ]; then usage; fi
backend=${2:-afpacket}
secs=${3:-5}
case "$backend" in afpacket | tap | afxdp) ;; *) usage ;; esac
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || usage
[ -x "$1" ] || die "$1: no such program (build first: scripts/build.sh)"
wp=$(realpath "$1")
# Built beside wirepath (bench/udp_peer.c).
peer_exe=$(realpath -m "$(dirname "$wp")/../bench/wire_udp_peer")
[ -x "$peer_exe" ] || die "no $peer_exe (built with wirepath: ninja -C BUILD)"

if [ -z "${WP_BENCH_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || die "needs root (namespaces, veth, raw sockets)"
	for c in ip unshare nsenter ethtool iperf3 sockperf /usr/bin/python3; do
		command -v "$c" >/dev/null || die "needs $c (scripts/deps.sh)"
	done
	WP_BENCH_NS=1 exec unshare --net -- bash "$0" "$@"
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip link del wpb1 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip link set lo up

netns() { # a namespace held by a child; its pid in $ns_pid
	unshare --net sleep 3600 &
	ns_pid=$!
	pids+=("$ns_pid")
	for _ in $(seq 100); do
		[ "$(readlink /proc/$ns_pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.02
	done
	nsenter -t "$ns_pid" -n ip link set lo up
}

reach() { # ADDR NS...
	local a=$1
	shift
	for _ in $(seq 30); do
		"$@" ping -c 1 -W 1 "$a" >/dev/null 2>&1 && return 0
	done
	cat "$tmp/wp.log" >&2 2>/dev/null || true
	die "$a does not answer"
}

# --- the wires ----------------------------------------------------------------
if [ "$backend" = tap ]; then
	wcl=() # the client is this namespace
else
	netns
	wcl=(nsenter -t "$ns_pid" -n)
	ip link add wpb1 type veth peer name wpb0 netns "$ns_pid"
	ethtool -K wpb1 gro off >/dev/null 2>&1 || true
	ip link set wpb1 up
	"${wcl[@]}" ip addr add 10.9.10.1/24 dev wpb0
	"${wcl[@]}" ip link set wpb0 up
	"${wcl[@]}" ethtool -K wpb0 tso off gso off tx off >/dev/null 2>&1 || true
fi
netns
kcl=(nsenter -t "$ns_pid" -n)

netns
ksv=(nsenter -t "$ns_pid" -n)
"${kcl[@]}" ip link add wpk0 type veth peer name wpk1 netns "$ns_pid"
"${kcl[@]}" ip addr add 10.9.11.1/24 dev wpk0
"${kcl[@]}" ip link set wpk0 up
"${kcl[@]}" ethtool -K wpk0 tso off gso off tx off >/dev/null 2>&1 || true
"${ksv[@]}" ip addr add 10.9.11.2/24 dev wpk1
"${ksv[@]}" ip link set wpk1 up
"${ksv[@]}" sockperf server -i 10.9.11.2 -p 11111 >/dev/null 2>&1 &
pids+=("$!")
"${ksv[@]}" iperf3 -s -p 5201 >/dev/null 2>&1 &
k_iperf=$!
pids+=("$k_iperf")
reach 10.9.11.2 "${kcl[@]}"


# --- wirepath, started and stopped per measurement -------------------------------
wp_pid=
wp_start() { # ARGS...
	"$wp" run --backend "$backend" --if "$([ "$backend" = tap ] && echo wpb0 || echo wpb1)" \
		--addr 10.9.10.2/24 --ctl "$tmp/wp.ctl" --stats \
		--app sockperf:11111 --app udp-sink:9 --app iperf3:5201 "$@" \
		>/dev/null 2>"$tmp/wp.log" &
	wp_pid=$!
	pids+=("$wp_pid")
	if [ "$backend" = tap ]; then
		for _ in $(seq 100); do
			ip link show wpb0 >/dev/null 2>&1 && break
			sleep 0.05
		done
		ip addr add 10.9.10.1/24 dev wpb0
		ip link set wpb0 up
	fi
	reach 10.9.10.2 "${wcl[@]}"
	for _ in $(seq 100); do
		grep -q 'iperf3 listening' "$tmp/wp.log" && break
		sleep 0.05
	done
}
# The stop prints the backend's report (--stats): the AF_XDP mode in it.
wp_stop() {
	kill -INT "$wp_pid"
	wait "$wp_pid" || true
	xdp_mode=$(sed -n 's/^ *xdp_mode: //p' "$tmp/wp.log" | head -1)
}

# --- measurements -----------------------------------------------------------------
# sockperf: "p50 p99" of the round trip in µs.
rtt() { # NS... -- ADDR PORT ARGS
	local ns=()
	while [ "$1" != -- ]; do ns+=("$1"); shift; done
	shift
	"${ns[@]}" sockperf ping-pong --full-rtt -m 64 -i "$1" -p "$2" -t "$secs" "${@:3}" 2>&1 |
		/usr/bin/python3 -c '
import re, sys
t = sys.stdin.read()
p = {k: float(v) for k, v in re.findall(r"percentile (\d+\.\d+) = +([0-9.]+)", t)}
print("%.1f %.1f" % (p["50.000"], p["99.000"]) if p else "nan nan")'
}

# CPU seconds (user + system) of a process, and the machine's softirq.
cpu_of() { awk '{ printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }
softirq() { awk '$1 == "cpu" { printf "%.2f\n", $8 / '"$(getconf CLK_TCK)"' }' /proc/stat; }

# iperf3 -c for S seconds: "Gbit/s bytes-received".
iperf() { # NS... -- ADDR ARGS
	local ns=()
	while [ "$1" != -- ]; do ns+=("$1"); shift; done
	shift
	"${ns[@]}" iperf3 -c "$@" -t "$secs" -J 2>/dev/null | /usr/bin/python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
    s = j["end"]["sum_received"]
    print("%.3f %d" % (s["bits_per_second"] / 1e9, s["bytes"]))
except Exception:
    print("nan 0")'
}

# TCP one way: "Gbit/s server-cpu-ns/seg softirq-ns/seg".
tcp_run() { # SERVER-PID NS... -- ADDR ARGS
	local pid=$1 c0 s0 c1 s1 g b
	shift
	c0=$(cpu_of "$pid")
	s0=$(softirq)
	read -r g b <<<"$(iperf "$@")"
	c1=$(cpu_of "$pid")
	s1=$(softirq)
	/usr/bin/python3 -c '
import sys
g, b, c0, c1, s0, s1 = sys.argv[1:]
segs = max(int(b) / 1448, 1)
print("%s %.0f %.0f" % (g, (float(c1) - float(c0)) * 1e9 / segs,
                         (float(s1) - float(s0)) * 1e9 /  segs))' "$g" "$b" "$c0" "$c1" "$s0" "$s1"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "wirepath $backend vs the kernel on veth pairs, ${secs} s per run, $(nproc) CPUs, Linux $(uname -r)"
echo "load average before: $load0"

# Latency: wirepath busy-polling.
xdp_mode=
wp_start --busy-poll
read -r w_p50 w_p99 <<<"$(rtt "${wcl[@]}" -- 10.9.10.2 11111)"
wp_stop
[ -n "$xdp_mode" ] && echo "AF_XDP mode: $xdp_mode (latency run, --busy-poll)"
read -r k_p50 k_p99 <<<"$(rtt "${kcl[@]}" -- 10.9.11.2 11111)"

# UDP receive rate, same sender.
wp_start
w_sent=$("${wcl[@]}" "$peer_exe" send 10.9.10.2 9 "$secs")
sleep 1 # what is queued drains into the sink before it stops
wp_stop
w_got=$(sed -n 's/^udp-sink:9 handled \([0-9]*\).*/\1/p' "$tmp/wp.log" | head -1)
[ -n "$xdp_mode" ] && echo "AF_XDP mode: $xdp_mode (rate and TCP runs)"
"${ksv[@]}" "$peer_exe" sink 9 >"$tmp/sink.out" &
sink=$!
pids+=("$sink")
for _ in $(seq 100); do grep -q listening "$tmp/sink.out" && break; sleep 0.05; done
k_sent=$("${kcl[@]}" "$peer_exe" send 10.9.11.2 9 "$secs")
sleep 1
kill -INT "$sink"
wait "$sink" || true
k_got=$(sed -n 's/^received \([0-9]*\) .*/\1/p' "$tmp/sink.out")

# TCP, one flow each way.
wp_start
read -r w_fg w_fc w_fs <<<"$(tcp_run "$wp_pid" "${wcl[@]}" -- 10.9.10.2)"
read -r w_rg w_rc w_rs <<<"$(tcp_run "$wp_pid" "${wcl[@]}" -- 10.9.10.2 -R)"
wp_stop
read -r k_fg k_fc k_fs <<<"$(tcp_run "$k_iperf" "${kcl[@]}" -- 10.9.11.2)"
read -r k_rg k_rc k_rs <<<"$(tcp_run "$k_iperf" "${kcl[@]}" -- 10.9.11.2 -R)"

/usr/bin/python3 - "$secs" "$w_p50" "$w_p99" "$k_p50" "$k_p99" "${w_got:-0}" "${k_got:-0}" \
	"$w_sent" "$k_sent" "$w_fg" "$w_fc" "$w_fs" "$w_rg" "$w_rc" "$w_rs" \
	"$k_fg" "$k_fc" "$k_fs" "$k_rg" "$k_rc" "$k_rs" <<'EOF'
import re, sys
a = sys.argv[1:]
secs = float(a[0])
wp50, wp99, kp50, kp99 = map(float, a[1:5])
def sent_rate(s):
    m = re.search(r"sent (\d+) datagrams in ([0-9.]+) s", s)
    return (int(m.group(1)), float(m.group(2))) if m else (0, secs)
wn, wt = sent_rate(a[7])
kn, kt = sent_rate(a[8])
wrx, krx = int(a[5]) / wt, int(a[6]) / kt
t = [float(x) for x in a[9:21]]
def ratio(x, y):
    return "%.2f" % (x / y) if y and x == x and y == y else "-"
row = "%-44s %12s %12s %8s"
print(row % ("", "wirepath", "kernel", "w/k"))
print(row % ("UDP round trip p50 (µs)", wp50, kp50, ratio(wp50, kp50)))
print(row % ("UDP round trip p99 (µs)", wp99, kp99, ratio(wp99, kp99)))
print(row % ("UDP 64 B offered by the sender (/s)", "%.0f" % (wn / wt), "%.0f" % (kn / kt), ""))
print(row % ("UDP 64 B received by the sink (/s)", "%.0f" % wrx, "%.0f" % krx, ratio(wrx, krx)))
for name, w, k in (("TCP iperf3 -c (Gbit/s)", t[0:3], t[6:9]),
                   ("TCP iperf3 -c -R (Gbit/s)", t[3:6], t[9:12])):
    print(row % (name, w[0], k[0], ratio(w[0], k[0])))
    print(row % ("  server process CPU per segment (ns)", "%.0f" % w[1], "%.0f" % k[1], ""))
    print(row % ("  softirq per segment (ns)", "%.0f" % w[2], "%.0f" % k[2], ""))
    print(row % ("  both per segment (ns)", "%.0f" % (w[1] + w[2]),
                 "%.0f" % (k[1] + k[2]), ratio(w[1] + w[2], k[1] + k[2])))
EOF
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
