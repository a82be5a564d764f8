// SPDX-License-Identifier: MIT
/*
 * The pcap backend on a NIC model: input frames arrive at their recorded
 * times on the virtual clock, transmitted frames land in the output file
 * at the virtual time they left, done() waits for the linger and for TX,
 * and every bad file or path is refused at open with nothing attached.
 */
#include "test_core_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/cpu.h"
#include "core/sysctl.h"
#include "irq/irq.h"
#include "napi/napi.h"
#include "nic/backend/backend.h"
#include "nic/backend/pcapfile.h"
#include "nic/nic.h"
#include "skb/pool.h"

#define MAX_SEEN 20000

struct seen {
	uint64_t tstamp;
	uint32_t len;
	uint8_t tag;
};

struct rig {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu;
	struct wp_cpu *cpus[1];
	struct wp_nic *nic;
	struct wp_backend be;
	struct seen *seen;
	uint32_t nseen;
	char in[128], out[128];
};

static void rig_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *skbs)
{
	struct rig *r = ctx;
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(skbs))) {
		if (r->nseen < MAX_SEEN) {
			r->seen[r->nseen].tstamp = skb->tstamp;
			r->seen[r->nseen].len = skb->len;
			r->seen[r->nseen].tag = skb->data[20];
		}
		r->nseen++;
		wp_consume_skb(skb);
	}
}

static void rig_init(struct rig *r, uint64_t start)
{
	struct wp_nic_config nc;

	memset(r, 0, sizeof(*r));
	r->seen = calloc(MAX_SEEN, sizeof(*r->seen));
	assert_non_null(r->seen);
	wp_clock_init_virtual(&r->clock, start);
	wp_sysctl_init(&r->sysctl);
	r->cpus[0] = &r->cpu;
	wp_cpu_init(&r->cpu, 0, &r->clock, &r->sysctl, &r->irqs);
	wp_irq_table_init(&r->irqs, r->cpus, 1);
	wp_nic_config_default(&nc);
	nc.nqueues = 1;
	nc.coalesce.rx_usecs = 0; /* an interrupt per frame */
	nc.coalesce.rx_frames = 1;
	nc.coalesce.adaptive_rx = false;
	r->nic = wp_nic_create(&nc, &r->clock, &r->irqs, r->cpus, 1, rig_rx, r);
	assert_non_null(r->nic);
	snprintf(r->in, sizeof(r->in), "/tmp/wp_test_pcap_%d_in.pcap",
		 (int)getpid());
	snprintf(r->out, sizeof(r->out), "/tmp/wp_test_pcap_%d_out.pcap",
		 (int)getpid());
}

static void rig_fini(struct rig *r)
{
	wp_backend_close(&r->be);
	assert_null(r->nic->backend);
	wp_nic_down(r->nic);
	for (uint16_t q = 0; q < r->nic->cfg.nqueues; q++)
		assert_true(wp_pool_is_whole(r->nic->rxq[q].pool));
	wp_nic_destroy(r->nic);
	wp_cpu_destroy(&r->cpu);
	free(r->seen);
	unlink(r->in);
	unlink(r->out);
}

static int rig_open(struct rig *r, const char *in, const char *out,
		    uint64_t linger)
{
	struct wp_backend_config cfg;
	int ret;

	wp_backend_config_default(&cfg);
	cfg.pcap_in = in;
	cfg.pcap_out = out;
	cfg.linger_ns = linger;
	ret = wp_backend_open(&r->be, wp_backend_find("pcap"), r->nic,
			      &r->clock, &cfg);
	if (ret) {
		assert_null(r->nic->backend);
		assert_null(r->be.ops);
	}
	return ret;
}

static bool rig_run_cpu(struct rig *r)
{
	bool any = false;

	while (wp_cpu_run_once(&r->cpu))
		any = true;
	return any;
}

/* One step of the stack's virtual loop at the current time. */
static uint64_t rig_step(struct rig *r)
{
	uint64_t now = wp_clock_now(&r->clock), next;

	do
		next = r->be.ops->step(&r->be, now);
	while (rig_run_cpu(r));
	assert_true(next > now);
	return next;
}

static void rig_run_until(struct rig *r, uint64_t t_end)
{
	for (;;) {
		uint64_t now = wp_clock_now(&r->clock);
		uint64_t next = rig_step(r);

		if (now >= t_end)
			return;
		wp_clock_set(&r->clock, next < t_end ? next : t_end);
	}
}

/* A frame whose byte 20 says which it is (the rest is filler). */
static void frame_of(uint8_t *f, uint32_t len, uint8_t tag)
{
	memset(f, 0, len);
	memset(f, 0xff, 6); /* broadcast */
	f[6] = 2;
	f[12] = 0x88; /* a local experimental EtherType */
	f[13] = 0xb5;
	if (len > 20)
		f[20] = tag;
}

static void write_input(const char *path, const uint64_t *ts,
			const uint32_t *lens, const uint32_t *wire_lens,
			size_t n)
{
	struct wp_pcap_writer w;
	uint8_t f[1514];

	assert_int_equal(wp_pcap_writer_open(&w, path), 0);
	for (size_t i = 0; i < n; i++) {
		frame_of(f, lens[i], (uint8_t)i);
		assert_int_equal(wp_pcap_write(&w, ts[i], f, lens[i]), 0);
		if (wire_lens && wire_lens[i] != lens[i]) {
			/* patch the record's len: a snapped capture */
			assert_int_equal(fflush(w.f), 0);
			assert_int_equal(
				fseek(w.f, -(long)lens[i] - 4, SEEK_CUR), 0);
			uint8_t le[4] = { (uint8_t)wire_lens[i],
					  (uint8_t)(wire_lens[i] >> 8), 0, 0 };
			assert_int_equal(fwrite(le, 1, 4, w.f), 4);
			assert_int_equal(fseek(w.f, 0, SEEK_END), 0);
		}
	}
	assert_int_equal(wp_pcap_writer_close(&w), 0);
}

static struct wp_skb *tx_frame(struct wp_nic *nic, uint32_t len, uint8_t tag)
{
	struct wp_skb *skb = wp_alloc_skb(nic->rxq[0].pool, len);

	assert_non_null(skb);
	frame_of(wp_skb_put(skb, len), len, tag);
	return skb;
}

/* --- tests --------------------------------------------------------------- */

static void open_refuses_bad_files(void **state)
{
	static const uint64_t ts[] = { 1, 2 };
	static const uint32_t lens[] = { 60, 60 };
	struct wp_pcap_reader rd;
	struct wp_pcap_record rec;
	struct rig r;
	FILE *f;

	rig_init(&r, 0);
	assert_int_equal(rig_open(&r, NULL, NULL, 0), -EINVAL);
	assert_int_equal(rig_open(&r, "/nonexistent/in.pcap", NULL, 0),
			 -ENOENT);

	/* corrupt after a good record: refused before anything runs */
	write_input(r.in, ts, lens, NULL, 2);
	f = fopen(r.in, "ab");
	assert_non_null(f);
	fwrite("\0\0\0\0\0\0\0\0\xff\xff\0\0\xff\xff\0\0", 1, 16, f);
	fclose(f);
	assert_int_equal(rig_open(&r, r.in, NULL, 0), -EINVAL);
	/* not a pcap at all */
	f = fopen(r.in, "wb");
	assert_non_null(f);
	fputs("GET / HTTP/1.1\r\nHost: x\r\n\r\n", f);
	fclose(f);
	assert_int_equal(rig_open(&r, r.in, NULL, 0), -EINVAL);

	write_input(r.in, ts, lens, NULL, 2);
	assert_int_equal(rig_open(&r, r.in, "/nonexistent/out.pcap", 0),
			 -ENOENT);
	/* the output must not overwrite the input, by any name */
	assert_int_equal(rig_open(&r, r.in, r.in, 0), -EINVAL);
	assert_int_equal(symlink(r.in, r.out), 0);
	assert_int_equal(rig_open(&r, r.in, r.out, 0), -EINVAL);
	unlink(r.out);
	assert_int_equal(wp_pcap_reader_open(&rd, r.in), 0);
	assert_int_equal(wp_pcap_read(&rd, &rec), 1);
	assert_int_equal(wp_pcap_read(&rd, &rec), 1);
	wp_pcap_reader_close(&rd);

	/* a good pair opens; real time is not offered */
	assert_int_equal(rig_open(&r, r.in, r.out, 0), 0);
	assert_int_equal(r.be.ops->start(&r.be), -ENOTSUP);
	rig_fini(&r);
}

static void frames_arrive_at_their_recorded_times(void **state)
{
	const uint64_t t0 = 1700000000ull * WP_NSEC_PER_SEC;
	/* +100 us, same instant, 50 us back in time (after its
	 * predecessor, then), +1 ms */
	const uint64_t ts[] = { t0, t0 + 100000, t0 + 100000, t0 + 50000,
				t0 + 1100000 };
	static const uint32_t lens[] = { 60, 1514, 64, 60, 100 };
	static const uint32_t wire[] = { 60, 1514, 64, 60, 1000 };
	const uint64_t start = 777;
	const uint64_t want[] = { start, start + 100000, start + 100000,
				  start + 100000, start + 1100000 };
	struct wp_nic_stats st;
	struct rig r;

	rig_init(&r, start);
	write_input(r.in, ts, lens, wire, 5);
	assert_int_equal(rig_open(&r, r.in, NULL, WP_NSEC_PER_MSEC), 0);

	/* Each step returns exactly when the next frame is due. */
	assert_int_equal(rig_step(&r), want[1]);
	assert_int_equal(r.be.frames_in, 1);
	wp_clock_set(&r.clock, want[1] - 1);
	assert_int_equal(rig_step(&r), want[1]);
	assert_int_equal(r.be.frames_in, 1);
	wp_clock_set(&r.clock, want[1]);
	assert_int_equal(rig_step(&r), want[4]);
	assert_int_equal(r.be.frames_in, 4);
	wp_clock_set(&r.clock, want[4]);
	/* input done: the next wake-up is the end of the linger */
	assert_int_equal(rig_step(&r), want[4] + WP_NSEC_PER_MSEC);
	assert_int_equal(r.be.frames_in, 5);

	assert_int_equal(r.nseen, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r.seen[i].tstamp, want[i]);
		assert_int_equal(r.seen[i].len, lens[i]); /* captured bytes */
		assert_int_equal(r.seen[i].tag, i);
	}
	wp_nic_get_stats(r.nic, &st);
	assert_int_equal(st.rx_packets, 5);

	/* done only once the linger has passed */
	assert_false(r.be.ops->done(&r.be));
	wp_clock_set(&r.clock, want[4] + WP_NSEC_PER_MSEC - 1);
	assert_false(r.be.ops->done(&r.be));
	wp_clock_set(&r.clock, want[4] + WP_NSEC_PER_MSEC);
	assert_true(r.be.ops->done(&r.be));
	assert_int_equal(r.be.ops->step(&r.be, want[4] + WP_NSEC_PER_MSEC),
			 WP_TIME_NEVER);
	rig_fini(&r);
}

static void transmitted_frames_go_to_the_output(void **state)
{
	static const uint64_t ts[] = { 1000, 2000 };
	static const uint32_t lens[] = { 60, 60 };
	struct wp_pcap_reader rd;
	struct wp_pcap_record rec;
	struct rig r;

	rig_init(&r, 0);
	write_input(r.in, ts, lens, NULL, 2);
	assert_int_equal(rig_open(&r, r.in, r.out, 10000), 0);
	rig_run_until(&r, 5000);

	/* sent at 5000 and 7000 of virtual time */
	assert_int_equal(
		wp_nic_xmit(r.nic, 0, tx_frame(r.nic, 60, 0xa1), false), 0);
	assert_int_equal(
		wp_nic_xmit(r.nic, 0, tx_frame(r.nic, 1514, 0xa2), false), 0);
	rig_run_until(&r, 7000);
	assert_int_equal(
		wp_nic_xmit(r.nic, 0, tx_frame(r.nic, 64, 0xa3), false), 0);
	/* past the linger, but a frame is waiting to be sent */
	wp_clock_set(&r.clock, 20000);
	assert_false(r.be.ops->done(&r.be));
	rig_run_until(&r, 20000);
	assert_true(r.be.ops->done(&r.be));
	assert_int_equal(r.be.frames_out, 3);
	assert_int_equal(r.nic->txq[0].stats.cleaned, 3);
	wp_backend_close(&r.be); /* flushes the output */

	assert_int_equal(wp_pcap_reader_open(&rd, r.out), 0);
	assert_int_equal(wp_pcap_read(&rd, &rec), 1);
	assert_int_equal(rec.ts_ns, 5000);
	assert_int_equal(rec.len, 60);
	assert_int_equal(rec.data[20], 0xa1);
	assert_int_equal(wp_pcap_read(&rd, &rec), 1);
	assert_int_equal(rec.ts_ns, 5000);
	assert_int_equal(rec.len, 1514);
	assert_int_equal(rec.data[20], 0xa2);
	assert_int_equal(wp_pcap_read(&rd, &rec), 1);
	assert_int_equal(rec.ts_ns, 20000);
	assert_int_equal(rec.len, 64);
	assert_int_equal(rec.data[20], 0xa3);
	assert_int_equal(wp_pcap_read(&rd, &rec), 0);
	wp_pcap_reader_close(&rd);
	rig_fini(&r);
}

static void empty_input_lingers_then_is_done(void **state)
{
	struct rig r;

	rig_init(&r, 100);
	write_input(r.in, NULL, NULL, NULL, 0);
	assert_int_equal(rig_open(&r, r.in, NULL, 5000), 0);
	assert_false(r.be.ops->done(&r.be));
	assert_int_equal(rig_step(&r), 5100);
	rig_run_until(&r, 5100);
	assert_true(r.be.ops->done(&r.be));
	assert_int_equal(r.be.frames_in, 0);
	rig_fini(&r);
}

/* Without --pcap-out, and with an output that fails, frames still leave
 * the ring and their buffers come back. */
static void output_absent_or_failing(void **state)
{
	static const uint64_t ts[] = { 1 };
	static const uint32_t lens[] = { 60 };
	struct rig r;

	rig_init(&r, 0);
	write_input(r.in, ts, lens, NULL, 1);
	assert_int_equal(rig_open(&r, r.in, NULL, 0), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(
			wp_nic_xmit(r.nic, 0, tx_frame(r.nic, 60, 1), false),
			0);
	rig_run_until(&r, 10);
	assert_int_equal(r.be.frames_out, 10);
	wp_backend_close(&r.be);

	if (access("/dev/full", W_OK) == 0) {
		assert_int_equal(rig_open(&r, r.in, "/dev/full", 0), 0);
		for (int i = 0; i < 200; i++) {
			assert_int_equal(wp_nic_xmit(r.nic, 0,
						     tx_frame(r.nic, 1514, 1),
						     false),
					 0);
			rig_run_until(&r, wp_clock_now(&r.clock) + 1);
		}
		assert_int_equal(r.be.frames_out, 200);
		assert_int_equal(r.nic->txq[0].stats.cleaned, 210);
	}
	rig_fini(&r);
}

/* Many frames at random gaps: all delivered, in order, on time. */
static void long_capture_replays_exactly(void **state)
{
	const uint32_t n = 10000;
	uint64_t *ts = calloc(n, sizeof(*ts));
	uint32_t *lens = calloc(n, sizeof(*lens));
	uint64_t s = 7, t = 42 * WP_NSEC_PER_SEC;
	struct wp_nic_stats st;
	struct rig r;

	assert_non_null(ts);
	assert_non_null(lens);
	for (uint32_t i = 0; i < n; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		t += 1000 + (s >> 33) % 100000;
		ts[i] = t;
		lens[i] = 60 + (uint32_t)((s >> 20) % 1455);
	}
	rig_init(&r, 0);
	write_input(r.in, ts, lens, NULL, n);
	assert_int_equal(rig_open(&r, r.in, NULL, WP_NSEC_PER_SEC), 0);
	rig_run_until(&r, ts[n - 1] - ts[0] + 2 * WP_NSEC_PER_SEC);
	assert_true(r.be.ops->done(&r.be));
	assert_int_equal(r.be.frames_in, n);
	assert_int_equal(r.nseen, n);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(r.seen[i].tstamp, ts[i] - ts[0]);
		assert_int_equal(r.seen[i].len, lens[i]);
		assert_int_equal(r.seen[i].tag, (uint8_t)i);
	}
	wp_nic_get_stats(r.nic, &st);
	assert_int_equal(st.rx_packets, n);
	assert_int_equal(st.rx_missed_errors, 0);
	rig_fini(&r);
	free(ts);
	free(lens);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_refuses_bad_files),
		cmocka_unit_test(frames_arrive_at_their_recorded_times),
		cmocka_unit_test(transmitted_frames_go_to_the_output),
		cmocka_unit_test(empty_input_lingers_then_is_done),
		cmocka_unit_test(output_absent_or_failing),
		cmocka_unit_test(long_capture_replays_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
