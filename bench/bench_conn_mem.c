// SPDX-License-Identifier: MIT
/*
 * bench conn-mem: memory per established idle TCP connection, with
 * --iterations connections (default 100,000) between two wirepath stacks
 * on the pair backend (bench_tcp_pair.c), both stacks configured for it:
 * a descriptor table of 2 x N, IDLE_PORTS listeners so that the 4-tuples
 * fit the client's port range (net.ipv4.ip_local_port_range, 28232 ports
 * per peer port), connects in batches the rings and the accept queues
 * take.
 *
 * What counts: glibc's heap in use (mallinfo2: uordblks, what the arenas
 * hand out, plus hblkhd, what malloc mmap'd for large blocks such as the
 * grown descriptor table) after the N connections are established and
 * quiet, less before, over N (per connection: its two sockets, one on
 * each stack) and over 2N (per socket). That is everything a connection
 * allocates: the TCP sock, the socket-call state, the file, the
 * descriptor slot, the timer-heap slot and the send ring. The send ring
 * is the send buffer's contents (SO_SNDBUF at net.ipv4.tcp_wmem[1]): its
 * bytes, read from each socket, are reported apart, and "buffers aside"
 * is the rest (the ring's malloc header stays in the rest). The hash
 * tables are chained through the socks (no entry is allocated per
 * connection); the stacks' packet pools are sized by their configuration,
 * not per connection; the receive side holds no memory while nothing is
 * queued. RSS (/proc/self/statm) is given too: the pages really touched.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "bench.h"
#include "bench_tcp_pair.h"
#include "nic/nic.h"
#include "sock/fd.h"
#include "tcp/tcp_priv.h"

#define IDLE_CONNS 100000 /* connections for the memory figure */
#define IDLE_PORTS 8	  /* listeners: 4-tuples beyond one port range */
#define IDLE_BATCH 128	  /* connects per turn of the wire */

#ifdef __SANITIZE_ADDRESS__
/* libasan's (sanitizer/allocator_interface.h, not installed everywhere). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Heap in use: what the arenas hand out and what malloc mmap'd (under
 * AddressSanitizer, whose allocator glibc's mallinfo2 does not see: what
 * it has handed out). */
static double heap_bytes(void)
{
#ifdef __SANITIZE_ADDRESS__
	return (double)__sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return (double)mi.uordblks + (double)mi.hblkhd;
#endif
}

static double rss_bytes(void)
{
	unsigned long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return (double)rss * (double)sysconf(_SC_PAGESIZE);
}

/* The bytes of fd's send ring (the send buffer's contents). */
static uint64_t sndring_bytes(int fd)
{
	struct wp_sock *sk = wp_sockfd_lookup(fd);
	uint64_t n;

	if (!sk)
		return 0;
	n = tcp_sk(sk)->sndring ? tcp_sk(sk)->snd_size : 0;
	wp_sockfd_put(sk);
	return n;
}

struct idle {
	uint32_t conns;
	double heap, rss, rings; /* bytes the connections added */
};

/* Accept what has arrived on the listeners. */
static void accept_all(const int *l, int *s, uint32_t *accepted, uint32_t n)
{
	for (int p = 0; p < IDLE_PORTS && *accepted < n; p++) {
		int fd;

		while (*accepted < n &&
		       (fd = wp_accept4(l[p], NULL, NULL, SOCK_NONBLOCK)) >= 0)
			s[(*accepted)++] = fd;
	}
}

/*
 * n connections, established and quiet. Connections go to IDLE_PORTS
 * listener ports in turn, so that the 4-tuples fit the client's port
 * range (net.ipv4.ip_local_port_range: 28232 ports per peer port).
 */
static int wp_idle(uint32_t n, struct idle *r)
{
	int *c = calloc(n + 1, sizeof(*c)), *s = calloc(n + 1, sizeof(*s));
	int l[IDLE_PORTS];
	uint32_t accepted = 0, made = 0;
	double m0, rss0, rings = 0;
	struct wp_bench_pair w;
	int ret = -1;

	if (!c || !s || wp_bench_pair_open(&w, WP_MTU_DEFAULT, 2 * n + 64)) {
		free(c);
		free(s);
		return -1;
	}
	for (int p = 0; p < IDLE_PORTS; p++)
		if ((l[p] = wp_bench_pair_listen(
			     &w, (uint16_t)(WP_BENCH_TCP_PORT + p), 0)) < 0)
			goto out;
	/* One connection first: pools and tables made on first use are
	 * not a connection's cost. */
	c[n] = wp_bench_pair_connect(&w, WP_BENCH_TCP_PORT, 0);
	wp_bench_pair_run(&w, 10000);
	s[n] = wp_accept4(l[0], NULL, NULL, SOCK_NONBLOCK);
	if (c[n] < 0 || s[n] < 0)
		goto out;
	wp_bench_pair_run(&w, 100 * WP_NSEC_PER_MSEC);
	m0 = heap_bytes();
	rss0 = rss_bytes();
	while (made < n) {
		for (int i = 0; i < IDLE_BATCH && made < n; i++, made++) {
			c[made] = wp_bench_pair_connect(
				&w,
				(uint16_t)(WP_BENCH_TCP_PORT +
					   made % IDLE_PORTS),
				0);
			if (c[made] < 0)
				goto out;
		}
		wp_bench_pair_run(&w, 10000);
		accept_all(l, s, &accepted, n);
	}
	/* Stragglers (a SYN retransmitted), then delayed ACKs: all quiet. */
	for (int i = 0; i < 50 && accepted < n; i++) {
		wp_bench_pair_run(&w, 100 * WP_NSEC_PER_MSEC);
		accept_all(l, s, &accepted, n);
	}
	if (accepted < n) {
		errno = ETIMEDOUT;
		goto out;
	}
	wp_bench_pair_run(&w, 100 * WP_NSEC_PER_MSEC);
	for (uint32_t i = 0; i < n; i++)
		rings += (double)(sndring_bytes(c[i]) + sndring_bytes(s[i]));
	r->conns = n;
	r->heap = heap_bytes() - m0;
	r->rss = rss_bytes() - rss0;
	r->rings = rings;
	ret = 0;
out:
	if (ret)
		fprintf(stderr,
			"bench conn-mem: %s (%u connects, %u accepted)\n",
			strerror(errno), made, accepted);
	wp_bench_pair_close(&w);
	free(c);
	free(s);
	return ret;
}

static int bench_conn_mem(const struct wp_bench_opts *opts)
{
	uint64_t n = opts->iterations ? opts->iterations : IDLE_CONNS;
	struct idle r;

	if (n > 400000) {
		fprintf(stderr, "bench conn-mem: at most 400000 connections "
				"(8 ports x the port range)\n");
		return 1;
	}
	if (wp_idle((uint32_t)n, &r))
		return 1;
	const double socks = 2.0 * r.conns;
	const struct wp_bench_field f[] = {
		{ .key = "side", .str = "wirepath" },
		{ .key = "conns", .value = r.conns },
		{ .key = "bytes_per_conn",
		  .value = r.heap / r.conns,
		  .unit = "B" },
		{ .key = "bytes_per_socket",
		  .value = r.heap / socks,
		  .unit = "B" },
		{ .key = "sndbuf_bytes_per_socket",
		  .value = r.rings / socks,
		  .unit = "B" },
		{ .key = "buffers_aside_bytes_per_conn",
		  .value = (r.heap - r.rings) / r.conns,
		  .unit = "B" },
		{ .key = "buffers_aside_bytes_per_socket",
		  .value = (r.heap - r.rings) / socks,
		  .unit = "B" },
		{ .key = "rss_bytes_per_socket",
		  .value = r.rss / socks,
		  .unit = "B" },
		{ .key = "sizeof_tcp_sock",
		  .value = sizeof(struct wp_tcp_sock),
		  .unit = "B" },
		{ .key = "sizeof_socket",
		  .value = sizeof(struct wp_socket),
		  .unit = "B" },
		{ .key = "sizeof_file",
		  .value = sizeof(struct wp_file),
		  .unit = "B" },
		{ 0 },
	};
	wp_bench_report(opts, "conn-mem", f);
	return 0;
}

WP_BENCH_REGISTER(bench_conn_mem, "conn-mem",
		  "bytes per idle established TCP connection, 100,000 of "
		  "them between two stacks")
