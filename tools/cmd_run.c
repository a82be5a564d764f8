// SPDX-License-Identifier: MIT
/*
 * wirepath run: a whole stack on a wire, as a host.
 *
 *   pcap:       virtual time; frames arrive at their recorded times, what
 *               the stack sends is written out; the run ends when the
 *               input is done and the linger has passed (exit 0).
 *   sim, tap,
 *   afpacket,
 *   afxdp:      real time, core threads and the backend's firmware, until
 *               SIGINT or SIGTERM; then a clean stop (exit 0).
 * A short summary goes to stderr at the end; --stats adds the counters
 * (netstat -s, ip neigh, ip route, drop reasons) so scripts can check a
 * run.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../apps/app.h"
#include "api/api.h"
#include "cli.h"
#include "ctl/ctl.h"
#include "stack/stack.h"
#include "tcp/tcp.h"

static const char usage[] =
	"usage: wirepath run --backend sim|pcap|tap|afpacket|afxdp\n"
	"                    --addr A.B.C.D/N\n"
	"                    [--gw A.B.C.D] [--mac MAC] [--mtu N]\n"
	"                    [--static-arp IP=MAC]... [--vlan-drop]\n"
	"                    [--queues N] [--cores N] [--busy-poll] [--stats]\n"
	"                    [--ctl PATH] [--app SPEC]...\n"
	"                    [backend options]\n"
	"\n"
	"Run a stack as a host on a wire: it answers ARP and ping, sends ICMP\n"
	"errors, carries UDP and TCP to sockets and runs applications on "
	"them.\n"
	"Runs until SIGINT or SIGTERM, then closes its connections and\n"
	"releases its devices; with --backend pcap, on virtual time until the\n"
	"input is done.\n"
	"\n"
	"interface:\n"
	"  --addr A.B.C.D/N      address and prefix length (required)\n"
	"  --gw A.B.C.D          default gateway, on the subnet\n"
	"  --mac MAC             the NIC's address (default "
	"02:00:00:00:00:02;\n"
	"                        afpacket: the interface's own, tap: one\n"
	"                        seeded by --seed and the interface name)\n"
	"  --mtu N               68..9000 (default 1500)\n"
	"  --static-arp IP=MAC   a permanent neighbour; repeatable, at most "
	"16\n"
	"  --vlan-drop           drop 802.1Q-tagged frames (default: strip "
	"the\n"
	"                        tag)\n"
	"cores:\n"
	"  --queues N            RX/TX queue pairs, 1..16 (default 1)\n"
	"  --cores N             core threads, 1..queues (default 1)\n"
	"  --busy-poll           cores poll instead of taking interrupts\n"
	"backend options:\n"
	"  pcap: --pcap-in FILE  frames to receive, at their recorded times\n"
	"        --pcap-out FILE what the stack transmits\n"
	"        --linger S      virtual time after the last input frame\n"
	"                        (default 1s)\n"
	"  sim:  --rate PPS [--size BYTES] [--flows N] [--burst ON_US:OFF_US]\n"
	"        [--seed N]      UDP to ADDR:9 from 10.0.1.x (no socket "
	"there:\n"
	"                        ICMP port unreachable, rate-limited)\n"
	"  tap, afpacket, afxdp: --if NAME\n"
	"  afxdp: --queue Q      the interface's queue for NIC queue 0 (NIC\n"
	"                        queue i: Q + i; default 0)\n"
	"         --copy | --zerocopy\n"
	"                        bind in copy mode, or zero copy or nothing\n"
	"                        (default: zero copy where the driver has it)\n"
	"control:\n"
	"  --ctl PATH            the control socket for wirepath stat, "
	"ethtool\n"
	"                        and sysctl (default: NAME.ctl, NAME the --if\n"
	"                        interface or wp0, in /run/wirepath for root,\n"
	"                        else $XDG_RUNTIME_DIR/wirepath or\n"
	"                        /tmp/wirepath-UID); not with pcap, which "
	"runs\n"
	"                        on virtual time\n"
	"applications (each on its own thread, on the socket API):\n"
	"  --app udp-echo:PORT   echo every datagram to its sender (RFC 862)\n"
	"  --app udp-sink:PORT   read and count every datagram (RFC 863)\n"
	"  --app tcp-echo:PORT   echo every byte on its connection (RFC 862)\n"
	"  --app tcp-sink:PORT   read and count every byte (RFC 863)\n"
	"  --app tcp-source:PORT send the RFC 864 character stream until the\n"
	"                        peer closes (downloads)\n"
	"  --app http:PORT[:DIR] HTTP/1.1 (GET, HEAD, keep-alive): with DIR\n"
	"                        the files under DIR (index.html for a\n"
	"                        directory, Range, If-Modified-Since; never\n"
	"                        a file outside DIR); without, GET / (a\n"
	"                        page), GET /bytes/N (N bytes of the RFC 864\n"
	"                        stream)\n"
	"  --app iperf3:PORT     an iperf3 server (iperf3 -s; TCP and UDP\n"
	"                        tests, -R, -P): iperf3 -c ADDR -p PORT\n"
	"  --app sockperf:PORT   a sockperf server (UDP and TCP): sockperf\n"
	"                        ping-pong|under-load -i ADDR -p PORT\n"
	"                        repeatable, at most 16; TCP applications\n"
	"                        serve up to 512 connections each from one\n"
	"                        thread (epoll); with pcap the clock waits\n"
	"                        for them between steps\n"
	"output:\n"
	"  --stats               at the end, print netstat -s, ip neigh,\n"
	"                        ip route, the drop reasons and the socket\n"
	"                        counters on stderr\n";

static int run_main(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_run, "run",
		"run a stack as a host on a wire (sim, pcap, tap, afpacket, "
		"afxdp)",
		usage, run_main)

enum {
	OPT_BACKEND,
	OPT_ADDR,
	OPT_GW,
	OPT_MAC,
	OPT_MTU,
	OPT_STATIC_ARP,
	OPT_VLAN_DROP,
	OPT_QUEUES,
	OPT_CORES,
	OPT_BUSY_POLL,
	OPT_PCAP_IN,
	OPT_PCAP_OUT,
	OPT_LINGER,
	OPT_RATE,
	OPT_SIZE,
	OPT_FLOWS,
	OPT_BURST,
	OPT_SEED,
	OPT_IF,
	OPT_QUEUE,
	OPT_COPY,
	OPT_ZEROCOPY,
	OPT_STATS,
	OPT_CTL,
	OPT_APP,
};

static const struct wp_opt opts[] = {
	{ "backend", 0, true, OPT_BACKEND },
	{ "addr", 0, true, OPT_ADDR },
	{ "gw", 0, true, OPT_GW },
	{ "mac", 0, true, OPT_MAC },
	{ "mtu", 0, true, OPT_MTU },
	{ "static-arp", 0, true, OPT_STATIC_ARP },
	{ "vlan-drop", 0, false, OPT_VLAN_DROP },
	{ "queues", 0, true, OPT_QUEUES },
	{ "cores", 0, true, OPT_CORES },
	{ "busy-poll", 0, false, OPT_BUSY_POLL },
	{ "pcap-in", 0, true, OPT_PCAP_IN },
	{ "pcap-out", 0, true, OPT_PCAP_OUT },
	{ "linger", 0, true, OPT_LINGER },
	{ "rate", 0, true, OPT_RATE },
	{ "size", 0, true, OPT_SIZE },
	{ "flows", 0, true, OPT_FLOWS },
	{ "burst", 0, true, OPT_BURST },
	{ "seed", 0, true, OPT_SEED },
	{ "if", 0, true, OPT_IF },
	{ "queue", 0, true, OPT_QUEUE },
	{ "copy", 0, false, OPT_COPY },
	{ "zerocopy", 0, false, OPT_ZEROCOPY },
	{ "stats", 0, false, OPT_STATS },
	{ "ctl", 0, true, OPT_CTL },
	{ "app", 0, true, OPT_APP },
	{ NULL, 0, false, 0 },
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

#define RUN_APPS_MAX 16

struct run_app {
	const struct wp_app_type *type;
	uint16_t port;
	const char *arg; /* NAME:PORT:ARG (http's DIR), or NULL */
};

struct run_opts {
	struct wp_stack_config cfg;
	struct run_app app[RUN_APPS_MAX]; /* --app SPEC */
	unsigned napps;
	bool have_addr;
	bool stats;
	const char *ctl; /* --ctl PATH */
	/* which options were given, to refuse those of another backend */
	bool pcap_opts, sim_opts, if_opt, xdp_opts, copy, zerocopy;
};

/* "IP=MAC" into the next static entry. */
static int parse_static_arp(const char *what, const char *s,
			    struct wp_stack_config *cfg)
{
	const char *eq = strchr(s, '=');
	char ip[32];
	uint32_t n = cfg->nstatic_arp;

	if (n == WP_STACK_STATIC_ARP_MAX) {
		wp_cli_bad_value("run", what, "at most 16 of them",
				 "one too many");
		return -EINVAL;
	}
	if (!eq || (size_t)(eq - s) >= sizeof(ip)) {
		wp_cli_bad_value("run", what, "IP=MAC", "'%s'", s);
		return -EINVAL;
	}
	memcpy(ip, s, (size_t)(eq - s));
	ip[eq - s] = '\0';
	if (wp_parse_ipv4("run", what, ip, &cfg->static_arp[n].ip) ||
	    wp_parse_mac("run", what, eq + 1, cfg->static_arp[n].mac))
		return -EINVAL;
	cfg->nstatic_arp = n + 1;
	return 0;
}

static int parse_burst(const char *what, const char *s,
		       struct wp_stack_config *cfg)
{
	const char *colon = strchr(s, ':');
	char on[24];

	if (!colon || (size_t)(colon - s) >= sizeof(on)) {
		wp_cli_bad_value("run", what, "ON_US:OFF_US", "'%s'", s);
		return -EINVAL;
	}
	memcpy(on, s, (size_t)(colon - s));
	on[colon - s] = '\0';
	if (wp_parse_u32("run", what, on, WP_UNIT_NONE, 1, 10000000,
			 &cfg->burst_on_us) ||
	    wp_parse_u32("run", what, colon + 1, WP_UNIT_NONE, 1, 10000000,
			 &cfg->burst_off_us))
		return -EINVAL;
	return 0;
}

/* One option; WP_EXIT_OK to go on, else the exit status. */
static int parse_one(struct wp_args *a, int id, struct run_opts *o)
{
	struct wp_stack_config *c = &o->cfg;
	uint32_t v32;
	unsigned plen;

	switch (id) {
	case OPT_BACKEND:
		c->backend = a->arg;
		return WP_EXIT_OK;
	case OPT_ADDR:
		if (wp_parse_ipv4_prefix("run", a->opt, a->arg, false, &c->addr,
					 &plen))
			return WP_EXIT_USAGE;
		if (plen < 1)
			return wp_cli_bad_value("run", a->opt,
						"a prefix length 1..32", "'%s'",
						a->arg);
		c->prefix_len = (uint8_t)plen;
		o->have_addr = true;
		return WP_EXIT_OK;
	case OPT_GW:
		return wp_parse_ipv4("run", a->opt, a->arg, &c->gw)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_MAC:
		if (wp_parse_mac("run", a->opt, a->arg, c->mac))
			return WP_EXIT_USAGE;
		/* Without it tap and afpacket choose (wp_stack_config). */
		c->mac_set = true;
		return WP_EXIT_OK;
	case OPT_MTU:
		return wp_parse_u32("run", a->opt, a->arg, WP_UNIT_NONE,
				    WP_MTU_MIN, WP_MTU_MAX, &c->mtu)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_STATIC_ARP:
		return parse_static_arp(a->opt, a->arg, c) ? WP_EXIT_USAGE
							   : WP_EXIT_OK;
	case OPT_VLAN_DROP:
		c->vlan_drop = true;
		return WP_EXIT_OK;
	case OPT_QUEUES:
	case OPT_CORES:
		if (wp_parse_u32("run", a->opt, a->arg, WP_UNIT_NONE, 1,
				 id == OPT_QUEUES ? WP_NIC_MAX_QUEUES
						  : WP_MAX_CPUS,
				 &v32))
			return WP_EXIT_USAGE;
		if (id == OPT_QUEUES)
			c->queues = (uint16_t)v32;
		else
			c->cores = (uint16_t)v32;
		return WP_EXIT_OK;
	case OPT_BUSY_POLL:
		c->busy_poll = true;
		return WP_EXIT_OK;
	case OPT_PCAP_IN:
		c->pcap_in = a->arg;
		o->pcap_opts = true;
		return WP_EXIT_OK;
	case OPT_PCAP_OUT:
		c->pcap_out = a->arg;
		o->pcap_opts = true;
		return WP_EXIT_OK;
	case OPT_LINGER:
		o->pcap_opts = true;
		return wp_parse_duration("run", a->opt, a->arg, WP_NSEC_PER_SEC,
					 0, 3600 * WP_NSEC_PER_SEC,
					 &c->linger_ns)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_RATE:
		o->sim_opts = true;
		return wp_parse_u64("run", a->opt, a->arg, WP_UNIT_SI, 0,
				    1000000000, &c->rate_pps)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_SIZE:
		o->sim_opts = true;
		return wp_parse_u32("run", a->opt, a->arg, WP_UNIT_NONE, 58,
				    WP_MTU_MAX + 14, &c->frame_size)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_FLOWS:
		o->sim_opts = true;
		return wp_parse_u32("run", a->opt, a->arg, WP_UNIT_NONE, 1,
				    65536, &c->flows)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_BURST:
		o->sim_opts = true;
		return parse_burst(a->opt, a->arg, c) ? WP_EXIT_USAGE
						      : WP_EXIT_OK;
	case OPT_SEED:
		return wp_parse_u64("run", a->opt, a->arg, WP_UNIT_NONE, 0,
				    UINT64_MAX, &c->seed)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_IF:
		c->ifname = a->arg;
		o->if_opt = true;
		return WP_EXIT_OK;
	case OPT_QUEUE:
		o->xdp_opts = true;
		return wp_parse_u32("run", a->opt, a->arg, WP_UNIT_NONE, 0,
				    65535 - WP_NIC_MAX_QUEUES, &c->xdp_queue)
			       ? WP_EXIT_USAGE
			       : WP_EXIT_OK;
	case OPT_COPY:
	case OPT_ZEROCOPY:
		o->xdp_opts = true;
		if (id == OPT_COPY)
			o->copy = true;
		else
			o->zerocopy = true;
		c->xdp_bind = id == OPT_COPY ? WP_XDP_BIND_COPY
					     : WP_XDP_BIND_ZEROCOPY;
		return WP_EXIT_OK;
	case OPT_STATS:
		o->stats = true;
		return WP_EXIT_OK;
	case OPT_CTL:
		o->ctl = a->arg;
		return WP_EXIT_OK;
	case OPT_APP: {
		char err[160];

		if (o->napps == RUN_APPS_MAX)
			return wp_cli_bad_value("run", a->opt, "at most 16",
						"one too many");
		if (wp_app_parse(a->arg, &o->app[o->napps].type,
				 &o->app[o->napps].port, &o->app[o->napps].arg,
				 err, sizeof(err)))
			return wp_cli_usage_error(&wp_cmd_run, "%s", err);
		o->napps++;
		return WP_EXIT_OK;
	}
	default:
		return WP_EXIT_USAGE;
	}
}

/* Options that need each other or belong to another backend. */
static int check_opts(const struct run_opts *o)
{
	const char *be = o->cfg.backend;
	bool pcap = strcmp(be, "pcap") == 0, sim = strcmp(be, "sim") == 0;
	bool xdp = strcmp(be, "afxdp") == 0;
	bool iface =
		strcmp(be, "tap") == 0 || strcmp(be, "afpacket") == 0 || xdp;

	if (!pcap && !sim && !iface)
		return wp_cli_bad_value("run", "--backend",
					"sim, pcap, tap, afpacket or afxdp",
					"'%s'", be);
	if (pcap && o->ctl)
		return wp_cli_bad_value("run", "--ctl", "a real-time backend",
					"--backend pcap runs on virtual time "
					"and takes no control requests");
	if (!o->have_addr)
		return wp_cli_usage_error(&wp_cmd_run,
					  "--addr A.B.C.D/N is required");
	if (o->cfg.cores > o->cfg.queues)
		return wp_cli_bad_value("run", "--cores",
					"at most --queues (each core sends on "
					"a queue of its own)",
					"%u cores for %u queues", o->cfg.cores,
					o->cfg.queues);
	if (o->pcap_opts && !pcap)
		return wp_cli_bad_value("run", "--pcap-in/--pcap-out/--linger",
					"--backend pcap",
					"not options of backend %s", be);
	if (pcap && !o->cfg.pcap_in)
		return wp_cli_bad_value("run", "--pcap-in", "a capture file",
					"--backend pcap needs one");
	if (o->sim_opts && !sim)
		return wp_cli_bad_value("run", "--rate/--size/--flows/--burst",
					"--backend sim",
					"not options of backend %s", be);
	if (o->if_opt && !iface)
		return wp_cli_bad_value("run", "--if",
					"--backend tap, afpacket or afxdp",
					"not an option of backend %s", be);
	if (o->xdp_opts && !xdp)
		return wp_cli_bad_value("run", "--queue/--copy/--zerocopy",
					"--backend afxdp",
					"not options of backend %s", be);
	if (o->copy && o->zerocopy)
		return wp_cli_bad_value("run", "--copy/--zerocopy",
					"one of them", "both given");
	if (iface && !o->cfg.ifname)
		return wp_cli_bad_value("run", "--if", "an interface name",
					"--backend %s needs one", be);
	return WP_EXIT_OK;
}

static void print_drops(struct wp_stack *s, FILE *out)
{
	struct wp_drop_stats d;

	wp_stack_drops(s, &d);
	fprintf(out, "Drops:\n");
	for (int r = 0; r < WP_DROP__MAX; r++)
		if (d.count[r])
			fprintf(out, "    %s: %" PRIu64 "\n",
				wp_drop_reason_name((enum wp_drop_reason)r),
				d.count[r]);
}

static void print_stats(struct wp_stack *s, FILE *out)
{
	wp_net_print_netstat(s->net, out);
	fprintf(out, "Neighbours:\n");
	wp_net_print_neigh(s->net, out);
	fprintf(out, "Routes:\n");
	wp_net_print_route(s->net, out);
	print_drops(s, out);
	wp_socket_print_stats(out);
	fprintf(out, "Backend:\n");
	wp_backend_report(&s->backend, out);
}

static void summary(struct wp_stack *s, const char *backend, double seconds,
		    bool virtual_time)
{
	struct wp_stack_rx rx;

	wp_stack_rx_totals(s, &rx);
	fprintf(stderr,
		"wirepath run: %s: %" PRIu64 " frames in, %" PRIu64
		" handed up, %" PRIu64 " frames out in %.3f s%s\n",
		backend, s->backend.frames_in, rx.packets,
		s->backend.frames_out, seconds,
		virtual_time ? " of virtual time" : "");
}

/*
 * Applications run in real time beside a virtual clock: before the
 * clock moves on, each must have dealt with what it was given, as if
 * it were as fast as the machine (a real host's application runs while
 * the wire waits).
 */
static void wait_apps(struct wp_app **apps, unsigned n)
{
	struct timespec ts = { 0, 20 * 1000 };

	for (unsigned i = 0; i < n; i++)
		while (!wp_app_idle(apps[i]) && !stop_signal)
			nanosleep(&ts, NULL);
}

/* Virtual time: step through the capture until it is done. */
static int run_pcap(struct wp_stack *s, struct wp_app **apps, unsigned napps)
{
	/* Steps of 10 ms: run_until stops at every event in between, so
	 * the step only bounds how often an interrupt is noticed. With
	 * applications, 100 us: the step is also how long a reply waits
	 * for the clock to let its application answer. */
	const uint64_t step =
		napps ? 100 * WP_NSEC_PER_USEC : 10 * WP_NSEC_PER_MSEC;

	while (!wp_stack_done(s) && !stop_signal) {
		if (wp_stack_run_until(s, wp_stack_now(s) + step))
			return wp_cli_fail("run", "the virtual clock refused "
						  "to move: a bug, please "
						  "report it");
		wait_apps(apps, napps);
	}
	return WP_EXIT_OK;
}

/* Open each application's socket and start its thread. */
static int start_apps(struct wp_stack *s, const struct run_opts *o,
		      struct wp_app **apps)
{
	char err[256];

	for (unsigned i = 0; i < o->napps; i++) {
		apps[i] = wp_app_start_arg(o->app[i].type, s, o->app[i].port,
					   o->app[i].arg, err, sizeof(err));
		if (!apps[i]) {
			while (i-- > 0)
				wp_app_stop(apps[i]);
			return wp_cli_fail("run", "--app %s", err);
		}
		fprintf(stderr,
			"wirepath run: %s listening on %s port %u%s%s\n",
			o->app[i].type->name,
			o->app[i].type->transport ? o->app[i].type->transport
			: o->app[i].type->sock_type == SOCK_STREAM ? "TCP"
								   : "UDP",
			o->app[i].port, o->app[i].arg ? ", serving " : "",
			o->app[i].arg ? o->app[i].arg : "");
	}
	return WP_EXIT_OK;
}

/* States in which our side still owes the peer something: data or a
 * FIN not yet acknowledged, or a connection nobody has closed. */
#define TCP_UNFINISHED                                                         \
	((1u << WP_TCP_ESTABLISHED) | (1u << WP_TCP_SYN_SENT) |                \
	 (1u << WP_TCP_SYN_RECV) | (1u << WP_TCP_FIN_WAIT1) |                  \
	 (1u << WP_TCP_CLOSE_WAIT) | (1u << WP_TCP_LAST_ACK) |                 \
	 (1u << WP_TCP_CLOSING))
#define TCP_CLOSE_WAIT_MS 2000

/*
 * The applications close their connections (FIN, or RST where data was
 * left unread, as close() does); while the cores still run, wait a
 * little for those FINs to be acknowledged, so the peers see an orderly
 * end rather than a host that vanished. Then the counters, which now
 * say every connection closed.
 */
static void stop_apps(struct wp_stack *s, struct wp_app **apps, unsigned n,
		      bool report)
{
	uint32_t left = 0;

	for (unsigned i = 0; i < n; i++)
		wp_app_join(apps[i]);
	for (int ms = 0; s && n && ms < TCP_CLOSE_WAIT_MS; ms += 10) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		left = wp_tcp_count_states(s->net, TCP_UNFINISHED);
		if (!left)
			break;
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < n; i++) {
		if (report)
			wp_app_print(apps[i], stderr);
		wp_app_stop(apps[i]);
	}
	if (report && left)
		fprintf(stderr,
			"wirepath run: %u TCP connections still unfinished "
			"after %d ms (their peers did not answer our FIN)\n",
			left, TCP_CLOSE_WAIT_MS);
}

static int run_real_time(struct wp_stack *s, struct wp_app **apps,
			 unsigned napps)
{
	int ret = wp_stack_start(s);

	if (ret) {
		stop_apps(NULL, apps, napps, false);
		return wp_cli_fail("run",
				   "cannot start the stack: %s (the backend "
				   "says why above, if it knows)",
				   strerror(-ret));
	}
	while (!stop_signal) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	/* The applications go while the cores still run: their last
	 * replies leave. */
	stop_apps(s, apps, napps, true);
	wp_ctl_stop(s);
	wp_stack_stop(s);
	return WP_EXIT_OK;
}

static int run_main(int argc, char **argv)
{
	struct wp_app *apps[RUN_APPS_MAX];
	struct run_opts o;
	struct wp_stack *s;
	struct wp_args a;
	char err[512];
	uint64_t t0;
	bool pcap;
	int id, ret;

	memset(&o, 0, sizeof(o));
	wp_stack_config_default(&o.cfg);
	o.cfg.backend = "sim";
	wp_args_init(&a, &wp_cmd_run, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		if (id == WP_ARG_HELP)
			return WP_EXIT_OK;
		if (id == WP_ARG_ERROR)
			return WP_EXIT_USAGE;
		if (id == WP_ARG_POSITIONAL)
			return wp_cli_usage_error(
				&wp_cmd_run, "unexpected argument '%s'", a.arg);
		ret = parse_one(&a, id, &o);
		if (ret != WP_EXIT_OK)
			return ret;
	}
	ret = check_opts(&o);
	if (ret != WP_EXIT_OK)
		return ret;
	pcap = strcmp(o.cfg.backend, "pcap") == 0;
	o.cfg.virtual_time = pcap;

	/*
	 * Catch SIGINT/SIGTERM before anything is built: a signal that
	 * arrives while the stack is still starting must still lead to a
	 * clean shutdown (devices released, exit 0), not the default death.
	 * The run loops see stop_signal and return at once.
	 */
	stop_signal = 0;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	s = wp_stack_create(&o.cfg, err, sizeof(err));
	if (!s)
		return wp_cli_fail("run", "%s", err);
	if (o.cfg.ifname) { /* a real interface may have chosen them */
		uint8_t m[6];
		uint32_t mtu;

		wp_stack_get_link(s, m, &mtu);
		fprintf(stderr,
			"wirepath run: %s on %s: mac "
			"%02x:%02x:%02x:%02x:%02x:%02x, mtu %u\n",
			o.cfg.backend, o.cfg.ifname, m[0], m[1], m[2], m[3],
			m[4], m[5], mtu);
	}
	/* The applications' sockets live on this stack. */
	wp_stack_make_default(s);
	ret = start_apps(s, &o, apps);
	if (ret != WP_EXIT_OK) {
		wp_stack_make_default(NULL);
		wp_stack_destroy(s);
		return ret;
	}
	/* The control socket: required when named, best effort by default
	 * (another stack may hold the default path). */
	if (!pcap && wp_ctl_start(s, o.ctl, err, sizeof(err))) {
		if (o.ctl) {
			stop_apps(NULL, apps, o.napps, false);
			wp_stack_make_default(NULL);
			wp_stack_destroy(s);
			return wp_cli_fail("run", "%s", err);
		}
		fprintf(stderr, "wirepath run: no control socket: %s\n", err);
	} else if (!pcap) {
		fprintf(stderr, "wirepath run: control socket %s\n",
			wp_ctl_path(s));
	}
	t0 = pcap ? wp_stack_now(s) : wp_time_real_ns();
	ret = pcap ? run_pcap(s, apps, o.napps)
		   : run_real_time(s, apps, o.napps);
	wp_ctl_stop(s);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (ret == WP_EXIT_OK) {
		uint64_t t1 = pcap ? wp_stack_now(s) : wp_time_real_ns();

		summary(s, o.cfg.backend, (double)(t1 - t0) / 1e9, pcap);
	}
	/* Applications before the stack: their sockets live on it. */
	stop_apps(NULL, apps, pcap ? o.napps : 0, ret == WP_EXIT_OK);
	if (ret == WP_EXIT_OK && o.stats)
		print_stats(s, stderr);
	wp_stack_make_default(NULL);
	wp_stack_destroy(s);
	wp_socket_cleanup();
	return ret;
}
