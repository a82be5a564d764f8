// SPDX-License-Identifier: MIT
/*
 * Application threads against a stack on virtual time: the main thread
 * plays the machine (it runs the pair: NICs, NAPI, the protocol layer,
 * sk_data_ready wake-ups), other threads play processes using the
 * socket calls while it does:
 *   - a blocking reader sleeps in wp_recv and is woken per datagram;
 *   - a non-blocking reader sees EAGAIN, then its data;
 *   - poll and select readers (pollwake, then rescan);
 *   - epoll readers, level-triggered and edge-triggered;
 *   - SO_RCVTIMEO expiring on the virtual clock, shutdown waking a
 *     sleeper, many readers sharing one socket (each datagram to exactly
 *     one of them), many writers (each with its own transmit pool),
 *     a send waiting for transmit buffers, zero-copy loans released on
 *     another thread;
 *   - busy polling (SO_BUSY_POLL, net.core.busy_read / busy_poll): a
 *     blocking read, poll, select and epoll spin before they sleep and
 *     catch data that way; off, nothing spins.
 * Datagrams carry (sender, sequence) so every test checks that each one
 * arrived exactly once, intact, in order per sender.
 */
#include "test_udp_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define PORT_B 7100
#define N_DGRAMS 300
#define MAX_IN_FLIGHT 32 /* datagrams sent and not yet read */
#define REAL_LIMIT_NS                                                          \
	(400 * WP_NSEC_PER_SEC) /* liveness only: a loaded host is slow */

struct dgram {
	uint32_t sender, seq, magic;
};

#define MAGIC 0x75647021u

struct reader {
	struct ufx *fx;
	int fd, ep;
	int mode; /* see enum below */
	uint32_t want;
	_Atomic uint32_t got;
	_Atomic uint32_t eagain;
	_Atomic bool ready; /* about to wait for the first time */
	_Atomic bool done;
	uint32_t next_seq;
	bool order_ok;
	bool intact;
	uint8_t *seen; /* per sequence number, for shared sockets */
	int last_ret, last_errno;
	uint64_t t0, t1; /* virtual time around a timed wait */
};

enum {
	R_BLOCKING,
	R_NONBLOCKING,
	R_POLL,
	R_SELECT,
	R_EPOLL_LT,
	R_EPOLL_ET,
};

static void nap(void)
{
	struct timespec ts = { 0, 100000 };

	nanosleep(&ts, NULL);
}

/* Check and count one datagram. */
static void take(struct reader *r, const struct dgram *d, ssize_t n)
{
	if (n != (ssize_t)sizeof(*d) || d->magic != MAGIC) {
		r->intact = false;
		return;
	}
	if (r->seen) {
		if (d->seq >= r->want || r->seen[d->seq])
			r->intact = false;
		else
			r->seen[d->seq] = 1;
	} else if (d->seq != r->next_seq) {
		r->order_ok = false;
	}
	r->next_seq = d->seq + 1;
	atomic_fetch_add(&r->got, 1);
}

/* Read until EAGAIN; returns false on any other error. */
static bool drain(struct reader *r)
{
	struct dgram d;
	ssize_t n;

	while ((n = wp_recv(r->fd, &d, sizeof(d), MSG_DONTWAIT)) >= 0)
		take(r, &d, n);
	return errno == EAGAIN;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct dgram d;
	ssize_t n = -1; /* a failed wait, errno set */

	while (atomic_load(&r->got) < r->want) {
		switch (r->mode) {
		case R_BLOCKING:
			atomic_store(&r->ready, true);
			n = wp_recv(r->fd, &d, sizeof(d), 0);
			if (n <= 0) /* 0: shut down */
				goto out;
			take(r, &d, n);
			break;
		case R_NONBLOCKING:
			n = wp_recv(r->fd, &d, sizeof(d), 0);
			if (n < 0 && errno == EAGAIN) {
				atomic_fetch_add(&r->eagain, 1);
				atomic_store(&r->ready, true);
				nap();
			} else if (n < 0) {
				goto out;
			} else {
				take(r, &d, n);
			}
			break;
		case R_POLL: {
			struct wp_pollfd p = { .fd = r->fd,
					       .events = WP_POLLIN };

			atomic_store(&r->ready, true);
			if (wp_poll(&p, 1, -1) != 1 || !(p.revents & WP_POLLIN))
				goto out;
			if (!drain(r))
				goto out;
			break;
		}
		case R_SELECT: {
			wp_fd_set rs;

			wp_fd_zero(&rs);
			wp_fd_setbit(r->fd, &rs);
			atomic_store(&r->ready, true);
			if (wp_select(r->fd + 1, &rs, NULL, NULL, NULL) != 1 ||
			    !wp_fd_isset(r->fd, &rs))
				goto out;
			if (!drain(r))
				goto out;
			break;
		}
		case R_EPOLL_LT: {
			struct wp_epoll_event ev;

			atomic_store(&r->ready, true);
			if (wp_epoll_wait(r->ep, &ev, 1, -1) != 1 ||
			    !(ev.events & WP_EPOLLIN))
				goto out;
			/* Level-triggered: one datagram per event is fine,
			 * the next wait reports the rest. */
			n = wp_recv(r->fd, &d, sizeof(d), MSG_DONTWAIT);
			if (n < 0)
				goto out;
			take(r, &d, n);
			break;
		}
		case R_EPOLL_ET: {
			struct wp_epoll_event ev;

			atomic_store(&r->ready, true);
			if (wp_epoll_wait(r->ep, &ev, 1, -1) != 1 ||
			    !(ev.events & WP_EPOLLIN))
				goto out;
			/* Edge-triggered: read until EAGAIN, or wait forever.
			 */
			if (!drain(r))
				goto out;
			break;
		}
		}
	}
	n = 0;
out:
	r->last_ret = (int)n;
	r->last_errno = n < 0 ? errno : 0;
	atomic_store(&r->done, true);
	return NULL;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void wait_flag(_Atomic bool *flag)
{
	uint64_t limit = real_ns() + REAL_LIMIT_NS;

	while (!atomic_load(flag)) {
		assert_true(real_ns() < limit);
		nap();
	}
}

/* Run the pair until flag is set (bounded in real time). */
static void run_until_flag(struct ufx *fx, _Atomic bool *flag)
{
	uint64_t limit = real_ns() + REAL_LIMIT_NS;

	while (!atomic_load(flag)) {
		assert_true(real_ns() < limit);
		ufx_run(fx, 100 * WP_NSEC_PER_USEC);
		nap();
	}
}

static void send_seq(int fa, uint32_t sender, uint32_t seq)
{
	struct dgram d = { sender, seq, MAGIC };

	ufx_sendto(fa, &d, sizeof(d), UFX_IP_B, PORT_B);
}

/* A reader of `mode` on B against N datagrams sent from A in bursts. */
static void run_reader(struct ufx *fx, int mode)
{
	struct reader r = { .fx = fx,
			    .mode = mode,
			    .want = N_DGRAMS,
			    .order_ok = true,
			    .intact = true,
			    .ep = -1 };
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	pthread_t t;
	uint32_t seq = 0;

	r.fd = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	if (mode == R_NONBLOCKING)
		assert_int_equal(wp_fcntl(r.fd, F_SETFL, O_NONBLOCK), 0);
	if (mode == R_EPOLL_LT || mode == R_EPOLL_ET) {
		struct wp_epoll_event ev = {
			.events = WP_EPOLLIN |
				  (mode == R_EPOLL_ET ? WP_EPOLLET : 0),
			.data.fd = r.fd,
		};

		r.ep = wp_epoll_create1(0);
		assert_true(r.ep >= 0);
		assert_int_equal(
			wp_epoll_ctl(r.ep, WP_EPOLL_CTL_ADD, r.fd, &ev), 0);
	}
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
	/* Let it block (or spin) before anything arrives. */
	wait_flag(&r.ready);
	nap();
	while (seq < N_DGRAMS) {
		/* Bursts of 1..7: sometimes one wake per datagram, sometimes
		 * several datagrams per wake. */
		uint32_t burst = 1 + seq % 7;
		uint64_t limit = real_ns() + REAL_LIMIT_NS;

		/* Never more in flight than the receive buffer holds: a
		 * reader a loaded host does not schedule for a while must
		 * not lose datagrams to a full queue (that would be the
		 * socket's backpressure, not what is tested here). */
		while (seq - atomic_load(&r.got) > MAX_IN_FLIGHT) {
			assert_true(real_ns() < limit);
			ufx_run(fx, 100 * WP_NSEC_PER_USEC);
			nap();
		}

		for (uint32_t i = 0; i < burst && seq < N_DGRAMS; i++)
			send_seq(fa, 0, seq++);
		ufx_run(fx, 100 * WP_NSEC_PER_USEC);
		if (seq % 3 == 0)
			nap();
	}
	run_until_flag(fx, &r.done);
	pthread_join(t, NULL);
	assert_int_equal(r.last_ret, 0);
	assert_int_equal(atomic_load(&r.got), N_DGRAMS);
	assert_true(r.order_ok);
	assert_true(r.intact);
	if (mode == R_NONBLOCKING)
		assert_true(atomic_load(&r.eagain) > 0);
	if (r.ep >= 0)
		assert_int_equal(wp_close(r.ep), 0);
	assert_int_equal(wp_close(r.fd), 0);
	assert_int_equal(wp_close(fa), 0);
}

static void test_blocking_reader(void **state)
{
	struct wp_socket_stats st;
	struct ufx *fx = *state;

	run_reader(fx, R_BLOCKING);
	wp_socket_get_global_stats(&st);
	assert_true(st.sleeps > 0);
}

static void test_nonblocking_reader(void **state)
{
	run_reader(*state, R_NONBLOCKING);
}

static void test_poll_reader(void **state)
{
	run_reader(*state, R_POLL);
}

static void test_select_reader(void **state)
{
	run_reader(*state, R_SELECT);
}

static void test_epoll_lt_reader(void **state)
{
	run_reader(*state, R_EPOLL_LT);
}

static void test_epoll_et_reader(void **state)
{
	run_reader(*state, R_EPOLL_ET);
}

/*
 * The difference between the two epoll modes, made exact: with two
 * datagrams queued and one read, level-triggered reports again,
 * edge-triggered does not until a new datagram arrives.
 */
static void test_epoll_edge_vs_level(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	int lt = wp_epoll_create1(0), et = wp_epoll_create1(0);
	struct wp_epoll_event ev = { .events = WP_EPOLLIN, .data.fd = fb };
	struct dgram d;

	assert_int_equal(wp_epoll_ctl(lt, WP_EPOLL_CTL_ADD, fb, &ev), 0);
	ev.events |= WP_EPOLLET;
	assert_int_equal(wp_epoll_ctl(et, WP_EPOLL_CTL_ADD, fb, &ev), 0);
	send_seq(fa, 0, 0);
	send_seq(fa, 0, 1);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_epoll_wait(lt, &ev, 1, 0), 1);
	assert_int_equal(wp_epoll_wait(et, &ev, 1, 0), 1);
	assert_int_equal(wp_recv(fb, &d, sizeof(d), 0), sizeof(d));
	assert_int_equal(wp_epoll_wait(lt, &ev, 1, 0), 1);
	assert_int_equal(wp_epoll_wait(et, &ev, 1, 0), 0);
	/* A new datagram is a new edge. */
	send_seq(fa, 0, 2);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_epoll_wait(et, &ev, 1, 0), 1);
	assert_int_equal(wp_epoll_wait(et, &ev, 1, 0), 0);
	assert_int_equal(wp_close(lt), 0);
	assert_int_equal(wp_close(et), 0);
	assert_int_equal(wp_close(fb), 0);
	assert_int_equal(wp_close(fa), 0);
}

/* --- timeouts and wake-ups ----------------------------------------------- */

static void *timed_reader(void *arg)
{
	struct reader *r = arg;
	struct dgram d;

	r->t0 = ufx_now(r->fx);
	atomic_store(&r->ready, true);
	r->last_ret = (int)wp_recv(r->fd, &d, sizeof(d), 0);
	r->last_errno = errno;
	r->t1 = ufx_now(r->fx);
	atomic_store(&r->done, true);
	return NULL;
}

static void test_rcvtimeo(void **state)
{
	struct ufx *fx = *state;
	struct reader r = { .fx = fx };
	struct timeval tv = { 0, 50000 }; /* 50 ms of virtual time */
	pthread_t t;

	r.fd = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	assert_int_equal(
		wp_setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
		0);
	assert_int_equal(pthread_create(&t, NULL, timed_reader, &r), 0);
	wait_flag(&r.ready);
	run_until_flag(fx, &r.done);
	pthread_join(t, NULL);
	assert_int_equal(r.last_ret, -1);
	assert_int_equal(r.last_errno, EAGAIN);
	assert_true(r.t1 - r.t0 >= 50 * UFX_MS);
	/* It noticed within a slice or so of the clock passing it. */
	assert_true(r.t1 - r.t0 < 500 * UFX_MS);
	assert_int_equal(wp_close(r.fd), 0);
}

/* A datagram before the timeout: it is returned, not EAGAIN. */
static void test_rcvtimeo_data_first(void **state)
{
	struct ufx *fx = *state;
	struct reader r = { .fx = fx };
	struct timeval tv = { 10, 0 };
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	pthread_t t;

	r.fd = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	assert_int_equal(
		wp_setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
		0);
	assert_int_equal(pthread_create(&t, NULL, timed_reader, &r), 0);
	wait_flag(&r.ready);
	ufx_run(fx, 3 * UFX_MS);
	send_seq(fa, 0, 0);
	run_until_flag(fx, &r.done);
	pthread_join(t, NULL);
	assert_int_equal(r.last_ret, sizeof(struct dgram));
	assert_true(r.t1 - r.t0 < 10 * WP_NSEC_PER_SEC);
	assert_int_equal(wp_close(r.fd), 0);
	assert_int_equal(wp_close(fa), 0);
}

/* shutdown(SHUT_RD) from another thread wakes a sleeping reader: 0. */
static void test_shutdown_wakes(void **state)
{
	struct ufx *fx = *state;
	struct reader r = { .fx = fx };
	pthread_t t;

	r.fd = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	assert_int_equal(pthread_create(&t, NULL, timed_reader, &r), 0);
	wait_flag(&r.ready);
	nap();
	ufx_expect_errno(wp_shutdown(r.fd, SHUT_RD), ENOTCONN);
	wait_flag(&r.done);
	pthread_join(t, NULL);
	assert_int_equal(r.last_ret, 0);
	assert_int_equal(wp_close(r.fd), 0);
}

/* --- sharing ------------------------------------------------------------- */

#define N_SHARED 4

/* Several threads block on one socket: each datagram goes to one. */
static void test_shared_socket_readers(void **state)
{
	struct ufx *fx = *state;
	struct reader r[N_SHARED];
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	uint8_t *seen = calloc(N_DGRAMS * 2, 1);
	pthread_t t[N_SHARED];
	uint32_t total = 0;

	assert_non_null(seen);
	for (int i = 0; i < N_SHARED; i++) {
		r[i] = (struct reader){ .fx = fx,
					.fd = fb,
					.want = UINT32_MAX,
					.intact = true,
					.order_ok = true,
					.mode = R_BLOCKING,
					.seen = calloc(N_DGRAMS * 2, 1) };
		assert_non_null(r[i].seen);
		r[i].want = N_DGRAMS * 2; /* bound for seen[] */
		assert_int_equal(
			pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
	}
	for (int i = 0; i < N_SHARED; i++)
		wait_flag(&r[i].ready);
	for (uint32_t seq = 0; seq < N_DGRAMS * 2; seq++) {
		send_seq(fa, 0, seq);
		if (seq % 5 == 4) {
			ufx_run(fx, 100 * WP_NSEC_PER_USEC);
			nap();
		}
	}
	ufx_run(fx, UFX_MS);
	/* All read: then shutdown ends every blocked reader with 0. */
	for (uint64_t limit = real_ns() + REAL_LIMIT_NS;;) {
		total = 0;
		for (int i = 0; i < N_SHARED; i++)
			total += atomic_load(&r[i].got);
		if (total == N_DGRAMS * 2)
			break;
		assert_true(real_ns() < limit);
		nap();
	}
	wp_shutdown(fb, SHUT_RD);
	for (int i = 0; i < N_SHARED; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].last_ret, 0);
		assert_true(r[i].intact);
		for (uint32_t s = 0; s < N_DGRAMS * 2; s++) {
			assert_false(seen[s] && r[i].seen[s]);
			seen[s] |= r[i].seen[s];
		}
		free(r[i].seen);
	}
	for (uint32_t s = 0; s < N_DGRAMS * 2; s++)
		assert_true(seen[s]);
	free(seen);
	assert_int_equal(wp_close(fb), 0);
	assert_int_equal(wp_close(fa), 0);
}

#define N_WRITERS 4
#define PER_WRITER 2000

struct writer {
	struct ufx *fx;
	uint32_t id;
	int fd;
	bool nonblock;
	uint32_t sent, eagain;
	_Atomic bool done;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);

	while (w->sent < PER_WRITER) {
		struct dgram d = { w->id, w->sent, MAGIC };
		ssize_t n = wp_sendto(w->fd, &d, sizeof(d),
				      w->nonblock ? MSG_DONTWAIT : 0,
				      UFX_SA(to), sizeof(to));

		if (n == (ssize_t)sizeof(d)) {
			w->sent++;
		} else {
			if (errno != EAGAIN)
				break;
			w->eagain++;
			nap();
		}
	}
	atomic_store(&w->done, true);
	return NULL;
}

/*
 * Writers on four threads (each its own transmit pool) send to one
 * socket on B while its reader reads: everything sent arrives, once, in
 * order per writer, or is counted where it was dropped.
 */
static void test_concurrent_writers(void **state)
{
	struct ufx *fx = *state;
	struct writer w[N_WRITERS];
	pthread_t t[N_WRITERS];
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B), big = 8 << 20;
	uint32_t next[N_WRITERS] = { 0 }, got = 0, sent = 0;
	struct wp_net_mib ma, mb;
	struct wp_nic_stats na, nb;
	uint64_t lost = 0;
	bool done = false;
	struct dgram d;
	ssize_t n;

	assert_int_equal(wp_setsockopt(fb, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				       sizeof(big)),
			 0);
	for (int i = 0; i < N_WRITERS; i++) {
		w[i] = (struct writer){ .fx = fx,
					.id = (uint32_t)i,
					.nonblock = i % 2 };
		w[i].fd = ufx_udp(fx->a, INADDR_ANY, 0);
		assert_int_equal(
			pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (uint64_t limit = real_ns() + REAL_LIMIT_NS; !done;) {
		if (real_ns() > limit) {
			struct wp_drop_stats da, db;

			wp_stack_drops(fx->a, &da);
			wp_stack_drops(fx->b, &db);
			fprintf(stderr, "got %u lost %lu\n", got,
				(unsigned long)lost);
			for (int r = 0; r < WP_DROP__MAX; r++)
				if (da.count[r] || db.count[r])
					fprintf(stderr, "%s a %lu b %lu\n",
						wp_drop_reason_name(r),
						(unsigned long)da.count[r],
						(unsigned long)db.count[r]);
			fail();
		}
		ufx_run(fx, 50 * WP_NSEC_PER_USEC);
		while ((n = wp_recv(fb, &d, sizeof(d), MSG_DONTWAIT)) > 0) {
			assert_int_equal(n, sizeof(d));
			assert_int_equal(d.magic, MAGIC);
			assert_true(d.sender < N_WRITERS);
			/* In order per writer; a gap is a counted drop. */
			assert_true(d.seq >= next[d.sender]);
			next[d.sender] = d.seq + 1;
			got++;
		}
		done = true;
		for (int i = 0; i < N_WRITERS; i++)
			done &= atomic_load(&w[i].done);
		ma = ufx_mib(fx->a);
		mb = ufx_mib(fx->b);
		wp_nic_get_stats(fx->a->nic, &na);
		wp_nic_get_stats(fx->b->nic, &nb);
		lost = ma.UdpSndbufErrors + na.tx_dropped + na.tx_busy +
		       nb.rx_missed_errors + mb.UdpRcvbufErrors;
		done &= got + lost == N_WRITERS * PER_WRITER;
	}
	for (int i = 0; i < N_WRITERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].sent, PER_WRITER);
		sent += w[i].sent;
		assert_int_equal(wp_close(w[i].fd), 0);
	}
	assert_int_equal(sent, N_WRITERS * PER_WRITER);
	/* Writers outrun the machine: the core's submit queue (1000) and
	 * the receiving NIC's ring overflow. Every loss is counted where it
	 * happened, and nothing else is lost. */
	assert_int_equal(mb.UdpRcvbufErrors, 0);
	assert_int_equal(got + lost, sent);
	assert_int_equal(ma.SubmitDrops, ma.UdpSndbufErrors);
	assert_int_equal(wp_close(fb), 0);
}

/* --- transmit buffers ------------------------------------------------------
 */

struct blocked_send {
	int fd;
	ssize_t ret;
	_Atomic bool started, done;
};

static void *fill_pool(void *arg)
{
	struct blocked_send *b = arg;
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);
	struct dgram d = { 8, 0, MAGIC };
	struct timeval none = { -1, 0 };

	/* Until this thread's pool is dry: EAGAIN, not a wait. */
	while (wp_sendto(b->fd, &d, sizeof(d), MSG_DONTWAIT, UFX_SA(to),
			 sizeof(to)) == sizeof(d))
		d.seq++;
	b->ret = errno == EAGAIN ? (ssize_t)d.seq : -1;
	/* A blocking send with a timeout of "no wait" fails the same. */
	if (wp_setsockopt(b->fd, SOL_SOCKET, SO_SNDTIMEO, &none,
			  sizeof(none)) ||
	    wp_sendto(b->fd, &d, sizeof(d), 0, UFX_SA(to), sizeof(to)) != -1 ||
	    errno != EAGAIN)
		b->ret = -2;
	none = (struct timeval){ 0, 0 };
	wp_setsockopt(b->fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
	/* Now a blocking send: it waits until a buffer comes back. */
	atomic_store(&b->started, true);
	if (wp_sendto(b->fd, &d, sizeof(d), 0, UFX_SA(to), sizeof(to)) !=
	    sizeof(d))
		b->ret = -3;
	atomic_store(&b->done, true);
	return NULL;
}

static void test_tx_pool_backpressure(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B), big = 8 << 20;
	struct blocked_send b = { 0 };
	struct wp_socket_stats st;
	struct dgram d;
	pthread_t t;
	uint32_t got = 0;

	assert_int_equal(wp_setsockopt(fb, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				       sizeof(big)),
			 0);
	b.fd = ufx_udp(fx->a, INADDR_ANY, 0);
	assert_int_equal(pthread_create(&t, NULL, fill_pool, &b), 0);
	wait_flag(&b.started);
	/* The pool held 512 buffers; the machine has not run. */
	assert_int_equal(b.ret, 512);
	nap();
	assert_false(atomic_load(&b.done));
	/* Running it transmits, frees buffers, and the send goes. */
	run_until_flag(fx, &b.done);
	pthread_join(t, NULL);
	assert_int_equal(b.ret, 512);
	ufx_run(fx, UFX_MS);
	while (wp_recv(fb, &d, sizeof(d), MSG_DONTWAIT) == sizeof(d))
		got++;
	assert_int_equal(got, 513);
	assert_int_equal(wp_socket_get_stats(b.fd, &st), 0);
	assert_int_equal(st.tx_datagrams, 513);
	assert_true(st.would_block >= 2);
	assert_true(st.sleeps >= 1);
	assert_int_equal(wp_close(b.fd), 0);
	assert_int_equal(wp_close(fb), 0);
}

/* --- zero copy across threads -------------------------------------------- */

struct zc_reader {
	int fd;
	uint32_t n;
	struct wp_zc_handle *h[64];
	bool intact;
	_Atomic bool done;
};

static void *zc_main(void *arg)
{
	struct zc_reader *z = arg;

	z->intact = true;
	while (z->n < 64) {
		struct iovec iov;
		struct dgram d;

		if (wp_recv_zc(z->fd, &iov, &z->h[z->n], 0, NULL, NULL) !=
		    sizeof(d)) {
			z->intact = false;
			break;
		}
		memcpy(&d, iov.iov_base, sizeof(d));
		z->intact &= d.magic == MAGIC && d.seq == z->n;
		z->n++;
	}
	atomic_store(&z->done, true);
	return NULL;
}

/* Loans taken on one thread, given back on another (the main one). */
static void test_zero_copy_threads(void **state)
{
	struct ufx *fx = *state;
	struct zc_reader z = { 0 };
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	pthread_t t;

	z.fd = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	assert_int_equal(pthread_create(&t, NULL, zc_main, &z), 0);
	for (uint32_t i = 0; i < 64; i++) {
		send_seq(fa, 0, i);
		if (i % 8 == 7)
			ufx_run(fx, 100 * WP_NSEC_PER_USEC);
	}
	run_until_flag(fx, &z.done);
	pthread_join(t, NULL);
	assert_true(z.intact);
	assert_int_equal(z.n, 64);
	for (uint32_t i = 0; i < 64; i++)
		wp_recv_zc_release(z.h[i]);
	assert_int_equal(wp_close(z.fd), 0);
	assert_int_equal(wp_close(fa), 0);
}

/* --- busy polling ---------------------------------------------------------- */

struct busy_reader {
	int fd, ep, mode; /* R_BLOCKING, R_POLL, R_SELECT or R_EPOLL_LT */
	int rounds;
	_Atomic int waiting; /* the round the reader is in the call of */
	_Atomic int done;    /* rounds finished */
	bool ok;
};

static void *busy_reader_main(void *arg)
{
	struct busy_reader *b = arg;
	struct dgram d;

	for (int i = 1; i <= b->rounds; i++) {
		atomic_store(&b->waiting, i);
		if (b->mode == R_POLL) {
			struct wp_pollfd p = { .fd = b->fd,
					       .events = WP_POLLIN };

			if (wp_poll(&p, 1, -1) != 1)
				return NULL;
		} else if (b->mode == R_SELECT) {
			wp_fd_set rs;

			wp_fd_zero(&rs);
			wp_fd_setbit(b->fd, &rs);
			if (wp_select(b->fd + 1, &rs, NULL, NULL, NULL) != 1)
				return NULL;
		} else if (b->mode == R_EPOLL_LT) {
			struct wp_epoll_event ev;

			if (wp_epoll_wait(b->ep, &ev, 1, -1) != 1)
				return NULL;
		}
		if (wp_recv(b->fd, &d, sizeof(d), 0) != (ssize_t)sizeof(d) ||
		    d.seq != (uint32_t)i)
			return NULL;
		atomic_store(&b->done, i);
	}
	b->ok = true;
	return NULL;
}

/*
 * A reader that busy-polls spins before it sleeps; a datagram that comes
 * while it spins is taken without a sleep or a wake-up. Whether one
 * comes in time depends on the host's scheduling, so over several rounds
 * at least one must have been caught spinning, every round must have
 * spun, and every datagram must have arrived.
 */
static void run_busy_reader(struct ufx *fx, int mode)
{
	struct busy_reader b = { .mode = mode, .rounds = 8, .ep = -1 };
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	struct wp_socket_stats st;
	struct wp_wake_stats w0, w1;
	pthread_t t;
	int one_s = 1000000, v = 0;
	socklen_t len = sizeof(v);

	/* net.core.busy_read is what a new socket starts with... */
	assert_int_equal(
		wp_sysctl_set(&fx->b->sysctl, "net.core.busy_read", "70"), 0);
	b.fd = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	assert_int_equal(
		wp_getsockopt(b.fd, SOL_SOCKET, SO_BUSY_POLL, &v, &len), 0);
	assert_int_equal(v, 70);
	/* ... and SO_BUSY_POLL sets it per socket (negative: EINVAL). */
	v = -1;
	ufx_expect_errno(
		wp_setsockopt(b.fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof(v)),
		EINVAL);
	assert_int_equal(wp_setsockopt(b.fd, SOL_SOCKET, SO_BUSY_POLL, &one_s,
				       sizeof(one_s)),
			 0);
	/* poll, select and epoll spin for net.core.busy_poll. */
	assert_int_equal(
		wp_sysctl_set(&fx->b->sysctl, "net.core.busy_poll", "1000000"),
		0);
	if (mode == R_EPOLL_LT) {
		struct wp_epoll_event ev = { .events = WP_EPOLLIN,
					     .data.fd = b.fd };

		b.ep = wp_epoll_create1(0);
		assert_true(b.ep >= 0);
		assert_int_equal(wp_epoll_ctl(b.ep, WP_EPOLL_CTL_ADD, b.fd, &ev),
				 0);
	}
	wp_wake_stats_shared(&w0);
	assert_int_equal(pthread_create(&t, NULL, busy_reader_main, &b), 0);
	for (int i = 1; i <= b.rounds; i++) {
		uint64_t limit = real_ns() + REAL_LIMIT_NS;

		while (atomic_load(&b.waiting) < i) {
			assert_true(real_ns() < limit);
			nap();
		}
		nap(); /* into the call, spinning */
		send_seq(fa, 0, (uint32_t)i);
		while (atomic_load(&b.done) < i) {
			assert_true(real_ns() < limit);
			ufx_run(fx, 100 * WP_NSEC_PER_USEC);
		}
	}
	pthread_join(t, NULL);
	assert_true(b.ok);
	wp_wake_stats_shared(&w1);
	assert_int_equal(wp_socket_get_stats(b.fd, &st), 0);
	if (mode == R_BLOCKING) {
		assert_true(st.busy_polls >= (uint64_t)b.rounds);
		assert_true(st.busy_poll_hits >= 1);
		assert_true(st.busy_poll_hits <= st.busy_polls);
	} else if (mode == R_EPOLL_LT) {
		assert_true(w1.epoll_busy_loops - w0.epoll_busy_loops >=
			    (uint64_t)b.rounds);
		assert_true(w1.epoll_busy_hits - w0.epoll_busy_hits >= 1);
	} else {
		assert_true(w1.poll_busy_loops - w0.poll_busy_loops >=
			    (uint64_t)b.rounds);
		assert_true(w1.poll_busy_hits - w0.poll_busy_hits >= 1);
	}
	if (b.ep >= 0)
		assert_int_equal(wp_close(b.ep), 0);
	assert_int_equal(wp_close(b.fd), 0);
	assert_int_equal(wp_close(fa), 0);
}

static void test_busy_read(void **state)
{
	run_busy_reader(*state, R_BLOCKING);
}

static void test_busy_poll(void **state)
{
	run_busy_reader(*state, R_POLL);
	run_busy_reader(*state, R_SELECT);
	run_busy_reader(*state, R_EPOLL_LT);
}

/* Off (the default): no spinning at all. */
static void test_busy_poll_off(void **state)
{
	struct wp_socket_stats s0, s1;
	struct wp_wake_stats w0, w1;

	wp_socket_get_global_stats(&s0);
	wp_wake_stats_shared(&w0);
	run_reader(*state, R_BLOCKING);
	run_reader(*state, R_POLL);
	run_reader(*state, R_EPOLL_LT);
	wp_wake_stats_shared(&w1);
	wp_socket_get_global_stats(&s1);
	assert_true(s1.sleeps > s0.sleeps);
	assert_int_equal(s1.busy_polls - s0.busy_polls, 0);
	assert_int_equal(w1.poll_busy_loops - w0.poll_busy_loops, 0);
	assert_int_equal(w1.epoll_busy_loops - w0.epoll_busy_loops, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, ufx_setup, ufx_teardown)
		T(test_blocking_reader),       T(test_nonblocking_reader),
		T(test_poll_reader),	       T(test_select_reader),
		T(test_epoll_lt_reader),       T(test_epoll_et_reader),
		T(test_epoll_edge_vs_level),   T(test_rcvtimeo),
		T(test_rcvtimeo_data_first),   T(test_shutdown_wakes),
		T(test_shared_socket_readers), T(test_concurrent_writers),
		T(test_tx_pool_backpressure),  T(test_zero_copy_threads),
		T(test_busy_read),	       T(test_busy_poll),
		T(test_busy_poll_off),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
