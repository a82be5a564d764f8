/* SPDX-License-Identifier: MIT */
/*
 * The wirepath command's framework: the command table, strict option
 * parsing, and a JSON-lines writer.
 *
 * Conventions every command follows (a contract: scripts, tests and the
 * docs rely on it, see docs/cli.md):
 *
 *   - unknown command or option, or an option without its value: one
 *     line "wirepath CMD: <option>: <what is wrong> (expected ...)" and
 *     the usage on stderr, exit 2 (WP_EXIT_USAGE);
 *   - a bad value (or values that conflict): the one line
 *     "wirepath CMD: <option>: <what is wrong> (expected ...)" on stderr,
 *     exit 2; the usage is not repeated, the line says what is expected;
 *   - runtime failure: "wirepath CMD: <problem>: <fix>" on stderr,
 *     exit 1 (WP_EXIT_FAILURE);
 *   - -h/--help, on the top level and on every command: the complete usage
 *     on stdout, exit 0;
 *   - --json: one JSON object per line on stdout, nothing else on stdout.
 *
 * Adding a command: write tools/cmd_<name>.c with a handler and end it with
 *
 *     WP_CMD_REGISTER(wp_cmd_<name>, "<name>", "<one-line summary>",
 *                     usage_text, handler);
 *
 * then add the file name to tools/meson.build's list (already done for
 * the planned commands). Nothing else changes: wirepath.c never names a
 * command.
 *
 * Why constructors rather than a table in wirepath.c: tools/meson.build
 * compiles each cmd_*.c only when it exists, so a static table would name
 * symbols that may be absent (a link error) or need weak symbols and an
 * edit of wirepath.c per command. The command objects are linked straight
 * into the executable (not through an archive), so the linker cannot drop
 * a constructor; bench/bench.h registers benchmarks the same way, so one
 * mechanism serves both. Two commands with one name are a build bug:
 * registration aborts with a message before main() runs.
 */
#ifndef WP_TOOLS_CLI_H
#define WP_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum wp_exit {
	WP_EXIT_OK = 0,
	WP_EXIT_FAILURE = 1, /* runtime failure: the message says the fix */
	WP_EXIT_USAGE = 2,   /* unknown command/option, bad value */
};

/* --- the command table ---------------------------------------------------- */

/*
 * A handler gets argv[0] == the command's name and the arguments after
 * it; it returns an enum wp_exit value (the process exit status).
 */
typedef int (*wp_cmd_fn)(int argc, char **argv);

struct wp_cmd {
	const char *name;    /* "skb": what the user types after wirepath */
	const char *summary; /* one line, no final period: `wirepath --help` */
	const char *usage;   /* complete usage text, ends with a newline */
	wp_cmd_fn run;
};

/* Called by WP_CMD_REGISTER before main(); aborts on a duplicate name. */
void wp_cmd_register(const struct wp_cmd *cmd);
const struct wp_cmd *wp_cmd_find(const char *name);
/* The i-th registered command in name order, or NULL past the end. */
const struct wp_cmd *wp_cmd_at(unsigned i);

#define WP_CMD_REGISTER(var, name, summary, usage, fn)                     \
	static const struct wp_cmd var = { name, summary, usage, fn };     \
	static void __attribute__((constructor)) var##__register(void)     \
	{                                                                  \
		wp_cmd_register(&var);                                     \
	}

/* --- messages ------------------------------------------------------------- */

/*
 * "wirepath CMD: <message>" on stderr; returns WP_EXIT_FAILURE so a
 * handler can `return wp_cli_fail(...)`. The message should name the
 * problem and its fix.
 */
int wp_cli_fail(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * "wirepath CMD: <message>" then the command's usage on stderr; returns
 * WP_EXIT_USAGE. (The top level's own errors are wirepath.c's.)
 */
int wp_cli_usage_error(const struct wp_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A bad value, or values that conflict, found after parsing:
 * "wirepath CMD: WHAT: <message> (expected EXPECTED)" on stderr; returns
 * WP_EXIT_USAGE. The value parsers below print the same line.
 */
int wp_cli_bad_value(const char *cmd, const char *what, const char *expected,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The command's usage on stdout (for --help); returns WP_EXIT_OK. */
int wp_cli_help(const struct wp_cmd *cmd);

/* --- option parsing ------------------------------------------------------- */

/*
 * A strict, getopt_long-like iterator: "--name VALUE", "--name=VALUE",
 * "-x VALUE", "-xVALUE" for options with a value; "--" ends the options
 * (the rest are positional); "-" alone is positional. Options and
 * positional arguments may be mixed; positional ones come back in order.
 * -h and --help are built in. Abbreviations are not accepted: scripts
 * that work today keep working when an option is added.
 */
struct wp_opt {
	const char *name; /* long name without "--"; NULL ends the table */
	char short_name;  /* 0 if none */
	bool has_arg;
	int id;           /* >= 0, returned by wp_args_next */
};

enum {
	WP_ARG_END = -1,        /* no more arguments */
	WP_ARG_HELP = -2,       /* usage printed on stdout: exit WP_EXIT_OK */
	WP_ARG_ERROR = -3,      /* message and usage printed on stderr:
				 * exit WP_EXIT_USAGE */
	WP_ARG_POSITIONAL = -4, /* a positional argument, in arg */
};

struct wp_args {
	const struct wp_cmd *cmd;
	const struct wp_opt *opts;
	int argc;
	char **argv;
	int next;          /* index of the next argv element */
	bool only_positional; /* after "--" */
	/* Set by wp_args_next: */
	const char *opt;   /* the option ("--size", "-s"), for messages */
	const char *arg;   /* its value, or the positional argument */
	char optbuf[64];   /* storage behind opt */
};

/* argv[0] is the command name and is skipped. */
void wp_args_init(struct wp_args *a, const struct wp_cmd *cmd,
		  const struct wp_opt *opts, int argc, char **argv);

/* An option id (>= 0) or one of WP_ARG_*. */
int wp_args_next(struct wp_args *a);

/*
 * Value parsers. Each returns 0 and sets *out, or prints
 * "wirepath CMD: WHAT: <what is wrong> (expected ...)" on stderr and
 * returns -EINVAL leaving *out untouched. cmd is the command's name
 * ("skb"); what names the option or operand as the user typed it
 * ("--size", "push:N"). Leading/trailing blanks, signs on unsigned values,
 * empty strings and trailing garbage are errors, never silently ignored.
 */
enum wp_unit {
	WP_UNIT_NONE,  /* a plain integer */
	WP_UNIT_BYTES, /* optional K/KiB, M/MiB, G/GiB suffix: powers of 1024 */
	WP_UNIT_SI,    /* optional k/K, M, G suffix: powers of 1000, a decimal
			* mantissa allowed if the result is whole ("1.5M") */
};

int wp_parse_u64(const char *cmd, const char *what, const char *s,
		 enum wp_unit unit, uint64_t min, uint64_t max, uint64_t *out);
int wp_parse_i64(const char *cmd, const char *what, const char *s,
		 int64_t min, int64_t max, int64_t *out);

static inline int wp_parse_u32(const char *cmd, const char *what,
			       const char *s, enum wp_unit unit, uint32_t min,
			       uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = wp_parse_u64(cmd, what, s, unit, min, max, &v);

	if (err == 0)
		*out = (uint32_t)v;
	return err;
}

/* A finite decimal number in [min, max] (no nan, no inf, no hex). */
int wp_parse_double(const char *cmd, const char *what, const char *s,
		    double min, double max, double *out);

/*
 * A duration "250ns", "50us", "2ms", "1.5s", "1m" (minutes) into
 * nanoseconds, in [min_ns, max_ns]. A bare number is in bare_unit_ns
 * (1000 for an option named in microseconds, like rx-usecs); 0 there
 * makes the unit mandatory.
 */
int wp_parse_duration(const char *cmd, const char *what, const char *s,
		      uint64_t bare_unit_ns, uint64_t min_ns, uint64_t max_ns,
		      uint64_t *out_ns);

/* "02:00:5e:00:00:01": six groups of one or two hex digits, ':'-separated. */
int wp_parse_mac(const char *cmd, const char *what, const char *s,
		 uint8_t mac[6]);

/*
 * Dotted-quad IPv4 into host order. Exactly four decimal parts 0..255 and
 * no leading zeros ("010" is octal to inet_aton and decimal to others:
 * refused rather than guessed).
 */
int wp_parse_ipv4(const char *cmd, const char *what, const char *s,
		  uint32_t *addr);

/*
 * "A.B.C.D/N" (interface address and prefix length 0..32; host bits may
 * be set). When prefix_optional, a bare address gives *plen = 32.
 */
int wp_parse_ipv4_prefix(const char *cmd, const char *what, const char *s,
			 bool prefix_optional, uint32_t *addr, unsigned *plen);

/* One of names[] (NULL-terminated); *index is its position. */
int wp_parse_choice(const char *cmd, const char *what, const char *s,
		    const char *const *names, unsigned *index);

/* --- JSON lines ----------------------------------------------------------- */

/*
 * A tiny writer for one JSON object per line:
 *
 *     struct wp_json j;
 *     wp_json_begin(&j, stdout);
 *     wp_json_str(&j, "op", "pull:eth");
 *     wp_json_u64(&j, "data", 78);
 *     wp_json_array_begin(&j, "layers");
 *     wp_json_str(&j, NULL, "ip");        (NULL key: an array element)
 *     wp_json_array_end(&j);
 *     wp_json_end(&j);                    ("}\n", then fflush)
 *
 * Strings are escaped per RFC 8259 section 7; bytes that are not valid
 * UTF-8 become U+FFFD so the line always parses. Non-finite doubles are
 * written as null. Nesting deeper than WP_JSON_DEPTH is a programming
 * error (assert).
 */
#define WP_JSON_DEPTH 8

struct wp_json {
	FILE *f;
	unsigned depth;
	bool first[WP_JSON_DEPTH]; /* no comma before the next member */
};

void wp_json_begin(struct wp_json *j, FILE *f);
void wp_json_end(struct wp_json *j);
void wp_json_str(struct wp_json *j, const char *key, const char *val);
void wp_json_u64(struct wp_json *j, const char *key, uint64_t v);
void wp_json_i64(struct wp_json *j, const char *key, int64_t v);
void wp_json_double(struct wp_json *j, const char *key, double v);
void wp_json_bool(struct wp_json *j, const char *key, bool v);
void wp_json_null(struct wp_json *j, const char *key);
void wp_json_object_begin(struct wp_json *j, const char *key);
void wp_json_object_end(struct wp_json *j);
void wp_json_array_begin(struct wp_json *j, const char *key);
void wp_json_array_end(struct wp_json *j);

/* A JSON string literal (with its quotes) of s[0..len). */
void wp_json_write_string(FILE *f, const char *s, size_t len);

#endif
