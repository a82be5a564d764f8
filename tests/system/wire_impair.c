// SPDX-License-Identifier: MIT
/*
 * wire_impair: a bad wire between two Ethernet interfaces, in user space,
 * for the system tests. Every frame that arrives on one interface (an
 * AF_PACKET socket bound to it) is sent out of the other, after these,
 * drawn per frame and per direction alike from one seeded generator:
 *
 *   --loss PCT       the frame is dropped
 *   --corrupt PCT    one random bit after the Ethernet header is flipped
 *                    (IPv4 frames only: a corrupt ARP reply would poison a
 *                    cache for minutes, which no wire test wants)
 *   --reorder PCT    the frame is held for --delay-us (default 2000) while
 *                    the frames behind it go ahead
 *   --dup PCT        the frame is sent twice
 *
 * This is what tc netem does on a kernel that has it (loss, corrupt,
 * delay with reorder, duplicate), on both directions at once and on any
 * interface (a TAP's kernel side too), with each impairment counted so a
 * test can check that it happened. SIGUSR1 cuts the wire (every frame,
 * and every held one when it comes due, is dropped and counted as cut),
 * SIGUSR2 mends it. SIGTERM or SIGINT: the counters on stdout, exit 0.
 *
 *   usage: wire_impair [--seed N] [--loss PCT] [--corrupt PCT]
 *                      [--reorder PCT] [--delay-us US] [--dup PCT] IF-A IF-B
 *
 * "wire_impair: ready" on stdout once both sockets are bound: from then on
 * no frame is missed. Nothing is offloaded: the interfaces should carry
 * frames of at most the MTU with complete checksums (GRO off on both,
 * TSO, GSO and checksum offload off on the hosts that send into them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 2048	/* held frames: an MTU of 1500 and then some */
#define RECV_MAX 65536	/* a frame larger than FRAME_MAX goes at once */
#define HOLD_SLOTS 4096 /* frames held at once, per direction */
#define BATCH 64	/* frames read from one side per wake-up */

struct held {
	uint64_t due_ns;
	uint16_t len;
	uint8_t data[FRAME_MAX];
};

/* One direction: frames in on fd_in, out on fd_out. */
struct dir {
	const char *from, *to;
	int fd_in, fd_out;
	/* The delay is the same for every held frame, so a FIFO is also
	 * in order of due time. */
	struct held *hold;
	unsigned head, count;
	uint64_t frames, lost, corrupted, reordered, duplicated, cut, hold_full,
		tx_errors;
};

static volatile sig_atomic_t stop, cut;
static double p_loss, p_corrupt, p_reorder, p_dup;
static uint64_t delay_ns = 2000000, rng_state = 1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		cut = 1;
	else if (sig == SIGUSR2)
		cut = 0;
	else
		stop = 1;
}

/* xorshift64*: small, seeded, the same run for the same seed. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* True with probability pct percent. */
static bool chance(double pct)
{
	return pct > 0 && (double)(rng() >> 11) * 0x1.0p-53 * 100.0 < pct;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int open_if(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, big = 4 << 20;
	/* Protocol 0: nothing is queued until the bind names the interface. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		fprintf(stderr, "wire_impair: AF_PACKET: %s\n",
			strerror(errno));
		return -1;
	}
	sll.sll_ifindex = (int)if_nametoindex(name);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "wire_impair: no interface %s\n", name);
		goto out_close;
	}
	/* What we send out of an interface is not what arrived on it. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one))) {
		fprintf(stderr, "wire_impair: PACKET_IGNORE_OUTGOING: %s\n",
			strerror(errno));
		goto out_close;
	}
	/* Room for a burst while the other side is being served; the
	 * forced forms need CAP_NET_ADMIN, which a test has. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "wire_impair: bind %s: %s\n", name,
			strerror(errno));
		goto out_close;
	}
	return fd;
out_close:
	close(fd);
	return -1;
}

static void xmit(struct dir *d, const uint8_t *f, size_t len)
{
	/* A full queue on the far side drops the frame, as a wire would. */
	if (send(d->fd_out, f, len, MSG_DONTWAIT) < 0)
		d->tx_errors++;
}

/* Send now, or hold for the delay (when there is a slot). */
static void deliver(struct dir *d, const uint8_t *f, size_t len, bool hold,
		    uint64_t now)
{
	struct held *h;

	if (!hold || len > FRAME_MAX || d->count == HOLD_SLOTS) {
		if (hold)
			d->hold_full++;
		xmit(d, f, len);
		return;
	}
	h = &d->hold[(d->head + d->count) % HOLD_SLOTS];
	h->due_ns = now + delay_ns;
	h->len = (uint16_t)len;
	memcpy(h->data, f, len);
	d->count++;
}

/* Send the held frames whose time has come; the next due time, or 0. */
static uint64_t release(struct dir *d, uint64_t now)
{
	while (d->count) {
		struct held *h = &d->hold[d->head];

		if (h->due_ns > now)
			return h->due_ns;
		if (cut)
			d->cut++;
		else
			xmit(d, h->data, h->len);
		d->head = (d->head + 1) % HOLD_SLOTS;
		d->count--;
	}
	return 0;
}

static void impair(struct dir *d, uint8_t *f, size_t len, uint64_t now)
{
	bool hold;

	d->frames++;
	if (cut) {
		d->cut++;
		return;
	}
	if (chance(p_loss)) {
		d->lost++;
		return;
	}
	if (len > ETH_HLEN && f[12] == 0x08 && f[13] == 0x00 &&
	    chance(p_corrupt)) {
		size_t at = ETH_HLEN + (size_t)(rng() % (len - ETH_HLEN));

		f[at] ^= (uint8_t)(1u << (rng() % 8));
		d->corrupted++;
	}
	hold = chance(p_reorder);
	d->reordered += hold;
	deliver(d, f, len, hold, now);
	if (chance(p_dup)) {
		d->duplicated++;
		deliver(d, f, len, hold, now);
	}
}

static void drain(struct dir *d, uint8_t *buf)
{
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = recv(d->fd_in, buf, RECV_MAX, MSG_TRUNC);

		if (n < 0)
			return; /* EAGAIN, or the interface went away */
		if (n > RECV_MAX) {
			d->frames++;
			d->lost++; /* truncated: not a frame we can pass */
			continue;
		}
		impair(d, buf, (size_t)n, now_ns());
	}
}

static void report(const struct dir *d)
{
	printf("wire_impair %s>%s frames %" PRIu64 " lost %" PRIu64
	       " corrupted %" PRIu64 " reordered %" PRIu64
	       " duplicated %" PRIu64 " cut %" PRIu64 " hold_full %" PRIu64
	       " tx_errors %" PRIu64 "\n",
	       d->from, d->to, d->frames, d->lost, d->corrupted, d->reordered,
	       d->duplicated, d->cut, d->hold_full, d->tx_errors);
}

static double pct_arg(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= 0 && v <= 100)) {
		fprintf(stderr, "wire_impair: %s: a percentage, 0..100\n", opt);
		exit(2);
	}
	return v;
}

static const char usage[] =
	"usage: wire_impair [--seed N] [--loss PCT] [--corrupt PCT]\n"
	"                   [--reorder PCT] [--delay-us US] [--dup PCT] "
	"IF-A IF-B\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "loss", required_argument, NULL, 'l' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "reorder", required_argument, NULL, 'r' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ "dup", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct dir dirs[2] = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, orig;
	uint8_t *buf;
	int o, fa, fb;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			rng_state = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'l':
			p_loss = pct_arg("--loss", optarg);
			break;
		case 'c':
			p_corrupt = pct_arg("--corrupt", optarg);
			break;
		case 'r':
			p_reorder = pct_arg("--reorder", optarg);
			break;
		case 'd':
			delay_ns = strtoull(optarg, NULL, 0) * 1000;
			break;
		case 'u':
			p_dup = pct_arg("--dup", optarg);
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return 2;
	}

	/* The signals arrive only inside ppoll: no race with its timeout. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	fa = open_if(argv[optind]);
	if (fa < 0)
		return 1;
	fb = open_if(argv[optind + 1]);
	if (fb < 0) {
		close(fa);
		return 1;
	}
	buf = malloc(RECV_MAX);
	dirs[0].hold = calloc(HOLD_SLOTS, sizeof(struct held));
	dirs[1].hold = calloc(HOLD_SLOTS, sizeof(struct held));
	if (!buf || !dirs[0].hold || !dirs[1].hold) {
		fprintf(stderr, "wire_impair: out of memory\n");
		return 1;
	}
	dirs[0] = (struct dir){ .from = argv[optind],
				.to = argv[optind + 1],
				.fd_in = fa,
				.fd_out = fb,
				.hold = dirs[0].hold };
	dirs[1] = (struct dir){ .from = argv[optind + 1],
				.to = argv[optind],
				.fd_in = fb,
				.fd_out = fa,
				.hold = dirs[1].hold };
	printf("wire_impair: ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[2] = { { .fd = fa, .events = POLLIN },
					 { .fd = fb, .events = POLLIN } };
		uint64_t now = now_ns(), next = 0;
		struct timespec ts, *tsp = NULL;

		for (int i = 0; i < 2; i++) {
			uint64_t due = release(&dirs[i], now);

			if (due && (!next || due < next))
				next = due;
		}
		if (next) {
			uint64_t wait = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(wait / 1000000000ULL);
			ts.tv_nsec = (long)(wait % 1000000000ULL);
			tsp = &ts;
		}
		if (ppoll(pfd, 2, tsp, &orig) < 0)
			continue; /* EINTR: a signal; the loop's test */
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents) /* POLLERR too: recv clears it */
				drain(&dirs[i], buf);
	}
	report(&dirs[0]);
	report(&dirs[1]);
	free(dirs[0].hold);
	free(dirs[1].hold);
	free(buf);
	close(fa);
	close(fb);
	return 0;
}
