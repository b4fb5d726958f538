/* SPDX-License-Identifier: MIT */
/*
 * An echoing context manager and a caller, for integration tests that need
 * a served call: the manager replies to each call with the call's bytes
 * (up to 4 KiB, forwarded from its own region), the caller checks them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/android/binder.h>

#include "harness.h"

#define ECHO_STOP 0xdead /* the manager replies, then exits */
#define ECHO_HOLD 0x401d /* the manager posts 2 on ready, and waits for go before replying */

struct echo_manager {
	const char *sock;
	struct sync ready; /* manager -> test */
	struct sync go;	   /* test -> manager */
	pid_t pid;
};

/* Starts the manager on @sock (a forked process) and waits until it serves. */
void echo_start(struct echo_manager *m, const char *sock);
/* Stops it with ECHO_STOP and reaps it. */
void echo_stop(struct echo_manager *m, const char *sock);

/*
 * One call of @size patterned bytes with @code to handle 0, from a new
 * client; returns the BR_ code that ended it (0 when the client could not
 * open, or the reply's bytes were wrong). @ee, if not NULL, gets the
 * client's extended error afterwards.
 */
uint32_t echo_call(const char *sock, size_t size, uint32_t code, struct binder_extended_error *ee);

/*
 * One call of the @size bytes at @data to handle 0 on @c's thread, its reply
 * freed; the first @check bytes of the reply must equal @data's. Returns the
 * BR_ code that ended it.
 */
uint32_t echo_call_on(struct rc *c, const void *data, size_t size, size_t check);

/*
 * After a scenario: @d serves a call (a manager is started for it), holds no
 * process, buffer, transaction, node, ref or thread, and has @fds_before
 * descriptors open again.
 */
void echo_assert_clean(const struct ubd *d, int fds_before);
