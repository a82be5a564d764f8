// SPDX-License-Identifier: MIT
/*
 * The JSON reader (json.h): a recursive-descent checker over a bounded
 * span, RFC 8259 section by section. O(len); the depth bound keeps the
 * recursion to WP_JSON_DEPTH frames whatever the input.
 */
#include "json.h"

#include <errno.h>
#include <string.h>

struct jp {
	const char *s;
	size_t len, pos;
};

static void ws(struct jp *p)
{
	while (p->pos < p->len &&
	       (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
		p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool lit(struct jp *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* RFC 8259 7: at the opening quote; leaves pos past the closing one. */
static int string(struct jp *p)
{
	p->pos++;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos++];

		if (c == '"')
			return 0;
		if (c < 0x20)
			return -EINVAL;
		if (c != '\\')
			continue;
		if (p->pos == p->len)
			return -EINVAL;
		c = (unsigned char)p->s[p->pos++];
		if (c == 'u') {
			if (p->len - p->pos < 4)
				return -EINVAL;
			for (int i = 0; i < 4; i++)
				if (!is_hex(p->s[p->pos + i]))
					return -EINVAL;
			p->pos += 4;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return -EINVAL;
		}
	}
	return -EINVAL;
}

static bool digit(struct jp *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

/* RFC 8259 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int number(struct jp *p)
{
	if (p->s[p->pos] == '-')
		p->pos++;
	if (!digit(p))
		return -EINVAL;
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (digit(p))
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!digit(p))
			return -EINVAL;
		while (digit(p))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len &&
		    (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!digit(p))
			return -EINVAL;
		while (digit(p))
			p->pos++;
	}
	return 0;
}

static int value(struct jp *p, unsigned depth, enum wp_json_type *type);

/* An object or an array; at its opening bracket. */
static int compound(struct jp *p, unsigned depth, bool object)
{
	char close = object ? '}' : ']';
	enum wp_json_type t;
	int ret;

	if (depth >= WP_JSON_DEPTH)
		return -EINVAL;
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (object) {
			if (p->pos == p->len || p->s[p->pos] != '"')
				return -EINVAL;
			ret = string(p);
			if (ret)
				return ret;
			ws(p);
			if (p->pos == p->len || p->s[p->pos] != ':')
				return -EINVAL;
			p->pos++;
			ws(p);
		}
		ret = value(p, depth + 1, &t);
		if (ret)
			return ret;
		ws(p);
		if (p->pos == p->len)
			return -EINVAL;
		if (p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		if (p->s[p->pos] != ',')
			return -EINVAL;
		p->pos++;
		ws(p);
	}
}

static int value(struct jp *p, unsigned depth, enum wp_json_type *type)
{
	if (p->pos == p->len)
		return -EINVAL;
	switch (p->s[p->pos]) {
	case '{':
		*type = WP_JSON_OBJECT;
		return compound(p, depth, true);
	case '[':
		*type = WP_JSON_ARRAY;
		return compound(p, depth, false);
	case '"':
		*type = WP_JSON_STRING;
		return string(p);
	case 't':
		*type = WP_JSON_TRUE;
		return lit(p, "true") ? 0 : -EINVAL;
	case 'f':
		*type = WP_JSON_FALSE;
		return lit(p, "false") ? 0 : -EINVAL;
	case 'n':
		*type = WP_JSON_NULL;
		return lit(p, "null") ? 0 : -EINVAL;
	default:
		*type = WP_JSON_NUMBER;
		return number(p);
	}
}

int wp_json_scan(const char *s, size_t len, struct wp_json_member *m,
		 unsigned max, unsigned *n)
{
	struct jp p = { .s = s, .len = len, .pos = 0 };
	unsigned count = 0;

	ws(&p);
	if (p.pos == p.len || s[p.pos] != '{')
		return -EINVAL;
	p.pos++;
	ws(&p);
	if (p.pos < p.len && s[p.pos] == '}') {
		p.pos++;
		goto out;
	}
	for (;;) {
		struct wp_json_member cur;
		size_t k, v;
		int ret;

		if (p.pos == p.len || s[p.pos] != '"')
			return -EINVAL;
		k = p.pos;
		ret = string(&p);
		if (ret)
			return ret;
		cur.key = s + k + 1;
		cur.key_len = p.pos - k - 2;
		ws(&p);
		if (p.pos == p.len || s[p.pos] != ':')
			return -EINVAL;
		p.pos++;
		ws(&p);
		v = p.pos;
		ret = value(&p, 1, &cur.type);
		if (ret)
			return ret;
		cur.val = s + v;
		cur.val_len = p.pos - v;
		if (cur.type == WP_JSON_STRING) {
			cur.val++;
			cur.val_len -= 2;
		}
		if (count < max)
			m[count] = cur;
		count++;
		ws(&p);
		if (p.pos == p.len)
			return -EINVAL;
		if (s[p.pos] == '}') {
			p.pos++;
			break;
		}
		if (s[p.pos] != ',')
			return -EINVAL;
		p.pos++;
		ws(&p);
	}
out:
	ws(&p);
	if (p.pos != p.len)
		return -EINVAL;
	*n = count;
	return count > max ? -E2BIG : 0;
}

const struct wp_json_member *wp_json_get(const struct wp_json_member *m,
					 unsigned n, const char *key)
{
	size_t kl = strlen(key);

	for (unsigned i = 0; i < n; i++)
		if (m[i].key_len == kl && memcmp(m[i].key, key, kl) == 0)
			return &m[i];
	return NULL;
}

int wp_json_read_bool(const struct wp_json_member *m, unsigned n,
		      const char *key, bool *v)
{
	const struct wp_json_member *e = wp_json_get(m, n, key);

	if (!e)
		return -ENOENT;
	if (e->type != WP_JSON_TRUE && e->type != WP_JSON_FALSE)
		return -EINVAL;
	*v = e->type == WP_JSON_TRUE;
	return 0;
}

int wp_json_read_int(const struct wp_json_member *m, unsigned n,
		     const char *key, int64_t min, int64_t max, int64_t *v)
{
	const struct wp_json_member *e = wp_json_get(m, n, key);
	size_t i = 0;
	bool neg = false;
	uint64_t x = 0;

	if (!e)
		return -ENOENT;
	if (e->type != WP_JSON_NUMBER)
		return -EINVAL;
	if (e->val[0] == '-') {
		neg = true;
		i = 1;
	}
	/* Integers only: a fraction or an exponent is refused. */
	for (; i < e->val_len; i++) {
		char c = e->val[i];

		if (c < '0' || c > '9')
			return -EINVAL;
		if (x > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(c - '0');
	}
	if (x > (uint64_t)INT64_MAX)
		return -EINVAL;
	*v = neg ? -(int64_t)x : (int64_t)x;
	if (*v < min || *v > max)
		return -EINVAL;
	return 0;
}
