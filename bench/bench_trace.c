// SPDX-License-Identifier: MIT
/*
 * bench trace: what the glass box costs the receive path. The device
 * half of bench rx (DD descriptor -> skb -> refill -> handed up ->
 * dropped; one queue, one core, busy polling, 64-byte UDP frames), run
 * with tracing off, with the stack's background sampling (1 in 1024),
 * with every packet sampled (stamps, a parse, a record filed and drained
 * per packet), and with a wire capture copying every frame. The peer is
 * the same path with tracing off, in the same run, the modes taking
 * turns.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "stack/stack.h"

enum mode { M_OFF, M_BACKGROUND, M_EVERY, M_CAPTURE, M__MAX };

static const char *const mode_names[M__MAX] = {
	"off",
	"sample-1-in-1024",
	"sample-every",
	"capture-wire",
};

static void drop_all(void *ctx, struct wp_napi *napi, struct wp_skb_queue *q)
{
	uint64_t *packets = ctx;
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(q))) {
		(*packets)++;
		wp_consume_skb(skb);
	}
}

static int discard(void *ctx, const struct wp_trace_frame *f)
{
	(void)ctx;
	(void)f;
	return 0;
}

/* 60 bytes: Ethernet + IPv4 + UDP to the stack's default address. */
static void make_frame(uint8_t *f)
{
	static const uint8_t hdr[42] = {
		0x02, 0,    0,	  0,	0,  0x02, 0x02, 0, 0,  0,    0,
		0x01, 0x08, 0x00, 0x45, 0,  0,	  46,	0, 0,  0x40, 0,
		64,   17,   0x25, 0xbd, 10, 0,	  1,	1, 10, 0,    0,
		2,    0x30, 0x39, 0,	9,  0,	  26,	0, 0,
	};

	memset(f, 0, 60);
	memcpy(f, hdr, sizeof(hdr));
}

static int run(enum mode m, double seconds, double *ns_per_pkt,
	       uint64_t *sampled)
{
	struct wp_trace_filter f = { .every = 0 };
	struct wp_trace_stats st;
	struct wp_stack_config cfg;
	struct wp_stack *s;
	uint64_t packets = 0, cyc = 0, t_end;
	uint8_t frame[60];
	char err[256];

	wp_stack_config_default(&cfg);
	cfg.virtual_time = true;
	cfg.busy_poll = true;
	cfg.rx_ring = 1024;
	s = wp_stack_create(&cfg, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "bench trace: %s\n", err);
		return -1;
	}
	s->rx_handler = drop_all;
	s->rx_ctx = &packets;
	if (m == M_BACKGROUND)
		f.every = WP_STACK_TRACE_EVERY;
	else if (m == M_EVERY)
		f.every = 1;
	wp_trace_set_filter(s->trace, &f);
	if (m == M_CAPTURE && wp_trace_capture_start(s->trace, WP_TAP_WIRE, 0))
		goto out_destroy;
	make_frame(frame);

	t_end = wp_time_real_ns() + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t_end) {
		for (int round = 0; round < 64; round++) {
			uint64_t now = wp_clock_now(&s->clock), c0;

			for (uint32_t i = 0; i < 256; i++) {
				uint32_t room;
				void *buf = wp_nic_rx_slot(s->nic, 0, &room);

				if (!buf)
					break;
				memcpy(buf, frame, sizeof(frame));
				wp_nic_rx_commit(s->nic, 0, sizeof(frame),
						 0x5a5a5a5a, 0, now);
			}
			wp_clock_advance(&s->clock, 1000);
			c0 = wp_bench_cycles();
			while (wp_cpu_run_once(&s->cpu[0]))
				;
			cyc += wp_bench_cycles() - c0;
			/* The control thread's share, not timed: it keeps
			 * the ring from filling, as wirepath capture does. */
			if (m == M_CAPTURE)
				wp_trace_capture_drain(s->trace, discard, NULL);
		}
	}
	wp_trace_get_stats(s->trace, &st);
	*sampled = st.sampled;
	*ns_per_pkt = (double)cyc / wp_bench_cycles_per_sec() * 1e9 /
		      (double)(packets ? packets : 1);
	wp_trace_capture_stop(s->trace);
	wp_stack_destroy(s);
	return 0;

out_destroy:
	wp_stack_destroy(s);
	return -1;
}

/*
 * The modes take turns, REPS slices each, and each reports its fastest
 * slice: on a shared machine, load that comes and goes then hits every
 * mode alike instead of whichever ran when it came.
 */
#define REPS 5

static int bench_trace(const struct wp_bench_opts *opts)
{
	double seconds = opts->seconds > 0 ? opts->seconds : 1.0;
	double best[M__MAX];
	uint64_t sampled[M__MAX] = { 0 };

	for (int m = 0; m < M__MAX; m++)
		best[m] = 1e300;
	for (int rep = 0; rep < REPS; rep++) {
		for (int m = 0; m < M__MAX; m++) {
			double ns;
			uint64_t n;

			if (run((enum mode)m, seconds / REPS, &ns, &n))
				return 1;
			if (ns < best[m])
				best[m] = ns;
			sampled[m] += n;
		}
	}
	for (int m = 0; m < M__MAX; m++) {
		const struct wp_bench_field f[] = {
			{ .key = "mode", .str = mode_names[m] },
			{ .key = "frame", .value = 64, .unit = "B" },
			{ .key = "driver_ns_per_pkt",
			  .value = best[m],
			  .unit = "ns" },
			{ .key = "off_ns_per_pkt",
			  .value = best[M_OFF],
			  .unit = "ns" },
			{ .key = "cost_ns_per_pkt",
			  .value = best[m] - best[M_OFF],
			  .unit = "ns" },
			{ .key = "sampled", .value = (double)sampled[m] },
			{ 0 },
		};
		wp_bench_report(opts, "trace", f);
	}
	return 0;
}

WP_BENCH_REGISTER(bench_trace, "trace",
		  "cost of tracing on the receive path: off, 1 in 1024, "
		  "every packet, wire capture")
