# SPDX-License-Identifier: MIT
"""Black-box tests of the UDP applications through the pcap backend.

Each case crafts frames with scapy into in.pcap, runs
    wirepath run --backend pcap --pcap-in in.pcap --pcap-out out.pcap
                 --addr 10.0.0.2/24 --app udp-echo:7 --app udp-sink:9 --stats
and checks the echoed datagrams in out.pcap and the counters on stderr:
the whole path from the wire through the socket API to an application
thread and back.

    usage: /usr/bin/python3 udp_apps_pcap.py path/to/wirepath [CASE...]
"""

import logging
import os
import re
import subprocess
import sys
import tempfile

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import (ARP, ICMP, IP, UDP, Ether, Raw, conf, defragment,
                       fragment, raw, rdpcap, wrpcap)

conf.verb = 0

WP = None
OUR_MAC, OUR_IP = "02:00:00:00:00:02", "10.0.0.2"
PEER_MAC, PEER_IP = "02:00:00:00:00:01", "10.0.0.1"
BCAST = "ff:ff:ff:ff:ff:ff"
APPS = ["--app", "udp-echo:7", "--app", "udp-sink:9"]


def run(frames, *extra, expect_rc=0):
    with tempfile.TemporaryDirectory() as d:
        pin, pout = os.path.join(d, "in.pcap"), os.path.join(d, "out.pcap")
        for i, f in enumerate(frames):
            f.time = 1700000000 + i * 0.001
        wrpcap(pin, frames, linktype=1)
        cmd = [WP, "run", "--backend", "pcap", "--pcap-in", pin,
               "--pcap-out", pout, "--addr", OUR_IP + "/24", "--stats",
               *extra]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != expect_rc:
            sys.exit("FAIL: %s: exit %d\n%s" % (" ".join(cmd), p.returncode,
                                                  p.stderr))
        if expect_rc:
            return [], p.stderr
        out = list(rdpcap(pout)) if os.path.getsize(pout) > 24 else []
    out = [f for f in out
           if not (ARP in f and f[ARP].psrc == OUR_IP == f[ARP].pdst)]
    return out, p.stderr


def check(cond, what, err=""):
    if not cond:
        sys.exit("FAIL: %s\n%s" % (what, err))


def app_line(err, name):
    """The counters `wirepath run` printed for one application."""
    m = re.search(r"^%s handled (\d+) rx_bytes (\d+) replies (\d+) "
                  r"tx_bytes (\d+) errors (\d+)$" % re.escape(name), err,
                  re.M)
    check(m, "a summary line for " + name, err)
    return [int(x) for x in m.groups()]


def counter(err, name):
    m = re.search(r"^\s+%s: (\d+)$" % re.escape(name), err, re.M)
    return int(m.group(1)) if m else 0


def arp_request():
    return (Ether(src=PEER_MAC, dst=BCAST) /
            ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP))


def to_us(l3):
    return Ether(src=PEER_MAC, dst=OUR_MAC) / l3


def datagram(sport, dport, payload, ident):
    return to_us(IP(src=PEER_IP, dst=OUR_IP, id=ident) /
                 UDP(sport=sport, dport=dport) / Raw(payload))


def payload_of(i, size):
    return bytes((i * 31 + k * 7) & 0xff for k in range(size))


def echoes(out):
    """Whole UDP datagrams we sent, fragments put back together, cut to
    the IP length (short frames carry Ethernet padding)."""
    ips = [IP(raw(f[IP])[:f[IP].len]) for f in out if IP in f]
    whole = defragment(ips)
    return [p for p in whole if UDP in p]


# --- cases ----------------------------------------------------------------

def case_echo():
    sizes = [1, 18, 64, 512, 1472]
    frames = [arp_request()]
    for i, n in enumerate(sizes):
        frames.append(datagram(40000 + i, 7, payload_of(i, n), 100 + i))
    out, err = run(frames, *APPS)
    got = echoes(out)
    check(len(got) == len(sizes), "one echo per datagram (%d)" % len(got),
          err)
    for i, (p, n) in enumerate(zip(got, sizes)):
        check(p[IP].src == OUR_IP and p[IP].dst == PEER_IP,
              "echo %d: addresses swapped" % i)
        check(p[UDP].sport == 7 and p[UDP].dport == 40000 + i,
              "echo %d: ports swapped, in order" % i)
        check(bytes(p[UDP].payload) == payload_of(i, n),
              "echo %d: payload identical" % i)
        chk = p[UDP].chksum
        check(chk != 0, "echo %d: has a UDP checksum" % i)
        del p[UDP].chksum
        check(IP(raw(p))[UDP].chksum == chk, "echo %d: UDP checksum" % i)
    eth = [f for f in out if IP in f]
    check(all(f[Ether].dst == PEER_MAC and f[Ether].src == OUR_MAC
              for f in eth), "Ethernet addresses of the echoes")
    h = app_line(err, "udp-echo:7")
    check(h[0] == len(sizes) and h[2] == len(sizes) and h[4] == 0,
          "udp-echo counters %r" % h, err)
    check(h[1] == sum(sizes) and h[3] == sum(sizes), "echo bytes", err)
    # One copy in, one copy out per datagram, across the boundary.
    check(counter(err, "rx_copies") == len(sizes) and
          counter(err, "tx_copies") == len(sizes) and
          counter(err, "rx_bytes_copied") == sum(sizes),
          "socket boundary copies", err)


def case_fragmented():
    # 4000 bytes in three fragments, out of order: reassembled, read by
    # the application, echoed back fragmented (MTU 1500).
    ip = (IP(src=PEER_IP, dst=OUR_IP, id=4242) /
          UDP(sport=5555, dport=7) / Raw(payload_of(9, 4000)))
    frags = fragment(ip, fragsize=1480)
    check(len(frags) == 3, "scapy made 3 fragments")
    frames = [arp_request()] + [to_us(f) for f in reversed(frags)]
    out, err = run(frames, *APPS)
    ipf = [f for f in out if IP in f]
    check(len(ipf) == 3, "the echo leaves in 3 fragments (%d)" % len(ipf),
          err)
    got = echoes(out)
    check(len(got) == 1 and bytes(got[0][UDP].payload) == payload_of(9, 4000),
          "4000 bytes echoed intact", err)


def case_sink_and_no_port():
    frames = [arp_request(),
              datagram(1000, 9, b"discard me", 1),
              datagram(1001, 9, b"me too" * 100, 2),
              datagram(1002, 8, b"nobody on port 8", 3),
              datagram(1003, 7, b"echo me", 4)]
    out, err = run(frames, *APPS)
    got = echoes(out)
    check(len(got) == 1 and bytes(got[0][UDP].payload) == b"echo me",
          "only the echo port answers", err)
    icmp = [f for f in out if ICMP in f]
    check(len(icmp) == 1 and icmp[0][ICMP].type == 3 and
          icmp[0][ICMP].code == 3, "port unreachable for port 8", err)
    h = app_line(err, "udp-sink:9")
    check(h[0] == 2 and h[1] == 10 + 600 and h[2] == 0,
          "udp-sink counted both, answered none: %r" % h, err)


def case_bad_checksum_never_reaches_the_app():
    good = datagram(2000, 7, b"fine", 10)
    bad = datagram(2001, 7, b"corrupt", 11)
    bad[UDP].chksum = 0x1234
    nochk = datagram(2002, 7, b"no checksum", 12)
    nochk[UDP].chksum = 0  # RFC 768: none, and valid
    out, err = run([arp_request(), good, bad, nochk], *APPS)
    got = [bytes(p[UDP].payload) for p in echoes(out)]
    check(got == [b"fine", b"no checksum"],
          "the corrupt one is dropped before the socket: %r" % got, err)
    check(app_line(err, "udp-echo:7")[0] == 2, "the app saw two", err)
    check(re.search(r"^\s+1 packet receive errors$", err, re.M),
          "Udp InErrors 1", err)
    check(counter(err, "udp_csum") == 1, "dropped as udp_csum", err)


def case_many():
    # A burst of 300 datagrams 1 ms apart from 3 flows: every one echoed,
    # in order per flow.
    frames = [arp_request()]
    for i in range(300):
        frames.append(datagram(6000 + i % 3, 7, payload_of(i, 32 + i % 200),
                               1000 + i))
    out, err = run(frames, *APPS)
    got = echoes(out)
    check(len(got) == 300, "300 echoes (%d)" % len(got), err)
    for i, p in enumerate(got):
        check(p[UDP].dport == 6000 + i % 3 and
              bytes(p[UDP].payload) == payload_of(i, 32 + i % 200),
              "echo %d in order and intact" % i, err)


def case_no_neighbour():
    # No ARP in the input: the echo waits for an ARP reply that never
    # comes; the stack asks (ARP requests) and finally drops it.
    out, err = run([datagram(3000, 7, b"who are you", 1)], *APPS,
                   "--linger", "5s")
    check(not echoes(out), "no echo without a neighbour", err)
    asks = [f for f in out if ARP in f and f[ARP].op == 1 and
            f[ARP].pdst == PEER_IP]
    check(len(asks) >= 1, "ARP requests for the peer", err)
    check(app_line(err, "udp-echo:7")[2] == 1, "the app did reply", err)


def case_bad_spec():
    _, err = run([arp_request()], "--app", "udp-echo:0", expect_rc=2)
    check("port must be 1..65535" in err, "port range message", err)
    _, err = run([arp_request()], "--app", "ftp:21", expect_rc=2)
    check("unknown application" in err, "unknown app message", err)
    _, err = run([arp_request()], "--app", "udp-echo:7", "--app",
                 "udp-sink:7", expect_rc=1)
    check("Address already in use" in err, "port in use message", err)


CASES = {
    "echo": case_echo,
    "fragmented": case_fragmented,
    "sink_and_no_port": case_sink_and_no_port,
    "bad_checksum": case_bad_checksum_never_reaches_the_app,
    "many": case_many,
    "no_neighbour": case_no_neighbour,
    "bad_spec": case_bad_spec,
}


def main():
    global WP
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    WP = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    for n in names:
        CASES[n]()
        print("ok", n)


if __name__ == "__main__":
    main()
