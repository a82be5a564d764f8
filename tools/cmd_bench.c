// SPDX-License-Identifier: MIT
/*
 * wirepath bench: run one registered benchmark, or all of them, or list
 * them. The benchmarks live in bench/ and register themselves
 * (WP_BENCH_REGISTER); this file only dispatches and passes the options.
 * Benchmarks report figures and never judge, so the exit status says only
 * whether each one ran.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

static const char usage[] =
	"usage: wirepath bench [NAME] [--json] [--seconds S] [--iterations N]\n"
	"                      [-- BENCH-ARGS...]\n"
	"       wirepath bench --list [--json]\n"
	"\n"
	"Run the benchmark NAME, or every benchmark in name order when NAME\n"
	"is not given. Each prints one record per measurement, with the peer\n"
	"it is measured against (memcpy, the kernel, line rate) in the same "
	"run.\n"
	"\n"
	"options:\n"
	"  --list            list the benchmarks and their summaries\n"
	"  --json            one JSON object per line: each record, or with\n"
	"                    --list {\"name\":...,\"summary\":...}\n"
	"  --seconds S       run each measurement for about S seconds\n"
	"                    (0 < S <= 3600; default: the benchmark's own)\n"
	"  --iterations N    iterations per measurement, 1..10^12, k/M/G "
	"suffixes\n"
	"                    allowed (default: the benchmark's own)\n"
	"  -- BENCH-ARGS     the rest goes to benchmark NAME (needs NAME)\n"
	"  -h, --help        this text\n"
	"\n"
	"Exit status: 0 every benchmark ran; 1 one failed (the others still "
	"run);\n"
	"2 unknown NAME (the list is printed on stderr) or bad option.\n";

static int run(int argc, char **argv);

WP_CMD_REGISTER(wp_cmd_bench, "bench",
		"run the benchmarks (each measured against its peer)", usage,
		run)

enum { OPT_LIST, OPT_JSON, OPT_SECONDS, OPT_ITERATIONS };

static const struct wp_opt opts[] = {
	{ "list", 0, false, OPT_LIST },
	{ "json", 0, false, OPT_JSON },
	{ "seconds", 0, true, OPT_SECONDS },
	{ "iterations", 0, true, OPT_ITERATIONS },
	{ NULL, 0, false, 0 },
};

static void list(FILE *f, bool json)
{
	const struct wp_bench *b;
	struct wp_json j;

	for (unsigned i = 0; (b = wp_bench_at(i)) != NULL; i++) {
		if (json) {
			wp_json_begin(&j, f);
			wp_json_str(&j, "name", b->name);
			wp_json_str(&j, "summary", b->summary);
			wp_json_end(&j);
		} else {
			fprintf(f, "  %-12s %s\n", b->name, b->summary);
		}
	}
}

static int run_one(const struct wp_bench *b, const struct wp_bench_opts *o)
{
	int ret;

	if (!o->json) {
		printf("== %s: %s\n", b->name, b->summary);
		fflush(stdout);
	}
	ret = b->fn(o);
	fflush(stdout);
	if (ret != 0) {
		wp_cli_fail("bench",
			    "%s failed (returned %d): see its message above",
			    b->name, ret);
		return WP_EXIT_FAILURE;
	}
	return WP_EXIT_OK;
}

static int run(int argc, char **argv)
{
	struct wp_bench_opts o = { 0 };
	const struct wp_bench *b;
	const char *name = NULL;
	bool want_list = false;
	struct wp_args a;
	int id, status = WP_EXIT_OK;

	wp_args_init(&a, &wp_cmd_bench, opts, argc, argv);
	while ((id = wp_args_next(&a)) != WP_ARG_END) {
		switch (id) {
		case WP_ARG_HELP:
			return WP_EXIT_OK;
		case WP_ARG_ERROR:
			return WP_EXIT_USAGE;
		case WP_ARG_POSITIONAL:
			if (a.only_positional) {
				/* After "--": this and the rest are the
				 * benchmark's own arguments. */
				a.next--;
				goto bench_args;
			}
			if (name)
				return wp_cli_usage_error(
					&wp_cmd_bench,
					"%s: only one NAME may be given "
					"(already have '%s')", a.arg, name);
			name = a.arg;
			break;
		case OPT_LIST:
			want_list = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_SECONDS:
			if (wp_parse_double("bench", a.opt, a.arg, 1e-6, 3600,
					    &o.seconds))
				return WP_EXIT_USAGE;
			break;
		case OPT_ITERATIONS:
			if (wp_parse_u64("bench", a.opt, a.arg, WP_UNIT_SI, 1,
					 1000000000000ULL, &o.iterations))
				return WP_EXIT_USAGE;
			break;
		}
	}
bench_args:
	o.argc = argc - a.next;
	o.argv = argv + a.next;

	if (want_list) {
		if (name || o.argc)
			return wp_cli_usage_error(&wp_cmd_bench,
				"--list: takes no NAME or BENCH-ARGS");
		if (!wp_bench_at(0) && !o.json)
			fputs("no benchmarks are built into this wirepath\n",
			      stderr);
		list(stdout, o.json);
		return WP_EXIT_OK;
	}
	if (!name) {
		if (o.argc)
			return wp_cli_usage_error(&wp_cmd_bench,
				"BENCH-ARGS: need a NAME (they are that "
				"benchmark's own)");
		if (!wp_bench_at(0))
			return wp_cli_fail("bench",
				"no benchmarks are built into this wirepath: "
				"add bench/bench_<name>.c and rebuild");
		for (unsigned i = 0; (b = wp_bench_at(i)) != NULL; i++)
			if (run_one(b, &o) != WP_EXIT_OK)
				status = WP_EXIT_FAILURE;
		return status;
	}
	b = wp_bench_find(name);
	if (!b) {
		fflush(stdout);
		fprintf(stderr, "wirepath bench: %s: no such benchmark "
			"(expected one of the list below)\n", name);
		if (wp_bench_at(0))
			list(stderr, false);
		else
			fputs("  (none are built into this wirepath)\n",
			      stderr);
		return WP_EXIT_USAGE;
	}
	return run_one(b, &o);
}
