#!/usr/bin/env bash
# System test of the wirepath command line: the conventions of docs/cli.md
# (exit codes, --help, usage on stderr, --json lines) for every registered
# command, and the skb and bench commands in detail. The skb checks hold
# the output to the sk_buff semantics (pull moves data forward by the
# header's size, ...), so they test src/skb through the explorer as well.
#
#   tests/system/test_cli.sh path/to/wirepath
set -u

wp=${1:?usage: test_cli.sh path/to/wirepath}
[ -x "$wp" ] || { echo "test_cli.sh: $wp is not executable" >&2; exit 2; }

# The interpreter itself, once: a version manager's shim costs a second
# per call, and this test calls python a few dozen times.
py=$(python3 -c 'import sys; print(sys.executable)') ||
	{ echo "test_cli.sh: python3 is needed" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err
failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	echo "  command: ${last_cmd:-}" >&2
	echo "  --- stdout (first 20 lines)" >&2
	head -n 20 "$out" >&2
	echo "  --- stderr (first 20 lines)" >&2
	head -n 20 "$err" >&2
	failures=$((failures + 1))
}

# run RC ARGS...: run wirepath ARGS, expect exit status RC.
run() {
	local want=$1 rc
	shift
	last_cmd="wirepath $*"
	timeout 120 "$wp" "$@" >"$out" 2>"$err"
	rc=$?
	checks=$((checks + 1))
	[ "$rc" -eq "$want" ] || fail "exit status $rc, expected $want"
}

out_has() { grep -qE -- "$1" "$out" || fail "stdout lacks /$1/"; }
err_has() { grep -qE -- "$1" "$err" || fail "stderr lacks /$1/"; }
err_one_line() { [ "$(wc -l <"$err")" -eq 1 ] || fail "stderr is not one line"; }
out_empty() { [ ! -s "$out" ] || fail "stdout is not empty"; }
err_empty() { [ ! -s "$err" ] || fail "stderr is not empty"; }

# Every stdout line is a JSON object.
json_lines() {
	"$py" -c '
import json, sys
n = 0
for line in sys.stdin:
    o = json.loads(line)
    assert isinstance(o, dict), line
    n += 1
assert n > 0, "no JSON lines"
' <"$out" || fail "stdout is not JSON lines"
}

# --- the top level ----------------------------------------------------------

run 0 --help
out_has '^usage: wirepath COMMAND'
out_has '^  skb +the sk_buff explorer'
out_has '^  bench +run the benchmarks'
err_empty
run 0 -h
out_has '^usage: wirepath COMMAND'
run 0 help
out_has '^usage: wirepath COMMAND'

run 0 --version
out_has '^wirepath [0-9]+\.[0-9]+\.[0-9]+$'
err_empty

run 2
out_empty
err_has '^wirepath: no command given'
err_has '^usage: wirepath COMMAND'

run 2 no-such-command
out_empty
err_has "^wirepath: 'no-such-command' is not a wirepath command"
err_has '^usage: wirepath COMMAND'

run 2 --no-such-option
out_empty
err_has '^wirepath: --no-such-option: unknown option'
err_has '^usage: wirepath COMMAND'

run 2 help no-such-command
err_has "'no-such-command' is not a wirepath command"
run 2 help skb bench
err_has 'takes one COMMAND'

# A lost write must not exit 0.
if [ -w /dev/full ]; then
	last_cmd="wirepath --help >/dev/full"
	"$wp" --help >/dev/full 2>"$err"
	rc=$?
	checks=$((checks + 1))
	[ "$rc" -eq 1 ] || fail "--help >/dev/full: exit $rc, expected 1"
	err_has 'writing the output failed'
fi

# --- conventions, for every registered command ------------------------------

run 0 --help
commands=$(awk '/^commands:/ { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }' "$out")
[ -n "$commands" ] || fail "no commands listed by --help"
for c in $commands; do
	run 0 "$c" --help
	out_has "^usage: wirepath $c"
	err_empty
	cp "$out" "$tmp/help"
	run 0 "$c" -h
	cmp -s "$out" "$tmp/help" || fail "$c -h differs from $c --help"
	run 0 help "$c"
	cmp -s "$out" "$tmp/help" || fail "help $c differs from $c --help"
	# The wording is the command's (one with sub-commands may call it an
	# unknown sub-command); the message names the argument and comes first.
	run 2 "$c" --no-such-option-xyz
	out_empty
	head -n 1 "$err" | grep -qE "^wirepath $c: .*--no-such-option-xyz" ||
		fail "$c: first stderr line does not name the bad option"
	err_has "^usage: wirepath $c"
done
for c in skb bench; do
	run 2 "$c" --no-such-option-xyz
	err_has "^wirepath $c: --no-such-option-xyz: unknown option \(expected"
done

# --- skb: the demonstration ---------------------------------------------------

# row OP: the numbers of the first step row whose op is OP, as
# "data tail end len headroom tailroom" (after `step op result head`).
row() {
	awk -v op="$1" '$2 == op && $1 ~ /^[0-9]+$/ {
		print $5, $6, $7, $8, $9, $10; exit }' "$out"
}
# nth_row N: the same for step number N.
nth_row() {
	awk -v n="$1" '$1 == n && $2 != "op" {
		print $5, $6, $7, $8, $9, $10; exit }' "$out"
}
expect_row() {
	local got
	got=$(row "$1")
	[ "$got" = "$2" ] || fail "skb $1: got '$got', expected '$2'"
}

run 0 skb
err_empty
out_has '^receive path: a 118-byte frame'
out_has '^transmit path:'
# Receive: the frame at 64; each pull moves data by the header, len down.
expect_row build_skb '64 182 256 118 64 74'
expect_row pull:eth '78 182 256 104 78 74'
expect_row pull:ip '98 182 256 84 98 74'
expect_row pull:tcp '118 182 256 64 118 74'
# Transmit: reserve moves data and tail; each push moves data back.
expect_row reserve:64 '64 64 256 0 64 192'
expect_row put:64 '64 128 256 64 64 128'
expect_row push:tcp '44 128 256 84 44 128'
expect_row push:ip '24 128 256 104 24 128'
expect_row push:eth '10 128 256 118 10 128'
out_has '^pool: whole again \(1/1 buffers'
grep -c ' ok ' "$out" | grep -qx 10 || fail "skb demo: expected 10 ok steps"
out_has '^     \[-{16}E{4}I{5}T{5}p{16}\.{18}\]$'

# The seed's initial state: data=64, tail=128, len=64.
run 0 skb push:eth
expect_row build_skb '64 128 256 64 64 128'
expect_row push:eth '50 128 256 78 50 128'

# --- skb: JSON, checked against the semantics step by step -------------------

cat >"$tmp/skb_check.py" <<'EOF'
import json, sys
width = int(sys.argv[1]) if len(sys.argv) > 1 else 64
hdr = {"eth": 14, "ip": 20, "tcp": 20, "udp": 8}
prev = None
steps = [json.loads(l) for l in sys.stdin]
assert steps, "no steps"
for i, s in enumerate(steps):
    assert s["step"] == i, s
    assert s["head"] == 0
    assert s["headroom"] == s["data"] - s["head"], s
    assert s["tailroom"] == s["end"] - s["tail"], s
    assert s["len"] == s["tail"] - s["data"], s
    assert sum(l["bytes"] for l in s["layers"]) == s["len"], s
    assert len(s["bar"]) == width + 2, s["bar"]
    op = s["op"]
    if op == "build_skb" or prev is None or not s["ok"]:
        if not s["ok"]:
            assert "error" in s and s["error"], s
            for k in ("data", "tail", "end", "len", "layers"):
                assert s[k] == prev[k], (k, s, prev)
        prev = s
        continue
    kind, _, arg = op.partition(":")
    n = hdr[arg] if arg in hdr else int(arg or 0)
    d = {k: s[k] - prev[k] for k in ("data", "tail", "end", "len")}
    want = {
        "pull": {"data": n, "tail": 0, "end": 0, "len": -n},
        "push": {"data": -n, "tail": 0, "end": 0, "len": n},
        "put": {"data": 0, "tail": n, "end": 0, "len": n},
        "reserve": {"data": n, "tail": n, "end": 0, "len": 0},
        "clone": {"data": 0, "tail": 0, "end": 0, "len": 0},
    }.get(kind)
    if kind == "trim":
        cut = max(prev["len"] - n, 0)
        want = {"data": 0, "tail": -cut, "end": 0, "len": -cut}
    assert want is not None, op
    assert d == want, (op, d, want)
    if kind == "push" and arg in hdr:
        assert s["layers"][0] == {"name": arg, "bytes": n}, s["layers"]
    if kind == "pull" and prev["layers"][0]["name"] == arg:
        # Pulling a header the picture shows removes exactly that layer.
        assert prev["layers"][0]["bytes"] == n, prev
        assert s["layers"] == prev["layers"][1:], (prev, s)
    prev = s
EOF
check_skb_json() {
	"$py" "$tmp/skb_check.py" "$@" <"$out" || fail "skb --json semantics"
}

run 0 skb --json
err_empty
json_lines
check_skb_json
"$py" -c '
import json, sys
s = [json.loads(l) for l in sys.stdin]
assert [x["phase"] for x in s] == ["rx"] * 4 + ["tx"] * 6, s
assert [x["op"] for x in s] == ["build_skb", "pull:eth", "pull:ip",
    "pull:tcp", "build_skb", "reserve:64", "put:64", "push:tcp", "push:ip",
    "push:eth"], s
assert s[1]["call"] == "wp_skb_pull(skb, 14)", s[1]
assert all(x["ok"] for x in s)
assert [l["name"] for l in s[-1]["layers"]] == ["eth", "ip", "tcp",
    "payload"], s[-1]
' <"$out" || fail "skb --json demo steps"

# --- skb: refused calls leave the skb unchanged, exit 0 ------------------------

run 0 skb pull:eth pull:600
err_empty
[ "$(nth_row 2)" = "$(nth_row 1)" ] || fail "refused pull changed the skb"
awk '$1 == 2 && $2 == "pull:600" && $3 == "refused"' "$out" | grep -q . ||
	fail "pull:600 not shown as refused"
out_has '600 > len 50: wp_skb_pull\(\) returned NULL; skb unchanged'
out_has '^pool: whole again'

run 0 skb --json pull:eth pull:600
json_lines
check_skb_json
"$py" -c '
import json, sys
s = [json.loads(l) for l in sys.stdin]
assert s[2]["ok"] is False and "600 > len 50" in s[2]["error"], s[2]
' <"$out" || fail "refused pull in JSON"

# Every refusal the contract names, and a bounded pool refusing a clone.
run 0 skb --json push:65 push:64 reserve:1 put:4294967295 trim:200 trim:10 \
	clone clone push:udp pull:4294967295
json_lines
check_skb_json
"$py" -c '
import json, sys
s = {x["step"]: x for x in (json.loads(l) for l in sys.stdin)}
def refused(i, text):
    assert s[i]["ok"] is False and text in s[i]["error"], s[i]
refused(1, "65 > headroom 64")
assert s[2]["ok"] and s[2]["headroom"] == 0
refused(3, "-EINVAL")
refused(4, "4294967295 > tailroom")
assert s[5]["ok"] and "no-op" in s[5]["note"] and s[5]["len"] == 128
assert s[6]["ok"] and s[6]["len"] == 10
assert s[7]["ok"] and s[7]["cloned"] is True
refused(8, "ENOMEM")
refused(9, "8 > headroom 0")
refused(10, "4294967295 > len 10")
' <"$out" || fail "refusals in JSON"

run 0 skb --len 0 reserve:193 reserve:192 put:65 put:64
[ "$(nth_row 1)" = "$(nth_row 0)" ] || fail "refused reserve changed the skb"
out_has 'wp_skb_reserve\(\) returned -ENOSPC; skb unchanged'
expect_row reserve:192 '256 256 256 0 256 0'
out_has '64 > tailroom 0: wp_skb_put\(\) returned NULL'

# Geometry options and the bar's width.
run 0 skb --size 4K --headroom 128 --len 1000 --width 32 --json push:eth
json_lines
check_skb_json 32
"$py" -c '
import json, sys
s = [json.loads(l) for l in sys.stdin]
assert s[0]["end"] == 4096 and s[0]["data"] == 128 and s[0]["len"] == 1000
# 14 bytes are a third of a column at this scale: still shown.
assert "E" in s[1]["bar"], s[1]["bar"]
' <"$out" || fail "skb --size 4K"

# --- skb: bad operations and options: one message, nothing on stdout ---------

run 2 skb jump:3
out_empty
err_has '^wirepath skb: jump:3: unknown operation'
err_has '^usage: wirepath skb'
run 2 skb pull:abc
out_empty
err_has "^wirepath skb: pull:abc: 'abc' is not a number \(expected an integer 0\.\.4294967295"
err_one_line
run 2 skb pull:
err_has '^wirepath skb: pull:: empty value'
run 2 skb pull
err_has '^wirepath skb: pull: needs a byte count'
run 2 skb push:4294967296
err_has "'4294967296' is out of range"
run 2 skb push:-1
err_has "'-1' is negative"
run 2 skb clone:1
err_has 'clone takes no argument'
run 2 skb push:eth pull:abc
out_empty
run 2 skb --size 100
out_empty
err_has "^wirepath skb: --size: '100' is out of range \(expected an integer 192\.\.65472"
err_one_line
run 2 skb --size=12x
err_has "^wirepath skb: --size: '12x' has trailing characters 'x'"
run 2 skb --size
err_has '^wirepath skb: --size: needs a value'
run 2 skb --json=1
err_has "^wirepath skb: --json: takes no value"
run 2 skb --len 200
out_empty
err_has 'does not fit in size 256'
err_one_line
run 2 skb --headroom 200 --len 57 push:1
err_has 'headroom 200 \+ len 57 does not fit in size 256'
run 2 skb --width 8
err_has "'8' is out of range \(expected an integer 16\.\.512\)"

# --- bench ---------------------------------------------------------------------

run 0 bench --list
benches=$(awk '{ print $1 }' "$out")
while read -r line; do
	[ -z "$line" ] && continue
	echo "$line" | grep -qE '^[a-z0-9_-]+ +[^ ].*' ||
		fail "bench --list line '$line'"
done <"$out"
run 0 bench --list --json
if [ -n "$benches" ]; then
	json_lines
	"$py" -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    assert set(o) == {"name", "summary"} and o["name"] and o["summary"], o
' <"$out" || fail "bench --list --json records"
else
	out_empty
fi

run 2 bench no-such-bench
out_empty
err_has '^wirepath bench: no-such-bench: no such benchmark'
for b in $benches; do
	grep -qE "^  $b " "$err" || fail "unknown bench: '$b' not listed"
done
run 2 bench --seconds abc
err_has "^wirepath bench: --seconds: 'abc' is not a number"
err_one_line
run 2 bench --seconds 0
err_has "'0' is out of range"
run 2 bench --iterations 0
err_has "^wirepath bench: --iterations: '0' is out of range"
run 2 bench --iterations 1.5
err_has "'1.5' is not a whole number"
run 2 bench a b
err_has 'only one NAME'
run 2 bench --list x
err_has 'takes no NAME'
run 2 bench -- x
err_has 'need a NAME'

# One benchmark runs through the dispatcher, briefly, as JSON lines
# (conn-mem's amount of work is its connections, not its seconds).
first=$(echo "$benches" | grep -vx conn-mem | head -n 1)
if [ -n "$first" ]; then
	run 0 bench "$first" --json --seconds 0.05
	json_lines
	"$py" -c '
import json, sys
for l in sys.stdin:
    assert json.loads(l)["bench"], l
' <"$out" || fail "bench $first --json records"
else
	run 1 bench
	err_has 'no benchmarks are built'
fi
if echo "$benches" | grep -qx conn-mem; then
	run 0 bench conn-mem --json --iterations 100
	json_lines
	"$py" -c '
import json, sys
r = json.loads(sys.stdin.readline())
assert r["bench"] == "conn-mem" and r["conns"] == 100, r
assert r["bytes_per_socket"] >= r["buffers_aside_bytes_per_socket"] > 0, r
' <"$out" || fail "bench conn-mem --json record"
fi

echo "test_cli.sh: $checks commands, $failures failures"
[ "$failures" -eq 0 ]
