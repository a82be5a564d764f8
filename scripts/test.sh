#!/usr/bin/env bash
# Build and run every test: the README's test command.
#   scripts/test.sh          release build, then the ASan+UBSan build
#   scripts/test.sh --quick  release build only
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

builds=(release asan)
[ "${1:-}" = "--quick" ] && builds=(release)

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

for b in "${builds[@]}"; do
	# The sanitized pass moves 8 MB per transfer over the real wires, not
	# the release pass's 50 MB: the same code paths under ASan and UBSan,
	# in a fraction of the time.
	if [ "$b" = asan ]; then
		export WP_WIRE_BYTES=8000000
	fi
	dir=$(scripts/build.sh "$b")
	echo "== tests: $b build ($dir)"
	meson test -C "$dir" --print-errorlogs --num-processes 2
done
