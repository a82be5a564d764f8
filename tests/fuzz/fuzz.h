/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets. Each target parses its input; when the
 * parse succeeds it emits the representation into a fresh buffer and
 * parses that again: the two representations must agree, and a failed
 * parse must name a drop reason of its own layer. A broken invariant
 * aborts, which both libFuzzer and the replay driver report as a crash.
 *
 * Checksummed layers take a mode byte first so the fuzzer is not stuck
 * in front of a checksum it cannot guess:
 *   bit 0  fix the checksum in a copy of the input before parsing
 *   bit 1  parse with WP_WIRE_CSUM_UNNECESSARY
 * The round trip always parses its own output with checksums verified.
 */
#ifndef WP_FUZZ_FUZZ_H
#define WP_FUZZ_FUZZ_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/drop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FUZZ_FIX_CSUM = 1u << 0,
	FUZZ_CSUM_UNNECESSARY = 1u << 1,
};

static inline void fuzz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz invariant broken: %s\n", what);
		abort();
	}
}

/* A failed parse named one of the reasons its layer may give. */
static inline void fuzz_check_reason(enum wp_drop_reason why,
				     const enum wp_drop_reason *allowed,
				     size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (why == allowed[i])
			return;
	fprintf(stderr, "fuzz invariant broken: unexpected reason %s\n",
		wp_drop_reason_name(why));
	abort();
}

/* A zeroed buffer of exactly size bytes (ASan sees an access past it). */
static inline uint8_t *fuzz_alloc(size_t size)
{
	uint8_t *p = calloc(1, size ? size : 1);

	fuzz_check(p != NULL, "malloc");
	return p;
}

/*
 * A private copy of the input (parsers must not need writable input, but
 * a fixed-up checksum does), exactly size bytes long so that ASan sees a
 * read past the end. Free with free().
 */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t size)
{
	uint8_t *p = fuzz_alloc(size);

	if (size)
		memcpy(p, data, size);
	return p;
}

#endif
