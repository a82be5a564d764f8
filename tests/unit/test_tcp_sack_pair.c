// SPDX-License-Identifier: MIT
/*
 * SACK loss recovery end to end: two stacks on the pair backend, one
 * bulk transfer A -> B on a wire that loses a seeded share of frames both
 * ways, run twice on the same seed: with SACK (RFC 6675 recovery) and
 * with net.ipv4.tcp_sack=0 on both sides (NewReno). The data arrives
 * intact either way; with SACK the transfer needs fewer retransmission
 * timeouts and less virtual time. The figures are printed (docs/tcp.md
 * quotes them); the same seed gives the same figures on any machine.
 */
#include "test_tcp_common.h"

#include <inttypes.h>

struct result {
	uint64_t ns;	     /* virtual time from the first byte to the last */
	struct wp_net_mib a; /* the sender's counters */
	char netstat[8192];  /* the sender's `netstat -s` TcpExt lines about
			      * loss recovery */
};

/* The lines of the sender's netstat -s (what `wirepath stat netstat`
 * prints) that tell about loss recovery. */
static void recovery_lines(const struct wp_net *net, char *out, size_t n)
{
	static const char *const keys[] = { "SACK", "Sack", "Retrans",
					    "Timeouts", "Reorder" };
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, used = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	wp_net_print_netstat(net, f);
	fclose(f);
	out[0] = 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		for (size_t k = 0; k < WP_ARRAY_SIZE(keys); k++)
			if (strstr(line, keys[k]) &&
			    used + strlen(line) + 2 < n) {
				used += (size_t)snprintf(out + used, n - used,
							 "%s\n", line);
				break;
			}
	free(text);
}

static void transfer(const struct wp_pair_impairments *imp, bool sack,
		     uint64_t bytes, struct result *res)
{
	struct wp_tcp_sock *c, *s;
	struct wp_tcp_info info;
	struct tstream st;
	struct tpair t;
	uint64_t t0, end;
	char b[4];

	struct wp_pair_impairments clean = *imp;
	char err[128];

	/* A clean handshake (tconnect waits a second at most), then the
	 * lossy wire for the transfer. */
	clean.a_to_b.loss_pct = clean.b_to_a.loss_pct = 0;
	tpair_up(&t, &clean);
	tsysctl(&t, "net.ipv4.tcp_msl_ms", "100");
	tsysctl(&t, "net.ipv4.tcp_wmem", "4096 1048576 4194304");
	tsysctl(&t, "net.ipv4.tcp_rmem", "4096 1048576 6291456");
	tsysctl(&t, "net.ipv4.tcp_sack", sack ? "1" : "0");
	tconnect(&t, 5001, &c, &s, NULL);
	wp_tcp_get_info(c, &info);
	assert_int_equal(!!(info.options & WP_TCPI_OPT_SACK), sack);
	assert_int_equal(wp_stack_pair_set_link(t.p, WP_PAIR_A_TO_B,
						&imp->a_to_b, err, sizeof(err)),
			 0);
	assert_int_equal(wp_stack_pair_set_link(t.p, WP_PAIR_B_TO_A,
						&imp->b_to_a, err, sizeof(err)),
			 0);
	t0 = tnow(&t);
	tstream_init(&st, c, s, bytes, 42);
	end = tnow(&t) + 600 * WP_NSEC_PER_SEC;
	while (st.rcvd < st.total && tnow(&t) < end) {
		tstream_pump(&st, true);
		if (st.rcvd < st.total)
			trun(&t, WP_NSEC_PER_MSEC);
	}
	res->ns = tnow(&t) - t0;
	assert_int_equal(st.rcvd, bytes);
	tstream_check(&st);
	trun(&t, 2 * WP_NSEC_PER_SEC);
	assert_int_equal(wp_tcp_recvmsg(s, b, sizeof(b), 0), 0);
	tclose(c);
	tclose(s);
	trun(&t, 60 * WP_NSEC_PER_SEC);
	tmib(t.a, &res->a);
	recovery_lines(t.a->net, res->netstat, sizeof(res->netstat));
	tpair_down(&t);
}

static void report(const char *what, double loss, uint64_t bytes, uint64_t seed,
		   const struct result *r)
{
	print_message("%-7s %2.0f%% loss, %" PRIu64 " MiB, seed %" PRIu64
		      ": %3" PRIu64 ".%03" PRIu64 " s, RTOs %3" PRIu64
		      ", retransmitted %4" PRIu64 ", fast %4" PRIu64
		      ", recoveries %3" PRIu64 "\n",
		      what, loss, bytes >> 20, seed,
		      (uint64_t)(r->ns / WP_NSEC_PER_SEC),
		      (uint64_t)(r->ns % WP_NSEC_PER_SEC / WP_NSEC_PER_MSEC),
		      r->a.TCPTimeouts, r->a.TcpRetransSegs,
		      r->a.TCPFastRetrans,
		      r->a.TCPSackRecovery + r->a.TCPRenoRecovery);
}

/*
 * One loss rate on both directions of a 100 Mbit/s wire with 20 ms of
 * round trip, three seeds, SACK against NewReno: for each seed both runs
 * see the same wire (the n-th frame each way meets the same fate; the
 * runs send different frames, so different segments are lost). One seed
 * can favour either; the sums are what the test holds to.
 */
static void compare(double loss, uint64_t bytes)
{
	uint64_t ns_on = 0, ns_off = 0, rto_on = 0, rto_off = 0;

	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct wp_pair_impairments imp;
		struct result on, off;

		wp_pair_impairments_default(&imp);
		imp.seed = seed;
		imp.a_to_b.loss_pct = loss;
		imp.b_to_a.loss_pct = loss;
		imp.a_to_b.delay_ns = 10 * WP_NSEC_PER_MSEC;
		imp.b_to_a.delay_ns = 10 * WP_NSEC_PER_MSEC;
		imp.a_to_b.rate_bps = 100000000;
		imp.b_to_a.rate_bps = 100000000;
		transfer(&imp, true, bytes, &on);
		transfer(&imp, false, bytes, &off);
		report("sack", loss, bytes, seed, &on);
		report("no sack", loss, bytes, seed, &off);
		if (seed == 1)
			print_message("the sender's netstat -s, sack:\n%s"
				      "no sack:\n%s",
				      on.netstat, off.netstat);
		/* Each recovery used what the peer negotiated. */
		assert_true(on.a.TCPSackRecovery > 0);
		assert_int_equal(on.a.TCPRenoRecovery, 0);
		assert_true(off.a.TCPRenoRecovery > 0);
		assert_int_equal(off.a.TCPSackRecovery, 0);
		assert_int_equal(off.a.TCPSACKDiscard + off.a.TCPDSACKRecv, 0);
		ns_on += on.ns;
		ns_off += off.ns;
		rto_on += on.a.TCPTimeouts;
		rto_off += off.a.TCPTimeouts;
	}
	print_message("%.0f%% loss, %" PRIu64 " MiB, mean of 3: sack %.2f s, "
		      "%.1f RTOs; no sack %.2f s, %.1f RTOs\n",
		      loss, bytes >> 20, (double)ns_on / 3e9,
		      (double)rto_on / 3, (double)ns_off / 3e9,
		      (double)rto_off / 3);
	/* SACK repairs every hole the window allows per round trip:
	 * fewer timeouts, less time. */
	assert_true(rto_on < rto_off);
	assert_true(ns_on < ns_off);
}

static void sack_beats_newreno_at_2pct_loss(void **state)
{
	(void)state;
	compare(2, 4u << 20);
}

static void sack_beats_newreno_at_5pct_loss(void **state)
{
	(void)state;
	compare(5, 2u << 20);
}

/*
 * The send ring starts at tcp_wmem[1] (16 KiB: a scoreboard of 64
 * segments, made when the first segment goes) and doubles as cwnd grows
 * (tcp_sndbuf_expand); the scoreboard follows it with the segments in flight,
 * so the window is never held to 64 segments, and the transfer, lossy, arrives
 * intact.
 */
static void scoreboard_grows_with_the_send_ring(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_tcp_sock *c, *s;
	struct tstream st;
	struct tpair t;
	uint32_t most = 0;

	(void)state;
	wp_pair_impairments_default(&imp);
	imp.seed = 5;
	imp.a_to_b.loss_pct = 0.2;
	imp.a_to_b.delay_ns = 10 * WP_NSEC_PER_MSEC;
	imp.b_to_a.delay_ns = 10 * WP_NSEC_PER_MSEC;
	imp.a_to_b.rate_bps = 100000000;
	imp.b_to_a.rate_bps = 100000000;
	tpair_up(&t, &imp);
	tsysctl(&t, "net.ipv4.tcp_msl_ms", "100");
	tsysctl(&t, "net.ipv4.tcp_wmem", "4096 16384 4194304");
	tconnect(&t, 5001, &c, &s, NULL);
	assert_int_equal(c->snd_size, 16384);
	/* Established and idle: no scoreboard yet; the first segment
	 * sent makes one of TCP_SB_MIN entries. */
	assert_null(c->sb.seg);
	assert_int_equal(c->sb.cap, 0);
	tstream_init(&st, c, s, 8u << 20, 9);
	tstream_pump(&st, true);
	trun(&t, WP_NSEC_PER_MSEC);
	assert_non_null(c->sb.seg);
	assert_int_equal(c->sb.cap, TCP_SB_MIN);
	for (uint64_t end = tnow(&t) + 300 * WP_NSEC_PER_SEC;
	     st.rcvd < st.total && tnow(&t) < end;) {
		tstream_pump(&st, true);
		trun(&t, WP_NSEC_PER_MSEC);
		most = umax32(most, tcp_sb_len(&c->sb));
		assert_true(c->sb.cap >= c->snd_size / TCP_SB_BYTES);
	}
	tstream_check(&st);
	assert_true(c->snd_size > 16384);
	assert_true(most > TCP_SB_MIN);
	print_message("ring %u bytes, scoreboard %u, most in flight %u\n",
		      c->snd_size, c->sb.cap, most);
	tclose(c);
	tclose(s);
	trun(&t, 60 * WP_NSEC_PER_SEC);
	tpair_down(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sack_beats_newreno_at_2pct_loss),
		cmocka_unit_test(sack_beats_newreno_at_5pct_loss),
		cmocka_unit_test(scoreboard_grows_with_the_send_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
