/* SPDX-License-Identifier: MIT */
/*
 * Applications on the socket API (`wirepath run --app SPEC`): each runs
 * on a thread of its own, as a server process would, and reaches the
 * stack only through the socket calls.
 *
 *   app = wp_app_start(type, stack, port, err, sizeof(err));
 *   ... the stack runs ...
 *   wp_app_stop(app);   wake the thread; it closes what it has; join
 *
 * Specs: NAME:PORT, e.g. udp-echo:7 (RFC 862), udp-sink:9 (RFC 863),
 * tcp-echo:7, tcp-sink:9, tcp-source:19 (RFC 864), http:80; an
 * application that takes one has a third field, NAME:PORT:ARG
 * (http:80:/srv/www, the directory it serves).
 *
 * Datagram applications sleep in a blocking receive on their socket's
 * wait queue and are woken by sk_data_ready; stopping shuts the socket
 * down for reading (SHUT_RD), which wakes them.
 *
 * Stream applications (stream.c) are one thread each, serving every
 * connection from one epoll instance, level-triggered, all sockets
 * non-blocking: the listener's readiness accepts, a connection's runs
 * the application's ready() op, which does what it can without waiting
 * (a bounded amount, so one busy connection cannot starve the others)
 * and says what it waits for next (c->want). One thread per application
 * rather than one per connection: a connection costs a descriptor, an
 * epoll item and the application's state, not a stack and a thread, and
 * nothing is shared between threads but the socket calls. At most
 * WP_APP_CONN_MAX connections at once; while that many are open the
 * listener is left alone and further connections wait in its backlog
 * (and beyond it are refused by TCP, as on Linux). Stopping wakes the
 * thread through a descriptor kept only for that (an unbound UDP socket
 * shut down for reading, which is readable from then on: the self-pipe
 * of a stack that has no eventfd); the thread closes every connection
 * (each sends its FIN after what it had queued) and the listener.
 *
 * Virtual time: an application thread runs in real time beside a stack
 * whose clock moves only when its runner moves it. A runner that wants
 * every datagram or segment dealt with before the clock moves on waits
 * for wp_app_idle() of each application between steps.
 */
#ifndef WP_APPS_APP_H
#define WP_APPS_APP_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct wp_stack;
struct wp_app;
struct wp_app_conn;

/* At most this many connections of one stream application at once. */
#define WP_APP_CONN_MAX 512
/* What a stream application asks for its sockets (SO_SNDBUF, SO_RCVBUF
 * on the listener, which its connections inherit; Linux clamps to
 * net.core.wmem_max / rmem_max and doubles). */
#define WP_APP_SOCKBUF (1 << 20)
/* A ready() op moves at most about this many bytes per call. */
#define WP_APP_BUDGET (256 * 1024)

/* What a stream application's ready() returns. */
enum {
	WP_APP_KEEP,  /* wait for c->want */
	WP_APP_CLOSE, /* done with it: the framework closes it */
};

/* The ops of a stream application (sock_type SOCK_STREAM). */
struct wp_app_stream_ops {
	size_t conn_size; /* bytes of c->priv, zeroed at accept */
	/* Set options on the listener before listen (may be NULL). */
	void (*listener)(struct wp_app *app, int fd);
	/* A new connection: set c->want (default WP_EPOLLIN |
	 * WP_EPOLLRDHUP). WP_APP_CLOSE refuses it. May be NULL. */
	int (*open)(struct wp_app_conn *c);
	/*
	 * c is ready for events (EPOLLERR and EPOLLHUP included). Do what
	 * can be done without waiting, at most about WP_APP_BUDGET bytes,
	 * set c->want to what to wait for next and return WP_APP_KEEP, or
	 * WP_APP_CLOSE. A connection reported with EPOLLHUP or EPOLLERR is
	 * closed after this call whatever it returns: nothing more can
	 * come of it.
	 */
	int (*ready)(struct wp_app_conn *c, uint32_t events);
	/* c is being closed: free what open and ready allocated. */
	void (*release)(struct wp_app_conn *c);
};

struct wp_app_type {
	const char *name;    /* "udp-echo" */
	const char *summary; /* one line for usage texts */
	int sock_type;	     /* SOCK_DGRAM or SOCK_STREAM */
	/*
	 * Datagram applications: the thread's body: serve app->fd until a
	 * receive returns 0 with app->stop set. Count every datagram it
	 * has finished with in app->handled (wp_app_idle relies on it).
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
	/* What the optional third field of the spec is ("DIR"); NULL: the
	 * application takes none. Its open() reads app->arg. */
	const char *arg_name;
	/* Names of app->counter[i], what wp_app_print shows beyond the
	 * common ones: protocol errors and the like, each named. */
	const char *const *counter_names;
	unsigned ncounters; /* at most WP_APP_COUNTERS */
	/* Stream applications: served by the framework's loop. */
	const struct wp_app_stream_ops *stream;
};

/* A connection of a stream application; only its thread touches it. */
struct wp_app_conn {
	struct wp_app *app;
	int fd;
	uint32_t want;	 /* set by the ops: the interest for next time */
	uint32_t events; /* the interest registered now */
	bool eof;	 /* wp_app_recv returned 0: the peer's FIN */
	int err;	 /* the first error a call on it failed with, or 0 */
	uint64_t id;	 /* 1, 2, ... in accept order */
	uint64_t rx_bytes, tx_bytes;
	struct sockaddr_in peer;
	struct wp_app_conn *prev, *next; /* the application's list */
	void *priv;			 /* conn_size bytes of the ops' own */
};

#define WP_APP_COUNTERS 16

struct wp_app {
	const struct wp_app_type *type;
	struct wp_stack *stack;
	uint16_t port;
	char *arg; /* the spec's third field, or NULL (type->arg_name) */
	int fd;	   /* the datagram socket, or the listener */
	pthread_t thread;
	_Atomic bool stop;
	_Atomic bool exited; /* the thread's body returned */
	/* Stream applications: the loop's descriptors and connections
	 * (the list is the thread's alone). */
	int epfd, wakefd;
	struct wp_app_conn *conns;
	unsigned nconns;
	bool accept_paused; /* the listener left alone: at the cap */
	/* Written by the application thread, read by anyone. */
	_Atomic uint64_t handled;  /* datagrams, or requests, dealt with */
	_Atomic uint64_t rx_bytes; /* payload bytes received */
	_Atomic uint64_t replies;  /* datagrams, or responses, sent */
	_Atomic uint64_t tx_bytes;
	_Atomic uint64_t errors;   /* calls that failed */
	_Atomic uint64_t accepted; /* connections accepted */
	_Atomic uint64_t active;   /* connections open now */
	_Atomic uint64_t closed;   /* connections closed (stop included) */
	_Atomic uint64_t rejects;  /* requests answered with an error */
	/* Connections that ended in an error, not a close: reset by the
	 * peer (ECONNRESET, then EPIPE), timed out (ETIMEDOUT: the peer
	 * vanished), any call on them failing other than with EAGAIN, or
	 * epoll reporting EPOLLERR. */
	_Atomic uint64_t aborted;
	_Atomic uint64_t counter[WP_APP_COUNTERS]; /* type->counter_names */
	void *priv; /* the type's own state (open/close) */
};

/* udp-echo, udp-sink, tcp-echo, ..., iperf3, sockperf; NULL if unknown. */
const struct wp_app_type *wp_app_find(const char *name);
/* The i-th known type, NULL past the end (for usage texts). */
const struct wp_app_type *wp_app_at(unsigned i);

/*
 * Parse "NAME:PORT" or "NAME:PORT:ARG" (PORT 1..65535; ARG, everything
 * after the second colon, only for a type with an arg_name). *arg points
 * into spec, or is NULL without a third field. 0, or -EINVAL with a
 * message naming the problem in err.
 */
int wp_app_parse(const char *spec, const struct wp_app_type **type,
		 uint16_t *port, const char **arg, char *err, size_t errlen);

/*
 * Open a socket on s, bind it to INADDR_ANY:port (a stream application
 * also listens), start the thread. NULL with errno and a message in err
 * (the port in use, no memory...).
 */
struct wp_app *wp_app_start(const struct wp_app_type *type, struct wp_stack *s,
			    uint16_t port, char *err, size_t errlen);
/* The same with the spec's third field (NULL: none); the type's open()
 * checks it (http: the directory exists). */
struct wp_app *wp_app_start_arg(const struct wp_app_type *type,
				struct wp_stack *s, uint16_t port,
				const char *arg, char *err, size_t errlen);

/* Wake the thread, join it (it closes its connections), close, free.
 * NULL: no-op. */
void wp_app_stop(struct wp_app *app);
/* The same but the free: the counters stay readable (wp_app_print)
 * until wp_app_stop. Once is enough; again is a no-op. */
void wp_app_join(struct wp_app *app);

/*
 * True when the application has dealt with everything the stack gave it
 * so far. Datagram applications: the receive queue is drained and the
 * replies handed to the stack. Stream applications: the thread sleeps
 * in epoll_wait with nothing ready (every byte read that it could read,
 * every byte written that the send buffers took, every connection
 * accepted). Meaningful while the stack's cores are not running
 * (virtual time, between steps).
 */
bool wp_app_idle(struct wp_app *app);

/*
 * "udp-echo:7 handled 12 rx_bytes 768 replies 12 tx_bytes 768 errors 0",
 * then the type's own counters ("... bad_cookie 1"); stream
 * applications: "tcp-echo:7 accepted 3 active 1 closed 2 rx_bytes ...
 * tx_bytes ... requests ... responses ... rejects ... errors 0 aborted 0",
 * then the type's own counters (http: status_404 2 ...).
 */
void wp_app_print(struct wp_app *app, FILE *out);

static inline void wp_app_count(_Atomic uint64_t *c, uint64_t n)
{
	/* One writer (the application thread): no locked add needed. */
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_release);
}

/* --- for stream applications' ops (stream.c) ------------------------- */

/*
 * wp_recv/wp_send on c, non-blocking, counted on c and the application.
 * recv: 0 at the end of the stream (c->eof set); -1 with errno (EAGAIN:
 * nothing now). send: bytes taken; -1 with errno (EAGAIN: the send
 * buffer is full; EPIPE, ECONNRESET: gone). Other errors are counted in
 * app->errors.
 */
ssize_t wp_app_recv(struct wp_app_conn *c, void *buf, size_t len);
ssize_t wp_app_send(struct wp_app_conn *c, const void *buf, size_t len);
ssize_t wp_app_sendv(struct wp_app_conn *c, const struct iovec *iov,
		     int iovcnt);

/* The stream loop (stream.c): app->fd listens, app->epfd and
 * app->wakefd are open. */
void wp__app_stream_run(struct wp_app *app);

#endif
