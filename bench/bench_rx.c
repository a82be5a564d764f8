// SPDX-License-Identifier: MIT
/*
 * bench rx: the raw receive path of the device half, one queue, one core,
 * 64-byte frames: DD descriptor -> skb (build_skb, no copy) -> refill ->
 * handed up -> dropped. The kernel's fastest path of the same shape is
 * XDP_DROP; the peer figure is 10GbE line rate for minimum frames
 * (14.88 Mpps, 67.2 ns per frame).
 *
 * The firmware's share (writing frames into descriptor buffers: the DMA,
 * which a real NIC does without the CPU) is timed apart from the driver's,
 * and both are reported. Two modes: busy polling (the polling-driven
 * model, no interrupts) and interrupt-driven NAPI (IRQ -> softirq -> poll
 * with budget, re-arm).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "stack/stack.h"

#define LINE_RATE_NS 67.2 /* 10GbE, 64-byte frames incl. preamble and IFG */

struct rx_count {
	uint64_t packets;
};

static void drop_all(void *ctx, struct wp_napi *napi, struct wp_skb_queue *q)
{
	struct rx_count *c = ctx;
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(q))) {
		c->packets++;
		wp_kfree_skb_reason(skb, WP_DROP_NOT_SPECIFIED);
	}
}

/* 60 bytes: Ethernet + IPv4 + UDP, to the stack's default address. */
static void make_frame(uint8_t *f)
{
	static const uint8_t hdr[42] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 1, 1,
		10, 0, 0, 2, 0x30, 0x39, 0, 9, 0, 26, 0, 0,
	};

	memset(f, 0, 60);
	memcpy(f, hdr, sizeof(hdr));
}

struct run_result {
	double drv_ns, fw_ns;
	uint64_t packets, missed;
};

static int run(bool busy_poll, double seconds, struct run_result *res)
{
	struct wp_stack_config cfg;
	struct rx_count count = { 0 };
	struct wp_nic_stats st;
	struct wp_stack *s;
	uint8_t frame[60];
	char err[256];
	uint64_t fw_cyc = 0, drv_cyc = 0, t_end;
	const uint32_t batch = 256;

	wp_stack_config_default(&cfg);
	cfg.virtual_time = true;
	cfg.busy_poll = busy_poll;
	cfg.rx_ring = 1024;
	cfg.rx_usecs = 0;  /* interrupt mode: fire on the first frame */
	cfg.rx_frames = 1;
	s = wp_stack_create(&cfg, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "bench rx: %s\n", err);
		return -1;
	}
	s->rx_handler = drop_all;
	s->rx_ctx = &count;
	make_frame(frame);

	t_end = wp_time_real_ns() + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t_end) {
		for (int round = 0; round < 64; round++) {
			uint64_t c0 = wp_bench_cycles(), c1, c2;
			uint64_t now = wp_clock_now(&s->clock);

			/* The firmware: frames into NIC-owned buffers, DD set. */
			for (uint32_t i = 0; i < batch; i++) {
				uint32_t room;
				void *buf = wp_nic_rx_slot(s->nic, 0, &room);

				if (!buf) {
					wp_nic_rx_missed(s->nic, 0);
					continue;
				}
				memcpy(buf, frame, sizeof(frame));
				wp_nic_rx_commit(s->nic, 0, sizeof(frame),
						 0x5a5a5a5a, 0, now);
			}
			c1 = wp_bench_cycles();
			/* The driver: IRQ (or busy poll) -> NAPI -> drop. */
			while (wp_cpu_run_once(&s->cpu[0]))
				;
			c2 = wp_bench_cycles();
			fw_cyc += c1 - c0;
			drv_cyc += c2 - c1;
			wp_clock_advance(&s->clock, 1000);
		}
	}
	wp_nic_get_stats(s->nic, &st);
	res->packets = count.packets;
	res->missed = st.rx_missed_errors;
	res->drv_ns = (double)drv_cyc / wp_bench_cycles_per_sec() * 1e9 /
		      (double)(count.packets ? count.packets : 1);
	res->fw_ns = (double)fw_cyc / wp_bench_cycles_per_sec() * 1e9 /
		     (double)(count.packets ? count.packets : 1);
	wp_stack_destroy(s);
	return 0;
}

static int bench_rx(const struct wp_bench_opts *opts)
{
	double seconds = opts->seconds > 0 ? opts->seconds : 1.0;
	static const struct {
		const char *mode;
		bool busy;
	} modes[] = { { "busy-poll", true }, { "napi-irq", false } };

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct run_result r;

		if (run(modes[m].busy, seconds, &r))
			return 1;
		const struct wp_bench_field f[] = {
			{ .key = "mode", .str = modes[m].mode },
			{ .key = "frame", .value = 64, .unit = "B" },
			{ .key = "driver_ns_per_pkt", .value = r.drv_ns, .unit = "ns" },
			{ .key = "driver_mpps", .value = 1e3 / r.drv_ns, .unit = "Mpps" },
			{ .key = "with_firmware_ns_per_pkt",
			  .value = r.drv_ns + r.fw_ns, .unit = "ns" },
			{ .key = "line_rate_ns", .value = LINE_RATE_NS, .unit = "ns" },
			{ .key = "x_line_rate", .value = LINE_RATE_NS / r.drv_ns,
			  .unit = "x" },
			{ .key = "packets", .value = (double)r.packets },
			{ .key = "missed", .value = (double)r.missed },
			{ 0 },
		};
		wp_bench_report(opts, "rx", f);
	}
	return 0;
}

WP_BENCH_REGISTER(bench_rx, "rx",
		  "device half: DD descriptor -> skb -> drop, 64B, one core")
