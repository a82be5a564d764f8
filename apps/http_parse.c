// SPDX-License-Identifier: MIT
/*
 * The HTTP/1.x request head (http_parse.h). One pass over the bytes,
 * line by line; every index is checked against len before it is read.
 */
#include "http_parse.h"

#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2). */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/* field-vchar, SP, HTAB, obs-text: what a field value may hold. */
static bool is_value_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
	if (n != strlen(name))
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)name[i])
			return false;
	return true;
}

/*
 * The next line from *pos: its start and length without the line end.
 * 1 found, 0 no line end yet, -400 a CR not followed by LF.
 */
static int next_line(const uint8_t *buf, size_t len, size_t *pos, size_t *start,
		     size_t *n)
{
	for (size_t i = *pos; i < len; i++) {
		if (buf[i] == '\n') {
			*start = *pos;
			*n = i - *pos;
			*pos = i + 1;
			return 1;
		}
		if (buf[i] == '\r') {
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n')
				return -400;
			*start = *pos;
			*n = i - *pos;
			*pos = i + 2;
			return 1;
		}
	}
	return 0;
}

static int parse_request_line(const uint8_t *l, size_t n,
			      struct wp_http_request *req)
{
	size_t i = 0, t;

	while (i < n && is_tchar(l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ' ')
		return -400;
	req->method_str = (const char *)l;
	req->method_len = i;
	if (i == 3 && memcmp(l, "GET", 3) == 0)
		req->method = WP_HTTP_GET;
	else if (i == 4 && memcmp(l, "HEAD", 4) == 0)
		req->method = WP_HTTP_HEAD;
	else
		req->method = WP_HTTP_OTHER;
	t = ++i;
	while (i < n && l[i] > 0x20 && l[i] < 0x7f)
		i++;
	if (i == t || i >= n || l[i] != ' ')
		return -400;
	req->target = (const char *)l + t;
	req->target_len = i - t;
	i++;
	/* HTTP-version = "HTTP" "/" DIGIT "." DIGIT, nothing after it. */
	if (n - i != 8 || memcmp(l + i, "HTTP/", 5) != 0 || l[i + 6] != '.' ||
	    l[i + 5] < '0' || l[i + 5] > '9' || l[i + 7] < '0' ||
	    l[i + 7] > '9')
		return -400;
	if (l[i + 5] != '1')
		return -505;
	req->minor = (unsigned)(l[i + 7] - '0');
	req->keep_alive = req->minor >= 1;
	return 0;
}

/* Content-Length: 1#DIGIT, every element equal (RFC 9110 8.6). */
static int parse_content_length(const uint8_t *v, size_t n,
				struct wp_http_request *req)
{
	size_t i = 0;

	for (;;) {
		uint64_t val = 0;
		size_t d = 0;

		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		while (i < n && v[i] >= '0' && v[i] <= '9') {
			/* Past the body limit the exact value does not
			 * matter; saturate rather than overflow. */
			if (val <= UINT32_MAX)
				val = val * 10 + (uint64_t)(v[i] - '0');
			i++;
			d++;
		}
		if (!d)
			return -400;
		if (req->has_content_length && val != req->content_length)
			return -400;
		req->has_content_length = true;
		req->content_length = val;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == n)
			return 0;
		if (v[i] != ',')
			return -400;
		i++;
	}
}

/* Connection: a comma list of tokens; close wins over keep-alive. */
static void parse_connection(const uint8_t *v, size_t n, bool *close,
			     bool *keep)
{
	size_t i = 0;

	while (i < n) {
		size_t s;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (name_is(v + s, i - s, "close"))
			*close = true;
		else if (name_is(v + s, i - s, "keep-alive"))
			*keep = true;
	}
}

static int parse_field(const uint8_t *l, size_t n, struct wp_http_request *req,
		       bool *close, bool *keep)
{
	size_t i = 0, vs, ve;
	int ret = 0;

	while (i < n && is_tchar(l[i]))
		i++;
	/* No name, or whitespace (or anything) before the colon. */
	if (i == 0 || i >= n || l[i] != ':')
		return -400;
	vs = i + 1;
	while (vs < n && (l[vs] == ' ' || l[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
		ve--;
	for (size_t k = vs; k < ve; k++)
		if (!is_value_char(l[k]))
			return -400;
	if (name_is(l, i, "host")) {
		if (req->has_host)
			return -400;
		req->has_host = true;
	} else if (name_is(l, i, "content-length")) {
		ret = parse_content_length(l + vs, ve - vs, req);
	} else if (name_is(l, i, "transfer-encoding")) {
		req->transfer_encoding = true;
	} else if (name_is(l, i, "connection")) {
		parse_connection(l + vs, ve - vs, close, keep);
	} else if (name_is(l, i, "range")) {
		req->range = (const char *)l + vs;
		req->range_len = ve - vs;
	} else if (name_is(l, i, "if-modified-since")) {
		req->if_modified_since = (const char *)l + vs;
		req->if_modified_since_len = ve - vs;
	}
	return ret;
}

/* The limits, once no complete head was found in len bytes. */
static int incomplete(size_t len, size_t line_start, bool in_request_line)
{
	if (in_request_line && len - line_start > WP_HTTP_LINE_MAX)
		return -414;
	if (len > WP_HTTP_HEAD_MAX)
		return -431;
	return 0;
}

int wp_http_parse_request(const uint8_t *buf, size_t len,
			  struct wp_http_request *req)
{
	bool close = false, keep = false;
	size_t pos = 0, start, n;
	int ret;

	memset(req, 0, sizeof(*req));
	/* Empty lines before the request line. */
	for (;;) {
		size_t p = pos;

		ret = next_line(buf, len, &p, &start, &n);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return incomplete(len, pos, true);
		if (p > WP_HTTP_HEAD_MAX)
			return -431;
		if (n) {
			if (n > WP_HTTP_LINE_MAX)
				return -414;
			ret = parse_request_line(buf + start, n, req);
			if (ret)
				return ret;
			pos = p;
			break;
		}
		pos = p;
	}
	for (;;) {
		ret = next_line(buf, len, &pos, &start, &n);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return incomplete(len, pos, false);
		if (pos > WP_HTTP_HEAD_MAX)
			return -431;
		if (n == 0)
			break;
		/* obs-fold: a line starting with whitespace (5.2). */
		if (buf[start] == ' ' || buf[start] == '\t')
			return -400;
		if (++req->nfields > WP_HTTP_FIELDS_MAX)
			return -431;
		ret = parse_field(buf + start, n, req, &close, &keep);
		if (ret)
			return ret;
	}
	req->head_len = pos;
	if (req->minor >= 1 && !req->has_host)
		return -400;
	if (req->transfer_encoding)
		return req->has_content_length ? -400 : -501;
	if (req->has_content_length && req->content_length > WP_HTTP_BODY_MAX)
		return -413;
	if (close)
		req->keep_alive = false;
	else if (keep)
		req->keep_alive = true;
	return 1;
}

const char *wp_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 206:
		return "Partial Content";
	case 304:
		return "Not Modified";
	case 403:
		return "Forbidden";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int wp_http_target_path(const char *target, size_t len, char *out, size_t cap,
			unsigned *flags)
{
	const uint8_t *t = (const uint8_t *)target;
	size_t i = 0, o = 0;
	bool dir = false;

	*flags = 0;
	if (cap < len + 1)
		return -400; /* the caller's mistake; nothing to answer */
	/* absolute-form: "http://authority" then the path, or nothing. */
	if (len >= 7 && strncasecmp(target, "http://", 7) == 0) {
		i = 7;
		while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
			i++;
		if (i == len || t[i] != '/') {
			out[0] = '\0';
			*flags = WP_HTTP_PATH_DIR;
			return 0;
		}
	}
	if (i >= len || t[i] != '/')
		return -400;
	while (i < len && t[i] != '?' && t[i] != '#') {
		size_t seg = o;

		/* One segment: from after the '/' to the next. */
		i++;
		while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#') {
			uint8_t c = t[i++];

			/* Visible characters only, as the request line
			 * has them (3.2); this function trusts no one. */
			if (c <= 0x20 || c >= 0x7f)
				return -400;
			if (c == '%') {
				int hi = i < len ? hex_value(t[i]) : -1;
				int lo = i + 1 < len ? hex_value(t[i + 1]) : -1;

				if (hi < 0 || lo < 0)
					return -400;
				c = (uint8_t)(hi << 4 | lo);
				i += 2;
				if (c == '\0')
					return -400;
				if (c == '/')
					return -404;
			}
			out[o++] = (char)c;
		}
		/* What the segment says once decoded. */
		if (o - seg == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			*flags = WP_HTTP_PATH_DOTDOT;
			return -400;
		}
		if (o == seg || (o - seg == 1 && out[seg] == '.')) {
			o = seg; /* "" and "." name the same directory */
			dir = true;
			continue;
		}
		dir = false;
		out[o++] = '/';
	}
	if (o)
		o--; /* the '/' after the last segment */
	out[o] = '\0';
	if (dir || o == 0)
		*flags = WP_HTTP_PATH_DIR;
	return (int)o;
}

/* Digits at v[*i..]: false if none or more than 19 (beyond any size). */
static bool parse_u64(const char *v, size_t n, size_t *i, uint64_t *val)
{
	size_t d = 0;

	*val = 0;
	while (*i < n && v[*i] >= '0' && v[*i] <= '9') {
		if (++d > 19)
			return false;
		*val = *val * 10 + (uint64_t)(v[*i] - '0');
		(*i)++;
	}
	return d > 0;
}

int wp_http_parse_range(const char *v, size_t n, uint64_t size, uint64_t *first,
			uint64_t *last)
{
	size_t i = 6;
	uint64_t a = 0, b = 0;
	bool has_a, has_b;

	if (n < 7 || strncasecmp(v, "bytes=", 6) != 0)
		return 0;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	has_a = parse_u64(v, n, &i, &a);
	if (i >= n || v[i] != '-')
		return 0;
	i++;
	has_b = parse_u64(v, n, &i, &b);
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i != n || (!has_a && !has_b))
		return 0; /* several ranges, or not a range: ignored */
	if (!has_a) {
		/* suffix-range: the last b bytes (14.1.2) */
		if (b == 0 || size == 0)
			return -416;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (has_b && b < a)
		return 0; /* invalid: ignored, as 14.1.1 allows */
	if (a >= size)
		return -416;
	*first = a;
	*last = has_b && b < size ? b : size - 1;
	return 1;
}

static const char wdays[7][4] = { "Thu", "Fri", "Sat", "Sun",
				  "Mon", "Tue", "Wed" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool two_digits(const char *p, unsigned max, unsigned *v)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return false;
	*v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
	return *v <= max;
}

int wp_http_parse_date(const char *v, size_t n, int64_t *t)
{
	unsigned day, mon = 12, hh, mm, ss, year = 0;
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30,
					    31, 31, 30, 31, 30, 31 };

	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (n != WP_HTTP_DATE_LEN || v[3] != ',' || v[4] != ' ' ||
	    v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' ||
	    v[22] != ':' || memcmp(v + 25, " GMT", 4) != 0)
		return -1;
	for (unsigned k = 0; k < 12; k++)
		if (memcmp(v + 8, months[k], 3) == 0)
			mon = k;
	if (mon == 12 || !two_digits(v + 5, 31, &day) || day == 0 ||
	    day > mdays[mon] || !two_digits(v + 17, 23, &hh) ||
	    !two_digits(v + 20, 59, &mm) || !two_digits(v + 23, 60, &ss))
		return -1;
	for (unsigned k = 12; k < 16; k++) {
		if (v[k] < '0' || v[k] > '9')
			return -1;
		year = year * 10 + (unsigned)(v[k] - '0');
	}
	/* The weekday is redundant; not checked, as most servers do. */
	*t = days_from_civil(year, mon + 1, day) * 86400 +
	     (int64_t)(hh * 3600 + mm * 60 + ss);
	return 0;
}

/* v as exactly n decimal digits (v < 10^n). */
static void put_digits(char *p, unsigned v, unsigned n)
{
	while (n--) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void wp_http_format_date(int64_t t, char *out)
{
	int64_t days, z, era;
	unsigned secs, doe, yoe, doy, mp, d, m;
	int64_t y;

	if (t < 0)
		t = 0;
	if (t > 253402300799) /* 9999-12-31 23:59:59 */
		t = 253402300799;
	days = t / 86400;
	secs = (unsigned)(t % 86400);
	/* civil_from_days (the inverse of days_from_civil) */
	z = days + 719468;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	/* "Sun, 06 Nov 1994 08:49:37 GMT", written out: every field has
	 * its fixed width, which snprintf cannot promise the compiler. */
	memcpy(out, wdays[days % 7], 3);
	memcpy(out + 3, ", 00 ", 5);
	put_digits(out + 5, d, 2);
	memcpy(out + 8, months[m - 1], 3);
	out[11] = ' ';
	put_digits(out + 12, (unsigned)y, 4);
	memcpy(out + 16, " 00:00:00 GMT", 14); /* and the NUL */
	put_digits(out + 17, secs / 3600, 2);
	put_digits(out + 20, secs / 60 % 60, 2);
	put_digits(out + 23, secs % 60, 2);
}

const char *wp_http_content_type(const char *name, size_t len)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "json", "application/json" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "svg", "image/svg+xml" },
		{ "pdf", "application/pdf" },
		{ "wasm", "application/wasm" },
	};
	size_t dot = len;

	while (dot > 0 && name[dot - 1] != '.' && name[dot - 1] != '/')
		dot--;
	if (dot > 1 && name[dot - 1] == '.' && name[dot - 2] != '/') {
		const char *ext = name + dot;
		size_t n = len - dot;

		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			if (n == strlen(types[k].ext) &&
			    strncasecmp(ext, types[k].ext, n) == 0)
				return types[k].type;
	}
	return "application/octet-stream";
}
