/* SPDX-License-Identifier: MIT */
/*
 * Receive Side Scaling: Toeplitz hash + indirection table
 * (Microsoft's RSS spec; Linux ethtool -x/-X).
 *
 * The hash input for IPv4 is src addr, dst addr (and src port, dst port
 * for TCP/UDP) in network byte order. Verified against the published
 * verification suite with the standard 40-byte key.
 */
#ifndef WP_NIC_RSS_H
#define WP_NIC_RSS_H

#include <stdbool.h>
#include <stdint.h>

#define WP_RSS_KEY_LEN 40
#define WP_RSS_RETA_SIZE 128
#define WP_RSS_LUT_BYTES 12 /* IPv4 4-tuple: the longest input hashed */

struct wp_rss {
	uint8_t key[WP_RSS_KEY_LEN];
	uint16_t reta[WP_RSS_RETA_SIZE]; /* hash & 127 -> queue */
	uint16_t nqueues;
	/*
	 * Toeplitz is linear over GF(2): the hash of an input is the XOR of
	 * the hashes of its bytes in place. lut[i][b] is the hash of byte b
	 * at offset i, so a 12-byte input costs 12 loads instead of 96
	 * shift-and-XOR steps (~5 ns instead of ~85). Derived from the key
	 * by wp_rss_init(); the key is not changed afterwards.
	 */
	uint32_t lut[WP_RSS_LUT_BYTES][256];
};

/* The standard key (6d5a56da 255b0ec2 ...), its table, `equal nqueues`. */
void wp_rss_init(struct wp_rss *rss, uint16_t nqueues);

/* Toeplitz over `len` input bytes, bit by bit: the reference. */
uint32_t wp_toeplitz_hash(const uint8_t *key, const uint8_t *input,
			  uint32_t len);

/* ethtool -X equal N: spread entries round-robin over N queues. -EINVAL if
 * N is 0 or above nqueues. */
int wp_rss_set_equal(struct wp_rss *rss, uint16_t n);

/*
 * Hash a frame as the NIC does: IPv4 TCP/UDP (not a fragment) with ports,
 * other IPv4 on addresses only, anything else 0. l4 reports if ports were
 * included. Reads only within len.
 */
uint32_t wp_rss_hash_frame(const struct wp_rss *rss, const uint8_t *frame,
			   uint32_t len, bool *l4);

/*
 * The queue for a hash. Safe against a concurrent wp_rss_set_equal() (the
 * firmware thread steers while ethtool -X rewrites the table): entries
 * are read and written with relaxed atomics, one at a time.
 */
static inline uint16_t wp_rss_queue(const struct wp_rss *rss, uint32_t hash)
{
	return __atomic_load_n(&rss->reta[hash & (WP_RSS_RETA_SIZE - 1)],
			       __ATOMIC_RELAXED);
}

#endif
