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


# fuzz_tcp: config(1), then segments (see tests/fuzz/fuzz_tcp.c).
TO_CONN, TO_LISTEN, TO_CLIENT, TO_CLOSED = 0, 1, 2, 3
ABS, BAD_CSUM, RAW_DOFF = 0x04, 0x08, 0x10
(THEN_NONE, THEN_1MS, THEN_250MS, THEN_5S, THEN_READ, THEN_SEND,
 THEN_SHUT, THEN_CLOSE) = range(8)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SYN_OPTS = bytes.fromhex('020405b4' '0402' '080a0000006400000000' '01030307')


def tseg(to, flags, seq=0, ack=0, window=1024, paylen=0, opts=b'',
         then=THEN_NONE, mode=0, port=0, doff=0, urg=0):
    op = to | mode | (then << 5)
    return (struct.pack('!BHIIHHBBBH', op, flags, seq & 0xffffffff,
                        ack & 0xffffffff, window, urg, port, doff,
                        len(opts), paylen) + opts)


def ts_opt(tsval, tsecr=0):
    return b'\x01\x01\x08\x0a' + struct.pack('!II', tsval, tsecr)


tcp_seeds = {
    'data_read_reply': b'\x00' +
        tseg(TO_CONN, ACK | PSH, paylen=100, then=THEN_READ) +
        tseg(TO_CONN, ACK, then=THEN_SEND, paylen=200) +
        tseg(TO_CONN, ACK, ack=1600, then=THEN_250MS),
    'out_of_order_sack': b'\x02' +
        tseg(TO_CONN, ACK, seq=1000, paylen=500,
             opts=ts_opt(200, 0)) +
        tseg(TO_CONN, ACK, seq=3000, paylen=500, opts=ts_opt(201, 0)) +
        tseg(TO_CONN, ACK, seq=0, paylen=1000, opts=ts_opt(202, 0),
             then=THEN_READ),
    'fin_close': b'\x00' +
        tseg(TO_CONN, ACK | PSH | FIN, paylen=10, then=THEN_READ) +
        tseg(TO_CONN, ACK, then=THEN_CLOSE) +
        tseg(TO_CONN, ACK, then=THEN_5S),
    'close_then_data': b'\x00' +
        tseg(TO_CONN, ACK, then=THEN_CLOSE) +
        tseg(TO_CONN, ACK | PSH, paylen=300, ack=1),
    'rst_games': b'\x08' +
        tseg(TO_CONN, RST, seq=100) + tseg(TO_CONN, RST, seq=200) +
        tseg(TO_CONN, RST, seq=300) + tseg(TO_CONN, RST, seq=400) +
        tseg(TO_CONN, SYN, seq=5) + tseg(TO_CONN, RST | ACK),
    'ack_unsent': b'\x00' +
        tseg(TO_CONN, ACK, ack=5000, paylen=4) +
        tseg(TO_CONN, ACK, ack=-70000) +
        tseg(TO_CONN, ACK, seq=3000000, paylen=3),
    'zero_window': b'\x04' + b''.join(
        tseg(TO_CONN, ACK, seq=i * 1400, paylen=1400) for i in range(8)) +
        tseg(TO_CONN, ACK, then=THEN_READ),
    'sender_zero_window': b'\x00' +
        tseg(TO_CONN, ACK, window=0, then=THEN_SEND, paylen=1000) +
        tseg(TO_CONN, ACK, window=0, then=THEN_5S) +
        tseg(TO_CONN, ACK, window=0, then=THEN_5S) +
        tseg(TO_CONN, ACK, window=4000, then=THEN_250MS),
    'retransmit_dupacks': b'\x02' +
        tseg(TO_CONN, ACK, then=THEN_SEND, paylen=800,
             opts=ts_opt(300)) +
        tseg(TO_CONN, ACK, opts=ts_opt(301)) +
        tseg(TO_CONN, ACK, opts=ts_opt(302)) +
        tseg(TO_CONN, ACK, opts=ts_opt(303)) +
        tseg(TO_CONN, ACK, ack=1000, opts=ts_opt(304) +
             bytes.fromhex('0101050a') + struct.pack('!II', 0, 0),
             then=THEN_5S),
    'paws_old': b'\x02' +
        tseg(TO_CONN, ACK, paylen=10, opts=ts_opt(1000)) +
        tseg(TO_CONN, ACK, paylen=10, opts=ts_opt(5)),
    'listener_syn_ack_data': b'\x00' +
        tseg(TO_LISTEN, SYN, mode=ABS, seq=7000, port=2, opts=SYN_OPTS) +
        tseg(TO_LISTEN, ACK | PSH, port=2, paylen=50, then=THEN_SEND),
    'cookie_handshake': b'\x01' +
        tseg(TO_LISTEN, SYN, mode=ABS, seq=7000, port=3) +
        tseg(TO_LISTEN, ACK, port=3, paylen=20, then=THEN_SEND) +
        tseg(TO_LISTEN, ACK | FIN, port=3, seq=20) +
        tseg(TO_LISTEN, ACK, mode=ABS, seq=1, ack=2, port=4),
    'syn_flood': b'\x00' + b''.join(
        tseg(TO_LISTEN, SYN, mode=ABS, seq=i * 77, port=i)
        for i in range(16)),
    'active_open': b'\x00' +
        tseg(TO_CLIENT, SYN | ACK, mode=0, seq=9000, ack=0,
             opts=SYN_OPTS) +
        tseg(TO_CLIENT, ACK | PSH, seq=0, paylen=30, then=THEN_READ) +
        tseg(TO_CLIENT, ACK, then=THEN_CLOSE),
    'simultaneous_open': b'\x00' +
        tseg(TO_CLIENT, SYN, seq=4444) +
        tseg(TO_CLIENT, ACK, then=THEN_250MS),
    'closed_port_and_hostile': b'\x00' +
        tseg(TO_CLOSED, SYN, mode=ABS, seq=1, paylen=10,
             opts=b'\x03\x03\x0f\x02\x04\x00\x00\x1e\x06') +
        tseg(TO_CONN, ACK, mode=BAD_CSUM, paylen=10) +
        tseg(TO_CONN, ACK, mode=RAW_DOFF, doff=4) +
        tseg(TO_CONN, ACK, mode=RAW_DOFF, doff=15, paylen=8) +
        tseg(TO_CONN, ACK, opts=b'\x02\x00') +
        tseg(TO_CONN, SYN | FIN),
    'close_to_time_wait': b'\x00' +
        tseg(TO_CONN, ACK, then=THEN_CLOSE) +
        tseg(TO_CONN, ACK | FIN, then=THEN_1MS),
    'time_wait': b'\x00' +
        tseg(TO_CONN, ACK, then=THEN_CLOSE) +
        tseg(TO_CONN, ACK | FIN, then=THEN_1MS) +
        tseg(TO_CONN, ACK | FIN, then=THEN_5S) +
        tseg(TO_CONN, SYN, seq=100000, then=THEN_1MS),
}

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
    'fuzz_tcp': tcp_seeds,
    # Request heads as curl sends them, and the corners of RFC 9112.
    'fuzz_http': {
        'curl_get': b'GET / HTTP/1.1\r\nHost: 10.9.0.2\r\n'
                    b'User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
        'curl_bytes': b'GET /bytes/50000000 HTTP/1.1\r\nHost: 10.9.0.2\r\n'
                      b'User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
        'head10': b'HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
        'post_len': b'POST /x HTTP/1.1\r\nHost: a\r\n'
                    b'Content-Length: 5, 5\r\n\r\nhello',
        'lf_abs': b'\r\nGET http://a/b?c HTTP/1.1\nHost: a\n'
                  b'Connection: close, TE\n\n',
        'te': b'GET / HTTP/1.1\r\nHost: a\r\n'
              b'Transfer-Encoding: chunked\r\n\r\n',
        # The directory server: paths, ranges and dates.
        'dir_range': b'GET /a/./b%20c/big.bin?x HTTP/1.1\r\nHost: a\r\n'
                     b'Range: bytes=100-199\r\n'
                     b'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT'
                     b'\r\n\r\n',
        'dir_dotdot': b'GET /sub/%2e%2E/../etc/passwd HTTP/1.1\r\n'
                      b'Host: a\r\nRange: bytes=-500\r\n\r\n',
        'path_only': b'/x/%2f/%00/..%2F/.%2e/index.html#f',
        'range_only': b'bytes=0-',
        'date_only': b'Tue, 29 Feb 2000 23:59:60 GMT',
    },
}

for target, files in seeds.items():
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    for name, blob in files.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(blob)
