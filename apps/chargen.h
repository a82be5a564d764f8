/* SPDX-License-Identifier: MIT */
/*
 * The character generator stream of RFC 864, as BSD inetd writes it:
 * lines of 72 printable characters and CRLF, line k starting at
 * character k of the ring ' ' .. '~' (95 characters), so the stream
 * repeats every 95 lines (WP_CHARGEN_PERIOD bytes). Byte i of the
 * stream is byte i % WP_CHARGEN_PERIOD of
 *
 *   b"".join(bytes((k + j) % 95 + 32 for j in range(72)) + b"\r\n"
 *            for k in range(95))
 *
 * tcp-source sends it, and http's /bytes/N bodies are its first N bytes:
 * deterministic, checkable by a peer, and costing no computation per
 * byte (the stream is read out of a table that holds more than a
 * period, so any WP_CHARGEN_SPAN bytes from any offset are contiguous).
 */
#ifndef WP_APPS_CHARGEN_H
#define WP_APPS_CHARGEN_H

#include <stddef.h>
#include <stdint.h>

#define WP_CHARGEN_LINE 74 /* 72 characters, CR, LF */
#define WP_CHARGEN_PERIOD (95 * WP_CHARGEN_LINE)
#define WP_CHARGEN_SPAN 65536

/*
 * Bytes offset .. offset + WP_CHARGEN_SPAN - 1 of the stream, as one
 * contiguous read-only run.
 */
const uint8_t *wp_chargen_at(uint64_t offset);

/* Copy len bytes of the stream from offset into dst. */
void wp_chargen_fill(uint8_t *dst, uint64_t offset, size_t len);

#endif
