#!/usr/bin/env bash
# The control socket end to end: a running stack (wirepath run --backend
# sim) tuned live through wirepath ethtool and sysctl, every knob checked
# in what the stack then reports (values, never speeds), refusals that
# change nothing, every stat view in text and JSON, the messages when no
# stack runs, a live socket refused, a stale one (SIGKILL, or left by
# python) replaced, the socket gone after a clean stop, and wirepath demo
# serving it too.
#   usage: test_ctl.sh PATH/TO/wirepath
set -euo pipefail
wp=$(realpath "$1")
tmp=$(mktemp -d /tmp/wp-ctl-sys-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
ctl=$tmp/wp0.ctl

# expect STATUS CMD...: run it, check its exit status; stdout in $out,
# stderr in $err.
expect() {
	local want=$1 rc
	shift
	set +e
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	[ "$rc" -eq "$want" ] || fail "$* exited $rc, not $want; stderr: $err"
}
has() { [[ "$1" == *"$2"* ]] || fail "no '$2' in: $1"; }
hasnt() { [[ "$1" != *"$2"* ]] || fail "'$2' should not be in: $1"; }

# Wait until a stack answers at $1.
wait_ctl() {
	for _ in $(seq 1 100); do
		if [ -S "$1" ] && "$wp" stat --ctl "$1" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	fail "no stack answers at $1"
}

start_run() { # PATH [more run options]
	local path=$1
	shift
	"$wp" run --backend sim --addr 10.0.0.2/24 --queues 2 --cores 2 \
		--rate 20k --flows 8 --ctl "$path" "$@" 2>>"$tmp/run.err" &
	pids+=($!)
	last=$!
	wait_ctl "$path"
}

rx_packets() { # from ethtool -S
	"$wp" ethtool --ctl "$ctl" -S | awk '$1 == "rx_packets:" { print $2 }'
}

# --- no stack ----------------------------------------------------------------
expect 1 "$wp" stat --ctl "$tmp/none.ctl"
[ "$err" = "wirepath stat: no stack is running at $tmp/none.ctl (start one with wirepath run or wirepath demo)" ] ||
	fail "message: $err"
[ -z "$out" ] || fail "stdout: $out"
expect 1 "$wp" ethtool --ctl "$tmp/none.ctl" -c
has "$err" "wirepath ethtool: no stack is running at $tmp/none.ctl"
expect 1 "$wp" sysctl --ctl "$tmp/none.ctl"
has "$err" "wirepath sysctl: no stack is running at $tmp/none.ctl"
# Syntax is checked before any stack is asked: 2, with the usage.
expect 2 "$wp" ethtool --ctl "$tmp/none.ctl" -Q
has "$err" "unknown option '-Q'"
has "$err" "usage: wirepath ethtool"
expect 2 "$wp" ethtool --ctl "$tmp/none.ctl" -C rx-usecs fifty
expect 2 "$wp" stat bogus --ctl "$tmp/none.ctl"
has "$err" "wirepath stat: VIEW: 'bogus' is not a choice"
expect 2 "$wp" stat --frobnicate
expect 2 "$wp" sysctl --ctl "$tmp/none.ctl" =5
expect 2 "$wp" run --backend pcap --pcap-in /dev/null --addr 10.0.0.2/24 \
	--ctl "$tmp/x.ctl"
has "$err" "--ctl"
expect 0 "$wp" stat --help
has "$out" "usage: wirepath stat"
expect 0 "$wp" ethtool --help
expect 0 "$wp" sysctl --help

# --- a stack to tune ---------------------------------------------------------
start_run "$ctl"
first=$last
[ "$(stat -c %a "$ctl")" = 600 ] || fail "socket mode $(stat -c %a "$ctl")"

# Every view, text and JSON (one object per line).
for v in summary interrupts softnet ethtool netstat drops sockets arp route latency; do
	expect 0 "$wp" stat "$v" --ctl "$ctl"
	[ -z "$err" ] || fail "stat $v: $err"
	expect 0 "$wp" stat "$v" --ctl "$ctl" --json
	printf '%s\n' "$out" | $py -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        assert isinstance(json.loads(l), dict), l
' || fail "stat $v --json: $out"
done
expect 0 "$wp" stat --ctl "$ctl"
has "$out" "wp0: backend sim, 2 of 2 queues active on 2 cores, rings rx 512 tx 512"
expect 0 "$wp" stat interrupts --ctl "$ctl"
has "$out" "CPU0       CPU1"
has "$out" "wirepath-msi  wp0-TxRx-0"
has "$out" "wirepath-msi  wp0-TxRx-1"
# softnet_stat: a row per core, 13 hex columns, the last the cpu index.
expect 0 "$wp" stat softnet --ctl "$ctl"
printf '%s\n' "$out" | $py -c '
import sys
rows = [l.split() for l in sys.stdin.read().split("\n\n")[0].splitlines()]
assert len(rows) == 2, rows
for i, r in enumerate(rows):
    assert len(r) == 13 and all(len(c) == 8 for c in r), r
    v = [int(c, 16) for c in r]
    assert v[0] > 0 and v[3:9] == [0] * 6 and v[12] == i, r
' || fail "softnet_stat: $out"
has "$out" "time_squeeze softirq_runs"
expect 0 "$wp" stat route --ctl "$ctl"
has "$out" "10.0.0.0/24 dev wp0 proto kernel scope link src 10.0.0.2"
expect 0 "$wp" stat netstat --ctl "$ctl"
has "$out" "Ip:"
has "$out" "Udp:"
expect 0 "$wp" stat drops --ctl "$ctl"
has "$out" "Drops by reason:"
has "$out" "no_socket: " # sim traffic goes to port 9, where nothing listens
expect 0 "$wp" stat latency --ctl "$ctl" --json
has "$out" '"stage":"HANDOFF"'

# --- ethtool -C / -c ----------------------------------------------------------
expect 0 "$wp" ethtool --ctl "$ctl" -c
has "$out" "Coalesce parameters for wp0:"
has "$out" "Adaptive RX: off  TX: n/a"
has "$out" $'rx-usecs: 50\nrx-frames: 0'
expect 0 "$wp" ethtool --ctl "$ctl" -C rx-usecs 10 rx-frames 4 adaptive-rx on
[ -z "$out$err" ] || fail "-C printed: $out $err"
expect 0 "$wp" ethtool --ctl "$ctl" -c
has "$out" "Adaptive RX: on  TX: n/a"
has "$out" $'rx-usecs: 10\nrx-frames: 4'
expect 0 "$wp" ethtool --ctl "$ctl" -C adaptive-rx off rx-usecs 0 rx-frames 1
expect 0 "$wp" ethtool --ctl "$ctl" -c
has "$out" "Adaptive RX: off"
has "$out" $'rx-usecs: 0\nrx-frames: 1'
# Refused whole: rx-frames would be fine, rx-usecs is not.
expect 1 "$wp" ethtool --ctl "$ctl" -C rx-frames 8 rx-usecs 9000
[ "$err" = "wirepath ethtool: rx-usecs 9000: out of range (wp0 takes 0..8192); nothing changed" ] ||
	fail "message: $err"
expect 1 "$wp" ethtool --ctl "$ctl" -C rx-frames 70000
expect 2 "$wp" ethtool --ctl "$ctl" -C tx-usecs 5
expect 2 "$wp" ethtool --ctl "$ctl" -C adaptive-rx maybe
expect 0 "$wp" ethtool --ctl "$ctl" -c
has "$out" $'rx-usecs: 0\nrx-frames: 1'

# --- ethtool -G / -g ----------------------------------------------------------
expect 0 "$wp" ethtool --ctl "$ctl" -g
has "$out" $'Pre-set maximums:\nRX:\t\t\t4096'
has "$out" $'Current hardware settings:\nRX:\t\t\t512'
expect 0 "$wp" ethtool --ctl "$ctl" -G rx 128 tx 256
expect 0 "$wp" ethtool --ctl "$ctl" -g
has "$out" $'Current hardware settings:\nRX:\t\t\t128\nRX Mini:\t\tn/a\nRX Jumbo:\t\tn/a\nTX:\t\t\t256'
expect 0 "$wp" stat --ctl "$ctl"
has "$out" "rings rx 128 tx 256"
# The rebuilt rings receive: rx_packets moves on.
a=$(rx_packets)
for _ in $(seq 1 50); do
	b=$(rx_packets)
	[ "$b" -gt "$a" ] && break
	sleep 0.1
done
[ "$b" -gt "$a" ] || fail "rx_packets stuck at $a after -G"
expect 0 "$wp" ethtool --ctl "$ctl" -S
has "$out" "NIC statistics:"
has "$out" "rx_queue_1_packets: "
expect 1 "$wp" ethtool --ctl "$ctl" -G rx 100
has "$err" "rx 100: not a ring size of wp0 (a power of two in 64..4096); nothing changed"
expect 1 "$wp" ethtool --ctl "$ctl" -G rx 1024 tx 8192
expect 2 "$wp" ethtool --ctl "$ctl" -G rx
expect 0 "$wp" ethtool --ctl "$ctl" -g
has "$out" $'Current hardware settings:\nRX:\t\t\t128\nRX Mini:\t\tn/a\nRX Jumbo:\t\tn/a\nTX:\t\t\t256'

# --- ethtool -L / -l, -X / -x -----------------------------------------------------
expect 0 "$wp" ethtool --ctl "$ctl" -l
has "$out" $'Pre-set maximums:\nRX:\t\tn/a\nTX:\t\tn/a\nOther:\t\tn/a\nCombined:\t2'
expect 0 "$wp" ethtool --ctl "$ctl" -L combined 1
expect 0 "$wp" ethtool --ctl "$ctl" -l
has "$out" $'Current hardware settings:\nRX:\t\tn/a\nTX:\t\tn/a\nOther:\t\tn/a\nCombined:\t1'
expect 0 "$wp" ethtool --ctl "$ctl" -x
has "$out" "RX flow hash indirection table for wp0 with 1 RX ring(s):"
expect 1 "$wp" ethtool --ctl "$ctl" -L combined 3
has "$err" "combined 3: out of range (wp0 has 2 channels: 1..2); nothing changed"
expect 1 "$wp" ethtool --ctl "$ctl" -X equal 2
expect 0 "$wp" ethtool --ctl "$ctl" -L combined 2
expect 0 "$wp" ethtool --ctl "$ctl" -X equal 1
expect 0 "$wp" ethtool --ctl "$ctl" -x
# 128 entries, every one 0, in ethtool's rows of 8.
printf '%s\n' "$out" | $py -c '
import sys
lines = sys.stdin.read().splitlines()
assert lines[0] == "RX flow hash indirection table for wp0 with 2 RX ring(s):", lines[0]
rows = [l for l in lines[1:] if ":" in l and l.split(":")[0].strip().isdigit()]
assert len(rows) == 16, rows
vals = [int(v) for r in rows for v in r.split(":")[1].split()]
assert vals == [0] * 128, vals
assert "RSS hash key:" in lines
' || fail "-x after -X equal 1: $out"
expect 1 "$wp" ethtool --ctl "$ctl" -X equal 3
expect 0 "$wp" ethtool --ctl "$ctl" -x
has "$out" "    0:      0     0     0     0     0     0     0     0"
expect 0 "$wp" ethtool --ctl "$ctl" -X equal 2
expect 0 "$wp" ethtool --ctl "$ctl" -x
has "$out" "    0:      0     1     0     1     0     1     0     1"

# --- sysctl ---------------------------------------------------------------------
expect 0 "$wp" sysctl --ctl "$ctl"
has "$out" "net.core.netdev_budget = 300"
has "$out" "net.core.dev_weight = 64"
expect 0 "$wp" sysctl --ctl "$ctl" -a
all=$out
expect 0 "$wp" sysctl --ctl "$ctl" net.core.netdev_budget=600
[ "$out" = "net.core.netdev_budget = 600" ] || fail "set printed: $out"
expect 0 "$wp" sysctl --ctl "$ctl" net.core.netdev_budget
[ "$out" = "net.core.netdev_budget = 600" ] || fail "get printed: $out"
expect 0 "$wp" stat --ctl "$ctl"
has "$out" "netdev_budget 600"
expect 0 "$wp" sysctl --ctl "$ctl" net/core/netdev_budget_usecs=4000 net.core.dev_weight
[ "$out" = $'net.core.netdev_budget_usecs = 4000\nnet.core.dev_weight = 64' ] || fail "$out"
expect 0 "$wp" sysctl --ctl "$ctl" "net.ipv4.tcp_rmem=4096 87380 6291456"
[ "$out" = $'net.ipv4.tcp_rmem = 4096\t87380\t6291456' ] || fail "$out"
expect 1 "$wp" sysctl --ctl "$ctl" net.core.x
[ "$err" = "wirepath sysctl: cannot stat net.core.x: No such file or directory" ] ||
	fail "message: $err"
expect 1 "$wp" sysctl --ctl "$ctl" net.core.dev_weight=32 net.core.netdev_budget=lots
has "$err" 'setting key "net.core.netdev_budget": Invalid argument'
has "$err" "nothing changed"
expect 1 "$wp" sysctl --ctl "$ctl" net.core.netdev_budget=-1
expect 0 "$wp" sysctl --ctl "$ctl" net.core.netdev_budget net.core.dev_weight
[ "$out" = $'net.core.netdev_budget = 600\nnet.core.dev_weight = 64' ] || fail "$out"
expect 2 "$wp" sysctl --ctl "$ctl" -a net.core.dev_weight

# --- ownership of the path ---------------------------------------------------------
# A live socket is refused; the first stack still answers.
expect 1 "$wp" run --backend sim --addr 10.0.0.2/24 --ctl "$ctl"
[ "$err" = "wirepath run: another stack is using $ctl: stop it, or give this one another --ctl PATH" ] ||
	fail "message: $err"
expect 0 "$wp" ethtool --ctl "$ctl" -g
# Something that is not a socket is never removed.
echo keep >"$tmp/file.ctl"
expect 1 "$wp" run --backend sim --addr 10.0.0.2/24 --ctl "$tmp/file.ctl"
has "$err" "exists and is not a socket"
[ "$(cat "$tmp/file.ctl")" = keep ] || fail "file.ctl was touched"

# SIGKILL leaves a stale socket: no stack answers, and a new one takes it.
kill -9 "$first"
wait "$first" 2>/dev/null || true
[ -S "$ctl" ] || fail "no stale socket after SIGKILL"
expect 1 "$wp" stat --ctl "$ctl"
has "$err" "no stack is running at $ctl"
start_run "$ctl"
second=$last
expect 0 "$wp" ethtool --ctl "$ctl" -c
has "$out" "rx-usecs: 50" # a new stack: defaults again

# A socket file left by another program (bound, never listening).
$py -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	"$tmp/py.ctl"
[ -S "$tmp/py.ctl" ] || fail "python made no socket"
expect 1 "$wp" stat --ctl "$tmp/py.ctl"
start_run "$tmp/py.ctl"
third=$last
expect 0 "$wp" stat interrupts --ctl "$tmp/py.ctl"

# A clean stop removes the socket.
kill -INT "$third"
wait "$third" || fail "run exited $? after SIGINT"
[ ! -e "$tmp/py.ctl" ] || fail "socket left after a clean stop"
kill -TERM "$second"
wait "$second" || fail "run exited $? after SIGTERM"
[ ! -e "$ctl" ] || fail "socket left after a clean stop"
has "$(cat "$tmp/run.err")" "wirepath run: control socket $ctl"

# --- wirepath demo serves it too ------------------------------------------------
# Long enough for a slow (sanitized, loaded) build to ask it three things.
"$wp" demo --seconds 12 --ctl "$tmp/demo.ctl" >"$tmp/demo.out" 2>&1 &
pids+=($!)
demo=$!
wait_ctl "$tmp/demo.ctl"
expect 0 "$wp" stat softnet --ctl "$tmp/demo.ctl"
expect 0 "$wp" ethtool --ctl "$tmp/demo.ctl" -l
has "$out" $'Combined:\t2'
expect 0 "$wp" sysctl --ctl "$tmp/demo.ctl" net.core.dev_weight
wait "$demo" || fail "demo exited $?"
d=$(cat "$tmp/demo.out")
has "$d" "control socket: $tmp/demo.ctl"
# Every phase, the summary, and traffic on every flow: the second
# host's TCP and UDP clients got answers, the sink read datagrams.
for want in "phase 1: defaults" "phase 2: ethtool -C rx-usecs 0 rx-frames 1" \
	"phase 3: ethtool -G rx 64" "phase 4: sysctl net.core.netdev_budget=16" \
	"Summary after" "/proc/interrupts:" "wake-ups by kind" \
	"One packet's journey" "One TCP segment's journey"; do
	has "$d" "$want"
done
grep -qE '^    tcp-echo: [1-9][0-9]* bytes there and back; http: [1-9][0-9]* responses' <<<"$d" ||
	fail "demo: no TCP traffic answered: $(grep 'tcp-echo:' <<<"$d")"
grep -qE '^    udp-echo: [1-9][0-9]* round trips.*udp-sink: [1-9][0-9]* datagrams read' <<<"$d" ||
	fail "demo: no UDP traffic answered: $(grep 'udp-echo:' <<<"$d")"
[ ! -e "$tmp/demo.ctl" ] || fail "demo left its socket"
expect 1 "$wp" demo --seconds 4 --ctl "$tmp/no/such/dir.ctl"
has "$err" "cannot create"

echo "test_ctl: ok"
