// SPDX-License-Identifier: MIT
/*
 * TCP end to end on the pair backend, on virtual time: the handshake,
 * orderly release through TIME_WAIT, byte-exact transfers of megabytes
 * both ways on a clean wire and under loss, duplication, reordering,
 * corruption and delay, the same seed giving the same run, a reader
 * that stops reading (backpressure to a zero window, reopened by reads),
 * and the receiver's GRO on and off.
 */
#include "test_tcp_common.h"

#include <inttypes.h>

static void short_times(struct tpair *t)
{
	tsysctl(t, "net.ipv4.tcp_msl_ms", "100");
}

/* Run until the stream is done both ways or `limit` of virtual time. */
static void pump_until_done(struct tpair *t, struct tstream *st, int n,
			    uint64_t limit, uint64_t step)
{
	uint64_t end = tnow(t) + limit;

	for (;;) {
		bool done = true;

		for (int i = 0; i < n; i++) {
			tstream_pump(&st[i], true);
			if (st[i].rcvd < st[i].total)
				done = false;
		}
		if (done || tnow(t) >= end)
			break;
		trun(t, step);
	}
}

static void handshake_data_and_orderly_close(void **state)
{
	struct wp_tcp_sock *c, *s;
	struct wp_net_mib ma, mb;
	struct wp_tcp_info info;
	struct tpair t;
	char buf[64];

	(void)state;
	tpair_up(&t, NULL);
	short_times(&t);
	tconnect(&t, 80, &c, &s, NULL);
	tmib(t.a, &ma);
	tmib(t.b, &mb);
	assert_int_equal(ma.TcpActiveOpens, 1);
	assert_int_equal(mb.TcpPassiveOpens, 1);
	assert_int_equal(ma.TcpCurrEstab, 1);
	assert_int_equal(mb.TcpCurrEstab, 1);

	/* Options were agreed on: window scaling, SACK, timestamps. */
	wp_tcp_get_info(c, &info);
	assert_int_equal(info.options, WP_TCPI_OPT_TIMESTAMPS |
					       WP_TCPI_OPT_SACK |
					       WP_TCPI_OPT_WSCALE);
	assert_int_equal(info.snd_mss, 1500 - 40 - 12);
	assert_string_equal(info.ca_name, "cubic");

	assert_int_equal(wp_tcp_sendmsg(c, "hello", 5), 5);
	assert_int_equal(wp_tcp_recvmsg(s, buf, sizeof(buf), 0), -EAGAIN);
	trun(&t, WP_NSEC_PER_MSEC);
	assert_true(wp_tcp_poll(&s->sk) & WP_EPOLLIN);
	assert_int_equal(wp_tcp_recvmsg(s, buf, sizeof(buf), WP_MSG_PEEK), 5);
	assert_int_equal(wp_tcp_recvmsg(s, buf, 2, 0), 2);
	assert_memory_equal(buf, "he", 2);
	assert_int_equal(wp_tcp_recvmsg(s, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "llo", 3);
	assert_false(wp_tcp_poll(&s->sk) & WP_EPOLLIN);

	/* The client shuts its side first: half-close. */
	assert_int_equal(wp_tcp_shutdown(c, WP_SHUT_WR), 0);
	assert_int_equal(wp_tcp_sendmsg(c, "x", 1), -EPIPE);
	trun(&t, WP_NSEC_PER_MSEC);
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_FIN_WAIT2);
	assert_int_equal(wp_sk_state(&s->sk), WP_TCP_CLOSE_WAIT);
	assert_true(wp_tcp_poll(&s->sk) & WP_EPOLLRDHUP);
	assert_int_equal(wp_tcp_recvmsg(s, buf, sizeof(buf), 0), 0);
	/* Half-closed: the server may still send, the client read. */
	assert_int_equal(wp_tcp_sendmsg(s, "bye", 3), 3);
	trun(&t, WP_NSEC_PER_MSEC);
	assert_int_equal(wp_tcp_recvmsg(c, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "bye", 3);
	tclose(s);
	trun(&t, WP_NSEC_PER_MSEC);
	/* The client, having sent the first FIN, waits 2 MSL. */
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_TIME_WAIT);
	assert_int_equal(wp_tcp_recvmsg(c, buf, sizeof(buf), 0), 0);
	tclose(c);
	trun(&t, 150 * WP_NSEC_PER_MSEC);
	assert_int_equal(tcp_alive(t.a), 1); /* 2 MSL = 200 ms */
	trun(&t, 100 * WP_NSEC_PER_MSEC);
	tmib(t.a, &ma);
	tmib(t.b, &mb);
	assert_int_equal(ma.TW, 1);
	assert_int_equal(ma.TcpCurrEstab, 0);
	assert_int_equal(mb.TcpCurrEstab, 0);
	assert_int_equal(ma.TcpOutRsts + mb.TcpOutRsts, 0);
	assert_int_equal(ma.TcpRetransSegs + mb.TcpRetransSegs, 0);
	tpair_down(&t);
}

static void bulk(const struct wp_pair_impairments *imp, uint64_t bytes,
		 const char *cc, struct wp_net_mib *out_a, uint64_t *out_t)
{
	struct wp_tcp_sock *c, *s;
	struct tstream st[2];
	struct tpair t;

	tpair_up(&t, imp);
	short_times(&t);
	tsysctl(&t, "net.ipv4.tcp_wmem", "4096 262144 4194304");
	if (cc) {
		/* Listener and client both take the algorithm. */
		t.a->net->tcp->cc_default = wp__tcp_cc_find(cc);
		t.b->net->tcp->cc_default = wp__tcp_cc_find(cc);
	}
	tconnect(&t, 5001, &c, &s, NULL);
	tstream_init(&st[0], c, s, bytes, 11);
	tstream_init(&st[1], s, c, bytes, 22);
	pump_until_done(&t, st, 2, 600 * WP_NSEC_PER_SEC, WP_NSEC_PER_MSEC);
	for (int i = 0; i < 2; i++)
		tstream_check(&st[i]);
	/* Both FINs arrived: end of stream on both sides. */
	trun(&t, 2 * WP_NSEC_PER_SEC);
	{
		char b[4];

		assert_int_equal(wp_tcp_recvmsg(c, b, sizeof(b), 0), 0);
		assert_int_equal(wp_tcp_recvmsg(s, b, sizeof(b), 0), 0);
	}
	tclose(c);
	tclose(s);
	trun(&t, 60 * WP_NSEC_PER_SEC);
	if (out_a)
		tmib(t.a, out_a);
	if (out_t)
		*out_t = tnow(&t);
	tpair_down(&t);
}

/* A clean 10 Gbit/s wire (an unpaced one delivers a whole window in one
 * instant, more than the receiver's RX ring holds). */
static void megabytes_both_ways_clean_wire(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_net_mib m;

	(void)state;
	wp_pair_impairments_default(&imp);
	imp.a_to_b.rate_bps = 10000000000ull;
	imp.a_to_b.limit = 8192;
	imp.b_to_a = imp.a_to_b;
	bulk(&imp, 4u << 20, NULL, &m, NULL);
	assert_int_equal(m.TcpRetransSegs, 0);
	assert_true(m.TCPHPHits > 0);
}

static void megabytes_under_loss(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_net_mib m;

	(void)state;
	wp_pair_impairments_default(&imp);
	imp.seed = 7;
	imp.a_to_b.loss_pct = 3;
	imp.b_to_a.loss_pct = 3;
	imp.a_to_b.delay_ns = 5 * WP_NSEC_PER_MSEC;
	imp.b_to_a.delay_ns = 5 * WP_NSEC_PER_MSEC;
	imp.a_to_b.rate_bps = 100000000;
	imp.b_to_a.rate_bps = 100000000;
	bulk(&imp, 2u << 20, NULL, &m, NULL);
	assert_true(m.TcpRetransSegs > 0);
}

static void megabytes_under_every_impairment(void **state)
{
	struct wp_pair_impairments imp;

	(void)state;
	wp_pair_impairments_default(&imp);
	imp.seed = 99;
	imp.a_to_b.loss_pct = 2;
	imp.a_to_b.duplicate_pct = 2;
	imp.a_to_b.reorder_pct = 5;
	imp.a_to_b.corrupt_pct = 1;
	imp.a_to_b.delay_ns = 2 * WP_NSEC_PER_MSEC;
	imp.a_to_b.jitter_ns = WP_NSEC_PER_MSEC;
	imp.b_to_a = imp.a_to_b;
	imp.a_to_b.rate_bps = 50000000;
	imp.b_to_a.rate_bps = 50000000;
	bulk(&imp, 1u << 20, "reno", NULL, NULL);
}

static void heavy_loss_ten_percent(void **state)
{
	struct wp_pair_impairments imp;

	(void)state;
	wp_pair_impairments_default(&imp);
	imp.seed = 3;
	imp.a_to_b.loss_pct = 10;
	imp.b_to_a.loss_pct = 10;
	imp.a_to_b.delay_ns = WP_NSEC_PER_MSEC;
	imp.b_to_a.delay_ns = WP_NSEC_PER_MSEC;
	bulk(&imp, 256u << 10, NULL, NULL, NULL);
}

static void same_seed_same_run(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_net_mib m1, m2;
	uint64_t t1, t2;

	(void)state;
	wp_pair_impairments_default(&imp);
	imp.seed = 1234;
	imp.a_to_b.loss_pct = 2;
	imp.b_to_a.reorder_pct = 3;
	imp.a_to_b.delay_ns = WP_NSEC_PER_MSEC;
	imp.b_to_a.delay_ns = WP_NSEC_PER_MSEC;
	bulk(&imp, 512u << 10, NULL, &m1, &t1);
	bulk(&imp, 512u << 10, NULL, &m2, &t2);
	assert_int_equal(t1, t2);
	assert_memory_equal(&m1, &m2, sizeof(m1));
}

/*
 * One direction over a 50 ms, 1 Gbit/s path, the reader reading all it
 * can: returns the virtual time it took and the receiver's final
 * sk_rcvbuf. moderate: net.ipv4.tcp_moderate_rcvbuf; lock: the reader
 * set SO_RCVBUF itself (its size then stays).
 */
struct path_run {
	bool moderate, lock_rcv, lock_snd;
	const char *wmem;
	int rcvbuf, sndbuf; /* at the end */
};

static uint64_t long_path(struct path_run *r)
{
	struct wp_pair_impairments imp;
	struct wp_tcp_sock *c, *s;
	struct tstream st;
	struct tpair t;
	uint64_t t0;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.delay_ns = 25 * WP_NSEC_PER_MSEC;
	imp.a_to_b.rate_bps = 1000000000;
	imp.a_to_b.limit = 8192;
	imp.b_to_a = imp.a_to_b;
	tpair_up(&t, &imp);
	short_times(&t);
	tsysctl(&t, "net.ipv4.tcp_wmem", r->wmem);
	tsysctl(&t, "net.ipv4.tcp_moderate_rcvbuf", r->moderate ? "1" : "0");
	tconnect(&t, 5002, &c, &s, NULL);
	if (r->lock_rcv)
		assert_int_equal(wp_tcp_set_rcvbuf(s, 65536), 0);
	if (r->lock_snd)
		assert_int_equal(wp_tcp_set_sndbuf(c, 32768), 0);
	tstream_init(&st, c, s, 16u << 20, 5);
	t0 = tnow(&t);
	pump_until_done(&t, &st, 1, 600 * WP_NSEC_PER_SEC, WP_NSEC_PER_MSEC);
	tstream_check(&st);
	t0 = tnow(&t) - t0;
	r->rcvbuf = atomic_load(&s->sk.sk_rcvbuf);
	r->sndbuf = atomic_load(&c->sk.sk_sndbuf);
	tclose(c);
	tclose(s);
	trun(&t, 5 * WP_NSEC_PER_SEC);
	tpair_down(&t);
	return t0;
}

/*
 * Receive-buffer auto-tuning: a reader that keeps up on a long path gets
 * a buffer (and so a window) that grows toward tcp_rmem[2], and the
 * transfer is that much faster; without it, or with SO_RCVBUF set, the
 * buffer stays where it was.
 */
static void receive_buffer_autotuning(void **state)
{
	const char *big = "4096 4194304 4194304";
	struct path_run tuned = { .moderate = true, .wmem = big };
	struct path_run fixed = { .moderate = false, .wmem = big };
	struct path_run locked = { .moderate = true,
				   .lock_rcv = true,
				   .wmem = big };
	uint64_t t_tuned = long_path(&tuned), t_fixed = long_path(&fixed);

	(void)state;
	long_path(&locked);
	print_message("16 MiB over 50 ms: %.2f s with auto-tuning (rcvbuf "
		      "%d), %.2f s without (rcvbuf %d)\n",
		      (double)t_tuned / 1e9, tuned.rcvbuf,
		      (double)t_fixed / 1e9, fixed.rcvbuf);
	assert_int_equal(fixed.rcvbuf, 131072);
	assert_int_equal(locked.rcvbuf, 2 * 65536);
	assert_true(tuned.rcvbuf > 4 * fixed.rcvbuf);
	assert_true(tuned.rcvbuf <= 6291456);
	assert_true(t_tuned * 2 < t_fixed);
}

/*
 * The send side (tcp_sndbuf_expand): from tcp_wmem's default of 16 KiB,
 * the send buffer doubles while it is smaller than two congestion
 * windows, up to tcp_wmem[2]; SO_SNDBUF fixes it.
 */
static void send_buffer_expands(void **state)
{
	const char *dflt = "4096 16384 4194304";
	struct path_run grown = { .moderate = true, .wmem = dflt };
	struct path_run locked = { .moderate = true,
				   .lock_snd = true,
				   .wmem = dflt };
	uint64_t t_grown = long_path(&grown), t_locked = long_path(&locked);

	(void)state;
	print_message("16 MiB over 50 ms from a 16 KiB send buffer: %.2f s "
		      "(sndbuf grew to %d); %.2f s with SO_SNDBUF (%d)\n",
		      (double)t_grown / 1e9, grown.sndbuf,
		      (double)t_locked / 1e9, locked.sndbuf);
	assert_true(grown.sndbuf > 16 * 16384);
	assert_true(grown.sndbuf <= 4194304);
	assert_int_equal(locked.sndbuf, 2 * 32768);
	assert_true(t_grown * 4 < t_locked);
}

/*
 * One direction, A to B, with B's GRO on or off (ethtool -K on B's NIC):
 * byte-exact either way. Returns B's NIC frames and the skbs its NAPIs
 * handed up, and B's GRO counters.
 */
struct gro_run {
	uint64_t frames, skbs, insegs, segs_in;
	struct wp_nic_stats nic;
	struct wp_softnet_stat sn;
};

static void one_way(const struct wp_pair_impairments *imp, uint64_t bytes,
		    bool gro, struct gro_run *out)
{
	struct wp_tcp_sock *c, *s;
	struct wp_tcp_info info;
	struct wp_net_mib mb;
	struct tstream st;
	struct tpair t;

	tpair_up(&t, imp);
	short_times(&t);
	tsysctl(&t, "net.ipv4.tcp_wmem", "4096 262144 4194304");
	wp_nic_set_gro(t.b->nic, gro);
	tconnect(&t, 5001, &c, &s, NULL);
	tstream_init(&st, c, s, bytes, 33);
	pump_until_done(&t, &st, 1, 600 * WP_NSEC_PER_SEC, WP_NSEC_PER_MSEC);
	tstream_check(&st);
	wp_tcp_get_info(s, &info);
	out->segs_in = info.segs_in;
	tclose(c);
	tclose(s);
	trun(&t, 60 * WP_NSEC_PER_SEC);
	wp_nic_get_stats(t.b->nic, &out->nic);
	wp_stack_softnet(t.b, &out->sn);
	tmib(t.b, &mb);
	out->frames = out->nic.rx_packets;
	out->skbs = out->sn.processed;
	out->insegs = mb.TcpInSegs;
	tpair_down(&t);
}

static void gro_on_and_off_byte_exact(void **state)
{
	struct wp_pair_impairments imp;
	struct gro_run on, off;

	(void)state;
	one_way(NULL, 4u << 20, true, &on);
	one_way(NULL, 4u << 20, false, &off);
	/* Off: every frame goes up alone; nothing is counted. */
	assert_int_equal(off.skbs, off.frames);
	assert_int_equal(off.sn.gro_merged + off.sn.gro_held, 0);
	assert_int_equal(off.nic.rx_gro_skbs, 0);
	/* On: the segments of a burst go up as one skb; TCP still counts
	 * each (segs_in), InSegs once per skb as Linux does. */
	assert_true(on.sn.gro_merged > 0);
	assert_true(on.skbs < on.frames);
	assert_int_equal(on.skbs + on.sn.gro_merged, on.frames);
	assert_true(on.nic.rx_gro_packets > on.nic.rx_gro_skbs);
	assert_true(on.insegs < on.segs_in);
	print_message("GRO on: %" PRIu64 " frames -> %" PRIu64
		      " skbs (%.2f per skb; %" PRIu64 " GRO skbs of %.2f "
		      "segments); off: %" PRIu64 " -> %" PRIu64 "\n",
		      on.frames, on.skbs, (double)on.frames / (double)on.skbs,
		      on.nic.rx_gro_skbs,
		      (double)on.nic.rx_gro_packets /
			      (double)on.nic.rx_gro_skbs,
		      off.frames, off.skbs);

	/* Loss, duplicates, reordering, corruption: still byte-exact. */
	wp_pair_impairments_default(&imp);
	imp.seed = 5;
	imp.a_to_b.loss_pct = 2;
	imp.a_to_b.duplicate_pct = 2;
	imp.a_to_b.reorder_pct = 5;
	imp.a_to_b.corrupt_pct = 1;
	imp.a_to_b.delay_ns = WP_NSEC_PER_MSEC;
	imp.a_to_b.rate_bps = 200000000;
	one_way(&imp, 1u << 20, true, &on);
	assert_true(on.sn.gro_merged > 0);
	one_way(&imp, 1u << 20, false, &off);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_data_and_orderly_close),
		cmocka_unit_test(megabytes_both_ways_clean_wire),
		cmocka_unit_test(megabytes_under_loss),
		cmocka_unit_test(megabytes_under_every_impairment),
		cmocka_unit_test(heavy_loss_ten_percent),
		cmocka_unit_test(same_seed_same_run),
		cmocka_unit_test(receive_buffer_autotuning),
		cmocka_unit_test(send_buffer_expands),
		cmocka_unit_test(gro_on_and_off_byte_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
