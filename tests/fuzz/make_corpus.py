#!/usr/bin/env python3
# Writes the seed corpora in tests/fuzz/corpus/<target>/: a few small valid
# packets per target (most captured from Linux on lo), each prefixed as its
# target expects (see fuzz.h: mode byte, pseudo-header addresses).
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(payload, proto, src, dst, opts=b'', frag=0x4000, ident=1, ttl=64):
    ihl = 5 + len(opts) // 4
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(payload),
                    ident, frag, ttl, proto, 0, bytes(src), bytes(dst))
    h += opts
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


LO = bytes([127, 0, 0, 1])
A = bytes([10, 0, 0, 1])
B = bytes([10, 0, 0, 2])

syn = bytes.fromhex('e79415b36f41c9cc00000000a002ffd77cc70000'
                    '0204ffd70402080abbe8e0f8000000000103030a')
data = bytes.fromhex('e79415b36f41c9cd5aaf06e480180040b3d80000'
                     '0101080abbe8e12e7004ad27') + b'hi\n'
udp = bytes.fromhex('b95815b500120959') + b'hello udp\n'
echo_req = bytes.fromhex('0800173212340001') + b'wirepath'
echo_rep = bytes.fromhex('00001f3212340001') + b'wirepath'
unreach = (bytes.fromhex('0303065600000000'
                         '45000026fbad400040114117'
                         '7f0000017f000001b95815b50012fe25') +
           b'hello udp\n')
arp_req = bytes.fromhex('0001080006040001525400123456'
                        '0a000001000000000000' '0a000002')
arp_rep = bytes.fromhex('0001080006040002020000000002'
                        '0a000002525400123456' '0a000001') + bytes(18)
sack = bytes.fromhex('0101050a0000000100000064')
ts = bytes.fromhex('0101080a0000000100000002')


def sack_segment():
    opts = bytes.fromhex('0101080a0000000a0000000b'
                         '0101051a' + '00000010' '00000020'
                         '00000030' '00000040' '00000050' '00000060')
    h = struct.pack('!HHIIHHHH', 80, 40000, 5, 6, ((20 + len(opts)) // 4) << 12
                    | 0x10, 1024, 0, 0) + opts
    return h + b'payload'


seeds = {
    'fuzz_eth': {
        'ipv4_lo': bytes(12) + b'\x08\x00' + ipv4(b'', 6, LO, LO),
        'arp_bcast': b'\xff' * 6 + bytes.fromhex('525400123456') +
                     b'\x08\x06' + arp_req,
        'vlan100': bytes.fromhex('020000000002020000000001'
                                 '810060640800') + b'\x45',
        'prio_tag': bytes.fromhex('020000000002020000000001'
                                  '8100e0000806') + arp_req,
    },
    'fuzz_arp': {
        'request': arp_req,
        'reply_padded': arp_rep,
    },
    'fuzz_ipv4': {
        'syn': b'\x00' + ipv4(syn, 6, LO, LO, ident=0x72f4),
        'router_alert': b'\x00' + ipv4(b'igmp', 2, A, bytes([224, 0, 0, 22]),
                                       opts=b'\x94\x04\x00\x00', ttl=1),
        'fragment_fix': b'\x01' + ipv4(bytes(16), 17, A, B, frag=0x2000 | 185),
        'options_eol': b'\x00' + ipv4(b'', 1, A, B,
                                      opts=b'\x01\x07\x07\x04' + bytes(4) +
                                      b'\x00\x00\x00\x00'),
    },
    'fuzz_icmp': {
        'echo_request': b'\x00' + echo_req,
        'echo_reply': b'\x00' + echo_rep,
        'port_unreach': b'\x00' + unreach,
        'time_exceeded_fix': b'\x01' + b'\x0b\x00' + bytes(6) +
                             ipv4(b'12345678', 17, A, B),
        'frag_needed_nocsum': b'\x02' + b'\x03\x04\x00\x00\x00\x00\x05\x78' +
                              ipv4(bytes(8), 6, A, B),
    },
    'fuzz_udp': {
        'captured': b'\x00' + LO + LO + udp,
        'fix': b'\x01' + A + B + struct.pack('!HHHH', 53, 3333, 12, 0) +
               b'dns?',
        'no_csum': b'\x00' + A + B + struct.pack('!HHHH', 7, 7, 9, 0) + b'!',
    },
    'fuzz_tcp_options': {
        'syn_opts': b'\x00' + syn[20:],
        'ts': b'\x00' + ts,
        'sack': b'\x00' + sack,
        'syn_segment': b'\x04' + LO + LO + syn,
        'data_segment': b'\x04' + LO + LO + data,
        'sack_segment_fix': b'\x05' + A + B + sack_segment(),
    },
}

for target, files in seeds.items():
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    for name, blob in files.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(blob)
