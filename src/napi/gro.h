/* SPDX-License-Identifier: MIT */
/*
 * GRO, generic receive offload (Linux net/core/gro.c dev_gro_receive,
 * net/ipv4/af_inet.c inet_gro_receive, net/ipv4/tcp_offload.c
 * tcp_gro_receive): during one NAPI poll, TCP/IPv4 segments of the same
 * connection that arrive in order are merged into one skb, so the layers
 * above run once per burst instead of once per segment.
 *
 * Each NAPI holds at most WP_GRO_MAX_HELD flows (MAX_GRO_SKBS). A held
 * skb is the first segment, headers and all; the segments merged into it
 * hang on its chain (skb->frag_list), pulled to their payload. Whatever
 * is held goes up at the end of every poll (napi_complete_done, or the
 * poll that used its whole weight), oldest first, with its IPv4 total
 * length, both checksums and PSH/FIN made to cover the whole, gso_size
 * the first segment's payload and gso_segs the segments in it.
 *
 * What merges, as Linux decides it:
 *   - Ethernet without a tag, IPv4 without options or fragmentation, the
 *     total length that of the frame (no link padding), TCP with a valid
 *     header; the IPv4 header checksum and the TCP checksum verified here
 *     (a segment that fails goes up as it came, for IP or TCP to count);
 *   - the same addresses and ports as a held flow, the same Ethernet
 *     header, TTL, TOS and DF, and the IP ID the held one's plus the
 *     segments held (incrementing) or, with DF, equal to it (fixed: the
 *     second segment decides which);
 *   - seq where the held data ends, the same ACK, window, data offset
 *     and option bytes (timestamps included: they differ only between
 *     bursts), no flag but ACK, PSH and FIN different, no CWR;
 *   - payload at least 1 byte and at most gso_size, the datagram staying
 *     below 64 KB (gro_max_size 65536).
 * A segment of a held flow that does not merge first sends the held skb
 * up. A merged segment with PSH or FIN, or shorter than gso_size, ends
 * the flow: it goes up at once. A segment with URG, PSH, RST, SYN or FIN,
 * or no payload, that did not merge goes up by itself; any other starts
 * a held flow (the oldest held one goes up if all are taken).
 *
 * wirepath's one addition: a sampled segment (skb->stamps, for `wirepath
 * trace`) never merges into another skb; it starts a held flow, so the
 * stamps that go up are those of the skb's first segment, whose journey
 * is the skb's.
 */
#ifndef WP_NAPI_GRO_H
#define WP_NAPI_GRO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "skb/skb.h"

#define WP_GRO_MAX_HELD 8      /* MAX_GRO_SKBS */
#define WP_GRO_MAX_SIZE 65536u /* gro_max_size: datagrams stay below */

/*
 * Counters of one NAPI, written by its poller, read by any thread
 * (relaxed): wp_napi_gro_stats(). Names: mlx5's ethtool -S for the skbs
 * handed up; Linux counts nothing else of GRO, the rest is wirepath's.
 */
struct wp_gro_stats {
	uint64_t held;	       /* segments that started a held skb */
	uint64_t merged;       /* segments merged into a held skb */
	uint64_t flush;	       /* held skbs handed up */
	uint64_t flush_oldest; /* ... of them because all slots were held */
	uint64_t skbs;	       /* rx_gro_skbs: skbs of 2+ segments handed up */
	uint64_t packets;      /* rx_gro_packets: the segments in them */
	uint64_t bytes;	       /* rx_gro_bytes: those segments' frame bytes */
};

/* A held flow (Linux keeps this in NAPI_GRO_CB of the held skb). */
struct wp_gro_flow {
	struct wp_skb *skb;  /* the held skb; NULL: the slot is free */
	struct wp_skb *last; /* its chain's last skb (skb itself: none) */
	uint64_t age;	     /* arrival order: the oldest goes first */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t next_seq; /* seq of the byte after the data held */
	uint32_t ack_seq;
	uint32_t csum;	     /* ones' complement sum of the payload held */
	uint32_t payload;    /* payload bytes held */
	uint32_t wire_bytes; /* frame bytes of the segments held */
	uint32_t ip_len;     /* IPv4 total length of the whole */
	uint16_t flags;	     /* TCP flags of the first segment */
	uint16_t add_flags;  /* PSH and FIN merged in after it */
	uint16_t window;
	uint16_t gso_size; /* payload of the first segment: the mss */
	uint16_t count;	   /* segments held */
	uint16_t ip_id;	   /* IP ID of the first segment */
	uint8_t thlen;	   /* TCP header length */
	uint8_t ttl, tos;
	bool df;
	bool is_atomic; /* DF with a fixed IP ID (NAPI_GRO_CB is_atomic) */
};

struct wp_gro {
	_Atomic bool enabled; /* NETIF_F_GRO: ethtool -K gro */
	uint32_t nheld;
	uint64_t age;
	struct wp_gro_flow flow[WP_GRO_MAX_HELD];
	struct wp_gro_stats stats;
};

#endif
