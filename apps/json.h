/* SPDX-License-Identifier: MIT */
/*
 * A small JSON reader for the applications' control messages (iperf3's
 * parameters and results): one object, whose members are scanned into
 * a table of key and value spans. Nested objects and arrays are checked
 * (RFC 8259 grammar, bounded depth) and kept as spans, never built into
 * trees. Every byte is checked against the length given: the text need
 * not end with a NUL, and anything that is not one whole JSON object
 * (trailing bytes, bad escapes, control characters in strings, numbers
 * out of grammar, depth above WP_JSON_DEPTH) is refused with -EINVAL.
 */
#ifndef WP_APPS_JSON_H
#define WP_APPS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WP_JSON_DEPTH 16

enum wp_json_type {
	WP_JSON_NULL,
	WP_JSON_FALSE,
	WP_JSON_TRUE,
	WP_JSON_NUMBER,
	WP_JSON_STRING, /* span inside the quotes, escapes left as they are */
	WP_JSON_OBJECT, /* span of the whole value, braces included */
	WP_JSON_ARRAY,
};

struct wp_json_member {
	const char *key; /* inside the quotes, escapes as they are */
	size_t key_len;
	enum wp_json_type type;
	const char *val;
	size_t val_len;
};

/*
 * Scan the object in s[0..len) (white space around it allowed). Up to
 * max members are stored in m; *n is set to how many there were (more
 * than max: -E2BIG). 0, or -EINVAL (not one valid object), -E2BIG.
 */
int wp_json_scan(const char *s, size_t len, struct wp_json_member *m,
		 unsigned max, unsigned *n);

/* The member named key (no escapes in it), or NULL. */
const struct wp_json_member *wp_json_get(const struct wp_json_member *m,
					 unsigned n, const char *key);

/*
 * Typed reads of a member: 0, or -ENOENT (absent), -EINVAL (another
 * type, or a number that is not an integer in range).
 */
int wp_json_read_bool(const struct wp_json_member *m, unsigned n,
		      const char *key, bool *v);
int wp_json_read_int(const struct wp_json_member *m, unsigned n,
		     const char *key, int64_t min, int64_t max, int64_t *v);

#endif
