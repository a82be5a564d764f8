// SPDX-License-Identifier: MIT
/*
 * The afxdp backend. First what needs no privileges: pools over external
 * memory (the UMEM layout: buffer, headroom, shared info, frame by
 * frame), the UMEM geometry, and the NIC's zero-copy receive (a backend's
 * pool in the queue, a descriptor taking the firmware's buffer). Then on
 * a veth pair in a network namespace of the test's own (wpx0: the kernel
 * side, wpx1: the stack's interface): the mode obtained (native XDP in
 * copy mode on veth); frames the peer sends reach the stack intact, in
 * skbs that point into UMEM; frames the stack sends reach the peer
 * intact; at every stop the UMEM pool's buffers are exactly in the NIC's
 * ring and the fill ring, and after close no XDP program is left on the
 * interface and every pool is whole; every refusal names the problem and
 * leaves nothing behind.
 *
 * The veth tests skip (with the reason) when not root, without `ip`, or
 * without AF_XDP sockets.
 */
#include "test_wire_rig.h"

#include <sys/mman.h>

#include "nic/backend/afxdp.h"

#define PEER "wpx0"
#define OURS "wpx1"

#ifndef AF_XDP
#define AF_XDP 44
#endif

static int ip_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ip_cmd(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* What `ip link show` says about XDP on the interface: true if a program
 * is attached (native "xdp", generic "xdpgeneric", "prog/xdp"). */
static bool xdp_attached(const char *ifname)
{
	char cmd[128], line[512];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip -d link show dev %s 2>/dev/null",
		 ifname);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "xdp"))
			found = true;
	pclose(p);
	return found;
}

/* --- pools over external memory (no privileges) ------------------------- */

static void *map_frames(size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	return m;
}

static void ext_pool_layout(void **state)
{
	const uint32_t frame = 2048, n = 8;
	size_t len = (size_t)frame * n;
	struct wp_pool_config pc = { .name = "ext",
				     .nbufs = n,
				     .buf_size = frame };
	uint8_t *mem = map_frames(len);
	void *bufs[8];
	bool taken[8] = { false };
	struct wp_pool *pool;
	struct wp_skb *skb, *clone;

	pool = wp_pool_create_ext(&pc, mem, len);
	assert_non_null(pool);
	/* Data room: from the buffer to the frame's end. */
	assert_int_equal(wp_pool_buf_size(pool),
			 frame - WP_POOL_EXT_BUF_OFFSET);
	assert_int_equal(wp_pool_get_bufs(pool, bufs, n), n);
	for (uint32_t i = 0; i < n; i++) {
		uintptr_t off = (uintptr_t)bufs[i] - (uintptr_t)mem;

		/* Every buffer is frame k's, at the fixed offset. */
		assert_true((uint8_t *)bufs[i] > mem);
		assert_int_equal(off % frame, WP_POOL_EXT_BUF_OFFSET);
		assert_true(off / frame < n);
		assert_false(taken[off / frame]);
		taken[off / frame] = true;
	}
	/* The kernel's view: data from XDP_PACKET_HEADROOM to the frame's
	 * end. Fill all of it (and the skb headroom): the pool's own word
	 * of the frame is outside, so clones and frees still work. */
	memset((uint8_t *)bufs[0], 0xa5, frame - WP_POOL_EXT_BUF_OFFSET);
	skb = wp_build_skb(pool, bufs[0], WP_SKB_HEADROOM,
			   frame - WP_POOL_EXT_HEADROOM);
	assert_non_null(skb);
	assert_ptr_equal(skb->data, (uint8_t *)bufs[0] -
					    WP_POOL_EXT_BUF_OFFSET +
					    WP_POOL_EXT_HEADROOM);
	assert_ptr_equal(skb->data + skb->len,
			 (uint8_t *)bufs[0] - WP_POOL_EXT_BUF_OFFSET + frame);
	clone = wp_skb_clone(skb);
	assert_non_null(clone);
	assert_true(wp_skb_cloned(skb));
	wp_consume_skb(skb);
	assert_false(wp_skb_cloned(clone));
	wp_consume_skb(clone);
	/* One byte more than the frame holds: refused, buffer still ours. */
	assert_null(wp_build_skb(pool, bufs[1], WP_SKB_HEADROOM,
				 frame - WP_POOL_EXT_HEADROOM + 1));
	/* Not a buffer start: refused. */
	assert_null(wp_build_skb(pool, (uint8_t *)bufs[1] + 64, WP_SKB_HEADROOM,
				 60));
	for (uint32_t i = 1; i < n; i++)
		wp_pool_put_buf(pool, bufs[i]);
	assert_true(wp_pool_is_whole(pool));
	/* Fixed memory: it cannot grow. */
	assert_int_equal(wp_pool_grow(pool, 4), -ENOMEM);
	wp_pool_destroy(pool); /* frees nothing of mem */
	mem[0] = 1;	       /* still ours */
	munmap(mem, len);
}

static void ext_pool_refuses_bad_input(void **state)
{
	const size_t len = 8 * 4096;
	struct wp_pool_config pc = { .nbufs = 8, .buf_size = 4096 };
	uint8_t *mem = map_frames(len);
	struct wp_pool *pool;

	pool = wp_pool_create_ext(&pc, mem, len);
	assert_non_null(pool);
	assert_int_equal(wp_pool_buf_size(pool), 4096 - WP_POOL_EXT_BUF_OFFSET);
	wp_pool_destroy(pool);

	pc.buf_size = 3072; /* not a power of two */
	errno = 0;
	assert_null(wp_pool_create_ext(&pc, mem, len));
	assert_int_equal(errno, EINVAL);
	pc.buf_size = 1024; /* below an AF_XDP frame */
	assert_null(wp_pool_create_ext(&pc, mem, len));
	pc.buf_size = 131072;
	assert_null(wp_pool_create_ext(&pc, mem, len));
	pc.buf_size = 4096;
	assert_null(wp_pool_create_ext(&pc, mem, len - 1)); /* 8 do not fit */
	assert_null(wp_pool_create_ext(&pc, mem + 8, len - 8)); /* unaligned */
	assert_null(wp_pool_create_ext(&pc, NULL, len));
	assert_null(wp_pool_create_ext(NULL, mem, len));
	pc.nbufs = 0;
	assert_null(wp_pool_create_ext(&pc, mem, len));
	assert_int_equal(errno, EINVAL);
	munmap(mem, len);
}

static void umem_geometry(void **state)
{
	struct wp__afxdp_geom g;

	assert_int_equal(wp__afxdp_geometry(1500, 512, 512, 1536, &g), 0);
	assert_int_equal(g.frame_size, 2048);
	assert_int_equal(g.mtu, 1500);
	assert_int_equal(g.fill_frames, 512);
	assert_int_equal(g.tx_frames, 512);
	assert_int_equal(g.pool_frames, 1536 + 512);
	assert_int_equal(g.umem_frames, 1536 + 512 + 512);
	/* The largest MTU a 2 KiB frame carries, and one more. */
	assert_int_equal(wp__afxdp_geometry(1774, 64, 64, 192, &g), 0);
	assert_int_equal(g.frame_size, 2048);
	assert_int_equal(wp__afxdp_geometry(1775, 64, 64, 192, &g), 0);
	assert_int_equal(g.frame_size, 4096);
	/* Jumbo: at most a page per frame. */
	assert_int_equal(wp__afxdp_geometry(9000, 64, 64, 192, &g), 0);
	assert_int_equal(g.mtu, WP_AFXDP_MTU_MAX);
	assert_int_equal(g.frame_size, 4096);
	/* Rings round up to powers of two, at least 64. */
	assert_int_equal(wp__afxdp_geometry(1500, 100, 8, 300, &g), 0);
	assert_int_equal(g.fill_frames, 128);
	assert_int_equal(g.tx_frames, 64);
	assert_int_equal(wp__afxdp_geometry(1500, 0, 64, 64, &g), -EINVAL);
	assert_int_equal(wp__afxdp_geometry(1500, 64, 0, 64, &g), -EINVAL);
	assert_int_equal(wp__afxdp_geometry(1500, 64, 64, 0, &g), -EINVAL);
	assert_int_equal(wp__afxdp_geometry(1500, 64, 64, 1u << 31, &g),
			 -EINVAL);
	assert_int_equal(wp__afxdp_geometry(1500, 64, 64, 64, NULL), -EINVAL);
}

/* --- the NIC's zero-copy receive (no privileges) ------------------------ */

struct zc_rig {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu;
	struct wp_cpu *cpus[1];
	struct wp_nic *nic;
	const uint8_t *want_head; /* the buffer the frame must arrive in */
	uint32_t got, intact;
};

static void zc_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *skbs)
{
	struct zc_rig *r = ctx;
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(skbs))) {
		r->got++;
		if (skb->head == r->want_head && skb->len == 60 &&
		    skb->data == skb->head + WP_SKB_HEADROOM &&
		    skb->data[59] == 0x3c)
			r->intact++;
		wp_consume_skb(skb);
	}
}

static void nic_takes_a_backend_pool(void **state)
{
	const uint32_t frame = 2048, n = 256 + 64 + 64 + 8;
	size_t len = (size_t)frame * n;
	struct wp_pool_config pc = { .nbufs = n, .buf_size = frame };
	struct wp_nic_config nc;
	struct wp_pool *ext, *orig, *old = NULL;
	struct zc_rig r;
	uint8_t *mem = map_frames(len);
	uint8_t *mine, *slot;
	void *back;
	uint32_t room = 0;

	memset(&r, 0, sizeof(r));
	wp_clock_init_virtual(&r.clock, 0);
	wp_sysctl_init(&r.sysctl);
	r.cpus[0] = &r.cpu;
	wp_cpu_init(&r.cpu, 0, &r.clock, &r.sysctl, &r.irqs);
	wp_irq_table_init(&r.irqs, r.cpus, 1);
	wp_nic_config_default(&nc);
	nc.nqueues = 1;
	nc.rx_ring_size = 64;
	nc.tx_ring_size = 64;
	nc.coalesce.rx_usecs = 0;
	nc.coalesce.rx_frames = 1;
	r.nic = wp_nic_create(&nc, &r.clock, &r.irqs, r.cpus, 1, zc_rx, &r);
	assert_non_null(r.nic);
	orig = r.nic->rxq[0].pool;

	ext = wp_pool_create_ext(&pc, mem, len);
	assert_non_null(ext);
	/* Bad input first: nothing changes. */
	assert_int_equal(wp_nic_set_rx_pool(r.nic, 1, ext, &old), -EINVAL);
	assert_int_equal(wp_nic_set_rx_pool(r.nic, 0, NULL, &old), -EINVAL);
	assert_ptr_equal(r.nic->rxq[0].pool, orig);

	assert_int_equal(wp_nic_set_rx_pool(r.nic, 0, ext, &old), 0);
	assert_ptr_equal(old, orig);
	assert_ptr_equal(r.nic->rxq[0].pool, ext);
	/* The old ring's buffers are home; the new ring is from ext. */
	assert_true(wp_pool_is_whole(orig));
	for (uint32_t i = 0; i < 64; i++)
		assert_true(r.nic->rxq[0].bufs[i] >= (void *)mem &&
			    r.nic->rxq[0].bufs[i] < (void *)(mem + len));

	/* The firmware holds a buffer of its own, written "by the wire". */
	mine = wp_pool_get_buf(ext);
	assert_non_null(mine);
	memset(mine + WP_SKB_HEADROOM, 0x3c, 60);
	assert_null(wp_nic_rx_swap(r.nic, 0, mine)); /* no slot open */
	slot = wp_nic_rx_slot(r.nic, 0, &room);
	assert_non_null(slot);
	assert_int_equal(room, frame - WP_POOL_EXT_HEADROOM);
	assert_null(wp_nic_rx_swap(r.nic, 0, NULL));
	back = wp_nic_rx_swap(r.nic, 0, mine);
	/* What comes back is the descriptor's buffer: the slot we saw. */
	assert_ptr_equal((uint8_t *)back + WP_SKB_HEADROOM, slot);
	assert_int_equal(wp_nic_rx_commit(r.nic, 0, 60, 0, 0, 0), 0);
	r.want_head = mine;
	while (wp_cpu_run_once(&r.cpu))
		;
	assert_int_equal(r.got, 1);
	assert_int_equal(r.intact, 1); /* in our buffer: not copied */

	/* And back: the NIC's own pool again, ext whole once we return the
	 * buffer we hold. */
	wp_pool_put_buf(ext, back);
	assert_int_equal(wp_nic_set_rx_pool(r.nic, 0, orig, &old), 0);
	assert_ptr_equal(old, ext);
	assert_true(wp_pool_is_whole(ext));
	wp_pool_destroy(ext);
	munmap(mem, len);
	wp_nic_down(r.nic);
	assert_true(wp_pool_is_whole(orig));
	wp_nic_destroy(r.nic);
	wp_cpu_destroy(&r.cpu);
}

/* --- on a veth pair ------------------------------------------------------ */

static void xdp_config(struct wp_stack_config *c, uint8_t bind)
{
	wt_config(c, "afxdp", OURS, 1);
	c->xdp_bind = bind;
}

/*
 * The UMEM pool's buffers are where they must be: in the NIC's RX ring
 * (all of it: no frame pending, nothing held above), in TX descriptors
 * not cleaned yet (the stack's skbs come from the same pool), or with
 * the firmware (the fill ring). Call with the stack stopped.
 */
static void umem_accounted(struct wt_rig *r)
{
	uint64_t fill = wt_report_u64(r->s, "fill_frames");

	for (uint16_t q = 0; q < r->s->nic->cfg.nqueues; q++) {
		struct wp_rx_queue *rxq = &r->s->nic->rxq[q];
		struct wp_tx_queue *txq = &r->s->nic->txq[q];
		uint32_t tx = txq->next_to_use - txq->next_to_clean;
		struct wp_pool_stats st;

		wp_pool_get_stats(rxq->pool, &st);
		assert_int_equal(st.bufs_total - st.bufs_free,
				 rxq->next_to_use - rxq->next_to_clean + tx +
					 fill);
		assert_int_equal(st.heads_total - st.heads_free, tx);
	}
}

/*
 * wt_rig_destroy for a stack on UMEM: with the NIC down its ring is
 * empty, so the UMEM pool's buffers out are exactly the firmware's (the
 * fill ring); at close every buffer must come home, the UMEM pool's and
 * the NIC's own (the backend and the NIC say so on stderr otherwise).
 */
static void xdp_destroy(struct wt_rig *r)
{
	struct wt_errcap cap;
	const char *said;

	wp_stack_stop(r->s);
	wp_nic_down(r->s->nic);
	umem_accounted(r);
	assert_int_equal(atomic_load(&r->tx[0].errors), 0);
	wt_errcap_begin(&cap);
	wt_rig_free(r);
	said = wt_errcap_end(&cap);
	assert_null(strstr(said, "not whole"));
	assert_null(strstr(said, "leaking"));
}

static void mode_and_cleanup(void **state)
{
	struct wp_stack_config c;
	struct wt_rig *r;
	uint8_t mac[6], dev[6];
	uint32_t mtu;
	const char *mode;

	WT_REQUIRE();
	assert_false(xdp_attached(OURS));
	xdp_config(&c, WP_XDP_BIND_AUTO);
	r = wt_rig_create(&c);
	mode = wp__afxdp_mode(&r->s->backend);
	assert_non_null(mode);
	print_message("      afxdp on veth: %s\n", mode);
	/* veth has native XDP and no zero copy. */
	assert_string_equal(mode, "xdp-native copy");
	assert_true(wt_report_has(r->s, "xdp_mode: xdp-native copy"));
	assert_true(xdp_attached(OURS));
	/* The interface's MAC and MTU; the NIC queue runs on UMEM. */
	wt_if_mac(OURS, dev);
	wp_stack_get_link(r->s, mac, &mtu);
	assert_memory_equal(mac, dev, 6);
	assert_int_equal(mtu, 1500);
	assert_true(wp_pool_buf_size(r->s->nic->rxq[0].pool) ==
		    2048 - WP_POOL_EXT_BUF_OFFSET);
	wt_rig_start(r);
	wt_sleep_us(20000);
	wp_stack_stop(r->s);
	umem_accounted(r);
	xdp_destroy(r);
	/* Closed: the program went with the link. */
	assert_false(xdp_attached(OURS));

	/* --copy asks for what veth gives anyway. */
	xdp_config(&c, WP_XDP_BIND_COPY);
	r = wt_rig_create(&c);
	assert_string_equal(wp__afxdp_mode(&r->s->backend), "xdp-native copy");
	xdp_destroy(r);
	assert_false(xdp_attached(OURS));
}

static void peer_frames_reach_the_stack(void **state)
{
	const uint32_t n = 400;
	struct wp_stack_config c;
	uint8_t f[1514], dst[6], src[6];
	struct wt_rig *r;
	int k;

	WT_REQUIRE();
	xdp_config(&c, WP_XDP_BIND_AUTO);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	wt_if_mac(OURS, dst);
	wt_if_mac(PEER, src);
	k = wt_ksock(PEER);
	for (uint32_t seq = 0; seq < n; seq++) {
		uint32_t len = wt_len_of(seq, 1514);

		wt_frame(f, len, dst, src, seq, (uint16_t)(seq % 8));
		wt_ksend(k, f, len);
		if (seq % 32 == 31)
			wt_sleep_us(2000); /* within the fill ring */
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, n, 3000));
	wt_sleep_us(20000);
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	assert_int_equal(atomic_load(&r->cap->frames), n);
	for (uint32_t seq = 0; seq < n; seq++)
		assert_int_equal(atomic_load(&r->cap->seen[seq]), 1);
	assert_true(wt_report_u64(r->s, "fw_rx_frames") >= n);
	assert_int_equal(wt_report_u64(r->s, "fw_rx_missed"), 0);
	assert_int_equal(wt_report_u64(r->s, "fw_rx_bad_desc"), 0);
	wt_kclose(k);
	wp_stack_stop(r->s);
	umem_accounted(r);
	xdp_destroy(r);
	assert_false(xdp_attached(OURS));
}

/* The frames arrive in UMEM: the skb's buffer is a UMEM frame's. */
struct zc_check {
	struct wp_pool *umem;
	_Atomic uint64_t in_umem, elsewhere;
};

static struct zc_check zc;

static void zc_cap_rx(void *ctx, struct wp_napi *napi,
		      struct wp_skb_queue *skbs)
{
	for (struct wp_skb *s = skbs->head; s; s = s->next) {
		uintptr_t frame = (uintptr_t)s->head - WP_POOL_EXT_BUF_OFFSET;

		if (s->pool == zc.umem && frame % 2048 == 0 &&
		    s->data == s->head + WP_SKB_HEADROOM)
			atomic_fetch_add(&zc.in_umem, 1);
		else
			atomic_fetch_add(&zc.elsewhere, 1);
	}
	wt_cap_rx(ctx, napi, skbs);
}

static void received_skbs_point_into_umem(void **state)
{
	struct wp_stack_config c;
	uint8_t f[1514], dst[6], src[6];
	struct wt_rig *r;
	int k;

	WT_REQUIRE();
	xdp_config(&c, WP_XDP_BIND_AUTO);
	r = wt_rig_create(&c);
	memset(&zc, 0, sizeof(zc));
	zc.umem = r->s->nic->rxq[0].pool;
	r->s->rx_handler = zc_cap_rx;
	wt_rig_start(r);
	wt_if_mac(OURS, dst);
	wt_if_mac(PEER, src);
	k = wt_ksock(PEER);
	for (uint32_t seq = 0; seq < 64; seq++) {
		wt_frame(f, 1000, dst, src, seq, 1);
		wt_ksend(k, f, 1000);
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, 64, 3000));
	assert_true(atomic_load(&zc.in_umem) >= 64);
	assert_int_equal(atomic_load(&zc.elsewhere), 0);
	wt_kclose(k);
	xdp_destroy(r);
}

static void stack_frames_reach_the_peer(void **state)
{
	const uint32_t n = 300;
	struct wp_stack_config c;
	uint8_t buf[2048], peer[6];
	uint32_t got = 0, bad = 0;
	uint64_t end;
	struct wt_rig *r;
	int k;

	WT_REQUIRE();
	xdp_config(&c, WP_XDP_BIND_AUTO);
	r = wt_rig_create(&c);
	k = wt_ksock(PEER);
	wt_rig_start(r);
	wt_if_mac(PEER, peer);
	wt_rig_send(r, 0, peer, n);
	end = wt_now_ms() + 3000;
	while (got < n && wt_now_ms() < end) {
		ssize_t len = wt_krecv(k, buf, sizeof(buf), 100);
		uint32_t seq;
		uint16_t flow;
		int ok;

		if (len <= 0)
			continue;
		ok = wt_parse(buf, (uint32_t)len, 14, &seq, &flow);
		if (ok > 0 && wt_len_of(seq, 1514) == (uint32_t)len)
			got++;
		else if (ok)
			bad++;
	}
	assert_int_equal(bad, 0);
	assert_int_equal(got, n);
	assert_int_equal(atomic_load(&r->tx[0].sent), n);
	/* Ours, and what the protocol layer sent itself (its gratuitous
	 * ARP at start). */
	assert_in_range(wt_report_u64(r->s, "fw_tx_frames"), n, n + 4);
	assert_true(wt_report_u64(r->s, "fw_tx_kicks") >= 1);
	wt_kclose(k);
	wp_stack_stop(r->s);
	umem_accounted(r);
	xdp_destroy(r);
	assert_false(xdp_attached(OURS));
}

static void refused(const struct wp_stack_config *c, int want_errno,
		    const char *want);

/* A device without native XDP (a bridge): the generic hook, copy mode;
 * --zerocopy is refused there, and nothing stays attached either way. */
static void generic_xdp_fallback(void **state)
{
	struct wp_stack_config c;
	struct wt_rig *r;

	WT_REQUIRE();
	if (ip_cmd("ip link add wpxd type bridge 2>/dev/null") ||
	    ip_cmd("ip link set wpxd up")) {
		print_message(
			"[   SKIP   ] no bridge device (modprobe bridge)\n");
		skip();
	}
	xdp_config(&c, WP_XDP_BIND_AUTO);
	c.ifname = "wpxd";
	r = wt_rig_create(&c);
	assert_string_equal(wp__afxdp_mode(&r->s->backend), "xdp-generic copy");
	assert_true(xdp_attached("wpxd"));
	wt_rig_start(r);
	wp_stack_stop(r->s);
	umem_accounted(r);
	xdp_destroy(r);
	assert_false(xdp_attached("wpxd"));

	xdp_config(&c, WP_XDP_BIND_ZEROCOPY);
	c.ifname = "wpxd";
	refused(&c, EOPNOTSUPP, "zero-copy");
	assert_false(xdp_attached("wpxd"));
	ip_cmd("ip link del wpxd");
}

/* Two queues: two sockets on the interface's queues 0 and 1, each NIC
 * queue fed by its own; the kernel's queue choice is the RSS. */
static void two_queues(void **state)
{
	const uint32_t n = 256;
	struct wp_stack_config c;
	uint8_t f[256], dst[6], src[6];
	struct wt_rig *r;
	int k;

	WT_REQUIRE();
	if (ip_cmd("ethtool -L " OURS " rx 2 tx 2 2>/dev/null") ||
	    ip_cmd("ethtool -L " PEER " rx 2 tx 2 2>/dev/null")) {
		print_message("[   SKIP   ] ethtool -L refused: one queue\n");
		skip();
	}
	xdp_config(&c, WP_XDP_BIND_AUTO);
	c.queues = 2;
	c.cores = 2;
	r = wt_rig_create(&c);
	assert_true(wt_report_has(r->s, "queues: 2 (interface queues 0..1)"));
	wt_rig_start(r);
	wt_if_mac(OURS, dst);
	wt_if_mac(PEER, src);
	k = wt_ksock(PEER);
	for (uint32_t seq = 0; seq < n; seq++) {
		wt_frame(f, 128, dst, src, seq, (uint16_t)(seq % 64));
		wt_ksend(k, f, 128);
		if (seq % 32 == 31)
			wt_sleep_us(2000);
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, n, 3000));
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	print_message("      per queue: %llu %llu\n",
		      (unsigned long long)atomic_load(&r->cap->per_queue[0]),
		      (unsigned long long)atomic_load(&r->cap->per_queue[1]));
	assert_true(atomic_load(&r->cap->per_queue[0]) > 0);
	assert_true(atomic_load(&r->cap->per_queue[1]) > 0);
	/* A flow stays on its queue. */
	assert_int_equal(atomic_load(&r->cap->flow_moved), 0);
	wt_kclose(k);
	wp_stack_stop(r->s);
	wp_nic_down(r->s->nic);
	xdp_destroy(r);
	assert_false(xdp_attached(OURS));
	ip_cmd("ethtool -L " OURS " rx 1 tx 1 2>/dev/null");
	ip_cmd("ethtool -L " PEER " rx 1 tx 1 2>/dev/null");
}

/* --busy-poll: the sockets busy poll, the firmware and the cores spin;
 * frames still go both ways, every one accounted for. */
static void busy_poll_both_ways(void **state)
{
	const uint32_t n = 100;
	struct wp_stack_config c;
	uint8_t f[1514], dst[6], src[6], buf[2048];
	uint32_t got = 0;
	uint64_t end;
	struct wt_rig *r;
	int k;

	WT_REQUIRE();
	xdp_config(&c, WP_XDP_BIND_AUTO);
	c.busy_poll = true;
	r = wt_rig_create(&c);
	assert_true(wt_report_has(r->s, "busy_poll: on"));
	k = wt_ksock(PEER);
	wt_rig_start(r);
	wt_if_mac(OURS, dst);
	wt_if_mac(PEER, src);
	for (uint32_t seq = 0; seq < n; seq++) {
		wt_frame(f, 200 + seq, dst, src, seq, 3);
		wt_ksend(k, f, 200 + seq);
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, n, 3000));
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	wt_rig_send(r, 0, src, n);
	end = wt_now_ms() + 3000;
	while (got < n && wt_now_ms() < end) {
		ssize_t len = wt_krecv(k, buf, sizeof(buf), 100);
		uint32_t seq;
		uint16_t flow;

		if (len > 0 &&
		    wt_parse(buf, (uint32_t)len, 14, &seq, &flow) > 0)
			got++;
	}
	if (got != n)
		fail_msg(
			"peer got %u of %u; the stack queued %u, firmware sent "
			"%llu",
			got, n, atomic_load(&r->tx[0].sent),
			(unsigned long long)wt_report_u64(r->s,
							  "fw_tx_frames"));
	/* Spinning, it never sleeps in ppoll. */
	assert_int_equal(wt_report_u64(r->s, "fw_wakeups"), 0);
	wt_kclose(k);
	xdp_destroy(r);
}

/* --- refusals ------------------------------------------------------------ */

/* wp_stack_create refuses c; err must contain `want`, and the NIC that
 * was built and torn down left nothing attached. */
static void refused(const struct wp_stack_config *c, int want_errno,
		    const char *want)
{
	struct wt_errcap cap;
	char err[256];
	struct wp_stack *s;
	const char *said;

	wt_errcap_begin(&cap);
	errno = 0;
	s = wp_stack_create(c, err, sizeof(err));
	said = wt_errcap_end(&cap);
	if (s)
		wp_stack_destroy(s);
	assert_null(s);
	assert_int_equal(errno, want_errno);
	if (!strstr(said, want))
		fail_msg("expected '%s' in: %s", want, said);
}

static void refusals_name_the_fix(void **state)
{
	struct wp_stack_config c;
	struct wt_rig *r;

	WT_REQUIRE();
	xdp_config(&c, WP_XDP_BIND_AUTO);
	c.ifname = "wpx-none";
	refused(&c, ENODEV, "no interface wpx-none");
	c.ifname = NULL;
	refused(&c, EINVAL, "needs --if NAME");
	xdp_config(&c, WP_XDP_BIND_AUTO);
	c.virtual_time = true;
	refused(&c, ENOTSUP, "real time only");

	/* veth has no zero copy: --zerocopy says so, and nothing stays. */
	xdp_config(&c, WP_XDP_BIND_ZEROCOPY);
	refused(&c, EOPNOTSUPP, "zero-copy");
	assert_false(xdp_attached(OURS));

	/* A queue the interface does not have. */
	xdp_config(&c, WP_XDP_BIND_AUTO);
	c.xdp_queue = 7;
	refused(&c, EINVAL, "no such queue");
	assert_false(xdp_attached(OURS));

	/* Not Ethernet. */
	if (ip_cmd("ip tuntap add mode tun name wpxt 2>/dev/null") == 0) {
		xdp_config(&c, WP_XDP_BIND_AUTO);
		c.ifname = "wpxt";
		refused(&c, EINVAL, "not an Ethernet interface");
		ip_cmd("ip link del wpxt");
	}

	/* A queue that is taken: EBUSY, and the first owner runs on. */
	xdp_config(&c, WP_XDP_BIND_AUTO);
	r = wt_rig_create(&c);
	refused(&c, EBUSY, "queue 0 of " OURS " is taken");
	/* Another queue of the same interface: the program is taken. */
	if (ip_cmd("ethtool -L " OURS " rx 2 tx 2 2>/dev/null") == 0 &&
	    ip_cmd("ethtool -L " PEER " rx 2 tx 2 2>/dev/null") == 0) {
		c.xdp_queue = 1;
		refused(&c, EBUSY, "already has an XDP program");
		c.xdp_queue = 0;
	}
	assert_true(xdp_attached(OURS));
	assert_string_equal(wp__afxdp_mode(&r->s->backend), "xdp-native copy");
	xdp_destroy(r);
	assert_false(xdp_attached(OURS));
	ip_cmd("ethtool -L " OURS " rx 1 tx 1 2>/dev/null");
	ip_cmd("ethtool -L " PEER " rx 1 tx 1 2>/dev/null");

	/* Someone else's XDP program on the interface. */
	if (ip_cmd("ip link set dev " OURS " xdpgeneric obj /usr/lib/"
		   "x86_64-linux-gnu/bpf/xdpfilt_alw_all.o sec xdp "
		   "2>/dev/null") == 0) {
		xdp_config(&c, WP_XDP_BIND_AUTO);
		refused(&c, EBUSY, "already has an XDP program");
		assert_int_equal(
			ip_cmd("ip link set dev " OURS " xdpgeneric off"), 0);
	}
	assert_false(xdp_attached(OURS));
}

static int open_unprivileged(void *arg)
{
	struct wp_stack_config c;
	struct wt_errcap cap;
	char err[256];
	struct wp_stack *s;
	const char *said;

	xdp_config(&c, WP_XDP_BIND_AUTO);
	wt_errcap_begin(&cap);
	s = wp_stack_create(&c, err, sizeof(err));
	said = wt_errcap_end(&cap);
	if (s)
		return 1;
	if (errno != EPERM)
		return 2;
	if (!strstr(said, "needs CAP_NET_ADMIN and CAP_BPF") ||
	    !strstr(said, "run as root"))
		return 3;
	return 0;
}

static void no_privileges_is_refused(void **state)
{
	WT_REQUIRE();
	assert_int_equal(wt_run_unprivileged(open_unprivileged, NULL), 0);
	assert_false(xdp_attached(OURS));
}

static int group_setup(void **state)
{
	int fd;

	wt_env_init(false);
	if (wt_skip_reason)
		return 0;
	if (system("ip -V >/dev/null 2>&1") != 0) {
		wt_skip_reason = "iproute2's ip is missing: the tests make "
				 "their veth pair with it";
		return 0;
	}
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		wt_skip_reason = "this kernel has no AF_XDP sockets "
				 "(CONFIG_XDP_SOCKETS)";
		return 0;
	}
	close(fd);
	/* In our own namespace: the pair goes when the process does. */
	if (ip_cmd("ip link add " PEER " type veth peer name " OURS) ||
	    ip_cmd("ip link set " PEER " up") ||
	    ip_cmd("ip link set " OURS " up"))
		wt_skip_reason = "cannot create a veth pair (no veth module?)";
	return 0;
}

static int group_teardown(void **state)
{
	if (!wt_skip_reason)
		ip_cmd("ip link del " PEER " 2>/dev/null");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ext_pool_layout),
		cmocka_unit_test(ext_pool_refuses_bad_input),
		cmocka_unit_test(umem_geometry),
		cmocka_unit_test(nic_takes_a_backend_pool),
		cmocka_unit_test_teardown(mode_and_cleanup, wt_teardown),
		cmocka_unit_test_teardown(peer_frames_reach_the_stack,
					  wt_teardown),
		cmocka_unit_test_teardown(received_skbs_point_into_umem,
					  wt_teardown),
		cmocka_unit_test_teardown(stack_frames_reach_the_peer,
					  wt_teardown),
		cmocka_unit_test_teardown(generic_xdp_fallback, wt_teardown),
		cmocka_unit_test_teardown(two_queues, wt_teardown),
		cmocka_unit_test_teardown(busy_poll_both_ways, wt_teardown),
		cmocka_unit_test_teardown(refusals_name_the_fix, wt_teardown),
		cmocka_unit_test_teardown(no_privileges_is_refused,
					  wt_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
