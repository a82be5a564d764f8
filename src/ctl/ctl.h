/* SPDX-License-Identifier: MIT */
/*
 * The control socket: how `wirepath stat`, `wirepath ethtool` and
 * `wirepath sysctl` reach a running stack, as ethtool reaches a NIC's
 * driver and sysctl /proc/sys. One UNIX stream socket per running stack,
 * served by a control thread (not a core thread: a request never runs on
 * the path a packet takes).
 *
 * Where. By default <dir>/<name>.ctl, where <name> is the interface the
 * stack runs on (tap, afpacket, afxdp: --if NAME) or its NIC's name (wp0)
 * and <dir> is /run/wirepath for root, otherwise $XDG_RUNTIME_DIR/wirepath,
 * otherwise /tmp/wirepath-<uid> (created 0700, and refused unless it is a
 * directory of ours that nobody else may write). `--ctl PATH` chooses.
 *
 * Ownership of the path. A socket file whose server has gone (the stack
 * was killed) is stale: connect() on it fails with ECONNREFUSED, and a new
 * stack removes it and binds there. A live one (connect succeeds) is
 * refused: "another stack is using PATH". Anything else at PATH (a
 * regular file, a directory) is never removed. The check-and-bind runs
 * under an flock on PATH.lock, held while the server lives, so two stacks
 * starting together over a stale socket cannot both take it. The socket
 * (mode 0600: the stack's user only) is removed at wp_ctl_stop() if it
 * is still ours (same inode); the lock file stays, as lock files do.
 *
 * The protocol (version 1), small enough to type with socat:
 *
 *   request   one line of at most WP_CTL_LINE_MAX bytes with its "\n":
 *             words separated by blanks. In a word, "%XX" (two hex digits)
 *             stands for the byte 0xXX: a client writes space, tab, '%'
 *             and control bytes that way (sysctl vectors have spaces).
 *   response  lines, each a tag, a space and text:
 *               "> TEXT"   a line of the command's output (its stdout)
 *               "! TEXT"   a message (its stderr, without "wirepath CMD: ")
 *               "= N"      the last line: the exit status, 0, 1 or 2, as
 *                          the command line uses them (tools/cli.h)
 *   Several requests may follow each other on one connection; each gets
 *   its whole response before the next is read. The server closes a
 *   connection idle for WP_CTL_IDLE_SEC, and one whose request line is
 *   too long (after answering "= 2").
 *
 * Requests (the words are the command line's, without --ctl):
 *
 *   version                   "> wirepath-ctl 1 NAME pid PID"
 *   stat [VIEW] [--json]      VIEW: summary (default), interrupts, softnet,
 *                             ethtool, netstat, drops, sockets, arp, route,
 *                             latency. --json: one JSON object per line.
 *   ethtool -c | -g | -l | -x | -S
 *   ethtool -C [rx-usecs N] [rx-frames N] [adaptive-rx on|off]
 *   ethtool -G [rx N] [tx N]
 *   ethtool -L combined N
 *   ethtool -X equal N | -X default
 *   ethtool -k | -K gro on|off     (generic-receive-offload)
 *   sysctl [NAME | NAME=VALUE]...   no NAME: every sysctl, "name = value"
 *   trace ..., capture ...    sampled journeys and pcap taps (trace.c has
 *                             their words); they wait for packets, up to
 *                             their --timeout, and other requests wait
 *                             behind them
 *
 * Status 2: the request does not parse (unknown word, a number that is
 * not one). Status 1: it parses but cannot be done (a value out of the
 * NIC's range, an unknown sysctl, a view the stack cannot show yet);
 * then nothing changed: a request with several settings checks them all
 * before it applies any.
 *
 * Threads. Requests run on the control thread with the stack's control
 * lock held (wp_ctl_lock): ethtool ops are control-path operations, one
 * at a time. A program that changes knobs itself while the server runs
 * (wirepath demo's phases) takes the same lock. Statistics are read from
 * the core threads' counters as they run (each is one aligned word).
 */
#ifndef WP_CTL_CTL_H
#define WP_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct wp_stack;

#define WP_CTL_PROTO_VERSION 1
#define WP_CTL_LINE_MAX 4096	/* request line, "\n" included */
#define WP_CTL_MAX_ARGS 64	/* words in a request */
#define WP_CTL_MAX_CLIENTS 16	/* connections served at once; more wait */
#define WP_CTL_IDLE_SEC 30	/* a connection with no request this long */
#define WP_CTL_TIMEOUT_MS 10000 /* a client waits this long for an answer */

/* --- server ----------------------------------------------------------------
 */

/*
 * Open the control socket at `path` (NULL: the default for this stack,
 * whose directory is created) and start the control thread. The stack
 * may be started before or after. Returns 0, or a negative errno with a
 * message naming the problem and its fix in err:
 *   -EADDRINUSE   another stack is using the path
 *   -EEXIST       something that is not a socket is there
 *   -ENAMETOOLONG the path does not fit a sockaddr_un
 *   -EALREADY     this stack already has a control socket
 *   others        from mkdir, socket, bind, listen, pthread_create
 */
int wp_ctl_start(struct wp_stack *s, const char *path, char *err, size_t len);

/*
 * Stop the control thread (a request in progress finishes first), close
 * every connection and remove the socket. No server: no-op. Call it
 * before wp_stack_stop().
 */
void wp_ctl_stop(struct wp_stack *s);

/* The socket's path, or NULL when no server runs. */
const char *wp_ctl_path(const struct wp_stack *s);

/*
 * The control lock: held by the control thread around each request;
 * anyone else who calls ethtool ops or sysctl sets on the stack while
 * the server runs takes it too. No server: no-op.
 */
void wp_ctl_lock(struct wp_stack *s);
void wp_ctl_unlock(struct wp_stack *s);

/*
 * Run one request in the calling thread, as the server does (the caller
 * holds whatever lock it needs): output lines to out, messages to err.
 * Returns the exit status (0, 1, 2). For tests, and for a host that
 * wants the views without a socket.
 */
int wp_ctl_exec(struct wp_stack *s, int argc, char **argv, FILE *out,
		FILE *err);

/* Server counters, for tests and `stat summary`. */
struct wp_ctl_stats {
	unsigned long long accepted; /* connections */
	unsigned long long requests; /* requests answered */
	unsigned long long failed;   /* ... with a status other than 0 */
	unsigned long long closed_idle;
	unsigned long long closed_long; /* request line too long */
};

/* Zeroes when no server runs. */
void wp_ctl_get_stats(const struct wp_stack *s, struct wp_ctl_stats *st);

/* --- paths -----------------------------------------------------------------
 */

/*
 * The default path for a stack called `name` into buf. create_dir makes
 * the directory (and checks it, see above). 0, or a negative errno with
 * a message in err.
 */
int wp_ctl_default_path(const char *name, bool create_dir, char *buf,
			size_t len, char *err, size_t errlen);

/* The name a stack's default path uses: its --if interface, else wp0. */
const char *wp_ctl_stack_name(const struct wp_stack *s);

/* --- client ----------------------------------------------------------------
 */

/*
 * Which socket a client talks to: `given` (--ctl PATH) if not NULL;
 * otherwise the default for wp0 if it exists; otherwise the only *.ctl
 * in the default directory; otherwise the default for wp0 (so the
 * message names where a stack would be). Never fails with a given path;
 * -EINVAL with a message if several stacks run and none is wp0.
 */
int wp_ctl_client_path(const char *given, char *buf, size_t len, char *err,
		       size_t errlen);

/* Connect to a control socket: a descriptor, or a negative errno
 * (-ENOENT: nothing there; -ECONNREFUSED: a stale socket). */
int wp_ctl_connect(const char *path);

/*
 * Send one request (argv[0..argc), encoded as above) on fd and read its
 * response: "> " lines to out, "! " lines to err with `prefix` in front
 * (e.g. "wirepath ethtool: "). Returns the status (0..2), or a negative
 * errno: -ETIMEDOUT (no answer in timeout_ms), -EPROTO (a line that is
 * not of the protocol), -ECONNRESET (closed before the status),
 * -E2BIG (the request does not fit a line).
 */
int wp_ctl_call(int fd, int argc, char *const argv[], FILE *out, FILE *err,
		const char *prefix, int timeout_ms);

/*
 * The whole client side of a command, with the command line's messages:
 * resolve the path (--ctl), connect, call, and turn transport failures
 * into "wirepath CMD: no stack is running at PATH (start one with
 * wirepath run or wirepath demo)" and the like. Returns the exit status.
 */
int wp_ctl_client_run(const char *cmd, const char *given_path, int argc,
		      char *const argv[]);

/* The stat views, NULL-terminated, "summary" (the default) first. */
extern const char *const wp_ctl_stat_views[];

/* --- ethtool request syntax (shared by the client and the server) ----------
 */

enum wp_ctl_ethtool_op {
	WP_CTL_ETHTOOL_SHOW_COALESCE, /* -c */
	WP_CTL_ETHTOOL_SET_COALESCE,  /* -C */
	WP_CTL_ETHTOOL_SHOW_RING,     /* -g */
	WP_CTL_ETHTOOL_SET_RING,      /* -G */
	WP_CTL_ETHTOOL_SHOW_CHANNELS, /* -l */
	WP_CTL_ETHTOOL_SET_CHANNELS,  /* -L */
	WP_CTL_ETHTOOL_SHOW_RXFH,     /* -x */
	WP_CTL_ETHTOOL_SET_RXFH,      /* -X */
	WP_CTL_ETHTOOL_STATS,	      /* -S */
	WP_CTL_ETHTOOL_SHOW_FEATURES, /* -k */
	WP_CTL_ETHTOOL_SET_FEATURES,  /* -K */
};

struct wp_ctl_ethtool_req {
	enum wp_ctl_ethtool_op op;
	/* -C: which were given, and their values */
	bool has_rx_usecs, has_rx_frames, has_adaptive_rx;
	unsigned long rx_usecs, rx_frames;
	bool adaptive_rx;
	/* -G */
	bool has_rx, has_tx;
	unsigned long rx, tx;
	/* -L combined N, -X equal N */
	unsigned long n;
	bool rxfh_default; /* -X default: equal over every active ring */
	/* -K gro|generic-receive-offload on|off */
	bool has_gro, gro;
	/* -K naming a feature wp0 has fixed (its ethtool -k name): refused */
	const char *fixed;
};

/*
 * Parse "ethtool" words after the command name: argv[0] is the option
 * (-c, -C, ...). Numbers are decimal and must fit an unsigned long; the
 * NIC's ranges are the server's to check (they depend on the stack).
 * 0, or -EINVAL with "what is wrong (expected ...)" in err.
 */
int wp_ctl_ethtool_parse(int argc, char *const argv[],
			 struct wp_ctl_ethtool_req *req, char *err,
			 size_t errlen);

#endif
