#!/usr/bin/env bash
# Build wirepath and run the main job: `wirepath demo` on the simulated NIC.
# Extra arguments go to `wirepath demo` (e.g. --seconds 5).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
dir=$(scripts/build.sh release)
exec "$dir/tools/wirepath" demo "$@"
