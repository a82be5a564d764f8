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
#include "wirepath/socket.h"

extern const struct wp_app_type wp_app_udp_echo;
extern const struct wp_app_type wp_app_udp_sink;
extern const struct wp_app_type wp_app_iperf3;
extern const struct wp_app_type wp_app_sockperf;

static const struct wp_app_type *const app_types[] = {
	&wp_app_udp_echo,
	&wp_app_udp_sink,
	&wp_app_iperf3,
	&wp_app_sockperf,
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
		 uint16_t *port, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	char name[32], *end;
	unsigned long p;

	if (!colon || (size_t)(colon - spec) >= sizeof(name)) {
		snprintf(err, errlen,
			 "--app %s: expected NAME:PORT, e.g. udp-echo:7", spec);
		return -EINVAL;
	}
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = '\0';
	*type = wp_app_find(name);
	if (!*type) {
		snprintf(err, errlen,
			 "--app %s: unknown application '%s' (available: "
			 "udp-echo, udp-sink, iperf3, sockperf)",
			 spec, name);
		return -EINVAL;
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno || p < 1 || p > 65535) {
		snprintf(err, errlen, "--app %s: the port must be 1..65535",
			 spec);
		return -EINVAL;
	}
	*port = (uint16_t)p;
	return 0;
}

static void *app_thread(void *arg)
{
	struct wp_app *app = arg;

	app->type->run(app);
	return NULL;
}

struct wp_app *wp_app_start(const struct wp_app_type *type, struct wp_stack *s,
			    uint16_t port, char *err, size_t errlen)
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
	app->fd = wp_socket_net(s, AF_INET, type->sock_type, 0);
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
	wp_close(app->fd);
out_free:
	free(app);
	errno = e;
	return NULL;
}

void wp_app_stop(struct wp_app *app)
{
	if (!app)
		return;
	atomic_store_explicit(&app->stop, true, memory_order_release);
	/* A blocked receive returns 0 once the queue is drained. The
	 * unconnected socket's ENOTCONN is expected (the shutdown still
	 * happens, as on Linux). */
	wp_shutdown(app->fd, SHUT_RD);
	pthread_join(app->thread, NULL);
	if (app->type->close)
		app->type->close(app);
	wp_close(app->fd);
	free(app);
}

bool wp_app_idle(struct wp_app *app)
{
	struct wp_sock *sk = wp_sockfd_lookup(app->fd);
	uint64_t queued;
	bool idle;

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
	fprintf(out,
		"%s:%u handled %llu rx_bytes %llu replies %llu tx_bytes %llu "
		"errors %llu",
		app->type->name, app->port,
		(unsigned long long)atomic_load(&app->handled),
		(unsigned long long)atomic_load(&app->rx_bytes),
		(unsigned long long)atomic_load(&app->replies),
		(unsigned long long)atomic_load(&app->tx_bytes),
		(unsigned long long)atomic_load(&app->errors));
	for (unsigned i = 0; i < app->type->ncounters; i++)
		fprintf(out, " %s %llu", app->type->counter_names[i],
			(unsigned long long)atomic_load(&app->counter[i]));
	fputc('\n', out);
}
