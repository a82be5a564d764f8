#!/usr/bin/env bash
# bench/wire.sh is not run in CI (it measures, on root, for minutes); this
# checks that it parses and that bad arguments get the usage and exit 2
# before anything is made.
#   usage: test_bench_wire.sh PATH/TO/bench/wire.sh
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
script=$1
bash -n "$script" || fail "bench/wire.sh does not parse"
for args in "" "a b c d" "/bin/true nosuch" "/bin/true afxdp 0" "/bin/true tap x"; do
	st=0
	# shellcheck disable=SC2086 # the cases are words
	err=$(bash "$script" $args 2>&1 >/dev/null) || st=$?
	[ "$st" = 2 ] || fail "wire.sh $args: exit $st, not 2"
	grep -q '^usage: bench/wire.sh PATH/TO/wirepath' <<<"$err" || fail "wire.sh $args: $err"
done
echo "bench wire.sh usage: OK"
