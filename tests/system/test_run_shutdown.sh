#!/usr/bin/env bash
# wirepath run stops cleanly: connections still open when SIGINT comes
# are closed with a FIN the peer sees (the kernel's socket goes to
# CLOSE-WAIT), the applications' counters say every connection closed,
# and the TAP device goes with the stack. Runs in a network namespace
# of its own (10.9.21.0/24 only inside it).
#   usage: test_run_shutdown.sh PATH/TO/wirepath
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; cat "$tmp/wp.log" >&2 2>/dev/null || true; exit 1; }
wp=$(realpath "$1")

if [ -z "${WP_SHUTDOWN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "not root: needs CAP_NET_ADMIN"
	[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
	for c in ip ss unshare timeout; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	unshare --net true 2>/dev/null || skip "cannot create a network namespace"
	WP_SHUTDOWN_NS=1 exec unshare --net -- bash "$0" "$@"
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip link set lo up

"$wp" run --backend tap --if wpsd0 --addr 10.9.21.2/24 --ctl "$tmp/wp.ctl" \
	--app tcp-echo:7 --app tcp-sink:9 >"$tmp/wp.out" 2>"$tmp/wp.log" &
wp_pid=$!
pids+=("$wp_pid")
for _ in $(seq 400); do
	kill -0 "$wp_pid" 2>/dev/null || fail "wirepath run died"
	grep -q '[<,]UP[,>]' <<<"$(ip -o link show wpsd0 2>/dev/null || true)" && break
	sleep 0.05
done
ip addr add 10.9.21.1/24 dev wpsd0

# Three connections left open, held by this shell: idle on the echo,
# idle on the sink, and one on the echo that has carried a line.
exec 3<>/dev/tcp/10.9.21.2/7
exec 4<>/dev/tcp/10.9.21.2/9
exec 5<>/dev/tcp/10.9.21.2/7
printf 'hello\n' >&5
estab() { ss -Htn state established '( dport = :7 or dport = :9 )' | wc -l; }
for _ in $(seq 400); do
	[ "$(estab)" = 3 ] && break
	sleep 0.05
done
[ "$(estab)" = 3 ] || fail "3 connections not established: $(ss -tn)"
read -r -t 30 line <&5 || fail "no echo"
[ "$line" = hello ] || fail "echo: $line"
# (Nothing more is sent: data the echo had not read yet when the stop
# came would make its close a RST, as close() does, not a FIN.)

kill -INT "$wp_pid"
st=0
timeout 60 tail --pid="$wp_pid" -f /dev/null || fail "wirepath run did not stop"
wait "$wp_pid" || st=$?
[ "$st" = 0 ] || fail "wirepath run exited $st"

# Every kernel socket got our FIN: all three in CLOSE-WAIT (this shell
# has not closed its side), none still ESTABLISHED.
[ "$(estab)" = 0 ] || fail "still established after the stop: $(ss -tn)"
cw=$(ss -Htn state close-wait '( dport = :7 or dport = :9 )' | wc -l)
[ "$cw" = 3 ] || fail "$cw sockets in CLOSE-WAIT, not 3: $(ss -tn)"
for a in tcp-echo:7 tcp-sink:9; do
	line=$(grep "^$a " "$tmp/wp.log") || fail "no counters for $a"
	grep -q ' active 0 ' <<<"$line" || fail "$a: $line"
done
grep -q '^tcp-echo:7 accepted 2 active 0 closed 2 ' "$tmp/wp.log" || fail "tcp-echo counters"
grep -q '^tcp-sink:9 accepted 1 active 0 closed 1 ' "$tmp/wp.log" || fail "tcp-sink counters"
! grep -q 'still unfinished' "$tmp/wp.log" || fail "connections left unfinished"
! ip link show wpsd0 >/dev/null 2>&1 || fail "wpsd0 was left behind"
echo "run_shutdown: OK"
