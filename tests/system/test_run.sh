#!/usr/bin/env bash
# wirepath run: the command line contract (exit codes, messages), a real
# time run on the sim backend stopped by SIGTERM and by SIGINT, and a pcap
# run that ends by itself when its input is done.
#   usage: test_run.sh PATH/TO/wirepath
set -euo pipefail
wp=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; [ -f err.txt ] && head -20 err.txt >&2; exit 1; }

# expect RC ARGS...: exit status and a message on stderr when not 0.
expect() {
	local want=$1 rc
	shift
	set +e
	timeout 60 "$wp" run "$@" >out.txt 2>err.txt
	rc=$?
	set -e
	[ "$rc" -eq "$want" ] || fail "run $*: exit $rc, want $want"
	if [ "$want" -ne 0 ]; then
		[ -s err.txt ] || fail "run $*: no message"
		# (a backend may say what it found first)
		grep -q '^wirepath run: ' err.txt ||
			fail "run $*: no 'wirepath run: ' message"
	fi
	[ ! -s out.txt ] || fail "run $*: stdout is not empty"
}

# --- refused: usage errors exit 2, runtime failures exit 1 -------------------
expect 2 --backend sim
grep -q -- '--addr A.B.C.D/N is required' err.txt || fail "no --addr message"
expect 2 --backend warp --addr 10.0.0.2/24
expect 2 --backend sim --addr 10.0.0.2
expect 2 --backend sim --addr 10.0.0.2/33
expect 2 --backend sim --addr 10.0.0.2/24 --cores 2
grep -q -- '--cores' err.txt || fail "cores > queues not named"
expect 2 --backend sim --addr 10.0.0.2/24 --pcap-in x.pcap
expect 2 --backend pcap --addr 10.0.0.2/24
expect 2 --backend pcap --addr 10.0.0.2/24 --pcap-in x.pcap --rate 5
expect 2 --backend sim --addr 10.0.0.2/24 --static-arp 10.0.0.1
expect 2 --backend sim --addr 10.0.0.2/24 --static-arp 10.0.0.1=zz:00:00:00:00:01
expect 2 --backend sim --addr 10.0.0.2/24 --mtu 20
expect 2 --backend sim --addr 10.0.0.2/24 --burst 10
expect 2 --backend sim --addr 10.0.0.2/24 --if eth0
expect 2 --backend tap --addr 10.0.0.2/24
expect 2 --backend sim --addr 10.0.0.2/24 stray
expect 1 --backend sim --addr 10.0.0.2/24 --gw 192.168.1.1
grep -q 'gw' err.txt || fail "off-subnet gateway not explained"
expect 1 --backend pcap --addr 10.0.0.2/24 --pcap-in missing.pcap
expect 1 --backend sim --addr 224.0.0.1/24
# A spec's third field: only http takes one (DIR), which must be a
# directory; refused before anything runs, naming it.
expect 2 --backend sim --addr 10.0.0.2/24 --app tcp-echo:7:/tmp
grep -q 'tcp-echo takes no third field' err.txt || fail "tcp-echo:7:/tmp not explained"
expect 2 --backend sim --addr 10.0.0.2/24 --app http:80:
expect 1 --backend sim --addr 10.0.0.2/24 --app "http:80:$tmp/nosuch"
grep -q "directory '$tmp/nosuch': No such file" err.txt || fail "missing DIR not named"
: >"$tmp/afile"
expect 1 --backend sim --addr 10.0.0.2/24 --app "http:80:$tmp/afile"
grep -q "Not a directory" err.txt || fail "a file as DIR not explained"

# --- sim: real time until a signal, a clean stop --------------------------------
for sig in TERM INT; do
	"$wp" run --backend sim --addr 10.0.0.2/24 --gw 10.0.0.1 --rate 20000 \
		--queues 2 --cores 2 --flows 8 --stats --ctl "$tmp/run.ctl" \
		>out.txt 2>err.txt &
	pid=$!
	# Until the stack has handed a few thousand packets up (however
	# slowly a loaded host starts it), bounded.
	up=0
	for _ in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || fail "sim run died"
		j=$("$wp" stat --ctl "$tmp/run.ctl" --json 2>/dev/null || true)
		up=$(sed -n 's/.*"rx_packets":\([0-9]*\).*/\1/p' <<<"$j")
		[ "${up:-0}" -gt 3000 ] && break
		sleep 0.1
	done
	[ "${up:-0}" -gt 3000 ] || fail "sim run: ${up:-0} packets handed up in 60 s"
	kill -"$sig" "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || fail "sim run stopped by SIG$sig: exit $rc"
	grep -qE '^wirepath run: sim: [0-9]+ frames in, [0-9]+ handed up' err.txt ||
		fail "no summary after SIG$sig"
	# sim sends UDP to port 9 from 10.0.1.x via the gateway: no socket,
	# port unreachable, rate limited per host, ARP for the gateway.
	n=$(awk '/packets to unknown port received/ { print $1 }' err.txt)
	[ "${n:-0}" -gt 1000 ] || fail "sim: only ${n:-0} datagrams reached UDP"
	grep -q 'OutRateLimitHost: ' err.txt || fail "sim: errors not rate limited"
	grep -q '^10.0.0.1 dev wp0' err.txt || fail "sim: no neighbour for the gateway"
	grep -q '^default via 10.0.0.1 dev wp0' err.txt || fail "sim: no default route"
done

# --- pcap: ends by itself; an empty capture gives the gratuitous ARP only ------
/usr/bin/python3 - <<'PY'
import struct
with open("empty.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
PY
expect 0 --backend pcap --addr 10.0.0.2/24 --pcap-in empty.pcap \
	--pcap-out out.pcap --linger 100ms
grep -qE '^wirepath run: pcap: 0 frames in, 0 handed up, 1 frames out' err.txt ||
	fail "pcap: expected exactly the gratuitous ARP out"
echo "run: all checks passed"
