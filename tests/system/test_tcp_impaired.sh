#!/usr/bin/env bash
# TCP over a bad wire, byte-exact: the kernel's nc against `wirepath run
# --app tcp-echo:7 --app tcp-source:19` on one backend (tap, afpacket or
# afxdp), with wire_impair between them doing to every frame, both ways,
# what tc netem would: 5% lost, 0.5% corrupted (one bit flipped after the
# Ethernet header: the checksums must catch it), 25% held back 2 ms while
# later frames overtake them (reordering), 2% duplicated.
#   - 50 MB of random bytes through tcp-echo (nc -N): 50 MB from the
#     kernel to wirepath and the same 50 MB back, sha256 of what came
#     back against what went;
#   - at the same time, 50 MB from tcp-source (nc -d), sha256 against the
#     RFC 864 stream.
# The relay must have done each of the four impairments both ways, and
# wirepath must have retransmitted and thrown corrupt frames away (IP
# header or TCP checksum errors); tcp-echo must have read and written
# exactly 50 MB, and no connection may be left open.
#
# Why a relay and not netem: kernels without CONFIG_NET_SCH_NETEM (this
# project's CI VM among them) have no netem, and netem on the frames
# wirepath sends would need an ifb on the kernel's ingress as well;
# wire_impair does both directions the same way on any kernel and any
# interface (a TAP's kernel side too), seeded, and counts what it did.
#
# Namespaces and devices as in wire_lib.sh; addresses 10.9.15.0/24 (tap),
# 10.9.16.0/24 (afpacket), 10.9.17.0/24 (afxdp), only inside them.
#   usage: test_tcp_impaired.sh PATH/TO/wirepath tap|afpacket|afxdp \
#                               PATH/TO/wire_impair
set -Eeuo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")
backend=$2
impair_exe=$(realpath "$3")
here=$(dirname "$(realpath "$0")")
# Bytes per transfer: 50 MB, or WP_WIRE_BYTES (the sanitized pass of
# scripts/test.sh moves less: the same paths in a fraction of the time).
MB50=${WP_WIRE_BYTES:-50000000}
# shellcheck source=wire_lib.sh
. "$here/wire_lib.sh"

if [ -z "${WP_IMPAIRED_NS:-}" ]; then
	wire_prereqs "$backend" nc sha256sum head
	said=$(nc -h 2>&1 || true)
	grep -qE '^[[:space:]]+-N[[:space:]]' <<<"$said" || skip "needs OpenBSD netcat (nc -N)"
	WP_IMPAIRED_NS=1 exec unshare --net -- bash "$0" "$@"
fi
wire_init

case "$backend" in
tap) pfx=10.9.15 dev=wpit0 ;;
afpacket) pfx=10.9.16 dev=wpiw0 ;;
afxdp) pfx=10.9.17 dev=wpiw0 ;;
esac
chargen "$MB50" "$tmp/chargen50"
want_chargen=$(sha256sum <"$tmp/chargen50" | cut -d' ' -f1)
rm -f "$tmp/chargen50"
head -c "$MB50" /dev/urandom >"$tmp/random50"
want_random=$(sha256sum <"$tmp/random50" | cut -d' ' -f1)

impair=(--seed 864 --loss 5 --corrupt 0.5 --reorder 25 --delay-us 2000 --dup 2)
wire_up "$backend" wpi "$pfx" --stats --app tcp-echo:7 --app tcp-source:19
reach

# Both at once: each flow spends most of its time waiting out losses,
# not on a CPU.
start=$(date +%s)
("${ns[@]}" timeout 600 nc -N "$addr" 7 <"$tmp/random50" | sha256sum | cut -d' ' -f1 >"$tmp/echo.sha") &
echo_pid=$!
pids+=("$echo_pid")
got=$("${ns[@]}" timeout 600 nc -d "$addr" 19 | head -c "$MB50" | sha256sum | cut -d' ' -f1) || true
[ "$got" = "$want_chargen" ] || fail "tcp-source: sha256 $got, not $want_chargen"
echo "tcp-source: 50 MB in $(($(date +%s) - start)) s"
wait "$echo_pid" || fail "nc -N to tcp-echo failed"
got=$(cat "$tmp/echo.sha")
[ "$got" = "$want_random" ] || fail "tcp-echo: sha256 $got, not $want_random"
echo "tcp-echo and tcp-source: 50 MB each way through the echo, 50 MB from the source in $(($(date +%s) - start)) s"

stop_wp
stop_impair
# Each impairment happened in both directions.
for d in "$dev>wpik0" "wpik0>$dev"; do
	for k in lost corrupted reordered duplicated; do
		v=$(sed -n "s/^wire_impair $d .* $k \\([0-9]*\\).*/\\1/p" "$tmp/impair.out")
		[ "${v:-0}" -gt 0 ] || fail "wire_impair $d: $k ${v:-0}"
	done
done
v=$(app_counter tcp-echo:7 rx_bytes)
[ "$v" = "$MB50" ] || { cat "$tmp/wp.log" >&2; fail "tcp-echo read ${v:-?} bytes, not $MB50"; }
v=$(app_counter tcp-echo:7 tx_bytes)
[ "$v" = "$MB50" ] || { cat "$tmp/wp.log" >&2; fail "tcp-echo wrote ${v:-?} bytes, not $MB50"; }
v=$(app_counter tcp-source:19 tx_bytes)
[ "${v:-0}" -ge "$MB50" ] || { cat "$tmp/wp.log" >&2; fail "tcp-source wrote ${v:-?} bytes"; }
for a in tcp-echo:7 tcp-source:19; do
	v=$(app_counter "$a" active)
	[ "$v" = 0 ] || { cat "$tmp/wp.log" >&2; fail "$a: $v connections still active"; }
done
rtx=$(netstat_counter "segments retransmitted")
[ "${rtx:-0}" -gt 0 ] || { cat "$tmp/wp.log" >&2; fail "wirepath retransmitted nothing"; }
hdr=$(netstat_counter "with invalid headers")
bad=$(netstat_counter "bad segments received")
[ $((${hdr:-0} + ${bad:-0})) -gt 0 ] ||
	{ cat "$tmp/wp.log" >&2; fail "no corrupt frame was caught by wirepath"; }
echo "wirepath: $rtx segments retransmitted, ${hdr:-0} IP header errors, ${bad:-0} bad TCP segments"
wire_down
echo "tcp_impaired $backend: OK"
