/* SPDX-License-Identifier: MIT */
/*
 * What the live-wire tests (test_tap, test_afpacket) share: a private
 * network namespace, test frames, the kernel side of the wire (an
 * AF_PACKET socket), a stack whose rx_handler captures test frames and
 * whose cores transmit on request, and stderr capture for messages.
 *
 * The tests run in a network namespace of their own (unshare at start),
 * so every device they create lives and dies with the test process: a
 * crash or a failed assertion leaves nothing behind on the host.
 *
 * Test frames are IPv4/UDP (so the kernel's flow hash and the NIC's RSS
 * both spread them by flow) with a payload that names the frame and is a
 * function of it: magic, sequence number, flow, then filler.
 */
#ifndef WP_TEST_WIRE_RIG_H
#define WP_TEST_WIRE_RIG_H

#include "test_core_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "irq/irq.h"
#include "napi/napi.h"
#include "nic/backend/backend.h"
#include "nic/nic.h"
#include "skb/pool.h"
#include "skb/skb.h"
#include "stack/stack.h"

#define WT_MAGIC 0x77697265u /* "wire" */
#define WT_HDR 42	     /* Ethernet + IPv4 + UDP */
#define WT_PAYLOAD_HDR 10    /* magic, seq, flow */
#define WT_MIN_LEN 60
#define WT_MAX_FLOWS 256
#define WT_SEEN_MAX 65536

/* --- the environment ---------------------------------------------------- */

static const char *wt_skip_reason;

static inline void wt_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return; /* best effort: a kernel without IPv6 has no knob */
	n = write(fd, s, strlen(s));
	(void)n;
	close(fd);
}

/*
 * Root, the devices, and a namespace of our own; else every test skips
 * with the reason. IPv6 off, so the kernel sends no router solicitations
 * or MLD reports into the wire and counts stay exact.
 */
static inline void wt_env_init(bool need_tun)
{
	if (geteuid() != 0) {
		wt_skip_reason = "not root: these tests create network devices "
				 "(run as root, or with CAP_NET_ADMIN and "
				 "CAP_NET_RAW)";
		return;
	}
	if (need_tun && access("/dev/net/tun", R_OK | W_OK) != 0) {
		wt_skip_reason = "/dev/net/tun is missing: modprobe tun";
		return;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		wt_skip_reason = "cannot create a network namespace "
				 "(unshare(CLONE_NEWNET) refused)";
		return;
	}
	wt_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	wt_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
}

#define WT_REQUIRE()                                                           \
	do {                                                                   \
		if (wt_skip_reason) {                                          \
			print_message("[   SKIP   ] %s\n", wt_skip_reason);    \
			skip();                                                \
		}                                                              \
	} while (0)

static inline uint64_t wt_now_ms(void)
{
	return wp_time_real_ns() / WP_NSEC_PER_MSEC;
}

static inline void wt_sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Wait up to ms for a counter another thread bumps to reach want. */
static inline bool wt_wait_ge(const uint64_t *v, uint64_t want, uint64_t ms)
{
	uint64_t end = wt_now_ms() + ms;

	while (__atomic_load_n(v, __ATOMIC_RELAXED) < want && wt_now_ms() < end)
		wt_sleep_us(1000);
	return __atomic_load_n(v, __ATOMIC_RELAXED) >= want;
}

static inline bool wt_wait_ge_a(_Atomic uint64_t *v, uint64_t want, uint64_t ms)
{
	uint64_t end = wt_now_ms() + ms;

	while (atomic_load(v) < want && wt_now_ms() < end)
		wt_sleep_us(1000);
	return atomic_load(v) >= want;
}

static inline bool wt_if_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static inline void wt_if_flags(const char *name, short *flags)
{
	struct ifreq ifr;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	*flags = ifr.ifr_flags;
	close(fd);
}

static inline int wt_if_ioctl(const char *name, unsigned long req,
			      struct ifreq *ifr)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), ret;

	assert_true(fd >= 0);
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	ret = ioctl(fd, req, ifr);
	close(fd);
	return ret;
}

static inline uint32_t wt_if_mtu(const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(wt_if_ioctl(name, SIOCGIFMTU, &ifr), 0);
	return (uint32_t)ifr.ifr_mtu;
}

static inline void wt_if_set_mtu(const char *name, uint32_t mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	assert_int_equal(wt_if_ioctl(name, SIOCSIFMTU, &ifr), 0);
}

static inline void wt_if_set_up(const char *name, bool up)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(wt_if_ioctl(name, SIOCGIFFLAGS, &ifr), 0);
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	assert_int_equal(wt_if_ioctl(name, SIOCSIFFLAGS, &ifr), 0);
}

static inline void wt_if_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(wt_if_ioctl(name, SIOCGIFHWADDR, &ifr), 0);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

/* --- stderr capture ------------------------------------------------------- */

struct wt_errcap {
	int saved;
	FILE *f;
	char text[4096];
};

static inline void wt_errcap_begin(struct wt_errcap *c)
{
	fflush(stderr);
	c->f = tmpfile();
	assert_non_null(c->f);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->f), STDERR_FILENO) >= 0);
}

/* Restores stderr, echoes what was said (for the test log), keeps it. */
static inline const char *wt_errcap_end(struct wt_errcap *c)
{
	size_t n;

	fflush(stderr);
	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	rewind(c->f);
	n = fread(c->text, 1, sizeof(c->text) - 1, c->f);
	c->text[n] = '\0';
	fclose(c->f);
	fputs(c->text, stderr);
	return c->text;
}

/* --- test frames ---------------------------------------------------------- */

static inline void wt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wt_put32(uint8_t *p, uint32_t v)
{
	wt_put16(p, (uint16_t)(v >> 16));
	wt_put16(p + 2, (uint16_t)v);
}

static inline uint16_t wt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t wt_get32(const uint8_t *p)
{
	return (uint32_t)wt_get16(p) << 16 | wt_get16(p + 2);
}

static inline uint16_t wt_csum(const uint8_t *p, size_t len, uint32_t acc)
{
	for (; len > 1; p += 2, len -= 2)
		acc += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static inline uint8_t wt_fill(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7);
}

/* The length of frame seq when lengths vary: 60..max, all sizes visited. */
static inline uint32_t wt_len_of(uint32_t seq, uint32_t max)
{
	return WT_MIN_LEN + (seq * 37) % (max - WT_MIN_LEN + 1);
}

/* An IPv4/UDP test frame of len bytes (>= 60) from flow `flow`. */
static inline void wt_frame(uint8_t *f, uint32_t len, const uint8_t dst[6],
			    const uint8_t src[6], uint32_t seq, uint16_t flow)
{
	uint8_t *ip = f + 14, *udp = f + 34, *pl = f + WT_HDR;

	assert_true(len >= WT_MIN_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	wt_put16(f + 12, ETH_P_IP);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	wt_put16(ip + 2, (uint16_t)(len - 14));
	wt_put16(ip + 4, (uint16_t)seq);
	wt_put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	wt_put32(ip + 12, 0x0a4d0000u | (1u + flow)); /* 10.77.x.y */
	wt_put32(ip + 16, 0x0a4e0001u);		      /* 10.78.0.1 */
	wt_put16(ip + 10, (uint16_t)~wt_csum(ip, 20, 0));
	wt_put16(udp, (uint16_t)(20000 + flow));
	wt_put16(udp + 2, 9);
	wt_put16(udp + 4, (uint16_t)(len - 34));
	wt_put16(udp + 6, 0); /* RFC 768: none */
	wt_put32(pl, WT_MAGIC);
	wt_put32(pl + 4, seq);
	wt_put16(pl + 8, flow);
	for (uint32_t i = WT_HDR + WT_PAYLOAD_HDR; i < len; i++)
		f[i] = wt_fill(seq, i);
}

/*
 * Is f a test frame (1: intact, -1: one of ours but damaged, 0: not
 * ours)? off: where the IPv4 header starts (14, or 18 with a tag).
 */
static inline int wt_parse(const uint8_t *f, uint32_t len, uint32_t off,
			   uint32_t *seq, uint16_t *flow)
{
	const uint8_t *ip = f + off, *pl = f + off + 28;

	if (len < off + 28 + WT_PAYLOAD_HDR ||
	    wt_get16(f + off - 2) != ETH_P_IP || ip[9] != 17 ||
	    wt_get32(pl) != WT_MAGIC)
		return 0;
	*seq = wt_get32(pl + 4);
	*flow = wt_get16(pl + 8);
	if (wt_get16(ip + 2) != len - off || wt_csum(ip, 20, 0) != 0xffff)
		return -1;
	for (uint32_t i = off + 28 + WT_PAYLOAD_HDR; i < len; i++)
		if (f[i] != wt_fill(*seq, i - (off - 14)))
			return -1;
	return 1;
}

/*
 * Everything a test has alive, so that a failed assertion (which leaves
 * the test function by longjmp) still gets its stacks destroyed and its
 * sockets closed by wt_teardown, and the next test starts clean.
 */
#define WT_LIVE_MAX 8
struct wt_rig;
static struct wt_rig *wt_live_rigs[WT_LIVE_MAX];
static int wt_live_fds[WT_LIVE_MAX];
static int wt_live_nfds;

static inline void wt_live_fd(int fd)
{
	assert_true(wt_live_nfds < WT_LIVE_MAX);
	wt_live_fds[wt_live_nfds++] = fd;
}

static inline void wt_kclose(int fd)
{
	for (int i = 0; i < wt_live_nfds; i++)
		if (wt_live_fds[i] == fd)
			wt_live_fds[i] = wt_live_fds[--wt_live_nfds];
	close(fd);
}

/* --- the kernel side: an AF_PACKET socket on an interface ----------------- */

static inline int wt_ksock(const char *ifname)
{
	struct sockaddr_ll sll;
	int fd, one = 1, big = 8 << 20;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING,
				    &one, sizeof(one)),
			 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	assert_true(sll.sll_ifindex > 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	wt_live_fd(fd);
	return fd;
}

static inline void wt_ksend(int fd, const uint8_t *f, uint32_t len)
{
	for (;;) {
		ssize_t n = send(fd, f, len, 0);

		if (n == (ssize_t)len)
			return;
		/* A full device queue: let it drain. */
		assert_true(n < 0 && (errno == ENOBUFS || errno == EAGAIN));
		wt_sleep_us(200);
	}
}

/* One frame within ms, or -1. */
static inline ssize_t wt_krecv(int fd, uint8_t *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, size, MSG_DONTWAIT);
}

/* --- the stack: capture and transmit -------------------------------------- */

struct wt_cap {
	_Atomic uint64_t frames, bad, other, bytes, tagged;
	_Atomic uint64_t per_queue[WP_NIC_MAX_QUEUES];
	_Atomic uint16_t flow_q[WT_MAX_FLOWS]; /* first queue + 1; 0: none */
	_Atomic uint64_t flow_moved;	       /* a flow seen on two queues */
	_Atomic uint8_t seen[WT_SEEN_MAX];     /* times each seq arrived */
	_Atomic uint64_t last_latency_ns;      /* DMA -> handler, last frame */
	_Atomic uint16_t last_tci;	       /* of the last tagged frame */
};

struct wt_txgen {
	struct wp_stack *s;
	uint16_t q;
	uint8_t dst[6];
	uint32_t max_len;
	_Atomic uint32_t want;	 /* frames asked for */
	_Atomic uint32_t sent;	 /* frames on the TX ring */
	uint64_t busy;		 /* ring full: tried again later */
	_Atomic uint64_t errors; /* xmit refused otherwise (hooks cannot
				  * assert: they run on core threads) */
};

struct wt_rig {
	struct wp_stack *s;
	struct wt_cap *cap;
	struct wt_txgen tx[WP_MAX_CPUS];
	bool started;
};

static inline void wt_cap_rx(void *ctx, struct wp_napi *napi,
			     struct wp_skb_queue *skbs)
{
	struct wt_cap *c = ctx;
	uint64_t now = wp_time_real_ns();
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(skbs))) {
		uint32_t off = 14, seq = 0;
		uint16_t flow = 0, q = skb->queue_mapping, want;
		int r;

		if (skb->len >= 18 && wt_get16(skb->data + 12) == ETH_P_8021Q) {
			off = 18;
			atomic_fetch_add(&c->tagged, 1);
			atomic_store(&c->last_tci, wt_get16(skb->data + 14));
		}
		r = wt_parse(skb->data, skb->len, off, &seq, &flow);
		if (r == 0) {
			atomic_fetch_add(&c->other, 1);
		} else if (r < 0) {
			atomic_fetch_add(&c->bad, 1);
		} else {
			atomic_fetch_add(&c->frames, 1);
			atomic_fetch_add(&c->bytes, skb->len);
			if (q < WP_NIC_MAX_QUEUES)
				atomic_fetch_add(&c->per_queue[q], 1);
			if (seq < WT_SEEN_MAX)
				atomic_fetch_add(&c->seen[seq], 1);
			want = 0;
			if (flow < WT_MAX_FLOWS &&
			    !atomic_compare_exchange_strong(
				    &c->flow_q[flow], &want,
				    (uint16_t)(q + 1)) &&
			    want != q + 1)
				atomic_fetch_add(&c->flow_moved, 1);
			atomic_store(&c->last_latency_ns,
				     now > skb->tstamp ? now - skb->tstamp : 0);
		}
		wp_consume_skb(skb);
	}
}

/*
 * A core hook: put the frames asked for on this core's TX queue, from
 * the pool of the RX queue the core owns. A full ring: try again in
 * 100 us (the core sleeps until its timer).
 */
static inline void wt_tx_hook(struct wp_cpu *cpu, void *arg)
{
	struct wt_txgen *g = arg;
	struct wp_nic *nic = g->s->nic;
	uint32_t want = atomic_load(&g->want), sent = atomic_load(&g->sent);
	uint32_t n = 0;

	while (sent < want && n < 64) {
		uint32_t seq = (uint32_t)g->q << 12 | sent;
		uint32_t len = wt_len_of(seq, g->max_len);
		struct wp_skb *skb = wp_alloc_skb(nic->rxq[g->q].pool, len);
		int ret;

		if (!skb)
			break;
		wt_frame(wp_skb_put(skb, len), len, g->dst, g->s->cfg.mac, seq,
			 (uint16_t)(g->q * 16 + seq % 16));
		ret = wp_nic_xmit(nic, g->q, skb, true);
		if (ret == -ENOBUFS) {
			g->busy++;
			break;
		}
		if (ret) {
			atomic_fetch_add(&g->errors, 1);
			break;
		}
		sent++;
		n++;
	}
	atomic_store(&g->sent, sent);
	wp_nic_tx_doorbell(nic, g->q);
	if (sent < want)
		wp_cpu_arm_timer(cpu, wp_clock_now(cpu->clock) +
					      100 * WP_NSEC_PER_USEC);
}

static inline void wt_config(struct wp_stack_config *c, const char *backend,
			     const char *ifname, uint16_t queues)
{
	wp_stack_config_default(c);
	c->backend = backend;
	c->ifname = ifname;
	c->queues = queues;
	c->cores = queues;
}

/* Build the stack (backend opened), capture its input, hook its cores. */
static inline struct wt_rig *wt_rig_create(const struct wp_stack_config *c)
{
	struct wt_rig *r = calloc(1, sizeof(*r));
	char err[256];
	int slot = -1;

	assert_non_null(r);
	for (int i = 0; i < WT_LIVE_MAX && slot < 0; i++)
		if (!wt_live_rigs[i])
			slot = i;
	assert_true(slot >= 0);
	r->cap = calloc(1, sizeof(*r->cap));
	assert_non_null(r->cap);
	r->s = wp_stack_create(c, err, sizeof(err));
	if (!r->s) {
		free(r->cap);
		free(r);
		fail_msg("wp_stack_create: %s", err);
		return NULL;
	}
	wt_live_rigs[slot] = r;
	r->s->rx_handler = wt_cap_rx;
	r->s->rx_ctx = r->cap;
	for (uint32_t i = 0; i < r->s->ncpus && i < r->s->nic->cfg.nqueues;
	     i++) {
		struct wt_txgen *g = &r->tx[i];

		g->s = r->s;
		g->q = (uint16_t)i;
		g->max_len = r->s->cfg.mtu + 14;
		assert_int_equal(wp_cpu_add_hook(&r->s->cpu[i], wt_tx_hook, g),
				 0);
	}
	return r;
}

static inline void wt_rig_free(struct wt_rig *r)
{
	for (int i = 0; i < WT_LIVE_MAX; i++)
		if (wt_live_rigs[i] == r)
			wt_live_rigs[i] = NULL;
	wp_stack_destroy(r->s);
	free(r->cap);
	free(r);
}

/* cmocka teardown: whatever a failed test left alive. */
static inline int wt_teardown(void **state)
{
	while (wt_live_nfds > 0)
		close(wt_live_fds[--wt_live_nfds]);
	for (int i = 0; i < WT_LIVE_MAX; i++)
		if (wt_live_rigs[i])
			wt_rig_free(wt_live_rigs[i]);
	return 0;
}

static inline void wt_rig_start(struct wt_rig *r)
{
	assert_int_equal(wp_stack_start(r->s), 0);
	r->started = true;
}

/* Ask core q to transmit n more frames to dst. */
static inline void wt_rig_send(struct wt_rig *r, uint16_t q,
			       const uint8_t dst[6], uint32_t n)
{
	memcpy(r->tx[q].dst, dst, 6);
	atomic_fetch_add(&r->tx[q].want, n);
	wp_cpu_kick(&r->s->cpu[q]);
}

/* Stop, give every buffer back, check every pool is whole, free. */
static inline void wt_rig_destroy(struct wt_rig *r)
{
	wp_stack_stop(r->s);
	wp_nic_down(r->s->nic);
	for (uint16_t q = 0; q < r->s->nic->cfg.nqueues; q++)
		assert_true(wp_pool_is_whole(r->s->nic->rxq[q].pool));
	for (uint32_t i = 0; i < WP_MAX_CPUS; i++)
		assert_int_equal(atomic_load(&r->tx[i].errors), 0);
	wt_rig_free(r);
}

/* The firmware's report, for a counter: the value of "     key: N". */
static inline uint64_t wt_report_u64(struct wp_stack *s, const char *key)
{
	char buf[8192], pat[64];
	const char *p;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	wp_backend_report(&s->backend, f);
	fputc('\0', f);
	fclose(f);
	snprintf(pat, sizeof(pat), " %s: ", key);
	p = strstr(buf, pat);
	if (!p)
		fail_msg("no %s in the report:\n%s", key, buf);
	return strtoull(p + strlen(pat), NULL, 10);
}

static inline bool wt_report_has(struct wp_stack *s, const char *text)
{
	char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	wp_backend_report(&s->backend, f);
	fputc('\0', f);
	fclose(f);
	return strstr(buf, text) != NULL;
}

/*
 * Run fn in a child process that dropped every privilege (uid nobody);
 * the child's exit status is fn's return value.
 */
static inline int wt_run_unprivileged(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0)
			_exit(100);
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#endif
