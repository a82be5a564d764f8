#!/usr/bin/env bash
# Build the wire-layer fuzz targets with clang + libFuzzer (ASan, UBSan) in
# build-fuzz and run each for SECONDS (default 20). Exits non-zero if any
# target crashes, leaks, hits undefined behaviour or breaks a round trip.
#   scripts/fuzz.sh [SECONDS]
# New inputs go to build-fuzz/corpus/<target> (seeded from
# tests/fuzz/corpus/<target>), crash reproducers to build-fuzz/artifacts/;
# replay one with build-fuzz/tests/fuzz/<target> FILE.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
case $seconds in
'' | *[!0-9]*)
	echo "usage: scripts/fuzz.sh [SECONDS]" >&2
	exit 2
	;;
esac

scripts/deps.sh

dir=build-fuzz
targets=()
for f in tests/fuzz/fuzz_*.c; do
	t=${f##*/}
	targets+=("${t%.c}")
done

if [ -f "$dir/build.ninja" ] &&
	grep -q "^C compiler for the host machine: clang" "$dir/meson-logs/meson-log.txt" 2>/dev/null; then
	meson configure "$dir" -Dfuzz=true >/dev/null
else
	rm -rf "$dir"
	CC=clang meson setup "$dir" -Dfuzz=true -Dbuildtype=debugoptimized \
		-Db_lundef=false >/dev/null
fi
# Only the fuzz targets: nothing else needs to build with clang here.
ninja -C "$dir" "${targets[@]/#/tests/fuzz/}" >/dev/null

mkdir -p "$dir/artifacts"
# One target per CPU at a time: each is one process, and the time given
# is per target.
run_one() { # TARGET: its log in $dir/TARGET.log, its status in $dir/TARGET.rc
	local t=$1 corpora
	# New inputs go to the first corpus directory: never the seeds.
	corpora=("$dir/corpus/$t")
	mkdir -p "${corpora[0]}"
	[ -d "tests/fuzz/corpus/$t" ] && corpora+=("tests/fuzz/corpus/$t")
	if "$dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/$t-" \
		"${corpora[@]}" >"$dir/$t.log" 2>&1; then
		echo 0 >"$dir/$t.rc"
	else
		echo 1 >"$dir/$t.rc"
	fi
}
jobs=$(nproc 2>/dev/null || echo 1)
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	rm -f "$dir/$t.rc"
	run_one "$t" &
	running=$((running + 1))
done
wait || true

failed=()
for t in "${targets[@]}"; do
	echo "== $t: ${seconds}s"
	if [ "$(cat "$dir/$t.rc" 2>/dev/null)" != 0 ]; then
		tail -n 40 "$dir/$t.log"
		failed+=("$t")
		continue
	fi
	grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$dir/$t.log" | tail -n 2
done

if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz: crashed: ${failed[*]} (reproducers in $dir/artifacts/)" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
