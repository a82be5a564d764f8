// SPDX-License-Identifier: MIT
/*
 * UDP through the socket API over a wire that loses, duplicates,
 * reorders and corrupts frames (the pair backend, seeded): whatever the
 * wire does, an application receives only intact datagrams (checksums
 * catch every single-bit corruption: Ethernet type, IPv4 header, UDP
 * header or payload), each at most as many times as the wire delivered
 * it, and every datagram the wire did not harm; fragmented datagrams are
 * reassembled intact or not at all. The one exception is checked for
 * exactly: two errors in two fragments that cancel in the 16-bit ones'
 * complement sum, which no UDP checksum can see (a real link's CRC
 * would). The same seed gives the same run.
 */
#include "test_udp_common.h"

#define PORT_B 7200
#define N_SMALL 3000
#define N_FRAG 300

/* A datagram's bytes are a function of its sequence number and length. */
static uint8_t byte_of(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + (i >> 8));
}

static uint32_t len_of(uint32_t seq, bool frag)
{
	return frag ? 2000 + (seq * 977) % 6000 : 8 + (seq * 37) % 1465;
}

static void build(uint8_t *p, uint32_t seq, uint32_t len)
{
	memcpy(p, &seq, 4);
	for (uint32_t i = 4; i < len; i++)
		p[i] = byte_of(seq, i);
}

/* RFC 1071 sum of len bytes, as the UDP checksum adds them up. */
static uint32_t sum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * A datagram that is not intact but has the original's Internet
 * checksum: corruption the UDP checksum cannot see (errors that cancel
 * in the ones' complement sum, in two fragments). A real link's CRC
 * stops those; the pair's corruption happens past it.
 */
static bool checksum_blind(const uint8_t *p, size_t len, uint32_t n, bool frag)
{
	static uint8_t good[65536];
	uint32_t seq;

	if (len < 4)
		return false;
	memcpy(&seq, p, 4);
	if (seq >= n || len != len_of(seq, frag))
		return false;
	build(good, seq, (uint32_t)len);
	return sum16(good, len) == sum16(p, len);
}

/* -1 if not intact, else its sequence number. */
static int64_t check(const uint8_t *p, size_t len, uint32_t n, bool frag)
{
	uint32_t seq;

	if (len < 4)
		return -1;
	memcpy(&seq, p, 4);
	if (seq >= n || len != len_of(seq, frag))
		return -1;
	for (uint32_t i = 4; i < len; i++)
		if (p[i] != byte_of(seq, i))
			return -1;
	return seq;
}

struct outcome {
	uint32_t *order; /* sequence numbers in arrival order */
	uint32_t n;
	uint8_t *count; /* arrivals per sequence number */
	uint32_t bad;	/* arrivals that were not intact */
	uint32_t blind; /* ... of which the checksum could not tell */
	struct wp_pair_stats wire;
	struct wp_net_mib mib_b;
};

static void impair(struct wp_pair_impairments *imp, uint64_t seed,
		   double corrupt_pct)
{
	wp_pair_impairments_default(imp);
	imp->seed = seed;
	imp->a_to_b.loss_pct = 3;
	imp->a_to_b.duplicate_pct = 3;
	imp->a_to_b.reorder_pct = 5;
	imp->a_to_b.corrupt_pct = corrupt_pct;
	imp->a_to_b.delay_ns = 100 * WP_NSEC_PER_USEC;
	imp->a_to_b.jitter_ns = 20 * WP_NSEC_PER_USEC;
}

static void run_scenario(uint64_t seed, bool frag, uint32_t n,
			 double corrupt_pct, struct outcome *o)
{
	struct wp_pair_impairments imp;
	static uint8_t buf[65536];
	struct ufx *fx;
	int fa, fb, big = 16 << 20;
	ssize_t r;

	impair(&imp, seed, corrupt_pct);
	fx = ufx_create(&imp);
	memset(o, 0, sizeof(*o));
	o->order = calloc(4 * n, sizeof(*o->order));
	o->count = calloc(n, 1);
	assert_non_null(o->order);
	assert_non_null(o->count);
	fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	fa = ufx_udp(fx->a, INADDR_ANY, 0);
	assert_int_equal(wp_setsockopt(fb, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				       sizeof(big)),
			 0);
	for (uint32_t seq = 0; seq < n || seq < n + 50; seq++) {
		if (seq < n) {
			uint32_t len = len_of(seq, frag);

			struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);

			build(buf, seq, len);
			/* The machine is this thread: when the transmit pool
			 * is dry, run it until buffers come back. */
			while (wp_sendto(fa, buf, len, MSG_DONTWAIT, UFX_SA(to),
					 sizeof(to)) != (ssize_t)len) {
				assert_int_equal(errno, EAGAIN);
				ufx_run(fx, UFX_MS);
			}
		}
		/* Reassembled datagrams wait for the reader in the core's
		 * few 64 KiB buffers (ipfrag_big_bufs): read often. */
		if (seq % (frag ? 2 : 16) == (frag ? 1u : 15u) || seq >= n)
			ufx_run(fx, UFX_MS);
		while ((r = wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			int64_t s = check(buf, (size_t)r, n, frag);

			if (s < 0) {
				o->bad++;
				o->blind +=
					checksum_blind(buf, (size_t)r, n, frag);
				continue;
			}
			assert_true(o->n < 4 * n);
			o->order[o->n++] = (uint32_t)s;
			o->count[s]++;
		}
		assert_int_equal(errno, EAGAIN);
	}
	wp_stack_pair_get_stats(fx->p, WP_PAIR_A_TO_B, &o->wire);
	o->mib_b = ufx_mib(fx->b);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
	ufx_destroy(fx);
}

static void outcome_free(struct outcome *o)
{
	free(o->order);
	free(o->count);
}

static void test_impaired_small(void **state)
{
	struct outcome o, again;
	uint32_t distinct = 0, dups = 0;

	(void)state;
	run_scenario(42, false, N_SMALL, 5, &o);
	/* Nothing corrupt reached the application. */
	assert_int_equal(o.bad, 0);
	for (uint32_t s = 0; s < N_SMALL; s++) {
		distinct += o.count[s] > 0;
		dups += o.count[s] > 1 ? o.count[s] - 1U : 0;
		/* Never more copies than the wire made. */
		assert_true(o.count[s] <= 2);
	}
	/* The wire did its damage... */
	assert_true(o.wire.lost > 0);
	assert_true(o.wire.duplicated > 0);
	assert_true(o.wire.reordered > 0);
	assert_true(o.wire.corrupted > 0);
	/* ...and the checksums caught corruption at some layer. */
	assert_true(o.mib_b.UdpInCsumErrors + o.mib_b.InHdrErrors +
			    o.mib_b.InCsumErrors + o.mib_b.EthInUnknownProto +
			    o.mib_b.EthInOtherHost + o.mib_b.UdpNoPorts +
			    o.mib_b.InAddrErrors >
		    0);
	assert_true(o.mib_b.UdpInCsumErrors > 0);
	/* Each loss or corruption takes at most one datagram. */
	assert_true(distinct >= N_SMALL - o.wire.lost - o.wire.corrupted);
	assert_true(dups <= o.wire.duplicated);
	assert_true(dups > 0);
	/* Reordered on the wire, so out of order at the application. */
	{
		bool ordered = true;

		for (uint32_t i = 1; i < o.n; i++)
			ordered &= o.order[i] >= o.order[i - 1];
		assert_false(ordered);
	}
	/* Everything the socket queued, the application read. */
	assert_int_equal(o.mib_b.UdpInDatagrams, o.n);

	/* Same seed, same run, datagram for datagram. */
	run_scenario(42, false, N_SMALL, 5, &again);
	assert_int_equal(again.n, o.n);
	assert_memory_equal(again.order, o.order, o.n * sizeof(*o.order));
	assert_int_equal(again.wire.corrupted, o.wire.corrupted);
	outcome_free(&again);
	/* Another seed, another run. */
	run_scenario(43, false, N_SMALL, 5, &again);
	assert_true(again.n != o.n ||
		    memcmp(again.order, o.order, o.n * sizeof(*o.order)));
	outcome_free(&again);
	outcome_free(&o);
}

static void test_impaired_fragments(void **state)
{
	struct outcome o;
	uint32_t distinct = 0;

	(void)state;
	/* Loss, duplication, reordering: whole and intact, or nothing. */
	run_scenario(7, true, N_FRAG, 0, &o);
	assert_int_equal(o.bad, 0);
	for (uint32_t s = 0; s < N_FRAG; s++) {
		distinct += o.count[s] > 0;
		/* A duplicated fragment never makes a second datagram. */
		assert_true(o.count[s] <= 1);
	}
	assert_true(o.wire.lost > 0 && o.wire.duplicated > 0 &&
		    o.wire.reordered > 0);
	assert_true(distinct > N_FRAG / 2);
	assert_true(distinct < N_FRAG);
	assert_int_equal(o.mib_b.ReasmOKs, distinct);
	outcome_free(&o);

	/*
	 * With corruption too: a datagram of several fragments can carry
	 * two bit errors that cancel in the 16-bit ones' complement sum,
	 * which no UDP stack can see. Every corrupt datagram that arrives
	 * must be such a one: the stack checked everything it could.
	 */
	run_scenario(7, true, N_FRAG, 5, &o);
	assert_true(o.wire.corrupted > 0);
	assert_true(o.mib_b.UdpInCsumErrors > 0);
	assert_int_equal(o.bad, o.blind);
	outcome_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_impaired_small),
		cmocka_unit_test(test_impaired_fragments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
