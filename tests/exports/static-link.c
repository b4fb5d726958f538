/* SPDX-License-Identifier: MIT */
/*
 * A program with functions of its own under names libubinder uses inside
 * (thread_get, out_cmd, utf8_to_utf16, ubt_session_open, ...), linked against
 * libubinder.a: it links, its calls reach its own functions, and the
 * library's calls reach the library's.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ubinder/ubinder.h"

static int calls;

/* The program's own, with signatures unlike the library's. */
int thread_get(void);
int out_cmd(int x);
int thread_get(void)
{
	return ++calls, 41;
}
int out_cmd(int x)
{
	return ++calls, x + 1;
}
#define OWN(name)               \
	int name(void);         \
	int name(void)          \
	{                       \
		return ++calls; \
	}
OWN(ctx_ref)
OWN(pool_spawn)
OWN(utf8_valid)
OWN(utf8_to_utf16)
OWN(ub_log)
OWN(ubt_session_open)
OWN(ubw_send_packet)

static int failures;

static void expect(bool cond, const char *what)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", what);
	failures += !cond;
}

int main(void)
{
	ubinder_parcel *p = ubinder_parcel_new();
	ubinder_context *ctx = NULL;
	int status;

	expect(thread_get() == 41 && out_cmd(1) == 2 && calls == 2, "the program's own functions");
	calls = 0;
	/* utf8_to_utf16 inside: the library's, which rejects an overlong '/'. */
	expect(p && ubinder_parcel_write_string16_utf8(p, "ok") == UBINDER_OK,
	       "the library's UTF-8 conversion accepts valid text");
	expect(p && ubinder_parcel_write_string16_utf8(p, "\xc0\xaf") != UBINDER_OK,
	       "the library's UTF-8 validation rejects an overlong");
	ubinder_parcel_free(p);
	/* ubt_session_open inside: the library's, which finds no daemon there. */
	status = ubinder_context_open("/nonexistent/ubinder-static-link", &ctx);
	expect(status != UBINDER_OK && ctx == NULL, "the library's transport answers");
	expect(calls == 0, "the library never called the program's functions");
	printf("1..5\n");
	return failures != 0;
}
