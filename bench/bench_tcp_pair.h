/* SPDX-License-Identifier: MIT */
/*
 * What the TCP benchmarks (tcp, cps, conn-mem) share: two wirepath stacks
 * on the pair backend, driven from one thread on virtual time (the wire
 * with no delay and no rate), with a descriptor table of their own.
 * Stack A (10.0.0.1) connects, stack B (10.0.0.2) listens.
 */
#ifndef WP_BENCH_BENCH_TCP_PAIR_H
#define WP_BENCH_BENCH_TCP_PAIR_H

#include <stdint.h>

struct wp_stack;
struct wp_stack_pair;
struct wp_fdtable;

#define WP_BENCH_TCP_PORT 5001

struct wp_bench_pair {
	struct wp_stack_pair *p;
	struct wp_stack *a, *b;
	struct wp_fdtable *fdt, *old;
};

/* This thread's CPU time, ns: on a shared machine the figure that does
 * not count the time other processes took the CPU. */
uint64_t wp_bench_thread_cpu_ns(void);

/*
 * Two stacks at this MTU (frames at once: rx-usecs 0; TIME_WAIT 200 ms),
 * and a descriptor table for nfds installed as current. 0, or -1 with a
 * message on stderr.
 */
int wp_bench_pair_open(struct wp_bench_pair *w, uint32_t mtu, unsigned nfds);
/* Run both stacks dt ns of virtual time on. */
void wp_bench_pair_run(struct wp_bench_pair *w, uint64_t dt);
/* Close every descriptor, run past TIME_WAIT, free both stacks. */
void wp_bench_pair_close(struct wp_bench_pair *w);

/* A non-blocking listener on B at port; buf: SO_SNDBUF and SO_RCVBUF
 * (0: the defaults). A descriptor or -1. */
int wp_bench_pair_listen(struct wp_bench_pair *w, uint16_t port, int buf);
/* A non-blocking connect from A to B:port; the caller runs the wire. */
int wp_bench_pair_connect(struct wp_bench_pair *w, uint16_t port, int buf);

#endif
