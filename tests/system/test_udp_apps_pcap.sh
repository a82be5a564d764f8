#!/usr/bin/env bash
# The UDP applications from the outside: scapy-crafted datagrams go in
# through the pcap backend to `wirepath run --app udp-echo:7 --app
# udp-sink:9`, the echoes come out in a pcap (tests/system/udp_apps_pcap.py).
#   usage: test_udp_apps_pcap.sh PATH/TO/wirepath
set -euo pipefail
wp=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
# The system interpreter has scapy (a python3 on PATH may not).
py=/usr/bin/python3
if ! "$py" -c 'import scapy' 2>/dev/null; then
	echo "SKIP: $py has no scapy (apt install python3-scapy)" >&2
	exit 77
fi
"$py" "$here/udp_apps_pcap.py" "$wp"
echo "udp_apps_pcap: all checks passed"
