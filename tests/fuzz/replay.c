// SPDX-License-Identifier: MIT
/*
 * The replay driver: runs a fuzz target without libFuzzer, so every test
 * run exercises every target (and under ASan/UBSan in the sanitized
 * build). It feeds the target
 *   1. every file named on the command line, and every file in every
 *      directory named there (the seed corpus, crash reproducers);
 *   2. REPLAY_RANDOM inputs from a fixed seed: random bytes, and the
 *      loaded files mutated (bit flips, byte sets, truncation, splices
 *      of interesting values), so the same run repeats exactly.
 * Each input is in a heap buffer of exactly its size. A broken
 * invariant aborts; otherwise it prints what it ran and exits 0.
 *
 *   replay [-n COUNT] [FILE|DIR]...
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	REPLAY_RANDOM = 4000,
	REPLAY_MAX_FILES = 1024,
	REPLAY_MAX_INPUT = 1 << 20,
	REPLAY_MAX_RANDOM_LEN = 300,
};

struct input {
	uint8_t *data;
	size_t size;
};

static struct input files[REPLAY_MAX_FILES];
static size_t nfiles;
static uint64_t rng = 0x5eed5eed2024ull;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static void run(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		perror("replay: malloc");
		exit(1);
	}
	if (size)
		memcpy(copy, data, size);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
}

static int load_file(const char *path)
{
	struct input *in;
	FILE *f;
	long n;

	if (nfiles == REPLAY_MAX_FILES) {
		fprintf(stderr, "replay: more than %d files\n",
			REPLAY_MAX_FILES);
		return -1;
	}
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > REPLAY_MAX_INPUT || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	in = &files[nfiles];
	in->size = (size_t)n;
	in->data = malloc(in->size ? in->size : 1);
	if (!in->data || fread(in->data, 1, in->size, f) != in->size) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		free(in->data);
		fclose(f);
		return -1;
	}
	fclose(f);
	nfiles++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order: the run must not depend on readdir. */
static int load_dir(const char *dir)
{
	char *names[REPLAY_MAX_FILES];
	size_t n = 0, i;
	struct dirent *e;
	char path[4096];
	int err = 0;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) && n < REPLAY_MAX_FILES) {
		if (e->d_name[0] == '.')
			continue;
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			err = -1;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	for (i = 0; i < n; i++) {
		if (!err) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			err = load_file(path);
		}
		free(names[i]);
	}
	return err;
}

static int load(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return S_ISDIR(st.st_mode) ? load_dir(path) : load_file(path);
}

/* Values that sit on the edges parsers check. */
static const uint8_t interesting[] = {
	0x00, 0x01, 0x02, 0x04, 0x05, 0x07, 0x08, 0x0a, 0x0f, 0x10, 0x14,
	0x1f, 0x28, 0x3c, 0x40, 0x45, 0x4f, 0x7f, 0x80, 0xfe, 0xff
};

static size_t mutate(uint8_t *buf, size_t cap)
{
	const struct input *in = &files[rnd() % nfiles];
	size_t n = in->size < cap ? in->size : cap;
	unsigned edits = 1 + rnd() % 4;

	memcpy(buf, in->data, n);
	for (unsigned k = 0; k < edits && n; k++) {
		size_t at = rnd() % n;

		switch (rnd() % 5) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			buf[at] = interesting[rnd() % sizeof(interesting)];
			break;
		case 2:
			buf[at] = (uint8_t)rnd();
			break;
		case 3:
			n = at; /* truncate */
			break;
		default:
			if (n < cap) /* grow by one byte */
				buf[n++] = (uint8_t)rnd();
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t buf[REPLAY_MAX_RANDOM_LEN + 64];
	long count = REPLAY_RANDOM;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		count = strtol(argv[2], NULL, 10);
		i = 3;
	}
	for (; i < argc; i++)
		if (load(argv[i]) != 0)
			return 1;
	for (size_t f = 0; f < nfiles; f++)
		run(files[f].data, files[f].size);
	for (long k = 0; k < count; k++) {
		size_t n;

		if (nfiles && (k & 3) != 0) {
			n = mutate(buf, sizeof(buf));
		} else {
			n = rnd() % REPLAY_MAX_RANDOM_LEN;
			for (size_t j = 0; j < n; j++)
				buf[j] = (uint8_t)rnd();
		}
		run(buf, n);
	}
	printf("replay: %zu files, %ld generated inputs, no crash\n", nfiles,
	       count);
	for (size_t f = 0; f < nfiles; f++)
		free(files[f].data);
	return 0;
}
