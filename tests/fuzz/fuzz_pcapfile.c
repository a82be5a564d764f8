// SPDX-License-Identifier: MIT
/*
 * pcap reader: the input is a whole capture file. Every record the reader
 * accepts must be self-consistent and lie inside its buffer; a file it
 * refuses must be refused with -EINVAL, a message, and the same error on
 * every later call. What it read is written out again and read back: the
 * writer's file must give the same records.
 *
 * Needs only src/nic/backend/pcapfile.c.
 */
#include "fuzz.h"

#include "core/clock.h"
#include "nic/backend/pcapfile.h"

/* Reads every byte of a record, so ASan sees an overrun of the buffer. */
static uint32_t touch(const struct wp_pcap_record *rec)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < rec->caplen; i++)
		sum += rec->data[i];
	return sum;
}

static void round_trip(const uint8_t *data, size_t size, uint64_t records)
{
	struct wp_pcap_reader r, back;
	struct wp_pcap_record rec, rec2;
	struct wp_pcap_writer w;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);
	uint64_t n = 0;

	fuzz_check(f != NULL, "open_memstream");
	fuzz_check(wp_pcap_writer_fdopen(&w, f) == 0, "writer header");
	fuzz_check(wp_pcap_reader_open_mem(&r, data, size) == 0, "reopen");
	while (wp_pcap_read(&r, &rec) == 1)
		fuzz_check(wp_pcap_write(&w, rec.ts_ns, rec.data, rec.caplen) ==
				   0,
			   "write");
	fuzz_check(wp_pcap_writer_close(&w) == 0, "writer close");
	fuzz_check(fflush(f) == 0, "flush");

	fuzz_check(wp_pcap_rewind(&r) == 0, "rewind");
	fuzz_check(wp_pcap_reader_open_mem(&back, mem, memlen) == 0,
		   "read what we wrote");
	fuzz_check(back.nsec && !back.big_endian, "written as ns LE");
	while (wp_pcap_read(&r, &rec) == 1) {
		uint32_t want = rec.caplen < WP_PCAP_WRITE_SNAPLEN
					? rec.caplen
					: WP_PCAP_WRITE_SNAPLEN;

		fuzz_check(wp_pcap_read(&back, &rec2) == 1, "record back");
		fuzz_check(rec2.ts_ns == rec.ts_ns, "timestamp back");
		fuzz_check(rec2.len == rec.caplen && rec2.caplen == want,
			   "lengths back");
		fuzz_check(memcmp(rec2.data, rec.data, want) == 0, "bytes back");
		n++;
	}
	fuzz_check(n == records, "same count on rewind");
	fuzz_check(wp_pcap_read(&back, &rec2) == 0, "nothing more written");
	wp_pcap_reader_close(&back);
	wp_pcap_reader_close(&r);
	fclose(f);
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	uint64_t records = 0, offset, sum = 0;
	int ret;

	ret = wp_pcap_reader_open_mem(&r, data, size);
	if (ret) {
		fuzz_check(ret == -EINVAL, "open fails with EINVAL");
		fuzz_check(wp_pcap_reader_error(&r)[0] != '\0', "open message");
		fuzz_check(wp_pcap_read(&r, &rec) == ret, "sticky after open");
		wp_pcap_reader_close(&r);
		return 0;
	}
	fuzz_check(r.snaplen >= 1 && r.snaplen <= WP_PCAP_MAX_CAPLEN,
		   "snaplen bounded");
	offset = r.offset;
	while ((ret = wp_pcap_read(&r, &rec)) == 1) {
		fuzz_check(rec.caplen <= rec.len, "caplen <= len");
		fuzz_check(rec.caplen <= r.snaplen, "caplen <= snaplen");
		fuzz_check(r.offset > offset && r.offset <= size,
			   "offset moves forward within the file");
		fuzz_check(rec.ts_ns < (1ull << 32) * WP_NSEC_PER_SEC,
			   "timestamp in range");
		offset = r.offset;
		sum += touch(&rec);
		records++;
	}
	if (ret) {
		fuzz_check(ret == -EINVAL, "bad record fails with EINVAL");
		fuzz_check(wp_pcap_reader_error(&r)[0] != '\0', "read message");
		fuzz_check(wp_pcap_read(&r, &rec) == ret, "sticky");
		fuzz_check(wp_pcap_rewind(&r) == ret, "sticky rewind");
	} else {
		fuzz_check(r.offset == size, "clean end at the end");
		fuzz_check(wp_pcap_read(&r, &rec) == 0, "end stays");
	}
	wp_pcap_reader_close(&r);
	if (!ret)
		round_trip(data, size, records);
	(void)sum;
	return 0;
}
