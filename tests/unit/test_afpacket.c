// SPDX-License-Identifier: MIT
/*
 * The afpacket backend on a veth pair in a network namespace of the
 * test's own (wpv0: the kernel side, wpv1: the stack's interface): the
 * stack takes the interface's MAC and at most its MTU; frames the peer
 * sends arrive intact, VLAN tags put back where the kernel took them off
 * and partial checksums completed; frames the stack sends reach the peer
 * intact; several queues form a fanout group that spreads flows and keeps
 * each on one queue; frames the kernel's ring had no room for are counted
 * missed, so every frame sent is accounted for; and every refusal names
 * the problem and its fix.
 *
 * Skipped (with the reason) when not root or without iproute2's `ip`.
 */
#include "test_wire_rig.h"

#include <netinet/in.h>

#define PEER "wpv0"
#define OURS "wpv1"

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

static void ours_mac(uint8_t mac[6])
{
	wt_if_mac(OURS, mac);
}

static void peer_mac(uint8_t mac[6])
{
	wt_if_mac(PEER, mac);
}

/* --- the interface -----------------------------------------------------------
 */

static void takes_the_interface_mac_and_mtu(void **state)
{
	struct wp_stack_config c;
	static const uint8_t given[6] = { 0x02, 0x77, 0x70, 0, 0, 0x99 };
	uint8_t mac[6], dev[6];
	struct wt_errcap cap;
	struct wt_rig *r;
	uint32_t mtu;

	WT_REQUIRE();
	ours_mac(dev);
	wt_config(&c, "afpacket", OURS, 1);
	r = wt_rig_create(&c);
	wp_stack_get_link(r->s, mac, &mtu);
	assert_memory_equal(mac, dev, 6);
	assert_int_equal(mtu, 1500);
	assert_true(wt_report_has(r->s, "mac_source: the interface's own"));
	wt_rig_destroy(r);

	/* --mac: used as given, added to the interface's filter. */
	c.mac_set = true;
	memcpy(c.mac, given, 6);
	r = wt_rig_create(&c);
	wp_stack_get_link(r->s, mac, NULL);
	assert_memory_equal(mac, given, 6);
	assert_true(wt_report_has(r->s, "--mac, added"));
	wt_rig_destroy(r);

	/* A stack MTU above the interface's is lowered to it, with a note. */
	c.mac_set = false;
	wt_if_set_mtu(OURS, 1400);
	c.mtu = 9000;
	wt_errcap_begin(&cap);
	r = wt_rig_create(&c);
	assert_non_null(strstr(wt_errcap_end(&cap), "the stack uses 1400"));
	wp_stack_get_link(r->s, NULL, &mtu);
	assert_int_equal(mtu, 1400);
	assert_int_equal(r->s->nic->cfg.mtu, 1400);
	assert_int_equal(wt_report_u64(r->s, "interface_mtu"), 1400);
	wt_rig_destroy(r);
	wt_if_set_mtu(OURS, 1500);

	/* A link that is down: opened, with a note saying how to bring it up.
	 */
	c.mtu = 1500;
	wt_if_set_up(OURS, false);
	wt_errcap_begin(&cap);
	r = wt_rig_create(&c);
	assert_non_null(strstr(wt_errcap_end(&cap), "ip link set wpv1 up"));
	assert_true(wt_report_has(r->s, "link: down"));
	wt_rig_destroy(r);
	wt_if_set_up(OURS, true);
}

/* --- frames both ways
 * ---------------------------------------------------------- */

/* Put an 802.1Q tag (TCI tci) into frame f of len bytes, in place. */
static uint32_t add_tag(uint8_t *f, uint32_t len, uint16_t tci)
{
	memmove(f + 16, f + 12, len - 12);
	wt_put16(f + 12, ETH_P_8021Q);
	wt_put16(f + 14, tci);
	return len + 4;
}

static void peer_frames_reach_the_stack(void **state)
{
	struct wp_stack_config c;
	struct wp_nic_stats st;
	uint8_t f[1600], mac[6], pmac[6];
	const uint32_t n = 400, tagged = 20;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "afpacket", OURS, 1);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	peer_mac(pmac);
	ks = wt_ksock(PEER);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = wt_len_of(i, 1514);

		wt_frame(f, len, mac, pmac, i, (uint16_t)(i % 8));
		wt_ksend(ks, f, len);
	}
	/* Tagged: the receive path strips the tag into tp_vlan_tci; the
	 * firmware puts it back where it was. */
	for (uint32_t i = n; i < n + tagged; i++) {
		uint32_t len = wt_len_of(i, 1514);

		wt_frame(f, len, mac, pmac, i, 0);
		len = add_tag(f, len, 0x2123); /* PCP 1, VID 0x123 */
		wt_ksend(ks, f, len);
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, n + tagged, 5000));
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	for (uint32_t i = 0; i < n + tagged; i++)
		assert_int_equal(atomic_load(&r->cap->seen[i]), 1);
	assert_int_equal(atomic_load(&r->cap->tagged), tagged);
	assert_int_equal(atomic_load(&r->cap->last_tci), 0x2123);
	assert_int_equal(wt_report_u64(r->s, "fw_rx_vlan_restored"), tagged);
	wp_nic_get_stats(r->s->nic, &st);
	assert_int_equal(st.rx_missed_errors, 0);
	assert_int_equal(st.rx_length_errors, 0);
	assert_int_equal(wt_report_u64(r->s, "fw_rx_kernel_drops"), 0);
	/* A lone frame is retired by the block timer, not a full block. */
	assert_true(wt_report_u64(r->s, "fw_rx_blocks_timeout") > 0);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

static uint32_t peer_collect(int ks, uint8_t *seen, uint32_t nseen,
			     uint32_t want, uint32_t *bad)
{
	uint8_t buf[9100];
	uint32_t got = 0;

	while (got < want) {
		ssize_t len = wt_krecv(ks, buf, sizeof(buf), 3000);
		uint32_t seq;
		uint16_t flow;
		int p;

		if (len < 0)
			break;
		p = wt_parse(buf, (uint32_t)len, 14, &seq, &flow);
		if (p < 0)
			(*bad)++;
		if (p <= 0 || seq >= nseen)
			continue;
		if (!seen[seq]++)
			got++;
	}
	return got;
}

static void stack_frames_reach_the_peer(void **state)
{
	static uint8_t seen[1 << 16];
	struct wp_stack_config c;
	struct wp_nic_stats st;
	const uint32_t n = 600;
	uint32_t bad = 0;
	uint8_t pmac[6];
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	memset(seen, 0, sizeof(seen));
	wt_config(&c, "afpacket", OURS, 1);
	r = wt_rig_create(&c);
	ks = wt_ksock(PEER);
	wt_rig_start(r);
	peer_mac(pmac);
	wt_rig_send(r, 0, pmac, n);
	assert_int_equal(peer_collect(ks, seen, sizeof(seen), n, &bad), n);
	assert_int_equal(bad, 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	wp_stack_stop(r->s);
	wp_nic_get_stats(r->s->nic, &st);
	assert_int_equal(st.tx_packets, r->s->backend.frames_out);
	assert_int_equal(wt_report_u64(r->s, "fw_tx_frames"),
			 r->s->backend.frames_out);
	assert_int_equal(wt_report_u64(r->s, "fw_tx_errors"), 0);
	/* Our own frames do not come back in (PACKET_IGNORE_OUTGOING). */
	assert_int_equal(atomic_load(&r->cap->frames), 0);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

/* Four sockets in one fanout group: flows spread, each on one queue; then
 * every core transmits at once. */
static void fanout_spreads_flows(void **state)
{
	static uint8_t seen[1 << 16];
	const uint32_t flows = 64, per_flow = 16, per_q = 300;
	struct wp_stack_config c;
	uint8_t f[1514], mac[6], pmac[6];
	uint32_t bad = 0, busy_queues = 0, n = 0;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	memset(seen, 0, sizeof(seen));
	wt_config(&c, "afpacket", OURS, 4);
	r = wt_rig_create(&c);
	assert_true(wt_report_has(r->s, "fanout: hash, group"));
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	peer_mac(pmac);
	ks = wt_ksock(PEER);
	for (uint32_t k = 0; k < per_flow; k++)
		for (uint32_t fl = 0; fl < flows; fl++, n++) {
			uint32_t len = wt_len_of(n, 1514);

			wt_frame(f, len, mac, pmac, n, (uint16_t)fl);
			wt_ksend(ks, f, len);
		}
	assert_true(wt_wait_ge_a(&r->cap->frames, n, 5000));
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	assert_int_equal(atomic_load(&r->cap->flow_moved), 0);
	for (uint16_t q = 0; q < 4; q++)
		busy_queues += atomic_load(&r->cap->per_queue[q]) > 0;
	assert_int_equal(busy_queues, 4);

	for (uint16_t q = 0; q < 4; q++)
		wt_rig_send(r, q, pmac, per_q);
	assert_int_equal(peer_collect(ks, seen, sizeof(seen), 4 * per_q, &bad),
			 4 * per_q);
	assert_int_equal(bad, 0);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

/*
 * The firmware not running: the kernel's ring (4 blocks of 128 KiB) fills
 * and the kernel drops the rest. Started with no core polling, the
 * firmware fills the NIC's ring (64) and misses the others. Every frame
 * sent is accounted for: received, missed by the NIC, or dropped by the
 * kernel, and both kinds of loss are rx_missed_errors.
 */
static void kernel_ring_overflow_is_counted(void **state)
{
	struct wp_stack_config c;
	struct wp_nic_stats st;
	uint8_t f[1514], mac[6], pmac[6];
	const uint32_t n = 1000;
	uint64_t fw_rx, missed, kdrops;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	wt_config(&c, "afpacket", OURS, 1);
	c.rx_ring = 64;
	r = wt_rig_create(&c);
	wp_stack_get_link(r->s, mac, NULL);
	peer_mac(pmac);
	ks = wt_ksock(PEER);
	for (uint32_t i = 0; i < n; i++) {
		wt_frame(f, 1514, mac, pmac, i, 0);
		wt_ksend(ks, f, 1514);
		/* Paced, so the peer's backlog (netdev_max_backlog) is not
		 * where frames are lost. */
		if (i % 50 == 49)
			wt_sleep_us(2000);
	}
	assert_int_equal(r->s->backend.ops->start(&r->s->backend), 0);
	assert_true(wt_wait_ge(&r->s->backend.frames_in, 64, 3000));
	wt_sleep_us(50000); /* the last block retires within 1 ms */
	r->s->backend.ops->stop(&r->s->backend);

	fw_rx = wt_report_u64(r->s, "fw_rx_frames");
	missed = wt_report_u64(r->s, "fw_rx_missed");
	kdrops = wt_report_u64(r->s, "fw_rx_kernel_drops");
	print_message("sent %u: firmware took %lu (missed %lu), kernel dropped "
		      "%lu\n",
		      n, (unsigned long)fw_rx, (unsigned long)missed,
		      (unsigned long)kdrops);
	assert_true(kdrops > 0);
	assert_int_equal(fw_rx + kdrops, n);
	assert_int_equal(wp_nic_rx_pending(r->s->nic, 0), 64);
	assert_int_equal(fw_rx, 64 + missed);
	wp_nic_get_stats(r->s->nic, &st);
	assert_int_equal(st.rx_missed_errors, missed + kdrops);
	wt_kclose(ks);
	wt_rig_destroy(r);
}

/*
 * The link goes down and up under a running stack: the sockets get
 * ENETDOWN (POLLERR), the kernel hooks them in again on up, and frames
 * flow as before. Then the interface is deleted: said once, no busy loop.
 */
static void link_down_up_then_deleted(void **state)
{
	struct wp_stack_config c;
	struct wt_errcap cap;
	uint8_t f[200], mac[6], pmac[6];
	uint64_t wakeups;
	struct wt_rig *r;
	int ks;

	WT_REQUIRE();
	assert_int_equal(ip_cmd("ip link add wpx0 type veth peer name wpx1 && "
				"ip link set wpx0 up && ip link set wpx1 up"),
			 0);
	wt_config(&c, "afpacket", "wpx1", 2);
	r = wt_rig_create(&c);
	wt_rig_start(r);
	wp_stack_get_link(r->s, mac, NULL);
	wt_if_mac("wpx0", pmac);
	ks = wt_ksock("wpx0");
	for (int round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < 20; i++) {
			uint32_t seq = (uint32_t)round * 20 + i;

			wt_frame(f, 200, mac, pmac, seq, (uint16_t)i);
			wt_ksend(ks, f, 200);
		}
		assert_true(wt_wait_ge_a(&r->cap->frames,
					 ((uint64_t)round + 1) * 20, 3000));
		wt_if_set_up("wpx1", false);
		wt_sleep_us(20000);
		wt_if_set_up("wpx1", true);
		wt_sleep_us(20000);
	}
	assert_int_equal(atomic_load(&r->cap->bad), 0);
	assert_true(wt_report_u64(r->s, "fw_link_events") >= 3);
	/* Sent while the link is down: refused by the kernel (ENETDOWN),
	 * taken back off its ring and counted; the ring does not jam. */
	wt_if_set_up("wpx1", false);
	wt_rig_send(r, 0, pmac, 10);
	assert_true(wt_wait_ge(&r->s->backend.frames_out, 10, 2000));
	wt_sleep_us(20000);
	assert_true(wt_report_u64(r->s, "fw_tx_errors") >= 10);
	wt_if_set_up("wpx1", true);
	wt_sleep_us(20000);
	for (uint32_t i = 0; i < 20; i++) {
		wt_frame(f, 200, mac, pmac, 100 + i, (uint16_t)i);
		wt_ksend(ks, f, 200);
	}
	assert_true(wt_wait_ge_a(&r->cap->frames, 80, 3000));
	wt_kclose(ks);

	wt_errcap_begin(&cap);
	assert_int_equal(ip_cmd("ip link del wpx0"), 0);
	wt_sleep_us(50000);
	wakeups = wt_report_u64(r->s, "fw_wakeups");
	wt_sleep_us(100000);
	assert_true(wt_report_u64(r->s, "fw_wakeups") - wakeups < 10);
	wp_stack_stop(r->s);
	assert_non_null(strstr(wt_errcap_end(&cap), "the interface is gone"));
	assert_true(wt_report_has(r->s, "link: gone"));
	wt_rig_destroy(r);
}

/* --- checksums a local sender left to its NIC -------------------------------
 */

struct udp_check {
	_Atomic uint64_t good, bad;
};

static void udp_check_rx(void *ctx, struct wp_napi *napi,
			 struct wp_skb_queue *skbs)
{
	struct udp_check *u = ctx;
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(skbs))) {
		const uint8_t *f = skb->data, *ip = f + 14, *udp;
		uint32_t ihl, tot, sum;

		if (skb->len >= 42 && wt_get16(f + 12) == ETH_P_IP &&
		    ip[9] == IPPROTO_UDP) {
			ihl = (ip[0] & 0xfu) * 4;
			tot = wt_get16(ip + 2);
			udp = ip + ihl;
			/* RFC 768: pseudo-header + datagram sums to ~0. */
			sum = wt_get16(ip + 12) + wt_get16(ip + 14) +
			      wt_get16(ip + 16) + wt_get16(ip + 18) +
			      IPPROTO_UDP + (tot - ihl);
			if (wt_csum(udp, tot - ihl, sum) == 0xffff &&
			    wt_get16(udp + 6) != 0)
				atomic_fetch_add(&u->good, 1);
			else
				atomic_fetch_add(&u->bad, 1);
		}
		wp_consume_skb(skb);
	}
}

static void partial_checksums_are_completed(void **state)
{
	struct udp_check u = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct wp_stack_config c;
	uint8_t mac[6];
	char payload[333];
	struct wt_rig *r;
	int us;

	WT_REQUIRE();
	wt_config(&c, "afpacket", OURS, 1);
	r = wt_rig_create(&c);
	r->s->rx_handler = udp_check_rx;
	r->s->rx_ctx = &u;
	wt_rig_start(r);
	ours_mac(mac);
	assert_int_equal(ip_cmd("ip addr add 10.9.1.1/24 dev " PEER), 0);
	assert_int_equal(ip_cmd("ip neigh replace 10.9.1.2 lladdr "
				"%02x:%02x:%02x:%02x:%02x:%02x dev " PEER
				" nud permanent",
				mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]),
			 0);
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(us >= 0);
	wt_live_fd(us);
	inet_pton(AF_INET, "10.9.1.2", &to.sin_addr);
	memset(payload, 'w', sizeof(payload));
	for (int i = 0; i < 50; i++)
		assert_int_equal(sendto(us, payload,
					sizeof(payload) - (size_t)i, 0,
					(struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(payload) - i);
	assert_true(wt_wait_ge_a(&u.good, 50, 3000));
	assert_int_equal(atomic_load(&u.bad), 0);
	print_message(
		"checksums completed by the firmware: %lu\n",
		(unsigned long)wt_report_u64(r->s, "fw_rx_csum_completed"));
	assert_true(wt_report_u64(r->s, "fw_rx_csum_completed") >= 50);
	wt_kclose(us);
	assert_int_equal(ip_cmd("ip addr flush dev " PEER), 0);
	wt_rig_destroy(r);
}

/* --- refusals
 * ----------------------------------------------------------------- */

static void refused(const struct wp_stack_config *c, int err, const char *want)
{
	struct wt_errcap cap;
	char msg[256];
	struct wp_stack *s;
	const char *said;

	wt_errcap_begin(&cap);
	s = wp_stack_create(c, msg, sizeof(msg));
	said = wt_errcap_end(&cap);
	assert_null(s);
	assert_int_equal(errno, err);
	if (!strstr(said, want))
		fail_msg("expected \"%s\" in: %s", want, said);
	assert_non_null(strstr(said, "wirepath: afpacket backend: "));
}

static void refusals_name_the_fix(void **state)
{
	struct wp_stack_config c;

	WT_REQUIRE();
	wt_config(&c, "afpacket", NULL, 1);
	refused(&c, EINVAL, "needs --if NAME");
	c.ifname = "wpnosuch0";
	refused(&c, ENODEV,
		"no interface wpnosuch0: create it first or use --backend "
		"tap to create one");
	c.ifname = "bad name";
	refused(&c, EINVAL, "1..15 characters");
	c.ifname = "lo";
	refused(&c, EINVAL, "lo is not an Ethernet interface");
	c.ifname = OURS;
	c.virtual_time = true;
	refused(&c, ENOTSUP, "real time only");
	c.virtual_time = false;
	c.mac_set = true;
	memcpy(c.mac, (uint8_t[]){ 0x03, 0, 0, 0, 0, 1 }, 6);
	refused(&c, EINVAL, "must be unicast");
}

static int open_unprivileged(void *arg)
{
	struct wp_stack_config c;
	struct wt_errcap cap;
	char msg[256];
	struct wp_stack *s;
	const char *said;

	wt_config(&c, "afpacket", OURS, 1);
	wt_errcap_begin(&cap);
	s = wp_stack_create(&c, msg, sizeof(msg));
	said = wt_errcap_end(&cap);
	if (s)
		return 1;
	if (errno != EPERM && errno != EACCES)
		return 2;
	if (!strstr(said, "needs CAP_NET_RAW: run as root"))
		return 3;
	return 0;
}

static void no_privileges_is_refused(void **state)
{
	WT_REQUIRE();
	assert_int_equal(wt_run_unprivileged(open_unprivileged, NULL), 0);
}

static int group_setup(void **state)
{
	wt_env_init(false);
	if (wt_skip_reason)
		return 0;
	if (system("ip -V >/dev/null 2>&1") != 0) {
		wt_skip_reason = "iproute2's ip is missing: the tests make "
				 "their veth pair with it";
		return 0;
	}
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
		cmocka_unit_test_teardown(takes_the_interface_mac_and_mtu,
					  wt_teardown),
		cmocka_unit_test_teardown(peer_frames_reach_the_stack,
					  wt_teardown),
		cmocka_unit_test_teardown(stack_frames_reach_the_peer,
					  wt_teardown),
		cmocka_unit_test_teardown(fanout_spreads_flows, wt_teardown),
		cmocka_unit_test_teardown(kernel_ring_overflow_is_counted,
					  wt_teardown),
		cmocka_unit_test_teardown(link_down_up_then_deleted,
					  wt_teardown),
		cmocka_unit_test_teardown(partial_checksums_are_completed,
					  wt_teardown),
		cmocka_unit_test_teardown(refusals_name_the_fix, wt_teardown),
		cmocka_unit_test_teardown(no_privileges_is_refused,
					  wt_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
