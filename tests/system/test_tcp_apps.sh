#!/usr/bin/env bash
# The TCP applications against real Linux peers: `wirepath run --app
# tcp-echo:7 --app tcp-sink:9 --app tcp-source:19 --app http:80
# --app http:8080:DIR` on one backend (tap, afpacket or afxdp), and the
# kernel's nc, curl and ping as clients:
#   - 50 MB to tcp-sink (nc), counted by the sink;
#   - 50 MB from tcp-source (nc), compared with the RFC 864 stream by
#     sha256;
#   - 50 MB of random bytes through tcp-echo (nc), sha256 of what came
#     back against what went;
#   - curl GET / (the page names wirepath) and GET /bytes/50000000
#     (sha256 against the RFC 864 stream), two concurrent downloads, and
#     the error of a malformed request;
#   - the directory server: three concurrent curl downloads of a 50 MB
#     file (sha256 each), curl -I (length and type), index.html, a 404,
#     and ways out of the directory refused ("..", a symlink out);
#   - ping -s 3000: a fragmented echo request, answered (reassembled by
#     the stack, the reply fragmented by it).
# The counters wirepath prints when it stops must agree.
#
# Everything happens in network namespaces this script creates: it runs
# itself in a fresh one (unshare); for afpacket and afxdp the veth peer
# lives in another one held by a child process. When the script ends,
# however it ends, they go and every device in them with them.
# Addresses: 10.9.3.0/24 (tap), 10.9.4.0/24 (afpacket), 10.9.6.0/24
# (afxdp), only inside these namespaces.
#   usage: test_tcp_apps.sh PATH/TO/wirepath tap|afpacket|afxdp
set -Eeuo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wp=$(realpath "$1")
backend=$2
# Bytes per transfer: 50 MB, or WP_WIRE_BYTES (the sanitized pass of
# scripts/test.sh moves less: the same paths in a fraction of the time).
MB50=${WP_WIRE_BYTES:-50000000}

if [ -z "${WP_TCPAPPS_NS:-}" ]; then
	case "$backend" in
	tap | afpacket | afxdp) ;;
	*) fail "unknown backend '$backend'" ;;
	esac
	[ "$(id -u)" = 0 ] || skip "not root: needs CAP_NET_ADMIN and CAP_NET_RAW"
	for c in ip ping unshare nsenter nc curl sha256sum head timeout; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	# OpenBSD netcat: -N (shut down writing at the end of input), -d.
	# (Outputs go to variables first: with pipefail, grep -q closing a
	# pipe early would fail the pipeline.)
	said=$(nc -h 2>&1 || true)
	grep -qE '^[[:space:]]+-N[[:space:]]' <<<"$said" || skip "needs OpenBSD netcat (nc -N)"
	help=$("$wp" run --help 2>&1 || true)
	grep -q -- 'tcp-source' <<<"$help" || skip "wirepath run has no TCP applications"
	if [ "$backend" != tap ]; then
		command -v ethtool >/dev/null || skip "needs ethtool (offloads off on the veth)"
	fi
	if [ "$backend" = tap ]; then
		[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
	fi
	if [ "$backend" = afxdp ]; then
		said=$("$wp" run --backend afxdp --if wpnosuch0 --addr 10.9.6.2/24 2>&1 || true)
		! grep -q "built without libxdp" <<<"$said" ||
			skip "wirepath was built without the afxdp backend (libxdp, libbpf)"
	fi
	unshare --net true 2>/dev/null || skip "cannot create a network namespace"
	WP_TCPAPPS_NS=1 exec unshare --net -- bash "$0" "$@"
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
# A step that fails under set -e says where, with what wirepath said.
trap 'st=$?; echo "FAIL: line $LINENO: exit $st" >&2; tail -20 "$tmp/wp.log" >&2 2>/dev/null' ERR
ip link set lo up

wp_pid=
start_wp() {
	"$wp" run "$@" --app tcp-echo:7 --app tcp-sink:9 --app tcp-source:19 \
		--app http:80 --app "http:8080:$tmp/www" >"$tmp/wp.out" 2>"$tmp/wp.log" &
	wp_pid=$!
	pids+=("$wp_pid")
}

stop_wp() {
	local st=0
	kill -INT "$wp_pid"
	wait "$wp_pid" || st=$?
	[ "$st" = 0 ] || { cat "$tmp/wp.log" >&2; fail "wirepath run exited $st"; }
}

alive() {
	kill -0 "$wp_pid" 2>/dev/null || { cat "$tmp/wp.log" >&2; fail "wirepath run died"; }
}

# The RFC 864 stream, N bytes: one period (95 lines of 72 characters
# and CRLF, line k starting at character k of ' '..'~'), doubled until
# long enough, cut.
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
}

chargen "$MB50" "$tmp/chargen50"
want_chargen=$(sha256sum <"$tmp/chargen50" | cut -d' ' -f1)
head -c "$MB50" /dev/urandom >"$tmp/random50"
want_random=$(sha256sum <"$tmp/random50" | cut -d' ' -f1)
# The ring's first characters, as a check of the generator itself.
[ "$(head -c 8 "$tmp/chargen50")" = ' !"#$%&'"'" ] || fail "chargen starts wrong"
# What http:8080 serves, and a secret beside it that it must not.
mkdir -p "$tmp/www/sub" "$tmp/secret"
ln "$tmp/random50" "$tmp/www/random50.bin"
echo '<h1>index of www</h1>' >"$tmp/www/index.html"
echo 'SECRET' >"$tmp/secret/key.txt"
ln -s ../secret/key.txt "$tmp/www/leak.txt"

# A client command, in the peer's namespace when there is one.
ns=()

wait_up() { # ADDR: the stack answers on port 80
	for _ in $(seq 200); do
		alive
		"${ns[@]}" timeout 5 curl -s -o /dev/null "http://$1/" && return 0
		sleep 0.1
	done
	cat "$tmp/wp.log" >&2
	fail "http://$1/ never answered"
}

# The value of counter KEY of application APP in the stop summary.
app_counter() { # APP KEY
	sed -n "s/^$1 .* $2 \\([0-9]*\\).*/\\1/p" "$tmp/wp.log" | head -1
}

transfers() { # ADDR
	local a=$1 got out code
	wait_up "$a"

	# Upload: 50 MB to the sink; nc -N sends its FIN at the end of input
	# and waits for the sink's.
	"${ns[@]}" timeout 300 nc -N "$a" 9 <"$tmp/random50" ||
		fail "nc to tcp-sink failed"

	# Download: the first 50 MB of the source's stream.
	got=$("${ns[@]}" timeout 300 nc -d "$a" 19 | head -c "$MB50" | sha256sum | cut -d' ' -f1) || true
	[ "$got" = "$want_chargen" ] || fail "tcp-source: sha256 $got, not $want_chargen"

	# Both ways through the echo.
	got=$("${ns[@]}" timeout 300 nc -N "$a" 7 <"$tmp/random50" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want_random" ] || fail "tcp-echo: sha256 $got, not $want_random"

	# HTTP: the page, a 50 MB body, two downloads at once, an error.
	out=$("${ns[@]}" timeout 60 curl -sS "http://$a/") || fail "curl GET /"
	grep -q '<h1>wirepath</h1>' <<<"$out" || fail "GET /: $out"
	got=$("${ns[@]}" timeout 300 curl -sS "http://$a/bytes/$MB50" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want_chargen" ] || fail "GET /bytes/$MB50: sha256 $got"
	"${ns[@]}" timeout 300 curl -sS -o "$tmp/dl1" "http://$a/bytes/5000000" &
	local p1=$!
	"${ns[@]}" timeout 300 curl -sS -o "$tmp/dl2" "http://$a/bytes/7000000" &
	local p2=$!
	wait "$p1" || fail "concurrent download 1"
	wait "$p2" || fail "concurrent download 2"
	cmp -s "$tmp/dl1" <(head -c 5000000 "$tmp/chargen50") || fail "concurrent download 1 differs"
	cmp -s "$tmp/dl2" <(head -c 7000000 "$tmp/chargen50") || fail "concurrent download 2 differs"
	code=$("${ns[@]}" timeout 60 curl -s -o /dev/null -w '%{http_code}' "http://$a/nope")
	[ "$code" = 404 ] || fail "GET /nope: $code"
	code=$("${ns[@]}" timeout 60 curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$a/")
	[ "$code" = 405 ] || fail "DELETE /: $code"
	out=$(printf 'GET / HTTP/1.1\r\nBad Header\r\n\r\n' | "${ns[@]}" timeout 60 nc -N "$a" 80)
	grep -q '^HTTP/1.1 400 Bad Request' <<<"$out" || fail "malformed request: $out"

	# The directory server: a 50 MB file three times at once, its
	# head, the index, a 404, and no way out of the directory.
	local dp=()
	for k in 1 2 3; do
		"${ns[@]}" timeout 300 curl -sS -o "$tmp/f$k" "http://$a:8080/random50.bin" &
		dp+=($!)
	done
	for k in 1 2 3; do
		wait "${dp[$((k - 1))]}" || fail "GET :8080/random50.bin ($k)"
		got=$(sha256sum <"$tmp/f$k" | cut -d' ' -f1)
		[ "$got" = "$want_random" ] || fail "GET :8080/random50.bin ($k): sha256 $got"
		rm -f "$tmp/f$k"
	done
	out=$("${ns[@]}" timeout 60 curl -sS -I "http://$a:8080/random50.bin") || fail "curl -I"
	grep -q '^HTTP/1.1 200 OK' <<<"$out" || fail "HEAD: $out"
	grep -qi "^Content-Length: $MB50" <<<"$out" || fail "HEAD length: $out"
	grep -qi '^Content-Type: application/octet-stream' <<<"$out" || fail "HEAD type: $out"
	grep -qi '^Last-Modified: .* GMT' <<<"$out" || fail "HEAD date: $out"
	out=$("${ns[@]}" timeout 60 curl -sS "http://$a:8080/") || fail "GET :8080/"
	[ "$out" = '<h1>index of www</h1>' ] || fail "GET :8080/: $out"
	code=$("${ns[@]}" timeout 60 curl -s -o /dev/null -w '%{http_code}' "http://$a:8080/nope.txt")
	[ "$code" = 404 ] || fail "GET :8080/nope.txt: $code"
	code=$("${ns[@]}" timeout 60 curl -s -o "$tmp/out" -w '%{http_code}' --path-as-is "http://$a:8080/../secret/key.txt")
	[ "$code" = 400 ] || fail "GET :8080/../secret/key.txt: $code"
	code=$("${ns[@]}" timeout 60 curl -s -o "$tmp/out" -w '%{http_code}' "http://$a:8080/leak.txt")
	[ "$code" = 404 ] || fail "GET :8080/leak.txt (a symlink out): $code"
	! grep -q SECRET "$tmp/out" || fail "the secret came out"

	# A fragmented echo request (3028 bytes of IP: three fragments).
	out=$("${ns[@]}" ping -c 3 -i 0.2 -w 20 -s 3000 "$a") ||
		{ echo "$out" >&2; fail "ping -s 3000 $a"; }
	grep -q ' 3 received' <<<"$out" || fail "ping -s 3000: $out"
	grep -q '^3008 bytes from' <<<"$out" || fail "ping -s 3000: $out"
}

check_counters() {
	local v
	v=$(app_counter tcp-sink:9 rx_bytes)
	[ "$v" = "$MB50" ] || { cat "$tmp/wp.log" >&2; fail "tcp-sink read ${v:-?} bytes, not $MB50"; }
	v=$(app_counter tcp-echo:7 rx_bytes)
	[ "$v" = "$MB50" ] || { cat "$tmp/wp.log" >&2; fail "tcp-echo read ${v:-?} bytes"; }
	v=$(app_counter tcp-echo:7 tx_bytes)
	[ "$v" = "$MB50" ] || { cat "$tmp/wp.log" >&2; fail "tcp-echo wrote ${v:-?} bytes"; }
	v=$(app_counter tcp-source:19 tx_bytes)
	[ "${v:-0}" -ge "$MB50" ] || { cat "$tmp/wp.log" >&2; fail "tcp-source wrote ${v:-?} bytes"; }
	v=$(app_counter http:80 rejects)
	[ "$v" = 3 ] || { cat "$tmp/wp.log" >&2; fail "http rejects ${v:-?}, not 3"; }
	v=$(app_counter http:8080 tx_bytes)
	[ "${v:-0}" -ge $((3 * MB50)) ] || { cat "$tmp/wp.log" >&2; fail "http:8080 wrote ${v:-?} bytes"; }
	v=$(app_counter http:8080 status_404)
	[ "$v" = 2 ] || { cat "$tmp/wp.log" >&2; fail "http:8080 status_404 ${v:-?}, not 2"; }
	v=$(app_counter http:8080 status_400)
	[ "$v" = 1 ] || { cat "$tmp/wp.log" >&2; fail "http:8080 status_400 ${v:-?}, not 1"; }
	v=$(app_counter http:8080 escapes)
	[ "$v" = 2 ] || { cat "$tmp/wp.log" >&2; fail "http:8080 escapes ${v:-?}, not 2"; }
	# Every connection closed by the stop, none left open.
	for a in tcp-echo:7 tcp-sink:9 tcp-source:19 http:80 http:8080; do
		v=$(app_counter "$a" active)
		[ "$v" = 0 ] || { cat "$tmp/wp.log" >&2; fail "$a: $v connections still active"; }
	done
}

peer_ns() { # a namespace for the other end of a veth
	unshare --net sleep 3600 &
	peer=$!
	pids+=("$peer")
	for _ in $(seq 100); do
		[ "$(readlink /proc/$peer/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.02
	done
}

# The peer's end sends what a real wire carries: no TSO/GSO frames
# longer than the MTU, and no partial checksums (a veth hands frames
# over with only the pseudo-header summed; AF_PACKET says so and the
# afpacket firmware finishes them, AF_XDP has no way to say it). GRO off
# on ours, as docs/backend-afpacket.md tells for a real NIC.
veth() { # NAME-HERE NAME-THERE SUBNET-PREFIX
	ip link add "$1" type veth peer name "$2" netns "$peer"
	ethtool -K "$1" gro off >/dev/null 2>&1 || true
	nsenter -t "$peer" -n ethtool -K "$2" tx off tso off gso off >/dev/null ||
		fail "ethtool -K $2 tx off tso off gso off"
	ip link set "$1" up
	nsenter -t "$peer" -n ip link set lo up
	nsenter -t "$peer" -n ip addr add "$3.1/24" dev "$2"
	nsenter -t "$peer" -n ip link set "$2" up
}

case "$backend" in
tap)
	start_wp --backend tap --if wptcp0 --addr 10.9.3.2/24
	for _ in $(seq 200); do
		alive
		grep -q '[<,]UP[,>]' <<<"$(ip -o link show wptcp0 2>/dev/null || true)" && break
		sleep 0.05
	done
	ip addr add 10.9.3.1/24 dev wptcp0
	transfers 10.9.3.2
	stop_wp
	! ip link show wptcp0 >/dev/null 2>&1 || fail "wptcp0 was left behind"
	;;
afpacket)
	peer_ns
	veth wptv1 wptv0 10.9.4
	ns=(nsenter -t "$peer" -n)
	start_wp --backend afpacket --if wptv1 --addr 10.9.4.2/24
	transfers 10.9.4.2
	stop_wp
	;;
afxdp)
	peer_ns
	veth wptx1 wptx0 10.9.6
	ns=(nsenter -t "$peer" -n)
	start_wp --backend afxdp --if wptx1 --addr 10.9.6.2/24
	transfers 10.9.6.2
	stop_wp
	;;
esac
check_counters
if [ -n "${peer:-}" ]; then
	kill "$peer"
	wait "$peer" 2>/dev/null || true
	for _ in $(seq 100); do
		[ "$(ip -o link | grep -cv ': lo:' || true)" = 0 ] && break
		sleep 0.02
	done
fi
left=$(ip -o link | grep -cv ': lo:' || true)
[ "$left" = 0 ] || fail "links left behind: $(ip -o link)"
echo "tcp_apps $backend: OK"
