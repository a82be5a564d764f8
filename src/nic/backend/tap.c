// SPDX-License-Identifier: MIT
/*
 * The tap backend: a Linux TAP device is the wire (--backend tap --if NAME).
 * What the kernel sends out of NAME arrives here; what the stack transmits
 * enters the kernel as if NAME had received it. Real Linux programs on the
 * kernel side (ping, curl, iperf3) talk to the stack through it.
 *
 * Device: /dev/net/tun with IFF_TAP | IFF_NO_PI, created if NAME does not
 * exist (and then removed at close: a TAP that is not persistent vanishes
 * with its last fd), attached to otherwise. With several NIC queues it is
 * IFF_MULTI_QUEUE, one fd per queue: the kernel picks the fd a frame goes
 * to by flow hash (tun_select_queue), so TAP queue selection plays the part
 * of the NIC's RSS. The link is brought up and its MTU set to the stack's;
 * addresses on the kernel side are the user's business.
 *
 * Firmware: one thread per queue, sleeping in ppoll() on three fds:
 *   - the TAP fd: readiness is the interrupt line from the wire. Frames are
 *     read() straight into the buffer of the next RX descriptor the NIC
 *     owns (wp_nic_rx_slot -> read -> wp_nic_rx_commit): that read is the
 *     DMA, and the only copy. Ring full (or queue stopped): the frame is
 *     read into a scratch buffer and counted in rx_missed_errors, so the
 *     kernel's queue never backs up behind us.
 *   - a doorbell eventfd: tx_kick from the queue's core; the thread write()s
 *     every descriptor between TDH and TDT into the TAP fd.
 *   - a stop eventfd.
 * The ppoll() timeout is the queue's next moderation deadline, so
 * rx-usecs fires on time without a frame to carry it.
 *
 * Real time only: a live wire cannot be stepped (virtual time: sim, pair,
 * pcap).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "nic/backend/backend.h"
#include "nic/backend/netdev.h"
#include "nic/nic.h"

#define TUN_PATH "/dev/net/tun"
/* Frames per wake-up before the timers and TX get a turn. */
#define TAP_RX_BATCH 64
#define TAP_TX_BATCH 256
/*
 * Room for the longest frame a TAP can hand us (MTU up to 65535 plus the
 * Ethernet header and a tag): frames read while the ring is full, and the
 * part of an oversize frame that did not fit the descriptor's buffer.
 */
#define TAP_SCRATCH (65536 + 64)

struct tap;

struct tap_queue {
	struct wp_backend *be;
	struct tap *t;
	uint16_t q;
	int fd;
	struct wp__doorbell db;
	pthread_t thread;
	bool started;
	bool gone; /* the device went away under us */
	uint8_t *scratch;
	/* firmware counters: this queue's thread writes them */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_missed;   /* no descriptor: read into scratch */
	uint64_t rx_oversize; /* longer than the descriptor's buffer */
	uint64_t rx_errors;   /* read() failed */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_errors; /* write() failed: the frame is lost */
	uint64_t wakeups;   /* ppoll() returns */
};

struct tap {
	char ifname[IFNAMSIZ];
	int ifindex;
	bool created; /* ours: it goes when the last fd closes */
	bool multi_queue;
	uint16_t nq;
	uint32_t mtu;
	uint8_t mac[6];	     /* the stack's */
	uint8_t peer_mac[6]; /* the kernel side's */
	int stop_fd;
	_Atomic bool stop;
	bool running;
	struct tap_queue q[WP_NIC_MAX_QUEUES];
};

/* --- opening the device --------------------------------------------------- */

enum tun_kind {
	NOT_TUN,  /* another driver, or no such device */
	KIND_TUN, /* IP packets, no Ethernet header */
	KIND_TAP,
};

/* What an existing NAME is (the tun driver says "tap" or "tun" as its
 * bus; sysfs would show the namespace it was mounted in, not ours). */
static enum tun_kind tun_kind_of(const char *name)
{
	char drv[32], bus[32];

	if (wp__netdev_driver(name, drv, bus) || strcmp(drv, "tun") != 0)
		return NOT_TUN;
	return strcmp(bus, "tap") == 0 ? KIND_TAP : KIND_TUN;
}

static int tun_open(struct wp_backend *be)
{
	int fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		wp__backend_err(be,
				"%s: %s: load the tun module (modprobe tun) "
				"or create the node (mknod %s c 10 200)",
				TUN_PATH, strerror(errno), TUN_PATH);
	else if (errno == EACCES || errno == EPERM)
		wp__backend_err_priv(be, "cannot open " TUN_PATH,
				     "CAP_NET_ADMIN");
	else
		wp__backend_err(be, "cannot open %s: %s", TUN_PATH,
				strerror(errno));
	return -errno;
}

static int tun_setiff(int fd, char *name, short flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	/* A name with %d ("wp%d") comes back numbered. */
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return 0;
}

/* TUNSETIFF failed on an existing NAME: say what it is and what to do.
 * mq: we asked for IFF_MULTI_QUEUE. */
static void explain_existing(struct wp_backend *be, const char *name, int err,
			     uint16_t nq, bool mq)
{
	enum tun_kind kind = tun_kind_of(name);

	if (err == -EPERM || err == -EACCES) {
		wp__backend_err_priv(be, name, "CAP_NET_ADMIN");
	} else if (kind == NOT_TUN) {
		wp__backend_err(be,
				"%s exists and is not a TAP device: drive it "
				"with --backend afpacket --if %s, or give "
				"--backend tap a new name to create",
				name, name);
	} else if (kind == KIND_TUN) {
		wp__backend_err(
			be,
			"%s is a TUN device (IP packets, no Ethernet): "
			"create a TAP (ip tuntap add dev NAME mode tap) "
			"or pick a new name",
			name);
	} else if (err == -EBUSY) {
		wp__backend_err(be,
				"%s is in use: another program holds its "
				"queue; stop it or pick another --if",
				name);
	} else if (err == -EINVAL && mq) {
		/* A TAP refuses IFF_MULTI_QUEUE only if it has one queue. */
		wp__backend_err(be,
				"%s has a single queue: --queues %u needs "
				"`ip tuntap add dev %s mode tap multi_queue` "
				"(or use --queues 1)",
				name, nq, name);
	} else if (err == -E2BIG) {
		wp__backend_err(be,
				"%s has no queue left to attach (%u asked): "
				"other programs hold them; use fewer --queues",
				name, nq);
	} else {
		wp__backend_err(be, "cannot attach to %s: %s", name,
				strerror(-err));
	}
}

/*
 * Queue 0 decides: IFF_TUN_EXCL first, so success means we created the
 * device (no window between "does it exist" and "create it"); EBUSY from
 * the exclusive try means it exists, and we attach to it.
 */
static int open_first_queue(struct wp_backend *be, struct tap *t)
{
	short base = IFF_TAP | IFF_NO_PI;
	short mq = t->nq > 1 ? IFF_MULTI_QUEUE : 0;
	int fd, ret;

	fd = tun_open(be);
	if (fd < 0)
		return fd;
	ret = tun_setiff(fd, t->ifname, base | mq | IFF_TUN_EXCL);
	if (!ret) {
		t->created = true;
		goto out_ok;
	}
	if (ret != -EBUSY) {
		if (ret == -EPERM || ret == -EACCES)
			wp__backend_err_priv(be, "cannot create a TAP device",
					     "CAP_NET_ADMIN");
		else if (ret == -EINVAL && wp__netdev_index(t->ifname) > 0)
			explain_existing(be, t->ifname, ret, t->nq, mq != 0);
		else
			wp__backend_err(be, "cannot create TAP %s: %s",
					t->ifname, strerror(-ret));
		goto out_close;
	}
	ret = tun_setiff(fd, t->ifname, base | mq);
	/* One queue asked of a multi-queue TAP: attach as one of its queues. */
	if (ret == -EINVAL && !mq && tun_kind_of(t->ifname) == KIND_TAP) {
		mq = IFF_MULTI_QUEUE;
		ret = tun_setiff(fd, t->ifname, base | mq);
	}
	if (ret) {
		explain_existing(be, t->ifname, ret, t->nq, mq != 0);
		goto out_close;
	}
out_ok:
	t->multi_queue = mq != 0;
	t->q[0].fd = fd;
	return 0;
out_close:
	close(fd);
	return ret;
}

static int open_queues(struct wp_backend *be, struct tap *t)
{
	int ret = open_first_queue(be, t);

	if (ret)
		return ret;
	for (uint16_t i = 1; i < t->nq; i++) {
		int fd = tun_open(be);

		if (fd < 0)
			return fd;
		ret = tun_setiff(fd, t->ifname,
				 IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE);
		if (ret) {
			close(fd);
			explain_existing(be, t->ifname, ret, t->nq, true);
			return ret;
		}
		t->q[i].fd = fd;
	}
	return 0;
}

/* splitmix64 */
static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * The stack's default MAC on a TAP: the kernel side already has the
 * device's own address, so the stack needs another. Locally administered
 * (02 bit set), unicast, and a function of --seed and the interface name:
 * the same command gives the same MAC every run (ARP caches on the kernel
 * side stay valid across restarts), two TAPs get different ones.
 */
static void seeded_mac(uint8_t mac[6], uint64_t seed, const char *name,
		       const uint8_t avoid[6])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the name */

	for (const char *p = name; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ull;
	}
	for (uint64_t k = 0;; k++) {
		uint64_t r = mix64(seed ^ h ^ (k << 56));

		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)(r >> (8 * i));
		mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
		if (memcmp(mac, avoid, 6) != 0)
			return;
	}
}

/*
 * MTU and IFF_UP, each only if it is not so already: a TAP prepared for
 * a user (ip tuntap add ... user NAME; ip link set ... up) then needs no
 * CAP_NET_ADMIN at all.
 */
static int configure_link(struct wp_backend *be, struct tap *t)
{
	uint32_t cur = 0;
	int ret;

	ret = wp__netdev_get_mtu(t->ifname, &cur);
	if (!ret && cur != t->mtu)
		ret = wp__netdev_set_mtu(t->ifname, t->mtu);
	if (ret) {
		if (ret == -EPERM || ret == -EACCES)
			wp__backend_err_priv(be, "cannot set the MTU",
					     "CAP_NET_ADMIN");
		else
			wp__backend_err(be, "cannot set %s's MTU to %u: %s",
					t->ifname, t->mtu, strerror(-ret));
		return ret;
	}
	ret = wp__netdev_set_up(t->ifname);
	if (ret) {
		if (ret == -EPERM || ret == -EACCES)
			wp__backend_err_priv(be, "cannot bring the link up",
					     "CAP_NET_ADMIN");
		else
			wp__backend_err(be, "cannot bring %s up: %s", t->ifname,
					strerror(-ret));
	}
	return ret;
}

static void tap_free(struct tap *t)
{
	for (uint16_t i = 0; i < WP_NIC_MAX_QUEUES; i++) {
		struct tap_queue *tq = &t->q[i];

		if (tq->fd >= 0)
			close(tq->fd);
		wp__doorbell_fini(&tq->db);
		free(tq->scratch);
	}
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	free(t);
}

static struct tap *tap_alloc(struct wp_backend *be)
{
	struct tap *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->stop_fd = -1;
	atomic_init(&t->stop, false);
	for (uint16_t i = 0; i < WP_NIC_MAX_QUEUES; i++) {
		t->q[i].fd = -1;
		t->q[i].db.fd = -1;
		t->q[i].be = be;
		t->q[i].t = t;
		t->q[i].q = i;
	}
	return t;
}

static int alloc_firmware(struct wp_backend *be, struct tap *t)
{
	int ret;

	t->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->stop_fd < 0)
		goto out_errno;
	for (uint16_t i = 0; i < t->nq; i++) {
		struct tap_queue *tq = &t->q[i];

		ret = wp__doorbell_init(&tq->db);
		if (ret) {
			errno = -ret;
			goto out_errno;
		}
		tq->scratch = malloc(TAP_SCRATCH);
		if (!tq->scratch) {
			wp__backend_err(be, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
out_errno:
	ret = -errno;
	wp__backend_err(be, "cannot create an eventfd: %s", strerror(errno));
	return ret;
}

static int check_config(struct wp_backend *be,
			const struct wp_backend_config *cfg)
{
	if (wp_clock_is_virtual(be->clock)) {
		wp__backend_err(be, "a TAP device is a live wire and runs on "
				    "real time only (virtual time: --backend "
				    "sim, pair or pcap)");
		return -ENOTSUP;
	}
	if (!cfg->ifname || !cfg->ifname[0]) {
		wp__backend_err(be, "needs --if NAME: an existing TAP device, "
				    "or a new name to create one");
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

static int tap_open(struct wp_backend *be, const struct wp_backend_config *cfg)
{
	struct wp_nic *nic = be->nic;
	struct tap *t;
	int ret;

	ret = check_config(be, cfg);
	if (ret)
		return ret;
	t = tap_alloc(be);
	if (!t) {
		wp__backend_err(be, "out of memory");
		return -ENOMEM;
	}
	memcpy(t->ifname, cfg->ifname, strlen(cfg->ifname) + 1);
	t->nq = nic->cfg.nqueues;
	t->mtu = nic->cfg.mtu;

	ret = open_queues(be, t);
	if (ret)
		goto out_free; /* closing the fds removes a TAP we created */
	t->ifindex = wp__netdev_index(t->ifname);
	ret = wp__netdev_get_mac(t->ifname, t->peer_mac);
	if (ret) {
		wp__backend_err(be, "cannot read %s's MAC: %s", t->ifname,
				strerror(-ret));
		goto out_free;
	}
	if (cfg->mac_set) {
		if (memcmp(cfg->dst_mac, t->peer_mac, 6) == 0) {
			char m[WP_MAC_STR_LEN];

			wp__mac_fmt(cfg->dst_mac, m);
			wp__backend_err(be,
					"--mac %s is %s's own address "
					"(the kernel side): give the stack "
					"another one, or leave --mac out",
					m, t->ifname);
			ret = -EINVAL;
			goto out_free;
		}
		memcpy(t->mac, cfg->dst_mac, 6);
	} else {
		seeded_mac(t->mac, cfg->seed, t->ifname, t->peer_mac);
	}
	ret = configure_link(be, t);
	if (ret)
		goto out_free;
	ret = alloc_firmware(be, t);
	if (ret)
		goto out_free;
	memcpy(nic->cfg.mac, t->mac, 6);
	be->priv = t;
	return 0;

out_free:
	tap_free(t);
	return ret;
}

/* --- the firmware --------------------------------------------------------- */

/* The device went away (ip link del): say so once, stop reading it. */
static void queue_gone(struct tap_queue *tq, int err)
{
	if (tq->gone)
		return;
	tq->gone = true;
	if (tq->q == 0)
		wp__backend_err(tq->be,
				"%s: %s: the TAP device is gone; "
				"restart wirepath to create it again",
				tq->t->ifname, strerror(err));
}

static void tap_rx(struct tap_queue *tq)
{
	struct wp_backend *be = tq->be;
	struct wp_nic *nic = be->nic;
	uint32_t n;

	for (n = 0; n < TAP_RX_BATCH; n++) {
		struct iovec iov[2];
		uint32_t room = 0;
		void *buf = wp_nic_rx_slot(nic, tq->q, &room);
		ssize_t len;

		if (buf) {
			/* The DMA: straight into the descriptor's buffer;
			 * the scratch tail only tells how long an oversize
			 * frame really was. */
			iov[0].iov_base = buf;
			iov[0].iov_len = room;
			iov[1].iov_base = tq->scratch;
			iov[1].iov_len = TAP_SCRATCH;
			len = readv(tq->fd, iov, 2);
		} else {
			len = read(tq->fd, tq->scratch, TAP_SCRATCH);
		}
		if (len < 0) {
			int err = errno;

			if (buf)
				wp_nic_rx_abort(nic, tq->q);
			if (err == EAGAIN || err == EINTR)
				break;
			if (err == EBADFD) /* detached: the device is gone */
				queue_gone(tq, err);
			else
				wp__fw_count(&tq->rx_errors, 1);
			break;
		}
		wp__fw_count(&tq->rx_frames, 1);
		wp__fw_count(&tq->rx_bytes, (uint64_t)len);
		if (!buf) {
			wp__fw_count(&tq->rx_missed, 1);
			wp_nic_rx_missed(nic, tq->q);
			continue;
		}
		if ((size_t)len > room)
			wp__fw_count(&tq->rx_oversize, 1);
		/* Hash 0: the NIC computes the Toeplitz hash. A runt or an
		 * oversize frame is counted in rx_length_errors there. */
		wp_nic_rx_commit(nic, tq->q, (uint32_t)len, 0, 0,
				 wp_clock_now(be->clock));
	}
	if (n)
		__atomic_fetch_add(&be->frames_in, n, __ATOMIC_RELAXED);
}

/* Send what the driver queued; true if the batch limit left some. */
static bool tap_tx(struct tap_queue *tq)
{
	struct wp_backend *be = tq->be;
	struct wp_nic *nic = be->nic;
	const struct wp_tx_desc *d;
	uint32_t n = 0;

	while (n < TAP_TX_BATCH && (d = wp_nic_tx_fw_next(nic, tq->q))) {
		ssize_t w =
			write(tq->fd, (const void *)(uintptr_t)d->addr, d->len);

		if (w == (ssize_t)d->len) {
			wp__fw_count(&tq->tx_frames, 1);
			wp__fw_count(&tq->tx_bytes, d->len);
		} else {
			/* A NIC whose wire refuses a frame counts it and
			 * moves on: the ring never jams. */
			wp__fw_count(&tq->tx_errors, 1);
		}
		wp_nic_tx_fw_done(nic, tq->q);
		n++;
	}
	if (n) {
		__atomic_fetch_add(&be->frames_out, n, __ATOMIC_RELAXED);
		wp_nic_tx_fw_irq(nic, tq->q);
	}
	return n == TAP_TX_BATCH;
}

static void *tap_thread(void *arg)
{
	struct tap_queue *tq = arg;
	struct wp_backend *be = tq->be;
	struct tap *t = tq->t;
	struct pollfd pfd[3] = {
		{ .fd = tq->fd, .events = POLLIN },
		{ .fd = tq->db.fd, .events = POLLIN },
		{ .fd = t->stop_fd, .events = POLLIN },
	};
	bool tx_more = false;

	/* Sleeps end at the moderation deadline, not 50 us after it. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		uint64_t now = wp_clock_now(be->clock);
		uint64_t next = wp_nic_coalesce_tick_queue(be->nic, tq->q, now);
		struct timespec ts;

		if (tx_more)
			next = now;
		if (ppoll(pfd, 3, wp__fw_timeout(&ts, now, next), NULL) < 0) {
			if (errno == EINTR)
				continue;
			wp__backend_err(be, "queue %u: ppoll: %s", tq->q,
					strerror(errno));
			break;
		}
		wp__fw_count(&tq->wakeups, 1);
		if (pfd[2].revents)
			break;
		if ((pfd[1].revents & POLLIN) && wp__doorbell_take(&tq->db))
			tx_more = true;
		if (tx_more)
			tx_more = tap_tx(tq);
		if (pfd[0].revents & POLLIN)
			tap_rx(tq);
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			queue_gone(tq, EIO);
			pfd[0].fd = -1; /* nothing more will come */
		}
	}
	/* Doorbells rung before stop() are honoured. */
	while (tap_tx(tq))
		;
	return NULL;
}

static void tap_stop(struct wp_backend *be);

static int tap_start(struct wp_backend *be)
{
	struct tap *t = be->priv;
	int ret = 0;

	if (wp_clock_is_virtual(be->clock)) {
		wp__backend_err(be, "runs on real time only: start() on a "
				    "virtual clock (use sim, pair or pcap)");
		return -ENOTSUP;
	}
	if (!t)
		return -EINVAL;
	if (t->running)
		return -EBUSY;
	atomic_store_explicit(&t->stop, false, memory_order_relaxed);
	t->running = true;
	for (uint16_t i = 0; i < t->nq; i++) {
		struct tap_queue *tq = &t->q[i];
		char name[16];

		ret = pthread_create(&tq->thread, NULL, tap_thread, tq);
		if (ret) {
			wp__backend_err(be,
					"cannot start firmware thread %u: "
					"%s",
					i, strerror(ret));
			tap_stop(be);
			return -ret;
		}
		tq->started = true;
		snprintf(name, sizeof(name), "wp-fw-tap/%u", i);
		pthread_setname_np(tq->thread, name);
	}
	return 0;
}

static void tap_stop(struct wp_backend *be)
{
	static const uint64_t one = 1;
	struct tap *t = be->priv;
	uint64_t v;

	if (!t || !t->running)
		return;
	/* Release: the threads' last look at the rings follows our writes.
	 * The eventfd stays readable until drained, so every thread sees it. */
	atomic_store_explicit(&t->stop, true, memory_order_release);
	if (write(t->stop_fd, &one, sizeof(one)) < 0)
		wp__backend_err(be, "stop: %s", strerror(errno));
	for (uint16_t i = 0; i < t->nq; i++) {
		if (t->q[i].started)
			pthread_join(t->q[i].thread, NULL);
		t->q[i].started = false;
	}
	if (read(t->stop_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		wp__backend_err(be, "stop: %s", strerror(errno));
	t->running = false;
}

static void tap_close(struct wp_backend *be)
{
	struct tap *t = be->priv;

	if (!t)
		return;
	tap_stop(be);
	tap_free(t); /* the last fd takes a TAP we created with it */
	be->priv = NULL;
}

static void tap_tx_kick(struct wp_backend *be, uint16_t q)
{
	struct tap *t = be->priv;

	if (t && q < t->nq)
		wp__doorbell_ring(&t->q[q].db);
}

/* A live wire has no virtual time line; open() refuses virtual clocks. */
static uint64_t tap_step(struct wp_backend *be, uint64_t now)
{
	return WP_TIME_NEVER;
}

static bool tap_done(struct wp_backend *be)
{
	return false;
}

static void tap_report(struct wp_backend *be, FILE *out)
{
	struct tap *t = be->priv;
	char m[WP_MAC_STR_LEN];
	uint64_t rx = 0, rxb = 0, miss = 0, over = 0, rxe = 0;
	uint64_t tx = 0, txb = 0, txe = 0, wake = 0;
	short flags = 0;

	if (!t)
		return;
	wp__report_str(out, "interface", t->ifname);
	wp__report_str(out, "device",
		       t->created ? "created by wirepath, removed when it exits"
				  : "an existing TAP, left in place at exit");
	wp__report_u64(out, "queues", t->nq);
	wp__report_str(out, "multi_queue",
		       t->multi_queue ? "yes (the kernel's TAP queue choice "
					"is the RSS)"
				      : "no");
	wp__report_u64(out, "mtu", t->mtu);
	wp__mac_fmt(t->mac, m);
	wp__report_str(out, "mac", m);
	wp__mac_fmt(t->peer_mac, m);
	wp__report_str(out, "kernel_side_mac", m);
	if (wp__netdev_get_flags(t->ifname, &flags) == 0)
		wp__report_str(out, "link", (flags & IFF_UP) ? "up" : "down");
	else
		wp__report_str(out, "link", "gone");
	for (uint16_t i = 0; i < t->nq; i++) {
		const struct tap_queue *tq = &t->q[i];

		rx += wp__fw_read(&tq->rx_frames);
		rxb += wp__fw_read(&tq->rx_bytes);
		miss += wp__fw_read(&tq->rx_missed);
		over += wp__fw_read(&tq->rx_oversize);
		rxe += wp__fw_read(&tq->rx_errors);
		tx += wp__fw_read(&tq->tx_frames);
		txb += wp__fw_read(&tq->tx_bytes);
		txe += wp__fw_read(&tq->tx_errors);
		wake += wp__fw_read(&tq->wakeups);
	}
	wp__report_u64(out, "fw_rx_frames", rx);
	wp__report_u64(out, "fw_rx_bytes", rxb);
	wp__report_u64(out, "fw_rx_missed", miss);
	wp__report_u64(out, "fw_rx_oversize", over);
	wp__report_u64(out, "fw_rx_errors", rxe);
	wp__report_u64(out, "fw_tx_frames", tx);
	wp__report_u64(out, "fw_tx_bytes", txb);
	wp__report_u64(out, "fw_tx_errors", txe);
	wp__report_u64(out, "fw_wakeups", wake);
}

const struct wp_backend_ops wp_backend_tap = {
	.name = "tap",
	.open = tap_open,
	.close = tap_close,
	.start = tap_start,
	.stop = tap_stop,
	.step = tap_step,
	.tx_kick = tap_tx_kick,
	.done = tap_done,
	.report = tap_report,
};
