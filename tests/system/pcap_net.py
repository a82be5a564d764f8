# SPDX-License-Identifier: MIT
"""Black-box tests of the protocol layer (TCP's closed ports too) through
the pcap backend.

Each case crafts frames with scapy into in.pcap, runs
    wirepath run --backend pcap --pcap-in in.pcap --pcap-out out.pcap --stats
and reads out.pcap and the counters printed on stderr.

    usage: /usr/bin/python3 pcap_net.py path/to/wirepath [CASE...]
"""

import logging
import os
import re
import struct
import subprocess
import sys
import tempfile

# Raw frames next to Ethernet ones make scapy warn about link types.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, Raw, IPOption_RR,
                       checksum, conf, defragment, fragment, raw, rdpcap,
                       wrpcap)

conf.verb = 0

WP = None
OUR_MAC, OUR_IP = "02:00:00:00:00:02", "10.0.0.2"
PEER_MAC, PEER_IP = "02:00:00:00:00:01", "10.0.0.1"
BCAST = "ff:ff:ff:ff:ff:ff"

# netstat -s wording -> counter name (net-tools' sentences)
SENTENCES = {
    ("Ip", "total packets received"): "InReceives",
    ("Ip", "with invalid headers"): "InHdrErrors",
    ("Ip", "with invalid addresses"): "InAddrErrors",
    ("Ip", "with unknown protocol"): "InUnknownProtos",
    ("Ip", "incoming packets delivered"): "InDelivers",
    ("Ip", "requests sent out"): "OutRequests",
    ("Ip", "fragments dropped after timeout"): "ReasmTimeout",
    ("Ip", "reassemblies required"): "ReasmReqds",
    ("Ip", "packets reassembled ok"): "ReasmOKs",
    ("Ip", "packet reassemblies failed"): "ReasmFails",
    ("Ip", "fragments received ok"): "FragOKs",
    ("Ip", "fragments created"): "FragCreates",
    ("Icmp", "ICMP messages received"): "InMsgs",
    ("Icmp", "input ICMP message failed"): "InErrors",
    ("Icmp", "ICMP messages sent"): "OutMsgs",
    ("Udp", "packets received"): "InDatagrams",
    ("Udp", "packets to unknown port received"): "NoPorts",
    ("Udp", "packet receive errors"): "InErrors",
    ("Tcp", "segments received"): "InSegs",
    ("Tcp", "segments sent out"): "OutSegs",
    ("Tcp", "bad segments received"): "InErrs",
    ("Tcp", "resets sent"): "OutRsts",
    ("Tcp", "passive connection openings"): "PassiveOpens",
}


class Stats:
    """The counters a --stats run printed: stats["Ip.InHdrErrors"]."""

    def __init__(self, text):
        self.v = {}
        section = None
        for line in text.splitlines():
            if re.match(r"^[A-Za-z]+:$", line):
                section = line[:-1]
                continue
            m = re.match(r"^\s+(\d+) (.*)$", line)
            if m and section:
                name = SENTENCES.get((section, m.group(2)))
                if name:
                    self.v[section + "." + name] = int(m.group(1))
                continue
            m = re.match(r"^\s+([A-Za-z0-9_ ]+): (\d+)$", line)
            if m and section:
                self.v[section + "." + m.group(1)] = int(m.group(2))

    def __getitem__(self, k):
        return self.v.get(k, 0)


def run(frames, *extra, expect_rc=0):
    with tempfile.TemporaryDirectory() as d:
        pin, pout = os.path.join(d, "in.pcap"), os.path.join(d, "out.pcap")
        for i, f in enumerate(frames):
            f.time = 1700000000 + i * 0.001
        wrpcap(pin, frames, linktype=1)  # Ethernet, whatever the layers
        cmd = [WP, "run", "--backend", "pcap", "--pcap-in", pin,
               "--pcap-out", pout, "--addr", OUR_IP + "/24", "--stats",
               *extra]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != expect_rc:
            sys.exit("FAIL: %s: exit %d\n%s" % (" ".join(cmd), p.returncode,
                                                  p.stderr))
        out = list(rdpcap(pout)) if os.path.getsize(pout) > 24 else []
    # The gratuitous ARP at start is ours to ignore.
    out = [f for f in out
           if not (ARP in f and f[ARP].psrc == OUR_IP == f[ARP].pdst)]
    return out, Stats(p.stderr), p.stderr


def check(cond, what, err=""):
    if not cond:
        sys.exit("FAIL: %s\n%s" % (what, err))


def arp_request():
    return (Ether(src=PEER_MAC, dst=BCAST) /
            ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP))


def to_us(l3):
    return Ether(src=PEER_MAC, dst=OUR_MAC) / l3


# --- cases ----------------------------------------------------------------

def case_arp():
    out, st, err = run([arp_request()])
    check(len(out) == 1 and ARP in out[0], "one ARP reply", err)
    a = out[0][ARP]
    check(a.op == 2 and a.hwsrc == OUR_MAC and a.psrc == OUR_IP and
          a.hwdst == PEER_MAC and a.pdst == PEER_IP,
          "ARP reply fields: %r" % a)
    check(out[0][Ether].dst == PEER_MAC, "reply unicast to the asker")
    check(len(raw(out[0])) == 60, "padded to 60 bytes")
    check(st["ArpExt.InRequests"] == 1 and st["ArpExt.OutReplies"] == 1,
          "ARP counters", err)


def case_echo():
    payload = bytes(range(256)) * 2
    req = to_us(IP(src=PEER_IP, dst=OUR_IP, id=77) /
                ICMP(type=8, id=0x4242, seq=7) / Raw(payload))
    out, st, err = run([arp_request(), req])
    echo = [f for f in out if ICMP in f]
    check(len(echo) == 1, "one echo reply", err)
    r = echo[0]
    check(r[Ether].dst == PEER_MAC and r[IP].src == OUR_IP and
          r[IP].dst == PEER_IP, "addresses swapped")
    check(r[ICMP].type == 0 and r[ICMP].id == 0x4242 and r[ICMP].seq == 7,
          "echo reply id/seq")
    check(bytes(r[ICMP].payload) == payload, "payload identical")
    chk = r[ICMP].chksum
    del r[ICMP].chksum
    check(IP(raw(r[IP]))[ICMP].chksum == chk, "ICMP checksum")
    check(st["Icmp.InMsgs"] == 1 and st["IcmpMsg.OutType0"] == 1,
          "ICMP counters", err)


def case_port_unreachable():
    probe = to_us(IP(src=PEER_IP, dst=OUR_IP, id=99) /
                  UDP(sport=40000, dport=33333) / Raw(b"anyone home?"))
    out, st, err = run([arp_request(), probe])
    icmp = [f for f in out if ICMP in f]
    check(len(icmp) == 1, "one ICMP error", err)
    e = icmp[0]
    check(e[ICMP].type == 3 and e[ICMP].code == 3, "port unreachable")
    check(e[IP].dst == PEER_IP and e[IP].src == OUR_IP, "back to sender")
    quoted = raw(e[ICMP])[8:]
    orig = raw(probe[IP])
    check(quoted[:28] == orig[:28], "quotes the IP and UDP headers")
    check(quoted == orig, "quotes the whole (short) datagram")
    check(st["Udp.NoPorts"] == 1 and st["IcmpMsg.OutType3"] == 1,
          "UDP/ICMP counters", err)


def big_echo(n, seq):
    data = bytes((i * 7 + seq) & 0xff for i in range(n))
    return (IP(src=PEER_IP, dst=OUR_IP, id=1000 + seq) /
            ICMP(type=8, id=0x1111, seq=seq) / Raw(data)), data


def reply_of(out):
    frags = [f for f in out if IP in f and f[IP].proto == 1]
    for f in frags:
        check(len(raw(f)) <= 1514, "fragment within the MTU (%d)" % len(raw(f)))
    whole = defragment([f[IP] for f in frags])
    whole = [p for p in whole if ICMP in p and p[ICMP].type == 0]
    check(len(whole) == 1, "one reassembled echo reply, got %d" % len(whole))
    return frags, whole[0]


def case_reassembly():
    # A 2400-byte echo in three fragments (out of order): reassembled,
    # answered; the answer is itself fragmented (MTU 1500).
    ip, data = big_echo(2400, 1)
    frags = fragment(ip, fragsize=1000)
    check(len(frags) == 3, "scapy made 3 fragments")
    frames = [arp_request()] + [to_us(f) for f in
                                [frags[2], frags[0], frags[1]]]
    out, st, err = run(frames)
    got, reply = reply_of(out)
    check(bytes(reply[ICMP].payload) == data, "payload survives both ways")
    check(st["Ip.ReasmReqds"] == 3 and st["Ip.ReasmOKs"] == 1,
          "reassembly counters", err)


def case_fragmented_output():
    ip, data = big_echo(6000, 2)
    frames = [arp_request()] + [to_us(f) for f in fragment(ip, 1480)]
    out, st, err = run(frames, "--mtu", "1500")
    got, reply = reply_of(out)
    check(len(got) == 5, "6028 bytes at MTU 1500: 5 fragments")
    offs = [f[IP].frag * 8 for f in got]
    check(offs == sorted(offs) and offs[0] == 0, "offsets in order")
    check(all(f[IP].flags.MF for f in got[:-1]) and
          not got[-1][IP].flags.MF, "MF on all but the last")
    check(all(len(f[IP].payload) % 8 == 0 for f in got[:-1]),
          "fragment data a multiple of 8")
    check(len({f[IP].id for f in got}) == 1, "one IP ID")
    check(bytes(reply[ICMP].payload) == data, "reply payload identical")
    check(st["Ip.FragOKs"] == 1 and st["Ip.FragCreates"] == 5,
          "fragmentation counters", err)


def with_csum(pkt):
    """Build pkt, fixing checksums first, then return its bytes."""
    return bytearray(raw(pkt))


def case_hostile():
    frames = []
    # bad IHL: 4 words
    b = with_csum(to_us(IP(src=PEER_IP, dst=OUR_IP) / ICMP() / Raw(b"x" * 8)))
    b[14] = 0x44
    frames.append(Raw(bytes(b)))
    # bad header checksum
    b = with_csum(to_us(IP(src=PEER_IP, dst=OUR_IP) / ICMP() / Raw(b"y" * 8)))
    b[14 + 10] ^= 0xff
    frames.append(Raw(bytes(b)))
    # total length past the frame
    frames.append(to_us(IP(src=PEER_IP, dst=OUR_IP, len=400) / ICMP() /
                        Raw(b"z" * 8)))
    # overlapping fragments (the second starts 8 bytes into the first)
    data = bytes(800)
    frames.append(to_us(IP(src=PEER_IP, dst=OUR_IP, id=5, flags="MF",
                           frag=0, proto=1) / Raw(data[:400])))
    frames.append(to_us(IP(src=PEER_IP, dst=OUR_IP, id=5, flags="MF",
                           frag=49, proto=1) / Raw(data[:400])))
    # a fragment offset past 65535 (ping of death)
    frames.append(to_us(IP(src=PEER_IP, dst=OUR_IP, id=6, frag=8190,
                           proto=1) / Raw(bytes(64))))
    # a runt the NIC refuses, and an IPv4 runt it passes
    frames.append(Raw(bytes(10)))
    frames.append(Raw(raw(Ether(src=PEER_MAC, dst=OUR_MAC, type=0x0800)) +
                      bytes(6)))
    # a truncated ARP (27 of 28 bytes)
    frames.append(Raw(raw(arp_request())[:14 + 27]))
    # a UDP length past the datagram
    b = with_csum(to_us(IP(src=PEER_IP, dst=OUR_IP) / UDP(dport=9, sport=9,
                                                          len=500) / b"q"))
    frames.append(Raw(bytes(b)))
    # an ICMP error about an ICMP error
    inner = IP(src=OUR_IP, dst=PEER_IP) / ICMP(type=3, code=1) / \
        IP(src=PEER_IP, dst=OUR_IP) / UDP()
    frames.append(to_us(IP(src=PEER_IP, dst=OUR_IP) / ICMP(type=3, code=3) /
                        raw(inner)))
    out, st, err = run(frames)
    check(out == [], "no output at all, got %r" %
          [f.summary() for f in out], err)
    want = {
        "Ip.InReceives": 9,
        "Ip.InHdrErrors": 3,          # IHL, checksum, IPv4 runt
        "IpExt.InCsumErrors": 1,
        "IpExt.InTruncatedPkts": 1,
        "IpExt.ReasmOverlaps": 1,
        "Ip.ReasmFails": 2,           # the overlap, the ping of death
        "ArpExt.InBad": 1,
        "Udp.InErrors": 1,
        "Icmp.InMsgs": 1,
        "IcmpMsg.InType3": 1,
        "Icmp.InErrors": 0,
        "Drops.rx_length": 1,
        "Drops.ip_hdr": 2,
        "Drops.ip_csum": 1,
        "Drops.ip_len": 1,
        "Drops.ip_frag_overlap": 2,
        "Drops.ip_frag": 1,
        "Drops.arp_bad": 1,
        "Drops.udp_len": 1,
    }
    bad = {k: (st[k], v) for k, v in want.items() if st[k] != v}
    check(not bad, "counters (got, want): %r" % bad, err)


def case_no_answer_without_arp():
    # Nobody answers our ARP: the echo reply waits, then is dropped.
    req = to_us(IP(src=PEER_IP, dst=OUR_IP) / ICMP(type=8) / b"hi")
    out, st, err = run([req], "--linger", "5")
    reqs = [f for f in out if ARP in f and f[ARP].op == 1]
    check(len(reqs) == 3, "3 ARP requests (mcast_solicit), got %d" %
          len(reqs), err)
    check(not [f for f in out if ICMP in f], "no reply without an address")
    check(st["ArpExt.UnresolvedDiscards"] == 1 and
          st["Drops.arp_failed"] == 1, "ARP failure counted", err)


def case_static_arp():
    req = to_us(IP(src=PEER_IP, dst=OUR_IP) / ICMP(type=8) / b"hi")
    out, st, err = run([req], "--static-arp", PEER_IP + "=" + PEER_MAC)
    check(len(out) == 1 and ICMP in out[0] and out[0][ICMP].type == 0,
          "answered straight away", err)
    check("10.0.0.1 dev wp0 lladdr 02:00:00:00:00:01 PERMANENT" in err,
          "ip neigh shows the static entry", err)


def case_options_skipped():
    req = to_us(IP(src=PEER_IP, dst=OUR_IP, options=[IPOption_RR()]) /
                ICMP(type=8, id=3, seq=4) / b"opts")
    out, st, err = run([arp_request(), req])
    echo = [f for f in out if ICMP in f]
    check(len(echo) == 1 and echo[0][Raw].load == b"opts",
          "echo with options answered", err)


# --- TCP (no application listens: every port is closed) -------------------

CLOSED = 9999


def tcp_to_us(seg):
    return to_us(IP(src=PEER_IP, dst=OUR_IP) / seg)


def tcp_out(out):
    return [f for f in out if TCP in f]


def counters(st, want, err):
    bad = {k: (st[k], v) for k, v in want.items() if st[k] != v}
    check(not bad, "counters (got, want): %r" % bad, err)


def fix_tcp_csum(b):
    """Recompute the TCP checksum of an IPv4 packet in bytearray b
    (20-byte IP header), whatever its options say (scapy would parse
    and rebuild them)."""
    seg = bytes(b[20:36]) + b"\0\0" + bytes(b[38:])
    pseudo = bytes(b[12:20]) + struct.pack("!BBH", 0, 6, len(seg))
    b[36:38] = struct.pack("!H", checksum(pseudo + seg))


def case_tcp_closed_port():
    # RFC 9293 3.10.7.1: a segment to a closed port gets a RST; one
    # without ACK is answered <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
    # one with ACK <SEQ=SEG.ACK><CTL=RST>; a RST gets nothing.
    frames = [arp_request(),
              tcp_to_us(TCP(sport=40000, dport=CLOSED, flags="S",
                            seq=1000)),
              tcp_to_us(TCP(sport=40001, dport=CLOSED, flags="PA", seq=5,
                            ack=777) / Raw(b"abc")),
              tcp_to_us(TCP(sport=40002, dport=CLOSED, flags="F", seq=50)),
              tcp_to_us(TCP(sport=40003, dport=CLOSED, flags="R", seq=9))]
    out, st, err = run(frames)
    rst = tcp_out(out)
    check(len(rst) == 3, "three RSTs, got %r" % [f.summary() for f in out],
          err)
    a, b, c = (f[TCP] for f in rst)
    check(rst[0][IP].src == OUR_IP and rst[0][IP].dst == PEER_IP and
          rst[0][Ether].dst == PEER_MAC, "RST back to the sender")
    check(a.sport == CLOSED and a.dport == 40000 and a.flags == "RA" and
          a.seq == 0 and a.ack == 1001, "SYN -> RST/ACK ack 1001: %r" % a)
    check(b.dport == 40001 and b.flags == "R" and b.seq == 777,
          "ACK -> RST seq=SEG.ACK: %r" % b)
    check(c.dport == 40002 and c.flags == "RA" and c.ack == 51,
          "FIN -> RST/ACK ack 51: %r" % c)
    for f in rst:
        chk = f[TCP].chksum
        del f[TCP].chksum
        check(IP(raw(f[IP]))[TCP].chksum == chk, "RST checksum")
    counters(st, {"Tcp.InSegs": 4, "Tcp.OutSegs": 3, "Tcp.OutRsts": 3,
                  "Tcp.InErrs": 0, "Drops.no_socket": 4}, err)


def case_tcp_bad_checksum():
    good = raw(IP(src=PEER_IP, dst=OUR_IP) /
               TCP(sport=40000, dport=CLOSED, flags="S", seq=1))
    b = bytearray(good)
    b[20 + 16] ^= 0x5a  # the TCP checksum field
    out, st, err = run([arp_request(),
                        to_us(IP(bytes(b)))])
    check(tcp_out(out) == [], "no answer to a bad checksum, got %r" %
          [f.summary() for f in out], err)
    counters(st, {"Tcp.InCsumErrors": 1, "Tcp.InErrs": 1, "Tcp.InSegs": 0,
                  "Tcp.OutRsts": 0, "Drops.tcp_csum": 1}, err)


def case_tcp_syn_data_odd_options():
    # A SYN with 100 bytes of data and options no stack sends together:
    # an unknown kind, MSS 0, a window scale above 14, NOPs, EOL with
    # bytes after it. It is a well-formed segment: the closed port
    # answers, and the data counts in the ACK.
    opts = [("NOP", None), (254, b"\x12\x34"), ("MSS", 0), ("WScale", 15),
            ("SAckOK", b""), ("Timestamp", (7, 0)), ("NOP", None),
            ("EOL", None)]
    syn = TCP(sport=40010, dport=CLOSED, flags="S", seq=5000,
              options=opts) / Raw(bytes(range(100)))
    # The same with an option whose length is 1 (RFC 9293 MUST-7):
    # dropped, never answered. And SYN+FIN, SYN+RST: no host sends them.
    bad_len = bytearray(raw(IP(src=PEER_IP, dst=OUR_IP) /
                            TCP(sport=40011, dport=CLOSED, flags="S",
                                seq=1, options=[(253, b"\x00\x00")])))
    bad_len[20 + 21] = 1  # the option's length byte
    fix_tcp_csum(bad_len)
    out, st, err = run([arp_request(), tcp_to_us(syn),
                        Ether(src=PEER_MAC, dst=OUR_MAC, type=0x0800) /
                        Raw(bytes(bad_len)),
                        tcp_to_us(TCP(sport=40012, dport=CLOSED,
                                      flags="SF", seq=1)),
                        tcp_to_us(TCP(sport=40013, dport=CLOSED,
                                      flags="SR", seq=1))])
    rst = tcp_out(out)
    check(len(rst) == 1, "one RST, got %r" % [f.summary() for f in out],
          err)
    r = rst[0][TCP]
    check(r.dport == 40010 and r.flags == "RA" and r.seq == 0 and
          r.ack == 5000 + 1 + 100, "RST/ACK counts SYN and data: %r" % r)
    counters(st, {"Tcp.InSegs": 3, "Tcp.InErrs": 3, "Tcp.OutRsts": 1,
                  "Drops.tcp_option": 1, "Drops.tcp_flags": 2,
                  "Drops.no_socket": 1}, err)


def case_tcp_bad_data_offset():
    frames = [arp_request()]
    # Data offset 4 (< 5), and 15 (60 bytes) in a 28-byte segment; both
    # with right checksums, so only the offset is wrong.
    for sport, doff in ((40020, 4), (40021, 15)):
        seg = TCP(sport=sport, dport=CLOSED, flags="S", seq=1,
                  dataofs=doff) / Raw(b"12345678")
        frames.append(tcp_to_us(seg))
    out, st, err = run(frames)
    check(tcp_out(out) == [], "nothing answers a bad offset, got %r" %
          [f.summary() for f in out], err)
    counters(st, {"Tcp.InErrs": 2, "Tcp.InSegs": 0, "Tcp.OutRsts": 0,
                  "Drops.tcp_hdr": 2}, err)


CASES = {
    "arp": case_arp,
    "echo": case_echo,
    "port_unreachable": case_port_unreachable,
    "reassembly": case_reassembly,
    "fragmented_output": case_fragmented_output,
    "hostile": case_hostile,
    "no_answer_without_arp": case_no_answer_without_arp,
    "static_arp": case_static_arp,
    "options_skipped": case_options_skipped,
    "tcp_closed_port": case_tcp_closed_port,
    "tcp_bad_checksum": case_tcp_bad_checksum,
    "tcp_syn_data_odd_options": case_tcp_syn_data_odd_options,
    "tcp_bad_data_offset": case_tcp_bad_data_offset,
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
