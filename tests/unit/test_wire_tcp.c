// SPDX-License-Identifier: MIT
/*
 * TCP: Linux's captured SYN and a data segment (checksums as tcpdump
 * computes them), emit giving Linux's option layout byte for byte, the
 * option parser on each option, wrong lengths, hostile lengths 0/1/past
 * the end, and on every two-byte input and random inputs (it must end and
 * stay in bounds); every header rejection with its drop reason.
 */
#include "test_core_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/tcp.h"

#define LO 0x7f000001u

/* SYN 127.0.0.1:59284 -> :5555, mss 65495, sackOK, TS, nop, wscale 10. */
static const uint8_t syn[40] = {
	0xe7, 0x94, 0x15, 0xb3, 0x6f, 0x41, 0xc9, 0xcc, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7, 0x7c, 0xc7, 0x00, 0x00,
	0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0xbb, 0xe8,
	0xe0, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

/* PSH|ACK seq 1 ack 1 "hi\n", nop nop TS, from the same connection. */
static const uint8_t data[35] = {
	0xe7, 0x94, 0x15, 0xb3, 0x6f, 0x41, 0xc9, 0xcd, 0x5a, 0xaf, 0x06, 0xe4,
	0x80, 0x18, 0x00, 0x40, 0xb3, 0xd8, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
	0xbb, 0xe8, 0xe1, 0x2e, 0x70, 0x04, 0xad, 0x27, 'h',  'i',  '\n',
};

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void expect_reject(const uint8_t *p, size_t len, int err,
			  enum wp_drop_reason reason)
{
	struct wp_tcp_repr r, before;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	assert_int_equal(wp_tcp_parse(p, len, LO, LO, 0, &r, &why), err);
	assert_int_equal(why, reason);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(wp_tcp_parse(p, len, LO, LO, 0, &r, NULL), err);
}

static int opts(const char *bytes, size_t len, struct wp_tcp_opts *o)
{
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	int err = wp_tcp_options_parse((const uint8_t *)bytes, len, o, &why);

	if (err)
		assert_int_equal(why, WP_DROP_TCP_OPTION);
	return err;
}

/* A header of doff words with options, checksum fixed, in buf. */
static size_t segment(uint8_t *buf, const char *o, size_t olen,
		      size_t payload)
{
	size_t hlen = 20 + olen;
	uint16_t c;

	memcpy(buf, syn, 20);
	buf[12] = (uint8_t)((hlen / 4) << 4);
	memcpy(buf + 20, o, olen);
	memset(buf + hlen, 'x', payload);
	buf[16] = buf[17] = 0;
	c = wp_tcp_csum(LO, LO, buf, hlen + payload);
	buf[16] = (uint8_t)(c >> 8);
	buf[17] = (uint8_t)c;
	return hlen + payload;
}

static void test_parse_syn(void **state)
{
	struct wp_tcp_repr r;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	(void)state;
	assert_int_equal(wp_tcp_parse(syn, 40, LO, LO, 0, &r, &why), 0);
	assert_int_equal(r.sport, 59284);
	assert_int_equal(r.dport, 5555);
	assert_int_equal(r.seq, 1866582476u);
	assert_int_equal(r.ack_seq, 0);
	assert_int_equal(r.flags, WP_TCP_SYN);
	assert_int_equal(r.window, 65495);
	assert_int_equal(r.urg_ptr, 0);
	assert_int_equal(r.opts.present, WP_TCP_OPT_MSS | WP_TCP_OPT_SACK_PERM |
						 WP_TCP_OPT_TS |
						 WP_TCP_OPT_WSCALE);
	assert_int_equal(r.opts.mss, 65495);
	assert_int_equal(r.opts.wscale, 10);
	assert_int_equal(r.opts.tsval, 3152601336u);
	assert_int_equal(r.opts.tsecr, 0);
	assert_int_equal(r.opts.nr_sack, 0);
	assert_ptr_equal(r.payload, syn + 40);
	assert_int_equal(r.payload_len, 0);
}

static void test_parse_data(void **state)
{
	struct wp_tcp_repr r;

	(void)state;
	assert_int_equal(wp_tcp_parse(data, 35, LO, LO, 0, &r, NULL), 0);
	assert_int_equal(r.flags, WP_TCP_PSH | WP_TCP_ACK);
	assert_int_equal(r.seq, 1866582477u);
	assert_int_equal(r.ack_seq, 1521420004u);
	assert_int_equal(r.window, 64);
	assert_int_equal(r.opts.present, WP_TCP_OPT_TS);
	assert_int_equal(r.opts.tsval, 3152601390u);
	assert_int_equal(r.opts.tsecr, 1879354663u);
	assert_ptr_equal(r.payload, data + 32);
	assert_int_equal(r.payload_len, 3);
}

static void test_emit_linux_layout(void **state)
{
	struct wp_tcp_repr r;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(wp_tcp_parse(syn, 40, LO, LO, 0, &r, NULL), 0);
	assert_int_equal(wp_tcp_hdr_len(&r), 40);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, 40), 0);
	assert_memory_equal(buf, syn, 40);
	assert_int_equal(buf[40], 0xee);

	assert_int_equal(wp_tcp_parse(data, 35, LO, LO, 0, &r, NULL), 0);
	assert_int_equal(wp_tcp_hdr_len(&r), 32);
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, data, 35);
	/* The payload already in place, or NULL: not moved. */
	r.payload = NULL;
	memset(buf, 0, 32);
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, 35), 0);
	assert_memory_equal(buf, data, 35);
}

static void test_emit_sack_roundtrip(void **state)
{
	struct wp_tcp_repr r = { .sport = 80, .dport = 40000, .seq = 1,
				 .ack_seq = 2, .flags = WP_TCP_ACK,
				 .window = 512 };
	struct wp_tcp_repr back;
	uint8_t buf[128];

	(void)state;
	for (unsigned n = 1; n <= WP_TCP_SACK_MAX; n++) {
		r.opts = (struct wp_tcp_opts){ 0 };
		r.opts.present = WP_TCP_OPT_SACK;
		r.opts.nr_sack = (uint8_t)n;
		for (unsigned i = 0; i < n; i++) {
			r.opts.sack[i].start = rnd();
			r.opts.sack[i].end = rnd();
		}
		/* With timestamps only three blocks fit (RFC 2018 3). */
		if (n <= 3) {
			r.opts.present |= WP_TCP_OPT_TS;
			r.opts.tsval = rnd();
			r.opts.tsecr = rnd();
		}
		assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, sizeof(buf)), 0);
		assert_int_equal(wp_tcp_parse(buf, (size_t)wp_tcp_hdr_len(&r),
					      LO, LO, 0, &back, NULL),
				 0);
		assert_int_equal(back.opts.present, r.opts.present);
		assert_int_equal(back.opts.nr_sack, n);
		assert_memory_equal(back.opts.sack, r.opts.sack, n * 8);
		assert_int_equal(back.opts.tsval, r.opts.tsval);
		assert_int_equal(back.payload_len, 0);
	}
	/* SACK-permitted without timestamps: NOP NOP SACK_PERM. */
	r.opts = (struct wp_tcp_opts){ .present = WP_TCP_OPT_SACK_PERM };
	assert_int_equal(wp_tcp_options_len(&r.opts), 4);
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, 24), 0);
	assert_memory_equal(buf + 20, "\x01\x01\x04\x02", 4);
	/* Flags, the AE and reserved bits are carried as they are. */
	r.flags = WP_TCP_FLAGS_MASK;
	r.urg_ptr = 7;
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, 24), 0);
	assert_int_equal(wp_tcp_parse(buf, 24, LO, LO, 0, &back, NULL), 0);
	assert_int_equal(back.flags, WP_TCP_FLAGS_MASK);
	assert_int_equal(back.urg_ptr, 7);
}

static void test_options_each(void **state)
{
	struct wp_tcp_opts o;

	(void)state;
	assert_int_equal(opts("", 0, &o), 0);
	assert_int_equal(o.present, 0);
	/* MSS 0 is reported as is: never divided by here. */
	assert_int_equal(opts("\x02\x04\x00\x00", 4, &o), 0);
	assert_int_equal(o.present, WP_TCP_OPT_MSS);
	assert_int_equal(o.mss, 0);
	/* Window scale above 14 is reported as is (RFC 7323 2.3). */
	assert_int_equal(opts("\x03\x03\xff", 3, &o), 0);
	assert_int_equal(o.present, WP_TCP_OPT_WSCALE);
	assert_int_equal(o.wscale, 255);
	assert_int_equal(opts("\x04\x02", 2, &o), 0);
	assert_int_equal(o.present, WP_TCP_OPT_SACK_PERM);
	assert_int_equal(opts("\x08\x0a\x00\x00\x00\x01\xff\xff\xff\xff", 10,
			      &o),
			 0);
	assert_int_equal(o.tsval, 1);
	assert_int_equal(o.tsecr, 0xffffffff);
	assert_int_equal(opts("\x05\x0a\x00\x00\x00\x01\x00\x00\x00\x02", 10,
			      &o),
			 0);
	assert_int_equal(o.nr_sack, 1);
	assert_int_equal(o.sack[0].start, 1);
	assert_int_equal(o.sack[0].end, 2);
	/* Unknown kinds are skipped by their length (MD5 sig, 18 bytes). */
	assert_int_equal(opts("\x13\x12................\x02\x04\x05\xb4", 22,
			      &o),
			 0);
	assert_int_equal(o.present, WP_TCP_OPT_MSS);
	assert_int_equal(o.mss, 1460);
	/* EOL ends the list: garbage after it is padding. */
	assert_int_equal(opts("\x01\x00\x02\x00\x00", 5, &o), 0);
	assert_int_equal(o.present, 0);
	/* NOPs alone. */
	assert_int_equal(opts("\x01\x01\x01", 3, &o), 0);
	/* The same kind twice: the last counts. */
	assert_int_equal(opts("\x02\x04\x05\xb4\x02\x04\x02\x18", 8, &o), 0);
	assert_int_equal(o.mss, 536);
}

static void test_options_wrong_length(void **state)
{
	struct wp_tcp_opts o, before;

	(void)state;
	memset(&o, 0x5a, sizeof(o));
	before = o;
	assert_int_equal(opts("\x02\x03\x05", 3, &o), -EINVAL);
	assert_int_equal(opts("\x02\x05\x05\xb4\x00", 5, &o), -EINVAL);
	assert_int_equal(opts("\x03\x02", 2, &o), -EINVAL);
	assert_int_equal(opts("\x03\x04\x07\x00", 4, &o), -EINVAL);
	assert_int_equal(opts("\x04\x03\x00", 3, &o), -EINVAL);
	assert_int_equal(opts("\x08\x08\x00\x00\x00\x00\x00\x00", 8, &o),
			 -EINVAL);
	assert_int_equal(opts("\x08\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00",
			      11, &o),
			 -EINVAL);
	/* SACK: no blocks, a partial block, five blocks. */
	assert_int_equal(opts("\x05\x02", 2, &o), -EINVAL);
	assert_int_equal(opts("\x05\x09\x00\x00\x00\x00\x00\x00\x00", 9, &o),
			 -EINVAL);
	{
		uint8_t five[42] = { WP_TCPOPT_SACK, 42 };

		assert_int_equal(opts((const char *)five, 42, &o), -EINVAL);
		five[1] = 34;
		assert_int_equal(opts((const char *)five, 42, &o), 0);
		assert_int_equal(o.nr_sack, 4);
		o = before;
	}
	/* A failed parse leaves the options alone. */
	assert_memory_equal(&o, &before, sizeof(o));
}

static void test_options_hostile_lengths(void **state)
{
	struct wp_tcp_opts o;

	(void)state;
	/* Length 0 and 1 would loop forever in a careless parser. */
	assert_int_equal(opts("\x1e\x00\x01\x01", 4, &o), -EINVAL);
	assert_int_equal(opts("\x1e\x01\x01\x01", 4, &o), -EINVAL);
	assert_int_equal(opts("\x02\x00", 2, &o), -EINVAL);
	assert_int_equal(opts("\x05\x01", 2, &o), -EINVAL);
	/* Past the end of the options. */
	assert_int_equal(opts("\x1e\x05\x00\x00", 4, &o), -EINVAL);
	assert_int_equal(opts("\x02\x04\x05", 3, &o), -EINVAL);
	assert_int_equal(opts("\x08\xff", 2, &o), -EINVAL);
	/* A kind with no room for its length byte. */
	assert_int_equal(opts("\x01\x01\x01\x02", 4, &o), -EINVAL);
	assert_int_equal(opts("\x1e", 1, &o), -EINVAL);
	/* The bytes past len are never read (ASan would see it). */
	{
		uint8_t *heap = malloc(3);

		assert_non_null(heap);
		memcpy(heap, "\x02\x04\x05", 3);
		assert_int_equal(wp_tcp_options_parse(heap, 3, &o, NULL),
				 -EINVAL);
		assert_int_equal(wp_tcp_options_parse(heap, 1, &o, NULL),
				 -EINVAL);
		free(heap);
	}
}

/* Whatever came back, it must be something emit can write. */
static void check_consistent(const struct wp_tcp_opts *o)
{
	assert_true(o->nr_sack <= WP_TCP_SACK_MAX);
	assert_int_equal(o->nr_sack != 0, !!(o->present & WP_TCP_OPT_SACK));
}

static void test_options_exhaustive_and_random(void **state)
{
	struct wp_tcp_opts o;
	uint8_t *b;

	(void)state;
	/* Every two-byte input, each in a buffer of exactly its size. */
	b = malloc(2);
	assert_non_null(b);
	for (unsigned v = 0; v < 65536; v++) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
		if (wp_tcp_options_parse(b, 2, &o, NULL) == 0)
			check_consistent(&o);
	}
	free(b);
	/* Random inputs up to 40 bytes biased to small kinds and lengths. */
	for (int i = 0; i < 200000; i++) {
		size_t n = rnd() % 41;

		b = malloc(n ? n : 1);
		assert_non_null(b);
		for (size_t k = 0; k < n; k++)
			b[k] = (uint8_t)((rnd() & 3) ? rnd() % 12 : rnd());
		if (wp_tcp_options_parse(b, n, &o, NULL) == 0)
			check_consistent(&o);
		free(b);
	}
}

static void test_reject_header(void **state)
{
	uint8_t buf[80];

	(void)state;
	for (size_t n = 0; n < 20; n++)
		expect_reject(syn, n, -EINVAL, WP_DROP_TCP_HDR);
	/* Data offset below 5. */
	for (unsigned doff = 0; doff < 5; doff++) {
		memcpy(buf, syn, 40);
		buf[12] = (uint8_t)(doff << 4);
		expect_reject(buf, 40, -EINVAL, WP_DROP_TCP_HDR);
	}
	/* Data offset past the segment: 60-byte header in 40 bytes. */
	memcpy(buf, syn, 40);
	buf[12] = 0xf0;
	expect_reject(buf, 40, -EINVAL, WP_DROP_TCP_HDR);
	expect_reject(syn, 39, -EINVAL, WP_DROP_TCP_HDR);
}

static void test_reject_csum(void **state)
{
	uint8_t buf[40];
	struct wp_tcp_repr r;

	(void)state;
	memcpy(buf, syn, 40);
	buf[39] = 14;
	expect_reject(buf, 40, -EBADMSG, WP_DROP_TCP_CSUM);
	/* The pseudo-header covers the addresses. */
	assert_int_equal(wp_tcp_parse(syn, 40, LO, LO + 1, 0, &r, NULL),
			 -EBADMSG);
	/* Payload bytes count. */
	expect_reject(data, 34, -EBADMSG, WP_DROP_TCP_CSUM);
	/* Offloaded: not summed. */
	assert_int_equal(wp_tcp_parse(buf, 40, LO, LO, WP_WIRE_CSUM_UNNECESSARY,
				      &r, NULL),
			 0);
	assert_int_equal(r.opts.wscale, 14);
	assert_int_equal(wp_tcp_csum(LO, LO, syn, 40), 0);
}

static void test_reject_options_in_segment(void **state)
{
	uint8_t buf[80];
	size_t n;

	(void)state;
	n = segment(buf, "\x02\x04\x05\xb4\x1e\x00\x01\x01", 8, 5);
	expect_reject(buf, n, -EINVAL, WP_DROP_TCP_OPTION);
	n = segment(buf, "\x01\x01\x01\x02", 4, 0);
	expect_reject(buf, n, -EINVAL, WP_DROP_TCP_OPTION);
	/* An option that runs into the payload is past the header. */
	n = segment(buf, "\x01\x01\x02\x04", 4, 4);
	expect_reject(buf, n, -EINVAL, WP_DROP_TCP_OPTION);
	/* The same bytes with a valid MSS parse. */
	n = segment(buf, "\x01\x01\x01\x01\x02\x04\x05\xb4", 8, 4);
	{
		struct wp_tcp_repr r;

		assert_int_equal(wp_tcp_parse(buf, n, LO, LO, 0, &r, NULL), 0);
		assert_int_equal(r.opts.mss, 1460);
		assert_int_equal(r.payload_len, 4);
	}
}

static void test_emit_errors(void **state)
{
	struct wp_tcp_repr r = { .sport = 1, .dport = 2, .payload_len = 4 };
	uint8_t buf[80];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, 23), -ENOSPC);
	/* Everything at once does not fit 40 bytes. */
	r.opts = (struct wp_tcp_opts){ .present = WP_TCP_OPT_MSS |
						  WP_TCP_OPT_TS |
						  WP_TCP_OPT_WSCALE |
						  WP_TCP_OPT_SACK,
				       .nr_sack = 3 };
	assert_int_equal(wp_tcp_options_len(&r.opts), -EMSGSIZE);
	assert_int_equal(wp_tcp_hdr_len(&r), -EMSGSIZE);
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, sizeof(buf)), -EMSGSIZE);
	r.opts.nr_sack = 2; /* 4 + 12 + 4 + 20 = 40: fits */
	assert_int_equal(wp_tcp_options_len(&r.opts), 40);
	r.opts.present = WP_TCP_OPT_SACK;
	r.opts.nr_sack = 0;
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, sizeof(buf)), -EINVAL);
	r.opts.nr_sack = 5;
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(wp_tcp_options_emit(&r.opts, buf, sizeof(buf)),
			 -EINVAL);
	r.opts.nr_sack = 1;
	assert_int_equal(wp_tcp_options_emit(&r.opts, buf, 11), -ENOSPC);
	r.opts = (struct wp_tcp_opts){ 0 };
	r.payload_len = 65516;
	assert_int_equal(wp_tcp_emit(&r, LO, LO, buf, sizeof(buf)), -EMSGSIZE);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_syn),
		cmocka_unit_test(test_parse_data),
		cmocka_unit_test(test_emit_linux_layout),
		cmocka_unit_test(test_emit_sack_roundtrip),
		cmocka_unit_test(test_options_each),
		cmocka_unit_test(test_options_wrong_length),
		cmocka_unit_test(test_options_hostile_lengths),
		cmocka_unit_test(test_options_exhaustive_and_random),
		cmocka_unit_test(test_reject_header),
		cmocka_unit_test(test_reject_csum),
		cmocka_unit_test(test_reject_options_in_segment),
		cmocka_unit_test(test_emit_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
