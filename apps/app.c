// SPDX-License-Identifier: MIT
/*
 * Starting, stopping and watching applications (app.h).
 */
#include "app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "sock/epoll.h"
#include "wirepath/socket.h"

extern const struct wp_app_type wp_app_udp_echo;
extern const struct wp_app_type wp_app_udp_sink;
extern const struct wp_app_type wp_app_iperf3;
extern const struct wp_app_type wp_app_sockperf;
extern const struct wp_app_type wp_app_tcp_echo;
extern const struct wp_app_type wp_app_tcp_sink;
extern const struct wp_app_type wp_app_tcp_source;
extern const struct wp_app_type wp_app_http;

static const struct wp_app_type *const app_types[] = {
	&wp_app_udp_echo, &wp_app_udp_sink,   &wp_app_tcp_echo,
	&wp_app_tcp_sink, &wp_app_tcp_source, &wp_app_http,
	&wp_app_iperf3,	  &wp_app_sockperf,
};

const struct wp_app_type *wp_app_at(unsigned i)
{
	return i < sizeof(app_types) / sizeof(app_types[0]) ? app_types[i]
							    : NULL;
}

const struct wp_app_type *wp_app_find(const char *name)
{
	for (unsigned i = 0; wp_app_at(i); i++)
		if (strcmp(wp_app_at(i)->name, name) == 0)
			return wp_app_at(i);
	return NULL;
}

int wp_app_parse(const char *spec, const struct wp_app_type **type,
		 uint16_t *port, const char **arg, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':'), *third;
	char name[32], digits[8];
	char *end;
	unsigned long p;
	size_t n;

	if (!colon || (size_t)(colon - spec) >= sizeof(name)) {
		snprintf(err, errlen,
			 "--app %s: expected NAME:PORT, e.g. udp-echo:7", spec);
		return -EINVAL;
	}
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = '\0';
	*type = wp_app_find(name);
	if (!*type) {
		char names[160] = "";
		size_t off = 0;

		for (unsigned i = 0; wp_app_at(i) && off < sizeof(names); i++)
			off += (size_t)snprintf(
				names + off, sizeof(names) - off, "%s%s",
				i ? ", " : "", wp_app_at(i)->name);
		snprintf(err, errlen,
			 "--app %s: unknown application '%s' (available: %s)",
			 spec, name, names);
		return -EINVAL;
	}
	third = strchr(colon + 1, ':');
	n = third ? (size_t)(third - colon - 1) : strlen(colon + 1);
	if (n == 0 || n >= sizeof(digits)) {
		snprintf(err, errlen, "--app %s: the port must be 1..65535",
			 spec);
		return -EINVAL;
	}
	memcpy(digits, colon + 1, n);
	digits[n] = '\0';
	errno = 0;
	p = strtoul(digits, &end, 10);
	if (*end != '\0' || errno || p < 1 || p > 65535 || digits[0] == '-' ||
	    digits[0] == '+' || digits[0] == ' ') {
		snprintf(err, errlen, "--app %s: the port must be 1..65535",
			 spec);
		return -EINVAL;
	}
	if (third && !(*type)->arg_name) {
		snprintf(err, errlen,
			 "--app %s: %s takes no third field (%s:PORT)", spec,
			 name, name);
		return -EINVAL;
	}
	if (third && third[1] == '\0') {
		snprintf(err, errlen,
			 "--app %s: %s after the port is empty "
			 "(%s:PORT[:%s])",
			 spec, (*type)->arg_name, name, (*type)->arg_name);
		return -EINVAL;
	}
	if (third && !arg) {
		snprintf(err, errlen, "--app %s: no %s here (%s:PORT)", spec,
			 (*type)->arg_name, name);
		return -EINVAL;
	}
	if (arg)
		*arg = third ? third + 1 : NULL;
	*port = (uint16_t)p;
	return 0;
}

static void *app_thread(void *arg)
{
	struct wp_app *app = arg;

	if (app->type->stream)
		wp__app_stream_run(app);
	else
		app->type->run(app);
	atomic_store_explicit(&app->exited, true, memory_order_release);
	return NULL;
}

/*
 * A stream application's listener and its loop's descriptors: the
 * listener (non-blocking, SO_REUSEADDR as servers set it so a restart
 * finds the port free despite TIME_WAIT, buffers of WP_APP_SOCKBUF),
 * the epoll instance and the wake-up socket. 0, or -1 with errno and a
 * message in err.
 */
static int stream_prepare(struct wp_app *app, char *err, size_t errlen)
{
	const struct wp_app_stream_ops *ops = app->type->stream;
	struct wp_epoll_event ev = { .events = WP_EPOLLIN };
	int one = 1, buf = WP_APP_SOCKBUF, e;

	if (wp_setsockopt(app->fd, SOL_SOCKET, SO_REUSEADDR, &one,
			  sizeof(one)) ||
	    wp_setsockopt(app->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) ||
	    wp_setsockopt(app->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf))) {
		e = errno;
		snprintf(err, errlen, "%s:%u: setsockopt: %s", app->type->name,
			 app->port, strerror(e));
		errno = e;
		return -1;
	}
	if (ops->listener)
		ops->listener(app, app->fd);
	app->epfd = wp_epoll_create1(0);
	if (app->epfd < 0)
		goto fail;
	app->wakefd = wp_socket_net(app->stack, AF_INET, SOCK_DGRAM, 0);
	if (app->wakefd < 0)
		goto fail;
	ev.data.ptr = &app->wakefd;
	if (wp_epoll_ctl(app->epfd, WP_EPOLL_CTL_ADD, app->wakefd, &ev))
		goto fail;
	ev.data.ptr = NULL; /* the listener */
	if (wp_epoll_ctl(app->epfd, WP_EPOLL_CTL_ADD, app->fd, &ev))
		goto fail;
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "%s:%u: epoll: %s", app->type->name, app->port,
		 strerror(e));
	errno = e;
	return -1;
}

static void stream_close_fds(struct wp_app *app)
{
	if (app->epfd >= 0)
		wp_close(app->epfd);
	if (app->wakefd >= 0)
		wp_close(app->wakefd);
	app->epfd = app->wakefd = -1;
}

struct wp_app *wp_app_start(const struct wp_app_type *type, struct wp_stack *s,
			    uint16_t port, char *err, size_t errlen)
{
	return wp_app_start_arg(type, s, port, NULL, err, errlen);
}

struct wp_app *wp_app_start_arg(const struct wp_app_type *type,
				struct wp_stack *s, uint16_t port,
				const char *arg, char *err, size_t errlen)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct wp_app *app = calloc(1, sizeof(*app));
	int e;

	if (!app) {
		snprintf(err, errlen, "%s:%u: out of memory", type->name, port);
		errno = ENOMEM;
		return NULL;
	}
	app->type = type;
	app->stack = s;
	app->port = port;
	app->epfd = app->wakefd = -1;
	if (arg) {
		app->arg = strdup(arg);
		if (!app->arg) {
			e = ENOMEM;
			snprintf(err, errlen, "%s:%u: out of memory",
				 type->name, port);
			goto out_free;
		}
	}
	app->fd = wp_socket_net(
		s, AF_INET,
		type->sock_type | (type->stream ? SOCK_NONBLOCK : 0), 0);
	if (app->fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s:%u: socket: %s", type->name, port,
			 strerror(e));
		goto out_free;
	}
	if (wp_bind(app->fd, (struct sockaddr *)&sin, sizeof(sin))) {
		e = errno;
		snprintf(err, errlen,
			 "%s:%u: bind: %s (is another --app on port %u?)",
			 type->name, port, strerror(e), port);
		goto out_close;
	}
	if (type->stream && stream_prepare(app, err, errlen)) {
		e = errno;
		goto out_close;
	}
	if (type->stream && wp_listen(app->fd, 128)) {
		e = errno;
		snprintf(err, errlen, "%s:%u: listen: %s", type->name, port,
			 strerror(e));
		goto out_close;
	}
	if (type->open) {
		e = -type->open(app, err, errlen);
		if (e)
			goto out_close;
	}
	e = pthread_create(&app->thread, NULL, app_thread, app);
	if (e) {
		snprintf(err, errlen, "%s:%u: cannot start a thread: %s",
			 type->name, port, strerror(e));
		goto out_type_close;
	}
	return app;

out_type_close:
	if (type->close)
		type->close(app);
out_close:
	stream_close_fds(app);
	wp_close(app->fd);
out_free:
	free(app->arg);
	free(app);
	errno = e;
	return NULL;
}

void wp_app_join(struct wp_app *app)
{
	if (!app || app->fd < 0)
		return;
	atomic_store_explicit(&app->stop, true, memory_order_release);
	/* A blocked receive returns 0 once the queue is drained; a stream
	 * loop's wake-up socket turns readable. The unconnected socket's
	 * ENOTCONN is expected (the shutdown still happens, as on Linux). */
	wp_shutdown(app->type->stream ? app->wakefd : app->fd, SHUT_RD);
	pthread_join(app->thread, NULL);
	if (app->type->close)
		app->type->close(app);
	stream_close_fds(app);
	wp_close(app->fd);
	app->fd = -1;
}

void wp_app_stop(struct wp_app *app)
{
	if (!app)
		return;
	wp_app_join(app);
	free(app->arg);
	free(app);
}

bool wp_app_idle(struct wp_app *app)
{
	struct wp_sock *sk;
	uint64_t queued;
	bool idle;

	if (atomic_load_explicit(&app->exited, memory_order_acquire))
		return true;
	/* Asleep with nothing ready: every readiness the stack announced
	 * was taken and acted on (the ops keep their interest to what they
	 * would act on). */
	if (app->type->stream)
		return wp__epoll_idle(app->epfd);
	sk = wp_sockfd_lookup(app->fd);
	if (!sk)
		return true;
	/* Every datagram the socket layer queued, dealt with. */
	queued = atomic_load_explicit(&sk->sk_rcv_queued, memory_order_acquire);
	idle = atomic_load_explicit(&app->handled, memory_order_acquire) >=
	       queued;
	wp_sockfd_put(sk);
	return idle;
}

void wp_app_print(struct wp_app *app, FILE *out)
{
	if (app->type->stream) {
		fprintf(out,
			"%s:%u accepted %llu active %llu closed %llu "
			"rx_bytes %llu tx_bytes %llu requests %llu "
			"responses %llu rejects %llu errors %llu aborted %llu",
			app->type->name, app->port,
			(unsigned long long)atomic_load(&app->accepted),
			(unsigned long long)atomic_load(&app->active),
			(unsigned long long)atomic_load(&app->closed),
			(unsigned long long)atomic_load(&app->rx_bytes),
			(unsigned long long)atomic_load(&app->tx_bytes),
			(unsigned long long)atomic_load(&app->handled),
			(unsigned long long)atomic_load(&app->replies),
			(unsigned long long)atomic_load(&app->rejects),
			(unsigned long long)atomic_load(&app->errors),
			(unsigned long long)atomic_load(&app->aborted));
	} else {
		fprintf(out,
			"%s:%u handled %llu rx_bytes %llu replies %llu "
			"tx_bytes %llu errors %llu",
			app->type->name, app->port,
			(unsigned long long)atomic_load(&app->handled),
			(unsigned long long)atomic_load(&app->rx_bytes),
			(unsigned long long)atomic_load(&app->replies),
			(unsigned long long)atomic_load(&app->tx_bytes),
			(unsigned long long)atomic_load(&app->errors));
	}
	for (unsigned i = 0; i < app->type->ncounters; i++)
		fprintf(out, " %s %llu", app->type->counter_names[i],
			(unsigned long long)atomic_load(&app->counter[i]));
	fputc('\n', out);
}
