// SPDX-License-Identifier: MIT
#include "wire/csum.h"

#include <string.h>

/*
 * One chain: a 64-bit add whose carry out is added back at once (the
 * end-around carry), so the accumulator stays a ones' complement sum of
 * 64-bit words. Because 2^16, 2^32 and 2^64 are all 1 modulo 0xffff, the
 * sum of 64-bit words folds to the sum of the 16-bit words inside them.
 * The compiler turns the pair into add/adc.
 */
static inline uint64_t add64(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w)); /* unaligned load, one instruction */
	return w;
}

uint32_t wp_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t a = 0, b = 0, c = 0, d = 0;
	uint64_t s;
	uint32_t r;

	/*
	 * Four independent chains: a single add/adc chain is bound by the
	 * carry flag's latency (8 bytes a cycle at best); four let the loads
	 * run at the load ports' rate. `wirepath bench csum` measures it.
	 */
	while (len >= 32) {
		a = add64(a, load64(p));
		b = add64(b, load64(p + 8));
		c = add64(c, load64(p + 16));
		d = add64(d, load64(p + 24));
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		a = add64(a, load64(p));
		p += 8;
		len -= 8;
	}
	if (len) {
		/*
		 * The last 1..7 bytes without a call to memcpy: native loads
		 * of 4 and 2 bytes are whole 16-bit words, and where a word
		 * sits in the accumulator does not matter (2^16 is 1 modulo
		 * 0xffff). An odd last byte is the first byte of a word whose
		 * second byte is the zero padding, in either byte order.
		 */
		uint64_t t = 0;

		if (len & 4) {
			uint32_t v;

			memcpy(&v, p, 4);
			t += v;
			p += 4;
		}
		if (len & 2) {
			uint16_t v;

			memcpy(&v, p, 2);
			t += v;
			p += 2;
		}
		if (len & 1) {
			uint16_t v = 0;

			memcpy(&v, p, 1);
			t += v;
		}
		a = add64(a, t);
	}
	a = add64(add64(a, b), add64(c, d));
	s = (a & 0xffffffff) + (a >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	r = (uint32_t)s;
	/*
	 * The words were read in host order. Read big-endian instead, each
	 * 16-bit word has its bytes swapped, which is a multiplication by
	 * 256 modulo 0xffff: one byte swap of the folded sum.
	 */
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
		r = __builtin_bswap32(r);
	return wp_csum_add(sum, r);
}
