#!/usr/bin/env bash
# Install what building, testing and running wirepath needs on Debian 12.
# Idempotent: installs only what is missing, so repeated runs are quick.
set -euo pipefail

pkgs=(
	gcc make pkg-config meson ninja-build   # build
	libcmocka-dev                           # unit tests
	clang libclang-rt-14-dev                # fuzz targets (libFuzzer)
	python3 python3-scapy                   # crafted packets in system tests
	tcpdump tshark                          # captures read back in tests
	iproute2 iputils-ping netcat-openbsd    # namespaces, veth, peers
	libxdp-dev libbpf-dev                   # the afxdp backend (AF_XDP, XDP)
	xdp-tools ethtool                       # xdp-loader status, queues (tests)
	iperf3 sockperf curl                     # peers of the iperf3/sockperf apps
	nftables                                # loss on a path (test_iperf3_impaired)
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root (or install them with sudo apt-get install)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
