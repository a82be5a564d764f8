// SPDX-License-Identifier: MIT
/*
 * pcap reader and writer: round trips, every header variant the reader
 * takes, and a crafted file for every way a header or record can lie.
 */
#include "test_core_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "nic/backend/pcapfile.h"

/* --- crafting files ------------------------------------------------------ */

struct craft {
	uint8_t buf[4096];
	size_t len;
	bool be; /* big-endian file */
	bool nsec;
};

static void c_put32(struct craft *c, uint32_t v)
{
	uint8_t *p = c->buf + c->len;

	if (c->be) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	} else {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
		p[3] = (uint8_t)(v >> 24);
	}
	c->len += 4;
}

static void c_put16(struct craft *c, uint16_t v)
{
	uint8_t *p = c->buf + c->len;

	if (c->be) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	} else {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
	c->len += 2;
}

static void c_header_full(struct craft *c, uint32_t magic, uint16_t major,
			  uint16_t minor, uint32_t snaplen, uint32_t linktype)
{
	c_put32(c, magic);
	c_put16(c, major);
	c_put16(c, minor);
	c_put32(c, 0);
	c_put32(c, 0);
	c_put32(c, snaplen);
	c_put32(c, linktype);
}

static void c_header(struct craft *c, bool be, bool nsec)
{
	memset(c, 0, sizeof(*c));
	c->be = be;
	c->nsec = nsec;
	c_header_full(c, nsec ? WP_PCAP_MAGIC_NSEC : WP_PCAP_MAGIC_USEC, 2, 4,
		      65535, 1);
}

static void c_record(struct craft *c, uint32_t sec, uint32_t frac,
		     uint32_t caplen, uint32_t len, uint8_t fill)
{
	c_put32(c, sec);
	c_put32(c, frac);
	c_put32(c, caplen);
	c_put32(c, len);
	memset(c->buf + c->len, fill, caplen);
	c->len += caplen;
}

static void tmp_path(char *path, size_t len, const char *tag)
{
	snprintf(path, len, "/tmp/wp_test_pcapfile_%d_%s.pcap", (int)getpid(),
		 tag);
}

/* --- round trips --------------------------------------------------------- */

static void write_then_read_round_trip(void **state)
{
	static const uint32_t lens[] = { 60, 61, 1514, 14, 9014, 0, 64 };
	struct wp_pcap_writer w;
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	uint8_t frame[9014], hdr[24];
	char path[128];
	FILE *f;

	tmp_path(path, sizeof(path), "rt");
	assert_int_equal(wp_pcap_writer_open(&w, path), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (uint32_t k = 0; k < lens[i]; k++)
			frame[k] = (uint8_t)(k * 7 + i);
		assert_int_equal(wp_pcap_write(&w,
					       5 * WP_NSEC_PER_SEC + i * 999,
					       frame, lens[i]),
				 0);
	}
	assert_int_equal(w.records, 7);
	assert_int_equal(wp_pcap_writer_close(&w), 0);
	assert_int_equal(wp_pcap_writer_close(&w), 0); /* twice: no-op */

	/* The header is what tcpdump expects: ns magic, LE, 2.4, 65535, 1. */
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, 24, f), 24);
	fclose(f);
	static const uint8_t want[24] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0,
					  0,	0,    0,    0,	  0, 0, 0, 0,
					  0xff, 0xff, 0,    0,	  1, 0, 0, 0 };
	assert_memory_equal(hdr, want, 24);

	assert_int_equal(wp_pcap_reader_open(&r, path), 0);
	assert_true(r.nsec);
	assert_false(r.big_endian);
	assert_int_equal(r.snaplen, 65535);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_int_equal(wp_pcap_read(&r, &rec), 1);
		assert_int_equal(rec.ts_ns, 5 * WP_NSEC_PER_SEC + i * 999);
		assert_int_equal(rec.len, lens[i]);
		assert_int_equal(rec.caplen, lens[i]);
		for (uint32_t k = 0; k < lens[i]; k++)
			assert_int_equal(rec.data[k], (uint8_t)(k * 7 + i));
	}
	assert_int_equal(wp_pcap_read(&r, &rec), 0);
	assert_int_equal(wp_pcap_read(&r, &rec), 0); /* EOF stays EOF */
	assert_int_equal(r.records, 7);

	/* Rewind: the same records again. */
	assert_int_equal(wp_pcap_rewind(&r), 0);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.len, 60);
	assert_int_equal(rec.ts_ns, 5 * WP_NSEC_PER_SEC);
	wp_pcap_reader_close(&r);
	wp_pcap_reader_close(&r); /* twice: no-op */
	unlink(path);
}

static void writer_truncates_to_snaplen(void **state)
{
	struct wp_pcap_writer w;
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	uint8_t *big = calloc(1, 70000);
	char path[128];

	assert_non_null(big);
	big[65534] = 0xab;
	big[65535] = 0xcd;
	tmp_path(path, sizeof(path), "snap");
	assert_int_equal(wp_pcap_writer_open(&w, path), 0);
	assert_int_equal(wp_pcap_write(&w, 1, big, 70000), 0);
	assert_int_equal(w.bytes, 24 + 16 + 65535);
	assert_int_equal(wp_pcap_writer_close(&w), 0);

	assert_int_equal(wp_pcap_reader_open(&r, path), 0);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.caplen, 65535);
	assert_int_equal(rec.len, 70000);
	assert_int_equal(rec.data[65534], 0xab);
	assert_int_equal(wp_pcap_read(&r, &rec), 0);
	wp_pcap_reader_close(&r);
	unlink(path);
	free(big);
}

static void writer_to_borrowed_stream(void **state)
{
	struct wp_pcap_writer w;
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);
	uint8_t frame[60] = { 1, 2, 3 };

	assert_non_null(f);
	assert_int_equal(wp_pcap_writer_fdopen(&w, f), 0);
	assert_int_equal(wp_pcap_write(&w, 42, frame, sizeof(frame)), 0);
	assert_int_equal(wp_pcap_writer_close(&w), 0);
	/* Still ours: the writer did not close it. */
	assert_int_equal(fflush(f), 0);
	assert_int_equal(memlen, 24 + 16 + 60);
	assert_int_equal(wp_pcap_reader_open_mem(&r, mem, memlen), 0);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.ts_ns, 42);
	assert_memory_equal(rec.data, frame, 60);
	wp_pcap_reader_close(&r);
	fclose(f);
	free(mem);
}

/* All four magics, both byte orders, both resolutions. */
static void reads_every_magic_and_byte_order(void **state)
{
	for (int v = 0; v < 4; v++) {
		bool be = v & 1, nsec = v & 2;
		struct wp_pcap_reader r;
		struct wp_pcap_record rec;
		struct craft c;

		c_header(&c, be, nsec);
		c_record(&c, 1700000000, nsec ? 123456789 : 123456, 60, 60,
			 0x11);
		c_record(&c, 1700000001, nsec ? 999999999 : 999999, 14, 1514,
			 0x22);
		assert_int_equal(wp_pcap_reader_open_mem(&r, c.buf, c.len), 0);
		assert_int_equal(r.big_endian, be);
		assert_int_equal(r.nsec, nsec);

		assert_int_equal(wp_pcap_read(&r, &rec), 1);
		assert_int_equal(rec.ts_ns,
				 1700000000ull * WP_NSEC_PER_SEC +
					 (nsec ? 123456789 : 123456000));
		assert_int_equal(rec.caplen, 60);
		assert_int_equal(rec.len, 60);
		assert_int_equal(rec.data[0], 0x11);
		assert_int_equal(rec.data[59], 0x11);

		assert_int_equal(wp_pcap_read(&r, &rec), 1);
		assert_int_equal(rec.ts_ns,
				 1700000001ull * WP_NSEC_PER_SEC +
					 (nsec ? 999999999 : 999999000));
		assert_int_equal(rec.caplen, 14); /* snapped */
		assert_int_equal(rec.len, 1514);
		assert_int_equal(wp_pcap_read(&r, &rec), 0);
		assert_string_equal(wp_pcap_reader_error(&r), "");
		wp_pcap_reader_close(&r);
	}
}

static void snaplen_zero_or_huge_means_the_maximum(void **state)
{
	static const uint32_t snaps[] = { 0, WP_PCAP_MAX_CAPLEN + 1,
					  0xffffffff };

	for (size_t i = 0; i < 3; i++) {
		struct wp_pcap_reader r;
		struct craft c;

		memset(&c, 0, sizeof(c));
		c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, snaps[i], 1);
		assert_int_equal(wp_pcap_reader_open_mem(&r, c.buf, c.len), 0);
		assert_int_equal(r.snaplen, WP_PCAP_MAX_CAPLEN);
		wp_pcap_reader_close(&r);
	}
}

/* draft-ietf-opsawg-pcap: P bit + FCS length in 16-bit words. */
static void fcs_is_stripped(void **state)
{
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	struct craft c;

	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, 65535,
		      (2u << 29) | (1u << 27) | 1);
	c_record(&c, 0, 0, 64, 64, 0x33); /* 60 + 4 bytes FCS */
	c_record(&c, 0, 1, 62, 64, 0x44); /* snapped inside the FCS */
	c_record(&c, 0, 2, 20, 64, 0x55); /* snapped well before it */
	assert_int_equal(wp_pcap_reader_open_mem(&r, c.buf, c.len), 0);
	assert_int_equal(r.fcs_bytes, 4);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.len, 60);
	assert_int_equal(rec.caplen, 60);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.len, 60);
	assert_int_equal(rec.caplen, 60);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.len, 60);
	assert_int_equal(rec.caplen, 20);
	assert_int_equal(wp_pcap_read(&r, &rec), 0);
	wp_pcap_reader_close(&r);
}

/* --- hostile files ------------------------------------------------------- */

/* Open (and read to the end) must fail with want and a message with msg. */
static void expect_bad(const struct craft *c, int want, const char *msg)
{
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	int ret, n = 0;

	ret = wp_pcap_reader_open_mem(&r, c->buf, c->len);
	if (ret == 0) {
		while ((ret = wp_pcap_read(&r, &rec)) == 1)
			n++;
		/* Sticky: the next read says the same. */
		assert_int_equal(wp_pcap_read(&r, &rec), ret);
		assert_int_equal(wp_pcap_rewind(&r), ret);
	}
	if (ret != want || !strstr(wp_pcap_reader_error(&r), msg))
		fail_msg("got %d '%s' after %d records; want %d '%s'", ret,
			 wp_pcap_reader_error(&r), n, want, msg);
	wp_pcap_reader_close(&r);
	wp_pcap_reader_close(&r);
}

static void bad_file_headers(void **state)
{
	struct craft c;

	memset(&c, 0, sizeof(c));
	expect_bad(&c, -EINVAL, "empty file");

	c_header(&c, false, false);
	c.len = 10;
	expect_bad(&c, -EINVAL, "truncated file header (10 of 24");

	c_header(&c, false, false);
	c.buf[0] = 0xd5;
	expect_bad(&c, -EINVAL, "bad magic 0xa1b2c3d5");

	memset(&c, 0, sizeof(c));
	c_header_full(&c, 0x0a0d0d0a, 2, 4, 65535, 1);
	expect_bad(&c, -EINVAL, "pcapng is not supported");

	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 3, 65535, 1);
	expect_bad(&c, -EINVAL, "unsupported pcap version 2.3");

	memset(&c, 0, sizeof(c));
	c.be = true;
	c_header_full(&c, WP_PCAP_MAGIC_NSEC, 1, 0, 65535, 1);
	expect_bad(&c, -EINVAL, "unsupported pcap version 1.0");

	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, 65535, 101);
	expect_bad(&c, -EINVAL, "link type 101 is not Ethernet");

	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, 65535, 0x00010001);
	expect_bad(&c, -EINVAL, "reserved bits");

	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, 65535, 0x10000001);
	expect_bad(&c, -EINVAL, "reserved bits");
}

static void bad_records(void **state)
{
	struct craft c;

	/* caplen above the file's snaplen */
	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, 100, 1);
	c_record(&c, 0, 0, 100, 100, 0);
	c_record(&c, 0, 0, 101, 101, 0);
	expect_bad(&c, -EINVAL,
		   "record 2 at offset 140: caplen 101 above the snaplen 100");

	/* caplen above 256 KiB, snaplen "unlimited" */
	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, 0, 1);
	c_put32(&c, 0);
	c_put32(&c, 0);
	c_put32(&c, WP_PCAP_MAX_CAPLEN + 1);
	c_put32(&c, WP_PCAP_MAX_CAPLEN + 1);
	expect_bad(&c, -EINVAL, "caplen 262145 above the snaplen 262144");

	/* the lie that would make a reader trust len: caplen > len */
	c_header(&c, true, false);
	c_record(&c, 0, 0, 60, 59, 0);
	expect_bad(&c, -EINVAL, "caplen 60 above the frame length 59");

	c_header(&c, false, false);
	c_record(&c, 0, 1000000, 60, 60, 0);
	expect_bad(&c, -EINVAL, "timestamp fraction 1000000 out of range");

	c_header(&c, false, true);
	c_record(&c, 0, 999999999, 60, 60, 0);
	c_record(&c, 0, 1000000000, 60, 60, 0);
	expect_bad(&c, -EINVAL, "record 2 at offset 100: timestamp fraction");

	/* truncated record header: 1..15 bytes after a record */
	for (size_t cut = 1; cut < 16; cut++) {
		c_header(&c, false, false);
		c_record(&c, 0, 0, 60, 60, 0);
		c_record(&c, 0, 0, 60, 60, 0);
		c.len = 24 + 76 + cut;
		expect_bad(&c, -EINVAL,
			   "record 2 at offset 100: truncated record header");
	}
	/* truncated record data: 0..59 of 60 bytes */
	for (size_t cut = 0; cut < 60; cut++) {
		c_header(&c, false, false);
		c_record(&c, 0, 0, 60, 60, 0);
		c.len = 24 + 16 + cut;
		expect_bad(&c, -EINVAL, "truncated record data");
	}

	/* an FCS longer than the frame */
	memset(&c, 0, sizeof(c));
	c_header_full(&c, WP_PCAP_MAGIC_USEC, 2, 4, 65535,
		      (2u << 29) | (1u << 27) | 1);
	c_record(&c, 0, 0, 3, 3, 0);
	expect_bad(&c, -EINVAL, "shorter than its 4-byte FCS");
}

static void system_errors_have_their_errno(void **state)
{
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	struct wp_pcap_writer w;
	char path[128];

	assert_int_equal(wp_pcap_reader_open(&r, "/nonexistent/x.pcap"),
			 -ENOENT);
	assert_non_null(strstr(wp_pcap_reader_error(&r),
			       "cannot open /nonexistent/x.pcap"));
	assert_int_equal(wp_pcap_read(&r, &rec), -ENOENT);
	wp_pcap_reader_close(&r);

	/* A directory opens but cannot be read: -EIO, with the reason. */
	assert_int_equal(wp_pcap_reader_open(&r, "/tmp"), -EIO);
	assert_non_null(strstr(wp_pcap_reader_error(&r), "read error"));
	wp_pcap_reader_close(&r);

	assert_int_equal(wp_pcap_writer_open(&w, "/nonexistent/out.pcap"),
			 -ENOENT);
	assert_non_null(strstr(wp_pcap_writer_error(&w), "cannot create"));
	assert_int_equal(wp_pcap_write(&w, 0, path, 1), -ENOENT);
	assert_int_equal(wp_pcap_writer_close(&w), -ENOENT);

	/* Disk full: noticed at the latest when the buffer goes out. */
	if (access("/dev/full", W_OK) == 0) {
		uint8_t frame[1500] = { 0 };
		int ret = 0;

		assert_int_equal(wp_pcap_writer_open(&w, "/dev/full"), 0);
		for (int i = 0; i < 100 && !ret; i++)
			ret = wp_pcap_write(&w, (uint64_t)i, frame,
					    sizeof(frame));
		if (!ret)
			ret = wp_pcap_writer_flush(&w);
		assert_int_equal(ret, -ENOSPC);
		assert_non_null(strstr(wp_pcap_writer_error(&w), "No space"));
		/* sticky */
		assert_int_equal(wp_pcap_write(&w, 0, frame, 60), -ENOSPC);
		assert_int_equal(wp_pcap_writer_close(&w), -ENOSPC);
	}

	tmp_path(path, sizeof(path), "unused");
	wp_pcap_reader_close(NULL);
	assert_int_equal(wp_pcap_writer_close(NULL), 0);
}

/*
 * Mutations of a valid file: whatever the bytes say, the reader either
 * reads records that lie inside the buffer or stops with an error. Run
 * under ASan, an out-of-bounds read fails this test.
 */
static void random_mutations_never_read_out_of_bounds(void **state)
{
	uint64_t s = 12345;
	struct craft base;

	c_header(&base, false, false);
	for (int i = 0; i < 20; i++)
		c_record(&base, (uint32_t)i, (uint32_t)i * 10, 60 + i * 3,
			 60 + i * 3, (uint8_t)i);

	for (int iter = 0; iter < 20000; iter++) {
		struct wp_pcap_reader r;
		struct wp_pcap_record rec;
		struct craft c = base;
		size_t len;
		int ret, nmut;

		s = s * 6364136223846793005ull + 1442695040888963407ull;
		nmut = 1 + (int)((s >> 33) % 4);
		for (int m = 0; m < nmut; m++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			c.buf[(s >> 33) % c.len] = (uint8_t)(s >> 17);
		}
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		len = (s >> 60) == 0 ? (s >> 33) % c.len : c.len;
		/* a copy of exactly len bytes, so ASan sees any overrun */
		uint8_t *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, c.buf, len);
		ret = wp_pcap_reader_open_mem(&r, copy, len);
		if (ret == 0) {
			while ((ret = wp_pcap_read(&r, &rec)) == 1) {
				assert_true(rec.caplen <= rec.len);
				assert_true(rec.caplen <= r.snaplen);
				if (rec.caplen) {
					volatile uint8_t last =
						rec.data[rec.caplen - 1];
					(void)last;
				}
			}
			assert_true(ret == 0 || ret == -EINVAL);
		} else {
			assert_int_equal(ret, -EINVAL);
		}
		if (ret)
			assert_true(wp_pcap_reader_error(&r)[0] != '\0');
		wp_pcap_reader_close(&r);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_then_read_round_trip),
		cmocka_unit_test(writer_truncates_to_snaplen),
		cmocka_unit_test(writer_to_borrowed_stream),
		cmocka_unit_test(reads_every_magic_and_byte_order),
		cmocka_unit_test(snaplen_zero_or_huge_means_the_maximum),
		cmocka_unit_test(fcs_is_stripped),
		cmocka_unit_test(bad_file_headers),
		cmocka_unit_test(bad_records),
		cmocka_unit_test(system_errors_have_their_errno),
		cmocka_unit_test(random_mutations_never_read_out_of_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
