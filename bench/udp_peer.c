// SPDX-License-Identifier: MIT
/*
 * wire_udp_peer: the kernel's side of bench/wire.sh's UDP receive-rate
 * measurement, as fast as the socket API goes: one thread, batches of 64
 * datagrams per system call both ways (sendmmsg, recvmmsg).
 *
 *   wire_udp_peer send ADDR PORT SECONDS [PAYLOAD]
 *       blast PAYLOAD-byte datagrams (default 18: 60-byte frames, 64 on
 *       a real wire with the FCS) at ADDR:PORT for SECONDS; a full queue
 *       (ENOBUFS, EAGAIN) is retried. Prints
 *       "sent N datagrams in T s: R/s".
 *   wire_udp_peer sink PORT
 *       receive on 0.0.0.0:PORT until SIGINT or SIGTERM. Prints
 *       "received N datagrams in T s (first to last): R/s".
 *
 * Not a test: it prints figures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define BUF 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(void)
{
	fputs("usage: wire_udp_peer send ADDR PORT SECONDS [PAYLOAD]\n"
	      "       wire_udp_peer sink PORT\n",
	      stderr);
	return 2;
}

static int do_send(const char *addr, int port, double secs, size_t payload)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	static uint8_t buf[BUF];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	uint64_t sent = 0;
	double t0, t;
	int fd;

	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1 || payload > BUF)
		return usage();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		perror("wire_udp_peer: socket");
		return 1;
	}
	memset(msg, 0, sizeof(msg));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = payload;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_s();
	do {
		int n = sendmmsg(fd, msg, BATCH, 0);

		if (n > 0)
			sent += (uint64_t)n;
		else if (n < 0 && errno != ENOBUFS && errno != EAGAIN &&
			 errno != ECONNREFUSED && errno != EINTR) {
			perror("wire_udp_peer: sendmmsg");
			return 1;
		}
		t = now_s() - t0;
	} while (t < secs && !stop);
	printf("sent %" PRIu64 " datagrams in %.3f s: %.0f/s\n", sent, t,
	       (double)sent / t);
	close(fd);
	return 0;
}

static int do_sink(int port)
{
	struct sockaddr_in me = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	static uint8_t buf[BATCH][BUF];
	struct timeval tv = { 0, 100000 }; /* to see stop */
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	int big = 16 << 20, fd;
	double first = 0, last = 0;
	uint64_t got = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("wire_udp_peer: socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		perror("wire_udp_peer: bind");
		return 1;
	}
	memset(msg, 0, sizeof(msg));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = BUF;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (!stop) {
		int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);

		if (n <= 0)
			continue; /* the timeout, or a signal */
		last = now_s();
		if (!got)
			first = last;
		got += (uint64_t)n;
	}
	printf("received %" PRIu64 " datagrams in %.3f s (first to last): "
	       "%.0f/s\n",
	       got, last - first,
	       last > first ? (double)got / (last - first) : 0.0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (argc >= 5 && argc <= 6 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), atof(argv[4]),
			       argc == 6 ? (size_t)atoi(argv[5]) : 18);
	if (argc == 3 && !strcmp(argv[1], "sink"))
		return do_sink(atoi(argv[2]));
	return usage();
}
