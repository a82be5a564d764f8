// SPDX-License-Identifier: MIT
/* Ethernet II / 802.1Q: parse, emit, parse again. */
#include "fuzz.h"

#include "wire/eth.h"

static const enum wp_drop_reason eth_reasons[] = {
	WP_DROP_ETH_RUNT,
	WP_DROP_VLAN,
	WP_DROP_UNHANDLED_PROTO,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_eth_repr r, back;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	uint8_t out[WP_ETH_HLEN + WP_ETH_VLAN_HLEN];
	size_t hlen;

	if (wp_eth_parse(data, size, &r, &why) != 0) {
		fuzz_check_reason(why, eth_reasons, 3);
		return 0;
	}
	hlen = wp_eth_hdr_len(&r);
	fuzz_check(hlen <= size, "header within the input");
	fuzz_check(wp_eth_emit(&r, out, hlen - 1) == -ENOSPC, "emit short");
	fuzz_check(wp_eth_emit(&r, out, hlen) == 0, "emit");
	/* Every header bit is represented: the bytes come back as they were. */
	fuzz_check(memcmp(out, data, hlen) == 0, "emitted bytes");
	fuzz_check(wp_eth_parse(out, hlen, &back, NULL) == 0, "reparse");
	fuzz_check(wp_eth_addr_equal(&back.dst, &r.dst) &&
			   wp_eth_addr_equal(&back.src, &r.src) &&
			   back.ethertype == r.ethertype &&
			   back.vlan == r.vlan && back.vlan_tci == r.vlan_tci,
		   "round trip");
	return 0;
}
