// SPDX-License-Identifier: MIT
/*
 * The live knobs: `ethtool` (-c/-C coalescing, -g/-G rings, -l/-L
 * channels, -x/-X the RSS indirection table, -k/-K features: GRO, -S
 * statistics) and
 * `sysctl`, with the output formats of the real tools, and the request
 * dispatch.
 *
 * Every change is checked whole before anything is applied: a request
 * that is refused leaves the stack as it was. The NIC's ranges are read
 * from the NIC (its created queue count, its active rings), so they are
 * the server's to check; the syntax is checked by wp_ctl_ethtool_parse,
 * which the client runs too, so a typo fails before any stack is asked.
 */
#include "ctl/ctl_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack/stack.h"

/* --- ethtool syntax ---------------------------------------------------------
 */

static int syntax(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int syntax(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Decimal digits only: no sign, no blanks, no hex; fits unsigned long. */
static bool parse_ulong(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return false;
		d = (unsigned)(*s - '0');
		if (v > (ULONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

struct param {
	const char *name;
	bool is_bool; /* on|off rather than a number */
	bool *has;
	unsigned long *num;
	bool *flag;
};

/* "NAME VALUE" pairs after the option, each at most once. */
static int parse_params(const char *opt, int argc, char *const argv[],
			const struct param *p, size_t np, const char *expected,
			char *err, size_t len)
{
	if (argc < 2)
		return syntax(err, len, "%s: nothing to set (expected %s)", opt,
			      expected);
	for (int i = 1; i < argc; i += 2) {
		const struct param *x = NULL;

		for (size_t k = 0; k < np; k++)
			if (strcmp(argv[i], p[k].name) == 0)
				x = &p[k];
		if (!x)
			return syntax(
				err, len,
				"%s: unknown parameter '%s' (expected %s)", opt,
				argv[i], expected);
		if (*x->has)
			return syntax(err, len, "%s: %s given twice", opt,
				      x->name);
		if (i + 1 >= argc)
			return syntax(err, len, "%s: %s needs a value", opt,
				      x->name);
		if (x->is_bool) {
			if (strcmp(argv[i + 1], "on") == 0)
				*x->flag = true;
			else if (strcmp(argv[i + 1], "off") == 0)
				*x->flag = false;
			else
				return syntax(
					err, len,
					"%s: %s '%s' (expected on or off)", opt,
					x->name, argv[i + 1]);
		} else if (!parse_ulong(argv[i + 1], x->num)) {
			return syntax(err, len,
				      "%s: %s '%s' (expected a decimal number)",
				      opt, x->name, argv[i + 1]);
		}
		*x->has = true;
	}
	return 0;
}

/*
 * ethtool -k's features of wp0, in its order, with the short names -K
 * takes too. Only GRO can change: the rest is what the NIC model does
 * (RSS hashing) or does not do (checksum, segmentation, VLAN offloads).
 */
static const struct feature {
	const char *name;  /* ethtool -k */
	const char *alias; /* ethtool -K's short name, or NULL */
	bool fixed_on;	   /* fixed, and on */
	bool changeable;
} features[] = {
	{ "rx-checksumming", "rx", false, false },
	{ "tx-checksumming", "tx", false, false },
	{ "scatter-gather", "sg", false, false },
	{ "tcp-segmentation-offload", "tso", false, false },
	{ "generic-segmentation-offload", "gso", false, false },
	{ "generic-receive-offload", "gro", false, true },
	{ "large-receive-offload", "lro", false, false },
	{ "rx-vlan-offload", "rxvlan", false, false },
	{ "tx-vlan-offload", "txvlan", false, false },
	{ "ntuple-filters", "ntuple", false, false },
	{ "receive-hashing", "rxhash", true, false },
	{ "rx-gro-hw", NULL, false, false },
	{ "rx-gro-list", NULL, false, false },
};

static const struct feature *feature_find(const char *name)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (strcmp(name, features[i].name) == 0 ||
		    (features[i].alias && strcmp(name, features[i].alias) == 0))
			return &features[i];
	return NULL;
}

/* -K: "NAME on|off" pairs, each feature at most once. */
static int parse_features(int argc, char *const argv[],
			  struct wp_ctl_ethtool_req *r, char *err, size_t len)
{
	if (argc < 2)
		return syntax(err, len,
			      "-K: nothing to set (expected gro on|off)");
	for (int i = 1; i < argc; i += 2) {
		const struct feature *f = feature_find(argv[i]);
		bool on;

		if (!f)
			return syntax(err, len,
				      "-K: unknown feature '%s' (expected gro "
				      "or generic-receive-offload)",
				      argv[i]);
		if (i + 1 >= argc)
			return syntax(err, len, "-K: %s needs on or off",
				      argv[i]);
		if (strcmp(argv[i + 1], "on") == 0)
			on = true;
		else if (strcmp(argv[i + 1], "off") == 0)
			on = false;
		else
			return syntax(err, len,
				      "-K: %s '%s' (expected on or off)",
				      argv[i], argv[i + 1]);
		if (!f->changeable) {
			if (!r->fixed)
				r->fixed = f->name;
			continue;
		}
		if (r->has_gro)
			return syntax(err, len, "-K: %s given twice", f->name);
		r->has_gro = true;
		r->gro = on;
	}
	return 0;
}

int wp_ctl_ethtool_parse(int argc, char *const argv[],
			 struct wp_ctl_ethtool_req *r, char *err, size_t len)
{
	static const struct {
		const char *opt;
		enum wp_ctl_ethtool_op op;
	} shows[] = {
		{ "-c", WP_CTL_ETHTOOL_SHOW_COALESCE },
		{ "-g", WP_CTL_ETHTOOL_SHOW_RING },
		{ "-l", WP_CTL_ETHTOOL_SHOW_CHANNELS },
		{ "-x", WP_CTL_ETHTOOL_SHOW_RXFH },
		{ "-S", WP_CTL_ETHTOOL_STATS },
		{ "-k", WP_CTL_ETHTOOL_SHOW_FEATURES },
	};
	const char *opt;

	memset(r, 0, sizeof(*r));
	if (argc < 1)
		return syntax(err, len,
			      "no option (expected -c, -C, -g, -G, -l, -L, -x, "
			      "-X, -k, -K or -S)");
	opt = argv[0];
	for (size_t i = 0; i < sizeof(shows) / sizeof(shows[0]); i++) {
		if (strcmp(opt, shows[i].opt) != 0)
			continue;
		if (argc > 1)
			return syntax(err, len, "%s takes no argument ('%s')",
				      opt, argv[1]);
		r->op = shows[i].op;
		return 0;
	}
	if (strcmp(opt, "-C") == 0) {
		const struct param p[] = {
			{ "rx-usecs", false, &r->has_rx_usecs, &r->rx_usecs,
			  NULL },
			{ "rx-frames", false, &r->has_rx_frames, &r->rx_frames,
			  NULL },
			{ "adaptive-rx", true, &r->has_adaptive_rx, NULL,
			  &r->adaptive_rx },
		};

		r->op = WP_CTL_ETHTOOL_SET_COALESCE;
		return parse_params(
			opt, argc, argv, p, 3,
			"rx-usecs N, rx-frames N, adaptive-rx on|off", err,
			len);
	}
	if (strcmp(opt, "-G") == 0) {
		const struct param p[] = {
			{ "rx", false, &r->has_rx, &r->rx, NULL },
			{ "tx", false, &r->has_tx, &r->tx, NULL },
		};

		r->op = WP_CTL_ETHTOOL_SET_RING;
		return parse_params(opt, argc, argv, p, 2, "rx N, tx N", err,
				    len);
	}
	if (strcmp(opt, "-L") == 0) {
		bool has = false;
		const struct param p[] = {
			{ "combined", false, &has, &r->n, NULL },
		};

		r->op = WP_CTL_ETHTOOL_SET_CHANNELS;
		/* rx, tx, other: wp0's channels are RX/TX pairs. */
		return parse_params(
			opt, argc, argv, p, 1,
			"combined N: each channel is an RX/TX queue pair", err,
			len);
	}
	if (strcmp(opt, "-X") == 0) {
		r->op = WP_CTL_ETHTOOL_SET_RXFH;
		if (argc == 2 && strcmp(argv[1], "default") == 0) {
			r->rxfh_default = true;
			return 0;
		}
		if (argc == 3 && strcmp(argv[1], "equal") == 0) {
			if (!parse_ulong(argv[2], &r->n))
				return syntax(err, len,
					      "-X: equal '%s' (expected a "
					      "decimal number)",
					      argv[2]);
			return 0;
		}
		return syntax(err, len, "-X: expected equal N or default");
	}
	if (strcmp(opt, "-K") == 0) {
		r->op = WP_CTL_ETHTOOL_SET_FEATURES;
		return parse_features(argc, argv, r, err, len);
	}
	return syntax(err, len,
		      "unknown option '%s' (expected -c, -C, -g, -G, -l, -L, "
		      "-x, -X, -k, -K or -S)",
		      opt);
}

/* --- ethtool: showing -------------------------------------------------------
 */

/* ethtool -c, with the fields wirepath's NIC does not have as n/a. */
static void show_coalesce(const struct wp_nic *nic, FILE *out)
{
	struct wp_coalesce_params p;

	wp_nic_get_coalesce(nic, &p);
	fprintf(out, "Coalesce parameters for %s:\n", nic->name);
	fprintf(out, "Adaptive RX: %s  TX: n/a\n",
		p.adaptive_rx ? "on" : "off");
	fprintf(out, "stats-block-usecs: n/a\nsample-interval: n/a\n"
		     "pkt-rate-low: n/a\npkt-rate-high: n/a\n\n");
	fprintf(out, "rx-usecs: %u\nrx-frames: %u\n", p.rx_usecs, p.rx_frames);
	fprintf(out, "rx-usecs-irq: n/a\nrx-frames-irq: n/a\n\n"
		     "tx-usecs: n/a\ntx-frames: n/a\n"
		     "tx-usecs-irq: n/a\ntx-frames-irq: n/a\n\n"
		     "rx-usecs-low: n/a\nrx-frame-low: n/a\n"
		     "tx-usecs-low: n/a\ntx-frame-low: n/a\n\n"
		     "rx-usecs-high: n/a\nrx-frame-high: n/a\n"
		     "tx-usecs-high: n/a\ntx-frame-high: n/a\n\n");
}

static void show_ring(const struct wp_nic *nic, FILE *out)
{
	fprintf(out, "Ring parameters for %s:\n", nic->name);
	fprintf(out, "Pre-set maximums:\n");
	fprintf(out,
		"RX:\t\t\t%u\nRX Mini:\t\tn/a\nRX Jumbo:\t\tn/a\n"
		"TX:\t\t\t%u\n",
		WP_RING_MAX, WP_RING_MAX);
	fprintf(out, "Current hardware settings:\n");
	fprintf(out,
		"RX:\t\t\t%u\nRX Mini:\t\tn/a\nRX Jumbo:\t\tn/a\n"
		"TX:\t\t\t%u\n\n",
		nic->cfg.rx_ring_size, nic->cfg.tx_ring_size);
}

static uint16_t active_queues(const struct wp_nic *nic)
{
	return __atomic_load_n(&nic->nqueues, __ATOMIC_ACQUIRE);
}

static void show_channels(const struct wp_nic *nic, FILE *out)
{
	fprintf(out, "Channel parameters for %s:\n", nic->name);
	fprintf(out, "Pre-set maximums:\n");
	fprintf(out,
		"RX:\t\tn/a\nTX:\t\tn/a\nOther:\t\tn/a\n"
		"Combined:\t%u\n",
		nic->cfg.nqueues);
	fprintf(out, "Current hardware settings:\n");
	fprintf(out,
		"RX:\t\tn/a\nTX:\t\tn/a\nOther:\t\tn/a\n"
		"Combined:\t%u\n\n",
		active_queues(nic));
}

/* ethtool -x: print_indir_table's layout, then the key and function. */
static void show_rxfh(const struct wp_nic *nic, FILE *out)
{
	fprintf(out,
		"RX flow hash indirection table for %s with %u RX ring(s):\n",
		nic->name, active_queues(nic));
	for (unsigned i = 0; i < WP_RSS_RETA_SIZE; i++) {
		if (i % 8 == 0)
			fprintf(out, "%5u: ", i);
		fprintf(out, " %5u", wp_rss_queue(&nic->rss, i));
		if (i % 8 == 7 || i == WP_RSS_RETA_SIZE - 1)
			fputc('\n', out);
	}
	fprintf(out, "RSS hash key:\n");
	for (unsigned i = 0; i < WP_RSS_KEY_LEN; i++)
		fprintf(out, "%02x%c", nic->rss.key[i],
			i + 1 < WP_RSS_KEY_LEN ? ':' : '\n');
	fprintf(out, "RSS hash function:\n    toeplitz: on\n    xor: off\n"
		     "    crc32: off\n");
}

/* ethtool -k: "name: on|off", "[fixed]" on what cannot change. */
static void show_features(const struct wp_nic *nic, FILE *out)
{
	fprintf(out, "Features for %s:\n", nic->name);
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct feature *f = &features[i];
		bool on = f->changeable ? wp_nic_get_gro(nic) : f->fixed_on;

		fprintf(out, "%s: %s%s\n", f->name, on ? "on" : "off",
			f->changeable ? "" : " [fixed]");
	}
}

/* --- ethtool: setting
 * ---------------------------------------------------------
 */

/* ethtool -K: all or nothing, as the other setters. */
static int set_features(struct wp_nic *nic, const struct wp_ctl_ethtool_req *r,
			FILE *err)
{
	if (r->fixed) {
		fprintf(err,
			"Could not change any device features: %s is fixed "
			"on %s; nothing changed\n",
			r->fixed, nic->name);
		return 1;
	}
	wp_nic_set_gro(nic, r->gro);
	return 0;
}

static bool ring_size_ok(unsigned long n)
{
	return n >= WP_RING_MIN && n <= WP_RING_MAX && !(n & (n - 1));
}

static int set_coalesce(struct wp_nic *nic, const struct wp_ctl_ethtool_req *r,
			FILE *err)
{
	struct wp_coalesce_params p;
	int ret;

	if (r->has_rx_usecs && r->rx_usecs > WP_COALESCE_USECS_MAX) {
		fprintf(err,
			"rx-usecs %lu: out of range (%s takes 0..%u); nothing "
			"changed\n",
			r->rx_usecs, nic->name, WP_COALESCE_USECS_MAX);
		return 1;
	}
	if (r->has_rx_frames && r->rx_frames > WP_COALESCE_FRAMES_MAX) {
		fprintf(err,
			"rx-frames %lu: out of range (%s takes 0..%u); nothing "
			"changed\n",
			r->rx_frames, nic->name, WP_COALESCE_FRAMES_MAX);
		return 1;
	}
	wp_nic_get_coalesce(nic, &p);
	if (r->has_rx_usecs)
		p.rx_usecs = (uint32_t)r->rx_usecs;
	if (r->has_rx_frames)
		p.rx_frames = (uint32_t)r->rx_frames;
	if (r->has_adaptive_rx)
		p.adaptive_rx = r->adaptive_rx;
	ret = wp_nic_set_coalesce(nic, &p);
	if (ret) {
		fprintf(err,
			"cannot set coalescing parameters: %s; nothing "
			"changed\n",
			strerror(-ret));
		return 1;
	}
	return 0;
}

static int set_ring(struct wp_nic *nic, const struct wp_ctl_ethtool_req *r,
		    FILE *err)
{
	unsigned long rx = r->has_rx ? r->rx : nic->cfg.rx_ring_size;
	unsigned long tx = r->has_tx ? r->tx : nic->cfg.tx_ring_size;
	int ret;

	if (!ring_size_ok(rx) || !ring_size_ok(tx)) {
		fprintf(err,
			"%s %lu: not a ring size of %s (a power of two in "
			"%u..%u); nothing changed\n",
			ring_size_ok(rx) ? "tx" : "rx",
			ring_size_ok(rx) ? tx : rx, nic->name, WP_RING_MIN,
			WP_RING_MAX);
		return 1;
	}
	ret = wp_nic_set_ringparam(nic, (uint32_t)rx, (uint32_t)tx);
	if (ret) {
		fprintf(err, "cannot set ring parameters: %s\n",
			strerror(-ret));
		return 1;
	}
	return 0;
}

static int set_channels(struct wp_nic *nic, const struct wp_ctl_ethtool_req *r,
			FILE *err)
{
	int ret;

	if (r->n < 1 || r->n > nic->cfg.nqueues) {
		fprintf(err,
			"combined %lu: out of range (%s has %u channels: "
			"1..%u); nothing changed\n",
			r->n, nic->name, nic->cfg.nqueues, nic->cfg.nqueues);
		return 1;
	}
	ret = wp_nic_set_channels(nic, (uint16_t)r->n);
	if (ret) {
		fprintf(err, "cannot set channel parameters: %s\n",
			strerror(-ret));
		return 1;
	}
	return 0;
}

static int set_rxfh(struct wp_nic *nic, const struct wp_ctl_ethtool_req *r,
		    FILE *err)
{
	uint16_t active = active_queues(nic);
	unsigned long n = r->rxfh_default ? active : r->n;
	int ret;

	if (n < 1 || n > active) {
		fprintf(err,
			"equal %lu: out of range (%s has %u active RX rings: "
			"1..%u; ethtool -L combined N changes them); nothing "
			"changed\n",
			n, nic->name, active, active);
		return 1;
	}
	ret = wp_nic_set_rxfh_equal(nic, (uint16_t)n);
	if (ret) {
		fprintf(err, "cannot set the RX flow hash table: %s\n",
			strerror(-ret));
		return 1;
	}
	return 0;
}

int wp__ctl_ethtool(struct wp_stack *s, int argc, char **argv, FILE *out,
		    FILE *err)
{
	struct wp_ctl_ethtool_req r;
	struct wp_nic *nic = s->nic;
	char msg[256];

	if (wp_ctl_ethtool_parse(argc - 1, argv + 1, &r, msg, sizeof(msg))) {
		fprintf(err, "%s\n", msg);
		return 2;
	}
	switch (r.op) {
	case WP_CTL_ETHTOOL_SHOW_COALESCE:
		show_coalesce(nic, out);
		return 0;
	case WP_CTL_ETHTOOL_SET_COALESCE:
		return set_coalesce(nic, &r, err);
	case WP_CTL_ETHTOOL_SHOW_RING:
		show_ring(nic, out);
		return 0;
	case WP_CTL_ETHTOOL_SET_RING:
		return set_ring(nic, &r, err);
	case WP_CTL_ETHTOOL_SHOW_CHANNELS:
		show_channels(nic, out);
		return 0;
	case WP_CTL_ETHTOOL_SET_CHANNELS:
		return set_channels(nic, &r, err);
	case WP_CTL_ETHTOOL_SHOW_RXFH:
		show_rxfh(nic, out);
		return 0;
	case WP_CTL_ETHTOOL_SET_RXFH:
		return set_rxfh(nic, &r, err);
	case WP_CTL_ETHTOOL_STATS:
		wp_nic_print_stats(nic, out);
		return 0;
	case WP_CTL_ETHTOOL_SHOW_FEATURES:
		show_features(nic, out);
		return 0;
	case WP_CTL_ETHTOOL_SET_FEATURES:
		return set_features(nic, &r, err);
	}
	return 2;
}

/* --- sysctl
 * -------------------------------------------------------------------
 */

#define SYSCTL_VALUE_MAX 128

/* sysctl(8) also takes net/core/netdev_budget; blanks around are ignored. */
static void sysctl_key(const char *in, size_t n, char *key, size_t len)
{
	size_t k = 0;

	while (n && (*in == ' ' || *in == '\t'))
		in++, n--;
	while (n && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n && k + 1 < len; i++)
		key[k++] = in[i] == '/' ? '.' : in[i];
	key[k] = '\0';
}

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * A copy of the live values, to try settings on: a set that the copy
 * refuses is refused, and the live table is not touched until every
 * setting of the request has passed.
 */
static int sysctl_copy(const struct wp_sysctl *from, struct wp_sysctl *to)
{
	char v[SYSCTL_VALUE_MAX];
	const char *name;

	wp_sysctl_init(to);
	for (size_t i = 0; (name = wp_sysctl_name(i)) != NULL; i++) {
		if (wp_sysctl_get(from, name, v, sizeof(v)) ||
		    wp_sysctl_set(to, name, v))
			return -EINVAL;
	}
	return 0;
}

static void sysctl_print(const struct wp_sysctl *sc, const char *name,
			 FILE *out)
{
	char v[SYSCTL_VALUE_MAX];

	if (wp_sysctl_get(sc, name, v, sizeof(v)) == 0)
		fprintf(out, "%s = %s\n", name, v);
}

int wp__ctl_sysctl(struct wp_stack *s, int argc, char **argv, FILE *out,
		   FILE *err)
{
	struct wp_sysctl *try;
	const char *name;
	int status = 0, sets = 0;

	if (argc == 1) {
		for (size_t i = 0; (name = wp_sysctl_name(i)) != NULL; i++)
			sysctl_print(&s->sysctl, name, out);
		return 0;
	}
	try = malloc(sizeof(*try));
	if (!try || sysctl_copy(&s->sysctl, try)) {
		free(try);
		fprintf(err, "cannot copy the sysctl table: out of memory\n");
		return 1;
	}
	/* Pass 1: every name exists, every value is taken by the copy. */
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char key[128], v[SYSCTL_VALUE_MAX];
		int ret;

		sysctl_key(argv[i],
			   eq ? (size_t)(eq - argv[i]) : strlen(argv[i]), key,
			   sizeof(key));
		if (!key[0]) {
			fprintf(err,
				"'%s': no name (expected NAME or NAME=VALUE)\n",
				argv[i]);
			free(try);
			return 2;
		}
		if (wp_sysctl_get(try, key, v, sizeof(v)) == -ENOENT) {
			fprintf(err,
				"cannot stat %s: No such file or directory\n",
				key);
			status = 1;
			continue;
		}
		if (!eq)
			continue;
		sets++;
		ret = wp_sysctl_set(try, key, skip_blank(eq + 1));
		if (ret) {
			fprintf(err,
				"setting key \"%s\": %s ('%s' is not a value "
				"it takes)\n",
				key, strerror(-ret), skip_blank(eq + 1));
			status = 1;
		}
	}
	free(try);
	if (status) {
		if (sets)
			fprintf(err, "nothing changed\n");
		return status;
	}
	/* Pass 2: apply in order, print what each name holds now. */
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char key[128];

		sysctl_key(argv[i],
			   eq ? (size_t)(eq - argv[i]) : strlen(argv[i]), key,
			   sizeof(key));
		if (eq && wp_sysctl_set(&s->sysctl, key, skip_blank(eq + 1))) {
			/* The copy took it: only a bug gets here. */
			fprintf(err, "setting key \"%s\" failed\n", key);
			return 1;
		}
		sysctl_print(&s->sysctl, key, out);
	}
	return 0;
}

/* --- dispatch
 * -------------------------------------------------------------------
 */

int wp_ctl_exec(struct wp_stack *s, int argc, char **argv, FILE *out, FILE *err)
{
	if (argc < 1) {
		fprintf(err, "empty request (expected version, stat, ethtool, "
			     "sysctl, trace or capture)\n");
		return 2;
	}
	if (strcmp(argv[0], "version") == 0) {
		if (argc > 1) {
			fprintf(err, "version takes no argument\n");
			return 2;
		}
		fprintf(out, "wirepath-ctl %d %s pid %ld\n",
			WP_CTL_PROTO_VERSION, wp_ctl_stack_name(s),
			(long)getpid());
		return 0;
	}
	if (strcmp(argv[0], "stat") == 0)
		return wp__ctl_stat(s, argc, argv, out, err);
	if (strcmp(argv[0], "ethtool") == 0)
		return wp__ctl_ethtool(s, argc, argv, out, err);
	if (strcmp(argv[0], "sysctl") == 0)
		return wp__ctl_sysctl(s, argc, argv, out, err);
	if (strcmp(argv[0], "trace") == 0)
		return wp__ctl_trace(s, argc, argv, out, err);
	if (strcmp(argv[0], "capture") == 0)
		return wp__ctl_capture(s, argc, argv, out, err);
	fprintf(err,
		"unknown request '%s' (expected version, stat, ethtool, "
		"sysctl, trace or capture)\n",
		argv[0]);
	return 2;
}
