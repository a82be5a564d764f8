// SPDX-License-Identifier: MIT
/*
 * The afpacket backend: an existing Linux Ethernet interface is the wire
 * (--backend afpacket --if NAME), through AF_PACKET sockets with
 * PACKET_MMAP rings shared with the kernel.
 *
 * One socket per NIC queue, each bound to NAME. With several queues they
 * form a PACKET_FANOUT_HASH group: the kernel spreads flows over the
 * sockets by flow hash, which plays the part of the NIC's RSS. Options:
 *   PACKET_QDISC_BYPASS     transmit straight to the driver (a NIC's TX
 *                           ring has no qdisc in front of it either);
 *   PACKET_IGNORE_OUTGOING  our own frames do not come back as input;
 *   PACKET_LOSS             a frame the kernel refuses is dropped, not left
 *                           to block the TX ring.
 *
 * Receive: a TPACKET_V3 ring of blocks. The kernel fills a block and hands
 * it over (TP_STATUS_USER in the block header: our DD bit) when it is full
 * or when the block timer (1 ms) retires it: the kernel's own interrupt
 * moderation, in front of ours. The firmware copies each frame into the
 * buffer of the NIC's next RX descriptor (the kernel's ring is not our
 * buffer pool, so this copy is the DMA) and gives the block back
 * (TP_STATUS_KERNEL). Frames the kernel could not put in the ring (it was
 * full: the firmware fell behind) are counted from PACKET_STATISTICS as
 * rx_missed_errors, as igb counts its FIFO overruns.
 *
 * What AF_PACKET sees is not quite what a wire carries, and the firmware
 * undoes the difference so the stack sees wire frames:
 *   - VLAN tags are stripped into tp_vlan_tci by the receive path: put back;
 *   - a frame from a local sender with checksum offload (veth peers) has a
 *     partial TCP/UDP checksum (TP_STATUS_CSUMNOTREADY): completed, as the
 *     sender's NIC would have done (IPv4);
 *   - GRO or TSO on the kernel side makes frames longer than the MTU: they
 *     are counted in rx_length_errors (turn GRO off: ethtool -K NAME gro off).
 *
 * Transmit: a TPACKET_V3 TX ring of fixed-size frames. The doorbell
 * (tx_kick: an eventfd the firmware thread polls) makes the firmware copy
 * each descriptor's frame into the next free ring frame, mark it
 * TP_STATUS_SEND_REQUEST, and then call sendto() once for the batch: the
 * kernel's doorbell. A ring frame stays the kernel's until the skb built
 * on it is freed; when none is free the firmware retries after
 * AFP_TX_RETRY_NS (the kernel does not signal POLLOUT for a ring frame
 * it has not reached yet).
 *
 * MAC: the interface's own unless --mac is given, so the device's unicast
 * filter passes our frames without promiscuous mode. Another MAC is added
 * to the filter with PACKET_MR_UNICAST (the kernel drops it with the
 * socket). MTU: at most the interface's; a larger one is lowered to it.
 *
 * Real time only, like every live wire.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nic/backend/backend.h"
#include "nic/backend/netdev.h"
#include "nic/nic.h"

/* RX: blocks of this size; at least AFP_RX_BLOCKS_MIN of them, and as many
 * bytes in all as the NIC's RX ring holds in 2 KiB buffers. */
#define AFP_RX_BLOCK_SIZE (128u * 1024)
#define AFP_RX_BLOCKS_MIN 4u
#define AFP_RX_FRAME_SIZE 2048u /* V3 only uses it to check the geometry */
#define AFP_RX_TOV_MS 1u	/* block retire timeout */
/* Blocks per wake-up before the timers and TX get a turn. */
#define AFP_RX_BLOCK_BATCH 4
#define AFP_TX_BATCH 256
#define AFP_TX_BLOCK_SIZE (64u * 1024)
#define AFP_TX_RETRY_NS (50 * WP_NSEC_PER_USEC)
/* Where a frame's data starts in a TX ring frame (no PACKET_TX_HAS_OFF). */
#define AFP_TX_DATA_OFF (TPACKET3_HDRLEN - sizeof(struct sockaddr_ll))

struct afp;

struct afp_queue {
	struct wp_backend *be;
	struct afp *a;
	uint16_t q;
	int fd;
	uint8_t *map;
	size_t map_len;
	/* RX ring: rx_block is the next block we expect the kernel to hand
	 * over (the kernel fills blocks in order). */
	uint8_t *rx_ring;
	uint32_t rx_block;
	/* TX ring: tx_head is the next frame we fill; tx_unsent counts frames
	 * marked SEND_REQUEST since the last sendto(). */
	uint8_t *tx_ring;
	uint32_t tx_head, tx_unsent;
	uint64_t tx_retry_at; /* WP_TIME_NEVER unless the ring was full */
	struct wp__doorbell db;
	pthread_t thread;
	bool started;
	bool gone;
	/* firmware counters: this queue's thread writes them */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_missed;	    /* no descriptor for it */
	uint64_t rx_kernel_drops;   /* the kernel's ring was full */
	uint64_t rx_oversize;	    /* longer than a descriptor's buffer */
	uint64_t rx_vlan_restored;  /* tag put back from tp_vlan_tci */
	uint64_t rx_csum_completed; /* partial checksum finished here */
	uint64_t rx_blocks, rx_blocks_timeout;
	uint64_t rx_errors; /* a frame outside its block */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_errors;    /* the kernel refused the batch */
	uint64_t tx_ring_full; /* waits for a free ring frame */
	uint64_t link_events;  /* socket errors: the link went down */
	uint64_t wakeups;
};

struct afp {
	char ifname[IFNAMSIZ];
	int ifindex;
	uint16_t nq;
	uint32_t mtu, dev_mtu;
	uint8_t mac[6], dev_mac[6];
	bool extra_mac; /* mac != dev_mac: added to the filter */
	int fanout_id;	/* -1: one queue, no group */
	/* ring geometry */
	uint32_t rx_block_nr;
	uint32_t tx_frame_size, tx_frame_nr, tx_block_nr;
	int stop_fd;
	_Atomic bool stop;
	bool running;
	struct afp_queue q[WP_NIC_MAX_QUEUES];
};

/* --- checksums the sender left to its NIC --------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 sum of big-endian 16-bit words, unfolded. */
static uint64_t sum16(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	for (; len > 1; p += 2, len -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (len)
		s += (uint32_t)p[0] << 8;
	return s;
}

/*
 * CHECKSUM_PARTIAL: the sender's stack left the pseudo-header sum in the
 * TCP/UDP checksum field and expected its NIC to sum from the transport
 * header to the end and store the complement there. Do that. IPv4 only,
 * unfragmented (partial checksums never cover fragments); anything that
 * does not parse is left alone for the stack to judge. True if done.
 */
static bool csum_complete(uint8_t *f, uint32_t len)
{
	uint32_t off = WP_ETH_HLEN, ihl, tot, l4len, coff;
	uint16_t type = rd16(f + 12);
	uint64_t s;
	uint8_t *ip;

	if (len < WP_ETH_HLEN)
		return false;
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		if (len < WP_ETH_HLEN + WP_ETH_VLAN_HLEN)
			return false;
		type = rd16(f + 16);
		off += WP_ETH_VLAN_HLEN;
	}
	if (type != ETH_P_IP || len < off + 20)
		return false;
	ip = f + off;
	ihl = (ip[0] & 0x0fu) * 4;
	tot = rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || off + tot > len)
		return false;
	if (rd16(ip + 6) & 0x3fff) /* MF or an offset: a fragment */
		return false;
	if (ip[9] == IPPROTO_TCP)
		coff = 16;
	else if (ip[9] == IPPROTO_UDP)
		coff = 6;
	else
		return false;
	l4len = tot - ihl;
	if (l4len < coff + 2)
		return false;
	s = sum16(ip + ihl, l4len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = (uint16_t)~s;
	/* RFC 768: a UDP checksum that computes to 0 is sent as all ones. */
	if (s == 0 && ip[9] == IPPROTO_UDP)
		s = 0xffff;
	wr16(ip + ihl + coff, (uint16_t)s);
	return true;
}

/* --- opening the sockets -------------------------------------------------- */

static int sockopt(int fd, int opt, const void *val, socklen_t len)
{
	return setsockopt(fd, SOL_PACKET, opt, val, len) < 0 ? -errno : 0;
}

static int sockopt_int(int fd, int opt, int v)
{
	return sockopt(fd, opt, &v, sizeof(v));
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void ring_geometry(struct afp *a, const struct wp_nic *nic)
{
	uint64_t bytes = (uint64_t)nic->cfg.rx_ring_size * AFP_RX_FRAME_SIZE;
	uint32_t per_block;

	a->rx_block_nr = (uint32_t)(bytes / AFP_RX_BLOCK_SIZE);
	if (a->rx_block_nr < AFP_RX_BLOCKS_MIN)
		a->rx_block_nr = AFP_RX_BLOCKS_MIN;
	/* A TX frame holds the header and the longest frame we send. */
	a->tx_frame_size = pow2_at_least((uint32_t)AFP_TX_DATA_OFF + a->mtu +
					 WP_ETH_HLEN + WP_ETH_VLAN_HLEN);
	if (a->tx_frame_size < 2048)
		a->tx_frame_size = 2048;
	per_block = AFP_TX_BLOCK_SIZE >= a->tx_frame_size
			    ? AFP_TX_BLOCK_SIZE / a->tx_frame_size
			    : 1;
	a->tx_block_nr = (nic->cfg.tx_ring_size + per_block - 1) / per_block;
	a->tx_frame_nr = a->tx_block_nr * per_block;
}

static uint32_t tx_block_size(const struct afp *a)
{
	return a->tx_frame_size > AFP_TX_BLOCK_SIZE ? a->tx_frame_size
						    : AFP_TX_BLOCK_SIZE;
}

static int setup_rings(struct wp_backend *be, struct afp *a,
		       struct afp_queue *aq)
{
	struct tpacket_req3 rx, tx;
	size_t rx_len, tx_len;
	int ret;

	memset(&rx, 0, sizeof(rx));
	rx.tp_block_size = AFP_RX_BLOCK_SIZE;
	rx.tp_block_nr = a->rx_block_nr;
	rx.tp_frame_size = AFP_RX_FRAME_SIZE;
	rx.tp_frame_nr = AFP_RX_BLOCK_SIZE / AFP_RX_FRAME_SIZE * a->rx_block_nr;
	rx.tp_retire_blk_tov = AFP_RX_TOV_MS;
	ret = sockopt(aq->fd, PACKET_RX_RING, &rx, sizeof(rx));
	if (ret) {
		wp__backend_err(
			be, "PACKET_RX_RING (%u blocks of %u bytes): %s",
			rx.tp_block_nr, rx.tp_block_size, strerror(-ret));
		return ret;
	}
	/* A V3 TX ring is frame based: no timeout, no private area. */
	memset(&tx, 0, sizeof(tx));
	tx.tp_block_size = tx_block_size(a);
	tx.tp_block_nr = a->tx_block_nr;
	tx.tp_frame_size = a->tx_frame_size;
	tx.tp_frame_nr = a->tx_frame_nr;
	ret = sockopt(aq->fd, PACKET_TX_RING, &tx, sizeof(tx));
	if (ret) {
		wp__backend_err(
			be, "PACKET_TX_RING (%u frames of %u bytes): %s",
			tx.tp_frame_nr, tx.tp_frame_size, strerror(-ret));
		return ret;
	}
	/* One mapping: the RX ring, then the TX ring. */
	rx_len = (size_t)rx.tp_block_size * rx.tp_block_nr;
	tx_len = (size_t)tx.tp_block_size * tx.tp_block_nr;
	aq->map = mmap(NULL, rx_len + tx_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, aq->fd, 0);
	if (aq->map == MAP_FAILED) {
		ret = -errno;
		aq->map = NULL;
		wp__backend_err(be, "cannot map the rings (%zu bytes): %s",
				rx_len + tx_len, strerror(-ret));
		return ret;
	}
	aq->map_len = rx_len + tx_len;
	aq->rx_ring = aq->map;
	aq->tx_ring = aq->map + rx_len;
	return 0;
}

static int join_fanout(struct wp_backend *be, struct afp *a,
		       struct afp_queue *aq)
{
	int val, ret;
	socklen_t len = sizeof(val);

	if (a->nq == 1)
		return 0;
	if (a->fanout_id < 0) {
		/* The kernel picks an id no other group on the host uses, so
		 * we never join (and split traffic with) a stranger's group. */
		val = (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
		ret = sockopt_int(aq->fd, PACKET_FANOUT, val);
		if (!ret && getsockopt(aq->fd, SOL_PACKET, PACKET_FANOUT, &val,
				       &len) < 0)
			ret = -errno;
		if (!ret)
			a->fanout_id = val & 0xffff;
	} else {
		ret = sockopt_int(aq->fd, PACKET_FANOUT,
				  a->fanout_id | PACKET_FANOUT_HASH << 16);
	}
	if (ret)
		wp__backend_err(be,
				"PACKET_FANOUT for queue %u: %s (use "
				"--queues 1)",
				aq->q, strerror(-ret));
	return ret;
}

static int add_mac_filter(struct wp_backend *be, struct afp *a,
			  struct afp_queue *aq)
{
	struct packet_mreq mr;
	char m[WP_MAC_STR_LEN];
	int ret;

	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = a->ifindex;
	mr.mr_type = PACKET_MR_UNICAST;
	mr.mr_alen = 6;
	memcpy(mr.mr_address, a->mac, 6);
	ret = sockopt(aq->fd, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
	if (ret) {
		wp__mac_fmt(a->mac, m);
		wp__backend_err(be,
				"cannot add --mac %s to %s's filter: %s "
				"(leave --mac out to use the interface's "
				"own address)",
				m, a->ifname, strerror(-ret));
	}
	return ret;
}

static int open_queue(struct wp_backend *be, struct afp *a,
		      struct afp_queue *aq)
{
	struct sockaddr_ll sll;
	int ret;

	aq->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (aq->fd < 0) {
		ret = -errno;
		if (ret == -EPERM || ret == -EACCES)
			wp__backend_err_priv(be,
					     "cannot open an AF_PACKET "
					     "socket",
					     "CAP_NET_RAW");
		else
			wp__backend_err(be,
					"cannot open an AF_PACKET socket: "
					"%s",
					strerror(-ret));
		return ret;
	}
	ret = sockopt_int(aq->fd, PACKET_VERSION, TPACKET_V3);
	if (ret) {
		wp__backend_err(be,
				"TPACKET_V3: %s (needs Linux 3.2, and 4.11 "
				"for its TX ring)",
				strerror(-ret));
		return ret;
	}
	ret = sockopt_int(aq->fd, PACKET_LOSS, 1);
	if (!ret)
		ret = sockopt_int(aq->fd, PACKET_QDISC_BYPASS, 1);
	if (!ret)
		ret = sockopt_int(aq->fd, PACKET_IGNORE_OUTGOING, 1);
	if (ret) {
		wp__backend_err(be,
				"socket options: %s (PACKET_IGNORE_OUTGOING "
				"needs Linux 4.20)",
				strerror(-ret));
		return ret;
	}
	ret = setup_rings(be, a, aq);
	if (ret)
		return ret;
	/* Bound only now: with protocol 0 the socket took nothing so far. */
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = a->ifindex;
	if (bind(aq->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		ret = -errno;
		wp__backend_err(be, "cannot bind to %s: %s", a->ifname,
				strerror(-ret));
		return ret;
	}
	ret = join_fanout(be, a, aq);
	if (!ret && aq->q == 0 && a->extra_mac)
		ret = add_mac_filter(be, a, aq);
	return ret;
}

static void afp_free(struct afp *a)
{
	for (uint16_t i = 0; i < WP_NIC_MAX_QUEUES; i++) {
		struct afp_queue *aq = &a->q[i];

		if (aq->map)
			munmap(aq->map, aq->map_len);
		if (aq->fd >= 0)
			close(aq->fd);
		wp__doorbell_fini(&aq->db);
	}
	if (a->stop_fd >= 0)
		close(a->stop_fd);
	free(a);
}

static struct afp *afp_alloc(struct wp_backend *be)
{
	struct afp *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->stop_fd = -1;
	a->fanout_id = -1;
	atomic_init(&a->stop, false);
	for (uint16_t i = 0; i < WP_NIC_MAX_QUEUES; i++) {
		a->q[i].fd = -1;
		a->q[i].db.fd = -1;
		a->q[i].be = be;
		a->q[i].a = a;
		a->q[i].q = i;
		a->q[i].tx_retry_at = WP_TIME_NEVER;
	}
	return a;
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
		wp__backend_err(be, "needs --if NAME: the Ethernet interface "
				    "to drive");
		return -EINVAL;
	}
	if (!wp__netdev_name_ok(cfg->ifname)) {
		wp__backend_err(be, "--if '%s': %s", cfg->ifname,
				wp__netdev_name_rule());
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
static int probe_interface(struct wp_backend *be, struct afp *a,
			   const struct wp_backend_config *cfg)
{
	short flags = 0;
	int ret;

	a->ifindex = wp__netdev_index(cfg->ifname);
	if (a->ifindex < 0) {
		wp__backend_err(be,
				"no interface %s: create it first or use "
				"--backend tap to create one",
				cfg->ifname);
		return -ENODEV;
	}
	memcpy(a->ifname, cfg->ifname, strlen(cfg->ifname) + 1);
	ret = wp__netdev_get_mac(a->ifname, a->dev_mac);
	if (ret == -EPROTOTYPE) {
		wp__backend_err(be,
				"%s is not an Ethernet interface: "
				"AF_PACKET here needs Ethernet framing",
				a->ifname);
		return -EINVAL;
	}
	if (!ret)
		ret = wp__netdev_get_mtu(a->ifname, &a->dev_mtu);
	if (!ret)
		ret = wp__netdev_get_flags(a->ifname, &flags);
	if (ret) {
		wp__backend_err(be, "cannot read %s's settings: %s", a->ifname,
				strerror(-ret));
		return ret;
	}
	if (!(flags & IFF_UP))
		wp__backend_err(be,
				"note: %s is down; frames flow once it is "
				"up (ip link set %s up)",
				a->ifname, a->ifname);
	return 0;
}

static int afp_open(struct wp_backend *be, const struct wp_backend_config *cfg)
{
	struct wp_nic *nic = be->nic;
	struct afp *a;
	int ret;

	ret = check_config(be, cfg);
	if (ret)
		return ret;
	a = afp_alloc(be);
	if (!a) {
		wp__backend_err(be, "out of memory");
		return -ENOMEM;
	}
	ret = probe_interface(be, a, cfg);
	if (ret)
		goto out_free;
	a->nq = nic->cfg.nqueues;
	a->mtu = nic->cfg.mtu;
	if (a->mtu > a->dev_mtu) {
		if (a->dev_mtu < WP_MTU_MIN) {
			wp__backend_err(be, "%s's MTU %u is below %u",
					a->ifname, a->dev_mtu, WP_MTU_MIN);
			ret = -EINVAL;
			goto out_free;
		}
		/* Frames above the interface's MTU would not leave it. */
		wp__backend_err(be,
				"note: %s's MTU is %u: the stack uses "
				"%u, not %u (ip link set %s mtu %u to "
				"raise it)",
				a->ifname, a->dev_mtu, a->dev_mtu, a->mtu,
				a->ifname, a->mtu);
		a->mtu = a->dev_mtu;
	}
	memcpy(a->mac, cfg->mac_set ? cfg->dst_mac : a->dev_mac, 6);
	a->extra_mac = memcmp(a->mac, a->dev_mac, 6) != 0;
	ring_geometry(a, nic);

	a->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->stop_fd < 0) {
		ret = -errno;
		wp__backend_err(be, "cannot create an eventfd: %s",
				strerror(errno));
		goto out_free;
	}
	for (uint16_t i = 0; i < a->nq; i++) {
		ret = open_queue(be, a, &a->q[i]);
		if (!ret)
			ret = wp__doorbell_init(&a->q[i].db);
		if (ret)
			goto out_free;
	}
	nic->cfg.mtu = a->mtu;
	memcpy(nic->cfg.mac, a->mac, 6);
	be->priv = a;
	return 0;

out_free:
	afp_free(a); /* closing the sockets undoes the filter and the group */
	return ret;
}

/* --- the firmware --------------------------------------------------------- */

static void queue_gone(struct afp_queue *aq, int err)
{
	if (aq->gone)
		return;
	aq->gone = true;
	if (aq->q == 0)
		wp__backend_err(aq->be, "%s: %s: the interface is gone",
				aq->a->ifname, strerror(err));
}

/*
 * POLLERR: the kernel set the socket's error. ENETDOWN (the link went
 * down) is an event: taking the error clears it, and the kernel hooks
 * the socket in again when the link comes up. The interface gone (its
 * index no longer names it): nothing more will come. False if gone.
 */
static bool socket_error(struct afp_queue *aq)
{
	int err = 0;
	socklen_t len = sizeof(err);

	/* Reading SO_ERROR clears it; its value says no more than the
	 * index does. */
	getsockopt(aq->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (wp__netdev_index(aq->a->ifname) == aq->a->ifindex) {
		wp__fw_count(&aq->link_events, 1);
		return true;
	}
	queue_gone(aq, ENODEV);
	return false;
}

/* Frames the kernel dropped for want of ring space since the last look:
 * each one a frame this NIC missed. Reading resets the kernel's count. */
static void take_kernel_drops(struct afp_queue *aq)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	if (getsockopt(aq->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return;
	wp__fw_count(&aq->rx_kernel_drops, st.tp_drops);
	for (uint32_t i = 0; i < st.tp_drops; i++)
		wp_nic_rx_missed(aq->be->nic, aq->q);
}

/* Copy frame f (tag from h) into buf; returns its length on our wire. */
static uint32_t copy_frame(struct afp_queue *aq, uint8_t *buf, const uint8_t *f,
			   uint32_t caplen, const struct tpacket3_hdr *h)
{
	uint16_t tpid = ETH_P_8021Q;

	if (!(h->tp_status & TP_STATUS_VLAN_VALID) || caplen < 12) {
		memcpy(buf, f, caplen);
		return caplen;
	}
	/* The receive path took the tag off (skb_vlan_untag): put it back
	 * between the addresses and the EtherType, as it was on the wire. */
	if (h->tp_status & TP_STATUS_VLAN_TPID_VALID)
		tpid = h->hv1.tp_vlan_tpid;
	memcpy(buf, f, 12);
	wr16(buf + 12, tpid);
	wr16(buf + 14, (uint16_t)h->hv1.tp_vlan_tci);
	memcpy(buf + 16, f + 12, caplen - 12);
	wp__fw_count(&aq->rx_vlan_restored, 1);
	return caplen + WP_ETH_VLAN_HLEN;
}

static void rx_one(struct afp_queue *aq, const struct tpacket3_hdr *h)
{
	struct wp_nic *nic = aq->be->nic;
	const uint8_t *f = (const uint8_t *)h + h->tp_mac;
	uint32_t caplen = h->tp_snaplen, wirelen = h->tp_len, len, room = 0;
	bool tag = (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
	uint64_t now = wp_clock_now(aq->be->clock);
	uint8_t *buf;

	wp__fw_count(&aq->rx_frames, 1);
	wp__fw_count(&aq->rx_bytes, wirelen);
	buf = wp_nic_rx_slot(nic, aq->q, &room);
	if (!buf) {
		wp__fw_count(&aq->rx_missed, 1);
		wp_nic_rx_missed(nic, aq->q);
		return;
	}
	len = wirelen + (tag ? WP_ETH_VLAN_HLEN : 0);
	if (caplen < wirelen || len > room) {
		/* Longer than a buffer (GRO or TSO on the kernel side): the
		 * NIC counts it in rx_length_errors. */
		wp__fw_count(&aq->rx_oversize, 1);
		wp_nic_rx_commit(nic, aq->q, len > room ? len : room + 1, 0, 0,
				 now);
		return;
	}
	len = copy_frame(aq, buf, f, caplen, h);
	if ((h->tp_status & TP_STATUS_CSUMNOTREADY) && csum_complete(buf, len))
		wp__fw_count(&aq->rx_csum_completed, 1);
	/* Hash 0: the NIC computes the Toeplitz hash. */
	wp_nic_rx_commit(nic, aq->q, len, 0, 0, now);
}

/* Every frame of a block the kernel handed over; checks each lies inside
 * it (the ring is shared memory: trust, but do not read past a block). */
static uint32_t rx_block(struct afp_queue *aq, struct tpacket_block_desc *bd)
{
	const uint8_t *base = (const uint8_t *)bd;
	const uint8_t *end = base + AFP_RX_BLOCK_SIZE;
	uint32_t num = bd->hdr.bh1.num_pkts,
		 off = bd->hdr.bh1.offset_to_first_pkt;
	uint32_t n = 0;

	for (uint32_t i = 0; i < num; i++) {
		const struct tpacket3_hdr *h;
		const struct sockaddr_ll *sll;

		if (off > AFP_RX_BLOCK_SIZE - TPACKET3_HDRLEN)
			goto bad;
		h = (const struct tpacket3_hdr *)(base + off);
		if (h->tp_mac < TPACKET3_HDRLEN ||
		    (size_t)(end - (const uint8_t *)h) <
			    (size_t)h->tp_mac + h->tp_snaplen)
			goto bad;
		if (h->tp_status & TP_STATUS_LOSING)
			take_kernel_drops(aq);
		sll = (const struct sockaddr_ll *)((const uint8_t *)h +
						   TPACKET_ALIGN(sizeof(*h)));
		/* PACKET_IGNORE_OUTGOING keeps these away; never loop back. */
		if (sll->sll_pkttype != PACKET_OUTGOING) {
			rx_one(aq, h);
			n++;
		}
		if (!h->tp_next_offset)
			break;
		off += h->tp_next_offset;
	}
	return n;
bad:
	wp__fw_count(&aq->rx_errors, 1);
	return n;
}

static void afp_rx(struct afp_queue *aq)
{
	struct afp *a = aq->a;
	uint32_t frames = 0;

	for (int b = 0; b < AFP_RX_BLOCK_BATCH; b++) {
		struct tpacket_block_desc *bd =
			(void *)(aq->rx_ring +
				 (size_t)aq->rx_block * AFP_RX_BLOCK_SIZE);
		/* Acquire: pairs with the kernel's release of the block
		 * (smp_wmb before the status store): its frames are whole. */
		uint32_t st = __atomic_load_n(&bd->hdr.bh1.block_status,
					      __ATOMIC_ACQUIRE);

		if (!(st & TP_STATUS_USER))
			break;
		wp__fw_count(&aq->rx_blocks, 1);
		if (st & TP_STATUS_BLK_TMO)
			wp__fw_count(&aq->rx_blocks_timeout, 1);
		frames += rx_block(aq, bd);
		/* Release: our reads of the block are done before the kernel
		 * may fill it again. */
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		aq->rx_block = (aq->rx_block + 1) % a->rx_block_nr;
		/* A backlog: the kernel may have run out of ring meanwhile,
		 * and TP_STATUS_LOSING only shows on frames that follow. */
		if (b == AFP_RX_BLOCK_BATCH - 1)
			take_kernel_drops(aq);
	}
	if (frames)
		__atomic_fetch_add(&aq->be->frames_in, frames,
				   __ATOMIC_RELAXED);
}

static struct tpacket3_hdr *tx_frame(struct afp_queue *aq, uint32_t i)
{
	return (void *)(aq->tx_ring + (size_t)i * aq->a->tx_frame_size);
}

/* Frames still SEND_REQUEST after a hard error: the kernel will not send
 * them (it stopped before its loop). Take them back, counted as errors,
 * so a link that went down does not jam the ring. */
static void tx_reclaim(struct afp_queue *aq)
{
	struct afp *a = aq->a;

	for (uint32_t k = 1; k <= a->tx_frame_nr; k++) {
		uint32_t i =
			(aq->tx_head + a->tx_frame_nr - k) % a->tx_frame_nr;
		struct tpacket3_hdr *h = tx_frame(aq, i);

		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) !=
		    TP_STATUS_SEND_REQUEST)
			continue;
		__atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE,
				 __ATOMIC_RELEASE);
		wp__fw_count(&aq->tx_errors, 1);
	}
}

/* The kernel's doorbell: send every SEND_REQUEST frame. */
static void tx_flush(struct afp_queue *aq)
{
	if (!aq->tx_unsent)
		return;
	if (sendto(aq->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
		aq->tx_unsent = 0;
		return;
	}
	switch (errno) {
	case EAGAIN:
	case ENOBUFS:
	case EINTR:
		/* Out of socket buffer: the frames wait, retried later. */
		aq->tx_retry_at = wp_clock_now(aq->be->clock) + AFP_TX_RETRY_NS;
		return;
	case ENXIO:
	case ENODEV:
		queue_gone(aq, errno);
		break;
	default: /* ENETDOWN: the link is down */
		break;
	}
	tx_reclaim(aq);
	aq->tx_unsent = 0;
}

/* Move what the driver queued into the kernel's ring; true if the batch
 * limit left some. */
static bool afp_tx(struct afp_queue *aq)
{
	struct wp_backend *be = aq->be;
	struct afp *a = aq->a;
	uint32_t n = 0;

	aq->tx_retry_at = WP_TIME_NEVER;
	while (n < AFP_TX_BATCH) {
		struct tpacket3_hdr *h = tx_frame(aq, aq->tx_head);
		const struct wp_tx_desc *d;

		/* Acquire: the kernel is done with the frame's bytes. */
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) !=
		    TP_STATUS_AVAILABLE) {
			if (aq->tx_unsent) {
				tx_flush(aq);
				if (aq->tx_retry_at == WP_TIME_NEVER)
					continue;
			}
			/* Every ring frame is the kernel's: wait. */
			wp__fw_count(&aq->tx_ring_full, 1);
			aq->tx_retry_at =
				wp_clock_now(be->clock) + AFP_TX_RETRY_NS;
			break;
		}
		d = wp_nic_tx_fw_next(be->nic, aq->q);
		if (!d)
			break;
		memcpy((uint8_t *)h + AFP_TX_DATA_OFF,
		       (const void *)(uintptr_t)d->addr, d->len);
		h->tp_len = d->len;
		h->tp_snaplen = d->len;
		h->tp_next_offset = 0;
		/* Release: the frame's bytes before the kernel may send it. */
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
				 __ATOMIC_RELEASE);
		wp__fw_count(&aq->tx_frames, 1);
		wp__fw_count(&aq->tx_bytes, d->len);
		wp_nic_tx_fw_done(be->nic, aq->q);
		aq->tx_head = (aq->tx_head + 1) % a->tx_frame_nr;
		aq->tx_unsent++;
		n++;
	}
	tx_flush(aq);
	if (n) {
		__atomic_fetch_add(&be->frames_out, n, __ATOMIC_RELAXED);
		wp_nic_tx_fw_irq(be->nic, aq->q);
	}
	return n == AFP_TX_BATCH;
}

static void *afp_thread(void *arg)
{
	struct afp_queue *aq = arg;
	struct wp_backend *be = aq->be;
	struct afp *a = aq->a;
	struct pollfd pfd[3] = {
		{ .fd = aq->fd, .events = POLLIN },
		{ .fd = aq->db.fd, .events = POLLIN },
		{ .fd = a->stop_fd, .events = POLLIN },
	};
	bool tx_more = false;

	/* Sleeps end at the moderation deadline, not 50 us after it. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	/* Blocks the kernel retired before we ran (or while stopped). */
	afp_rx(aq);
	while (!atomic_load_explicit(&a->stop, memory_order_acquire)) {
		uint64_t now = wp_clock_now(be->clock);
		uint64_t next = wp_nic_coalesce_tick_queue(be->nic, aq->q, now);
		struct timespec ts;

		if (aq->tx_retry_at <= now)
			tx_more = true;
		else if (aq->tx_retry_at < next)
			next = aq->tx_retry_at;
		if (tx_more)
			next = now;
		if (ppoll(pfd, 3, wp__fw_timeout(&ts, now, next), NULL) < 0) {
			if (errno == EINTR)
				continue;
			wp__backend_err(be, "queue %u: ppoll: %s", aq->q,
					strerror(errno));
			break;
		}
		wp__fw_count(&aq->wakeups, 1);
		if (pfd[2].revents)
			break;
		if ((pfd[1].revents & POLLIN) && wp__doorbell_take(&aq->db))
			tx_more = true;
		if (tx_more)
			tx_more = afp_tx(aq);
		/* A block is only ever handed over with a wake-up, but one
		 * batch may leave blocks behind: look every time round. */
		afp_rx(aq);
		if ((pfd[0].revents & (POLLERR | POLLNVAL)) &&
		    !socket_error(aq))
			pfd[0].fd = -1;
	}
	/* Doorbells rung before stop() are honoured, once. */
	afp_tx(aq);
	take_kernel_drops(aq);
	return NULL;
}

static void afp_stop(struct wp_backend *be);

static int afp_start(struct wp_backend *be)
{
	struct afp *a = be->priv;
	int ret;

	if (wp_clock_is_virtual(be->clock)) {
		wp__backend_err(be, "runs on real time only: start() on a "
				    "virtual clock (use sim, pair or pcap)");
		return -ENOTSUP;
	}
	if (!a)
		return -EINVAL;
	if (a->running)
		return -EBUSY;
	atomic_store_explicit(&a->stop, false, memory_order_relaxed);
	a->running = true;
	for (uint16_t i = 0; i < a->nq; i++) {
		struct afp_queue *aq = &a->q[i];
		char name[16];

		ret = pthread_create(&aq->thread, NULL, afp_thread, aq);
		if (ret) {
			wp__backend_err(be,
					"cannot start firmware thread %u: "
					"%s",
					i, strerror(ret));
			afp_stop(be);
			return -ret;
		}
		aq->started = true;
		snprintf(name, sizeof(name), "wp-fw-afp/%u", i);
		pthread_setname_np(aq->thread, name);
	}
	return 0;
}

static void afp_stop(struct wp_backend *be)
{
	static const uint64_t one = 1;
	struct afp *a = be->priv;
	uint64_t v;

	if (!a || !a->running)
		return;
	/* Release: the threads' last look at the rings follows our writes.
	 * The eventfd stays readable until drained, so every thread sees it. */
	atomic_store_explicit(&a->stop, true, memory_order_release);
	if (write(a->stop_fd, &one, sizeof(one)) < 0)
		wp__backend_err(be, "stop: %s", strerror(errno));
	for (uint16_t i = 0; i < a->nq; i++) {
		if (a->q[i].started)
			pthread_join(a->q[i].thread, NULL);
		a->q[i].started = false;
	}
	if (read(a->stop_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		wp__backend_err(be, "stop: %s", strerror(errno));
	a->running = false;
}

static void afp_close(struct wp_backend *be)
{
	struct afp *a = be->priv;

	if (!a)
		return;
	afp_stop(be);
	afp_free(a);
	be->priv = NULL;
}

static void afp_tx_kick(struct wp_backend *be, uint16_t q)
{
	struct afp *a = be->priv;

	if (a && q < a->nq)
		wp__doorbell_ring(&a->q[q].db);
}

/* A live wire has no virtual time line; open() refuses virtual clocks. */
static uint64_t afp_step(struct wp_backend *be, uint64_t now)
{
	return WP_TIME_NEVER;
}

static bool afp_done(struct wp_backend *be)
{
	return false;
}

static void afp_report(struct wp_backend *be, FILE *out)
{
	struct afp *a = be->priv;
	char m[WP_MAC_STR_LEN], line[96];
	struct afp_queue sum;
	short flags = 0;

	if (!a)
		return;
	wp__report_str(out, "interface", a->ifname);
	wp__report_u64(out, "ifindex", (uint64_t)a->ifindex);
	wp__report_u64(out, "queues", a->nq);
	if (a->fanout_id >= 0) {
		snprintf(line, sizeof(line),
			 "hash, group %d (the kernel's "
			 "flow hash is the RSS)",
			 a->fanout_id);
		wp__report_str(out, "fanout", line);
	}
	wp__report_u64(out, "mtu", a->mtu);
	wp__report_u64(out, "interface_mtu", a->dev_mtu);
	wp__mac_fmt(a->mac, m);
	wp__report_str(out, "mac", m);
	wp__report_str(out, "mac_source",
		       a->extra_mac ? "--mac, added to the interface's "
				      "unicast filter"
				    : "the interface's own");
	if (wp__netdev_get_flags(a->ifname, &flags) == 0)
		wp__report_str(out, "link", (flags & IFF_UP) ? "up" : "down");
	else
		wp__report_str(out, "link", "gone");
	snprintf(line, sizeof(line), "%u blocks of %u KiB, retired after %u ms",
		 a->rx_block_nr, AFP_RX_BLOCK_SIZE / 1024, AFP_RX_TOV_MS);
	wp__report_str(out, "rx_ring", line);
	snprintf(line, sizeof(line), "%u frames of %u bytes", a->tx_frame_nr,
		 a->tx_frame_size);
	wp__report_str(out, "tx_ring", line);

	memset(&sum, 0, sizeof(sum));
	for (uint16_t i = 0; i < a->nq; i++) {
		const struct afp_queue *aq = &a->q[i];

		sum.rx_frames += wp__fw_read(&aq->rx_frames);
		sum.rx_bytes += wp__fw_read(&aq->rx_bytes);
		sum.rx_missed += wp__fw_read(&aq->rx_missed);
		sum.rx_kernel_drops += wp__fw_read(&aq->rx_kernel_drops);
		sum.rx_oversize += wp__fw_read(&aq->rx_oversize);
		sum.rx_vlan_restored += wp__fw_read(&aq->rx_vlan_restored);
		sum.rx_csum_completed += wp__fw_read(&aq->rx_csum_completed);
		sum.rx_blocks += wp__fw_read(&aq->rx_blocks);
		sum.rx_blocks_timeout += wp__fw_read(&aq->rx_blocks_timeout);
		sum.rx_errors += wp__fw_read(&aq->rx_errors);
		sum.tx_frames += wp__fw_read(&aq->tx_frames);
		sum.tx_bytes += wp__fw_read(&aq->tx_bytes);
		sum.tx_errors += wp__fw_read(&aq->tx_errors);
		sum.tx_ring_full += wp__fw_read(&aq->tx_ring_full);
		sum.link_events += wp__fw_read(&aq->link_events);
		sum.wakeups += wp__fw_read(&aq->wakeups);
	}
	wp__report_u64(out, "fw_rx_frames", sum.rx_frames);
	wp__report_u64(out, "fw_rx_bytes", sum.rx_bytes);
	wp__report_u64(out, "fw_rx_missed", sum.rx_missed);
	wp__report_u64(out, "fw_rx_kernel_drops", sum.rx_kernel_drops);
	wp__report_u64(out, "fw_rx_oversize", sum.rx_oversize);
	wp__report_u64(out, "fw_rx_vlan_restored", sum.rx_vlan_restored);
	wp__report_u64(out, "fw_rx_csum_completed", sum.rx_csum_completed);
	wp__report_u64(out, "fw_rx_blocks", sum.rx_blocks);
	wp__report_u64(out, "fw_rx_blocks_timeout", sum.rx_blocks_timeout);
	wp__report_u64(out, "fw_rx_errors", sum.rx_errors);
	wp__report_u64(out, "fw_tx_frames", sum.tx_frames);
	wp__report_u64(out, "fw_tx_bytes", sum.tx_bytes);
	wp__report_u64(out, "fw_tx_errors", sum.tx_errors);
	wp__report_u64(out, "fw_tx_ring_full", sum.tx_ring_full);
	wp__report_u64(out, "fw_link_events", sum.link_events);
	wp__report_u64(out, "fw_wakeups", sum.wakeups);
}

const struct wp_backend_ops wp_backend_afpacket = {
	.name = "afpacket",
	.open = afp_open,
	.close = afp_close,
	.start = afp_start,
	.stop = afp_stop,
	.step = afp_step,
	.tx_kick = afp_tx_kick,
	.done = afp_done,
	.report = afp_report,
};
