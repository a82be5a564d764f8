// SPDX-License-Identifier: MIT
/*
 * The control socket's client side: finding the socket, sending a
 * request, and turning the response back into stdout, stderr and an
 * exit status, as if the command had run in the stack's own process.
 */
#include "ctl/ctl_priv.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

#define RESPONSE_LINE_MAX (1u << 20)

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

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int wp_ctl_client_path(const char *given, char *buf, size_t len, char *err,
		       size_t errlen)
{
	char dir[PATH_MAX], list[256] = "", found[PATH_MAX] = "";
	unsigned nfound = 0;
	struct dirent *e;
	char *slash;
	DIR *d;
	int ret;

	if (given) {
		if (strlen(given) >= len) {
			set_err(err, errlen, "--ctl %s: the path is too long",
				given);
			return -ENAMETOOLONG;
		}
		memcpy(buf, given, strlen(given) + 1);
		return 0;
	}
	ret = wp_ctl_default_path("wp0", false, buf, len, err, errlen);
	if (ret || is_socket(buf))
		return ret;
	/* Not wp0: the one stack running, if there is only one. */
	snprintf(dir, sizeof(dir), "%s", buf);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char p[PATH_MAX];

		if (n < 5 || strcmp(e->d_name + n - 4, ".ctl") != 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >=
			    (int)sizeof(p) ||
		    !is_socket(p))
			continue;
		if (nfound++ == 0)
			snprintf(found, sizeof(found), "%s", p);
		if (strlen(list) + n + 2 < sizeof(list))
			snprintf(list + strlen(list),
				 sizeof(list) - strlen(list), "%s%s",
				 list[0] ? " " : "", e->d_name);
	}
	closedir(d);
	if (nfound == 1 && strlen(found) < len) {
		memcpy(buf, found, strlen(found) + 1);
	} else if (nfound > 1) {
		set_err(err, errlen,
			"several stacks are running (%s in %s): choose one "
			"with --ctl PATH",
			list, dir);
		return -EINVAL;
	}
	return 0;
}

int wp_ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	/* connect() on a server whose backlog is full waits, up to this. */
	struct timeval tv = { WP_CTL_TIMEOUT_MS / 1000,
			      (WP_CTL_TIMEOUT_MS % 1000) * 1000 };
	size_t n = strlen(path);
	int fd;

	if (n == 0 || n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return e == EAGAIN ? -ETIMEDOUT : -e;
	}
	return fd;
}

/* The request line: words joined by spaces, "%XX" for what a word may
 * not hold as is. Returns its length, or -E2BIG / -EINVAL (empty word). */
static int encode(int argc, char *const argv[], char *line, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		const unsigned char *p = (const unsigned char *)argv[i];

		if (!*p)
			return -EINVAL;
		if (i && n < len)
			line[n++] = ' ';
		for (; *p; p++) {
			bool esc = *p <= ' ' || *p == '%' || *p == 0x7f;

			if (n + (esc ? 3 : 1) + 1 > len)
				return -E2BIG;
			if (esc) {
				line[n++] = '%';
				line[n++] = hex[*p >> 4];
				line[n++] = hex[*p & 15];
			} else {
				line[n++] = (char)*p;
			}
		}
	}
	if (n + 1 > len)
		return -E2BIG;
	line[n++] = '\n';
	return (int)n;
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = wp_time_real_ns();

	if (now >= deadline)
		return 0;
	return (int)((deadline - now + 999999) / 1000000);
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;
		int ms = remaining_ms(deadline);

		if (ms == 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, ms) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

/* One response line: > and ! are written out, = ends it. */
static int handle_line(const char *l, size_t n, FILE *out, FILE *err,
		       const char *prefix, int *status)
{
	if (n >= 1 && (l[0] == '>' || l[0] == '!') && (n == 1 || l[1] == ' ')) {
		const char *text = n > 1 ? l + 2 : "";
		int tn = n > 1 ? (int)(n - 2) : 0;

		if (l[0] == '>')
			fprintf(out, "%.*s\n", tn, text);
		else
			fprintf(err, "%s%.*s\n", prefix ? prefix : "", tn,
				text);
		return 0;
	}
	if (n >= 3 && n <= 5 && l[0] == '=' && l[1] == ' ') {
		int v = 0;

		for (size_t i = 2; i < n; i++) {
			if (l[i] < '0' || l[i] > '9')
				return -EPROTO;
			v = v * 10 + (l[i] - '0');
		}
		if (v > 255)
			return -EPROTO;
		*status = v;
		return 1;
	}
	return -EPROTO;
}

int wp_ctl_call(int fd, int argc, char *const argv[], FILE *out, FILE *err,
		const char *prefix, int timeout_ms)
{
	uint64_t deadline = wp_time_real_ns() + (uint64_t)timeout_ms * 1000000u;
	char line[WP_CTL_LINE_MAX];
	size_t cap = 4096, len = 0;
	char *buf;
	int n, ret, status = -1;

	n = encode(argc, argv, line, sizeof(line));
	if (n < 0)
		return n;
	ret = send_all(fd, line, (size_t)n, deadline);
	if (ret)
		return ret;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t got;
		int ms;

		/* Every complete line first. */
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			size_t ln = (size_t)(nl - buf);

			ret = handle_line(buf, ln, out, err, prefix, &status);
			memmove(buf, nl + 1, len - ln - 1);
			len -= ln + 1;
			if (ret)
				goto out;
		}
		if (len == cap) {
			char *nb;

			if (cap >= RESPONSE_LINE_MAX) {
				ret = -EPROTO;
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		ms = remaining_ms(deadline);
		if (ms == 0) {
			ret = -ETIMEDOUT;
			goto out;
		}
		if (poll(&p, 1, ms) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (!p.revents)
			continue;
		got = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (got == 0) {
			ret = -ECONNRESET;
			goto out;
		}
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		len += (size_t)got;
	}
out:
	free(buf);
	return ret == 1 ? status : ret;
}

int wp_ctl_client_run(const char *cmd, const char *given_path, int argc,
		      char *const argv[])
{
	char path[PATH_MAX], msg[512], prefix[64];
	int fd, st;

	if (wp_ctl_client_path(given_path, path, sizeof(path), msg,
			       sizeof(msg))) {
		fprintf(stderr, "wirepath %s: %s\n", cmd, msg);
		return 1;
	}
	fd = wp_ctl_connect(path);
	if (fd < 0) {
		switch (-fd) {
		case ENOENT:
		case ECONNREFUSED:
		case ENOTDIR:
			fprintf(stderr,
				"wirepath %s: no stack is running at %s (start "
				"one with wirepath run or wirepath demo)\n",
				cmd, path);
			break;
		case EACCES:
		case EPERM:
			fprintf(stderr,
				"wirepath %s: cannot connect to %s: %s (run as "
				"the user who started the stack)\n",
				cmd, path, strerror(-fd));
			break;
		case ETIMEDOUT:
			fprintf(stderr,
				"wirepath %s: the stack at %s accepts no "
				"connection: is it stopped or overloaded?\n",
				cmd, path);
			break;
		default:
			fprintf(stderr,
				"wirepath %s: cannot connect to %s: %s (is "
				"--ctl PATH a control socket?)\n",
				cmd, path, strerror(-fd));
		}
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "wirepath %s: ", cmd);
	st = wp_ctl_call(fd, argc, argv, stdout, stderr, prefix,
			 WP_CTL_TIMEOUT_MS);
	close(fd);
	if (st >= 0)
		return st;
	switch (-st) {
	case ETIMEDOUT:
		fprintf(stderr,
			"wirepath %s: the stack at %s did not answer within %d "
			"s: is it stopped or overloaded?\n",
			cmd, path, WP_CTL_TIMEOUT_MS / 1000);
		break;
	case ECONNRESET:
		fprintf(stderr,
			"wirepath %s: the stack at %s closed the connection "
			"before answering (did it stop?)\n",
			cmd, path);
		break;
	case EPROTO:
		fprintf(stderr,
			"wirepath %s: %s answered in a protocol this wirepath "
			"does not speak (is it a wirepath control socket of "
			"the same version?)\n",
			cmd, path);
		break;
	case E2BIG:
		fprintf(stderr,
			"wirepath %s: the request is longer than %d bytes: "
			"shorten it\n",
			cmd, WP_CTL_LINE_MAX);
		break;
	default:
		fprintf(stderr, "wirepath %s: talking to %s: %s\n", cmd, path,
			strerror(-st));
	}
	return 1;
}
