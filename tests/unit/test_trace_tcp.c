// SPDX-License-Identifier: MIT
/*
 * TCP journeys: a stream between two stacks on the pair backend, on
 * virtual time, with every TCP segment that B receives for port 80
 * sampled. Data segments reach every stage from the DMA to the recv()
 * copy in order; pure ACKs end in TCP (consumed, never queued); a
 * socket capture on B sees exactly the data segments.
 */
#include "test_tcp_common.h"

#include "trace/trace.h"

static int count_frames(void *ctx, const struct wp_trace_frame *f)
{
	uint32_t *n = ctx;

	(void)f;
	(*n)++;
	return 0;
}

static void tcp_stream_journeys(void **state)
{
	struct wp_trace_filter f = { .every = 1,
				     .proto = WP_TRACE_PROTO_TCP,
				     .port = 80 };
	struct wp_trace_record *r = calloc(512, sizeof(*r));
	struct wp_tcp_sock *c, *s;
	struct tstream st;
	struct tpair t;
	size_t n = 0, data = 0, read = 0;
	uint32_t frames = 0;

	(void)state;
	assert_non_null(r);
	tpair_up(&t, NULL);
	tsysctl(&t, "net.ipv4.tcp_msl_ms", "100"); /* TIME_WAIT 200 ms */
	tconnect(&t, 80, &c, &s, NULL);
	assert_int_equal(wp_trace_session_begin(t.b->trace, &f, 512), 0);
	assert_int_equal(wp_trace_capture_start(t.b->trace, WP_TAP_SOCKET, 0),
			 0);
	tstream_init(&st, c, s, 64 * 1024, 7);
	for (int i = 0; i < 2000 && st.rcvd < st.total; i++) {
		tstream_pump(&st, false);
		trun(&t, 100 * WP_NSEC_PER_USEC);
		n += wp_trace_session_take(t.b->trace, r + n, 512 - n);
	}
	tstream_check(&st);
	wp_trace_capture_stop(t.b->trace);
	wp_trace_capture_drain(t.b->trace, count_frames, &frames);
	trun(&t, WP_NSEC_PER_MSEC);
	n += wp_trace_session_take(t.b->trace, r + n, 512 - n);
	wp_trace_session_end(t.b->trace);

	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t prev = 0;

		assert_int_equal(r[i].d.proto, WP_TRACE_PROTO_TCP);
		assert_int_equal(r[i].d.dport, 80);
		assert_false(r[i].d.flags & WP_TRACE_F_DROPPED);
		for (int k = 0; k < WP_STAMP__MAX; k++) {
			if (!r[i].ns[k])
				continue;
			assert_true(r[i].ns[k] >= prev);
			prev = r[i].ns[k];
		}
		assert_true(r[i].ns[WP_STAMP_L4_RCV] != 0);
		assert_true(r[i].ns[WP_STAMP_SOCK_LOOKUP] != 0);
		if (!r[i].ns[WP_STAMP_QUEUED])
			continue; /* an ACK: TCP consumed it */
		data++;
		assert_true(r[i].ns[WP_STAMP_DATA_READY] != 0);
		read += r[i].ns[WP_STAMP_READ] != 0;
	}
	print_message("%zu records, %zu data segments read, %u captured\n", n,
		      data, frames);
	/* 64 KiB in segments of at most one MSS. */
	assert_true(data >= 64 * 1024 / 1448);
	assert_int_equal(read, data);
	assert_int_equal(frames, data);

	tclose(c);
	tclose(s);
	trun(&t, WP_NSEC_PER_SEC);
	tpair_down(&t);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_stream_journeys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
