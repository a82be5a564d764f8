#!/usr/bin/env bash
# Configure (once) and build a build directory.
#   scripts/build.sh            release build in build/
#   scripts/build.sh asan       ASan+UBSan debug build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
case "$kind" in
release) dir=build; opts=(-Dbuildtype=release) ;;
asan) dir=build-asan
	opts=(-Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false) ;;
*) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac

if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "${opts[@]}" >/dev/null
fi
ninja -C "$dir" >/dev/null
echo "$dir"
