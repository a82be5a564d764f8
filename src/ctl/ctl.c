// SPDX-License-Identifier: MIT
/*
 * The control socket's server: where the socket lives, who owns the
 * path, and the control thread that answers requests (the protocol is
 * in ctl.h; the requests themselves in views.c and knobs.c).
 *
 * The control thread is one poll() loop over the listening socket, a
 * stop eventfd and at most WP_CTL_MAX_CLIENTS connections, all
 * non-blocking: a client that sends half a line or stops reading holds
 * only its own slot (until WP_CTL_IDLE_SEC), never the thread. A request
 * runs to the end under the control lock; its response is rendered into
 * memory first and then written as the client takes it, and the next
 * request on that connection is read only once the response is out, so
 * a connection holds one response at a time. Every signal is blocked on
 * the thread: SIGINT and SIGTERM belong to the program's main thread.
 */
#include "ctl/ctl_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stack/stack.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define ACCEPT_PAUSE_NS (100 * 1000 * 1000ull)

struct ctl_conn {
	int fd; /* -1: a free slot */
	char in[WP_CTL_LINE_MAX];
	size_t in_len;
	char *out; /* the response being written, or NULL */
	size_t out_len, out_off;
	uint64_t last_ns; /* accepted, or last read or written */
	bool eof;	  /* the peer shut its side (or is cut off) */
};

struct wp_ctl {
	struct wp_stack *s;
	char path[SUN_PATH_MAX];
	int lfd, lock_fd, stop_fd;
	dev_t dev; /* the socket file we bound, so that stop */
	ino_t ino; /* removes ours and nobody else's */
	pthread_t thread;
	pthread_mutex_t lock; /* the control lock (wp_ctl_lock) */
	struct ctl_conn conn[WP_CTL_MAX_CLIENTS];
	uint64_t accept_pause_until; /* control thread only */
	_Atomic unsigned long long accepted, requests, failed, closed_idle,
		closed_long;
};

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* --- paths -------------------------------------------------------------------
 */

const char *wp_ctl_stack_name(const struct wp_stack *s)
{
	if (s->cfg.ifname && s->cfg.ifname[0])
		return s->cfg.ifname;
	return s->nic->name;
}

/*
 * The directory must be ours and writable by nobody else: a socket in a
 * directory another user controls could be swapped under us.
 */
static int make_dir(const char *dir, mode_t mode, char *err, size_t len)
{
	struct stat st;

	if (mkdir(dir, mode) != 0 && errno != EEXIST) {
		int e = errno;

		set_err(err, len,
			"cannot create the directory %s: %s (give --ctl PATH)",
			dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st) != 0) {
		int e = errno;

		set_err(err, len, "cannot stat %s: %s (give --ctl PATH)", dir,
			strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		set_err(err, len,
			"%s is not a private directory of user %u (owner %u, "
			"mode %03o): remove it, or give --ctl PATH",
			dir, (unsigned)geteuid(), (unsigned)st.st_uid,
			(unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

int wp_ctl_default_path(const char *name, bool create_dir, char *buf,
			size_t len, char *err, size_t errlen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX];
	mode_t mode = 0700;
	int n, ret;

	if (!name || !name[0] || name[0] == '.' || strchr(name, '/')) {
		set_err(err, errlen, "'%s' cannot name a control socket",
			name ? name : "");
		return -EINVAL;
	}
	if (geteuid() == 0) {
		snprintf(dir, sizeof(dir), "/run/wirepath");
		mode = 0755;
	} else if (xdg && xdg[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/wirepath", xdg);
		if (n < 0 || (size_t)n >= sizeof(dir)) {
			set_err(err, errlen,
				"$XDG_RUNTIME_DIR is too long: give --ctl "
				"PATH");
			return -ENAMETOOLONG;
		}
	} else {
		snprintf(dir, sizeof(dir), "/tmp/wirepath-%u",
			 (unsigned)geteuid());
	}
	if (create_dir) {
		ret = make_dir(dir, mode, err, errlen);
		if (ret)
			return ret;
	}
	n = snprintf(buf, len, "%s/%s.ctl", dir, name);
	if (n < 0 || (size_t)n >= len) {
		set_err(err, errlen, "the path %s/%s.ctl is too long", dir,
			name);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* --- owning the path
 * -----------------------------------------------------------
 */

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/*
 * Is a server listening at path? Non-blocking, so a server whose backlog
 * is full (EAGAIN) counts as alive rather than hanging us. 0: alive;
 * -ECONNREFUSED: a stale socket; other negative errnos as connect says.
 */
static int probe(const char *path)
{
	struct sockaddr_un sa;
	int fd, ret = unix_addr(path, &sa);

	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	close(fd);
	if (ret == -EAGAIN || ret == -EINPROGRESS)
		ret = 0;
	return ret;
}

/*
 * Take path.lock (held while the server lives), then the path itself:
 * absent, or a stale socket we remove; a live socket or anything that
 * is not a socket is refused.
 */
static int take_path(struct wp_ctl *c, const char *path, char *err, size_t len)
{
	char lock[PATH_MAX];
	struct stat st;
	int ret;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	c->lock_fd =
		open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->lock_fd < 0) {
		ret = -errno;
		set_err(err, len,
			"cannot create %s: %s (does the directory exist and "
			"may you write there? or choose another --ctl PATH)",
			lock, strerror(-ret));
		return ret;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		ret = -errno;
		if (ret == -EWOULDBLOCK) {
			set_err(err, len,
				"another stack is using %s: stop it, or give "
				"this one another --ctl PATH",
				path);
			return -EADDRINUSE;
		}
		set_err(err, len, "cannot lock %s: %s", lock, strerror(-ret));
		return ret;
	}
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		set_err(err, len, "cannot stat %s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		set_err(err, len,
			"%s exists and is not a socket: remove it or choose "
			"another --ctl PATH",
			path);
		return -EEXIST;
	}
	ret = probe(path);
	if (ret == 0) {
		set_err(err, len,
			"another stack is using %s: stop it, or give this one "
			"another --ctl PATH",
			path);
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED && ret != -ENOENT) {
		set_err(err, len, "cannot tell whether %s is in use: %s", path,
			strerror(-ret));
		return ret;
	}
	/* Stale: the stack that bound it is gone. */
	if (unlink(path) != 0 && errno != ENOENT) {
		ret = -errno;
		set_err(err, len, "cannot remove the stale socket %s: %s", path,
			strerror(-ret));
		return ret;
	}
	return 0;
}

static int listen_at(struct wp_ctl *c, const char *path, char *err, size_t len)
{
	struct sockaddr_un sa;
	struct stat st;
	int ret = unix_addr(path, &sa);

	if (ret)
		return ret;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0)
		goto out_errno;
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out_errno;
	/* Only the stack's user may tune it. */
	if (chmod(path, 0600) != 0 || lstat(path, &st) != 0 ||
	    listen(c->lfd, WP_CTL_MAX_CLIENTS) != 0) {
		ret = -errno;
		unlink(path);
		goto out_msg;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return 0;

out_errno:
	ret = -errno;
out_msg:
	set_err(err, len,
		"cannot create the control socket %s: %s (choose another --ctl "
		"PATH)",
		path, strerror(-ret));
	return ret;
}

/* --- connections
 * ---------------------------------------------------------------
 */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "%XX" escapes, in place. A NUL byte is refused: words are C strings. */
static int decode_word(char *w)
{
	char *o = w;

	for (char *p = w; *p; p++) {
		int hi, lo;

		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		hi = hexval(p[1]);
		lo = hi < 0 ? -1 : hexval(p[2]);
		if (lo < 0 || (hi | lo) == 0)
			return -EINVAL;
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	return 0;
}

/* Each line of buf as "TAG text\n". */
static void tag_lines(FILE *f, char tag, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		fprintf(f, "%c %.*s\n", tag, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* Split, decode, run; 0 or -1 with errno (ENOMEM). */
static int run_request(struct wp_ctl *c, char *line, FILE *out, FILE *err)
{
	char *argv[WP_CTL_MAX_ARGS + 1];
	int argc = 0, status;
	char *save, *w;

	for (w = strtok_r(line, " \t\r", &save); w;
	     w = strtok_r(NULL, " \t\r", &save)) {
		if (argc == WP_CTL_MAX_ARGS) {
			fprintf(err, "more than %d words in a request\n",
				WP_CTL_MAX_ARGS);
			return 2;
		}
		if (decode_word(w)) {
			fprintf(err,
				"bad escape in '%s' (expected %%XX, two hex "
				"digits, not %%00)\n",
				w);
			return 2;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	pthread_mutex_lock(&c->lock);
	status = wp_ctl_exec(c->s, argc, argv, out, err);
	pthread_mutex_unlock(&c->lock);
	return status;
}

/* Answer one request line into k->out. -ENOMEM: nothing to send. */
static int respond(struct wp_ctl *c, struct ctl_conn *k, char *line)
{
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	FILE *out = open_memstream(&obuf, &olen);
	FILE *err = open_memstream(&ebuf, &elen);
	FILE *resp = NULL;
	int status, ret = -ENOMEM;

	if (!out || !err)
		goto out_close;
	status = run_request(c, line, out, err);
	if (fclose(out) | fclose(err)) {
		out = err = NULL;
		goto out_close;
	}
	out = err = NULL;
	resp = open_memstream(&k->out, &k->out_len);
	if (!resp)
		goto out_close;
	tag_lines(resp, '>', obuf, olen);
	tag_lines(resp, '!', ebuf, elen);
	fprintf(resp, "= %d\n", status);
	if (fclose(resp) != 0) {
		free(k->out);
		k->out = NULL;
		goto out_close;
	}
	k->out_off = 0;
	atomic_fetch_add(&c->requests, 1);
	if (status)
		atomic_fetch_add(&c->failed, 1);
	ret = 0;
out_close:
	if (out)
		fclose(out);
	if (err)
		fclose(err);
	free(obuf);
	free(ebuf);
	return ret;
}

static void conn_close(struct ctl_conn *k)
{
	close(k->fd);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

/* Send what the client will take now; false: the connection is gone. */
static bool conn_write(struct ctl_conn *k, uint64_t now)
{
	while (k->out && k->out_off < k->out_len) {
		ssize_t n = send(k->fd, k->out + k->out_off,
				 k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			return false;
		}
		k->out_off += (size_t)n;
		k->last_ns = now;
	}
	free(k->out);
	k->out = NULL;
	return true;
}

/*
 * Answer the complete lines waiting in k->in, one response at a time.
 * false: the connection is to be closed now.
 */
static bool conn_process(struct wp_ctl *c, struct ctl_conn *k, uint64_t now)
{
	while (!k->out) {
		char *nl = memchr(k->in, '\n', k->in_len);
		size_t used;

		if (!nl && k->in_len == sizeof(k->in)) {
			/* No line fits: answer, then cut the peer off. */
			static char too_long[] =
				"! request longer than 4096 bytes\n= 2\n";

			_Static_assert(WP_CTL_LINE_MAX == 4096, "message");
			k->out = malloc(sizeof(too_long) - 1);
			if (!k->out)
				return false;
			memcpy(k->out, too_long, sizeof(too_long) - 1);
			k->out_len = sizeof(too_long) - 1;
			k->out_off = 0;
			k->in_len = 0;
			k->eof = true;
			atomic_fetch_add(&c->closed_long, 1);
			break;
		}
		if (!nl && !(k->eof && k->in_len))
			break;
		/* A last line without "\n" before EOF is a request too. */
		used = nl ? (size_t)(nl - k->in) + 1 : k->in_len;
		if (nl)
			*nl = '\0';
		else
			k->in[k->in_len] =
				'\0'; /* < sizeof(k->in): see above */
		if (respond(c, k, k->in))
			return false;
		memmove(k->in, k->in + used, k->in_len - used);
		k->in_len -= used;
		k->last_ns = now;
		if (!conn_write(k, now))
			return false;
	}
	return !(k->eof && !k->out && k->in_len == 0);
}

static bool conn_read(struct ctl_conn *k, uint64_t now)
{
	while (k->in_len < sizeof(k->in) && !k->eof) {
		ssize_t n = recv(k->fd, k->in + k->in_len,
				 sizeof(k->in) - k->in_len, MSG_DONTWAIT);

		if (n == 0) {
			k->eof = true;
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return false;
		}
		k->in_len += (size_t)n;
		k->last_ns = now;
	}
	return true;
}

/*
 * Take waiting connections into free slots. A failure other than "none
 * left" (EMFILE, ENOBUFS: the connection stays queued) pauses accepting
 * for a moment, or the readable listening socket would spin the thread.
 */
static void accept_all(struct wp_ctl *c, uint64_t now)
{
	for (;;) {
		struct ctl_conn *k = NULL;
		int fd;

		for (int i = 0; i < WP_CTL_MAX_CLIENTS && !k; i++)
			if (c->conn[i].fd < 0)
				k = &c->conn[i];
		if (!k)
			return; /* the rest wait in the backlog */
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				c->accept_pause_until = now + ACCEPT_PAUSE_NS;
			return;
		}
		k->fd = fd;
		k->last_ns = now;
		atomic_fetch_add(&c->accepted, 1);
	}
}

static void *ctl_thread(void *arg)
{
	struct wp_ctl *c = arg;
	struct pollfd pfd[2 + WP_CTL_MAX_CLIENTS];
	int slot[2 + WP_CTL_MAX_CLIENTS];
	const uint64_t idle_ns = (uint64_t)WP_CTL_IDLE_SEC * 1000000000ull;

	for (;;) {
		nfds_t n = 0;
		int free_slots = 0;
		bool pausing;
		uint64_t now;

		pfd[n++] =
			(struct pollfd){ .fd = c->stop_fd, .events = POLLIN };
		for (int i = 0; i < WP_CTL_MAX_CLIENTS; i++) {
			struct ctl_conn *k = &c->conn[i];

			if (k->fd < 0) {
				free_slots++;
				continue;
			}
			slot[n] = i;
			pfd[n++] = (struct pollfd){
				.fd = k->fd,
				.events = k->out ? POLLOUT : POLLIN,
			};
		}
		/* Full, or pausing: leave new connections in the backlog. */
		pausing = wp_time_real_ns() < c->accept_pause_until;
		slot[n] = -1;
		pfd[n++] = (struct pollfd){
			.fd = free_slots && !pausing ? c->lfd : -1,
			.events = POLLIN,
		};
		if (poll(pfd, n, pausing ? 100 : 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		now = wp_time_real_ns();
		for (nfds_t i = 1; i < n; i++) {
			struct ctl_conn *k;

			if (slot[i] < 0)
				continue;
			k = &c->conn[slot[i]];
			if ((pfd[i].revents & POLLOUT) && !conn_write(k, now)) {
				conn_close(k);
				continue;
			}
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !conn_read(k, now)) {
				conn_close(k);
				continue;
			}
			if (!conn_process(c, k, now))
				conn_close(k);
		}
		for (int i = 0; i < WP_CTL_MAX_CLIENTS; i++) {
			struct ctl_conn *k = &c->conn[i];

			if (k->fd >= 0 && now - k->last_ns > idle_ns) {
				conn_close(k);
				atomic_fetch_add(&c->closed_idle, 1);
			}
		}
		if (pfd[n - 1].revents)
			accept_all(c, now);
	}
	for (int i = 0; i < WP_CTL_MAX_CLIENTS; i++)
		if (c->conn[i].fd >= 0)
			conn_close(&c->conn[i]);
	return NULL;
}

/* --- lifetime ----------------------------------------------------------------
 */

static void ctl_free(struct wp_ctl *c)
{
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	/* Last: the lock is what keeps a starting stack off our path. */
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c);
}

int wp_ctl_start(struct wp_stack *s, const char *path, char *err, size_t len)
{
	char def[PATH_MAX];
	sigset_t all, old;
	struct wp_ctl *c;
	int ret;

	set_err(err, len, "%s", "");
	if (s->ctl) {
		set_err(err, len,
			"this stack already has a control socket (%s)",
			s->ctl->path);
		return -EALREADY;
	}
	if (!path) {
		ret = wp_ctl_default_path(wp_ctl_stack_name(s), true, def,
					  sizeof(def), err, len);
		if (ret)
			return ret;
		path = def;
	}
	if (!path[0] || strlen(path) >= SUN_PATH_MAX) {
		set_err(err, len,
			"control socket path '%s': must be 1..%zu bytes (a "
			"UNIX socket's limit); choose a shorter --ctl PATH",
			path, SUN_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(err, len, "out of memory");
		return -ENOMEM;
	}
	c->s = s;
	c->lfd = c->lock_fd = c->stop_fd = -1;
	for (int i = 0; i < WP_CTL_MAX_CLIENTS; i++)
		c->conn[i].fd = -1;
	memcpy(c->path, path, strlen(path) + 1);

	ret = take_path(c, path, err, len);
	if (ret)
		goto out_free;
	ret = listen_at(c, path, err, len);
	if (ret)
		goto out_free;
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0) {
		ret = -errno;
		set_err(err, len, "eventfd: %s", strerror(-ret));
		goto out_unlink;
	}
	pthread_mutex_init(&c->lock, NULL);
	/* The thread inherits this mask: no signal is ever delivered to it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&c->thread, NULL, ctl_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		set_err(err, len, "cannot start the control thread: %s",
			strerror(-ret));
		pthread_mutex_destroy(&c->lock);
		goto out_unlink;
	}
	s->ctl = c;
	return 0;

out_unlink:
	unlink(path);
out_free:
	ctl_free(c);
	return ret;
}

void wp_ctl_stop(struct wp_stack *s)
{
	struct wp_ctl *c = s->ctl;
	uint64_t one = 1;
	struct stat st;

	if (!c)
		return;
	while (write(c->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(c->thread, NULL);
	close(c->lfd);
	c->lfd = -1;
	/* Still ours? An operator may have removed it and started another
	 * stack there meanwhile (not under our lock, but possible). */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	pthread_mutex_destroy(&c->lock);
	s->ctl = NULL;
	ctl_free(c);
}

const char *wp_ctl_path(const struct wp_stack *s)
{
	return s->ctl ? s->ctl->path : NULL;
}

void wp_ctl_lock(struct wp_stack *s)
{
	if (s->ctl)
		pthread_mutex_lock(&s->ctl->lock);
}

void wp_ctl_unlock(struct wp_stack *s)
{
	if (s->ctl)
		pthread_mutex_unlock(&s->ctl->lock);
}

void wp_ctl_get_stats(const struct wp_stack *s, struct wp_ctl_stats *st)
{
	struct wp_ctl *c = s->ctl;

	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	st->accepted = atomic_load(&c->accepted);
	st->requests = atomic_load(&c->requests);
	st->failed = atomic_load(&c->failed);
	st->closed_idle = atomic_load(&c->closed_idle);
	st->closed_long = atomic_load(&c->closed_long);
}
