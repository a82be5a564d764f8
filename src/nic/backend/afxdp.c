// SPDX-License-Identifier: MIT
/*
 * The afxdp backend: kernel bypass. An existing Linux interface is the
 * wire (--backend afxdp --if NAME [--queue Q] [--copy|--zerocopy]), and
 * its frames land in memory this process owns (the UMEM) instead of in
 * kernel skbs: zero copy where the driver DMAs straight into UMEM, one
 * kernel copy into UMEM otherwise, and no copy out of UMEM either way.
 *
 * One AF_XDP socket per NIC queue: NIC queue i is the interface's queue
 * Q + i, and the real NIC's RSS is the RSS. Each socket has a UMEM of its
 * own. A tiny XDP program (six instructions, built here) redirects each
 * queue's frames to its socket through an XSKMAP and passes anything else
 * to the kernel's stack. It is attached through a BPF link, so it goes
 * away when the link's fd is closed, by us or by the kernel when the
 * process dies: nothing stays attached after an exit, clean or not. No
 * bpffs is needed (no libxdp dispatcher: libxdp gives the socket and ring
 * helpers, libbpf the map, program and link).
 *
 * How AF_XDP's four rings map onto the NIC model (nic.h):
 *
 *   UMEM frames = DMA buffers. The RX frames form the queue's buffer pool
 *     (wp_nic_set_rx_pool with a wp_pool_create_ext pool), so the skbs
 *     the driver builds, and the ones the stack allocates to transmit,
 *     all live in UMEM.
 *   fill ring = the refill of RX descriptors. The NIC's descriptors hold
 *     pool buffers as always; the firmware holds fill_frames more, and
 *     those are the ones the kernel writes into. When a frame arrives the
 *     firmware swaps buffers with the next NIC-owned descriptor
 *     (wp_nic_rx_swap): the descriptor takes the frame the kernel wrote,
 *     and the buffer the driver had put there goes to the fill ring. So a
 *     refilled descriptor's buffer reaches the kernel exactly when the
 *     descriptor is consumed, in ring order, whatever order the kernel
 *     returns frames in, and the firmware's share stays fill_frames.
 *   RX ring = completed descriptors (DD). Each RX descriptor becomes
 *     addr + len + DD in the NIC's ring (wp_nic_rx_commit), no copy.
 *     No NIC descriptor free: the frame goes straight back to the fill
 *     ring and counts as rx_missed_errors, as a NIC drops when its ring
 *     is full. The kernel's own drops (RX ring full) count there too.
 *   TX ring + sendto() = the doorbell. The NIC's doorbell (tx_kick) wakes
 *     the firmware, which copies each frame into a TX frame (the NIC's
 *     DMA read), puts it on the TX ring and kicks the kernel when it
 *     asks (need_wakeup; always in copy mode).
 *   completion ring = TX cleaning. Frames the kernel has sent come back
 *     and are free for the next send.
 *
 * Modes: native XDP with zero copy, else native with copy, else generic
 * (XDP_FLAGS_SKB_MODE, copy); --copy and --zerocopy narrow the choice.
 * The mode obtained is reported (xdp_mode: "xdp-native copy" on veth).
 * --busy-poll sets SO_PREFER_BUSY_POLL, SO_BUSY_POLL and
 * SO_BUSY_POLL_BUDGET on each socket and the firmware spins instead of
 * sleeping: polling, not interrupts, end to end.
 *
 * Real time only, like every live wire.
 */
#include "nic/backend/afxdp.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include "nic/backend/netdev.h"
#include "nic/nic.h"
#include "skb/pool.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define XQ_RX_BATCH 64
#define XQ_TX_BATCH 64
#define XQ_TX_RETRY_NS (20 * WP_NSEC_PER_USEC)
#define XQ_STATS_NS (10 * WP_NSEC_PER_MSEC)
#define XQ_BUSY_POLL_USECS 20
#define XQ_BUSY_POLL_BUDGET 64
#define XQ_BUSY_RETRIES 50
#define XQ_BUSY_RETRY_NS (2 * WP_NSEC_PER_MSEC)

struct afxdp;

struct xq {
	struct wp_backend *be;
	struct afxdp *x;
	uint16_t q;    /* NIC queue */
	uint32_t ifq;  /* the interface's queue */
	uint8_t *area; /* the UMEM */
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	int fd;
	struct wp_pool *pool;	  /* over the RX frames */
	struct wp_pool *nic_pool; /* the NIC's own, while ours is in */
	bool pool_in;
	/* RX frames the firmware holds (fill ring, kernel, RX ring): one
	 * bit each, so close can give every one back to the pool. */
	uint64_t *held;
	uint64_t *tx_free; /* UMEM offsets of free TX frames */
	uint32_t ntx_free;
	uint64_t tx_retry_at; /* WP_TIME_NEVER unless TX waits */
	bool tx_unkicked;     /* TX ring frames the kernel was not told of */
	uint64_t stats_at;    /* next XDP_STATISTICS look */
	struct xdp_statistics kst; /* the kernel's counters, last seen */
	struct wp__doorbell db;
	pthread_t thread;
	bool started;
	bool gone;
	/* firmware counters: this queue's thread writes them */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_missed;	  /* no NIC descriptor free */
	uint64_t rx_kernel_drops; /* the kernel dropped: RX ring full, ... */
	uint64_t rx_bad_desc;	  /* an RX descriptor we never gave */
	uint64_t fill_wakeups;
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_kicks, tx_kick_errors;
	uint64_t tx_no_frame; /* waits for a completion */
	uint64_t tx_errors;   /* frames the NIC ring had that cannot fit */
	uint64_t wakeups;
};

struct afxdp {
	char ifname[IFNAMSIZ];
	int ifindex;
	uint16_t nq;
	uint32_t queue0;
	uint32_t dev_mtu;
	uint8_t mac[6], dev_mac[6];
	bool extra_mac;
	int mac_fd; /* AF_PACKET socket holding the --mac filter */
	struct wp__afxdp_geom g;
	uint8_t bind; /* enum wp_xdp_bind asked */
	bool busy_poll, busy_poll_on;
	bool zerocopy, native;
	char mode[24];
	int map_fd, prog_fd, link_fd;
	uint32_t prog_id;
	int stop_fd;
	_Atomic bool stop;
	bool running;
	struct xq q[WP_NIC_MAX_QUEUES];
};

/* --- geometry ----------------------------------------------------------------
 */

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int wp__afxdp_geometry(uint32_t mtu, uint32_t rx_ring, uint32_t tx_ring,
		       uint32_t pool_bufs, struct wp__afxdp_geom *g)
{
	/* A frame holds the XDP headroom and a tagged frame of mtu. */
	const uint32_t over =
		WP_POOL_EXT_HEADROOM + WP_ETH_HLEN + WP_ETH_VLAN_HLEN;
	uint64_t frames;

	if (!g || !rx_ring || !tx_ring || !pool_bufs || rx_ring > (1u << 20) ||
	    tx_ring > (1u << 20))
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->mtu = mtu > WP_AFXDP_MTU_MAX ? WP_AFXDP_MTU_MAX : mtu;
	g->frame_size = g->mtu + over <= 2048 ? 2048 : 4096;
	g->fill_frames = pow2_at_least(rx_ring < 64 ? 64 : rx_ring);
	g->tx_frames = pow2_at_least(tx_ring < 64 ? 64 : tx_ring);
	frames = (uint64_t)pool_bufs + g->fill_frames + g->tx_frames;
	if (frames * g->frame_size > (1ull << 32))
		return -EINVAL;
	g->pool_frames = pool_bufs + g->fill_frames;
	g->umem_frames = (uint32_t)frames;
	return 0;
}

const char *wp__afxdp_mode(const struct wp_backend *be)
{
	const struct afxdp *x;

	if (!be || be->ops != &wp_backend_afxdp || !be->priv)
		return NULL;
	x = be->priv;
	return x->mode;
}

/* --- frames ------------------------------------------------------------------
 */

static unsigned frame_shift(const struct afxdp *x)
{
	return (unsigned)__builtin_ctz(x->g.frame_size);
}

/* RX frame i as the pool knows it: its buffer (skb->head). */
static uint8_t *frame_buf(const struct xq *xq, uint32_t i)
{
	return xq->area + ((size_t)i << frame_shift(xq->x)) +
	       WP_POOL_EXT_BUF_OFFSET;
}

static uint32_t buf_frame(const struct xq *xq, const void *buf)
{
	return (uint32_t)(((const uint8_t *)buf - WP_POOL_EXT_BUF_OFFSET -
			   xq->area) >>
			  frame_shift(xq->x));
}

static void held_set(struct xq *xq, uint32_t i)
{
	xq->held[i / 64] |= 1ull << (i % 64);
}

static void held_clear(struct xq *xq, uint32_t i)
{
	xq->held[i / 64] &= ~(1ull << (i % 64));
}

static bool held_test(const struct xq *xq, uint32_t i)
{
	return xq->held[i / 64] >> (i % 64) & 1;
}

/* --- the XDP program
 * ---------------------------------------------------------- */

/*
 *   r2 = ctx->rx_queue_index
 *   r1 = &xsks_map
 *   r3 = XDP_PASS          (no socket for this queue: the kernel's stack)
 *   return bpf_redirect_map(r1, r2, r3)
 * The flags argument as the default action needs Linux 5.3.
 */
static int prog_load(int map_fd)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W,
		  .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1,
		  .off = offsetof(struct xdp_md, rx_queue_index) },
		{ .code = BPF_LD | BPF_DW | BPF_IMM,
		  .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = map_fd },
		{ .code = 0 }, /* the upper half of the 64-bit immediate */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_3,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "wirepath_xsk", "Dual MIT/GPL",
			     insns, sizeof(insns) / sizeof(insns[0]), NULL);
}

/* --- messages
 * -------------------------------------------------------------------- */

static void err_priv(struct wp_backend *be, const char *what)
{
	wp__backend_err(be,
			"%s: permission denied: AF_XDP needs CAP_NET_ADMIN "
			"and CAP_BPF (and CAP_NET_RAW): run as root (or "
			"setcap cap_net_admin,cap_net_raw,cap_bpf,"
			"cap_ipc_lock+ep wirepath)",
			what);
}

static bool is_priv_err(int err)
{
	return err == -EPERM || err == -EACCES;
}

/* --- one queue
 * ------------------------------------------------------------------ */

static int umem_open(struct wp_backend *be, struct afxdp *x, struct xq *xq)
{
	struct xsk_umem_config uc = {
		.fill_size = x->g.fill_frames,
		.comp_size = x->g.tx_frames,
		.frame_size = x->g.frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	int ret;

	ret = xsk_umem__create(&xq->umem, xq->area, xq->area_len, &xq->fill,
			       &xq->comp, &uc);
	if (!ret)
		return 0;
	xq->umem = NULL;
	if (is_priv_err(ret))
		err_priv(be, "cannot open an AF_XDP socket");
	else if (ret == -EAFNOSUPPORT)
		wp__backend_err(be, "this kernel has no AF_XDP sockets "
				    "(CONFIG_XDP_SOCKETS): try --backend "
				    "afpacket");
	else if (ret == -ENOBUFS || ret == -ENOMEM)
		wp__backend_err(be,
				"cannot register %zu KiB of UMEM: %s (the "
				"locked-memory limit: ulimit -l, or run as "
				"root)",
				xq->area_len / 1024, strerror(-ret));
	else
		wp__backend_err(be, "cannot register the UMEM: %s",
				strerror(-ret));
	return ret;
}

static void umem_close(struct xq *xq)
{
	if (xq->xsk)
		xsk_socket__delete(xq->xsk);
	xq->xsk = NULL;
	if (xq->umem)
		xsk_umem__delete(xq->umem);
	xq->umem = NULL;
	xq->fd = -1;
}

/* Bind to the queue with these flags; -errno, quietly. */
static int sock_try(struct afxdp *x, struct xq *xq, uint16_t bind_flags)
{
	struct xsk_socket_config sc = {
		.rx_size = x->g.fill_frames,
		.tx_size = x->g.tx_frames,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	int ret;

	ret = xsk_socket__create(&xq->xsk, x->ifname, xq->ifq, xq->umem,
				 &xq->rx, &xq->tx, &sc);
	if (ret)
		xq->xsk = NULL;
	return ret;
}

static void sock_err(struct wp_backend *be, struct afxdp *x, struct xq *xq,
		     int ret)
{
	if (is_priv_err(ret))
		err_priv(be, "cannot bind an AF_XDP socket");
	else if (ret == -EBUSY)
		wp__backend_err(be,
				"queue %u of %s is taken: another AF_XDP "
				"socket is bound to it (another wirepath? "
				"use --queue to pick a free one)",
				xq->ifq, x->ifname);
	else if (ret == -EINVAL)
		wp__backend_err(be,
				"cannot bind to queue %u of %s: no such "
				"queue? (ethtool -l %s shows the queues; "
				"--queue Q with --queues N needs Q + N "
				"of them)",
				xq->ifq, x->ifname, x->ifname);
	else if (ret == -EOPNOTSUPP && x->bind == WP_XDP_BIND_ZEROCOPY)
		wp__backend_err(be,
				"%s's driver has no zero-copy AF_XDP: leave "
				"out --zerocopy (or use --copy)",
				x->ifname);
	else if (ret == -ENETDOWN || ret == -ENXIO || ret == -ENODEV)
		wp__backend_err(be, "%s is gone or down: %s", x->ifname,
				strerror(-ret));
	else
		wp__backend_err(be,
				"cannot bind an AF_XDP socket to %s queue "
				"%u: %s (try --backend afpacket)",
				x->ifname, xq->ifq, strerror(-ret));
}

/*
 * The UMEM and the socket, zero copy first unless --copy. A failed bind
 * can leave the UMEM's rings half set up, so each try starts from a new
 * UMEM registration (cheap: the memory stays).
 */
static int sock_open(struct wp_backend *be, struct afxdp *x, struct xq *xq)
{
	static const uint16_t order[] = { XDP_ZEROCOPY, XDP_COPY };
	size_t first = x->bind == WP_XDP_BIND_COPY ? 1 : 0;
	size_t last = x->bind == WP_XDP_BIND_ZEROCOPY ? 1 : 2;
	int ret = -EINVAL;

	for (size_t i = first, busy = 0; i < last;) {
		ret = umem_open(be, x, xq);
		if (ret)
			return ret;
		ret = sock_try(x, xq, order[i]);
		if (!ret)
			break;
		umem_close(xq);
		/* A socket closed a moment ago frees its queue from a kernel
		 * work item (xp_release_deferred): a restart may find the
		 * queue still taken for a few milliseconds. */
		if (ret == -EBUSY && busy++ < XQ_BUSY_RETRIES) {
			struct timespec ts = { 0, XQ_BUSY_RETRY_NS };

			nanosleep(&ts, NULL);
			continue;
		}
		/* Otherwise only "not with zero copy" is worth a try. */
		if (ret != -EOPNOTSUPP && ret != -EPROTONOSUPPORT)
			break;
		i++;
	}
	if (ret) {
		sock_err(be, x, xq, ret);
		return ret;
	}
	xq->fd = xsk_socket__fd(xq->xsk);
	return 0;
}

static bool sock_zerocopy(const struct xq *xq)
{
	struct xdp_options opts = { 0 };
	socklen_t len = sizeof(opts);

	if (getsockopt(xq->fd, SOL_XDP, XDP_OPTIONS, &opts, &len) < 0)
		return false;
	return opts.flags & XDP_OPTIONS_ZEROCOPY;
}

/* --busy-poll: the socket's receive drives the driver's NAPI. */
static bool sock_busy_poll(struct xq *xq)
{
	int one = 1, usecs = XQ_BUSY_POLL_USECS, budget = XQ_BUSY_POLL_BUDGET;

	return setsockopt(xq->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one,
			  sizeof(one)) == 0 &&
	       setsockopt(xq->fd, SOL_SOCKET, SO_BUSY_POLL, &usecs,
			  sizeof(usecs)) == 0 &&
	       setsockopt(xq->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget,
			  sizeof(budget)) == 0;
}

/*
 * The UMEM memory and the pool over its RX frames; then the pool goes
 * into the NIC queue (its ring is filled from it) and the firmware takes
 * fill_frames buffers for the fill ring.
 */
static int mem_open(struct wp_backend *be, struct afxdp *x, struct xq *xq)
{
	struct wp_pool_config pc = { 0 };
	char name[32];
	size_t words = (x->g.pool_frames + 63) / 64;

	xq->area_len = (size_t)x->g.umem_frames * x->g.frame_size;
	/* Page aligned, as XDP_UMEM_REG wants; faulted in now, not on the
	 * first frame. */
	xq->area = mmap(NULL, xq->area_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (xq->area == MAP_FAILED) {
		xq->area = NULL;
		wp__backend_err(be, "cannot map %zu KiB of UMEM: %s",
				xq->area_len / 1024, strerror(errno));
		return -ENOMEM;
	}
	xq->held = calloc(words, sizeof(*xq->held));
	xq->tx_free = calloc(x->g.tx_frames, sizeof(*xq->tx_free));
	snprintf(name, sizeof(name), "umem-%s-%u", x->ifname, xq->ifq);
	pc.name = name;
	pc.nbufs = x->g.pool_frames;
	pc.buf_size = x->g.frame_size;
	if (xq->held && xq->tx_free)
		xq->pool = wp_pool_create_ext(&pc, xq->area, xq->area_len);
	if (!xq->pool) {
		wp__backend_err(be, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < x->g.tx_frames; i++)
		xq->tx_free[i] = (uint64_t)(x->g.pool_frames + i)
				 << frame_shift(x);
	xq->ntx_free = x->g.tx_frames;
	return 0;
}

/* The NIC's queue runs on UMEM, and the fill ring is primed. */
static int pool_in(struct wp_backend *be, struct afxdp *x, struct xq *xq)
{
	void *bufs[XQ_RX_BATCH];
	uint32_t idx, n, want = x->g.fill_frames, got = 0;
	int ret;

	ret = wp_nic_set_rx_pool(be->nic, xq->q, xq->pool, &xq->nic_pool);
	if (ret) {
		wp__backend_err(be,
				"cannot give NIC queue %u its UMEM pool: "
				"%s%s",
				xq->q, strerror(-ret),
				ret == -EBUSY ? " (open the backend before the "
						"core threads start)"
					      : "");
		return ret;
	}
	xq->pool_in = true;
	/* The fill ring has exactly fill_frames slots: it takes them all. */
	if (xsk_ring_prod__reserve(&xq->fill, want, &idx) != want)
		return -ENOBUFS;
	while (got < want) {
		uint32_t burst =
			want - got > XQ_RX_BATCH ? XQ_RX_BATCH : want - got;

		n = wp_pool_get_bufs(xq->pool, bufs, burst);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t f = buf_frame(xq, bufs[i]);

			held_set(xq, f);
			*xsk_ring_prod__fill_addr(&xq->fill, idx + got + i) =
				(uint64_t)f << frame_shift(x);
		}
		got += n;
		if (n < burst)
			break;
	}
	if (got < want) {
		/* Cannot happen with the geometry's pool: say so if it does. */
		xsk_ring_prod__submit(&xq->fill, got);
		wp__backend_err(be, "UMEM pool too small for the fill ring");
		return -ENOMEM;
	}
	xsk_ring_prod__submit(&xq->fill, want);
	return 0;
}

/*
 * Undo pool_in and mem_open: the NIC gets its own pool back (the UMEM
 * buffers in its rings return to ours), the firmware's frames go back
 * too, and the memory is freed only if every buffer is home. The socket
 * must be closed first: until then the kernel may write into the frames.
 */
static void mem_close(struct wp_backend *be, struct afxdp *x, struct xq *xq)
{
	struct wp_pool *old = NULL;
	bool whole;

	if (xq->pool_in) {
		if (wp_nic_set_rx_pool(be->nic, xq->q, xq->nic_pool, &old)) {
			wp__backend_err(be,
					"NIC queue %u still runs on UMEM "
					"(core threads running?): "
					"leaking it",
					xq->q);
			return;
		}
		xq->pool_in = false;
	}
	if (xq->pool) {
		for (uint32_t i = 0; xq->held && i < x->g.pool_frames; i++) {
			if (held_test(xq, i)) {
				held_clear(xq, i);
				wp_pool_put_buf(xq->pool, frame_buf(xq, i));
			}
		}
		wp_pool_set_owner(xq->pool);
		whole = wp_pool_is_whole(xq->pool);
		if (!whole) {
			/* An skb still points into the UMEM: keep it. */
			wp__backend_err(be,
					"UMEM pool of queue %u not whole "
					"at close (skbs still held); "
					"leaking it",
					xq->q);
			return;
		}
		wp_pool_destroy(xq->pool);
		xq->pool = NULL;
	}
	free(xq->held);
	xq->held = NULL;
	free(xq->tx_free);
	xq->tx_free = NULL;
	if (xq->area)
		munmap(xq->area, xq->area_len);
	xq->area = NULL;
}

/* --- the program on the interface
 * ------------------------------------------------ */

static int link_try(struct afxdp *x, uint32_t flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd = bpf_link_create(x->prog_fd, x->ifindex, BPF_XDP, &lo);

	return fd < 0 ? -errno : fd;
}

static void prog_id(struct afxdp *x)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(x->prog_fd, &info, &len) == 0)
		x->prog_id = info.id;
}

/*
 * The XSKMAP with every socket, the program, then the link: native
 * first, generic if the driver has no XDP (or --zerocopy did not ask for
 * native only).
 */
static int prog_attach(struct wp_backend *be, struct afxdp *x)
{
	int ret;

	x->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "wirepath_xsks",
				   sizeof(uint32_t), sizeof(uint32_t),
				   x->queue0 + x->nq, NULL);
	if (x->map_fd < 0) {
		ret = -errno;
		if (is_priv_err(ret))
			err_priv(be, "cannot create the XSKMAP");
		else
			wp__backend_err(be, "cannot create the XSKMAP: %s",
					strerror(-ret));
		return ret;
	}
	for (uint16_t i = 0; i < x->nq; i++) {
		ret = xsk_socket__update_xskmap(x->q[i].xsk, x->map_fd);
		if (ret) {
			wp__backend_err(be,
					"cannot put queue %u's socket in "
					"the XSKMAP: %s",
					i, strerror(-ret));
			return ret;
		}
	}
	x->prog_fd = prog_load(x->map_fd);
	if (x->prog_fd < 0) {
		ret = -errno;
		if (is_priv_err(ret))
			err_priv(be, "cannot load the XDP program");
		else
			wp__backend_err(be,
					"cannot load the XDP program: %s "
					"(needs Linux 5.3)",
					strerror(-ret));
		return ret;
	}
	prog_id(x);
	ret = link_try(x, XDP_FLAGS_DRV_MODE);
	x->native = ret >= 0;
	if (ret < 0 && !is_priv_err(ret) && ret != -EBUSY && ret != -EEXIST &&
	    x->bind != WP_XDP_BIND_ZEROCOPY)
		ret = link_try(x, XDP_FLAGS_SKB_MODE);
	if (ret >= 0) {
		x->link_fd = ret;
		return 0;
	}
	if (ret == -EEXIST) /* a program attached without a link */
		ret = -EBUSY;
	if (is_priv_err(ret))
		err_priv(be, "cannot attach the XDP program");
	else if (ret == -EBUSY)
		wp__backend_err(be,
				"%s already has an XDP program attached "
				"(ip link show %s; xdp-loader status %s): "
				"detach it, or use --backend afpacket",
				x->ifname, x->ifname, x->ifname);
	else if (x->bind == WP_XDP_BIND_ZEROCOPY)
		wp__backend_err(be,
				"%s's driver has no native XDP, which "
				"zero copy needs: %s (leave out "
				"--zerocopy, or try --backend afpacket)",
				x->ifname, strerror(-ret));
	else
		wp__backend_err(be,
				"%s does not support XDP: %s (try "
				"--backend afpacket)",
				x->ifname, strerror(-ret));
	return ret;
}

/* Closing the link detaches the program; the map and program go with
 * their last reference. */
static void prog_detach(struct afxdp *x)
{
	if (x->link_fd >= 0)
		close(x->link_fd);
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->map_fd >= 0)
		close(x->map_fd);
	x->link_fd = x->prog_fd = x->map_fd = -1;
}

/* --- open and close
 * ----------------------------------------------------------------- */

static void afx_free(struct wp_backend *be, struct afxdp *x)
{
	prog_detach(x);
	for (uint16_t i = 0; i < WP_NIC_MAX_QUEUES; i++) {
		struct xq *xq = &x->q[i];

		umem_close(xq);
		mem_close(be, x, xq);
		wp__doorbell_fini(&xq->db);
	}
	if (x->mac_fd >= 0)
		close(x->mac_fd); /* drops the unicast filter entry */
	if (x->stop_fd >= 0)
		close(x->stop_fd);
	free(x);
}

static struct afxdp *afx_alloc(struct wp_backend *be)
{
	struct afxdp *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->mac_fd = x->stop_fd = -1;
	x->map_fd = x->prog_fd = x->link_fd = -1;
	atomic_init(&x->stop, false);
	for (uint16_t i = 0; i < WP_NIC_MAX_QUEUES; i++) {
		x->q[i].be = be;
		x->q[i].x = x;
		x->q[i].q = i;
		x->q[i].fd = -1;
		x->q[i].db.fd = -1;
		x->q[i].tx_retry_at = WP_TIME_NEVER;
	}
	return x;
}

static int check_config(struct wp_backend *be,
			const struct wp_backend_config *cfg)
{
	if (wp_clock_is_virtual(be->clock)) {
		wp__backend_err(be, "an interface is a live wire and runs on "
				    "real time only (virtual time: --backend "
				    "sim, pair or pcap)");
		return -ENOTSUP;
	}
	if (!cfg->ifname || !cfg->ifname[0]) {
		wp__backend_err(be, "needs --if NAME: the interface to drive");
		return -EINVAL;
	}
	if (!wp__netdev_name_ok(cfg->ifname)) {
		wp__backend_err(be, "--if '%s': %s", cfg->ifname,
				wp__netdev_name_rule());
		return -EINVAL;
	}
	if (cfg->xdp_bind > WP_XDP_BIND_ZEROCOPY) {
		wp__backend_err(be, "bad bind mode %u (--copy or --zerocopy)",
				cfg->xdp_bind);
		return -EINVAL;
	}
	if (cfg->xdp_queue > (1u << 16) - WP_NIC_MAX_QUEUES) {
		wp__backend_err(be, "--queue %u: out of range", cfg->xdp_queue);
		return -EINVAL;
	}
	if (cfg->mac_set && !wp__mac_is_unicast(cfg->dst_mac)) {
		char m[WP_MAC_STR_LEN];

		wp__mac_fmt(cfg->dst_mac, m);
		wp__backend_err(be,
				"--mac %s: a station address must be "
				"unicast and not all zeros "
				"(e.g. 02:00:00:00:00:02)",
				m);
		return -EINVAL;
	}
	return 0;
}

/* The interface: it exists, is Ethernet; its MAC and MTU. */
static int probe_interface(struct wp_backend *be, struct afxdp *x,
			   const char *ifname)
{
	short flags = 0;
	int ret;

	x->ifindex = wp__netdev_index(ifname);
	if (x->ifindex < 0) {
		wp__backend_err(be,
				"no interface %s: create it first (ip link "
				"add ...)",
				ifname);
		return -ENODEV;
	}
	memcpy(x->ifname, ifname, strlen(ifname) + 1);
	ret = wp__netdev_get_mac(x->ifname, x->dev_mac);
	if (ret == -EPROTOTYPE) {
		wp__backend_err(be,
				"%s is not an Ethernet interface: the "
				"stack needs Ethernet frames (try "
				"--backend tap)",
				x->ifname);
		return -EINVAL;
	}
	if (!ret)
		ret = wp__netdev_get_mtu(x->ifname, &x->dev_mtu);
	if (!ret)
		ret = wp__netdev_get_flags(x->ifname, &flags);
	if (ret) {
		wp__backend_err(be, "cannot read %s's settings: %s", x->ifname,
				strerror(-ret));
		return ret;
	}
	if (!(flags & IFF_UP))
		wp__backend_err(be,
				"note: %s is down; frames flow once it is "
				"up (ip link set %s up)",
				x->ifname, x->ifname);
	return 0;
}

/* Frames to a MAC that is not the interface's pass its unicast filter
 * only if we add it: an AF_PACKET membership, dropped with the socket. */
static int mac_filter(struct wp_backend *be, struct afxdp *x)
{
	struct packet_mreq mr;
	char m[WP_MAC_STR_LEN];

	x->mac_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (x->mac_fd < 0) {
		int ret = -errno;

		if (is_priv_err(ret))
			err_priv(be, "cannot add --mac to the filter");
		else
			wp__backend_err(be,
					"cannot open an AF_PACKET socket: "
					"%s",
					strerror(-ret));
		return ret;
	}
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = x->ifindex;
	mr.mr_type = PACKET_MR_UNICAST;
	mr.mr_alen = 6;
	memcpy(mr.mr_address, x->mac, 6);
	if (setsockopt(x->mac_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)) < 0) {
		int ret = -errno;

		wp__mac_fmt(x->mac, m);
		wp__backend_err(be,
				"cannot add --mac %s to %s's filter: %s "
				"(leave --mac out to use the interface's "
				"own address)",
				m, x->ifname, strerror(-ret));
		return ret;
	}
	return 0;
}

static int set_link(struct wp_backend *be, struct afxdp *x,
		    const struct wp_backend_config *cfg)
{
	struct wp_nic *nic = be->nic;
	struct wp_pool_stats st;
	uint32_t mtu = nic->cfg.mtu;
	int ret;

	if (mtu > x->dev_mtu) {
		if (x->dev_mtu < WP_MTU_MIN) {
			wp__backend_err(be, "%s's MTU %u is below %u",
					x->ifname, x->dev_mtu, WP_MTU_MIN);
			return -EINVAL;
		}
		wp__backend_err(be,
				"note: %s's MTU is %u: the stack uses %u, "
				"not %u (ip link set %s mtu %u to raise "
				"it)",
				x->ifname, x->dev_mtu, x->dev_mtu, mtu,
				x->ifname, mtu);
		mtu = x->dev_mtu;
	}
	wp_pool_get_stats(nic->rxq[0].pool, &st);
	ret = wp__afxdp_geometry(mtu, nic->cfg.rx_ring_size,
				 nic->cfg.tx_ring_size, st.bufs_total, &x->g);
	if (ret) {
		wp__backend_err(be, "rings too large for a UMEM");
		return ret;
	}
	if (x->g.mtu < mtu)
		wp__backend_err(be,
				"note: an AF_XDP frame is at most a page: "
				"the MTU is %u, not %u",
				x->g.mtu, mtu);
	memcpy(x->mac, cfg->mac_set ? cfg->dst_mac : x->dev_mac, 6);
	x->extra_mac = memcmp(x->mac, x->dev_mac, 6) != 0;
	return 0;
}

static void set_mode(struct afxdp *x)
{
	x->zerocopy = x->native;
	for (uint16_t i = 0; i < x->nq; i++)
		x->zerocopy &= sock_zerocopy(&x->q[i]);
	snprintf(x->mode, sizeof(x->mode), "xdp-%s %s",
		 x->native ? "native" : "generic",
		 x->zerocopy ? "zerocopy" : "copy");
}

static int afx_open(struct wp_backend *be, const struct wp_backend_config *cfg)
{
	struct wp_nic *nic = be->nic;
	uint32_t mtu = nic->cfg.mtu;
	struct afxdp *x;
	uint16_t i;
	int ret;

	ret = check_config(be, cfg);
	if (ret)
		return ret;
	x = afx_alloc(be);
	if (!x) {
		wp__backend_err(be, "out of memory");
		return -ENOMEM;
	}
	x->nq = nic->cfg.nqueues;
	x->queue0 = cfg->xdp_queue;
	x->bind = cfg->xdp_bind;
	x->busy_poll = cfg->busy_poll;
	x->busy_poll_on = cfg->busy_poll;
	ret = probe_interface(be, x, cfg->ifname);
	if (!ret)
		ret = set_link(be, x, cfg);
	if (ret)
		goto out_free;
	x->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (x->stop_fd < 0) {
		ret = -errno;
		wp__backend_err(be, "cannot create an eventfd: %s",
				strerror(errno));
		goto out_free;
	}
	/* The MTU first: the NIC checks the UMEM buffers against it. */
	nic->cfg.mtu = x->g.mtu;
	for (i = 0; i < x->nq; i++) {
		struct xq *xq = &x->q[i];

		xq->ifq = x->queue0 + i;
		ret = mem_open(be, x, xq);
		if (!ret)
			ret = sock_open(be, x, xq);
		if (!ret)
			ret = pool_in(be, x, xq);
		if (!ret)
			ret = wp__doorbell_init(&xq->db);
		if (ret)
			goto out_free;
		if (x->busy_poll_on)
			x->busy_poll_on = sock_busy_poll(xq);
	}
	if (x->busy_poll && !x->busy_poll_on)
		wp__backend_err(be, "note: busy polling socket options refused "
				    "(Linux 5.11 has them): the firmware still "
				    "spins");
	ret = prog_attach(be, x);
	if (ret)
		goto out_free;
	set_mode(x);
	if (x->bind == WP_XDP_BIND_ZEROCOPY && !x->zerocopy) {
		wp__backend_err(be,
				"%s gave %s, not zero copy: leave out "
				"--zerocopy",
				x->ifname, x->mode);
		ret = -EOPNOTSUPP;
		goto out_free;
	}
	if (x->extra_mac) {
		ret = mac_filter(be, x);
		if (ret)
			goto out_free;
	}
	memcpy(nic->cfg.mac, x->mac, 6);
	be->priv = x;
	/* Which kind of bypass this is depends on the driver: say it. */
	if (x->nq == 1)
		wp__backend_err(be, "note: %s queue %u: %s", x->ifname,
				x->queue0, x->mode);
	else
		wp__backend_err(be, "note: %s queues %u..%u: %s", x->ifname,
				x->queue0, x->queue0 + x->nq - 1, x->mode);
	return 0;

out_free:
	/* The link first (afx_free): no frame is redirected to a closing
	 * socket. The NIC is as it was: its pools, its MTU. */
	afx_free(be, x);
	nic->cfg.mtu = mtu;
	return ret;
}

/* --- the firmware
 * ------------------------------------------------------------------- */

static void queue_gone(struct xq *xq, int err)
{
	if (xq->gone)
		return;
	xq->gone = true;
	wp__backend_err(xq->be,
			"%s queue %u: %s: the interface is gone or "
			"down",
			xq->x->ifname, xq->ifq, strerror(err));
}

/* The kernel's drops since the last look, each a frame the NIC missed. */
static void take_kernel_stats(struct xq *xq, uint64_t now)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);
	uint64_t lost;

	xq->stats_at = now + XQ_STATS_NS;
	if (getsockopt(xq->fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
		return;
	lost = (st.rx_ring_full - xq->kst.rx_ring_full) +
	       (st.rx_dropped - xq->kst.rx_dropped);
	xq->kst = st;
	if (!lost)
		return;
	wp__fw_count(&xq->rx_kernel_drops, lost);
	for (uint64_t i = 0; i < lost; i++)
		wp_nic_rx_missed(xq->be->nic, xq->q);
}

/* Give frames back to the kernel. The fill ring has a slot for every
 * frame the firmware holds, so the reservation cannot fail. */
static void fill_put(struct xq *xq, const uint64_t *addrs, uint32_t n)
{
	uint32_t idx;

	if (!n || xsk_ring_prod__reserve(&xq->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&xq->fill, idx + i) = addrs[i];
	xsk_ring_prod__submit(&xq->fill, n);
	/* A zero-copy driver that ran out of fill waits for a syscall. */
	if (xsk_ring_prod__needs_wakeup(&xq->fill)) {
		wp__fw_count(&xq->fill_wakeups, 1);
		recvfrom(xq->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
}

/*
 * One RX descriptor: the frame the kernel wrote at `addr` becomes the
 * next NIC descriptor's buffer, and that descriptor's old buffer is what
 * goes back to the kernel (*refill). False: the descriptor is not one we
 * gave (never trust shared memory), nothing to give back.
 */
static bool rx_one(struct xq *xq, const struct xdp_desc *d, uint64_t now,
		   uint64_t *refill)
{
	struct afxdp *x = xq->x;
	struct wp_nic *nic = xq->be->nic;
	uint32_t f = (uint32_t)(d->addr >> frame_shift(x)), room = 0;
	uint32_t off = (uint32_t)(d->addr & (x->g.frame_size - 1));
	void *frame, *old;

	if ((d->addr >> frame_shift(x)) >= x->g.pool_frames ||
	    !held_test(xq, f)) {
		wp__fw_count(&xq->rx_bad_desc, 1);
		return false;
	}
	*refill = (uint64_t)f << frame_shift(x);
	wp__fw_count(&xq->rx_frames, 1);
	wp__fw_count(&xq->rx_bytes, d->len);
	/* Our program never moves the data: it starts at the headroom. */
	if (off != WP_POOL_EXT_HEADROOM ||
	    d->len > x->g.frame_size - WP_POOL_EXT_HEADROOM) {
		wp__fw_count(&xq->rx_bad_desc, 1);
		return true;
	}
	if (!wp_nic_rx_slot(nic, xq->q, &room)) {
		wp__fw_count(&xq->rx_missed, 1);
		wp_nic_rx_missed(nic, xq->q);
		return true;
	}
	frame = frame_buf(xq, f);
	old = wp_nic_rx_swap(nic, xq->q, frame);
	if (!old) {
		wp_nic_rx_abort(nic, xq->q);
		return true;
	}
	held_clear(xq, f);
	f = buf_frame(xq, old);
	held_set(xq, f);
	*refill = (uint64_t)f << frame_shift(x);
	/* Hash 0: the NIC computes its Toeplitz hash. A length the NIC
	 * refuses is counted there; the descriptor keeps our frame. */
	wp_nic_rx_commit(nic, xq->q, d->len, 0, 0, now);
	return true;
}

static uint32_t xq_rx(struct xq *xq)
{
	uint64_t refill[XQ_RX_BATCH], now;
	uint32_t idx, n, nr = 0;

	n = xsk_ring_cons__peek(&xq->rx, XQ_RX_BATCH, &idx);
	if (!n)
		return 0;
	now = wp_clock_now(xq->be->clock);
	for (uint32_t i = 0; i < n; i++) {
		/* The kernel's release of the producer (acquired by peek)
		 * orders the descriptor and the frame's bytes before us. */
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&xq->rx, idx + i);

		if (rx_one(xq, d, now, &refill[nr]))
			nr++;
	}
	/* Release: done with the descriptors before the kernel reuses
	 * their slots. */
	xsk_ring_cons__release(&xq->rx, n);
	fill_put(xq, refill, nr);
	__atomic_fetch_add(&xq->be->frames_in, n, __ATOMIC_RELAXED);
	return n;
}

/* TX cleaning: frames the kernel sent are free again. */
static void xq_complete(struct xq *xq)
{
	uint32_t idx, n;

	n = xsk_ring_cons__peek(&xq->comp, xq->x->g.tx_frames, &idx);
	for (uint32_t i = 0; i < n; i++)
		xq->tx_free[xq->ntx_free++] =
			*xsk_ring_cons__comp_addr(&xq->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&xq->comp, n);
}

/* The kernel's doorbell. Copy mode transmits inside this call, so it
 * always needs one; a zero-copy driver says when (need_wakeup). */
static void xq_kick(struct xq *xq, uint64_t now)
{
	if (xq->x->zerocopy && !xsk_ring_prod__needs_wakeup(&xq->tx))
		return;
	wp__fw_count(&xq->tx_kicks, 1);
	xq->tx_unkicked = false;
	if (sendto(xq->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return;
	switch (errno) {
	case EAGAIN:
	case EBUSY:
	case ENOBUFS:
	case EINTR:
		/* Copy mode sends at most a batch (32) per call and says
		 * EAGAIN for the rest; or the kernel is still busy with
		 * earlier frames: kick again soon. */
		xq->tx_unkicked = true;
		xq->tx_retry_at = now + XQ_TX_RETRY_NS;
		break;
	case ENXIO:
	case ENODEV:
		queue_gone(xq, errno);
		/* fall through */
	default: /* ENETDOWN: the frames wait on the ring */
		wp__fw_count(&xq->tx_kick_errors, 1);
		break;
	}
}

/*
 * Move what the driver queued to the TX ring: each frame is copied into
 * a free TX frame (the NIC's DMA read of the skb) and its descriptor
 * completed at once. True if more is waiting (the batch limit, or no TX
 * frame free until completions come back).
 */
static bool xq_tx(struct xq *xq)
{
	struct wp_backend *be = xq->be;
	struct afxdp *x = xq->x;
	uint64_t now = wp_clock_now(be->clock);
	uint32_t n = 0, idx = 0;
	bool more = false;

	xq->tx_retry_at = WP_TIME_NEVER;
	xq_complete(xq);
	while (n < XQ_TX_BATCH) {
		const struct wp_tx_desc *d;
		struct xdp_desc *td;
		uint64_t addr;

		if (!xq->ntx_free) {
			xq_complete(xq);
			if (!xq->ntx_free) {
				wp__fw_count(&xq->tx_no_frame, 1);
				xq->tx_retry_at = now + XQ_TX_RETRY_NS;
				more = true;
				break;
			}
		}
		/* A free TX frame means a free TX ring slot (both have
		 * tx_frames entries, a slot is only taken with a frame);
		 * checked anyway, before a descriptor is taken. */
		if (xsk_prod_nb_free(&xq->tx, 1) < 1) {
			xq->tx_retry_at = now + XQ_TX_RETRY_NS;
			more = true;
			break;
		}
		d = wp_nic_tx_fw_next(be->nic, xq->q);
		if (!d)
			break;
		if (d->len > x->g.frame_size) {
			wp__fw_count(&xq->tx_errors, 1);
			wp_nic_tx_fw_done(be->nic, xq->q);
			continue;
		}
		xsk_ring_prod__reserve(&xq->tx, 1, &idx);
		addr = xq->tx_free[--xq->ntx_free];
		memcpy(xq->area + addr, (const void *)(uintptr_t)d->addr,
		       d->len);
		td = xsk_ring_prod__tx_desc(&xq->tx, idx);
		td->addr = addr;
		td->len = d->len;
		td->options = 0;
		/* Release (in submit): the bytes before the kernel sees the
		 * descriptor. */
		xsk_ring_prod__submit(&xq->tx, 1);
		wp__fw_count(&xq->tx_frames, 1);
		wp__fw_count(&xq->tx_bytes, d->len);
		wp_nic_tx_fw_done(be->nic, xq->q);
		n++;
	}
	if (n == XQ_TX_BATCH)
		more = true;
	if (n || more || xq->tx_unkicked)
		xq_kick(xq, now);
	if (n) {
		__atomic_fetch_add(&be->frames_out, n, __ATOMIC_RELAXED);
		wp_nic_tx_fw_irq(be->nic, xq->q);
	}
	return more;
}

/* Sleep until a frame, a doorbell, stop, or the next deadline. */
static bool xq_wait(struct xq *xq, struct pollfd *pfd, uint64_t now,
		    uint64_t next, bool *tx_more)
{
	struct timespec ts;

	if (*tx_more)
		next = now;
	if (ppoll(pfd, 3, wp__fw_timeout(&ts, now, next), NULL) < 0) {
		if (errno == EINTR)
			return true;
		wp__backend_err(xq->be, "queue %u: ppoll: %s", xq->q,
				strerror(errno));
		return false;
	}
	wp__fw_count(&xq->wakeups, 1);
	if (pfd[2].revents)
		return false;
	if ((pfd[1].revents & POLLIN) && wp__doorbell_take(&xq->db))
		*tx_more = true;
	if (pfd[0].revents & (POLLERR | POLLNVAL)) {
		queue_gone(xq, ENXIO);
		pfd[0].fd = -1;
	}
	return true;
}

/*
 * Busy poll: no sleep. A receive call with nothing in the RX ring lets
 * the kernel busy-poll the driver's queue (SO_PREFER_BUSY_POLL); the
 * doorbell flag is read directly, no eventfd.
 */
static void xq_spin(struct xq *xq, bool idle, bool *tx_more)
{
	if (idle)
		recvfrom(xq->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	if (atomic_load_explicit(&xq->db.rung, memory_order_relaxed) &&
	    wp__doorbell_take(&xq->db))
		*tx_more = true;
}

static void *xq_thread(void *arg)
{
	struct xq *xq = arg;
	struct wp_backend *be = xq->be;
	struct afxdp *x = xq->x;
	struct pollfd pfd[3] = {
		{ .fd = xq->fd, .events = POLLIN },
		{ .fd = xq->db.fd, .events = POLLIN },
		{ .fd = x->stop_fd, .events = POLLIN },
	};
	bool tx_more = true;

	/* Sleeps end at the moderation deadline, not 50 us after it. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	while (!atomic_load_explicit(&x->stop, memory_order_acquire)) {
		uint64_t now = wp_clock_now(be->clock), next;
		uint32_t got = xq_rx(xq);

		if (xq->tx_retry_at <= now)
			tx_more = true;
		if (tx_more)
			tx_more = xq_tx(xq);
		if (now >= xq->stats_at)
			take_kernel_stats(xq, now);
		next = wp_nic_coalesce_tick_queue(be->nic, xq->q, now);
		if (got == XQ_RX_BATCH)
			continue; /* a backlog: no sleep, no syscall */
		if (x->busy_poll) {
			xq_spin(xq, !got, &tx_more);
			continue;
		}
		if (xq->tx_retry_at < next)
			next = xq->tx_retry_at;
		if (xq->stats_at < next)
			next = xq->stats_at;
		if (!xq_wait(xq, pfd, now, next, &tx_more))
			break;
	}
	/* Doorbells rung before stop() are honoured, once. */
	xq_tx(xq);
	take_kernel_stats(xq, wp_clock_now(be->clock));
	return NULL;
}

static void afx_stop(struct wp_backend *be);

static int afx_start(struct wp_backend *be)
{
	struct afxdp *x = be->priv;
	int ret;

	if (wp_clock_is_virtual(be->clock)) {
		wp__backend_err(be, "runs on real time only: start() on a "
				    "virtual clock (use sim, pair or pcap)");
		return -ENOTSUP;
	}
	if (!x)
		return -EINVAL;
	if (x->running)
		return -EBUSY;
	atomic_store_explicit(&x->stop, false, memory_order_relaxed);
	x->running = true;
	for (uint16_t i = 0; i < x->nq; i++) {
		struct xq *xq = &x->q[i];
		char name[16];

		ret = pthread_create(&xq->thread, NULL, xq_thread, xq);
		if (ret) {
			wp__backend_err(be,
					"cannot start firmware thread %u: "
					"%s",
					i, strerror(ret));
			afx_stop(be);
			return -ret;
		}
		xq->started = true;
		snprintf(name, sizeof(name), "wp-fw-xdp/%u", i);
		pthread_setname_np(xq->thread, name);
	}
	return 0;
}

static void afx_stop(struct wp_backend *be)
{
	static const uint64_t one = 1;
	struct afxdp *x = be->priv;
	uint64_t v;

	if (!x || !x->running)
		return;
	/* The eventfd stays readable until drained: every thread sees it. */
	atomic_store_explicit(&x->stop, true, memory_order_release);
	if (write(x->stop_fd, &one, sizeof(one)) < 0)
		wp__backend_err(be, "stop: %s", strerror(errno));
	for (uint16_t i = 0; i < x->nq; i++) {
		if (x->q[i].started)
			pthread_join(x->q[i].thread, NULL);
		x->q[i].started = false;
	}
	if (read(x->stop_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		wp__backend_err(be, "stop: %s", strerror(errno));
	x->running = false;
}

static void afx_close(struct wp_backend *be)
{
	struct afxdp *x = be->priv;

	if (!x)
		return;
	afx_stop(be);
	afx_free(be, x);
	be->priv = NULL;
}

static void afx_tx_kick(struct wp_backend *be, uint16_t q)
{
	struct afxdp *x = be->priv;

	if (!x || q >= x->nq)
		return;
	/* Busy polling reads the flag; the eventfd only wakes a sleeper. */
	if (x->busy_poll)
		atomic_store_explicit(&x->q[q].db.rung, true,
				      memory_order_release);
	else
		wp__doorbell_ring(&x->q[q].db);
}

/* A live wire has no virtual time line; open() refuses virtual clocks. */
static uint64_t afx_step(struct wp_backend *be, uint64_t now)
{
	return WP_TIME_NEVER;
}

static bool afx_done(struct wp_backend *be)
{
	return false;
}

static void afx_report(struct wp_backend *be, FILE *out)
{
	struct afxdp *x = be->priv;
	char m[WP_MAC_STR_LEN], line[128];
	struct xdp_statistics k = { 0 };
	struct xq sum;

	if (!x)
		return;
	wp__report_str(out, "interface", x->ifname);
	wp__report_u64(out, "ifindex", (uint64_t)x->ifindex);
	snprintf(line, sizeof(line), "%u (interface queues %u..%u)", x->nq,
		 x->queue0, x->queue0 + x->nq - 1);
	wp__report_str(out, "queues", line);
	wp__report_str(out, "xdp_mode", x->mode);
	wp__report_u64(out, "xdp_prog_id", x->prog_id);
	wp__report_str(out, "need_wakeup", "on");
	wp__report_str(out, "busy_poll",
		       !x->busy_poll	 ? "off"
		       : x->busy_poll_on ? "on (SO_PREFER_BUSY_POLL)"
					 : "spin only");
	wp__report_u64(out, "mtu", x->g.mtu);
	wp__mac_fmt(x->mac, m);
	wp__report_str(out, "mac", m);
	snprintf(line, sizeof(line),
		 "%u frames of %u bytes per queue: %u RX (%u on the fill "
		 "ring), %u TX",
		 x->g.umem_frames, x->g.frame_size, x->g.pool_frames,
		 x->g.fill_frames, x->g.tx_frames);
	wp__report_str(out, "umem", line);
	wp__report_u64(out, "fill_frames", x->g.fill_frames);

	memset(&sum, 0, sizeof(sum));
	for (uint16_t i = 0; i < x->nq; i++) {
		const struct xq *xq = &x->q[i];
		struct xdp_statistics st;
		socklen_t len = sizeof(st);

		sum.rx_frames += wp__fw_read(&xq->rx_frames);
		sum.rx_bytes += wp__fw_read(&xq->rx_bytes);
		sum.rx_missed += wp__fw_read(&xq->rx_missed);
		sum.rx_kernel_drops += wp__fw_read(&xq->rx_kernel_drops);
		sum.rx_bad_desc += wp__fw_read(&xq->rx_bad_desc);
		sum.fill_wakeups += wp__fw_read(&xq->fill_wakeups);
		sum.tx_frames += wp__fw_read(&xq->tx_frames);
		sum.tx_bytes += wp__fw_read(&xq->tx_bytes);
		sum.tx_kicks += wp__fw_read(&xq->tx_kicks);
		sum.tx_kick_errors += wp__fw_read(&xq->tx_kick_errors);
		sum.tx_no_frame += wp__fw_read(&xq->tx_no_frame);
		sum.tx_errors += wp__fw_read(&xq->tx_errors);
		sum.wakeups += wp__fw_read(&xq->wakeups);
		if (getsockopt(xq->fd, SOL_XDP, XDP_STATISTICS, &st, &len))
			continue;
		k.rx_dropped += st.rx_dropped;
		k.rx_invalid_descs += st.rx_invalid_descs;
		k.tx_invalid_descs += st.tx_invalid_descs;
		k.rx_ring_full += st.rx_ring_full;
		k.rx_fill_ring_empty_descs += st.rx_fill_ring_empty_descs;
		k.tx_ring_empty_descs += st.tx_ring_empty_descs;
	}
	wp__report_u64(out, "fw_rx_frames", sum.rx_frames);
	wp__report_u64(out, "fw_rx_bytes", sum.rx_bytes);
	wp__report_u64(out, "fw_rx_missed", sum.rx_missed);
	wp__report_u64(out, "fw_rx_kernel_drops", sum.rx_kernel_drops);
	wp__report_u64(out, "fw_rx_bad_desc", sum.rx_bad_desc);
	wp__report_u64(out, "fw_fill_wakeups", sum.fill_wakeups);
	wp__report_u64(out, "fw_tx_frames", sum.tx_frames);
	wp__report_u64(out, "fw_tx_bytes", sum.tx_bytes);
	wp__report_u64(out, "fw_tx_kicks", sum.tx_kicks);
	wp__report_u64(out, "fw_tx_kick_errors", sum.tx_kick_errors);
	wp__report_u64(out, "fw_tx_no_frame", sum.tx_no_frame);
	wp__report_u64(out, "fw_tx_errors", sum.tx_errors);
	wp__report_u64(out, "fw_wakeups", sum.wakeups);
	wp__report_u64(out, "xsk_rx_dropped", k.rx_dropped);
	wp__report_u64(out, "xsk_rx_invalid_descs", k.rx_invalid_descs);
	wp__report_u64(out, "xsk_tx_invalid_descs", k.tx_invalid_descs);
	wp__report_u64(out, "xsk_rx_ring_full", k.rx_ring_full);
	wp__report_u64(out, "xsk_rx_fill_ring_empty_descs",
		       k.rx_fill_ring_empty_descs);
	wp__report_u64(out, "xsk_tx_ring_empty_descs", k.tx_ring_empty_descs);
}

const struct wp_backend_ops wp_backend_afxdp = {
	.name = "afxdp",
	.open = afx_open,
	.close = afx_close,
	.start = afx_start,
	.stop = afx_stop,
	.step = afx_step,
	.tx_kick = afx_tx_kick,
	.done = afx_done,
	.report = afx_report,
};
