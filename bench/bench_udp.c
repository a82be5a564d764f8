// SPDX-License-Identifier: MIT
/*
 * bench udp: the whole UDP receive path, one core, 64-byte payloads:
 *
 *   firmware (the "DMA"): frame into a NIC-owned RX buffer, DD set
 *   stack:  NAPI poll -> skb (no copy) -> refill -> netif_receive_skb ->
 *           eth -> ip_rcv (header checksum) -> udp_rcv (checksum, socket
 *           lookup) -> sk_receive_queue (rmem charge) -> sk_data_ready
 *   app:    the system-call boundary: wp_recvmmsg takes up to 64
 *           datagrams under one socket lock and copies each payload into
 *           the application's buffer (the one copy), then frees the skbs
 *
 * One thread plays firmware, core and application in turn (virtual time,
 * busy polling), so each share is timed apart with the cycle counter and
 * nothing waits on a scheduler. Modes of the application side:
 * recvmmsg-copy (the batch read above), recv-copy (one wp_recv per
 * datagram) and recv-zc (one wp_recv_zc per datagram: no copy).
 *
 * Peer, in the same run: the Linux kernel's UDP receive on loopback, a
 * sender thread (sendmmsg, 64 per call) and a recvmmsg receiver (64 per
 * call), 64-byte payloads. Its figure is the receiver's throughput: on
 * loopback the kernel's receive path (netif_rx -> softirq -> ip_rcv ->
 * udp_rcv -> queue) runs on the sender's CPU and the copy to the
 * application on the receiver's, so two cores share the work wirepath's
 * one core does; the CPU time both threads used per datagram is given
 * too. `ratio` is the kernel's ns per datagram over wirepath's
 * (stack + app, recvmmsg-copy); above 1, wirepath is faster.
 *
 * Each measurement is REPS runs of --seconds (default 1), or of
 * --iterations datagrams (a fixed amount of work, e.g. to count
 * instructions under callgrind); a record gives the median run and the
 * best one. Arguments after `--` choose the measurements: any of
 * recvmmsg-copy, recv-copy, recv-zc and linux (default: all four).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "bench.h"
#include "stack/stack.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define PAYLOAD 64
#define BATCH 64  /* datagrams per recvmmsg, and per sendmmsg */
#define ROUND 256 /* frames the firmware writes before the core runs */
#define UDP_PORT 9
#define FRAME_LEN (14 + 20 + 8 + PAYLOAD)
#define REPS 3 /* runs per measurement: the median is reported */

/* A valid Ethernet/IPv4/UDP frame to the stack's default address. */
static void make_frame(uint8_t *f)
{
	struct wp_eth_repr eth = {
		.dst = { { 0x02, 0, 0, 0, 0, 0x02 } },
		.src = { { 0x02, 0, 0, 0, 0, 0x01 } },
		.ethertype = WP_ETH_P_IP,
	};
	struct wp_ipv4_repr ip = {
		.saddr = (10u << 24) | (1 << 8) | 1,
		.daddr = (10u << 24) | 2,
		.ttl = 64,
		.protocol = WP_IPPROTO_UDP,
		.df = true,
		.payload_len = 8 + PAYLOAD,
	};
	uint8_t payload[PAYLOAD];
	struct wp_udp_repr udp = {
		.sport = 40000,
		.dport = UDP_PORT,
		.payload = payload,
		.payload_len = PAYLOAD,
	};

	for (int i = 0; i < PAYLOAD; i++)
		payload[i] = (uint8_t)i;
	wp_eth_emit(&eth, f, FRAME_LEN);
	wp_ipv4_emit(&ip, f + 14, FRAME_LEN - 14);
	wp_udp_emit(&udp, ip.saddr, ip.daddr, f + 34, FRAME_LEN - 34);
}

enum app_mode {
	APP_RECVMMSG,
	APP_RECV,
	APP_ZC,
};

struct wp_result {
	double fw_ns, stack_ns, app_ns;
	uint64_t packets, missed, sock_drops;
	double copies_per_pkt;
};

/* The application's share: read everything queued. Returns datagrams. */
static uint64_t app_read(int fd, enum app_mode mode, struct wp_mmsghdr *vec,
			 uint8_t (*bufs)[PAYLOAD + 64])
{
	uint64_t n = 0;
	int r;

	switch (mode) {
	case APP_RECVMMSG:
		while ((r = wp_recvmmsg(fd, vec, BATCH, MSG_DONTWAIT, NULL)) >
		       0)
			n += (uint64_t)r;
		break;
	case APP_RECV:
		while (wp_recv(fd, bufs[0], PAYLOAD + 64, MSG_DONTWAIT) >= 0)
			n++;
		break;
	case APP_ZC: {
		struct wp_zc_handle *h;
		struct iovec iov;

		while (wp_recv_zc(fd, &iov, &h, MSG_DONTWAIT, NULL, NULL) >=
		       0) {
			wp_bench_keep(iov.iov_base);
			wp_recv_zc_release(h);
			n++;
		}
		break;
	}
	}
	return n;
}

static int run_wirepath(enum app_mode mode, double seconds, uint64_t packets,
			struct wp_result *res)
{
	struct wp_stack_config cfg;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(UDP_PORT) };
	static uint8_t bufs[BATCH][PAYLOAD + 64];
	struct wp_mmsghdr vec[BATCH];
	struct iovec iov[BATCH];
	uint64_t fw = 0, stk = 0, app = 0, t_end, got = 0;
	struct wp_socket_stats st;
	struct wp_nic_stats ns;
	uint8_t frame[FRAME_LEN];
	int fd, big = 16 << 20;
	struct wp_stack *s;
	char err[256];

	wp_stack_config_default(&cfg);
	cfg.virtual_time = true;
	cfg.busy_poll = true;
	cfg.rx_ring = 1024;
	s = wp_stack_create(&cfg, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "bench udp: %s\n", err);
		return -1;
	}
	fd = wp_socket_net(s, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || wp_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    wp_setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big))) {
		fprintf(stderr, "bench udp: socket: %s\n", strerror(errno));
		wp_stack_destroy(s);
		return -1;
	}
	memset(vec, 0, sizeof(vec));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
	}
	make_frame(frame);
	/* The protocol layer's first pass (its start-up ARP) off the clock. */
	wp_stack_run_until(s, wp_stack_now(s) + WP_NSEC_PER_MSEC);

	t_end = wp_time_real_ns() + (uint64_t)(seconds * 1e9);
	while (packets ? got < packets : wp_time_real_ns() < t_end) {
		for (int round = 0; round < 16; round++) {
			uint64_t c0 = wp_bench_cycles(), c1, c2, c3;
			uint64_t now = wp_clock_now(&s->clock);

			for (uint32_t i = 0; i < ROUND; i++) {
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
			while (wp_cpu_run_once(&s->cpu[0]))
				;
			c2 = wp_bench_cycles();
			got += app_read(fd, mode, vec, bufs);
			c3 = wp_bench_cycles();
			fw += c1 - c0;
			stk += c2 - c1;
			app += c3 - c2;
			wp_clock_advance(&s->clock, 1000);
		}
	}
	wp_nic_get_stats(s->nic, &ns);
	wp_socket_get_stats(fd, &st);
	res->packets = got;
	res->missed = ns.rx_missed_errors;
	{
		struct wp_sock *sk = wp_sockfd_lookup(fd);

		res->sock_drops = sk ? atomic_load(&sk->sk_drops) : 0;
		if (sk)
			wp_sockfd_put(sk);
	}
	res->copies_per_pkt = got ? (double)st.rx_copies / (double)got : 0;
	{
		double ns_per_cyc = 1e9 / wp_bench_cycles_per_sec();
		double n = (double)(got ? got : 1);

		res->fw_ns = (double)fw * ns_per_cyc / n;
		res->stack_ns = (double)stk * ns_per_cyc / n;
		res->app_ns = (double)app * ns_per_cyc / n;
	}
	wp_close(fd);
	wp_stack_destroy(s);
	wp_socket_cleanup();
	return 0;
}

/* --- the peer: the kernel's UDP over loopback ----------------------------- */

struct kpeer {
	int rx, tx;
	_Atomic bool stop;
	uint64_t sent, received;
	double tx_cpu_s, rx_cpu_s;
};

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *kernel_sender(void *arg)
{
	struct kpeer *k = arg;
	static uint8_t payload[PAYLOAD];
	struct mmsghdr vec[BATCH];
	struct iovec iov = { payload, PAYLOAD };
	double c0 = thread_cpu_s();

	memset(vec, 0, sizeof(vec));
	for (int i = 0; i < BATCH; i++) {
		vec[i].msg_hdr.msg_iov = &iov;
		vec[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&k->stop, memory_order_relaxed)) {
		int r = sendmmsg(k->tx, vec, BATCH, 0);

		if (r > 0)
			k->sent += (uint64_t)r;
	}
	k->tx_cpu_s = thread_cpu_s() - c0;
	return NULL;
}

static void *kernel_receiver(void *arg)
{
	struct kpeer *k = arg;
	static uint8_t bufs[BATCH][PAYLOAD + 64];
	struct mmsghdr vec[BATCH];
	struct iovec iov[BATCH];
	double c0 = thread_cpu_s();

	memset(vec, 0, sizeof(vec));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&k->stop, memory_order_relaxed)) {
		int r = recvmmsg(k->rx, vec, BATCH, MSG_WAITFORONE, NULL);

		if (r > 0)
			k->received += (uint64_t)r;
	}
	k->rx_cpu_s = thread_cpu_s() - c0;
	return NULL;
}

struct kresult {
	double pps, ns, cpu_ns, tx_pps;
	uint64_t received, sent;
};

static int run_kernel(double seconds, struct kresult *res)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 0, 100000 }; /* the receiver looks at stop */
	struct kpeer k = { 0 };
	socklen_t len = sizeof(a);
	int big = 8 << 20;
	pthread_t tt, tr;
	uint64_t t0, t1, r0;
	struct timespec ts = { (time_t)seconds,
			       (long)((seconds - (double)(time_t)seconds) *
				      1e9) };

	k.rx = socket(AF_INET, SOCK_DGRAM, 0);
	k.tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (k.rx < 0 || k.tx < 0 ||
	    bind(k.rx, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(k.rx, (struct sockaddr *)&a, &len) ||
	    connect(k.tx, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "bench udp: kernel sockets: %s\n",
			strerror(errno));
		return -1;
	}
	/* As large as rmem_max allows (no privilege needed up to it). */
	setsockopt(k.rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(k.rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_create(&tr, NULL, kernel_receiver, &k);
	pthread_create(&tt, NULL, kernel_sender, &k);
	/* Warm up, then measure the receiver over the run. */
	nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	r0 = __atomic_load_n(&k.received, __ATOMIC_RELAXED);
	t0 = wp_time_real_ns();
	nanosleep(&ts, NULL);
	t1 = wp_time_real_ns();
	res->received = __atomic_load_n(&k.received, __ATOMIC_RELAXED) - r0;
	atomic_store(&k.stop, true);
	pthread_join(tt, NULL);
	pthread_join(tr, NULL);
	close(k.rx);
	close(k.tx);
	res->sent = k.sent;
	res->pps = (double)res->received / ((double)(t1 - t0) / 1e9);
	res->ns = 1e9 / res->pps;
	/* Both threads' CPU over the whole run (warm-up included), per
	 * datagram received. */
	res->cpu_ns = (k.tx_cpu_s + k.rx_cpu_s) * 1e9 /
		      (double)(k.received ? k.received : 1);
	res->tx_pps = (double)k.sent / ((double)(t1 - t0) / 1e9 + 0.1);
	return 0;
}

static int cmp_wp(const void *a, const void *b)
{
	const struct wp_result *x = a, *y = b;
	double dx = x->stack_ns + x->app_ns, dy = y->stack_ns + y->app_ns;

	return (dx > dy) - (dx < dy);
}

static int cmp_k(const void *a, const void *b)
{
	const struct kresult *x = a, *y = b;

	return (x->ns > y->ns) - (x->ns < y->ns);
}

static int bench_udp(const struct wp_bench_opts *opts)
{
	double seconds = opts->seconds > 0 ? opts->seconds : 1.0;
	static const struct {
		const char *name;
		enum app_mode mode;
	} modes[] = {
		{ "recvmmsg-copy", APP_RECVMMSG },
		{ "recv-copy", APP_RECV },
		{ "recv-zc", APP_ZC },
	};
	const size_t nmodes = sizeof(modes) / sizeof(modes[0]);
	bool want[sizeof(modes) / sizeof(modes[0]) + 1] = { false };
	double main_ns = 0;
	struct kresult kr[REPS];

	/* want[nmodes] is the kernel peer. */
	for (int a = 0; a < opts->argc; a++) {
		size_t m;

		for (m = 0; m < nmodes; m++)
			if (!strcmp(opts->argv[a], modes[m].name))
				break;
		if (m == nmodes && strcmp(opts->argv[a], "linux")) {
			fprintf(stderr,
				"bench udp: unknown measurement '%s' "
				"(recvmmsg-copy, recv-copy, recv-zc, linux)\n",
				opts->argv[a]);
			return -EINVAL;
		}
		want[m] = true;
	}
	if (!opts->argc)
		for (size_t m = 0; m <= nmodes; m++)
			want[m] = true;
	for (size_t m = 0; m < nmodes; m++) {
		struct wp_result rs[REPS], r;
		double total;

		if (!want[m])
			continue;
		for (int i = 0; i < REPS; i++)
			if (run_wirepath(modes[m].mode, seconds,
					 opts->iterations, &rs[i]))
				return 1;
		qsort(rs, REPS, sizeof(rs[0]), cmp_wp);
		r = rs[REPS / 2];
		total = r.stack_ns + r.app_ns;
		if (!main_ns) /* the first measured: the kernel's ratio */
			main_ns = total;
		const struct wp_bench_field f[] = {
			{ .key = "side", .str = "wirepath" },
			{ .key = "app", .str = modes[m].name },
			{ .key = "payload", .value = PAYLOAD, .unit = "B" },
			{ .key = "stack_ns_per_pkt",
			  .value = r.stack_ns,
			  .unit = "ns" },
			{ .key = "app_ns_per_pkt",
			  .value = r.app_ns,
			  .unit = "ns" },
			{ .key = "ns_per_pkt", .value = total, .unit = "ns" },
			{ .key = "mpps", .value = 1e3 / total, .unit = "Mpps" },
			{ .key = "best_ns_per_pkt",
			  .value = rs[0].stack_ns + rs[0].app_ns,
			  .unit = "ns" },
			{ .key = "firmware_ns_per_pkt",
			  .value = r.fw_ns,
			  .unit = "ns" },
			{ .key = "copies_per_pkt", .value = r.copies_per_pkt },
			{ .key = "packets", .value = (double)r.packets },
			{ .key = "missed", .value = (double)r.missed },
			{ .key = "sock_drops", .value = (double)r.sock_drops },
			{ 0 },
		};
		wp_bench_report(opts, "udp", f);
	}
	if (!want[nmodes])
		return 0;
	for (int i = 0; i < REPS; i++)
		if (run_kernel(seconds, &kr[i]))
			return 1;
	qsort(kr, REPS, sizeof(kr[0]), cmp_k);
	struct wp_bench_field f[] = {
		{ .key = "side", .str = "linux-loopback" },
		{ .key = "app", .str = "recvmmsg-copy" },
		{ .key = "payload", .value = PAYLOAD, .unit = "B" },
		{ .key = "pps", .value = kr[REPS / 2].pps, .unit = "pps" },
		{ .key = "ns_per_pkt", .value = kr[REPS / 2].ns, .unit = "ns" },
		{ .key = "best_ns_per_pkt", .value = kr[0].ns, .unit = "ns" },
		{ .key = "cpu_ns_per_pkt",
		  .value = kr[REPS / 2].cpu_ns,
		  .unit = "ns" },
		{ .key = "received", .value = (double)kr[REPS / 2].received },
		{ .key = "sent", .value = (double)kr[REPS / 2].sent },
		{ .key = "ratio",
		  .value = kr[REPS / 2].ns / main_ns,
		  .unit = "x" },
		{ 0 },
	};
	if (!main_ns) /* the kernel alone: nothing to compare with */
		f[9].key = NULL;
	wp_bench_report(opts, "udp", f);
	return 0;
}

WP_BENCH_REGISTER(bench_udp, "udp",
		  "full UDP receive: ring -> socket -> recvmmsg copy, 64B, one "
		  "core; vs Linux loopback")
