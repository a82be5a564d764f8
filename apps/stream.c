// SPDX-License-Identifier: MIT
/*
 * The loop of stream applications (app.h): one thread, one epoll
 * instance, level-triggered, every socket non-blocking.
 *
 *   listener readable   accept4(SOCK_NONBLOCK) until EAGAIN or the cap;
 *                       each connection gets the ops' open() and an
 *                       epoll item for what it wants
 *   connection ready    the ops' ready(): a bounded amount of work, then
 *                       the interest it wants next (epoll_ctl MOD only
 *                       when it changed) or close
 *   wake-up socket      app->stop: close everything, return
 *
 * Level-triggered because a ready() that stops at its budget is simply
 * reported again while the socket stays ready, and because the interest
 * set is then an honest statement of what the thread would act on: a
 * thread asleep in epoll_wait with nothing ready is idle (wp_app_idle).
 *
 * Cost: one epoll_wait per batch of up to APP_EVENTS ready connections,
 * O(ready) whatever the number open; an epoll_ctl only when a
 * connection's interest changes (the echo that waits for room to write,
 * the HTTP server between a request and its response).
 */
#include "app.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wirepath/socket.h"

#define APP_EVENTS 64
#define APP_DEFAULT_WANT (WP_EPOLLIN | WP_EPOLLRDHUP)

static int set_interest(struct wp_app *app, int fd, void *ptr, uint32_t ev,
			int op)
{
	struct wp_epoll_event e = { .events = ev, .data.ptr = ptr };

	return wp_epoll_ctl(app->epfd, op, fd, &e);
}

/* Leave the listener alone (at the cap, or no descriptor to be had), or
 * take it up again. */
static void pause_accept(struct wp_app *app, bool pause)
{
	if (app->accept_paused == pause)
		return;
	if (set_interest(app, app->fd, NULL, pause ? 0 : WP_EPOLLIN,
			 WP_EPOLL_CTL_MOD) == 0)
		app->accept_paused = pause;
	else
		wp_app_count(&app->errors, 1);
}

static void conn_close(struct wp_app_conn *c)
{
	struct wp_app *app = c->app;
	const struct wp_app_stream_ops *ops = app->type->stream;

	if (ops->release)
		ops->release(c);
	if (c->err)
		wp_app_count(&app->aborted, 1);
	/* Closing the descriptor removes its epoll item too; sends its FIN
	 * after whatever is queued, or a RST if unread data is left
	 * (RFC 2525 2.17), as Linux does. */
	wp_close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		app->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	app->nconns--;
	wp_app_count(&app->closed, 1);
	atomic_store_explicit(&app->active, app->nconns, memory_order_release);
	free(c);
	if (app->nconns < WP_APP_CONN_MAX)
		pause_accept(app, false);
}

static void conn_open(struct wp_app *app, int fd,
		      const struct sockaddr_in *peer)
{
	const struct wp_app_stream_ops *ops = app->type->stream;
	size_t head = (sizeof(struct wp_app_conn) + 15) & ~(size_t)15;
	struct wp_app_conn *c = calloc(1, head + ops->conn_size);

	if (!c) {
		wp_app_count(&app->errors, 1);
		wp_close(fd);
		return;
	}
	c->app = app;
	c->fd = fd;
	c->peer = *peer;
	c->id = atomic_load_explicit(&app->accepted, memory_order_relaxed) + 1;
	c->priv = ops->conn_size ? (uint8_t *)c + head : NULL;
	c->want = APP_DEFAULT_WANT;
	c->next = app->conns;
	if (app->conns)
		app->conns->prev = c;
	app->conns = c;
	app->nconns++;
	wp_app_count(&app->accepted, 1);
	atomic_store_explicit(&app->active, app->nconns, memory_order_release);
	if (ops->open && ops->open(c) != WP_APP_KEEP) {
		conn_close(c);
		return;
	}
	c->events = c->want;
	if (set_interest(app, fd, c, c->events, WP_EPOLL_CTL_ADD)) {
		wp_app_count(&app->errors, 1);
		conn_close(c);
	}
}

static void accept_all(struct wp_app *app)
{
	while (app->nconns < WP_APP_CONN_MAX) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd = wp_accept4(app->fd, (struct sockaddr *)&peer, &len,
				    SOCK_NONBLOCK);

		if (fd >= 0) {
			conn_open(app, fd, &peer);
			continue;
		}
		if (errno == EAGAIN)
			return;
		wp_app_count(&app->errors, 1);
		/* No descriptor or memory to be had: leave the listener
		 * until a connection closes (its backlog holds the rest),
		 * rather than spin on it. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == ENOBUFS) {
			if (app->nconns)
				pause_accept(app, true);
			return;
		}
	}
	pause_accept(app, true);
}

static void conn_ready(struct wp_app_conn *c, uint32_t events)
{
	int ret = c->app->type->stream->ready(c, events);

	/* An error the op did not meet in a call of its own (it may not
	 * have made one): SO_ERROR says which, EIO if it has gone. */
	if ((events & WP_EPOLLERR) && !c->err) {
		socklen_t len = sizeof(c->err);

		if (wp_getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &c->err, &len) ||
		    !c->err)
			c->err = EIO;
	}
	if (ret != WP_APP_KEEP || (events & (WP_EPOLLERR | WP_EPOLLHUP))) {
		conn_close(c);
		return;
	}
	if (c->want != c->events) {
		if (set_interest(c->app, c->fd, c, c->want, WP_EPOLL_CTL_MOD)) {
			wp_app_count(&c->app->errors, 1);
			conn_close(c);
			return;
		}
		c->events = c->want;
	}
}

void wp__app_stream_run(struct wp_app *app)
{
	struct wp_epoll_event ev[APP_EVENTS];

	while (!atomic_load_explicit(&app->stop, memory_order_acquire)) {
		int n = wp_epoll_wait(app->epfd, ev, APP_EVENTS, -1);

		if (n < 0) {
			wp_app_count(&app->errors, 1);
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == &app->wakefd)
				continue; /* the loop's test sees stop */
			if (!ev[i].data.ptr)
				accept_all(app);
			else
				conn_ready(ev[i].data.ptr, ev[i].events);
		}
	}
	while (app->conns)
		conn_close(app->conns);
}

static void count_io(struct wp_app_conn *c, ssize_t n, bool rx)
{
	if (n > 0) {
		if (rx) {
			c->rx_bytes += (uint64_t)n;
			wp_app_count(&c->app->rx_bytes, (uint64_t)n);
		} else {
			c->tx_bytes += (uint64_t)n;
			wp_app_count(&c->app->tx_bytes, (uint64_t)n);
		}
	} else if (n == 0 && rx) {
		c->eof = true;
	} else if (n < 0 && errno != EAGAIN) {
		if (!c->err)
			c->err = errno;
		/* A reset is the peer's doing, not a failed call. */
		if (errno != EPIPE && errno != ECONNRESET)
			wp_app_count(&c->app->errors, 1);
	}
}

ssize_t wp_app_recv(struct wp_app_conn *c, void *buf, size_t len)
{
	ssize_t n = wp_recv(c->fd, buf, len, MSG_DONTWAIT);

	count_io(c, n, true);
	return n;
}

ssize_t wp_app_send(struct wp_app_conn *c, const void *buf, size_t len)
{
	ssize_t n = wp_send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	count_io(c, n, false);
	return n;
}

ssize_t wp_app_sendv(struct wp_app_conn *c, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov,
			      .msg_iovlen = (size_t)iovcnt };
	ssize_t n = wp_sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

	count_io(c, n, false);
	return n;
}
