// SPDX-License-Identifier: MIT
/* The RFC 864 stream (chargen.h), out of one table made once. */
#include "chargen.h"

#include <pthread.h>
#include <string.h>

/* A period and a span: any span from any offset in the period fits. */
static uint8_t table[WP_CHARGEN_PERIOD + WP_CHARGEN_SPAN];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (size_t i = 0; i < sizeof(table); i++) {
		size_t p = i % WP_CHARGEN_PERIOD;
		size_t line = p / WP_CHARGEN_LINE, col = p % WP_CHARGEN_LINE;

		if (col == 72)
			table[i] = '\r';
		else if (col == 73)
			table[i] = '\n';
		else
			table[i] = (uint8_t)((line + col) % 95 + 32);
	}
}

const uint8_t *wp_chargen_at(uint64_t offset)
{
	pthread_once(&table_once, table_init);
	return table + offset % WP_CHARGEN_PERIOD;
}

void wp_chargen_fill(uint8_t *dst, uint64_t offset, size_t len)
{
	while (len) {
		size_t n = len < WP_CHARGEN_SPAN ? len : WP_CHARGEN_SPAN;

		memcpy(dst, wp_chargen_at(offset), n);
		dst += n;
		offset += n;
		len -= n;
	}
}
