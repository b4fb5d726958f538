/* SPDX-License-Identifier: MIT */
/* UTF-8 and UTF-16 conversions for String8/String16, strict in both directions. */
#include "utf.h"

/*
 * Decodes one code point of UTF-8 at s[*i] (len bytes in all). Returns it and
 * advances *i, or returns -1 for an invalid sequence.
 */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	size_t n, k;
	long cp, min;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	if (len - *i <= n)
		return -1;
	for (k = 1; k <= n; k++) {
		unsigned char cc = s[*i + k];

		if ((cc & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (cc & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	return cp;
}

bool utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (utf8_next((const unsigned char *)s, len, &i) < 0)
			return false;
	}
	return true;
}

long utf8_to_utf16(const char *s, size_t len, uint16_t *out)
{
	size_t i = 0;
	long n = 0;

	while (i < len) {
		long cp = utf8_next((const unsigned char *)s, len, &i);

		if (cp < 0)
			return -1;
		if (cp >= 0x10000) {
			if (out) {
				out[n] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
				out[n + 1] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
			}
			n += 2;
		} else {
			if (out)
				out[n] = (uint16_t)cp;
			n++;
		}
	}
	return n;
}

long utf16_to_utf8(const uint16_t *s, size_t len, char *out)
{
	long n = 0;

	for (size_t i = 0; i < len; i++) {
		uint32_t cp = s[i];
		unsigned char b[4];
		int k;

		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 1 == len || s[i + 1] < 0xdc00 || s[i + 1] > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (s[i + 1] - 0xdc00u);
			i++;
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			return -1;
		}
		if (cp < 0x80) {
			b[0] = (unsigned char)cp;
			k = 1;
		} else if (cp < 0x800) {
			b[0] = (unsigned char)(0xc0 | (cp >> 6));
			b[1] = (unsigned char)(0x80 | (cp & 0x3f));
			k = 2;
		} else if (cp < 0x10000) {
			b[0] = (unsigned char)(0xe0 | (cp >> 12));
			b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			b[2] = (unsigned char)(0x80 | (cp & 0x3f));
			k = 3;
		} else {
			b[0] = (unsigned char)(0xf0 | (cp >> 18));
			b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
			b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			b[3] = (unsigned char)(0x80 | (cp & 0x3f));
			k = 4;
		}
		if (out) {
			for (int j = 0; j < k; j++)
				out[n + j] = (char)b[j];
		}
		n += k;
	}
	return n;
}
