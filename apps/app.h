/* SPDX-License-Identifier: MIT */
/*
 * Applications on the socket API (`wirepath run --app SPEC`): each runs
 * on a thread of its own, as a server process would, and reaches the
 * stack only through the socket calls: it sleeps in a blocking receive
 * on the socket's wait queue and is woken by sk_data_ready.
 *
 *   app = wp_app_start(type, stack, port, err, sizeof(err));
 *   ... the stack runs ...
 *   wp_app_stop(app);   shutdown(SHUT_RD) wakes the thread; join; close
 *
 * Specs: NAME:PORT, e.g. udp-echo:7 (RFC 862), udp-sink:9 (RFC 863).
 *
 * Virtual time: an application thread runs in real time beside a stack
 * whose clock moves only when its runner moves it. A runner that wants
 * every datagram answered before the clock moves on waits for
 * wp_app_idle() of each application between steps.
 */
#ifndef WP_APPS_APP_H
#define WP_APPS_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct wp_stack;
struct wp_app;

struct wp_app_type {
	const char *name;    /* "udp-echo" */
	const char *summary; /* one line for usage texts */
	int sock_type;	     /* SOCK_DGRAM */
	/*
	 * The thread's body: serve app->fd until a receive returns 0 with
	 * app->stop set. Count every datagram it has finished with in
	 * app->handled (wp_app_idle relies on it).
	 */
	void (*run)(struct wp_app *app);
	/*
	 * Optional: more sockets than app->fd (a TCP listener beside the
	 * UDP socket), opened before the thread starts so that a port in
	 * use is refused at once. 0, or -errno with a message in err.
	 * close undoes it after the thread is joined.
	 */
	int (*open)(struct wp_app *app, char *err, size_t errlen);
	void (*close)(struct wp_app *app);
	const char *transport; /* for messages: "UDP" (NULL), "TCP and UDP" */
	/* Names of app->counter[i], what wp_app_print shows beyond the
	 * common ones: protocol errors and the like, each named. */
	const char *const *counter_names;
	unsigned ncounters; /* at most WP_APP_COUNTERS */
};

#define WP_APP_COUNTERS 12

struct wp_app {
	const struct wp_app_type *type;
	struct wp_stack *stack;
	uint16_t port;
	int fd;
	pthread_t thread;
	_Atomic bool stop;
	/* Written by the application thread, read by anyone. */
	_Atomic uint64_t handled;  /* datagrams received and dealt with */
	_Atomic uint64_t rx_bytes; /* payload bytes received */
	_Atomic uint64_t replies;  /* datagrams sent */
	_Atomic uint64_t tx_bytes;
	_Atomic uint64_t errors;		   /* calls that failed */
	_Atomic uint64_t counter[WP_APP_COUNTERS]; /* type->counter_names */
	void *priv; /* the type's own state (open/close) */
};

/* udp-echo, udp-sink, iperf3, sockperf; NULL if unknown. */
const struct wp_app_type *wp_app_find(const char *name);
/* The i-th known type, NULL past the end (for usage texts). */
const struct wp_app_type *wp_app_at(unsigned i);

/*
 * Parse "NAME:PORT" (PORT 1..65535). 0, or -EINVAL with a message naming
 * the problem in err.
 */
int wp_app_parse(const char *spec, const struct wp_app_type **type,
		 uint16_t *port, char *err, size_t errlen);

/*
 * Open a socket on s, bind it to INADDR_ANY:port, start the thread.
 * NULL with errno and a message in err (the port in use, no memory...).
 */
struct wp_app *wp_app_start(const struct wp_app_type *type, struct wp_stack *s,
			    uint16_t port, char *err, size_t errlen);

/* Wake the thread (shutdown SHUT_RD), join it, close, free. NULL: no-op. */
void wp_app_stop(struct wp_app *app);

/*
 * True when the application has dealt with every datagram its socket
 * has queued so far: its receive queue is drained and its replies are
 * handed to the stack. Meaningful while the stack's cores are not
 * running (virtual time, between steps).
 */
bool wp_app_idle(struct wp_app *app);

/* "udp-echo:7 handled 12 rx_bytes 768 replies 12 tx_bytes 768 errors 0",
 * then the type's own counters ("... bad_cookie 1"). */
void wp_app_print(struct wp_app *app, FILE *out);

static inline void wp_app_count(_Atomic uint64_t *c, uint64_t n)
{
	/* One writer (the application thread): no locked add needed. */
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_release);
}

#endif
