// SPDX-License-Identifier: MIT
/*
 * Receive Side Scaling: the Toeplitz hash and the frame parser a NIC runs
 * in front of it (Microsoft "RSS hashing functions"; Linux ethtool -x/-X).
 */
#include "nic/rss.h"

#include <errno.h>
#include <string.h>

/* The key every RSS implementation ships as its default and verifies with. */
static const uint8_t rss_default_key[WP_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

enum {
	ETH_HLEN = 14,
	VLAN_HLEN = 4,
	ETH_P_IP = 0x0800,
	ETH_P_8021Q = 0x8100,
	IPV4_MIN_HLEN = 20,
	IP_MF = 0x2000,
	IP_OFFSET = 0x1fff,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
};

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* lut[i][b]: XOR of the hashes of b's set bits at offset i (rss.h). */
static void rss_build_lut(struct wp_rss *rss)
{
	uint8_t in[WP_RSS_LUT_BYTES] = { 0 };

	for (uint32_t i = 0; i < WP_RSS_LUT_BYTES; i++) {
		uint32_t bit_hash[8];

		for (uint32_t j = 0; j < 8; j++) {
			in[i] = (uint8_t)(0x80u >> j);
			bit_hash[j] = wp_toeplitz_hash(rss->key, in, i + 1);
		}
		in[i] = 0;
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t h = 0;

			for (uint32_t j = 0; j < 8; j++) {
				if (b & (0x80u >> j))
					h ^= bit_hash[j];
			}
			rss->lut[i][b] = h;
		}
	}
}

void wp_rss_init(struct wp_rss *rss, uint16_t nqueues)
{
	memcpy(rss->key, rss_default_key, sizeof(rss->key));
	rss_build_lut(rss);
	rss->nqueues = nqueues ? nqueues : 1;
	wp_rss_set_equal(rss, rss->nqueues);
}

/* The hash of `len` input bytes placed at offset `at` of the input. */
static uint32_t rss_hash_lut(const struct wp_rss *rss, uint32_t at,
			     const uint8_t *in, uint32_t len)
{
	uint32_t h = 0;

	for (uint32_t i = 0; i < len; i++)
		h ^= rss->lut[at + i][in[i]];
	return h;
}

/*
 * For every set bit i of the input (MSB first), XOR in the 32 key bits
 * that start at bit i. `win` holds the next 64 key bits, so the window
 * for bit j of the current byte is win >> (32 - j). Key bits past the
 * end of the key read as zero. Cost: 8 shifts per input byte; 12 bytes
 * for an IPv4 4-tuple.
 */
uint32_t wp_toeplitz_hash(const uint8_t *key, const uint8_t *input,
			  uint32_t len)
{
	uint64_t win = 0;
	uint32_t hash = 0;

	for (uint32_t i = 0; i < 8; i++)
		win = win << 8 | key[i];
	for (uint32_t i = 0; i < len; i++) {
		uint8_t b = input[i];

		for (uint32_t j = 0; j < 8; j++) {
			if (b & (0x80u >> j))
				hash ^= (uint32_t)(win >> (32 - j));
		}
		win <<= 8;
		if (i + 8 < WP_RSS_KEY_LEN)
			win |= key[i + 8];
	}
	return hash;
}

/*
 * Entries are stored one by one with relaxed atomics: the firmware thread
 * reads the table while ethtool -X rewrites it, and a frame steered by a
 * mix of old and new entries is harmless (hardware behaves the same).
 * Callers that must not see the old queues afterwards (set_channels)
 * quiesce those queues themselves.
 */
int wp_rss_set_equal(struct wp_rss *rss, uint16_t n)
{
	if (n == 0 || n > rss->nqueues)
		return -EINVAL;
	for (uint16_t i = 0; i < WP_RSS_RETA_SIZE; i++)
		__atomic_store_n(&rss->reta[i], (uint16_t)(i % n),
				 __ATOMIC_RELAXED);
	return 0;
}

/*
 * Ethernet (one optional 802.1Q tag) -> IPv4 -> TCP/UDP ports. Every
 * length is checked against `len` before the bytes are read. A fragment
 * (MF set or offset non-zero) hashes on addresses only, so all fragments
 * of a datagram land on one queue whether or not they carry the ports.
 */
uint32_t wp_rss_hash_frame(const struct wp_rss *rss, const uint8_t *frame,
			   uint32_t len, bool *l4)
{
	uint32_t off = ETH_HLEN, ihl, avail, tot_len, hash;
	uint16_t proto, frag;
	const uint8_t *ip;

	if (l4)
		*l4 = false;
	if (len < ETH_HLEN)
		return 0;
	proto = get_be16(frame + 12);
	if (proto == ETH_P_8021Q) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return 0;
		proto = get_be16(frame + 16);
		off += VLAN_HLEN;
	}
	if (proto != ETH_P_IP || len - off < IPV4_MIN_HLEN)
		return 0;
	ip = frame + off;
	avail = len - off;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot_len = get_be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < IPV4_MIN_HLEN || ihl > avail ||
	    tot_len < ihl)
		return 0;
	/* Ethernet padding may follow the datagram; never read past it. */
	if (tot_len < avail)
		avail = tot_len;

	/* Input: saddr, daddr (contiguous at ip + 12), then the ports
	 * (the first 4 bytes of TCP and UDP headers alike). */
	hash = rss_hash_lut(rss, 0, ip + 12, 8);
	frag = get_be16(ip + 6);
	if ((ip[9] == PROTO_TCP || ip[9] == PROTO_UDP) &&
	    !(frag & (IP_MF | IP_OFFSET)) && avail - ihl >= 4) {
		hash ^= rss_hash_lut(rss, 8, ip + ihl, 4);
		if (l4)
			*l4 = true;
	}
	return hash;
}
