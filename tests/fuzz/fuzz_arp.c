// SPDX-License-Identifier: MIT
/* ARP (Ethernet/IPv4): parse, emit, parse again. */
#include "fuzz.h"

#include "wire/arp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_arp_repr r, back;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	uint8_t out[WP_ARP_HLEN];

	if (wp_arp_parse(data, size, &r, &why) != 0) {
		fuzz_check(why == WP_DROP_ARP_BAD, "reason");
		return 0;
	}
	fuzz_check(size >= WP_ARP_HLEN, "length checked");
	fuzz_check(wp_arp_emit(&r, out, sizeof(out) - 1) == -ENOSPC,
		   "emit short");
	fuzz_check(wp_arp_emit(&r, out, sizeof(out)) == 0, "emit");
	fuzz_check(memcmp(out, data, WP_ARP_HLEN) == 0, "emitted bytes");
	fuzz_check(wp_arp_parse(out, sizeof(out), &back, NULL) == 0, "reparse");
	fuzz_check(back.op == r.op && wp_eth_addr_equal(&back.sha, &r.sha) &&
			   back.spa == r.spa &&
			   wp_eth_addr_equal(&back.tha, &r.tha) &&
			   back.tpa == r.tpa,
		   "round trip");
	return 0;
}
