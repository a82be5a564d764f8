// SPDX-License-Identifier: MIT
/*
 * The wirepath command's framework: command registry, messages, strict
 * option and value parsing, JSON lines. The conventions are in cli.h.
 */
#include "cli.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --- the command table ---------------------------------------------------- */

/* Far more than the design's dozen commands; overflowing it is a build bug. */
#define WP_CMD_MAX 64

static const struct wp_cmd *commands[WP_CMD_MAX];
static unsigned ncommands;

void wp_cmd_register(const struct wp_cmd *cmd)
{
	unsigned i;

	/*
	 * Runs before main(): a duplicate or an overflow cannot be reported
	 * through an exit status, and ignoring it would make one command
	 * silently unreachable.
	 */
	if (wp_cmd_find(cmd->name)) {
		fprintf(stderr, "wirepath: command '%s' registered twice\n",
			cmd->name);
		abort();
	}
	if (ncommands == WP_CMD_MAX) {
		fprintf(stderr, "wirepath: more than %d commands\n",
			WP_CMD_MAX);
		abort();
	}
	/* Insertion sort by name: `wirepath --help` lists in a stable order. */
	for (i = ncommands;
	     i > 0 && strcmp(commands[i - 1]->name, cmd->name) > 0; i--)
		commands[i] = commands[i - 1];
	commands[i] = cmd;
	ncommands++;
}

const struct wp_cmd *wp_cmd_find(const char *name)
{
	for (unsigned i = 0; i < ncommands; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

const struct wp_cmd *wp_cmd_at(unsigned i)
{
	return i < ncommands ? commands[i] : NULL;
}

/* --- messages ------------------------------------------------------------- */

static void vmessage(const char *cmd, const char *fmt, va_list ap)
{
	fflush(stdout); /* keep stdout and stderr in order on a terminal */
	if (cmd)
		fprintf(stderr, "wirepath %s: ", cmd);
	else
		fputs("wirepath: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int wp_cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	return WP_EXIT_FAILURE;
}

int wp_cli_usage_error(const struct wp_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd->name, fmt, ap);
	va_end(ap);
	fputs(cmd->usage, stderr);
	return WP_EXIT_USAGE;
}

int wp_cli_help(const struct wp_cmd *cmd)
{
	fputs(cmd->usage, stdout);
	return WP_EXIT_OK;
}

static void vbad_value(const char *cmd, const char *what,
		       const char *expected, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "wirepath %s: %s: ", cmd, what);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (expected %s)\n", expected);
}

int wp_cli_bad_value(const char *cmd, const char *what, const char *expected,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad_value(cmd, what, expected, fmt, ap);
	va_end(ap);
	return WP_EXIT_USAGE;
}

/* The parsers' failure: the same line, and -EINVAL. */
static int __attribute__((format(printf, 4, 5)))
bad_value(const char *cmd, const char *what, const char *expected,
	  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad_value(cmd, what, expected, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* --- option parsing ------------------------------------------------------- */

void wp_args_init(struct wp_args *a, const struct wp_cmd *cmd,
		  const struct wp_opt *opts, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->opts = opts;
	a->argc = argc;
	a->argv = argv;
	a->next = 1;
}

/* "--size, --json or --help": the options a command takes, for messages. */
static void list_options(const struct wp_args *a, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct wp_opt *o = a->opts; o && o->name; o++) {
		int w = snprintf(buf + n, size - n, "--%s, ", o->name);

		if (w < 0 || (size_t)w >= size - n)
			return;
		n += (size_t)w;
	}
	snprintf(buf + n, size - n, "%s", n ? "or --help" : "--help");
}

static int unknown_option(struct wp_args *a, const char *typed)
{
	char list[512];

	list_options(a, list, sizeof(list));
	wp_cli_usage_error(a->cmd, "%s: unknown option (expected %s)", typed,
			   list);
	return WP_ARG_ERROR;
}

static const struct wp_opt *find_long(const struct wp_args *a,
				      const char *name, size_t len)
{
	for (const struct wp_opt *o = a->opts; o && o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const struct wp_opt *find_short(const struct wp_args *a, char c)
{
	for (const struct wp_opt *o = a->opts; o && o->name; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

/* The option's value: the rest of this word, or the next word. */
static int take_value(struct wp_args *a, const struct wp_opt *o,
		      const char *inline_value)
{
	if (inline_value) {
		a->arg = inline_value;
		return o->id;
	}
	if (a->next >= a->argc) {
		wp_cli_usage_error(a->cmd, "%s: needs a value", a->opt);
		return WP_ARG_ERROR;
	}
	a->arg = a->argv[a->next++];
	return o->id;
}

static int next_long(struct wp_args *a, const char *s)
{
	const char *name = s + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct wp_opt *o;

	a->opt = s;
	if (len == 4 && strncmp(name, "help", 4) == 0) {
		if (eq) {
			wp_cli_usage_error(a->cmd,
					   "--help: takes no value (got '%s')",
					   eq + 1);
			return WP_ARG_ERROR;
		}
		wp_cli_help(a->cmd);
		return WP_ARG_HELP;
	}
	o = find_long(a, name, len);
	if (!o) {
		/* Name the option without its value: values may be long. */
		char typed[64];

		snprintf(typed, sizeof(typed), "--%.*s",
			 (int)(len < 60 ? len : 60), name);
		return unknown_option(a, typed);
	}
	if (eq && !o->has_arg) {
		wp_cli_usage_error(a->cmd, "--%s: takes no value (got '%s')",
				   o->name, eq + 1);
		return WP_ARG_ERROR;
	}
	if (!o->has_arg)
		return o->id;
	/* Messages name "--size", not "--size=VALUE". */
	snprintf(a->optbuf, sizeof(a->optbuf), "--%s", o->name);
	a->opt = a->optbuf;
	return take_value(a, o, eq ? eq + 1 : NULL);
}

static int next_short(struct wp_args *a, const char *s)
{
	const struct wp_opt *o;

	a->optbuf[0] = '-';
	a->optbuf[1] = s[1];
	a->optbuf[2] = '\0';
	a->opt = a->optbuf;
	if (s[1] == 'h' && s[2] == '\0') {
		wp_cli_help(a->cmd);
		return WP_ARG_HELP;
	}
	o = find_short(a, s[1]);
	if (!o)
		return unknown_option(a, s[2] ? s : a->optbuf);
	if (o->has_arg)
		return take_value(a, o, s[2] ? s + 2 : NULL);
	if (s[2]) {
		wp_cli_usage_error(a->cmd,
				   "%s: takes no value, and options cannot be "
				   "bundled (got '%s'; give them separately)",
				   a->optbuf, s);
		return WP_ARG_ERROR;
	}
	return o->id;
}

int wp_args_next(struct wp_args *a)
{
	const char *s;

	for (;;) {
		if (a->next >= a->argc)
			return WP_ARG_END;
		s = a->argv[a->next++];
		a->opt = NULL;
		a->arg = NULL;
		if (a->only_positional || s[0] != '-' || s[1] == '\0') {
			a->arg = s;
			return WP_ARG_POSITIONAL;
		}
		if (strcmp(s, "--") == 0) {
			a->only_positional = true;
			continue;
		}
		if (s[1] == '-')
			return next_long(a, s);
		return next_short(a, s);
	}
}

/* --- numbers -------------------------------------------------------------- */

struct suffix {
	const char *text;
	uint64_t mult;
};

static const struct suffix bytes_suffixes[] = {
	{ "k", 1ULL << 10 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 },
	{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
	{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	{ NULL, 0 },
};

static const struct suffix si_suffixes[] = {
	{ "k", 1000ULL }, { "K", 1000ULL },
	{ "M", 1000000ULL },
	{ "G", 1000000000ULL },
	{ NULL, 0 },
};

static const struct suffix duration_suffixes[] = {
	{ "ns", 1ULL },
	{ "us", 1000ULL }, { "\xc2\xb5s", 1000ULL }, /* µs */
	{ "ms", 1000000ULL },
	{ "s", 1000000000ULL },
	{ "m", 60ULL * 1000000000ULL },
	{ "h", 3600ULL * 1000000000ULL },
	{ NULL, 0 },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A decimal "I[.F]" at s: the integer part in *ip, the fraction's digits
 * (trailing zeros dropped) in *fp with their count in *fdigits, and the
 * end in *end. Returns 0, -ERANGE when I overflows or F has more than 18
 * significant digits, -EINVAL when there is no digit before the point or
 * none after it.
 */
static int parse_decimal(const char *s, uint64_t *ip, uint64_t *fp,
			 unsigned *fdigits, const char **end)
{
	uint64_t i = 0, f = 0;
	unsigned nf = 0, zeros = 0;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		if (__builtin_mul_overflow(i, 10, &i) ||
		    __builtin_add_overflow(i, (uint64_t)(*s - '0'), &i))
			return -ERANGE;
	}
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return -EINVAL;
		for (; is_digit(*s); s++) {
			if (*s == '0') {
				zeros++; /* kept only if a non-zero follows */
				continue;
			}
			for (; zeros; zeros--, nf++)
				f *= 10;
			if (++nf > 18)
				return -ERANGE;
			f = f * 10 + (uint64_t)(*s - '0');
		}
	}
	*ip = i;
	*fp = f;
	*fdigits = nf;
	*end = s;
	return 0;
}

static uint64_t pow10u(unsigned n)
{
	uint64_t p = 1;

	while (n--)
		p *= 10;
	return p;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* I.F * mult as a whole number: -EDOM if not whole, -ERANGE if too big. */
static int scale(uint64_t i, uint64_t f, unsigned fdigits, uint64_t mult,
		 uint64_t *out)
{
	uint64_t whole, div, g;

	if (__builtin_mul_overflow(i, mult, &whole))
		return -ERANGE;
	if (f) {
		/*
		 * f * mult / 10^fdigits without the product, which can pass
		 * 64 bits: with g = gcd(mult, div) the result is whole iff
		 * div/g divides f, and then it is (f / (div/g)) * (mult/g),
		 * which is below mult because f < div.
		 */
		div = pow10u(fdigits);
		g = gcd_u64(mult, div);
		if (f % (div / g))
			return -EDOM;
		if (__builtin_add_overflow(whole, f / (div / g) * (mult / g),
					   &whole))
			return -ERANGE;
	}
	*out = whole;
	return 0;
}

static const struct suffix *match_suffix(const struct suffix *t,
					 const char *s)
{
	for (; t && t->text; t++)
		if (strcmp(t->text, s) == 0)
			return t;
	return NULL;
}

static void describe_range_u64(char *buf, size_t size, enum wp_unit unit,
			       uint64_t min, uint64_t max)
{
	static const char *const hint[] = {
		[WP_UNIT_NONE] = "",
		[WP_UNIT_BYTES] = "; suffix K, M or G multiplies by 1024^n",
		[WP_UNIT_SI] = "; suffix k, M or G multiplies by 1000^n",
	};

	if (max == UINT64_MAX)
		snprintf(buf, size, "an integer >= %llu%s",
			 (unsigned long long)min, hint[unit]);
	else if (min == max)
		snprintf(buf, size, "%llu", (unsigned long long)min);
	else
		snprintf(buf, size, "an integer %llu..%llu%s",
			 (unsigned long long)min, (unsigned long long)max,
			 hint[unit]);
}

int wp_parse_u64(const char *cmd, const char *what, const char *s,
		 enum wp_unit unit, uint64_t min, uint64_t max, uint64_t *out)
{
	const struct suffix *table = NULL, *suf = NULL;
	char expected[160];
	uint64_t i, f, v;
	unsigned nf;
	const char *end;
	int err;

	describe_range_u64(expected, sizeof(expected), unit, min, max);
	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	if (*s == '-')
		return bad_value(cmd, what, expected,
				 "'%s' is negative", s);
	err = parse_decimal(s, &i, &f, &nf, &end);
	if (err == -ERANGE)
		return bad_value(cmd, what, expected, "'%s' is too large", s);
	if (err)
		return bad_value(cmd, what, expected, "'%s' is not a number",
				 s);
	if (unit == WP_UNIT_BYTES)
		table = bytes_suffixes;
	else if (unit == WP_UNIT_SI)
		table = si_suffixes;
	if (*end) {
		suf = match_suffix(table, end);
		if (!suf)
			return bad_value(cmd, what, expected,
					 "'%s' has trailing characters '%s'",
					 s, end);
	}
	if (nf && unit == WP_UNIT_NONE)
		return bad_value(cmd, what, expected,
				 "'%s' is not a whole number", s);
	err = scale(i, f, nf, suf ? suf->mult : 1, &v);
	if (err == -ERANGE)
		return bad_value(cmd, what, expected, "'%s' is too large", s);
	if (err)
		return bad_value(cmd, what, expected,
				 "'%s' is not a whole number", s);
	if (v < min || v > max)
		return bad_value(cmd, what, expected, "'%s' is out of range",
				 s);
	*out = v;
	return 0;
}

int wp_parse_i64(const char *cmd, const char *what, const char *s,
		 int64_t min, int64_t max, int64_t *out)
{
	char expected[96];
	bool neg = *s == '-';
	uint64_t mag = 0;
	int64_t v;
	const char *p = s + neg;

	snprintf(expected, sizeof(expected), "an integer %lld..%lld",
		 (long long)min, (long long)max);
	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	if (!is_digit(*p))
		return bad_value(cmd, what, expected, "'%s' is not a number",
				 s);
	for (; is_digit(*p); p++) {
		if (__builtin_mul_overflow(mag, 10, &mag) ||
		    __builtin_add_overflow(mag, (uint64_t)(*p - '0'), &mag))
			return bad_value(cmd, what, expected,
					 "'%s' is out of range", s);
	}
	if (*p)
		return bad_value(cmd, what, expected,
				 "'%s' has trailing characters '%s'", s, p);
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return bad_value(cmd, what, expected,
					 "'%s' is out of range", s);
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return bad_value(cmd, what, expected,
					 "'%s' is out of range", s);
		v = (int64_t)mag;
	}
	if (v < min || v > max)
		return bad_value(cmd, what, expected, "'%s' is out of range",
				 s);
	*out = v;
	return 0;
}

/* [-]D+[.D+][(e|E)[+-]D+]: what strtod may see (no inf, nan, hex, blanks). */
static const char *scan_plain_double(const char *s)
{
	if (*s == '-')
		s++;
	if (!is_digit(*s))
		return NULL;
	while (is_digit(*s))
		s++;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return NULL;
		while (is_digit(*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_digit(*s))
			return NULL;
		while (is_digit(*s))
			s++;
	}
	return s;
}

int wp_parse_double(const char *cmd, const char *what, const char *s,
		    double min, double max, double *out)
{
	char expected[96];
	const char *end;
	char *strtod_end;
	double v;

	snprintf(expected, sizeof(expected), "a number %g..%g", min, max);
	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	end = scan_plain_double(s);
	if (!end)
		return bad_value(cmd, what, expected, "'%s' is not a number",
				 s);
	if (*end)
		return bad_value(cmd, what, expected,
				 "'%s' has trailing characters '%s'", s, end);
	errno = 0;
	v = strtod(s, &strtod_end);
	if (strtod_end != end || (errno == ERANGE && fabs(v) > 1.0) ||
	    !isfinite(v))
		return bad_value(cmd, what, expected, "'%s' is out of range",
				 s);
	if (!(v >= min && v <= max))
		return bad_value(cmd, what, expected, "'%s' is out of range",
				 s);
	*out = v;
	return 0;
}

/* "1.5s" style: the largest unit that divides ns exactly. */
static void format_duration(char *buf, size_t size, uint64_t ns)
{
	static const struct suffix units[] = {
		{ "s", 1000000000ULL }, { "ms", 1000000ULL },
		{ "us", 1000ULL }, { "ns", 1ULL },
	};

	for (unsigned i = 0; i < 4; i++) {
		if (ns % units[i].mult == 0) {
			snprintf(buf, size, "%llu%s",
				 (unsigned long long)(ns / units[i].mult),
				 units[i].text);
			return;
		}
	}
}

int wp_parse_duration(const char *cmd, const char *what, const char *s,
		      uint64_t bare_unit_ns, uint64_t min_ns, uint64_t max_ns,
		      uint64_t *out_ns)
{
	char expected[192], lo[32], hi[32], bare[64] = "";
	const struct suffix *suf;
	uint64_t i, f, v, mult;
	unsigned nf;
	const char *end;
	int err;

	format_duration(lo, sizeof(lo), min_ns);
	format_duration(hi, sizeof(hi), max_ns);
	if (bare_unit_ns) {
		char unit[32];

		format_duration(unit, sizeof(unit), bare_unit_ns);
		snprintf(bare, sizeof(bare), "; a bare number counts %s", unit);
	}
	snprintf(expected, sizeof(expected),
		 "a duration %s..%s with a unit ns, us, ms, s, m or h%s", lo,
		 hi, bare);
	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	if (*s == '-')
		return bad_value(cmd, what, expected, "'%s' is negative", s);
	err = parse_decimal(s, &i, &f, &nf, &end);
	if (err == -ERANGE)
		return bad_value(cmd, what, expected, "'%s' is too long", s);
	if (err)
		return bad_value(cmd, what, expected, "'%s' is not a duration",
				 s);
	if (*end == '\0') {
		if (!bare_unit_ns)
			return bad_value(cmd, what, expected,
					 "'%s' has no unit", s);
		mult = bare_unit_ns;
	} else {
		suf = match_suffix(duration_suffixes, end);
		if (!suf)
			return bad_value(cmd, what, expected,
					 "'%s' has an unknown unit '%s'", s,
					 end);
		mult = suf->mult;
	}
	err = scale(i, f, nf, mult, &v);
	if (err == -ERANGE)
		return bad_value(cmd, what, expected, "'%s' is too long", s);
	if (err)
		return bad_value(cmd, what, expected,
				 "'%s' is finer than a nanosecond", s);
	if (v < min_ns || v > max_ns)
		return bad_value(cmd, what, expected, "'%s' is out of range",
				 s);
	*out_ns = v;
	return 0;
}

/* --- addresses ------------------------------------------------------------ */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int wp_parse_mac(const char *cmd, const char *what, const char *s,
		 uint8_t mac[6])
{
	static const char expected[] =
		"six hex bytes separated by ':', like 02:00:00:00:00:01";
	uint8_t m[6];
	const char *p = s;

	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(p[0]), lo;

		if (hi < 0)
			return bad_value(cmd, what, expected,
					 "'%s' is not a MAC address", s);
		lo = hex_value(p[1]);
		if (lo < 0) {
			m[i] = (uint8_t)hi;
			p += 1;
		} else {
			m[i] = (uint8_t)(hi << 4 | lo);
			p += 2;
		}
		if (i < 5) {
			if (*p != ':')
				return bad_value(cmd, what, expected,
						 "'%s' is not a MAC address",
						 s);
			p++;
		}
	}
	if (*p)
		return bad_value(cmd, what, expected,
				 "'%s' has trailing characters '%s'", s, p);
	memcpy(mac, m, 6);
	return 0;
}

/*
 * Four decimal parts of s[0..len) into a host-order address. The problem,
 * if any, goes into why (a static string) so callers can name the option.
 */
static int scan_ipv4(const char *s, size_t len, uint32_t *addr,
		     const char **why)
{
	uint32_t a = 0;
	size_t k = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;
		size_t start = k;

		while (k < len && is_digit(s[k])) {
			if (++digits > 3) {
				*why = "has a part above 255";
				return -EINVAL;
			}
			v = v * 10 + (unsigned)(s[k++] - '0');
		}
		if (!digits) {
			*why = "is not an IPv4 address";
			return -EINVAL;
		}
		if (digits > 1 && s[start] == '0') {
			*why = "has a part with a leading zero";
			return -EINVAL;
		}
		if (v > 255) {
			*why = "has a part above 255";
			return -EINVAL;
		}
		a = a << 8 | v;
		if (part < 3) {
			if (k >= len || s[k] != '.') {
				*why = "is not an IPv4 address";
				return -EINVAL;
			}
			k++;
		}
	}
	if (k != len) {
		*why = "is not an IPv4 address";
		return -EINVAL;
	}
	*addr = a;
	return 0;
}

int wp_parse_ipv4(const char *cmd, const char *what, const char *s,
		  uint32_t *addr)
{
	static const char expected[] =
		"A.B.C.D, four decimal parts 0..255 without leading zeros";
	const char *why;

	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	if (scan_ipv4(s, strlen(s), addr, &why))
		return bad_value(cmd, what, expected, "'%s' %s", s, why);
	return 0;
}

int wp_parse_ipv4_prefix(const char *cmd, const char *what, const char *s,
			 bool prefix_optional, uint32_t *addr, unsigned *plen)
{
	const char *expected = prefix_optional ?
		"A.B.C.D or A.B.C.D/N with N 0..32, like 10.0.0.2/24" :
		"A.B.C.D/N with N 0..32, like 10.0.0.2/24";
	const char *slash = strchr(s, '/'), *why, *p;
	uint32_t a;
	unsigned n = 0;

	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	if (scan_ipv4(s, slash ? (size_t)(slash - s) : strlen(s), &a, &why))
		return bad_value(cmd, what, expected, "'%s' %s", s, why);
	if (!slash) {
		if (!prefix_optional)
			return bad_value(cmd, what, expected,
					 "'%s' has no /prefix length", s);
		n = 32;
	} else {
		p = slash + 1;
		if (!is_digit(*p))
			return bad_value(cmd, what, expected,
					 "'%s' has no prefix length after '/'",
					 s);
		for (; is_digit(*p) && n <= 32; p++)
			n = n * 10 + (unsigned)(*p - '0');
		if (is_digit(*p) || n > 32)
			return bad_value(cmd, what, expected,
					 "'%s' has a prefix length above 32",
					 s);
		if (*p)
			return bad_value(cmd, what, expected,
					 "'%s' has trailing characters '%s'",
					 s, p);
		if (slash[1] == '0' && slash[2] != '\0')
			return bad_value(cmd, what, expected,
					 "'%s' has a prefix length with a "
					 "leading zero", s);
	}
	*addr = a;
	*plen = n;
	return 0;
}

int wp_parse_choice(const char *cmd, const char *what, const char *s,
		    const char *const *names, unsigned *index)
{
	char expected[256] = "one of ";
	size_t n = strlen(expected);

	for (unsigned i = 0; names[i]; i++) {
		if (strcmp(names[i], s) == 0) {
			*index = i;
			return 0;
		}
	}
	for (unsigned i = 0; names[i] && n < sizeof(expected); i++) {
		int w = snprintf(expected + n, sizeof(expected) - n, "%s%s",
				 i ? ", " : "", names[i]);

		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (*s == '\0')
		return bad_value(cmd, what, expected, "empty value");
	return bad_value(cmd, what, expected, "'%s' is not a choice", s);
}

/* --- JSON lines ----------------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one: overlong forms, surrogates and code points
 * above U+10FFFF are invalid (RFC 3629 section 4).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void wp_json_write_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, f);
			} else if ((n = utf8_len(s + i, len - i)) != 0) {
				fwrite(s + i, 1, n, f);
				i += n;
				continue;
			} else {
				fputs("\\ufffd", f);
			}
		}
		i++;
	}
	fputc('"', f);
}

static void member(struct wp_json *j, const char *key)
{
	assert(j->depth > 0);
	if (!j->first[j->depth - 1])
		fputc(',', j->f);
	j->first[j->depth - 1] = false;
	if (key) {
		wp_json_write_string(j->f, key, strlen(key));
		fputc(':', j->f);
	}
}

static void open_level(struct wp_json *j, char c)
{
	assert(j->depth < WP_JSON_DEPTH);
	fputc(c, j->f);
	j->first[j->depth++] = true;
}

static void close_level(struct wp_json *j, char c)
{
	assert(j->depth > 0);
	j->depth--;
	fputc(c, j->f);
}

void wp_json_begin(struct wp_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	open_level(j, '{');
}

void wp_json_end(struct wp_json *j)
{
	close_level(j, '}');
	assert(j->depth == 0);
	fputc('\n', j->f);
	fflush(j->f); /* a reader of a pipe sees each record when it is made */
}

void wp_json_str(struct wp_json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		wp_json_write_string(j->f, val, strlen(val));
	else
		fputs("null", j->f);
}

void wp_json_u64(struct wp_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void wp_json_i64(struct wp_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void wp_json_double(struct wp_json *j, const char *key, double v)
{
	member(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.15g", v);
	else
		fputs("null", j->f);
}

void wp_json_bool(struct wp_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void wp_json_null(struct wp_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void wp_json_object_begin(struct wp_json *j, const char *key)
{
	member(j, key);
	open_level(j, '{');
}

void wp_json_object_end(struct wp_json *j)
{
	close_level(j, '}');
}

void wp_json_array_begin(struct wp_json *j, const char *key)
{
	member(j, key);
	open_level(j, '[');
}

void wp_json_array_end(struct wp_json *j)
{
	close_level(j, ']');
}
