#!/usr/bin/env bash
# wirepath trace and wirepath capture against a running stack, over its
# control socket: sampled UDP packets' journeys (every stage a UDP packet
# reaches, times that never go backwards) and pcaps that tshark reads.
#   usage: test_trace.sh PATH/TO/wirepath
set -euo pipefail
wp=$(realpath "$1")
tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
fail() {
	echo "FAIL: $*" >&2
	[ -f stack.out ] && tail -20 stack.out >&2
	exit 1
}
py=/usr/bin/python3
ctl=$tmp/ctl

# --- usage errors need no stack ------------------------------------------------
set +e
"$wp" trace --proto sctp >/dev/null 2>err; [ $? -eq 2 ] || fail "bad --proto: exit 2"
grep -q "sctp" err || fail "bad --proto names the value"
"$wp" trace --proto icmp --port 7 >/dev/null 2>&1; [ $? -eq 2 ] || fail "icmp + port: exit 2"
"$wp" trace --count 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--count 0: exit 2"
"$wp" capture -w x.pcap >/dev/null 2>&1; [ $? -eq 2 ] || fail "capture without --at: exit 2"
"$wp" capture --at wire >/dev/null 2>&1; [ $? -eq 2 ] || fail "capture without -w: exit 2"
"$wp" capture --at nic -w x.pcap >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --at: exit 2"
"$wp" trace --ctl "$tmp/nothing" >/dev/null 2>err; [ $? -eq 1 ] || fail "no stack: exit 1"
grep -q "no stack is running" err || fail "no stack: the message says so"
set -e
"$wp" trace --help | grep -q "usage: wirepath trace" || fail "trace --help"
"$wp" capture --help | grep -q "usage: wirepath capture" || fail "capture --help"

# --- a running stack -------------------------------------------------------------
# `wirepath run` with a UDP sink reading port 9 when it has --ctl and
# --app; otherwise the demo (no socket on port 9: packets end as
# no_socket drops after the UDP layer).
if "$wp" run --help 2>/dev/null | grep -q -- "--ctl" &&
	"$wp" run --help 2>/dev/null | grep -q "udp-sink"; then
	mode=run
	"$wp" run --backend sim --rate 20k --flows 4 --queues 2 --cores 2 \
		--addr 10.0.0.2/24 --app udp-sink:9 --ctl "$ctl" \
		>stack.out 2>&1 &
else
	mode=demo
	"$wp" demo --seconds 20 --ctl "$ctl" >stack.out 2>&1 &
fi
pid=$!
for _ in $(seq 100); do
	[ -S "$ctl" ] && break
	sleep 0.1
done
[ -S "$ctl" ] || fail "$mode: no control socket at $ctl"

"$wp" trace --ctl "$ctl" --count 5 --proto udp --json >trace.json ||
	fail "trace --count 5 --json"
$py - trace.json "$mode" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
mode = sys.argv[2]
order = ["DMA", "IRQ", "NAPI_POLL", "SKB_BUILT", "GRO", "NETIF_RX", "IP_RCV",
         "L4_RCV", "SOCK_LOOKUP", "QUEUED", "DATA_READY", "READ"]
assert len(rows) == 5, rows
ids = set()
for r in rows:
    ids.add(r["id"])
    assert r["proto"] == 17 and r["dport"] == 9 and r["daddr"] == "10.0.0.2", r
    st = r["stages"]
    assert [s["stage"] for s in st] == order, st
    reached = [s for s in st if s["reached"]]
    times = [s["ns"] for s in reached]
    assert times == sorted(times), ("times go backwards", r)
    assert r["end_ns"] >= times[-1], r
    assert reached[0]["stage"] == "DMA" and reached[0]["since_dma_ns"] == 0, r
    for s in reached:
        assert s["since_dma_ns"] == s["ns"] - times[0], s
    names = {s["stage"] for s in reached}
    must = {"DMA", "NAPI_POLL", "SKB_BUILT", "GRO", "NETIF_RX", "IP_RCV",
            "L4_RCV"}
    assert must <= names, (must - names, r)
    fn = {s["stage"]: s["function"] for s in st}
    assert fn["DMA"] == "wp_nic rx DMA (DD set)" and fn["L4_RCV"] == "wp_udp_rcv", fn
    if mode == "run" or "READ" in names:
        # a socket on port 9 reads it: the whole journey
        assert {"SOCK_LOOKUP", "QUEUED", "DATA_READY", "READ"} <= names, r
        assert r["end"] == "read", r
    else:
        # nobody listens on port 9 in the demo
        assert r["end"] == "dropped" and r["drop_reason"] == "no_socket", r
assert len(ids) == 5
PY

# The text form: one block per packet, stage lines, an end line.
"$wp" trace --ctl "$ctl" --count 2 --proto udp --port 9 >trace.txt ||
	fail "trace text"
[ "$(grep -c '^packet #' trace.txt)" -eq 2 ] || fail "trace: 2 packets"
grep -q "wp_nic_napi_poll" trace.txt || fail "trace names wp_nic_napi_poll"
[ "$(grep -c '  end: ' trace.txt)" -eq 2 ] || fail "trace: an end per packet"

# A filter nothing matches times out with a message, exit 1.
set +e
"$wp" trace --ctl "$ctl" --proto tcp --timeout 1 >/dev/null 2>err
[ $? -eq 1 ] || fail "tcp trace on a UDP stream: exit 1"
set -e
grep -q "no packet matched" err || fail "tcp trace: says nothing matched"

# --- capture ------------------------------------------------------------------------
"$wp" capture --ctl "$ctl" --at wire -w f.pcap --count 20 >cap.out ||
	fail "capture --at wire"
grep -q "^20 frames captured at wire" cap.out || fail "capture reports 20 frames"
n=$(tshark -r f.pcap 2>/dev/null | wc -l)
[ "$n" -eq 20 ] || fail "tshark lists $n frames of f.pcap, not 20"
tshark -r f.pcap -Y "udp.dstport == 9" 2>/dev/null | grep -q UDP ||
	fail "tshark sees the UDP frames"

"$wp" capture --ctl "$ctl" --at gro -w g.pcap --count 10 >/dev/null ||
	fail "capture --at gro"
[ "$(tshark -r g.pcap 2>/dev/null | wc -l)" -eq 10 ] || fail "gro: 10 frames"

if [ "$mode" = run ]; then
	"$wp" capture --ctl "$ctl" --at socket -w s.pcap --count 10 >/dev/null ||
		fail "capture --at socket"
	[ "$(tshark -r s.pcap 2>/dev/null | wc -l)" -eq 10 ] || fail "socket: 10 frames"
fi

# A file the stack cannot create: exit 1, nothing left behind.
set +e
"$wp" capture --ctl "$ctl" --at wire -w "$tmp/no/such/dir/x.pcap" \
	--count 1 >/dev/null 2>err
[ $? -eq 1 ] || fail "capture into a missing directory: exit 1"
set -e

# The stack still answers, and latency has the stages the traces crossed.
"$wp" stat --ctl "$ctl" latency --json >lat.json || fail "stat latency --json"
$py - lat.json <<'PY'
import json, sys
rows = {r["stage"]: r for r in (json.loads(l) for l in open(sys.argv[1]))}
assert rows["L4_RCV"]["samples"] > 0, rows
assert rows["TOTAL"]["samples"] >= rows["L4_RCV"]["samples"], rows
for r in rows.values():
    if r["samples"]:
        assert r["p50_ns"] <= r["p99_ns"] <= r["p999_ns"] <= max(r["max_ns"], r["p999_ns"]), r
PY
echo "trace system test passed ($mode)"
