#!/usr/bin/env bash
# The protocol layer from the outside: frames crafted with scapy go in
# through the pcap backend, what the stack sends comes out in a pcap, and
# the counters printed by --stats are checked (tests/system/pcap_net.py).
#   usage: test_pcap_net.sh PATH/TO/wirepath
set -euo pipefail
wp=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
# The system interpreter has scapy (a python3 on PATH may not).
py=/usr/bin/python3
if ! "$py" -c 'import scapy' 2>/dev/null; then
	echo "SKIP: $py has no scapy (apt install python3-scapy)" >&2
	exit 77
fi
"$py" "$here/pcap_net.py" "$wp"
echo "pcap_net: all checks passed"
